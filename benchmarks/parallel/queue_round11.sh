#!/usr/bin/env bash
# Round 11: a 16-worker variant of the GP sampler against round 6's targets, on the three seed draws
# 0-20, 21-41 and 42-62 (the default's runs on them: results/round6, round7 and round10_s42).
# Results in results/round11_TAG/, round11_TAG_s21/ and round11_TAG_s42/ (queue_round9.sh runs each).
# Usage: bash queue_round11.sh TAG "PROBLEMS" [--gp-option key=JSON ...]
# The variants are a throw-away patch: git -C ../.. apply benchmarks/parallel/patches/round11_greedy.patch
# (revert it after). Ran, each with two queues of three problems at once
# ("ackley5 styblinski8 hartmann6" and "rosenbrock4 branin levy10"):
#   bash queue_round11.sh greedy8 "..." --gp-option attr._x_greedy=8
#   bash queue_round11.sh g8m2min30 "..." --gp-option attr._x_greedy=8 --gp-option attr._x_greedy_m=2 \
#       --gp-option attr._x_gmin=30
#   bash queue_round11.sh g8m4min30 "..." (the same with attr._x_greedy_m=4)
#   bash queue_round11.sh g8m2min30_minc2 "..." (g8m2min30's options and --gp-option attr._x_minc=2)
#   bash queue_round11.sh g8m2min30_dry "..." (g8m2min30's options and --gp-option attr._x_dry=1: a placebo)
# then pool_round11.sh TAG for the 63-seed folders.
set -u
cd "$(dirname "$0")"
tag=$1 problems=$2; shift 2
for start in 0 21 42; do   # the three draws (round 6's, round 7's and round 10's seeds)
  suffix=""; [ "$start" = 0 ] || suffix=_s$start
  ROUND=11 SEED_START=$start bash queue_round9.sh "$tag$suffix" "$problems" "$@"
done
