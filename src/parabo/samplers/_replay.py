"""Shared pieces of the samplers that keep state across asks (CMA-ES, Optuna's samplers).

Such a sampler learns which of its suggestions became which trial by matching
parameters (the study assigns the ids), and a resumed study rebuilds its state by
asking again, in id order, as the sequential run did (:func:`replay_asks`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from parabo.space import Space
from parabo.trial import Trial

__all__ = ["NewTrials", "ask_seed", "params_key", "replay_asks"]


class _Asks(Protocol):
    def ask(
        self,
        space: Space,
        history: Sequence[Trial],
        pending: Sequence[Trial],
        n: int = 1,
        direction: Any = "minimize",
    ) -> list[dict[str, Any]]: ...


class NewTrials:
    """The finished trials a sampler has not looked at yet, without rescanning the history.

    A study's history only grows (trials are appended as they finish), so after the first
    call only its new tail is returned; a history that is not an extension of the last one
    (a sampler asked with another study's trials) is scanned in full.
    """

    def __init__(self) -> None:
        self._n = 0
        self._last: int | None = None

    def __call__(self, history: Sequence[Trial]) -> Sequence[Trial]:
        n = self._n
        start = n if 0 < n <= len(history) and history[n - 1].id == self._last else 0
        self._n = len(history)
        self._last = history[-1].id if history else None
        return history[start:]


def params_key(space: Space, params: Mapping[str, Any]) -> str:
    """A string that is equal for equal (validated) parameter dicts."""
    return json.dumps(space.validate(params), sort_keys=True, default=repr)


def ask_seed(entropy: int, count: int) -> int:
    """The seed of one ask: a function of the sampler's seed and the trials asked before it."""
    import numpy as np

    return int(np.random.SeedSequence([entropy, count]).generate_state(1)[0])


def replay_asks(sampler: _Asks, space: Space, history: Sequence[Trial], direction: Any) -> None:
    """Ask ``sampler`` again for each trial of ``history`` in id order, as a sequential run did.

    A trial the sampler suggested (``ask_seconds`` is known) is asked again with the
    trials before it finished; an enqueued or warm-start trial is not, since the live
    run did not ask the sampler for it either. A sequential study resumed this way
    holds the state the uninterrupted study held; a parallel one an approximation of
    it (its trials counted as if they had been asked one after the other).
    """
    ordered = sorted(history, key=lambda t: t.id)
    for k, trial in enumerate(ordered):
        if trial.ask_seconds is not None:
            sampler.ask(space, ordered[:k], [], 1, direction)
