#!/usr/bin/env bash
# Round 6 of time to target: the GP's initial design counts the trials in flight. The round-5
# sequential runs (so the targets) and peers were copied into results/round6/ (a sequential run
# has nothing in flight: unchanged); 21 seeds, 4 and 16 workers, against those targets.
# Usage: bash queue_round6.sh MODE "PROBLEMS", MODE one of
#   async      parabo asynchronous: ran as "branin hartmann6 ackley5" & "rosenbrock4 levy10 styblinski8"
#   optuna-gp  Optuna GPSampler: ran on styblinski8 (the other five are round 5's)
#   skopt-cl   scikit-optimize, constant-liar batches: ran on branin (25-50 s of real time per run)
set -u
cd "$(dirname "$0")"
mode=$1
limit=300
[ "$mode" = async ] && { mode=parabo-async; limit=90; }
for p in $2; do
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds 21 --workers 4,16 --methods "$mode" \
      --real-limit $limit --reuse-sequential --out "results/round6/time_to_target_$p.jsonl"
done
echo QUEUE_DONE
