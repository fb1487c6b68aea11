"""Coordinator: does one coordinator keep hundreds of workers busy?

    python3 benchmarks/coordinator/run.py                             # 64, 256, 1024 workers
    python3 benchmarks/coordinator/run.py --workers 1024 --trials 10000 --samplers sobol

The unchanged Scheduler on the simulated backend with a study folder on disk (journal,
progress files, trial folders), so every real cost of the coordinator — asks, journal writes,
bookkeeping — is charged to the simulated clock; trials last lognormal(60 s, 0.5). Records
utilization up to the last trial start (after it, a fixed budget has no work left to give),
the coordinator's share of the elapsed time, and the median ask time. Writes
results/coordinator.{csv,md}.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import one_blas_thread  # noqa: E402

one_blas_thread()

from common.options import add_gp_options, int_list  # noqa: E402
from common.problems import PROBLEMS  # noqa: E402
from common.runs import _RealLimit  # noqa: E402
from common.tables import write_table  # noqa: E402

from parabo import Study  # noqa: E402
from parabo.executors.simulated import SimulatedExecutor  # noqa: E402
from parabo.run_options import StopRule  # noqa: E402
from parabo.samplers import Sampler, make_sampler  # noqa: E402
from parabo.scheduler import Scheduler  # noqa: E402

RESULTS = HERE / "results"


class TimedSampler(Sampler):
    """Times every ask of the sampler it wraps."""

    def __init__(self, inner: Sampler) -> None:
        super().__init__(inner.seed)
        self.inner = inner
        self.times: list[float] = []

    def batch_size(self, free: int, pending: int) -> int:
        return self.inner.batch_size(free, pending)

    def ask(
        self,
        space: Any,
        history: Sequence[Any],
        pending: Sequence[Any],
        n: int = 1,
        direction: Any = "minimize",
    ) -> list[dict[str, Any]]:
        t = time.perf_counter()
        out = self.inner.ask(space, history, pending, n, direction)
        self.times.append(time.perf_counter() - t)
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--workers", type=int_list, default=[64, 256, 1024])
    ap.add_argument("--trials", type=int, default=3000, help="trials per run (default 3000)")
    ap.add_argument("--samplers", default="gp,sobol", help="comma-separated (default gp,sobol)")
    ap.add_argument("--runtime", default="lognormal(60s, 0.5)")
    ap.add_argument("--real-limit", type=float, default=600.0, help="real seconds per run at most")
    add_gp_options(ap)
    args = ap.parse_args()
    problem = PROBLEMS["hartmann6"]
    rows = []
    for name in [s for s in args.samplers.split(",") if s]:
        for n in args.workers:
            spec: dict[str, Any] = {"name": name, "seed": 0}
            if name == "gp":
                spec.update(dict(args.gp_option))
            sampler = TimedSampler(make_sampler(spec))
            with tempfile.TemporaryDirectory() as tmp:
                study = Study(problem.space, sampler=sampler, storage=Path(tmp) / "study")
                ex = SimulatedExecutor(problem, n, runtime=args.runtime, seed=0)
                guard = _RealLimit(args.real_limit)
                t0 = time.perf_counter()
                summary = Scheduler(
                    study,
                    ex,
                    stop=StopRule(trials=args.trials, max_failures=None),
                    listener=guard,
                    handle_signals=False,
                ).run()
                real = time.perf_counter() - t0
                study.close()
            last_start = max(r.start for r in ex.records)
            rows.append(
                {
                    "sampler": name,
                    "workers": n,
                    "trials": summary.n_complete + summary.n_failed,
                    "simulated_elapsed_s": round(summary.elapsed),
                    "utilization_to_last_start": round(ex.utilization(until=last_start), 4),
                    "utilization_overall": round(ex.utilization(), 4),
                    "coordinator_share": round(ex.coordinator_time / summary.elapsed, 4),
                    "median_ask_ms": round(1000 * statistics.median(sampler.times), 2),
                    "max_ask_ms": round(1000 * max(sampler.times), 1),
                    "real_s": round(real, 1),
                    "truncated": guard.hit,
                }
            )
            print(rows[-1], flush=True)
    print(write_table(rows, RESULTS / "coordinator"))


if __name__ == "__main__":
    main()
