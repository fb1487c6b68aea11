"""Dask: what does a trial cost on a Dask cluster, against the local process pool?

    python3 benchmarks/dask/run.py                       # a loopback LocalCluster
    python3 benchmarks/dask/run.py --address tcp://127.0.0.1:8786   # also an existing scheduler

Two measurements on the ``process`` backend and on ``dask`` (``cluster: local``, a real
scheduler and workers on 127.0.0.1), with the same workers:

- dispatch: trials per second of a trivial objective (the pure cost of a trial's round trip);
- idle: trials of 0.05-0.5 s (10x spread), the share of time workers wait between trials.

Timed from the first trial's start to the last one's end, so starting the cluster (paid once
per study) is left out. Writes results/dask.{csv,md}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
from common.runs import idle_share, real_run, span  # noqa: E402
from common.tables import write_table  # noqa: E402

RESULTS = HERE / "results"
SPACE = {"x": {"type": "float", "low": -5, "high": 10}}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2, help="workers on every backend (default 2)")
    ap.add_argument("--trials", type=int, default=500, help="trivial trials (default 500)")
    ap.add_argument("--idle-trials", type=int, default=60, help="0.05-0.5 s trials (default 60)")
    ap.add_argument("--address", help="also measure an existing Dask scheduler at this address")
    args = ap.parse_args()
    setups: list[tuple[str, str, dict[str, Any]]] = [
        ("process", "process", {}),
        ("dask, cluster: local", "dask", {"cluster": "local"}),
    ]
    if args.address:
        setups.append((f"dask, address {args.address}", "dask", {"address": args.address}))
    durations = np.random.default_rng(0).uniform(0.05, 0.5, args.idle_trials).round(4)
    sleep_space = {"seconds": {"type": "float", "low": 0.05, "high": 0.5}}
    rows = []
    for label, backend, options in setups:
        fast = real_run(backend, "trivial", SPACE, args.trials, args.workers, **options)
        slow = real_run(
            backend,
            "sleeper",
            sleep_space,
            args.idle_trials,
            args.workers,
            enqueue=[{"seconds": float(d)} for d in durations],
            **options,
        )
        rows.append(
            {
                "backend": label,
                "workers": args.workers,
                "trivial_trials_per_s": round(args.trials / span(fast), 1),
                "ms_per_trial_round_trip": round(1000 * span(fast) * args.workers / args.trials, 2),
                "ideal_wall_clock_s": round(float(durations.sum()) / args.workers, 2),
                **idle_share(slow, args.workers),
            }
        )
        print(rows[-1], flush=True)
    print(write_table(rows, RESULTS / "dask"))


if __name__ == "__main__":
    main()
