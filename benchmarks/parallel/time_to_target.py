"""Time-to-target against simulated wall-clock, N = 1, 4, 16, 64 workers, heterogeneous durations.

For each problem, the sequential parabo GP run (``--budget`` trials, several
seeds) sets the target: its median final regret. Every method then runs with N
workers on the simulator until it reaches that regret (or ``2*budget + 2*N``
trials, or ``--real-limit`` seconds of real time), and we record the simulated
time it took. Results are appended as JSON lines, one per run.

    python benchmarks/parallel/time_to_target.py --problems branin,hartmann6 --seeds 3
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from common import PROBLEMS, OptunaAdapter, Problem, SkoptAdapter, drive, time_to  # noqa: E402

from parabo.executors.simulated import SimulatedExecutor  # noqa: E402
from parabo.samplers import make_sampler  # noqa: E402
from parabo.scheduler import Scheduler  # noqa: E402
from parabo.study import Study  # noqa: E402

RUNTIME = "lognormal(60s, 0.75)"
OVERHEAD: float | None = None  # --overhead: None charges the coordinator's real time, 0 is a free one


GP_OPTIONS: dict[str, Any] = {}  # --gp-option key=JSON, for the parabo runs


def gp_sampler(seed: int) -> tuple[Any, str]:
    """parabo's GP sampler, built by name through the registry (``sampler: gp``).

    An option ``attr.NAME`` sets an attribute after construction (how a throw-away patch reads
    its switch, as in ``benchmarks/gp/run.py``).
    """
    opts = {k: v for k, v in GP_OPTIONS.items() if not k.startswith("attr.")}
    sampler = make_sampler({"name": "gp", "seed": seed, **opts})
    for k, v in GP_OPTIONS.items():
        if k.startswith("attr."):
            setattr(sampler, k[5:], v)
    return sampler, "gp"


class _RealLimit:
    def __init__(self, limit: float) -> None:
        self.limit, self.t0, self.hit = limit, time.perf_counter(), False

    def on_start(self, s: Scheduler) -> None: ...
    def on_trial(self, s: Scheduler, t: Any) -> None: ...
    def on_stop(self, s: Scheduler, summary: Any) -> None: ...

    def on_tick(self, s: Scheduler) -> None:
        if not self.hit and time.perf_counter() - self.t0 > self.limit:
            self.hit = True
            s.request_stop()


def run_parabo(problem: Problem, sampler: str, workers: int, seed: int, max_trials: int,
               target: float | None, batch: bool, real_limit: float) -> dict[str, Any]:
    smp, used = gp_sampler(seed) if sampler == "gp" else (make_sampler(sampler, seed), sampler)
    study = Study(problem.space, sampler=smp)
    ex = SimulatedExecutor(problem, workers, runtime=RUNTIME, seed=seed, overhead=OVERHEAD)
    guard = _RealLimit(real_limit)
    summary = Scheduler(study, ex, trials=max_trials, target=target, batch=batch, listener=guard,
                        handle_signals=False).run()
    curve, best = [], math.inf
    for t in sorted(study.history, key=lambda t: t.finished_at):
        if t.value is not None and t.value < best:
            best = t.value
            curve.append((t.finished_at - ex.started_at, best))
    reached = time_to(curve, target) if target is not None else None
    # the Scheduler lets the trials in flight finish after the target is reached; utilization up to
    # the target is the figure comparable with the ask/tell peers, which stop at the target at once
    util_to = ex.utilization(until=ex.started_at + reached) if reached else None
    return {"sampler_used": used, "curve": curve, "elapsed": summary.elapsed, "trials": study.n_finished,
            "utilization": ex.utilization(), "utilization_to_target": util_to,
            "coordinator_time": ex.coordinator_time, "truncated": guard.hit}


def run_method(method: str, problem: Problem, workers: int, seed: int, max_trials: int, target: float | None,
               real_limit: float) -> dict[str, Any]:
    if method == "parabo-async":
        return run_parabo(problem, "gp", workers, seed, max_trials, target, False, real_limit)
    if method == "parabo-batch":
        return run_parabo(problem, "gp", workers, seed, max_trials, target, True, real_limit)
    if method == "random":
        return run_parabo(problem, "random", workers, seed, max_trials, target, False, real_limit)
    if method in ("optuna-tpe", "optuna-gp"):
        adapter: Any = OptunaAdapter(problem, method.split("-")[1], seed)
        batch = False
    elif method == "skopt-cl":
        adapter, batch = SkoptAdapter(problem, seed), True
    else:
        raise SystemExit(f"unknown method {method}")
    r = drive(adapter, problem, workers, RUNTIME, seed, max_trials, -math.inf if target is None else target,
              batch=batch, real_limit=real_limit, overhead=OVERHEAD)
    return {"sampler_used": method, "curve": r.curve, "elapsed": r.elapsed, "trials": r.trials,
            "utilization": r.utilization,
            "utilization_to_target": r.utilization if time_to(r.curve, target if target is not None else -math.inf)
            else None, "coordinator_time": r.coordinator_time, "truncated": r.truncated}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="branin,hartmann6")
    ap.add_argument("--methods", default="parabo-async,parabo-batch,random,optuna-tpe,optuna-gp,skopt-cl")
    ap.add_argument("--workers", default="1,4,16,64")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seed-start", type=int, default=0,
                    help="first seed of the parallel runs (the sequential ones, the target, use 0..)")
    ap.add_argument("--budget", default="branin=25,hartmann3=30,hartmann6=50,ackley5=100,"
                    "rosenbrock4=100,levy10=100,styblinski8=100,mixed=100,svm_digits=100,"
                    "gbm_cancer=100,mlp_wine=100")
    ap.add_argument("--real-limit", type=float, default=90.0)
    ap.add_argument("--skopt-max-workers", type=int, default=16)
    ap.add_argument("--reuse-sequential", action="store_true",
                    help="take the target from the sequential runs already in --out")
    ap.add_argument("--gp-option", action="append", default=[],
                    help="GP sampler option key=JSON for the parabo runs (sequential ones too)")
    ap.add_argument("--trial-limit", type=int, default=None,
                    help="trials a parallel run may use (default 2*budget + 2*N)")
    ap.add_argument("--overhead", type=float, default=None,
                    help="virtual seconds charged per trial for the coordinator instead of its real time "
                         "(0: a free coordinator, an upper bound on a slow sampler's speed whatever the load)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "time_to_target.jsonl"))
    args = ap.parse_args()
    global OVERHEAD
    OVERHEAD = args.overhead
    GP_OPTIONS.update({k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.gp_option)})
    budgets = dict((k, int(v)) for k, v in (p.split("=") for p in args.budget.split(",")))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    workers = [int(w) for w in args.workers.split(",")]
    for name in args.problems.split(","):
        problem, budget = PROBLEMS[name], budgets[name]
        # the sequential parabo run sets the target: its median final regret over seeds
        finals, seq = [], []
        if args.reuse_sequential and out.exists():
            old = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
            old = [r for r in old if r["problem"] == name and r["phase"] == "sequential"]
            if old:
                target_regret, target = old[0]["target_regret"], old[0]["target"]
        if not (args.reuse_sequential and out.exists() and old):
            for seed in range(args.seeds):
                t0 = time.perf_counter()
                r = run_parabo(problem, "gp", 1, seed, budget, None, False, 10 * args.real_limit)
                r.update(problem=name, method="parabo-async", workers=1, seed=seed, phase="sequential",
                         budget=budget, real_seconds=time.perf_counter() - t0)
                finals.append(r["curve"][-1][1] - problem.optimum)
                seq.append(r)
            target_regret = statistics.median(finals)
            target = problem.optimum + target_regret
            with out.open("a") as f:
                for r in seq:
                    r.update(target=target, target_regret=target_regret, time_to_target=time_to(r["curve"], target))
                    f.write(json.dumps(r) + "\n")
        print(f"{name}: target regret {target_regret:.4g}", flush=True)
        for method in args.methods.split(","):
            for n in workers:
                if method == "parabo-async" and n == 1:
                    continue  # the sequential runs above
                if method == "skopt-cl" and n > args.skopt_max_workers:
                    continue
                for seed in range(args.seed_start, args.seed_start + args.seeds):
                    t0 = time.perf_counter()
                    limit = 2 * budget + 2 * n if args.trial_limit is None else args.trial_limit
                    r = run_method(method, problem, n, seed, limit, target, args.real_limit)
                    r.update(problem=name, method=method, workers=n, seed=seed, phase="parallel", budget=budget,
                             target=target, target_regret=target_regret, time_to_target=time_to(r["curve"], target),
                             real_seconds=time.perf_counter() - t0)
                    if method.startswith("parabo") and GP_OPTIONS:
                        r["gp_options"] = GP_OPTIONS  # which variant made the row (--gp-option)
                    with out.open("a") as f:
                        f.write(json.dumps(r) + "\n")
                    print(f"{name} {method} N={n} seed={seed}: to target {r['time_to_target']} "
                          f"trials {r['trials']} util {r['utilization']:.2f} real {r['real_seconds']:.0f}s"
                          f"{' TRUNCATED' if r['truncated'] else ''}", flush=True)


if __name__ == "__main__":
    main()
