#!/usr/bin/env bash
# Round 12: the four GP benchmark problems the parallel grid had left out — the mixed
# integer/categorical problem and the three scikit-learn tasks (CV error, `benchmarks/gp/problems.py`),
# 100 evaluations each. New sequential runs (seeds 0-20) set the targets. Results in results/round12/.
# Usage: bash queue_round12.sh STAGE "PROBLEMS", STAGE one of
#   async   the sequential runs, then parabo asynchronous at 4 and 16 workers (21 seeds)
#   peers   parabo batches, Optuna TPE (constant liar), random at 4 and 16; Optuna GPSampler at 4 and 16
#           (SEEDS, default 21)
#   w64     parabo asynchronous, batches, Optuna TPE, random at 64 workers (SEEDS, default 21)
#   skopt   scikit-optimize constant-liar batches at 4 workers (SEEDS, default 5)
# ran as (docs/parallel.md, "Round 12"):
#   bash queue_round12.sh async "mixed svm_digits mlp_wine" & bash queue_round12.sh async gbm_cancer
#   bash queue_round12.sh peers "mixed svm_digits" & SEEDS=11 bash queue_round12.sh peers "mlp_wine gbm_cancer"
#   (their seeds 11-20: queue_round12_more.sh), bash queue_round12.sh w64 "mixed svm_digits",
#   SEEDS=11 bash queue_round12.sh w64 "mlp_wine gbm_cancer", SEEDS=5 bash queue_round12.sh skopt mixed
set -u
cd "$(dirname "$0")"
stage=$1 dir=results/round12
mkdir -p $dir
for p in $2; do
  out=$dir/time_to_target_$p.jsonl
  case $stage in
    async) ../.venv/bin/python time_to_target.py --problems "$p" --seeds 21 --workers 4,16 --methods parabo-async \
               --real-limit 90 --out "$out" ;;
    peers) ../.venv/bin/python time_to_target.py --problems "$p" --seeds "${SEEDS:-21}" --workers 4,16 \
               --methods parabo-batch,optuna-tpe,random,optuna-gp --real-limit 300 --reuse-sequential --out "$out" ;;
    w64)   ../.venv/bin/python time_to_target.py --problems "$p" --seeds "${SEEDS:-21}" --workers 64 \
               --methods parabo-async,parabo-batch,optuna-tpe,random --real-limit 300 --reuse-sequential --out "$out" ;;
    skopt) ../.venv/bin/python time_to_target.py --problems "$p" --seeds "${SEEDS:-5}" --workers 4 \
               --methods skopt-cl --real-limit 300 --reuse-sequential --out "$out" ;;
    *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
done
echo QUEUE_DONE
