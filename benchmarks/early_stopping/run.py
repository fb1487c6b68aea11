"""Early stopping: the compute and wall-clock it saves to reach a target, how busy the workers
stay, and how fast a decision travels.

    python3 benchmarks/early_stopping/run.py            # every part, 10 seeds
    python3 benchmarks/early_stopping/run.py --quick    # a smoke run: 3 seeds, synthetic only

compute   Problems with learning curves (``curves.py``: a synthetic family with a known optimum
          and crossing curves, SGD on digits trained epoch by epoch; MLP on digits with
          ``--problems``). Each method runs until it has spent ``100 * max`` steps (epochs) or
          reached the target, one trial at a time on the inline backend, so the compute of a
          run is exact: the steps its trials ran. The target of a problem is the median final
          best of parabo's GP without early stopping at 100 full-budget trials. The table gives
          the median steps to reach it (an unreached run counts as never), how many runs reached
          it, and the saving: the GP-without-early-stopping median over the method's median;
          the headline is the median saving over problems with a 95% bootstrap interval over
          seeds. Peers on the same harness through ask/tell: Optuna TPE with its MedianPruner
          and its HyperbandPruner.
wallclock The same problems on the simulated backend with 4 and 16 workers: a full-budget trial
          takes ``--trial-seconds`` (60) virtual seconds shared by its steps, the coordinator's
          real time is charged. Time to the same target, speed-up over the GP without early
          stopping at the same worker count, busy fraction. Peers (Optuna TPE + Hyperband or
          median, Syne Tune ASHA / BOHB / ASHA-BORE) on a step-level simulation of the same
          model (``common/stepsim.py``). One line per run in results/wallclock_runs.jsonl.
latency   A trial reports once and spins on ``should_prune()``; a rule stops every trial at its
          first report. The seconds from ``report`` to the stop being seen (report → coordinator
          → journal → rule → worker), per backend, with 1 and 4 workers (dask: a LocalCluster
          of its own on 127.0.0.1, that many worker processes of one thread).

Writes results/compute.{csv,md}, results/headline.md, results/wallclock.{csv,md},
results/wallclock_headline.md and results/latency.{csv,md}.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import one_blas_thread  # noqa: E402

one_blas_thread()

import numpy as np  # noqa: E402
from common.problems import optuna_params  # noqa: E402
from common.stats import bootstrap_headline, median_time, speedup, time_to  # noqa: E402
from common.tables import write_table  # noqa: E402
from curves import PROBLEMS, CurveProblem  # noqa: E402

import parabo  # noqa: E402
from parabo import EarlyStopping, Study  # noqa: E402
from parabo.executors import make_executor  # noqa: E402
from parabo.objectives import PythonObjective  # noqa: E402
from parabo.pruning import Rule, Stop  # noqa: E402
from parabo.run_options import StopRule  # noqa: E402
from parabo.scheduler import Scheduler  # noqa: E402

RESULTS = HERE / "results"
#: method -> (sampler, rule); the first is the reference that sets the target
PARABO_METHODS: dict[str, tuple[str, str]] = {
    "parabo-gp": ("gp", "none"),
    "parabo-random": ("random", "none"),
    "parabo-random-median": ("random", "median"),
    "parabo-random-asha": ("random", "asha"),
    "parabo-random-hyperband": ("random", "hyperband"),
    "parabo-gp-median": ("gp", "median"),
    "parabo-gp-asha": ("gp", "asha"),
    "parabo-gp-hyperband": ("gp", "hyperband"),
}
OPTUNA_METHODS = ("optuna-tpe-median", "optuna-tpe-hyperband")
Curve = list[tuple[float, float]]  # (steps spent, best full-budget value so far)


def _settings(rule: str, problem: CurveProblem, variant: str = "stopping") -> EarlyStopping | None:
    if rule == "none":
        return None
    if rule == "median":
        return EarlyStopping("median", resource="epoch")
    return EarlyStopping(rule, resource="epoch", min=1, max=problem.max, eta=3, variant=variant)


def _run_study(study: Study, executor: Any, listener: Any, settings: EarlyStopping | None) -> None:
    """Run a benchmark study until its listener stops it."""
    Scheduler(
        study,
        executor,
        stop=StopRule(10**7, max_failures=None),
        listener=listener,
        handle_signals=False,
        early_stopping=settings,
    ).run()


class _Budget:
    """A listener that adds up the steps of finished trials and stops the run at the budget."""

    def __init__(self, problem: CurveProblem, budget: float, target: float | None) -> None:
        self.problem, self.budget, self.target = problem, budget, target
        self.spent = 0.0
        self.best = math.inf
        self.curve: Curve = []

    def on_start(self, s: Scheduler) -> None: ...

    def on_tick(self, s: Scheduler) -> None: ...

    def on_stop(self, s: Scheduler, summary: Any) -> None: ...

    def on_trial(self, s: Scheduler, trial: parabo.Trial) -> None:
        self.spent += trial.step or 0.0
        if trial.state is parabo.TrialState.COMPLETE and trial.value is not None:
            self.best = min(self.best, trial.value)
        self.curve.append((self.spent, self.best))
        reached = self.target is not None and self.best <= self.target
        if self.spent >= self.budget or reached:
            s.request_stop(cancel=True)


def _objective(problem: CurveProblem) -> Callable[..., float]:
    def evaluate(params: dict[str, Any], trial: parabo.RunningTrial) -> float:
        step = problem.start(params)
        loss = math.inf
        for s in range(1, problem.max + 1):
            loss = step(s)
            trial.report(loss, step=s)
            if s < problem.max and trial.should_prune():
                raise parabo.TrialPruned()
        return loss

    return evaluate


def run_parabo(
    problem: CurveProblem, method: str, seed: int, budget: float, target: float | None
) -> Curve:
    sampler, rule = PARABO_METHODS[method]
    study = Study(problem.space, sampler=sampler, seed=seed, durability="batch")
    executor = make_executor("inline", PythonObjective(_objective(problem)), 1)
    listener = _Budget(problem, budget, target)
    _run_study(study, executor, listener, _settings(rule, problem))
    return listener.curve


def run_optuna(
    problem: CurveProblem, method: str, seed: int, budget: float, target: float | None
) -> Curve:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner: Any = (
        optuna.pruners.MedianPruner()
        if method.endswith("median")
        else optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=problem.max, reduction_factor=3
        )
    )
    study = optuna.create_study(
        sampler=optuna.samplers.TPESampler(seed=seed, multivariate=True), pruner=pruner
    )
    spent, best, curve = 0.0, math.inf, []
    while spent < budget and not (target is not None and best <= target):
        trial = study.ask()
        step = problem.start(optuna_params(trial, problem.space))
        for s in range(1, problem.max + 1):
            loss = step(s)
            spent += 1
            if s == problem.max:
                study.tell(trial, loss)
                best = min(best, loss)
                break
            trial.report(loss, s)
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        curve.append((spent, best))
    return curve


def steps_to(curve: Curve, target: float) -> float | None:
    for spent, best in curve:
        if best <= target:
            return spent
    return None


def compute(problems: list[str], methods: list[str], seeds: int) -> None:
    rows, runs = [], {}
    for name in problems:
        problem = PROBLEMS[name]
        budget = 100.0 * problem.max
        began = time.perf_counter()
        reference = [run_parabo(problem, "parabo-gp", s, budget, None) for s in range(seeds)]
        target = statistics.median(c[-1][1] for c in reference)
        ref_steps = [steps_to(c, target) for c in reference]
        print(f"{name}: target {target:.4g} ({time.perf_counter() - began:.0f} s)", flush=True)
        for method in methods:
            began = time.perf_counter()
            if method == "parabo-gp":
                got = ref_steps
            else:
                run = run_optuna if method in OPTUNA_METHODS else run_parabo
                got = [
                    steps_to(run(problem, method, s, budget, target), target) for s in range(seeds)
                ]
            med = median_time(got)
            saving = median_time(ref_steps) / med if math.isfinite(med) else 0.0
            runs.setdefault(method, {})[name] = (ref_steps, got)
            rows.append(
                {
                    "problem": name,
                    "method": method,
                    "median steps to target": med if math.isfinite(med) else None,
                    "reached": f"{sum(g is not None for g in got)}/{seeds}",
                    "saving vs parabo-gp": saving,
                }
            )
            print(f"  {method}: {rows[-1]} ({time.perf_counter() - began:.0f} s)", flush=True)
    print(write_table(rows, RESULTS / "compute"))
    lines = ["| method | median saving over problems | 95% interval |", "|---|---|---|"]
    for method, per in runs.items():
        if method == "parabo-gp":
            continue
        point, lo, hi = bootstrap_headline(per)
        lines.append(f"| {method} | {point:.2f}x | {lo:.2f}-{hi:.2f} |")
    text = "\n".join(lines) + "\n"
    (RESULTS / "headline.md").write_text(text)
    print(text)


# ---------------------------------------------------------------- wall-clock at 1, 4, 16 workers
#: method -> (sampler, rule, variant) for the wall-clock part; the first sets nothing (the
#: target comes from the compute reference) and is the baseline of the speed-ups
WALL_PARABO: dict[str, tuple[str, str, str]] = {
    "parabo-gp": ("gp", "none", "stopping"),
    "parabo-gp-asha": ("gp", "asha", "stopping"),
    "parabo-gp-asha-promotion": ("gp", "asha", "promotion"),
    "parabo-random-asha": ("random", "asha", "stopping"),
}


class _WallBudget:
    """Stops a simulated run at the target or once its workers spent ``budget`` steps; keeps
    (virtual time, best full-budget value) at each trial's end."""

    def __init__(self, executor: Any, step_seconds: float, budget: float, target: float | None):
        self.executor, self.step_seconds = executor, step_seconds
        self.budget, self.target = budget, target
        self.best = math.inf
        self.curve: Curve = []

    def on_start(self, s: Scheduler) -> None: ...

    def on_tick(self, s: Scheduler) -> None: ...

    def on_stop(self, s: Scheduler, summary: Any) -> None: ...

    def spent(self) -> float:
        ex = self.executor
        return ex.utilization() * (ex.now() - ex.started_at) * ex.workers / self.step_seconds

    def on_trial(self, s: Scheduler, trial: parabo.Trial) -> None:
        if trial.state is parabo.TrialState.COMPLETE and trial.value is not None:
            self.best = min(self.best, trial.value)
        self.curve.append((self.executor.now(), self.best))
        reached = self.target is not None and self.best <= self.target
        if reached or self.spent() >= self.budget:
            s.request_stop(cancel=True)


