#!/usr/bin/env bash
# Round 10: peers on the 100-evaluation targets of Branin and Hartmann-6 (results/round10_b100/,
# run queue_round10_b100.sh first): Optuna TPE (constant liar) at 4 and 16 workers, 21 seeds,
# and Optuna GPSampler at 16 workers, seeds 0-9 (its asks take 0.3-1 s at 100-230 trials; the
# issue's protocol charges them to the clock). Usage: bash queue_round10_b100_peers.sh PROBLEM
set -u
cd "$(dirname "$0")"
p=$1 out=results/round10_b100/time_to_target_$1.jsonl
../.venv/bin/python time_to_target.py --problems "$p" --seeds 10 --workers 16 --methods optuna-gp \
    --real-limit 400 --reuse-sequential --budget "$p=100" --out "$out"
../.venv/bin/python time_to_target.py --problems "$p" --seeds 21 --workers 16,4 --methods optuna-tpe \
    --real-limit 200 --reuse-sequential --budget "$p=100" --out "$out"
echo QUEUE_DONE
