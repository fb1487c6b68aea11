"""Median time to target of several methods on the same seeds, from time_to_target.py's results.

    ../.venv/bin/python same_seeds.py levy10 16 0-8 results/round10_pooled63:parabo-async \
        results/round13_skopt:skopt-cl

Each SPEC is FOLDER:METHOD (the folder's time_to_target_PROBLEM.jsonl, parallel rows). Prints,
per spec, the median simulated time to target over the seeds (unreached runs count as
infinite, so an unreached median prints as "not reached") and the runs that reach it. Use it
where a method ran on fewer seeds than the rest of the grid: compare it with the others on
exactly its seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import seed_range  # noqa: E402


def cell(path: Path, method: str, workers: int, seeds: range) -> tuple[float, int, int]:
    """(median time to target, runs reaching it, runs) of one method's parallel rows."""
    times = []
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if r["phase"] == "parallel" and r["method"] == method and r["workers"] == workers and r["seed"] in seeds:
            times.append(math.inf if r["time_to_target"] is None else r["time_to_target"])
    if not times:
        return math.nan, 0, 0
    return statistics.median(times), sum(t < math.inf for t in times), len(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("problem")
    ap.add_argument("workers", type=int)
    ap.add_argument("seeds", type=seed_range, help="FIRST-LAST, inclusive")
    ap.add_argument("specs", nargs="+", metavar="FOLDER:METHOD")
    args = ap.parse_args()
    for spec in args.specs:
        folder, sep, method = spec.rpartition(":")
        if not sep:
            ap.error(f"expected FOLDER:METHOD, got {spec!r}")
        path = Path(folder) / f"time_to_target_{args.problem}.jsonl"
        if not path.exists():
            ap.error(f"no results file {path}")
        med, hit, n = cell(path, method, args.workers, args.seeds)
        shown = "no runs" if n == 0 else ("not reached" if math.isinf(med) else f"{med:.0f} s")
        print(f"{args.problem} N={args.workers} seeds {args.seeds.start}-{args.seeds.stop - 1} {spec}: {shown} ({hit}/{n})")


if __name__ == "__main__":
    main()
