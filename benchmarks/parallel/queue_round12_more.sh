#!/usr/bin/env bash
# Round 12: the peers on the two scikit-learn tasks that ran them on seeds 0-10 only (the peers
# stage with SEEDS=11), on seeds 11-20, so that every method has parabo's 21 seeds there.
# Usage: bash queue_round12_more.sh "PROBLEMS"   (ran as: mlp_wine, and gbm_cancer beside it)
set -u
cd "$(dirname "$0")"
for p in $1; do
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds 10 --seed-start 11 --workers 4,16 \
      --methods parabo-batch,optuna-tpe,random,optuna-gp --real-limit 300 --reuse-sequential \
      --out "results/round12/time_to_target_$p.jsonl"
done
echo QUEUE_DONE
