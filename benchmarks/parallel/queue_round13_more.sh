#!/usr/bin/env bash
# Round 13: the fast peers (Optuna TPE, random search) on the second seed draw (21-41) of mixed
# and svm_digits, appended to results/round12_s21/, so that their cells also compare 42 seeds
# with parabo's 42; then scikit-optimize at 4 workers on Levy-10 (seeds 0-2), where it reached
# the target at 16 workers. Usage: bash queue_round13_more.sh
set -u
cd "$(dirname "$0")"
for p in mixed svm_digits; do
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds 21 --seed-start 21 --workers 4,16 \
      --methods optuna-tpe,random --real-limit 300 --reuse-sequential --out "results/round12_s21/time_to_target_$p.jsonl"
done
../.venv/bin/python time_to_target.py --problems levy10 --seeds 3 --workers 4 --methods skopt-cl \
    --real-limit 300 --reuse-sequential --out results/round13_skopt/time_to_target_levy10.jsonl
echo QUEUE_DONE
