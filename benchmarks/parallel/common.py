"""Shared pieces of the parallel benchmarks: problems, peer adapters, the simulated ask/tell driver.

Every optimizer — parabo through its unchanged Scheduler, the peers through
:func:`drive` — runs on :class:`parabo.executors.simulated.SimulatedExecutor`,
whose clock charges the coordinator's *real* time between two ``collect``
calls (ask, tell, bookkeeping). A slow ``ask`` therefore costs simulated
wall-clock and idles workers, the same for every library.
"""

from __future__ import annotations

# ruff: noqa: E402  (the thread settings below must precede the numpy import)
import os

# One BLAS/OpenMP thread per benchmark process unless the caller says otherwise (before numpy
# is imported). On the shared 2-core machine, multi-threaded BLAS spin-waits made every GP ask
# ~4x slower (hartmann6, 50 sequential trials, load ~9: 358-577 ms vs 80-150 ms per trial), and
# that real time is charged to the simulated clock. Applies to every library alike (torch too).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, os.environ.get("PARALLEL_BENCH_THREADS", "1"))

import argparse
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from parabo.executors.base import Task

sys.path.insert(0, str(Path(__file__).parent.parent / "gp"))
import problems as gp_problems  # the GP benchmarks' problems and their Optuna/skopt space mappings

from parabo.executors.simulated import SimulatedExecutor

# ---------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """A benchmark function. Float boxes give ``bounds`` and take an array; a mixed space
    (integers, log scales, categoricals) gives ``spec``, parabo's space, and takes the params."""

    name: str
    bounds: list[tuple[float, float]]
    optimum: float
    fn: Callable[[Any], float]
    spec: dict[str, dict[str, Any]] | None = None

    @property
    def names(self) -> list[str]:
        return list(self.spec) if self.spec else [f"x{i}" for i in range(len(self.bounds))]

    @property
    def space(self) -> dict[str, Any]:
        if self.spec:
            return self.spec
        return {n: {"type": "float", "low": lo, "high": hi} for n, (lo, hi) in zip(self.names, self.bounds, strict=False)}

    def __call__(self, params: Mapping[str, Any]) -> float:
        if self.spec:
            return float(self.fn({n: params[n] for n in self.names}))
        return float(self.fn(np.array([params[n] for n in self.names], dtype=float)))


def _branin(x: np.ndarray) -> float:
    a, b, c, r, s, t = 1, 5.1 / (4 * math.pi**2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * math.cos(x[0]) + s


_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def _hartmann(a: np.ndarray, p: np.ndarray) -> Callable[[np.ndarray], float]:
    return lambda x: float(-np.sum(_ALPHA * np.exp(-np.sum(a * (x - p) ** 2, axis=1))))


def _gp_problem(name: str) -> Problem:
    """A problem of the GP benchmarks (``benchmarks/gp/problems.py``), same function and space."""
    p = gp_problems.PROBLEMS[name]
    names = list(p.space)
    bounds = [(float(s.get("low", 0)), float(s.get("high", 0))) for s in p.space.values()]
    optimum = 0.0 if p.fstar is None else float(p.fstar)  # the sklearn tasks: a CV error, 0 at best
    if all(s["type"] == "float" and not s.get("log") for s in p.space.values()):
        return Problem(name, bounds, optimum, lambda x: float(p.f(dict(zip(names, x.tolist(), strict=True)))))
    return Problem(name, bounds, optimum, p.f, spec=dict(p.space))


PROBLEMS = {
    "branin": Problem("branin", [(-5.0, 10.0), (0.0, 15.0)], 0.397887, _branin),
    "hartmann3": Problem("hartmann3", [(0.0, 1.0)] * 3, -3.86278, _hartmann(_H3_A, _H3_P)),
    "hartmann6": Problem("hartmann6", [(0.0, 1.0)] * 6, -3.32237, _hartmann(_H6_A, _H6_P)),
}
for _name in ("ackley5", "rosenbrock4", "levy10", "styblinski8", "mixed", "svm_digits", "gbm_cancer", "mlp_wine"):
    PROBLEMS[_name] = _gp_problem(_name)

# ---------------------------------------------------------------- peer adapters (ask/tell)


class OptunaAdapter:
    """Optuna's ask/tell; ``kind`` is ``tpe`` (constant liar) or ``gp`` (GPSampler)."""

    def __init__(self, problem: Problem, kind: str, seed: int) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if kind == "tpe":
            sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True)
        else:
            sampler = optuna.samplers.GPSampler(seed=seed)
        self.study = optuna.create_study(sampler=sampler)
        self.space = problem.space

    def ask(self, n: int) -> list[tuple[Any, dict[str, Any]]]:
        out = []
        for _ in range(n):
            trial = self.study.ask()
            out.append((trial, gp_problems.optuna_params(trial, self.space)))
        return out

    def tell(self, handle: Any, value: float) -> None:
        self.study.tell(handle, value)


