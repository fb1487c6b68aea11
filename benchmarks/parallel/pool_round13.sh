#!/usr/bin/env bash
# Pool round 12's two seed draws of the four problems it added (seeds 0-20 in results/round12/,
# 21-41 in results/round12_s21/, peers there since queue_round13_peers.sh) into
# results/round13_pooled42/ (derived, gitignored), and add scikit-optimize's round-13 runs.
# Then: ../.venv/bin/python summarize.py --dir results/round13_pooled42
set -u
cd "$(dirname "$0")"
mkdir -p results/round13_pooled42
for p in mixed svm_digits gbm_cancer mlp_wine; do
  f=time_to_target_$p.jsonl
  { cat "results/round12/$f"
    grep -hv '"phase": "sequential"' "results/round12_s21/$f"
    [ -s "results/round13_skopt/$f" ] && grep -hv '"phase": "sequential"' "results/round13_skopt/$f"
  } > "results/round13_pooled42/$f"
done