def _resumable(problem: CurveProblem) -> Callable[..., float]:
    """The curve objective for the promotion variant: runs to ``trial.budget``, and a promoted
    trial goes on from the step it paused at (its state kept in memory: the simulated backend
    runs trials in this process), as an objective with checkpoints would."""
    kept: dict[int, tuple[Any, int, float]] = {}

    def evaluate(params: dict[str, Any], trial: parabo.RunningTrial) -> float:
        budget = int(trial.budget or problem.max)
        step, done, loss = kept.get(trial.id, (problem.start(params), 0, math.inf))
        for s in range(done + 1, budget + 1):
            loss = step(s)
            trial.report(loss, step=s)
        kept[trial.id] = (step, max(done, budget), loss)
        return loss

    return evaluate


def run_parabo_wall(
    problem: CurveProblem,
    method: str,
    workers: int,
    seed: int,
    step_seconds: float,
    budget: float,
    target: float | None,
) -> dict[str, Any]:
    sampler, rule, variant = WALL_PARABO[method]
    study = Study(problem.space, sampler=sampler, seed=seed, durability="batch")
    objective = _resumable(problem) if variant == "promotion" else _objective(problem)
    executor = make_executor(
        "simulated", PythonObjective(objective), workers, runtime=step_seconds * problem.max
    )
    listener = _WallBudget(executor, step_seconds, budget, target)
    _run_study(study, executor, listener, _settings(rule, problem, variant))
    return {
        "curve": listener.curve,
        "busy": executor.utilization(),
        "trials": len(study.trials),
    }


