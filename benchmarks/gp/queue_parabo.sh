#!/usr/bin/env bash
# parabo runs: sequential default on every problem, then the pending strategies asynchronously.
# Usage: bash benchmarks/gp/queue_parabo.sh seq|async
set -u
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=benchmarks/.venv/bin/python
SYN="branin hartmann6 ackley5 rosenbrock4 levy10 styblinski8 mixed"
REAL="svm_digits gbm_cancer mlp_wine"
if [ "$1" = seq ]; then
  for p in $SYN; do $PY benchmarks/gp/run.py --method parabo --problem $p --seeds 0-9; done
  for p in $REAL; do $PY benchmarks/gp/run.py --method parabo --problem $p --seeds 0-4; done
else
  for q in 4 16; do
    for p in branin hartmann6 ackley5 mixed; do
      for s in kb cl lp none; do
        $PY benchmarks/gp/run.py --method parabo --problem $p --seeds 0-2 --pending $q \
          --option pending=$s --tag parabo_$s
      done
    done
  done
fi
echo QUEUE_DONE
