#!/usr/bin/env bash
# Peer runs (sequential). Usage: bash benchmarks/gp/queue_peers.sh A|B
set -u
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=benchmarks/.venv/bin/python
SYN="branin hartmann6 ackley5 rosenbrock4 levy10 styblinski8 mixed"
REAL="svm_digits gbm_cancer mlp_wine"
if [ "$1" = A ]; then
  for p in $SYN; do $PY benchmarks/gp/run.py --method tpe --problem $p --seeds 0-9; done
  for p in $SYN; do $PY benchmarks/gp/run.py --method random --problem $p --seeds 0-9; done
  for p in $SYN; do $PY benchmarks/gp/run.py --method optuna_gp --problem $p --seeds 0-4; done
  for p in $REAL; do $PY benchmarks/gp/run.py --method tpe --problem $p --seeds 0-4; done
  for p in $REAL; do $PY benchmarks/gp/run.py --method optuna_gp --problem $p --seeds 0-4; done
else
  for p in $REAL; do $PY benchmarks/gp/run.py --method random --problem $p --seeds 0-4; done
  for p in branin hartmann6 ackley5 mixed; do $PY benchmarks/gp/run.py --method skopt --problem $p --seeds 0-2; done
fi
echo QUEUE_DONE
