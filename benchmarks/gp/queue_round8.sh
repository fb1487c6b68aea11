#!/usr/bin/env bash
# Round 8: the peers' missing configurations, to at least 10 seeds each (issue 3 asks for 10 per
# configuration): scikit-optimize on every problem, Optuna GPSampler and random search on the
# sklearn tasks (they had 5) and on the log-loss tasks (they had none), BoTorch on the four
# float-only problems it had not run. Sequential, 100 evaluations; run.py skips runs on disk.
# C: parabo and Optuna TPE on the sklearn error-rate tasks to 30 seeds, as on the synthetic
# problems (they had 10; the two samplers' 10-seed medians tie on gbm_cancer and mlp_wine).
# Usage: bash benchmarks/gp/queue_round8.sh A & bash benchmarks/gp/queue_round8.sh B; wait
#        bash benchmarks/gp/queue_round8.sh C
set -u
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=benchmarks/.venv/bin/python
SYN="branin hartmann6 ackley5 rosenbrock4 levy10 styblinski8 mixed"
REAL="svm_digits gbm_cancer mlp_wine gbm_logloss_cancer mlp_logloss_wine"
run() { $PY benchmarks/gp/run.py --method "$1" --problem "$2" --seeds 0-9; }
if [ "$1" = C ]; then
  for p in mlp_wine gbm_cancer svm_digits; do
    for m in parabo tpe; do $PY benchmarks/gp/run.py --method $m --problem $p --seeds 10-29; done
  done
elif [ "$1" = A ]; then
  for p in $SYN; do run skopt $p; done
  for p in ackley5 rosenbrock4; do run botorch $p; done
else
  for p in $REAL; do run optuna_gp $p; done
  for p in $REAL; do run random $p; done
  for p in $REAL; do run skopt $p; done
  for p in levy10 styblinski8; do run botorch $p; done
fi
echo QUEUE_DONE
