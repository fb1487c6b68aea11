"""Real processes: a CPU-bound Python objective, parabo's process executor vs Optuna n_jobs and shared storage.

    python benchmarks/parallel/real_processes.py --trials 40 --workers 1,2

Random search everywhere, so the numbers measure the parallel machinery, not the sampler.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

SPACE = {"x": {"type": "float", "low": -1, "high": 1}, "y": {"type": "float", "low": -1, "high": 1}}

_SHARED_WORKER = """
import sys, optuna
sys.path.insert(0, {here!r})
from cpu_objective import optuna_objective
optuna.logging.set_verbosity(optuna.logging.WARNING)
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
storage = JournalStorage(JournalFileBackend({path!r}))
study = optuna.load_study(study_name="bench", storage=storage, sampler=optuna.samplers.RandomSampler())
study.optimize(optuna_objective, n_trials={n})
"""


def parabo_run(workers: int, trials: int) -> float:
    import parabo

    t = time.perf_counter()
    parabo.minimize("cpu_objective:evaluate", SPACE, trials=trials, workers=workers, backend="process",
                    sampler="random", seed=0)
    return time.perf_counter() - t


def optuna_njobs(workers: int, trials: int) -> float:
    import optuna
    from cpu_objective import optuna_objective

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    t = time.perf_counter()
    study.optimize(optuna_objective, n_trials=trials, n_jobs=workers)
    return time.perf_counter() - t


def optuna_shared(workers: int, trials: int) -> float:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "journal.log")
        optuna.create_study(study_name="bench", storage=JournalStorage(JournalFileBackend(path)))
        code = _SHARED_WORKER.format(here=str(HERE), path=path, n=trials // workers)
        t = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(workers)]
        for p in procs:
            p.wait()
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--out", default=str(HERE / "results" / "real_processes.json"))
    args = ap.parse_args()
    os.chdir(HERE)  # so "cpu_objective:evaluate" imports in the workers
    rows = []
    for n in map(int, args.workers.split(",")):
        for name, fn in (("parabo process", parabo_run), ("optuna n_jobs", optuna_njobs),
                         ("optuna shared journal, N processes", optuna_shared)):
            seconds = fn(n, args.trials)
            rows.append({"method": name, "workers": n, "trials": args.trials, "seconds": seconds,
                         "trials_per_second": args.trials / seconds, "loadavg": os.getloadavg()[0]})
            print(f"{name:38s} N={n}: {seconds:6.1f}s  {args.trials / seconds:5.2f} trials/s "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    Path(args.out).write_text(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
