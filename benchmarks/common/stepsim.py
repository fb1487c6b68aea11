"""A step-level simulation of asynchronous workers driving a peer optimizer that stops early.

The model is that of parabo's simulated backend, so the numbers compare:

- A virtual clock and ``workers`` workers; a trial runs one step at a time on one worker, each
  step taking ``step_seconds`` virtual seconds. The step's own computation is never charged.
- One serial coordinator: the peer's real time (``time.perf_counter``) in ask, report and tell
  advances the virtual clock, and a worker whose step ended while it worked waits for it.
- A free worker asks the peer for a configuration. After each step the loss is reported at that
  step; if the peer stops the trial, it ends there (pruned) and its worker frees. At the full
  budget (``problem.max``) it completes; only full-budget values count towards the best.
- The run stops once the steps spent reach the budget or the best reaches the target; trials still
  running are dropped. ``busy`` is the worker time spent in steps over ``workers * end``.

Peers: Optuna's ask/tell with TPE and its Hyperband or median pruner, and Syne Tune's
stopping-type multi-fidelity schedulers (ASHA, BOHB, ASHA with BORE) driven through their
scheduler API, as its ``Tuner`` drives them. Syne Tune's ``ASHACQR`` is left out: it imports
``huggingface_hub``.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from common.problems import optuna_params

Step = Callable[[int], float]
Space = dict[str, dict[str, Any]]

_T = TypeVar("_T")
_METRIC, _RESOURCE = "loss", "step"
#: method -> Optuna pruner
_OPTUNA = {"optuna-tpe-hyperband": "hyperband", "optuna-tpe-median": "median"}
#: method -> Syne Tune baseline (a stopping-type asynchronous successive halving)
_SYNE = {"syne-asha": "ASHA", "syne-bohb": "BOHB", "syne-ashabore": "ASHABORE"}
PEER_METHODS: tuple[str, ...] = (*_OPTUNA, *_SYNE)


class CurveLike(Protocol):
    """What the simulation needs of a learning-curve problem (``curves.CurveProblem``)."""

    @property
    def space(self) -> Space: ...

    @property
    def max(self) -> int: ...

    @property
    def start(self) -> Callable[[dict[str, Any]], Step]: ...


class _Peer(Protocol):
    def ask(self) -> tuple[Any, dict[str, Any]]:
        """A new trial: the peer's handle for it and its parameters."""
        ...

    def tell(self, handle: Any, step: int, loss: float) -> bool:
        """The loss after ``step``; True when the trial ends there (stopped or complete)."""
        ...


class _OptunaPeer:
    """Optuna TPE (multivariate, constant liar with trials in flight) and a pruner, ask/tell."""

    def __init__(self, pruner: str, problem: CurveLike, workers: int, seed: int) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        self._space, self._max = problem.space, problem.max
        self._pruned = optuna.trial.TrialState.PRUNED
        self._study = optuna.create_study(
            study_name="stepsim",  # Hyperband's brackets hash the name: fixed for the seed to hold
            direction="minimize",
            sampler=optuna.samplers.TPESampler(
                seed=seed, multivariate=True, constant_liar=workers > 1
            ),
            pruner=(
                optuna.pruners.MedianPruner()
                if pruner == "median"
                else optuna.pruners.HyperbandPruner(
                    min_resource=1, max_resource=problem.max, reduction_factor=3
                )
            ),
        )

    def ask(self) -> tuple[Any, dict[str, Any]]:
        trial = self._study.ask()
        return trial, optuna_params(trial, self._space)

    def tell(self, handle: Any, step: int, loss: float) -> bool:
        if step == self._max:
            self._study.tell(handle, loss)
            return True
        handle.report(loss, step)
        if not handle.should_prune():
            return False
        self._study.tell(handle, state=self._pruned)
        return True


def syne_space(space: Space) -> dict[str, Any]:
    """Syne Tune's config space for a parabo space (log scales as log-uniform domains)."""
    from syne_tune.config_space import choice, lograndint, loguniform, randint, uniform

    def domain(s: dict[str, Any]) -> Any:
        if s["type"] == "float":
            return (loguniform if s.get("log") else uniform)(s["low"], s["high"])
        if s["type"] == "int":
            return (lograndint if s.get("log") else randint)(s["low"], s["high"])
        return choice(list(s["choices"]))

    return {name: domain(s) for name, s in space.items()}


