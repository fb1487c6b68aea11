#!/usr/bin/env bash
# Share of Thompson-sampling asks in GP-Hedge runs (patches/round10_gp_hedge.patch), from the
# logs it appends to when PARABO_X_LOG=FILE is set (one line per busy ask: n, arm, p(TS), gains).
# Usage: bash arm_shares.sh LOGDIR > results/round10_gp_hedge/arms.txt   (logs named log_PROBLEM)
set -eu
for f in "$1"/log_*; do
  awk -v p="${f##*/log_}" '{ if ($2 == 1) t++; n++ } END { printf "%s TS share %.2f of %d asks\n", p, t / n, n }' "$f"
done
