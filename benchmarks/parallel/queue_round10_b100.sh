#!/usr/bin/env bash
# Round 10: Branin and Hartmann-6 at the 100-evaluation budget of the GP benchmarks (issue 3's
# headline budget) instead of round 3's 25 and 50: the sequential runs (seeds 0-20) set the
# target, then 4 and 16 workers, default sampler. Results in results/round10_b100/, or with
# SEED_START=21 the parallel runs on seeds 21-41 (same targets) in results/round10_b100_s21/.
# Usage: bash queue_round10_b100.sh "branin hartmann6" [WORKERS]
# Then results/round10_uniform100/ (seeds 0-20) and results/round10_uniform100_pooled/ (0-41)
# hold all six problems at 100 evaluations: rounds 6 and 7's four 100-evaluation problems and these two.
set -u
cd "$(dirname "$0")"
problems=$1 workers=${2:-16,4} start=${SEED_START:-0}
dir=results/round10_b100
[ "$start" = 0 ] || dir=results/round10_b100_s$start
mkdir -p $dir
for p in $problems; do
  out=$dir/time_to_target_$p.jsonl
  [ "$start" = 0 ] || [ -s "$out" ] || grep '"phase": "sequential"' "results/round10_b100/time_to_target_$p.jsonl" > "$out"
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds 21 --seed-start "$start" --workers "$workers" \
      --methods parabo-async --real-limit 90 --reuse-sequential --budget "$p=100" --out "$out"
done
mkdir -p results/round10_uniform100 results/round10_uniform100_pooled
for p in ackley5 levy10 rosenbrock4 styblinski8; do
  cp results/round6/time_to_target_$p.jsonl results/round10_uniform100/
  cp results/round7_pooled/time_to_target_$p.jsonl results/round10_uniform100_pooled/
done
for p in branin hartmann6; do
  [ -s results/round10_b100/time_to_target_$p.jsonl ] || continue
  cp results/round10_b100/time_to_target_$p.jsonl results/round10_uniform100/
  { cat results/round10_b100/time_to_target_$p.jsonl
    [ -s results/round10_b100_s21/time_to_target_$p.jsonl ] &&
      grep -v '"phase": "sequential"' results/round10_b100_s21/time_to_target_$p.jsonl; } \
    > results/round10_uniform100_pooled/time_to_target_$p.jsonl
done
echo QUEUE_DONE
