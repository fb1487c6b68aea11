"""The peers behind one ask/tell surface, and the simulated driver that runs them in parallel.

Every peer is an object with ``ask(n) -> [(handle, params), ...]`` and
``tell(handle, value)``; the handle is what the peer needs back with the value.

- ``random``: Optuna's RandomSampler.
- ``optuna-tpe``: Optuna TPE, multivariate, constant liar for trials in flight.
- ``optuna-gp``: Optuna's GPSampler (it ignores trials in flight).
- ``skopt``: scikit-optimize's GP (``Optimizer``, EI); ``ask(n > 1)`` is its constant-liar batch
  (``strategy="cl_min"``), told together (:meth:`SkoptPeer.tell_many`).

:func:`drive` runs a peer on :class:`parabo.executors.simulated.SimulatedExecutor`, whose clock
charges the coordinator's real time between two ``collect`` calls, as the parallel question runs
parabo through its own scheduler on the same executor.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from common.problems import Problem, optuna_params, skopt_dimensions, skopt_params

PEERS = ("random", "optuna-tpe", "optuna-gp", "skopt")


class OptunaPeer:
    """Optuna's ask/tell with one of its samplers (``random``, ``tpe`` or ``gp``)."""

    def __init__(self, problem: Problem, kind: str, seed: int) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if kind == "tpe":
            sampler: Any = optuna.samplers.TPESampler(
                seed=seed, multivariate=True, constant_liar=True
            )
        elif kind == "random":
            sampler = optuna.samplers.RandomSampler(seed=seed)
        else:
            sampler = optuna.samplers.GPSampler(seed=seed)
        self.study = optuna.create_study(sampler=sampler)
        self.space = problem.space

    def ask(self, n: int) -> list[tuple[Any, dict[str, Any]]]:
        out = []
        for _ in range(n):
            trial = self.study.ask()
            out.append((trial, optuna_params(trial, self.space)))
        return out

    def tell(self, handle: Any, value: float) -> None:
        self.study.tell(handle, value)


class SkoptPeer:
    """scikit-optimize's GP with EI; batches are constant-liar (``cl_min``)."""

    def __init__(self, problem: Problem, seed: int) -> None:
        from skopt import Optimizer

        self.names = list(problem.space)
        self.opt = Optimizer(
            skopt_dimensions(problem.space),
            base_estimator="GP",
            n_initial_points=10,
            random_state=seed,
            acq_func="EI",
        )

    def ask(self, n: int) -> list[tuple[Any, dict[str, Any]]]:
        xs = self.opt.ask(n_points=n, strategy="cl_min") if n > 1 else [self.opt.ask()]
        return [(list(x), skopt_params(self.names, list(x))) for x in xs]

    def tell(self, handle: Any, value: float) -> None:
        self.opt.tell(handle, value)

    def tell_many(self, pairs: list[tuple[Any, float]]) -> None:
        self.opt.tell([h for h, _ in pairs], [v for _, v in pairs])


def make_peer(name: str, problem: Problem, seed: int) -> Any:
    """The peer called ``name`` (one of :data:`PEERS`) on ``problem``."""
    if name == "skopt":
        return SkoptPeer(problem, seed)
    if name in ("random", "optuna-tpe", "optuna-gp"):
        return OptunaPeer(problem, name.removeprefix("optuna-"), seed)
    raise SystemExit(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")


@dataclass(frozen=True)
class DriveResult:
    """One simulated run: the best-so-far curve against simulated time, and how busy it was."""

    curve: list[tuple[float, float]]  # (simulated seconds, best value so far)
    elapsed: float
    trials: int
    utilization: float
    truncated: bool


def drive(
    peer: Any,
    problem: Problem,
    workers: int,
    runtime: str,
    seed: int,
    max_trials: int,
    target: float,
    batch: bool = False,
    real_limit: float = 300.0,
) -> DriveResult:
    """Run a peer on ``workers`` simulated workers until ``target`` or ``max_trials``.

    Asynchronous (a free worker gets a new suggestion at once) unless ``batch``, where the
    next batch is asked only when the whole previous one has finished.
    """
    from parabo.executors.base import Task
    from parabo.executors.simulated import SimulatedExecutor

    ex = SimulatedExecutor(problem, workers, runtime=runtime, seed=seed)
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
                for handle, params in peer.ask(n):
                    ex.submit(Task(tid, params))
                    inflight[tid] = handle
                    tid += 1
        if not inflight or best <= target:
            break
        for o in ex.collect(None):
            handle = inflight.pop(o.trial_id)
            value = float(o.result)
            done += 1
            if batch and hasattr(peer, "tell_many"):
                told.append((handle, value))
            else:
                peer.tell(handle, value)
            if value < best:
                best = value
                curve.append((o.finished_at - ex.started_at, best))
        if told and not inflight:
            peer.tell_many(told)
            told = []
    elapsed = ex.now() - ex.started_at
    return DriveResult(curve, elapsed, done, ex.utilization(), truncated)
