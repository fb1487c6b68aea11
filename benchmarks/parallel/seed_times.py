"""Per-seed time to target of one method at one worker count: the rows behind a median.

    python benchmarks/parallel/seed_times.py results/round9_peers64_charged hartmann6 optuna-gp 64 [--seeds 0-4]

Prints each run's seed, time to target (None: not reached), trials, the coordinator's share of
the simulated time and its seconds per trial, the utilization up to the target, then the median time (unreached runs count as infinite).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("problem")
    ap.add_argument("method")
    ap.add_argument("workers", type=int)
    ap.add_argument("--seeds", default=None, help="FIRST-LAST (inclusive); default all")
    args = ap.parse_args()
    lo, hi = (int(x) for x in args.seeds.split("-")) if args.seeds else (0, 10**9)
    rows = [json.loads(line) for line in (args.dir / f"time_to_target_{args.problem}.jsonl").read_text().splitlines()
            if line.strip()]
    rows = [r for r in rows if r["phase"] != "sequential" and r["method"] == args.method
            and r["workers"] == args.workers and lo <= r["seed"] <= hi]
    for r in sorted(rows, key=lambda r: r["seed"]):
        t = r["time_to_target"]
        u = r.get("utilization_to_target")
        print(f"seed {r['seed']:3d}  to target {'None' if t is None else f'{t:8.1f} s'}  trials {r['trials']:4d}  "
              f"coordinator {r['coordinator_time'] / r['elapsed']:.3f} ({r['coordinator_time'] / r['trials']:.2f} s "
              f"per trial)  utilization to target {'-' if u is None else f'{u:.3f}'}"
              f"{'  TRUNCATED' if r.get('truncated') else ''}")
    times = [math.inf if r["time_to_target"] is None else r["time_to_target"] for r in rows]
    if times:
        reached = sum(math.isfinite(t) for t in times)
        print(f"median {statistics.median(times):.1f} s over {len(times)} runs, {reached} reach the target")


if __name__ == "__main__":
    main()
