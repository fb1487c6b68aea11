#!/usr/bin/env bash
# Round 6: with trials in flight the initial design counts them (the GP takes over once n_startup
# trials were started and 4 completed). Sequential runs are unchanged (nothing in flight), so only
# the asynchronous grid reruns; the round-5 asynchronous default is kept as tag parabo_kbtr_r5.
# Usage: bash benchmarks/gp/queue_round6.sh async
set -u
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=benchmarks/.venv/bin/python
SYN="branin hartmann6 ackley5 rosenbrock4 levy10 styblinski8 mixed"
case "$1" in
  async) for q in 4 16; do for p in $SYN; do
      $PY benchmarks/gp/run.py --method parabo --problem $p --seeds 0-9 --pending $q --tag parabo_kbtr
    done; done ;;
esac
echo QUEUE_DONE
