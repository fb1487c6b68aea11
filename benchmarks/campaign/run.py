"""Campaign: how much sooner does a matrix of studies finish on one shared pool of workers?

    python3 benchmarks/campaign/run.py                  # 3 x 2 studies, 64 simulated workers
    python3 benchmarks/campaign/run.py --workers 16,64,256 --trials 200

Six studies (three problems times two samplers, 100 trials each) with heterogeneous trial
durations (lognormal, median 60 s, sigma 0.8), on the simulated backend with the coordinator's
real time charged to the clock: once as one campaign over one pool of workers, and once one
study after the other, each with all the workers. Also a 3 x 2 campaign of real 0.05-0.5 s
trials on 2 process workers. Records simulated wall-clock, the ratio, and how busy the workers
were while trials remained. Writes results/campaign.{csv,md}.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import BENCHMARKS  # noqa: E402
from common.options import int_list  # noqa: E402
from common.tables import write_table  # noqa: E402

from parabo.campaign import load_campaign_file  # noqa: E402
from parabo.campaign_run import run_campaign  # noqa: E402

RESULTS = HERE / "results"
TEMPLATE = """
name: template
space:
  x0: {type: float, low: -5, high: 10}
  x1: {type: float, low: 0, high: 15}
  problem: {type: fixed, value: "{problem}"}
  seconds: SECONDS
objective:
  python: common.objectives:matrix_problem
sampler: "{sampler}"
seed: 0
"""
CAMPAIGN = """
name: bench
study: template.yaml
matrix:
  problem: PROBLEMS
  sampler: SAMPLERS
per_study: {trials: TRIALS}
run: RUN
storage: STORAGE
"""


def campaign_file(
    tmp: Path, problems: str, samplers: str, trials: int, run: str, name: str, real: bool = False
) -> Path:
    # real trials sleep 0.05-0.5 s; simulated ones take their duration from the runtime model
    seconds = "{type: float, low: 0.05, high: 0.5}" if real else "{type: fixed, value: 0}"
    (tmp / "template.yaml").write_text(TEMPLATE.replace("SECONDS", seconds))
    path = tmp / f"{name}.yaml"
    path.write_text(
        CAMPAIGN.replace("PROBLEMS", problems)
        .replace("SAMPLERS", samplers)
        .replace("TRIALS", str(trials))
        .replace("RUN", run)
        .replace("STORAGE", name)
    )
    return path


def simulated(workers: int, trials: int, samplers: list[str]) -> dict[str, object]:
    problems = ["branin", "sphere", "rosenbrock"]
    run = f"{{workers: {workers}, backend: simulated, runtime: 'lognormal(60s, 0.8)'}}"
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        plist, slist = "[" + ", ".join(problems) + "]", "[" + ", ".join(samplers) + "]"
        together = run_campaign(
            load_campaign_file(campaign_file(t, plist, slist, trials, run, "all"))
        )
        apart, busy = 0.0, []
        for p in problems:
            for s in samplers:
                one = run_campaign(
                    load_campaign_file(
                        campaign_file(t, f"[{p}]", f"[{s}]", trials, run, f"{p}-{s}")
                    )
                )
                apart += one.elapsed
                busy.append(one.utilization or 0.0)
    return {
        "setting": f"simulated, {workers} workers",
        "studies": len(problems) * len(samplers),
        "trials_per_study": trials,
        "campaign_s": round(together.elapsed),
        "one_after_another_s": round(apart),
        "ratio": round(together.elapsed / apart, 3),
        "campaign_busy": round(together.utilization or 0.0, 4),
        "one_after_another_busy": round(sum(busy) / len(busy), 4),
    }


def processes(trials: int) -> dict[str, object]:
    run = "{workers: 2, backend: process}"
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        start = time.perf_counter()
        summary = run_campaign(
            load_campaign_file(
                campaign_file(
                    t, "[branin, sphere, rosenbrock]", "[random, sobol]", trials, run, "p", True
                )
            )
        )
        wall = time.perf_counter() - start
    return {
        "setting": "2 process workers, 0.05-0.5 s trials",
        "studies": 6,
        "trials_per_study": trials,
        "campaign_s": round(wall, 1),
        "one_after_another_s": None,
        "ratio": None,
        "campaign_busy": round(summary.utilization or 0.0, 4),
        "one_after_another_busy": None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--workers", type=int_list, default=[64], help="simulated workers (default 64)")
    ap.add_argument("--trials", type=int, default=100, help="trials per study (default 100)")
    ap.add_argument(
        "--samplers", default="gp,random", help="the matrix's samplers (default gp,random)"
    )
    ap.add_argument("--process-trials", type=int, default=10, help="per study on real processes")
    args = ap.parse_args()
    import os

    os.chdir(BENCHMARKS)  # so that "common.objectives:matrix_problem" imports in the workers
    rows = [simulated(n, args.trials, args.samplers.split(",")) for n in args.workers]
    for r in rows:
        print(r, flush=True)
    rows.append(processes(args.process_trials))
    print(rows[-1], flush=True)
    print(write_table(rows, RESULTS / "campaign"))


if __name__ == "__main__":
    main()