class _SynePeer:
    """A Syne Tune scheduler, told every step as its ``Tuner`` would: a stop removes the trial."""

    def __init__(self, baseline: str, problem: CurveLike, seed: int) -> None:
        import numpy as np
        from syne_tune.optimizer import baselines

        logging.getLogger("syne_tune").setLevel(logging.ERROR)
        # 0.16 draws from numpy's global generator too (RandomSearcher, BORE's evolution, the
        # bracket of a new trial): without this the run is not repeatable from ``seed``
        np.random.seed(seed)
        self._scheduler = getattr(baselines, baseline)(
            config_space=syne_space(problem.space),
            metric=_METRIC,
            time_attr=_RESOURCE,
            max_t=problem.max,
            do_minimize=True,
            random_seed=seed,
            grace_period=1,
            reduction_factor=3,
        )
        self._ids = itertools.count()

    def ask(self) -> tuple[Any, dict[str, Any]]:
        from syne_tune.backend.trial_status import Trial

        config = self._scheduler.suggest().config  # a stopping scheduler only starts trials
        trial = Trial(trial_id=next(self._ids), config=config, creation_time=datetime.now())
        self._scheduler.on_trial_add(trial)
        return trial, dict(config)

    def tell(self, handle: Any, step: int, loss: float) -> bool:
        from syne_tune.optimizer.scheduler import SchedulerDecision

        decision = self._scheduler.on_trial_result(handle, {_METRIC: loss, _RESOURCE: step})
        if decision == SchedulerDecision.CONTINUE:
            return False
        self._scheduler.on_trial_remove(handle)  # STOP (also at max_t); PAUSE never comes
        return True


def _peer(method: str, problem: CurveLike, workers: int, seed: int) -> _Peer:
    if method in _OPTUNA:
        return _OptunaPeer(_OPTUNA[method], problem, workers, seed)
    if method in _SYNE:
        return _SynePeer(_SYNE[method], problem, seed)
    raise ValueError(f"unknown method {method!r}; one of {', '.join(PEER_METHODS)}")


@dataclass
class _Running:
    handle: Any
    step_fn: Step
    step: int = 0
    began: float = 0.0  # virtual time the current step started


class _Simulation:
    def __init__(
        self,
        peer: _Peer,
        problem: CurveLike,
        step_seconds: float,
        budget_steps: float,
        target: float | None,
    ) -> None:
        self.peer, self.problem, self.step_seconds = peer, problem, step_seconds
        self.budget_steps, self.target = budget_steps, target
        self.now, self.spent, self.busy, self.best = 0.0, 0, 0.0, math.inf
        self.curve: list[tuple[float, int, float]] = []
        self._events: list[tuple[float, int, _Running]] = []  # (step end, tie-break, trial)
        self._order = itertools.count()

    def done(self) -> bool:
        reached = self.target is not None and self.best <= self.target
        return self.spent >= self.budget_steps or reached

    def _charged(self, call: Callable[[], _T]) -> _T:
        """Run the coordinator's ``call``, charging its real time to the virtual clock."""
        began = time.perf_counter()
        out = call()
        self.now += time.perf_counter() - began
        return out

    def start_trial(self) -> None:
        handle, params = self._charged(self.peer.ask)
        self._next_step(_Running(handle, self.problem.start(params)))

    def _next_step(self, run: _Running) -> None:
        run.step, run.began = run.step + 1, self.now
        heapq.heappush(self._events, (self.now + self.step_seconds, next(self._order), run))

    def advance(self) -> None:
        """Handle the next step to end: report it, then end the trial or run its next step."""
        end, _, run = heapq.heappop(self._events)
        self.now = max(self.now, end)
        self.spent += 1
        self.busy += self.step_seconds
        loss = run.step_fn(run.step)
        told = self._charged(lambda: self.peer.tell(run.handle, run.step, loss))
        ended = told or run.step == self.problem.max
        if ended:
            if run.step == self.problem.max:
                self.best = min(self.best, loss)
            self.curve.append((self.now, self.spent, self.best))
        if self.done():
            return
        if ended:
            self.start_trial()
        else:
            self._next_step(run)

    def busy_fraction(self, workers: int) -> float:
        """Worker time in steps (the unfinished ones up to now) over ``workers * now``."""
        running = sum(min(self.now, end) - run.began for end, _, run in self._events)
        return (self.busy + running) / (workers * self.now)


def simulate_peer(
    method: str,
    problem: CurveLike,
    workers: int,
    seed: int,
    step_seconds: float,
    budget_steps: float,
    target: float | None,
) -> dict[str, Any]:
    """Returns {"curve": [(virtual_seconds, steps_spent, best_full_budget_value), ...] (one entry per trial that ended),
    "busy": busy worker-seconds / (workers * end time), "end": virtual end time, "trials": n}"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the peers' deprecation and experimental warnings
        sim = _Simulation(
            _peer(method, problem, workers, seed), problem, step_seconds, budget_steps, target
        )
        for _ in range(workers):
            sim.start_trial()
        while not sim.done():
            sim.advance()
    return {
        "curve": sim.curve,
        "busy": sim.busy_fraction(workers),
        "end": sim.now,
        "trials": len(sim.curve),
    }
