#!/usr/bin/env bash
# More seeds (sequential runs, one core each). Usage: bash benchmarks/gp/queue_more_seeds.sh A|B
#   A: parabo default, TPE and random on seeds 10-29 (30 in all); parabo with 4 and 16 pending,
#      seeds 0-9; then Optuna GP seeds 5-9 (10 in all)
#   B: BoTorch (SingleTaskGP + qLogNEI) on Branin and Hartmann-6, seeds 0-9 (~2-4 min per run)
set -u
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=benchmarks/.venv/bin/python
SYN="branin hartmann6 ackley5 rosenbrock4 levy10 styblinski8 mixed"
if [ "$1" = A ]; then
  for p in $SYN; do $PY benchmarks/gp/run.py --method parabo --problem $p --seeds 10-29; done
  for p in $SYN; do $PY benchmarks/gp/run.py --method tpe --problem $p --seeds 10-29; done
  for p in $SYN; do $PY benchmarks/gp/run.py --method random --problem $p --seeds 10-29; done
  for q in 4 16; do for p in $SYN; do
    $PY benchmarks/gp/run.py --method parabo --problem $p --seeds 0-9 --pending $q --tag parabo_kb
  done; done
  for p in $SYN; do $PY benchmarks/gp/run.py --method optuna_gp --problem $p --seeds 5-9; done
else
  for p in hartmann6 branin; do $PY benchmarks/gp/run.py --method botorch --problem $p --seeds 0-9; done
fi
echo QUEUE_DONE
