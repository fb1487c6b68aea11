"""Any Optuna sampler behind parabo's scheduler, and TPE by name (``sampler: tpe``).

The adapter keeps an in-memory Optuna study that mirrors parabo's: every
finished trial is told to it (COMPLETE with its value, FAILED as ``FAIL``) and
every trial in flight is a ``RUNNING`` trial with its parameters, so a sampler
that accounts for running trials (TPE's ``constant_liar``) sees parabo's pending
trials. Each ask builds the Optuna sampler afresh with a seed drawn from
parabo's seed and the trial count, so the same seed gives the same sequence and a
resumed study continues it. Samplers that keep state in the trials' system
attributes (CMA-ES, NSGA-II, QMC) get it back on resume by a replay of the asks
(:func:`parabo.samplers._replay.replay_asks`).

Optuna is an optional dependency: ``pip install 'parabo[optuna]'``.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from parabo._check import check_integer, did_you_mean
from parabo.exceptions import ConfigError
from parabo.samplers._replay import NewTrials, ask_seed, params_key, replay_asks
from parabo.samplers.base import Direction, Sampler
from parabo.space import Space
from parabo.trial import Trial, TrialState

__all__ = ["OptunaSampler", "optuna_distributions", "tpe_sampler"]

#: Optuna samplers whose suggestions depend only on the finished and running trials and the
#: seed: a resumed study needs no replay of their asks
_STATELESS = ("TPESampler", "RandomSampler", "GPSampler", "BruteForceSampler")


def _import_optuna(field: str) -> Any:
    try:
        import optuna
    except ImportError:
        raise ConfigError(
            "needs Optuna, which is not installed; pip install 'parabo[optuna]'", field=field
        ) from None
    return optuna


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna's log notes at ERROR only, within the block (they would repeat at every ask)."""
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def optuna_distributions(space: Space) -> dict[str, Any]:
    """Optuna's distribution of each parameter that owns a coordinate (fixed ones have none)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for p in space.params:
        if p.kind == "float":
            out[p.name] = FloatDistribution(p.low, p.high, log=p.log)  # type: ignore[attr-defined]
        elif p.kind == "int":
            out[p.name] = IntDistribution(p.low, p.high, log=p.log)  # type: ignore[attr-defined]
        else:
            out[p.name] = CategoricalDistribution(list(p.choices))  # type: ignore[attr-defined]
    return out


def _sampler_class(name: Any) -> type[Any]:
    """An Optuna sampler class from its name in ``optuna.samplers`` or an import path."""
    optuna = _import_optuna("sampler.class")
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"expected the name of an Optuna sampler (e.g. TPESampler), got {name!r}",
            field="sampler.class",
        )
    known = sorted(n for n in dir(optuna.samplers) if n.endswith("Sampler") and n != "BaseSampler")
    if ":" in name or "." in name:
        module, _, attr = name.replace(":", ".").rpartition(".")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigError(f"cannot import {name!r}: {exc}", field="sampler.class") from None
    else:
        cls = getattr(optuna.samplers, name, None)
        if cls is None:
            raise ConfigError(
                f"unknown Optuna sampler {name!r}{did_you_mean(name, known)}; choose one of: "
                f"{', '.join(known)}, or give an import path (package.module.Class)",
                field="sampler.class",
            )
    if not (isinstance(cls, type) and issubclass(cls, optuna.samplers.BaseSampler)):
        raise ConfigError(f"{name!r} is not an Optuna sampler class", field="sampler.class")
    return cls


class OptunaSampler(Sampler):
    """Run an Optuna sampler under parabo's scheduler (``sampler: {name: optuna, class: ...}``).

    Parabo's finished trials are told to an in-memory Optuna study and its trials in
    flight appear there as running trials; the Optuna sampler suggests, parabo
    schedules, journals and resumes.

    Args:
        seed: fixes the sequence: each ask seeds the Optuna sampler from it and the trial count.
        sampler_class: a sampler of ``optuna.samplers`` by name (``"TPESampler"``) or an
            import path (``"package.module.Class"``); the study file's ``class``.
        options: keyword arguments of the sampler class (its ``seed`` is parabo's).

    Raises:
        ConfigError: Optuna is not installed, the class is unknown, or an option is invalid.
    """

    name = "optuna"

    def __init__(
        self,
        seed: int | None = None,
        *,
        sampler_class: str | type[Any] = "TPESampler",
        options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(seed)
        optuna = _import_optuna("sampler")
        self._cls = (
            sampler_class if isinstance(sampler_class, type) else _sampler_class(sampler_class)
        )
        if options is not None and not isinstance(options, Mapping):
            raise ConfigError(
                f"expected a mapping of the sampler's keyword arguments, got {options!r}",
                field="sampler.options",
            )
        self.options = dict(options or {})
        if "seed" in self.options:
            raise ConfigError(
                "give the seed as sampler.seed (or the study's seed), not as an option",
                field="sampler.options.seed",
            )
        self._takes_seed = "seed" in inspect.signature(self._cls).parameters
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                self._build(0)  # check the options now, before any trial
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"invalid options for {self._cls.__name__}: {exc}", field="sampler.options"
            ) from None
        import numpy as np

        self._entropy = seed if seed is not None else int(np.random.SeedSequence().entropy) % 2**63  # type: ignore[arg-type]
        self._stateless = self._cls.__name__ in _STATELESS and self._cls.__module__.startswith(
            "optuna."
        )
        self._mirror: Any = None
        self._key: tuple[Any, ...] = ()
        self._by_id: dict[int, int] = {}  # parabo trial id -> Optuna trial id
        self._told: set[int] = set()  # parabo ids told to the mirror
        self._unclaimed: dict[str, list[int]] = {}  # params key -> Optuna ids of our suggestions

    def __repr__(self) -> str:
        return f"OptunaSampler({self._cls.__name__}, seed={self.seed!r}, options={self.options!r})"

    def _build(self, seed: int) -> Any:
        kwargs = dict(self.options)
        if self._takes_seed:
            kwargs["seed"] = seed
        return self._cls(**kwargs)

    # ------------------------------------------------------------------ the mirror study

    def _reset(self, space: Space, direction: Direction) -> None:
        import optuna

        storage = optuna.storages.InMemoryStorage()
        with quiet_optuna():
            self._mirror = optuna.create_study(storage=storage, direction=direction)
        self._key = (space, direction)
        self._dists = optuna_distributions(space)
        self._by_id, self._told, self._unclaimed = {}, set(), {}
        self._new = NewTrials()

    def _add(self, space: Space, trial: Trial) -> int:
        """The Optuna id of parabo's ``trial``: one of our suggestions, or a new running trial."""
        from optuna.trial import TrialState as OptunaState
        from optuna.trial import create_trial

        key = params_key(space, trial.params)
        ids = self._unclaimed.get(key)
        if ids:
            oid = ids.pop(0)
            if not ids:
                del self._unclaimed[key]
        else:  # enqueued, warm start, or told by hand: Optuna learns of it as a running trial
            params = {n: trial.params[n] for n in self._dists}
            template = create_trial(
                state=OptunaState.RUNNING, params=params, distributions=self._dists
            )
            oid = self._mirror._storage.create_new_trial(self._mirror._study_id, template)
        self._by_id[trial.id] = oid
        return int(oid)

    def _sync(self, space: Space, history: Sequence[Trial], pending: Sequence[Trial]) -> None:
        from optuna.trial import TrialState as OptunaState

        storage = self._mirror._storage
        new = self._new(history)
        for trial in [*new, *pending]:
            if trial.id not in self._by_id:
                self._add(space, trial)
        for trial in new:
            if trial.id in self._told:
                continue
            oid = self._by_id[trial.id]
            if trial.state is TrialState.COMPLETE and trial.value is not None:
                storage.set_trial_state_values(oid, OptunaState.COMPLETE, [float(trial.value)])
            else:
                storage.set_trial_state_values(oid, OptunaState.FAIL)
            self._told.add(trial.id)
        # suggestions no trial took (a replay's, or the study asked for fewer): out of the way
        for ids in self._unclaimed.values():
            for oid in ids:
                storage.set_trial_state_values(oid, OptunaState.FAIL)
        self._unclaimed = {}

    # ------------------------------------------------------------------ ask

    def ask(
        self,
        space: Space,
        history: Sequence[Trial],
        pending: Sequence[Trial],
        n: int = 1,
        direction: Direction = "minimize",
    ) -> list[dict[str, Any]]:

        if self._mirror is None or self._key != (space, direction):
            self._reset(space, direction)
        self._sync(space, history, pending)
        count = len(history) + len(pending)
        with quiet_optuna():  # per-trial notes such as "sampled independently"
            return self._suggest(space, count, n)

    def _suggest(self, space: Space, count: int, n: int) -> list[dict[str, Any]]:
        import optuna

        out: list[dict[str, Any]] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            for i in range(n):
                self._mirror.sampler = self._build(ask_seed(self._entropy, count + i) % 2**32)
                trial = self._mirror.ask(fixed_distributions=self._dists)
                params = space.validate({**trial.params})
                self._unclaimed.setdefault(params_key(space, params), []).append(trial._trial_id)
                out.append(params)
        return out

    def restore(self, space: Space, history: Sequence[Trial], direction: Direction) -> None:
        """Rebuild the mirror; samplers with state in the trials replay the asks in id order."""
        self._reset(space, direction)
        if not self._stateless:
            replay_asks(self, space, history, direction)


def tpe_sampler(
    seed: int | None = None,
    *,
    n_startup: int = 10,
    n_ei_candidates: int = 24,
    multivariate: bool = True,
    constant_liar: bool = True,
) -> OptunaSampler:
    """TPE by name (``sampler: tpe``): Optuna's ``TPESampler`` through :class:`OptunaSampler`.

    Multivariate (one joint density over the parameters) and pending-aware by
    default: with ``constant_liar``, the trials in flight count as if they had
    returned the worst value, so parallel workers spread out.

    Args:
        seed: fixes the sequence of suggestions.
        n_startup: random trials before the TPE model is used (Optuna's ``n_startup_trials``).
        n_ei_candidates: candidates drawn from the good density per suggestion.
        multivariate: model the parameters jointly (``False``: one density each).
        constant_liar: count trials in flight as the worst value (``False``: ignore them).
    """
    check_integer(n_startup, 1, "sampler.n_startup")
    check_integer(n_ei_candidates, 1, "sampler.n_ei_candidates")
    for key, value in (("multivariate", multivariate), ("constant_liar", constant_liar)):
        if not isinstance(value, bool):
            raise ConfigError(f"must be true or false, got {value!r}", field=f"sampler.{key}")
    sampler = OptunaSampler(
        seed,
        sampler_class="TPESampler",
        options={
            "n_startup_trials": n_startup,
            "n_ei_candidates": n_ei_candidates,
            "multivariate": multivariate,
            "constant_liar": constant_liar,
        },
    )
    sampler.name = "tpe"
    return sampler
