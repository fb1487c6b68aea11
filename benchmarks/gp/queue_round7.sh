#!/usr/bin/env bash
# Round 7: pending="fantasy" (Monte Carlo fantasies of the pending outcomes, Snoek et al. 2012)
# against the default believer, 4 and 16 pending, 10 seeds, the same protocol as the default's
# asynchronous runs (queue_round5.sh async). Usage: bash benchmarks/gp/queue_round7.sh "PROBLEMS"
# (ran as "branin hartmann6 ackley5 mixed" & "rosenbrock4 levy10 styblinski8").
set -u
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=benchmarks/.venv/bin/python
for q in 4 16; do for p in $1; do
  $PY benchmarks/gp/run.py --method parabo --problem $p --seeds 0-9 --pending $q --option pending='"fantasy"' \
      --tag parabo_fantasy
done; done
echo QUEUE_DONE
