"""Dashboard refresh cost on a large study: time per refresh and memory, 20,000 trials by default.

    python3 benchmarks/dashboard/run.py

A study of ``--trials`` trials (4 parameters, 16 workers, 3% failed, times made up so that the
timeline is a real one) is written to a temporary folder with parabo's own Study (journal
fsynced once per block). Then, in this process, as the dashboard server does:

open        ``Dashboard(folder)``: the first read of the whole journal (once per server).
idle        a poll when nothing was appended: the page's ``/data.json?since=VERSION`` (read
            the journal's tail, find nothing, answer "unchanged").
grown       a poll after ``--new`` more trials were appended by the study: read only the new
            lines, rebuild every figure and the JSON payload (the importance fit, on a sample
            of 300 trials, runs on a thread of its own at most every 10 s and is not in it).
            Also the time of each figure kind on its own.
memory      the peak of Python allocations while opening (tracemalloc) and the process's peak
            resident size at the end.
browser     with --browser: a real ``parabo dashboard`` process and headless Chromium (Debian's
            chromium): the first page drawn, and from appending ``--new`` trials to the page
            having drawn every view of them (the page's 1 s poll included).

Writes results/refresh.md, results/refresh.csv and results/notes.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common.tables import write_table  # noqa: E402

from parabo import Study  # noqa: E402
from parabo.dashboard import Dashboard  # noqa: E402
from parabo.view import StudyView  # noqa: E402

RESULTS = HERE / "results"
SPACE = {
    "x": {"type": "float", "low": -5, "high": 10},
    "lr": {"type": "float", "low": 1e-5, "high": 0.1, "log": True},
    "layers": {"type": "int", "low": 1, "high": 4},
    "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
}


def _value(p: dict) -> float:
    import math

    return (p["x"] - 2) ** 2 / 10 + (math.log10(p["lr"]) + 2.5) ** 2 + 0.3 * abs(p["layers"] - 3)


def add_trials(study: Study, n: int, workers: int, clock: list[float]) -> None:
    """``n`` finished trials, spread over ``workers`` workers; every 33rd fails."""
    import random

    rng = random.Random(len(study.trials))
    with study.batched():
        for _ in range(n):
            trial = study.ask()
            start = clock[0]
            end = start + rng.uniform(0.5, 2.0)
            clock[0] += 1.25 / workers
            worker = f"process-{trial.id % workers + 1}"
            if trial.id % 33 == 5:
                study.tell(trial, error="boom", started_at=start, finished_at=end, worker=worker)
            else:
                study.tell(
                    trial, _value(trial.params), started_at=start, finished_at=end, worker=worker
                )


def timed(fn, repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def browser_latency(folder: Path, study: Study, args: argparse.Namespace, clock: list[float]):  # type: ignore[no-untyped-def]
    """A real `parabo dashboard` and headless Chromium: time to the first full page, and from
    appending ``--new`` trials to the page having drawn them (its poll interval included)."""
    import os
    import shutil
    import subprocess

    from playwright.sync_api import sync_playwright

    binary = shutil.which("chromium")
    if binary is None:
        raise SystemExit("--browser needs Debian's chromium (apt-get install chromium)")
    proc = subprocess.Popen(
        [sys.executable, "-m", "parabo.cli", "dashboard", str(folder), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert proc.stdout is not None
        line = next(line for line in proc.stdout if "http://" in line)
        url = line.split(" at ", 1)[1].split()[0]
        shown = "Number(document.body.dataset.shownTrials || 0)"
        with sync_playwright() as pw:
            chrome = pw.chromium.launch(
                executable_path=binary, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            page = chrome.new_page()
            t = time.perf_counter()
            page.goto(url)
            page.wait_for_function(f"{shown} >= {len(study.trials)}", timeout=600_000)
            first = time.perf_counter() - t
            latencies = []
            for _ in range(args.repeats):
                want = len(study.trials) + args.new
                t = time.perf_counter()
                add_trials(study, args.new, args.workers, clock)
                page.wait_for_function(f"{shown} >= {want}", timeout=600_000)
                latencies.append(time.perf_counter() - t)
            chrome.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return first, latencies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--trials", type=int, default=20_000, help="trials in the study (20000)")
    ap.add_argument("--workers", type=int, default=16, help="workers of the made-up timeline (16)")
    ap.add_argument(
        "--new", type=int, default=16, help="trials appended before each grown poll (16)"
    )
    ap.add_argument("--repeats", type=int, default=5, help="polls of each kind measured (5)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    ap.add_argument(
        "--browser",
        action="store_true",
        help="also measure a real `parabo dashboard` in headless Chromium (Debian's chromium)",
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "big"
        study = Study(SPACE, sampler="random", seed=0, storage=folder, durability="batch")
        clock = [1_000_000.0]
        t = time.perf_counter()
        add_trials(study, args.trials, args.workers, clock)
        written = time.perf_counter() - t
        size = (folder / "journal.jsonl").stat().st_size
        print(f"wrote {args.trials} trials ({size / 1e6:.1f} MB of journal) in {written:.1f} s")

        gc.collect()
        tracemalloc.start()
        StudyView(folder)
        _, open_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gc.collect()
        t = time.perf_counter()
        board = Dashboard(folder)
        open_s = time.perf_counter() - t

        first = timed(lambda: board.data(), 1)[0]  # the first page load: every figure
        t = time.perf_counter()
        board.wait_for_importance()  # on its own thread: no poll waits for it
        importance_s = time.perf_counter() - t + 0.0
        version = json.loads(board.data())["version"]
        idle = timed(lambda: board.data(since=version), args.repeats * 4)

        grown, refresh_only, payload = [], [], 0
        for _ in range(args.repeats):
            add_trials(study, args.new, args.workers, clock)
            t = time.perf_counter()
            body = board.data()
            grown.append(time.perf_counter() - t)
            payload = len(body)
            # the incremental read on its own, for the next batch
            add_trials(study, args.new, args.workers, clock)
            view_t = time.perf_counter()
            board.view.refresh()
            refresh_only.append(time.perf_counter() - view_t)
        browser = browser_latency(folder, study, args, clock) if args.browser else None
        study.close()

        # per figure kind, on the final snapshot
        import parabo.plot as plots

        snap = StudyView(folder).snapshot()
        per_kind = {
            kind: statistics.median(timed(lambda k=kind: plots.figure(snap, k), 3))
            for kind in plots.KINDS
        }
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB

    rows = [
        {"measure": "open (first read of the journal)", "median_ms": 1000 * open_s, "n": 1},
        {"measure": "first page load (every figure but importance)", "median_ms": 1000 * first, "n": 1},
        {"measure": "importance fit after it (its own thread)", "median_ms": 1000 * importance_s, "n": 1},
        {"measure": "idle poll (nothing appended)", "median_ms": 1000 * statistics.median(idle), "n": len(idle)},
        {"measure": f"poll after {args.new} new trials (read + rebuild)", "median_ms": 1000 * statistics.median(grown), "n": len(grown)},
        {"measure": f"incremental read of {args.new} new trials", "median_ms": 1000 * statistics.median(refresh_only), "n": len(refresh_only)},
    ] + [
        {"measure": f"figure: {kind}", "median_ms": 1000 * v, "n": 3} for kind, v in per_kind.items()
    ]  # fmt: skip
    if browser is not None:
        first_page, latencies = browser
        rows += [
            {"measure": "browser: first page drawn", "median_ms": 1000 * first_page, "n": 1},
            {"measure": f"browser: {args.new} new trials appended -> drawn", "median_ms": 1000 * statistics.median(latencies), "n": len(latencies)},
        ]  # fmt: skip
    for r in rows:
        r["median_ms"] = round(float(r["median_ms"]), 2)
    notes = [
        f"study: {args.trials} trials, {size / 1e6:.1f} MB of journal, {args.workers} workers",
        f"payload of a grown poll: {payload / 1e6:.2f} MB of JSON",
        f"peak Python allocations while opening: {open_peak / 2**20:.0f} MiB",
        f"peak resident size of the process: {peak_rss:.0f} MiB",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / "refresh")
    (args.out / "notes.md").write_text("".join(f"- {n}\n" for n in notes))
    for n in notes:
        print(n)
    for r in rows:
        print(f"{r['measure']:<50} {r['median_ms']:>10.2f} ms")


if __name__ == "__main__":
    main()
