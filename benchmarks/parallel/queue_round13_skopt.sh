#!/usr/bin/env bash
# Round 13: scikit-optimize's constant-liar batches (skopt-cl) on the problems it had not run
# (round 6 ran it on Branin, round 12 on mixed at 4 workers), against the same targets as the
# rest of the grid: round 6's sequential runs for the float problems, round 12's for the others.
# Results in results/round13_skopt/. Usage: SEEDS=3 WORKERS=16 bash queue_round13_skopt.sh "PROBLEMS"
# (ran as "ackley5 rosenbrock4 levy10 styblinski8" beside "hartmann6 svm_digits gbm_cancer mlp_wine
# mixed", then with WORKERS=4 where time allowed: see docs/parallel.md, "Round 13")
set -u
cd "$(dirname "$0")"
dir=results/round13_skopt
mkdir -p $dir
for p in $1; do
  case $p in mixed|svm_digits|gbm_cancer|mlp_wine) src=results/round12 ;; *) src=results/round6 ;; esac
  out=$dir/time_to_target_$p.jsonl
  [ -s "$out" ] || grep '"phase": "sequential"' "$src/time_to_target_$p.jsonl" > "$out"
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds "${SEEDS:-3}" --workers "${WORKERS:-16}" \
      --methods skopt-cl --real-limit 300 --reuse-sequential --out "$out"
done
echo QUEUE_DONE
