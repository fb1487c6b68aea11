"""The sampler interface: every suggestion is made from the full history and the pending trials.

A sampler is asked for ``n`` new parameter dicts and receives, on every call:

- ``history``: every finished trial (COMPLETE, FAILED, PRUNED), in the order
  they finished (the journal's order; the same live and after a resume);
- ``pending``: every trial in flight (RUNNING) — from this round and earlier
  ones — whose results are not known yet;
- ``direction``: ``"minimize"`` or ``"maximize"`` (values in ``history`` are as
  the user reported them).

A study with several objectives or with constraints calls :meth:`Sampler.bind`
once with its :class:`~parabo.goals.Goal`; ``direction`` is then the first
objective's, and the values of every objective and constrained metric are in each
trial (``values``, ``metrics``). A sampler that ignores the values (random, Sobol)
needs nothing more.

Samplers keep no record of their own: the study's journal is the truth, so a
resumed study hands the same history to a fresh sampler. A sampler may cache
derived state (a fitted model) keyed on the trial ids it has seen; a resumed
study calls :meth:`Sampler.restore` once so that such a sampler rebuilds it as
the uninterrupted study did. Random draws must come from the seed and the trial
count (never from a stream that a restart loses), so that a resumed sequential
study suggests exactly what the uninterrupted one would have.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Literal

from parabo.goals import Goal
from parabo.space import Space
from parabo.trial import Trial

__all__ = ["Direction", "Sampler"]

Direction = Literal["minimize", "maximize"]


class Sampler(ABC):
    """Suggests parameters. Subclasses implement :meth:`ask`."""

    #: name used in study files (``sampler: random``)
    name: str = ""

    #: what the study optimizes (set by :meth:`bind`; one minimized objective until then)
    goal: Goal = Goal()

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def bind(self, goal: Goal) -> None:
        """Called once by the study with its objectives and constraints.

        Raises :class:`~parabo.exceptions.ConfigError` (field ``sampler``) if this sampler
        cannot optimize that goal.
        """
        self.goal = goal

    @abstractmethod
    def ask(
        self,
        space: Space,
        history: Sequence[Trial],
        pending: Sequence[Trial],
        n: int = 1,
        direction: Direction = "minimize",
    ) -> list[dict[str, Any]]:
        """Return ``n`` parameter dicts to evaluate next.

        Args:
            space: the search space.
            history: finished trials, in the order they finished.
            pending: trials in flight; suggestions should account for them.
            n: how many suggestions to return (they are all pending together).
            direction: whether smaller or larger values are better.
        """

    def restore(self, space: Space, history: Sequence[Trial], direction: Direction) -> None:
        """Called once when a study with a finished ``history`` is opened again (resume).

        The default does nothing: samplers whose suggestions depend only on the seed,
        the trial count and the history need no more. A sampler that caches state
        across asks rebuilds it here.
        """
        return None  # an optional hook, not an abstract method

    def batch_size(self, free: int, pending: int) -> int:
        """How many suggestions an asynchronous run asks for at once.

        Called with ``free`` idle workers and ``pending`` trials in flight. The default
        is one: the first free worker starts without waiting for the suggestions of the
        others, and each suggestion sees the earlier ones as pending. A sampler whose
        batch costs about as much as one suggestion returns more (up to ``free``).
        """
        return 1

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed!r})"
