#!/usr/bin/env bash
# Round 4 of time to target (the GP with its trust region): six problems, 5 seeds, 1/4/16 workers.
# Round 3's results are in results/round3/. Usage: bash queue_round4.sh A|B|C   (A and B side by side)
#   A: branin, hartmann6, ackley5    B: rosenbrock4, levy10, styblinski8
#   C / C2: Optuna GPSampler, 5 seeds, 4 and 16 workers, against the targets A and B set
#      (C: branin hartmann6 ackley5, C2: rosenbrock4 levy10 styblinski8; side by side)
set -u
cd "$(dirname "$0")"
PY=../.venv/bin/python
case "$1" in
  A) PROBS="branin hartmann6 ackley5" ;;
  B) PROBS="rosenbrock4 levy10 styblinski8" ;;
  C|C2) [ "$1" = C ] && GPPROBS="branin hartmann6 ackley5" || GPPROBS="rosenbrock4 levy10 styblinski8"
     for p in $GPPROBS; do
       $PY time_to_target.py --problems $p --seeds 5 --workers 4,16 --methods optuna-gp --real-limit 300 \
           --reuse-sequential --out results/time_to_target_$p.jsonl
     done; echo QUEUE_DONE; exit 0 ;;
esac
for p in $PROBS; do
  $PY time_to_target.py --problems $p --seeds 5 --workers 1,4,16 \
      --methods parabo-async,parabo-batch,optuna-tpe,random --real-limit 90 \
      --out results/time_to_target_$p.jsonl
done
echo QUEUE_DONE
