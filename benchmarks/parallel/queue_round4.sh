#!/usr/bin/env bash
# Round 4 of time to target (the GP with its trust region): six problems, 5 seeds, 1/4/16 workers.
# Round 3's results are in results/round3/. Usage: bash queue_round4.sh A|B|C   (A and B side by side)
#   A: branin, hartmann6, ackley5    B: rosenbrock4, levy10, styblinski8
#   C: Optuna GPSampler on branin and hartmann6, 3 seeds, 4 and 16 workers, against the targets A set
set -u
cd "$(dirname "$0")"
PY=../.venv/bin/python
case "$1" in
  A) PROBS="branin hartmann6 ackley5" ;;
  B) PROBS="rosenbrock4 levy10 styblinski8" ;;
  C) for p in branin hartmann6; do
       $PY time_to_target.py --problems $p --seeds 3 --workers 4,16 --methods optuna-gp --real-limit 300 \
           --reuse-sequential --out results/time_to_target_$p.jsonl
     done; echo QUEUE_DONE; exit 0 ;;
esac
for p in $PROBS; do
  $PY time_to_target.py --problems $p --seeds 5 --workers 1,4,16 \
      --methods parabo-async,parabo-batch,optuna-tpe,random --real-limit 90 \
      --out results/time_to_target_$p.jsonl
done
echo QUEUE_DONE
