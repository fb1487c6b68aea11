#!/usr/bin/env bash
# Round 9: Optuna GPSampler at 64 workers (round 8 left it out: its asks take ~1 s at 300 trials),
# round 6's targets and seeds 0-4, into results/round9_peers64/. MODE free: the coordinator's time
# is not charged (--overhead 0), the best Optuna GP could do whatever the machine's load;
# MODE charged: its real ask time is charged, as for every other method.
# Usage: bash queue_round9_peers64.sh free|charged "PROBLEMS"
set -u
cd "$(dirname "$0")"
mode=$1 dir=results/round9_peers64_$1 opts=()
[ "$mode" = free ] && opts=(--overhead 0)
mkdir -p $dir
for p in $2; do
  out=$dir/time_to_target_$p.jsonl
  [ -s "$out" ] || grep '"phase": "sequential"' "results/round6/time_to_target_$p.jsonl" > "$out"
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds ${SEEDS:-5} --workers 64 \
      --methods optuna-gp --real-limit 900 --reuse-sequential --out "$out" "${opts[@]}"
done
echo QUEUE_DONE
