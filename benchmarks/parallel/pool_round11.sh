#!/usr/bin/env bash
# Pool a round-11 variant's three seed draws at 16 workers (0-20, 21-41, 42-62; queue_round11.sh)
# into results/round11_TAG_pooled63/ (derived, gitignored), then compare it with the default's
# 63 seeds (pool_round10.sh makes results/round10_pooled63):
#   bash pool_round11.sh TAG [TAG ...]
#   ../.venv/bin/python compare_rounds.py 16 results/round10_pooled63 results/round11_TAG_pooled63
#   ../.venv/bin/python bootstrap.py 16 results/round10_pooled63 results/round11_TAG_pooled63
set -eu
cd "$(dirname "$0")"
for tag in "$@"; do
  out=results/round11_${tag}_pooled63
  mkdir -p "$out"
  for p in ackley5 branin hartmann6 levy10 rosenbrock4 styblinski8; do
    { cat "results/round11_$tag/time_to_target_$p.jsonl"
      grep -hv '"phase": "sequential"' "results/round11_${tag}_s21/time_to_target_$p.jsonl" \
          "results/round11_${tag}_s42/time_to_target_$p.jsonl"
    } > "$out/time_to_target_$p.jsonl"
  done
done
