#!/usr/bin/env bash
# Pool round 6 (seeds 0-20) and round 7 (seeds 21-41) into results/round7_pooled/: the round-6
# sequential runs (the targets) once, and every parallel run of both rounds. Then
#   ../.venv/bin/python summarize.py --dir results/round7_pooled
set -u
cd "$(dirname "$0")"
mkdir -p results/round7_pooled
for f in results/round6/time_to_target_*.jsonl; do
  p=$(basename "$f")
  { cat "$f"; grep -v '"phase": "sequential"' "results/round7/$p"; } > "results/round7_pooled/$p"
done
