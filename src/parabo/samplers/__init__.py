"""Samplers and the factory that builds one from a study-file entry.

The registry is an explicit dict (no decorators filling a global): to add a
sampler, import it here and add a line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from parabo.exceptions import ConfigError
from parabo.samplers.base import Direction, Sampler
from parabo.samplers.random import RandomSampler
from parabo.samplers.sobol import SobolSampler

__all__ = ["Direction", "RandomSampler", "Sampler", "SobolSampler", "make_sampler", "SAMPLERS"]


def _gp(**kwargs: Any) -> Sampler:
    from parabo.samplers.gp import GPSampler  # the GP core is imported only when used

    return GPSampler(**kwargs)


def _tpe(**kwargs: Any) -> Sampler:
    from parabo.samplers.optuna import tpe_sampler  # Optuna is an extra: parabo[optuna]

    return tpe_sampler(**kwargs)


def _cmaes(**kwargs: Any) -> Sampler:
    from parabo.samplers.cmaes import CMAESSampler  # the cmaes package is an extra: parabo[cmaes]

    return CMAESSampler(**kwargs)


def _optuna(**kwargs: Any) -> Sampler:
    """``{name: optuna, class: TPESampler, options: {...}}``: any Optuna sampler."""
    from parabo.samplers.optuna import OptunaSampler

    if "class" not in kwargs:
        raise ConfigError(
            "missing 'class': the Optuna sampler to run, e.g. {name: optuna, class: TPESampler}",
            field="sampler.class",
        )
    cls = kwargs.pop("class")
    unknown = set(kwargs) - {"seed", "options"}
    if unknown:
        raise ConfigError(
            f"unknown key(s) {sorted(unknown)!r}; the sampler's own options go under 'options'",
            field="sampler",
        )
    return OptunaSampler(kwargs.get("seed"), sampler_class=cls, options=kwargs.get("options"))


SAMPLERS: dict[str, Callable[..., Sampler]] = {
    "random": RandomSampler,
    "sobol": SobolSampler,
    "gp": _gp,
    "tpe": _tpe,
    "cmaes": _cmaes,
    "optuna": _optuna,
}

DEFAULT_SAMPLER = "gp"  # Bayesian optimization; "random" and "sobol" for baselines
# "tpe", "cmaes" and "optuna" need extras (parabo[optuna], parabo[cmaes]), imported when used


def make_sampler(
    spec: str | Mapping[str, Any] | Sampler | None, seed: int | None = None
) -> Sampler:
    """Build a sampler from a name (``"sobol"``), a mapping (``{name: sobol, seed: 0}``) or an instance.

    ``seed`` is used when the spec gives none. Raises :class:`ConfigError` naming ``sampler``.
    """
    if isinstance(spec, Sampler):
        return spec
    if spec is None:
        spec = DEFAULT_SAMPLER
    if isinstance(spec, str):
        name, options = spec, {}
    elif isinstance(spec, Mapping):
        if "name" not in spec:
            raise ConfigError("missing 'name' (e.g. {name: sobol, seed: 0})", field="sampler.name")
        options = {k: v for k, v in spec.items() if k != "name"}
        name = spec["name"]
    else:
        raise ConfigError(
            f"expected a sampler name or a mapping with a name, got {spec!r}", field="sampler"
        )
    if not isinstance(name, str) or name.lower() not in SAMPLERS:
        raise ConfigError(
            f"unknown sampler {name!r}; choose one of: {', '.join(sorted(SAMPLERS))}",
            field="sampler.name" if isinstance(spec, Mapping) else "sampler",
        )
    options.setdefault("seed", seed)
    if options["seed"] is not None and (
        not isinstance(options["seed"], int) or isinstance(options["seed"], bool)
    ):
        raise ConfigError(f"must be an integer, got {options['seed']!r}", field="sampler.seed")
    try:
        return SAMPLERS[name.lower()](**options)
    except ConfigError as exc:  # a checked option: keep the field it names (sampler.n_startup)
        if exc.field == "sampler":
            raise  # not an option's fault (a missing extra: pip install 'parabo[optuna]')
        raise ConfigError(
            f"invalid option for sampler {name!r}: {exc.message}", field=exc.field or "sampler"
        ) from None
    except (TypeError, ValueError) as exc:
        # unknown keywords (TypeError) or a value of the wrong kind, e.g. max_points: "abc"
        raise ConfigError(
            f"invalid option for sampler {name!r}: {exc}; see the sampler's documented options",
            field="sampler",
        ) from None
