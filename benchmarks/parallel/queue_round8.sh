#!/usr/bin/env bash
# Round 8: the 64-worker column of time to target on the six problems (rounds 5-7 ran 4 and 16
# only; round 3 had 64 on Branin and Hartmann-6 with an older sampler). Round 6's targets (its
# sequential runs, seeds 0-20) and seeds 0-20, as round 6. Results in results/round8_64/.
# Usage: bash queue_round8.sh "PROBLEMS" [METHODS]
#   ran as: bash queue_round8.sh "branin hartmann6 ackley5 rosenbrock4 levy10 styblinski8"
set -u
cd "$(dirname "$0")"
dir=results/round8_64
methods=${2:-parabo-async,parabo-batch,optuna-tpe,random}
mkdir -p $dir
for p in $1; do
  out=$dir/time_to_target_$p.jsonl
  [ -s "$out" ] || grep '"phase": "sequential"' "results/round6/time_to_target_$p.jsonl" > "$out"
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds ${SEEDS:-21} --workers 64 \
      --methods "$methods" --real-limit 300 --reuse-sequential --out "$out"
done
echo QUEUE_DONE
