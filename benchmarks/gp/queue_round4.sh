#!/usr/bin/env bash
# Round 4: the GP's default with the trust region (sampler option trust_region=0.2), sequential
# and asynchronous. The round-3 sequential runs (no trust region) are kept as tag parabo_r3,
# the round-3 asynchronous kb runs as parabo_kb. Usage: bash benchmarks/gp/queue_round4.sh seq|async|real|real10
# (real10: seeds 5-9 of parabo and TPE on the sklearn tasks, 10 in all)
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
  real) for p in svm_digits gbm_cancer mlp_wine; do $PY benchmarks/gp/run.py --method parabo --problem $p --seeds 0-4; done ;;
  real10) for m in parabo tpe; do for p in svm_digits gbm_cancer mlp_wine; do
      $PY benchmarks/gp/run.py --method $m --problem $p --seeds 5-9
    done; done ;;
esac
echo QUEUE_DONE
