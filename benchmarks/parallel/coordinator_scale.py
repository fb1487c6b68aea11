"""Coordinator scale: 256 and 1,024 simulated workers, 5,000 trials, 60 s mean duration.

The unchanged Scheduler runs on the simulated backend with a study folder on
disk (journal, fsync per completion batch, progress files), so every real cost
of the coordinator is charged to the simulated clock. Records utilization over
simulated time and the sampler's ask latency against the number of completed
trials.

    python benchmarks/parallel/coordinator_scale.py --workers 256,1024 --trials 5000 --sampler sobol
    python benchmarks/parallel/coordinator_scale.py --workers 256 --trials 5000 --sampler gp --real-limit 300
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from common import PROBLEMS  # noqa: E402
from time_to_target import _RealLimit, gp_sampler  # noqa: E402

from parabo.executors.simulated import SimulatedExecutor  # noqa: E402
from parabo.samplers import Sampler, make_sampler  # noqa: E402
from parabo.scheduler import Scheduler  # noqa: E402
from parabo.study import Study  # noqa: E402


class TimedSampler(Sampler):
    """Times every ask of the sampler it wraps: (completed trials, pending, n asked, seconds)."""

    def __init__(self, inner: Sampler) -> None:
        super().__init__(None)
        self.inner = inner
        self.log: list[tuple[int, int, int, float]] = []

    def batch_size(self, free: int, pending: int) -> int:
        return self.inner.batch_size(free, pending)

    def ask(self, space: Any, history: Any, pending: Any, n: int, direction: Any) -> Any:
        t = time.perf_counter()
        out = self.inner.ask(space, history, pending, n, direction)
        self.log.append((len(history), len(pending), n, time.perf_counter() - t))
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", default="256,1024")
    ap.add_argument("--trials", type=int, default=5000)
    ap.add_argument("--sampler", default="sobol")
    ap.add_argument("--runtime", default="lognormal(60s, 0.5)")
    ap.add_argument("--problem", default="hartmann6")
    ap.add_argument("--real-limit", type=float, default=600.0)
    ap.add_argument("--overhead", type=float, default=None,
                    help="virtual seconds per trial instead of the measured coordinator time "
                         "(0: an ideal, free coordinator — shows the ramp-down inherent to a fixed budget)")
    ap.add_argument("--gp-option", action="append", default=[],
                    help="GP sampler option key=value (JSON value), e.g. max_points=300")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sampler and of the durations")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "coordinator_scale.jsonl"))
    args = ap.parse_args()
    problem = PROBLEMS[args.problem]
    for n in map(int, args.workers.split(",")):
        if args.sampler == "gp" and args.gp_option:
            opts = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.gp_option)}
            inner, used = make_sampler({"name": "gp", "seed": args.seed, **opts}), f"gp {opts}"
        elif args.sampler == "gp":
            inner, used = gp_sampler(args.seed)
        else:
            inner, used = make_sampler(args.sampler, args.seed), args.sampler
        sampler = TimedSampler(inner)
        with tempfile.TemporaryDirectory() as tmp:
            study = Study(problem.space, sampler=sampler, storage=Path(tmp) / "study")
            ex = SimulatedExecutor(problem, n, runtime=args.runtime, seed=args.seed, overhead=args.overhead)
            guard = _RealLimit(args.real_limit)
            t0 = time.perf_counter()
            summary = Scheduler(study, ex, trials=args.trials, listener=guard, handle_signals=False).run()
            real = time.perf_counter() - t0
            study.close()
        end = ex.started_at + summary.elapsed
        # utilization in windows of 60 simulated seconds
        windows = []
        w = 60.0
        t = ex.started_at
        while t < end:
            hi = min(t + w, end)
            busy = sum(max(0.0, min(r.end, hi) - max(r.start, t)) for r in ex.records)
            windows.append((t - ex.started_at, busy / (n * (hi - t))))
            t = hi
        # steady state: from the first refill to the last ask (excludes the ramp-down when no trials are left)
        last_start = max(r.start for r in ex.records)
        steady = ex.utilization(until=last_start)
        ideal = args.trials * 60.0 / n
        rec = {
            "workers": n, "seed": args.seed, "trials": summary.n_complete + summary.n_failed, "sampler": used,
            "runtime": args.runtime, "overhead": args.overhead, "elapsed": summary.elapsed, "ideal_elapsed_mean60": ideal,
            "utilization": ex.utilization(until=end), "utilization_until_last_start": steady,
            "coordinator_time": ex.coordinator_time, "coordinator_share": ex.coordinator_time / summary.elapsed,
            "real_seconds": real, "truncated": guard.hit,
            "ask_log": sampler.log, "utilization_windows": windows,
            "ask_seconds_total": sum(a[3] for a in sampler.log),
        }
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        print(f"N={n} sampler={used}: trials {rec['trials']} elapsed {summary.elapsed:.0f}s (ideal ~{ideal:.0f}s) "
              f"util {rec['utilization']:.4f} (until last start {steady:.4f}) coordinator "
              f"{rec['coordinator_share']:.4f} ask total {rec['ask_seconds_total']:.2f}s real {real:.1f}s"
              f"{' TRUNCATED' if guard.hit else ''}", flush=True)


if __name__ == "__main__":
    main()
