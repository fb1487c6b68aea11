#!/usr/bin/env bash
# Round 13: Thompson sampling (acquisition="thompson") at 4 workers on the six float problems,
# against round 6's targets and its default's runs on seeds 0-20 (results/round6/), to see
# whether the gain on the scikit-learn tasks at 4 workers carries over to smooth problems.
# Results in results/round13_ts4/. Usage: bash queue_round13_ts4.sh "PROBLEMS"
# (ran as "branin hartmann6 ackley5" beside "rosenbrock4 styblinski8 levy10")
set -u
cd "$(dirname "$0")"
dir=results/round13_ts4
mkdir -p $dir
for p in $1; do
  out=$dir/time_to_target_$p.jsonl
  [ -s "$out" ] || grep '"phase": "sequential"' "results/round6/time_to_target_$p.jsonl" > "$out"
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds 21 --workers 4 --methods parabo-async \
      --real-limit 90 --reuse-sequential --gp-option 'acquisition="thompson"' --out "$out"
done
echo QUEUE_DONE
