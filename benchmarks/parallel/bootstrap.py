"""How uncertain is a speed-up measured on 21 seeds? A bootstrap over the seeds.

    python benchmarks/parallel/bootstrap.py 16 results/round6                 # one folder
    python benchmarks/parallel/bootstrap.py 16 results/round7_pooled           # 42 seeds
    python benchmarks/parallel/bootstrap.py 16 results/round6 results/round9_gph   # a variant against it
    python benchmarks/parallel/bootstrap.py 16 --all results/round10_pooled63+results/round12  # ten problems

The speed-up of a problem is the sequential runs' median time to target over the parallel runs'
median (unreached runs count as infinite, an unreached parallel median as 0x, as in
summarize.py and compare_rounds.py); the headline is the median over the six problems. Each
bootstrap draw resamples, per problem, the parallel runs with replacement and recomputes the
speed-ups and the headline. The sequential reference is held fixed: the target is the
sequential runs' median final regret, so about half of them reach it only at the end of their
budget and a resampled sequential median is infinite in about half the draws (the intervals
are conditional on the sequential runs). It prints the point estimate, the 95% percentile
interval, and the share of draws at or above the bar (3.5x at 4 workers, 12x at 16). With a second folder the parallel runs of
both are resampled on the same seeds (they ran the same seeds on the same targets), and it
prints the interval of the difference in the headline.
"""

from __future__ import annotations

import math
import statistics
import sys
from pathlib import Path

import numpy as np
from compare_rounds import _time, problems_from_argv
from summarize import _load

DRAWS = 4000
BARS = {4: 3.5, 16: 12.0}  # the bars, median over problems


def _runs(spec: str, workers: int, problems: list[str]) -> dict[str, tuple[np.ndarray, dict[int, float]]]:
    """Per problem: sequential times, and the parallel times by seed, of folders joined by ``+``."""
    rows = [r for d in spec.split("+") for r in _load("time_to_target_*.jsonl", Path(d))]
    out = {}
    for p in problems:
        # keyed by seed: folders that copied the same sequential runs count them once
        seq = np.array(
            list(
                {
                    int(r["seed"]): _time(r)
                    for r in rows
                    if r["problem"] == p and r["phase"] == "sequential"
                }.values()
            )
        )
        par = {
            int(r["seed"]): _time(r)
            for r in rows
            if r["problem"] == p
            and r["phase"] != "sequential"
            and r["workers"] == workers
            and r["method"] == "parabo-async"
        }
        if seq.size and par:
            out[p] = (seq, par)
    return out


def _speedup(seq: np.ndarray, par: np.ndarray) -> float:
    t = float(np.median(par))
    return float(np.median(seq)) / t if math.isfinite(t) else 0.0


def _headline(s: list[float]) -> float:
    return statistics.median(s)


def main() -> None:
    wanted, argv = problems_from_argv(sys.argv[1:])
    workers, specs = int(argv[0]), argv[1:]
    rng = np.random.default_rng(0)
    base = _runs(specs[0], workers, wanted)
    other = _runs(specs[1], workers, wanted) if len(specs) > 1 else None
    problems = [p for p in wanted if p in base and (other is None or p in other)]
    if len(problems) < len(wanted):
        print("problems:", " ".join(problems), "(the headline is a median over these only)")
    heads, diffs, per = [], [], {p: [] for p in problems}
    for _ in range(DRAWS):
        a, b = [], []
        for p in problems:
            seq, par = base[p]
            s = seq
            seeds = sorted(par) if other is None else sorted(set(par) & set(other[p][1]))
            pick = [seeds[i] for i in rng.integers(0, len(seeds), len(seeds))]
            a.append(_speedup(s, np.array([par[k] for k in pick])))
            per[p].append(a[-1])
            if other is not None:
                b.append(_speedup(s, np.array([other[p][1][k] for k in pick])))
        heads.append(_headline(a))
        if other is not None:
            diffs.append(_headline(b) - _headline(a))
    point = _headline(
        [_speedup(base[p][0], np.array(list(base[p][1].values()))) for p in problems]
    )
    lo, hi = np.percentile(heads, [2.5, 97.5])
    bar = BARS.get(workers, 12.0)
    print(
        f"{specs[0]}: {workers} workers, median over problems {point:.2f}x, "
        f"95% interval [{lo:.2f}, {hi:.2f}], draws >= {bar}x: {np.mean(np.array(heads) >= bar):.0%}"
    )
    for p in problems:
        q = np.percentile(per[p], [2.5, 50, 97.5])
        print(f"  {p:<12} {len(base[p][1]):3d} seeds  [{q[0]:5.2f}, {q[2]:5.2f}]")
    if other is not None:
        point_b = _headline(
            [
                _speedup(base[p][0], np.array([other[p][1][k] for k in sorted(other[p][1])]))
                for p in problems
            ]
        )
        dlo, dhi = np.percentile(diffs, [2.5, 97.5])
        print(
            f"{specs[1]} against it: {point_b:.2f}x, difference {point_b - point:+.2f}x, "
            f"95% interval [{dlo:+.2f}, {dhi:+.2f}]"
        )


if __name__ == "__main__":
    main()