def wallclock(
    problems: list[str],
    methods: list[str],
    seeds: int,
    workers: list[int],
    trial_seconds: float,
    append: bool,
    reference_trials: int = 300,
) -> None:
    """Run every (problem, workers, method, seed), one line each in results/wallclock_runs.jsonl
    (``append`` keeps the lines already there: runs split over processes), then the tables.

    Every method stops at the target or once its workers spent the compute of 100 full-budget
    trials; the baseline (parabo-gp) at 4 and 16 workers may go on to ``reference_trials``, so
    that its own time to the target is measured rather than cut off."""
    RESULTS.mkdir(exist_ok=True)
    raw = RESULTS / "wallclock_runs.jsonl"
    if not append:
        raw.write_text("")
    for name in problems:
        problem = PROBLEMS[name]
        step_seconds = trial_seconds / problem.max
        budget = 100.0 * problem.max
        began = time.perf_counter()
        # the target: the median final best of the GP without early stopping, 100 full trials
        one = [
            run_parabo_wall(problem, "parabo-gp", 1, s, step_seconds, budget, None)
            for s in range(seeds)
        ]
        target = statistics.median(r["curve"][-1][1] for r in one)
        print(f"{name}: target {target:.4g} ({time.perf_counter() - began:.0f} s)", flush=True)
        for n in workers:
            for method in ["parabo-gp", *[m for m in methods if m != "parabo-gp"]]:
                began = time.perf_counter()
                for seed in range(seeds):
                    if method == "parabo-gp" and n == 1:
                        r = one[seed]
                    elif method.startswith(("optuna-", "syne-")):
                        from common.stepsim import simulate_peer

                        r = simulate_peer(method, problem, n, seed, step_seconds, budget, target)
                        r["curve"] = [(t, best) for t, _, best in r["curve"]]
                    else:
                        spend = reference_trials * problem.max if method == "parabo-gp" else budget
                        r = run_parabo_wall(problem, method, n, seed, step_seconds, spend, target)
                    line = {
                        "problem": name,
                        "workers": n,
                        "method": method,
                        "seed": seed,
                        "target": target,
                        "seconds": time_to(r["curve"], target),
                        "curve": _improvements(r["curve"]),
                        "busy": r["busy"],
                        "trials": r["trials"],
                    }
                    with raw.open("a") as f:
                        f.write(json.dumps(line) + "\n")
                print(f"  {name} {n} {method} ({time.perf_counter() - began:.0f} s)", flush=True)
    wallclock_tables(trial_seconds)


