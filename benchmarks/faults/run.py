"""Faults and durability: what a study records for each way a trial can fail, how fast it notices,
and what a durable journal costs.

    python3 benchmarks/faults/run.py            # both parts (about a minute here)
    python3 benchmarks/faults/run.py --part durability --tells 2000

faults      each fault of ``faulty.py`` runs once between healthy trials (process backend,
            3 workers, a 2 s time limit per trial, 0.5 s between SIGTERM and SIGKILL).
            "detected after" is the time from the fault (stamped by the objective just
            before it fails) to the trial's recorded end; for time limits, the time past
            the limit. Processes left behind are counted after the run.
durability  ask/tell pairs per second of a Python loop on a study folder with
            ``Study(durability=...)``: ``fsync`` (the default: each call's event is on disk
            when it returns), ``write`` (written, not fsynced) and ``batch`` (buffered until
            ``commit()``, as the scheduler does), median of ``--repeats`` runs.

Writes results/faults.{csv,md} and results/durability.{csv,md}.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common.tables import write_table  # noqa: E402

from parabo import Study  # noqa: E402
from parabo.executors import make_executor  # noqa: E402
from parabo.objectives import PythonObjective  # noqa: E402
from parabo.run_options import StopRule  # noqa: E402
from parabo.scheduler import Scheduler  # noqa: E402

RESULTS = HERE / "results"
FAULTS = [
    "sleeps forever",
    "ignores SIGTERM",
    "forks a sleeping grandchild",
    "SIGKILLs itself",
    "segfaults (ctypes)",
    "os._exit(3)",
    "allocates past a ulimit",
    "raises",
    "returns NaN",
    "returns inf",
    "returns a string",
    "returns nothing",
    "returns 50 MB",
]
LIMIT = 2.0


def faults() -> list[dict[str, object]]:
    """Run every fault among healthy trials; one row per fault, and a last row of totals."""
    import psutil

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FAULT_LOG"] = tmp
        modes = [m for f in FAULTS for m in ("healthy", f)] + ["healthy"]
        study = Study({"mode": ["healthy", *FAULTS]}, storage=Path(tmp) / "study", seed=0)
        for m in modes:
            study.enqueue({"mode": m})
        objective = PythonObjective("faulty:faulty", paths=(str(HERE),))
        ex = make_executor("process", objective, 3, kill_grace=0.5)
        t0 = time.time()
        stop = StopRule(len(modes), max_failures=None)
        Scheduler(study, ex, stop=stop, trial_timeout=LIMIT, handle_signals=False).run()
        wall = time.time() - t0
        rows: list[dict[str, object]] = []
        for t in study.trials:
            mode = t.params["mode"]
            if mode == "healthy":
                continue
            stamp = Path(tmp) / mode
            when = float(stamp.read_text()) if stamp.exists() else None
            if t.reason == "timeout":
                detected = (t.duration or 0.0) - LIMIT
            else:
                detected = None if when is None else (t.finished_at or when) - when
            rows.append(
                {
                    "fault": mode,
                    "recorded": t.state.value,
                    "reason": t.reason,
                    "detected_after_ms": None if detected is None else round(1000 * detected),
                    "error": (t.error or "").splitlines()[0][:80].replace("|", "/"),
                }
            )
        healthy = [t for t in study.trials if t.params["mode"] == "healthy"]
        ok = sum(t.state.value == "complete" for t in healthy)
        study.close()
    time.sleep(0.5)
    left = sum(
        1 for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "100000"]
    )
    rows.append(
        {
            "fault": f"healthy trials: {ok}/{len(healthy)} complete",
            "recorded": f"{left} processes left",
            "reason": "-",
            "detected_after_ms": None,
            "error": f"wall-clock {wall:.1f} s",
        }
    )
    return rows


def _tells_per_second(durability: str, tells: int) -> float:
    space = {"x": {"type": "float", "low": 0, "high": 1}}
    with tempfile.TemporaryDirectory() as tmp:
        study = Study(
            space, sampler="random", seed=0, storage=Path(tmp) / "s", durability=durability
        )
        t0 = time.perf_counter()
        for _ in range(tells):
            trial = study.ask()
            study.tell(trial, trial.params["x"])
        study.commit()
        elapsed = time.perf_counter() - t0
        study.close()
    return tells / elapsed


def durability(tells: int, repeats: int) -> list[dict[str, object]]:
    """Ask/tell pairs per second with each durability, measured side by side (interleaved)."""
    runs: dict[str, list[float]] = {d: [] for d in ("fsync", "write", "batch")}
    for _ in range(repeats):
        for d in runs:
            runs[d].append(_tells_per_second(d, tells))
    base = statistics.median(runs["fsync"])
    return [
        {
            "durability": d,
            "tells_per_s": round(statistics.median(r)),
            "min": round(min(r)),
            "max": round(max(r)),
            "vs_fsync": round(statistics.median(r) / base, 2),
        }
        for d, r in runs.items()
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--part", choices=["faults", "durability", "all"], default="all")
    ap.add_argument("--tells", type=int, default=1000, help="ask/tell pairs per durability run")
    ap.add_argument("--repeats", type=int, default=5, help="durability runs per setting (median)")
    args = ap.parse_args()
    if args.part in ("faults", "all"):
        print(write_table(faults(), RESULTS / "faults"))
    if args.part in ("durability", "all"):
        print(write_table(durability(args.tells, args.repeats), RESULTS / "durability"))


if __name__ == "__main__":
    main()
