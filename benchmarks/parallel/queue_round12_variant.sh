#!/usr/bin/env bash
# Round 12: a 16-worker variant of the GP sampler on the four problems round 12 added, against
# round 12's targets and seeds (0-20, or SEED_START=21; the default's runs: results/round12/).
# Results in results/round12_TAG/. Usage: bash queue_round12_variant.sh TAG "PROBLEMS" [--gp-option key=JSON ...]
# The variant is round 11's throw-away patch: git -C ../.. apply benchmarks/parallel/patches/round11_greedy.patch
# (revert it after). Ran as
#   bash queue_round12_variant.sh g8m2min30 "mixed svm_digits" --gp-option attr._x_greedy=8 \
#       --gp-option attr._x_greedy_m=2 --gp-option attr._x_gmin=30      # and "gbm_cancer mlp_wine"
# and, the default (no patch needed) on a second draw of seeds at 4 and 16 workers:
#   SEED_START=21 WORKERS=4,16 bash queue_round12_variant.sh s21 "mixed svm_digits mlp_wine gbm_cancer"
set -u
cd "$(dirname "$0")"
tag=$1 problems=$2; shift 2
dir=results/round12_$tag
mkdir -p $dir
for p in $problems; do
  out=$dir/time_to_target_$p.jsonl
  [ -s "$out" ] || grep '"phase": "sequential"' "results/round12/time_to_target_$p.jsonl" > "$out"
  ../.venv/bin/python time_to_target.py --problems "$p" --seeds 21 --seed-start "${SEED_START:-0}" --workers "${WORKERS:-16}" \
      --methods parabo-async --real-limit 90 --reuse-sequential --out "$out" "$@"
done
echo QUEUE_DONE
