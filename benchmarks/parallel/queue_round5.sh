#!/usr/bin/env bash
# Round 5 of time to target: 21 seeds instead of 5 (the target is the 21-seed sequential median; an odd count, so that the median run reaches it),
# into results/round5/. Usage: bash queue_round5.sh A|B|P   (A and B side by side)
#   A: branin, hartmann6, ackley5    B: rosenbrock4, levy10, styblinski8   (parabo async, 1/4/16 workers)
#   P PROBLEMS: the cheap peers (parabo batches, Optuna TPE, random) against the targets A and B set
#   G PROBLEMS: Optuna GPSampler (4 and 16 workers) against the same targets
set -u
cd "$(dirname "$0")"
PY=../.venv/bin/python
mkdir -p results/round5
case "$1" in
  A) PROBS="branin hartmann6 ackley5"; METHODS=parabo-async; EXTRA="" ;;
  B) PROBS="rosenbrock4 levy10 styblinski8"; METHODS=parabo-async; EXTRA="" ;;
  P) PROBS="${2:-branin hartmann6 ackley5 rosenbrock4 levy10 styblinski8}"
     METHODS=parabo-batch,optuna-tpe,random; EXTRA=--reuse-sequential ;;
  G) for p in $2; do
       $PY time_to_target.py --problems $p --seeds 21 --workers 4,16 --methods optuna-gp --real-limit 300 \
           --reuse-sequential --out results/round5/time_to_target_$p.jsonl
     done; echo QUEUE_DONE; exit 0 ;;
esac
for p in $PROBS; do
  $PY time_to_target.py --problems $p --seeds 21 --workers 1,4,16 --methods $METHODS --real-limit 90 \
      $EXTRA --out results/round5/time_to_target_$p.jsonl
done
echo QUEUE_DONE
