#!/usr/bin/env bash
# Round 9: 16-worker variants of the GP sampler against round 6's targets and seeds (0-20, or
# SEED_START=21 for the fresh draw of round 7). Results in results/round9_TAG/.
# Usage: bash queue_round9.sh TAG "PROBLEMS" [--gp-option key=JSON ...]
# The variants are a throw-away patch: git -C ../.. apply benchmarks/parallel/patches/round9_thompson.patch (revert it
# after). Ran as, each on the six problems (two queues of three at once for ts12):
#   bash queue_round9.sh ts12    "..." --gp-option attr._x_ts=12      # Thompson sampling, >= 12 in flight
#   bash queue_round9.sh ts12p05 "..." --gp-option attr._x_ts=12 --gp-option attr._x_tsp=0.5
#   bash queue_round9.sh ts12m50 "..." --gp-option attr._x_ts=12 --gp-option attr._x_tsmin=50
#   bash queue_round9.sh pat0    "..." --gp-option attr._x_pat=0      # patience max(4, d)
#   SEED_START=21 bash queue_round9.sh ts12_s21 ackley5 --gp-option attr._x_ts=12   # and styblinski8
#   bash queue_round9.sh hedge "ackley5 branin" --gp-option attr._x_ts=12 --gp-option attr._x_hedge=1
#     (and "hartmann6 rosenbrock4"), with patches/round9_hedge.patch instead (it contains the TS patch)
# ts12 ran on ackley5, rosenbrock4, hartmann6, branin, levy10 before the patch drew
# rng.random() for _x_tsp (the same variant, another random stream); some queues were stopped
# early (docs/parallel.md, "Round 9").
set -u
cd "$(dirname "$0")"
tag=$1 problems=$2; shift 2
dir=results/round${ROUND:-9}_$tag   # ROUND=11: queue_round11.sh
mkdir -p $dir
for p in $problems; do
  out=$dir/time_to_target_$p.jsonl
  [ -s "$out" ] || grep '"phase": "sequential"' "results/round6/time_to_target_$p.jsonl" > "$out"
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds 21 --seed-start "${SEED_START:-0}" \
      --workers "${WORKERS:-16}" --methods parabo-async --real-limit 90 --reuse-sequential --out "$out" "$@"
done
echo QUEUE_DONE
