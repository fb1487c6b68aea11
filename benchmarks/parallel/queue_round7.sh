#!/usr/bin/env bash
# Round 7 of time to target: fresh seeds. Round 6's targets (the sequential runs, seeds 0-20) are
# kept; the parallel runs use seeds 21-41, so a cell's round-6 median can be checked on runs that
# did not decide anything. Results in results/round7/ (pooled with round 6 by pool_round7.sh).
# Usage: bash queue_round7.sh MODE "PROBLEMS", MODE one of
#   async      parabo asynchronous, 4 and 16 workers: ran as "branin hartmann6 ackley5" & "rosenbrock4 levy10 styblinski8"
#   optuna-gp  Optuna GPSampler on the cells where it was within a fifth of parabo in round 6: ran as
#              "hartmann6 branin" (4 and 16 workers), then WORKERS=4 on "levy10"
#   fantasy    parabo asynchronous with pending="fantasy", 16 workers, round 6's seeds (0-20), into
#              results/round7_fantasy/: ran as "branin hartmann6 ackley5 rosenbrock4 levy10 styblinski8"
set -u
cd "$(dirname "$0")"
mode=$1
limit=300 dir=results/round7 start=21 opts=()
[ "$mode" = async ] && { mode=parabo-async; limit=90; }
if [ "$mode" = fantasy ]; then
  mode=parabo-async limit=90 dir=results/round7_fantasy start=0 opts=(--gp-option 'pending="fantasy"')
  WORKERS=${WORKERS:-16}
fi
mkdir -p $dir
for p in $2; do
  out=$dir/time_to_target_$p.jsonl
  [ -s "$out" ] || grep '"phase": "sequential"' "results/round6/time_to_target_$p.jsonl" > "$out"
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds 21 --seed-start $start --workers "${WORKERS:-4,16}" \
      --methods "$mode" --real-limit $limit --reuse-sequential --out "$out" "${opts[@]}"
done
echo QUEUE_DONE
