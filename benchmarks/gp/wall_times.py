"""Real time of each run (``wall_s``) per method and problem, from results/raw: min, median, max.

    benchmarks/.venv/bin/python benchmarks/gp/wall_times.py [METHOD ...]
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

RAW = Path(__file__).parent / "results" / "raw"


def main() -> None:
    methods = set(sys.argv[1:])
    walls: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    for path in RAW.glob("*.json"):
        r = json.loads(path.read_text())
        if (not methods or r["tag"] in methods) and "wall_s" in r:
            walls[(r["tag"], r["problem"], r["pending"])].append(r["wall_s"])
    for (tag, problem, pending), w in sorted(walls.items()):
        print(f"{tag:<22} {problem:<20} q={pending:<3} runs {len(w):3d}  min {min(w):7.0f} s  "
              f"median {statistics.median(w):7.0f} s  max {max(w):7.0f} s")


if __name__ == "__main__":
    main()
