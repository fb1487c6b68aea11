#!/usr/bin/env bash
# Round 13: the peers on the second draw of seeds (21-41) of round 12's four problems, so that
# every peer cell compares 42 seeds with parabo's 42 (round 12 ran the peers on seeds 0-20).
# Appends to results/round12_s21/ (its sequential rows give the target).
# Usage: bash queue_round13_peers.sh PROBLEM METHODS   (ran as: gbm_cancer parabo-batch,optuna-tpe,random
#        beside mlp_wine parabo-batch,optuna-tpe,random,optuna-gp)
set -u
cd "$(dirname "$0")"
../.venv/bin/python time_to_target.py --problems "$1" --seeds 21 --seed-start 21 --workers 4,16 \
    --methods "$2" --real-limit 300 --reuse-sequential --out "results/round12_s21/time_to_target_$1.jsonl"
echo QUEUE_DONE
