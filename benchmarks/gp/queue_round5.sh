#!/usr/bin/env bash
# Round 5: the GP's default incumbent is the posterior mean at the trials (incumbent="mean").
# The round-4 default runs (incumbent="observed") are kept as tags parabo_r4 (sequential) and
# parabo_kbtr_r4 (asynchronous). Usage: bash benchmarks/gp/queue_round5.sh seq|async|real
# (seq and real ran as --option incumbent='"mean"' --tag parabo_incmean before the default
# changed and were renamed to tag parabo: the same sampler.)
set -u
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=benchmarks/.venv/bin/python
SYN="branin hartmann6 ackley5 rosenbrock4 levy10 styblinski8 mixed"
case "$1" in
  seq) for p in $SYN; do $PY benchmarks/gp/run.py --method parabo --problem $p --seeds 0-29; done ;;
  async) for q in 4 16; do for p in $SYN; do
      $PY benchmarks/gp/run.py --method parabo --problem $p --seeds 0-9 --pending $q --tag parabo_kbtr
    done; done ;;
  real) for p in gbm_cancer mlp_wine svm_digits; do $PY benchmarks/gp/run.py --method parabo --problem $p --seeds 0-9; done ;;
esac
echo QUEUE_DONE
