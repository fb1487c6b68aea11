"""Processes: do N process workers give N times the speed on real CPU-bound trials?

    python3 benchmarks/processes/run.py                  # 1 and 2 workers, 20 trials
    python3 benchmarks/processes/run.py --workers 1,2,4,8,16 --trials 160   # a bigger machine

A pure-Python objective that holds the GIL (``common.objectives:burn``, ~0.2 s per trial)
on parabo's process backend, against Optuna's two ways of running in parallel on one machine:
``n_jobs`` (threads in one process) and N processes sharing a journal file. Random search
everywhere, so the figures measure the parallel machinery, not a sampler. Wall-clock includes
starting the workers. Writes results/processes.{csv,md}.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import BENCHMARKS  # noqa: E402
from common.options import int_list  # noqa: E402
from common.tables import write_table  # noqa: E402

RESULTS = HERE / "results"
SPACE = {"x": {"type": "float", "low": -1, "high": 1}, "y": {"type": "float", "low": -1, "high": 1}}

_SHARED_WORKER = """
import sys, optuna
sys.path.insert(0, {bench!r})
from common.objectives import burn
optuna.logging.set_verbosity(optuna.logging.WARNING)
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
storage = JournalStorage(JournalFileBackend({path!r}))
study = optuna.load_study(study_name="bench", storage=storage,
                          sampler=optuna.samplers.RandomSampler())
study.optimize(lambda t: burn({{"x": t.suggest_float("x", -1, 1),
                               "y": t.suggest_float("y", -1, 1)}}), n_trials={n})
"""


def parabo_process(workers: int, trials: int) -> float:
    import parabo

    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        parabo.minimize(
            "common.objectives:burn",
            SPACE,
            trials=trials,
            workers=workers,
            backend="process",
            sampler="random",
            seed=0,
            storage=Path(tmp) / "study",
        )
    return time.perf_counter() - t


def optuna_threads(workers: int, trials: int) -> float:
    import optuna
    from common.objectives import burn

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    t = time.perf_counter()
    study.optimize(
        lambda tr: burn({"x": tr.suggest_float("x", -1, 1), "y": tr.suggest_float("y", -1, 1)}),
        n_trials=trials,
        n_jobs=workers,
    )
    return time.perf_counter() - t


def optuna_processes(workers: int, trials: int) -> float:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "journal.log")
        optuna.create_study(study_name="bench", storage=JournalStorage(JournalFileBackend(path)))
        code = _SHARED_WORKER.format(bench=str(BENCHMARKS), path=path, n=trials // workers)
        t = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(workers)]
        if any(p.wait() for p in procs):
            raise SystemExit("an Optuna worker process failed")
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--workers", type=int_list, default=[1, 2])
    ap.add_argument("--trials", type=int, default=20)
    args = ap.parse_args()
    os.chdir(BENCHMARKS)  # so that "common.objectives:burn" imports in the workers
    rows = []
    base: dict[str, float] = {}
    for n in args.workers:
        for name, fn in (
            ("parabo, process backend", parabo_process),
            ("optuna, n_jobs threads", optuna_threads),
            ("optuna, N processes on a shared journal", optuna_processes),
        ):
            seconds = fn(n, args.trials)
            base.setdefault(name, seconds)  # the first worker count is the reference
            rows.append(
                {
                    "method": name,
                    "workers": n,
                    "trials": args.trials,
                    "seconds": round(seconds, 2),
                    "trials_per_s": round(args.trials / seconds, 2),
                    "speedup_vs_first": round(base[name] / seconds, 2),
                    "load_1min": round(os.getloadavg()[0], 1),
                }
            )
            print(rows[-1], flush=True)
    print(write_table(rows, RESULTS / "processes"))
    print(f"cpus: {os.cpu_count()}")


if __name__ == "__main__":
    main()
