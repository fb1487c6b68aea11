"""Core scheduler benchmarks (issue 2). Writes results/core.json; run from the repository root:

    python benchmarks/core/run_core.py            # all three
    python benchmarks/core/run_core.py speedup    # one of: speedup, throughput, idle

speedup     40 trials of a ~0.5 s CPU-bound pure-Python objective, process backend, 1 vs 2 workers,
            measured side by side (alternating) in one run; reports the ratio of wall-clocks.
throughput  a trivial objective through the scheduler with the random sampler, journal on, fsync on:
            trials/s on the thread and process backends.
idle        8 workers, trial durations spread 10x (0.05-0.5 s): idle time between trials as a share
            of the wall-clock, from the recorded start and end times.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import parabo  # noqa: E402
from parabo import Study  # noqa: E402
from parabo.executors import make_executor  # noqa: E402
from parabo.objectives import PythonObjective  # noqa: E402
from parabo.scheduler import Scheduler  # noqa: E402

RESULTS = HERE / "results"


def timed_run(objective: str, space: dict, trials: int, workers: int, backend: str) -> tuple[float, Study]:
    with tempfile.TemporaryDirectory() as tmp:
        study = Study(space, sampler="random", seed=0, storage=Path(tmp) / "s")
        ex = make_executor(backend, PythonObjective(objective, paths=(str(HERE),)), workers)
        try:
            # workers are started (and the objective loaded) before the clock starts: a real study
            # pays this once, not per trial
            warm = Study(space, seed=1)
            Scheduler(warm, ex, trials=workers, handle_signals=False).run() if backend == "process" else None
            if backend == "process":
                ex = make_executor(backend, PythonObjective(objective, paths=(str(HERE),)), workers)
                time.sleep(1.0)
            t0 = time.perf_counter()
            Scheduler(study, ex, trials=trials, handle_signals=False).run()
            elapsed = time.perf_counter() - t0
        finally:
            ex.close()
            study.close()
    return elapsed, study


def _bare(n_procs: int, trials: int) -> float:
    """The hardware's own ceiling: the same work in ``n_procs`` plain processes, no parabo at all."""
    import subprocess

    code = ("import sys; sys.path.insert(0, %r); from objectives import cpu_bound\n"
            "for _ in range(int(sys.argv[1])): cpu_bound({'x': 0.5, 'work': WORK})\n").replace("WORK", str(WORK)) % str(HERE)
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", code, str(trials // n_procs)]) for _ in range(n_procs)]
    for p in procs:
        p.wait()
    return time.perf_counter() - t0


WORK = 3_700_000  # ~0.5 s of pure-Python work per trial on the development machine


def speedup(repeats: int = 3) -> dict:
    space = {"x": {"type": "float", "low": -5, "high": 10}, "work": {"type": "fixed", "value": WORK}}
    one, two, bare_one, bare_two = [], [], [], []
    for _ in range(repeats):  # alternate, so drifts in machine load hit both sides alike
        one.append(timed_run("objectives:cpu_bound", space, 40, 1, "process")[0])
        two.append(timed_run("objectives:cpu_bound", space, 40, 2, "process")[0])
        bare_one.append(_bare(1, 40))
        bare_two.append(_bare(2, 40))
    t1, t2 = statistics.median(one), statistics.median(two)
    b1, b2 = statistics.median(bare_one), statistics.median(bare_two)
    return {"trials": 40, "seconds_1_worker": one, "seconds_2_workers": two,
            "per_trial_1_worker": t1 / 40, "speedup_2_vs_1": t1 / t2,
            "bare_processes_seconds_1": bare_one, "bare_processes_seconds_2": bare_two,
            "hardware_ceiling_2_vs_1": b1 / b2, "parabo_share_of_ceiling": (t1 / t2) / (b1 / b2)}


def throughput(trials: int = 2000) -> dict:
    space = {"x": {"type": "float", "low": -5, "high": 10}}
    out = {}
    for backend, workers in (("thread", 2), ("process", 2)):
        elapsed, study = timed_run("objectives:trivial", space, trials, workers, backend)
        assert study.n_complete == trials
        out[backend] = {"trials": trials, "workers": workers, "seconds": elapsed, "trials_per_s": trials / elapsed}
    return out


def idle(trials: int = 200, workers: int = 8) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    durations = rng.uniform(0.05, 0.5, trials).round(4)
    study_space = {"seconds": {"type": "float", "low": 0.05, "high": 0.5}}
    with tempfile.TemporaryDirectory() as tmp:
        study = Study(study_space, sampler="random", seed=0, storage=Path(tmp) / "s")
        for d in durations:
            study.enqueue({"seconds": float(d)})
        ex = make_executor("process", PythonObjective("objectives:sleeper", paths=(str(HERE),)), workers)
        time.sleep(2.0)  # let the workers start
        Scheduler(study, ex, trials=trials, handle_signals=False).run()
        ex.close()
        ts = study.trials
        study.close()
    start = min(t.started_at for t in ts)
    end = max(t.finished_at for t in ts)
    busy = sum(t.finished_at - t.started_at for t in ts)
    # idle between trials: for each worker, gaps between one trial's end and its next trial's start,
    # up to the moment the last trial was asked (after that there is no work left to hand out)
    by_worker: dict[str, list] = {}
    for t in ts:
        by_worker.setdefault(t.worker, []).append(t)
    last_start = max(t.started_at for t in ts)
    gaps = []
    for runs in by_worker.values():
        runs.sort(key=lambda t: t.started_at)
        for a, b in zip(runs, runs[1:], strict=False):
            gaps.append(b.started_at - a.finished_at)
    wall = end - start
    return {
        "trials": trials, "workers": workers, "durations": "uniform(0.05 s, 0.5 s), 10x spread",
        "wall_clock_s": wall, "busy_share": busy / (workers * wall),
        "idle_between_trials_share": sum(gaps) / (workers * (last_start - start)),
        "median_gap_ms": 1000 * statistics.median(gaps), "max_gap_ms": 1000 * max(gaps),
        "ideal_wall_clock_s": float(durations.sum()) / workers,
    }


def main() -> None:
    which = sys.argv[1:] or ["speedup", "throughput", "idle"]
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "core.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    for name in which:
        t0 = time.time()
        results[name] = globals()[name]()
        results[name]["measured_at"] = time.strftime("%Y-%m-%d %H:%M")
        print(name, json.dumps(results[name], indent=1), f"({time.time() - t0:.0f} s)", flush=True)
    results["parabo_version"] = parabo.__version__
    path.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