class SkoptAdapter:
    """scikit-optimize's GP with constant-liar batches (``ask(n_points, strategy='cl_min')``)."""

    def __init__(self, problem: Problem, seed: int) -> None:
        from skopt import Optimizer

        self.names = problem.names
        self.opt = Optimizer(gp_problems.skopt_dimensions(problem.space), base_estimator="GP",
                             n_initial_points=max(5, 2 * len(problem.bounds)), random_state=seed, acq_func="EI")

    def ask(self, n: int) -> list[tuple[Any, dict[str, Any]]]:
        xs = self.opt.ask(n_points=n, strategy="cl_min") if n > 1 else [self.opt.ask()]
        return [(list(x), gp_problems.skopt_params(self.names, list(x))) for x in xs]

    def tell(self, handle: Any, value: float) -> None:
        self.opt.tell(handle, value)

    def tell_many(self, pairs: list[tuple[Any, float]]) -> None:
        self.opt.tell([h for h, _ in pairs], [v for _, v in pairs])


@dataclass
class DriveResult:
    curve: list[tuple[float, float]]  # (simulated time, best so far)
    elapsed: float
    trials: int
    utilization: float
    coordinator_time: float
    truncated: bool


def drive(adapter: Any, problem: Problem, workers: int, runtime: str, seed: int, max_trials: int,
          target: float, batch: bool = False, real_limit: float = 300.0,
          overhead: float | None = None) -> DriveResult:
    """Run an ask/tell optimizer on the simulator until ``target`` or ``max_trials`` (async or batches)."""
    ex = SimulatedExecutor(problem, workers, runtime=runtime, seed=seed, overhead=overhead)
    inflight: dict[int, Any] = {}
    told: list[tuple[Any, float]] = []
    done, tid, best = 0, 0, math.inf
    curve: list[tuple[float, float]] = []
    wall = time.perf_counter()
    truncated = False
    while True:
        if time.perf_counter() - wall > real_limit:
            truncated = True
            break
        if best > target and done + len(inflight) < max_trials and not (batch and inflight):
            n = min(workers - len(inflight), max_trials - done - len(inflight))
            if n > 0:
                for handle, params in adapter.ask(n):
                    ex.submit(Task(tid, params))
                    inflight[tid] = handle
                    tid += 1
        if not inflight or best <= target:
            break
        for o in ex.collect(None):
            handle = inflight.pop(o.trial_id)
            value = float(o.result)
            done += 1
            if batch and hasattr(adapter, "tell_many"):
                told.append((handle, value))
            else:
                adapter.tell(handle, value)
            if value < best:
                best = value
                curve.append((o.finished_at - ex.started_at, best))
        if told and not inflight:
            adapter.tell_many(told)
            told = []
    elapsed = ex.now() - ex.started_at
    return DriveResult(curve, elapsed, done, ex.utilization(), ex.coordinator_time, truncated)


def time_to(curve: list[tuple[float, float]], target: float) -> float | None:
    for t, v in curve:
        if v <= target:
            return t
    return None


def seed_range(text: str) -> range:
    """``FIRST-LAST`` (inclusive) as a range, for a script's seeds argument (argparse ``type=``)."""
    try:
        first, last = (int(x) for x in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FIRST-LAST such as 0-20, got {text!r}") from None
    if last < first:
        raise argparse.ArgumentTypeError(f"LAST must be >= FIRST, got {text!r}")
    return range(first, last + 1)