def _improvements(curve: Curve) -> list[tuple[float, float]]:
    """The points of a best-so-far curve where it improves (the rest repeat them)."""
    out: list[tuple[float, float]] = []
    for t, best in curve:
        if math.isfinite(best) and (not out or best < out[-1][1]):
            out.append((round(t, 3), best))
    return out


def best_at(curve: list[list[float]], t: float) -> float:
    """The best full-budget value reached by time ``t`` (infinite before any)."""
    return min((b for at, b in curve if at <= t), default=math.inf)


def _median_interval(values: list[float], draws: int = 2000) -> tuple[float, float, float]:
    """The median of ``values`` and a 95% bootstrap interval of it (over seeds)."""
    rng = np.random.default_rng(0)
    a = np.array(values)
    meds = np.median(a[rng.integers(0, len(a), (draws, len(a)))], axis=1)
    lo, hi = np.percentile(meds, [2.5, 97.5])
    return float(np.median(a)), float(lo), float(hi)


def wallclock_tables(trial_seconds: float = 60.0) -> None:
    """The wall-clock table and headline from every line of results/wallclock_runs.jsonl."""
    text = (RESULTS / "wallclock_runs.jsonl").read_text()
    # a run appended twice (the baseline runs in every process) counts once: the last one
    last = {
        (x["problem"], x["workers"], x["method"], x["seed"]): x
        for x in map(json.loads, text.splitlines())
    }
    by: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for line in last.values():
        by.setdefault((line["problem"], line["workers"], line["method"]), []).append(line)
    rows, runs = [], {}
    for (name, n, method), got in sorted(by.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        reference = [g["seconds"] for g in by.get((name, n, "parabo-gp"), [])]
        times = [g["seconds"] for g in got]
        runs.setdefault((method, n), {})[name] = (reference, times)
        med = median_time(times)
        rows.append(
            {
                "problem": name,
                "workers": n,
                "method": method,
                "median s to target": med if math.isfinite(med) else None,
                "reached": f"{sum(t is not None for t in times)}/{len(times)}",
                "speed-up vs parabo-gp": speedup(reference, times) if reference else None,
                "busy %": 100 * statistics.median(g["busy"] for g in got),
                "median best at T": statistics.median(
                    best_at(g["curve"], 100 * trial_seconds / n) for g in got
                ),
                "trials": statistics.median(g["trials"] for g in got),
            }
        )
    print(write_table(rows, RESULTS / "wallclock"))
    head = [
        "| method | workers | median speed-up over problems | 95% interval |",
        "|---|---|---|---|",
    ]
    for (method, n), per in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if method != "parabo-gp" and all(ref for ref, _ in per.values()):
            with np.errstate(invalid="ignore"):
                point, lo, hi = bootstrap_headline(per)
            hi = math.inf if math.isnan(hi) else hi  # draws where only the method got there
            head.append(f"| {method} | {n} | {point:.2f}x | {lo:.2f}-{hi:.2f} |")
    # the peers: each method's best by T (the time of 100 full-budget trials on the workers)
    head += [
        "",
        "| problem | workers | method | median best at T | 95% interval |",
        "|---|---|---|---|---|",
    ]
    for (name, n, method), got in sorted(by.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        at = [best_at(g["curve"], 100 * trial_seconds / n) for g in got]
        point, lo, hi = _median_interval(at)
        head.append(f"| {name} | {n} | {method} | {point:.4g} | {lo:.4g}-{hi:.4g} |")
    table = "\n".join(head) + "\n"
    (RESULTS / "wallclock_headline.md").write_text(table)
    print(table)


class _StopAll(Rule):
    name = "stop-all"

    def report(self, trial: int, step: float, value: float) -> list[Stop]:
        return [Stop(trial, "stop-all: the latency benchmark stops every trial")]


def _latency_options(backend: str, workers: int) -> dict[str, Any]:
    """The backend's options: dask gets ``workers`` worker processes on 127.0.0.1."""
    if backend != "dask":
        return {}
    cluster = {"type": "local", "processes": True, "n_workers": workers, "threads_per_worker": 1}
    return {"cluster": {**cluster, "host": "127.0.0.1"}}


def latency(trials: int) -> None:
    rows = []
    for backend in ("inline", "thread", "process", "dask"):
        for workers in (1, 4):
            if backend == "inline" and workers > 1:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "latency.txt"
                os.environ["PARABO_LATENCY_FILE"] = str(out)
                objective = PythonObjective("curves:latency", paths=(str(HERE),))
                executor = make_executor(
                    backend, objective, workers, **_latency_options(backend, workers)
                )
                study = Study(
                    {"before": {"type": "float", "low": 0.0, "high": 0.02}},
                    sampler="random",
                    seed=0,
                    storage=Path(tmp) / "s",
                )
                Scheduler(
                    study,
                    executor,
                    stop=StopRule(trials),
                    handle_signals=False,
                    early_stopping=_StopAll(),
                ).run()
                study.close()
                seconds = sorted(float(x) for x in out.read_text().split())
            if study.n_pruned != trials:
                raise SystemExit(f"{backend}: {study.n_pruned} of {trials} trials pruned")
            p90 = seconds[min(len(seconds) - 1, int(0.9 * len(seconds)))]
            rows.append(
                {
                    "backend": backend,
                    "workers": workers,
                    "trials": trials,
                    "median ms": 1000 * statistics.median(seconds),
                    "p90 ms": 1000 * p90,
                    "max ms": 1000 * seconds[-1],
                }
            )
            print(rows[-1], flush=True)
    print(write_table(rows, RESULTS / "latency"))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--part", choices=["compute", "wallclock", "latency", "all"], default="all")
    ap.add_argument(
        "--workers",
        default="4,16",
        help="wall-clock: comma-separated (one worker: the compute part, a step a step)",
    )
    ap.add_argument(
        "--trial-seconds",
        type=float,
        default=60.0,
        help="wall-clock: simulated seconds of a full-budget trial (the steps share it evenly)",
    )
    ap.add_argument("--seeds", type=int, default=10, help="seeds per method and problem")
    ap.add_argument(
        "--problems",
        default="synthetic,sgd_digits",
        help=f"comma-separated, of {', '.join(PROBLEMS)}",
    )
    ap.add_argument(
        "--methods",
        default=",".join([*PARABO_METHODS, *OPTUNA_METHODS]),
        help="comma-separated methods (parabo-gp is always run: it sets the target)",
    )
    ap.add_argument(
        "--wall-methods",
        default="parabo-gp,parabo-gp-asha,parabo-gp-asha-promotion,parabo-random-asha,"
        "optuna-tpe-hyperband,syne-asha,syne-bohb",
        help="wall-clock: comma-separated methods (parabo-gp is always run: the baseline)",
    )
    ap.add_argument(
        "--append",
        action="store_true",
        help="wall-clock: keep the runs already in results/wallclock_runs.jsonl (split a run "
        "over processes, one problem or worker count each)",
    )
    ap.add_argument(
        "--reference",
        type=int,
        default=300,
        help="wall-clock: full-budget trials the baseline may run at 4 and 16 workers",
    )
    ap.add_argument("--latency-trials", type=int, default=200)
    ap.add_argument(
        "--quick", action="store_true", help="3 seeds, synthetic only, 40 latency trials"
    )
    args = ap.parse_args()
    seeds, problems, trials = args.seeds, args.problems.split(","), args.latency_trials
    if args.quick:
        seeds, problems, trials = 3, ["synthetic"], 40
    for p in problems:
        if p not in PROBLEMS:
            raise SystemExit(f"unknown problem {p!r}; use {', '.join(PROBLEMS)}")
    if args.part in ("latency", "all"):
        latency(trials)
    if args.part in ("compute", "all"):
        compute(problems, args.methods.split(","), seeds)
    if args.part in ("wallclock", "all"):
        methods = args.wall_methods.split(",")
        workers = [int(w) for w in args.workers.split(",")]
        wallclock(
            problems, methods, seeds, workers, args.trial_seconds, args.append, args.reference
        )


if __name__ == "__main__":
    main()
