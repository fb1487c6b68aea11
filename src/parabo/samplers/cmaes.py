"""CMA-ES through the ``cmaes`` package, asynchronous: generations fill as trials finish.

CMA-ES searches the unit cube of the space (log scales, integer bins and
categorical bins as :mod:`parabo.space` encodes them). With trials in flight the
sampler keeps drawing from the current generation's distribution; the first
``popsize`` trials of a generation to finish are told to CMA-ES, which moves to
the next generation; results that arrive for an older generation are not used.
When CMA-ES stops making progress (``should_stop``) it restarts, with a larger
population under IPOP (``restart: ipop``, the default).

A trial enqueued or told by hand is not one of the sampler's: it does not enter
a generation. Completed trials present before the first suggestion (a warm start)
set the first mean at the best of them.

``cmaes`` is an optional dependency: ``pip install 'parabo[cmaes]'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from parabo._check import check_choice, check_integer, check_number
from parabo.exceptions import ConfigError
from parabo.samplers._replay import NewTrials, ask_seed, params_key, replay_asks
from parabo.samplers.base import Direction, Sampler
from parabo.space import Space
from parabo.trial import Trial, TrialState

__all__ = ["CMAESSampler"]

RESTARTS = ("ipop", "none")


class CMAESSampler(Sampler):
    """CMA-ES (``sampler: cmaes``): ask/tell with trials in flight, and restarts.

    Args:
        seed: fixes the sequence of suggestions (of a sequential run, and on resume).
        sigma0: the first step size, in the unit cube (default 0.2).
        popsize: trials per generation (default CMA-ES's ``4 + 3 ln d``).
        restart: ``"ipop"`` (default): restart with ``inc_popsize`` times the population
            when CMA-ES stops; ``"none"``: restart with the same population.
        inc_popsize: growth of the population at each IPOP restart (default 2).

    Raises:
        ConfigError: the ``cmaes`` package is not installed, or an option is invalid.
    """

    name = "cmaes"

    def __init__(
        self,
        seed: int | None = None,
        *,
        sigma0: float = 0.2,
        popsize: int | None = None,
        restart: str = "ipop",
        inc_popsize: int = 2,
    ) -> None:
        super().__init__(seed)
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise ConfigError(
                "needs the cmaes package, which is not installed; pip install 'parabo[cmaes]'",
                field="sampler",
            ) from None
        check_number(sigma0, "sampler.sigma0", 0.0, 1.0, strict=True)
        if popsize is not None:
            check_integer(popsize, 2, "sampler.popsize")
        check_choice(restart, RESTARTS, "sampler.restart")
        check_integer(inc_popsize, 2, "sampler.inc_popsize")
        self.sigma0, self.popsize, self.restart = float(sigma0), popsize, restart
        self.inc_popsize = inc_popsize
        self._entropy = seed if seed is not None else int(np.random.SeedSequence().entropy) % 2**63  # type: ignore[arg-type]
        self._key: tuple[Any, ...] | None = None

    def __repr__(self) -> str:
        return f"CMAESSampler(seed={self.seed!r}, sigma0={self.sigma0}, restart={self.restart!r})"

    # ------------------------------------------------------------------ state

    def _reset(self, space: Space, direction: Direction) -> None:
        self._key = (space, direction)
        self._cma: Any = None
        self.restarts = 0
        self.generation = 0  # of the current CMA-ES run, counted over all runs
        self._gen_of: dict[int, int] = {}  # trial id -> generation it was drawn from
        self._x_of: dict[int, np.ndarray] = {}  # trial id -> the point CMA-ES drew
        self._seen: set[int] = set()  # trial ids whose outcome was looked at
        self._new = NewTrials()
        self._told: list[tuple[np.ndarray, float]] = []  # finished of the current generation
        self._issued: dict[str, list[tuple[int, np.ndarray]]] = {}  # key -> (gen, x)
        self._worst: float | None = None

    def _start(self, space: Space, history: Sequence[Trial], direction: Direction) -> None:
        """A CMA-ES run: the first at the best warm-start trial (or the centre), later ones at random."""
        from cmaes import CMA

        d = max(1, space.dim)
        sign = 1.0 if direction == "minimize" else -1.0
        done = [t for t in history if t.state is TrialState.COMPLETE and t.value is not None]
        rng = np.random.default_rng([self._entropy, self.restarts, 7])
        if self.restarts == 0 and done:
            best = min(done, key=lambda t: sign * float(t.value))  # type: ignore[arg-type]
            mean = np.clip(space.to_unit(best.params), 0.05, 0.95) if space.dim else np.full(1, 0.5)
        elif self.restarts == 0:
            mean = np.full(d, 0.5)
        else:
            mean = rng.uniform(0.2, 0.8, d)
        popsize = self.popsize
        if self.restart == "ipop" and self.restarts:
            base = popsize or 4 + int(3 * np.log(d))
            popsize = base * self.inc_popsize**self.restarts
        self._cma = CMA(
            mean=mean,
            sigma=self.sigma0,
            bounds=np.tile([0.0, 1.0], (d, 1)),
            seed=ask_seed(self._entropy, 1000 + self.restarts) % 2**31,
            population_size=popsize,
        )
        self._told = []

    def _claim(self, space: Space, trial: Trial) -> None:
        if trial.id in self._gen_of or not self._issued:
            return
        key = params_key(space, trial.params)
        drawn = self._issued.get(key)
        if drawn:
            self._gen_of[trial.id], self._x_of[trial.id] = drawn.pop(0)
            if not drawn:
                del self._issued[key]

    def _learn(
        self, space: Space, history: Sequence[Trial], new: Sequence[Trial], direction: Direction
    ) -> None:
        sign = 1.0 if direction == "minimize" else -1.0
        for trial in new:
            if trial.id in self._seen:
                continue
            self._seen.add(trial.id)
            if trial.state is TrialState.COMPLETE and trial.value is not None:
                loss: float | None = sign * float(trial.value)
                self._worst = loss if self._worst is None else max(self._worst, loss)  # type: ignore[type-var]
            else:
                loss = self._worst  # a failed trial counts as the worst value seen so far
            if self._gen_of.get(trial.id) != self.generation or loss is None:
                continue  # not ours, or from an older generation
            self._told.append((self._x_of[trial.id], loss))
            if len(self._told) == self._cma.population_size:
                self._cma.tell(self._told)
                self._told = []
                self.generation += 1
                if self._cma.should_stop():
                    self.restarts += 1
                    self._start(space, history, direction)

    # ------------------------------------------------------------------ ask

    def ask(
        self,
        space: Space,
        history: Sequence[Trial],
        pending: Sequence[Trial],
        n: int = 1,
        direction: Direction = "minimize",
    ) -> list[dict[str, Any]]:
        if self._key != (space, direction):
            self._reset(space, direction)
        new = self._new(history)
        for trial in [*new, *pending]:
            self._claim(space, trial)
        self._issued = {}  # suggestions no trial took (the study asked for fewer) are dropped
        if self._cma is None:
            self._start(space, history, direction)
        self._learn(space, history, new, direction)
        out = []
        for _ in range(n):
            x = self._cma.ask()
            params = space.validate(space.from_unit(x[: space.dim]))
            self._issued.setdefault(params_key(space, params), []).append((self.generation, x))
            out.append(params)
        return out

    def restore(self, space: Space, history: Sequence[Trial], direction: Direction) -> None:
        """Replay the asks in id order, so a resumed sequential study continues the same sequence."""
        self._reset(space, direction)
        replay_asks(self, space, history, direction)
