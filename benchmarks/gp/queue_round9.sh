#!/usr/bin/env bash
# Round 9: BoTorch (SingleTaskGP + qLogNEI) on the four float-only problems it had not run,
# 10 seeds each, sequential, 100 evaluations; run.py skips runs already on disk. Seeds 0-4 on
# all four problems first, so a cut-short queue still covers every problem.
# Usage: nice -n 19 bash benchmarks/gp/queue_round9.sh "ackley5 rosenbrock4" &
#        nice -n 19 bash benchmarks/gp/queue_round9.sh "levy10 styblinski8"; wait
set -u
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=benchmarks/.venv/bin/python
for seeds in 0-4 5-9; do
  for p in $1; do $PY benchmarks/gp/run.py --method botorch --problem "$p" --seeds $seeds; done
done
echo QUEUE_DONE
