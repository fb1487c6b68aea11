#!/usr/bin/env bash
# Pool the default sampler's three seed draws at 16 workers (0-20, 21-41, 42-62) into
#   results/round10_pooled63/            round 6's targets (rounds 6, 7 and round10_s42)
#   results/round10_uniform100_pooled63/ the same, with Branin and Hartmann-6 at 100 evaluations
#                                        (round10_b100, _b100_s21, _b100_s42)
# Derived files (gitignored). Then: ../.venv/bin/python bootstrap.py 16 results/round10_pooled63
set -u
cd "$(dirname "$0")"
bash pool_round7.sh
mkdir -p results/round10_pooled63 results/round10_uniform100_pooled63
for f in results/round7_pooled/time_to_target_*.jsonl; do
  p=$(basename "$f")
  { cat "$f"; grep -v '"phase": "sequential"' "results/round10_s42/$p"; } > "results/round10_pooled63/$p"
  case $p in
    *branin*|*hartmann6*)
      { cat "results/round10_b100/$p"
        grep -hv '"phase": "sequential"' "results/round10_b100_s21/$p" "results/round10_b100_s42/$p"
      } > "results/round10_uniform100_pooled63/$p" ;;
    *) cp "results/round10_pooled63/$p" "results/round10_uniform100_pooled63/" ;;
  esac
done
