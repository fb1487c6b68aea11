#!/usr/bin/env bash
# Round 10: a third draw of seeds (42-62) for the default sampler at 16 workers, on round 6's
# targets (results/round10_s42/) and, for Branin and Hartmann-6, on the 100-evaluation targets
# (results/round10_b100_s42/). Usage: bash queue_round10_s42.sh "PROBLEMS"
# (the problem list decides which ran; branin and hartmann6 run both protocols); WORKERS=4 for 4 workers
set -u
cd "$(dirname "$0")"
for p in $1; do
  for proto in round6 b100; do
    if [ $proto = round6 ]; then dir=results/round10_s42 src=results/round6 budget=()
    else
      case $p in branin|hartmann6) ;; *) continue ;; esac
      dir=results/round10_b100_s42 src=results/round10_b100 budget=(--budget "$p=100")
    fi
    mkdir -p $dir
    out=$dir/time_to_target_$p.jsonl
    [ -s "$out" ] || grep '"phase": "sequential"' "$src/time_to_target_$p.jsonl" > "$out"
    ../.venv/bin/python time_to_target.py --problems "$p" --seeds 21 --seed-start 42 --workers "${WORKERS:-16}" \
        --methods parabo-async --real-limit 90 --reuse-sequential "${budget[@]}" --out "$out"
  done
done
echo QUEUE_DONE
