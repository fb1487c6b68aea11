"""Per-trial overhead of the dask backend against the local process pool, side by side.

Two measurements, each on the ``process`` backend and on ``dask`` (``cluster: local``,
optionally also an address given with ``--address``):

- throughput: trials per second with a trivial objective (pure dispatch cost);
- worker idle fraction with 1 s trials: 1 - (time spent inside the objective) /
  (workers x wall time of the run). What is left is refill latency.

Run from the repository root::

    python benchmarks/dask/overhead.py                     # writes benchmarks/dask/results.json
    python benchmarks/dask/overhead.py --address tcp://127.0.0.1:8786

Timings come from the run itself (the scheduler's clock, start-up excluded and
reported separately); the random sampler is used so asking costs nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from parabo.objectives import PythonObjective
from parabo.optimize import run_scheduler
from parabo.study import Study

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0}}
HERE = Path(__file__).resolve().parent


def trivial(params: dict) -> float:
    return float(params["x"])


def one_second(params: dict) -> float:
    time.sleep(1.0)
    return float(params["x"])


def run(backend: str, objective: Any, trials: int, workers: int, dask: dict[str, Any] | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        study = Study(SPACE, "minimize", "random", 0, storage=Path(tmp) / "study")
        t0 = time.perf_counter()
        try:
            summary = run_scheduler(study, PythonObjective(objective), trials=trials, workers=workers,
                                    backend=backend, backend_options=dask)
        finally:
            study.close()
        total = time.perf_counter() - t0
        timed = [t for t in study.trials if t.started_at is not None and t.finished_at is not None]
        busy = sum(t.finished_at - t.started_at for t in timed)  # type: ignore[operator]
        # steady state: from the first trial's start to the last one's end (worker start-up left out)
        span = max(t.finished_at for t in timed) - min(t.started_at for t in timed)  # type: ignore[type-var,operator]
    return {
        "trials": trials, "workers": workers, "complete": summary.n_complete, "failed": summary.n_failed,
        "run_s": round(summary.elapsed, 3), "total_s_with_startup": round(total, 3),
        "trials_per_s": round(summary.n_complete / summary.elapsed, 2),
        "idle_fraction": round(1.0 - busy / (workers * summary.elapsed), 4),
        "idle_fraction_steady": round(1.0 - busy / (workers * span), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trivial-trials", type=int, default=300)
    parser.add_argument("--slow-trials", type=int, default=12)
    parser.add_argument("--address", help="also measure an existing Dask scheduler")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))

    setups: list[tuple[str, str, dict[str, Any] | None]] = [
        ("process", "process", None),
        ("dask (cluster: local)", "dask", {"cluster": "local"}),
    ]
    if args.address:
        setups.append((f"dask (address {args.address})", "dask", {"address": args.address}))
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "trivial": {}, "one_second": {},
    }
    for label, backend, dask in setups:
        results["trivial"][label] = run(backend, trivial, args.trivial_trials, args.workers, dask)
        print(f"trivial    {label:40s} {results['trivial'][label]}", flush=True)
        results["one_second"][label] = run(backend, one_second, args.slow_trials, args.workers, dask)
        print(f"one_second {label:40s} {results['one_second'][label]}", flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
