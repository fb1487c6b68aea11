#!/usr/bin/env bash
# Time to target on the four other float problems of the GP benchmarks (budget 100, 5 seeds).
# Usage: bash benchmarks/parallel/queue_more_problems.sh   (~30-60 min on one core)
set -u
cd "$(dirname "$0")"
PY=../.venv/bin/python
for p in ackley5 rosenbrock4 levy10 styblinski8; do
  $PY time_to_target.py --problems $p --seeds 5 --workers 1,4,16 \
      --methods parabo-async,parabo-batch,optuna-tpe,random --real-limit 90 \
      --out results/time_to_target_$p.jsonl
done
echo QUEUE_DONE
