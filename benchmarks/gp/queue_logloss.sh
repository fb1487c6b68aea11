#!/usr/bin/env bash
# The two sklearn tasks where parabo and Optuna TPE tie on the CV error (gbm_cancer, mlp_wine),
# scored by the CV log-loss instead (problems gbm_logloss_cancer, mlp_logloss_wine), 10 seeds,
# 100 evaluations. Usage: bash benchmarks/gp/queue_logloss.sh parabo|tpe   (side by side)
set -u
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
for p in gbm_logloss_cancer mlp_logloss_wine; do
  benchmarks/.venv/bin/python benchmarks/gp/run.py --method "$1" --problem $p --seeds 0-9
done
echo QUEUE_DONE
