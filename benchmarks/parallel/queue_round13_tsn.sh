#!/usr/bin/env bash
# Round 13: the noise-triggered switch to Thompson sampling (patches/round13_rugged_ts.patch,
# --gp-option attr._x_tsn=0.01: with trials in flight, TS once the learned noise is >= 1% of the
# signal variance) on the six float problems, against round 6's targets and seeds 0-20.
# Results in results/round13_tsn2_W/. Usage: WORKERS=4 bash queue_round13_tsn.sh "PROBLEMS"
set -u
cd "$(dirname "$0")"
w=${WORKERS:-4}
dir=results/round13_tsn2_$w
mkdir -p $dir
for p in $1; do
  out=$dir/time_to_target_$p.jsonl
  [ -s "$out" ] || grep '"phase": "sequential"' "results/round6/time_to_target_$p.jsonl" > "$out"
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds 21 --workers "$w" --methods parabo-async \
      --real-limit 90 --reuse-sequential --gp-option attr._x_tsn=0.01 --out "$out"
done
echo QUEUE_DONE
