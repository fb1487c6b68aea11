"""Early stopping: the ``early_stopping`` settings of a study, and the rule they make.

>>> settings = EarlyStopping(rule="asha", resource="epoch", min=1, max=81, eta=3)
>>> make_rule(settings).rungs
[1.0, 3.0, 9.0, 27.0]
>>> make_rule(EarlyStopping(rule="asha", max=81, variant="promotion")).budget(0)
1.0
>>> EarlyStopping(rule="median", eta=3)
Traceback (most recent call last):
...
parabo.exceptions.ConfigError: early_stopping.eta: is a setting of successive_halving, asha and hyperband, not of median; remove it
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from parabo.exceptions import ConfigError
from parabo.pruning.halving import ASHA, Hyperband, SuccessiveHalving
from parabo.pruning.promotion import ASHAPromotion, HyperbandPromotion
from parabo.pruning.rules import NoRule, PercentileRule, Promote, Rule, Stop

__all__ = ["RULES", "VARIANTS", "EarlyStopping", "Promote", "Rule", "Stop", "make_rule"]

#: the rules, in the words of the study file
RULES = ("none", "median", "percentile", "successive_halving", "asha", "hyperband")
_HALVING = ("successive_halving", "asha", "hyperband")
#: the variants of asha and hyperband: stop bad trials, or pause every trial at its rung
#: and resume the promising ones
VARIANTS = ("stopping", "promotion")
#: which rule-specific settings each rule takes (the common ones: rule, resource, min, max)
_SETTINGS: dict[str, tuple[str, ...]] = {
    "none": (),
    "median": ("warmup", "min_trials"),
    "percentile": ("percentile", "warmup", "min_trials"),
    "successive_halving": ("eta", "trials_per_bracket"),
    "asha": ("eta", "variant"),
    "hyperband": ("eta", "variant"),
}


def _owners(name: str) -> str:
    rules = [r for r, names in _SETTINGS.items() if name in names]
    return ", ".join(rules[:-1]) + " and " + rules[-1] if len(rules) > 1 else rules[0]


@dataclass(frozen=True)
class EarlyStopping:
    """How trials that report as they go are stopped early (the study file's ``early_stopping``).

    Attributes:
        rule: ``none`` (reports recorded, nothing stopped), ``median``, ``percentile``,
            ``successive_halving``, ``asha`` or ``hyperband``.
        resource: what a step is called in reports and tables (``epoch``).
        min: the smallest resource a trial gets before it can be stopped.
        max: the full budget (required by the halving rules).
        eta: the reduction factor of the halving rules (only the best ``1/eta`` go on).
        percentile: ``percentile`` rule: stop trials worse than this percentile (0-100).
        warmup: ``median``, ``percentile``: steps at the start of each trial never compared.
        min_trials: ``median``, ``percentile``: other trials that must have reached a step
            before a trial is compared there.
        trials_per_bracket: ``successive_halving``: trials per bracket (default
            ``eta ** number of rungs``).
        variant: ``asha``, ``hyperband``: ``stopping`` (default: a trial runs on until the
            rule stops it) or ``promotion`` (a trial pauses at its rung, the budget it is
            given, and the best ``1/eta`` there are resumed later to the next rung; see
            ``trial.budget`` and ``trial.checkpoint_dir``).
    """

    rule: str = "none"
    resource: str = "step"
    min: float | None = None
    max: float | None = None
    eta: float | None = None
    percentile: float | None = None
    warmup: float | None = None
    min_trials: int | None = None
    trials_per_bracket: int | None = None
    variant: str | None = None

    def __post_init__(self) -> None:
        def bad(name: str, message: str) -> ConfigError:
            return ConfigError(message, field=f"early_stopping.{name}")

        if self.rule not in RULES:
            raise bad("rule", f"must be one of {', '.join(RULES)}, got {self.rule!r}")
        if not isinstance(self.resource, str) or not self.resource.strip():
            raise bad("resource", "must name the step, e.g. epoch")
        allowed = _SETTINGS[self.rule]
        for f in fields(self):
            if f.name in ("rule", "resource", "min", "max"):
                continue
            if getattr(self, f.name) is not None and f.name not in allowed:
                raise bad(
                    f.name,
                    f"is a setting of {_owners(f.name)}, not of {self.rule}; remove it",
                )
        for name in ("min", "max", "warmup"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise bad(name, f"must be a number of at least 0, got {value!r}")
        if self.rule in _HALVING:
            if self.max is None:
                raise bad("max", f"{self.rule} needs the full budget, e.g. max: 81")
            low = 1.0 if self.min is None else self.min
            if low <= 0:
                raise bad("min", f"{self.rule} needs a positive min, got {self.min!r}")
            if self.max <= low:
                raise bad("max", f"must be larger than min ({low:g}), got {self.max!r}")
        elif self.min is not None and self.max is not None and self.max < self.min:
            raise bad("max", f"must be at least min ({self.min:g}), got {self.max!r}")
        if self.eta is not None and (
            isinstance(self.eta, bool)
            or not isinstance(self.eta, (int, float))
            or not self.eta >= 2
            or self.eta > 1000
        ):
            raise bad("eta", f"must be a number from 2 to 1000, got {self.eta!r}")
        if self.percentile is not None and (
            isinstance(self.percentile, bool)
            or not isinstance(self.percentile, (int, float))
            or not 0 < self.percentile < 100
        ):
            raise bad("percentile", f"must be a number between 0 and 100, got {self.percentile!r}")
        if self.variant is not None and self.variant not in VARIANTS:
            raise bad("variant", f"must be one of {', '.join(VARIANTS)}, got {self.variant!r}")
        for name in ("min_trials", "trials_per_bracket"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**6
            ):
                raise bad(name, f"must be a whole number from 1 to 1000000, got {value!r}")

    @classmethod
    def of(cls, data: Any) -> EarlyStopping:
        """Settings from a mapping, a rule name, or settings (``None``: no early stopping)."""
        if isinstance(data, EarlyStopping):
            return data
        if isinstance(data, str):
            return cls(rule=data)
        if isinstance(data, dict):
            names = {f.name for f in fields(cls)}
            for key in data:
                if key not in names:
                    raise ConfigError(
                        f"unknown setting; use {', '.join(sorted(names))}",
                        field=f"early_stopping.{key}",
                    )
            return cls(**data)
        raise ConfigError(
            f"expected a rule name or a mapping, got {type(data).__name__}", field="early_stopping"
        )


def make_rule(settings: EarlyStopping) -> Rule:
    """The rule the settings describe."""
    rule = settings.rule
    low = settings.min if settings.min is not None else (1.0 if rule in _HALVING else 0.0)
    eta = settings.eta if settings.eta is not None else 3.0
    if rule == "none":
        return NoRule()
    if rule in ("median", "percentile"):
        return PercentileRule(
            50.0 if rule == "median" else (settings.percentile or 25.0),
            min=low,
            warmup=settings.warmup or 0.0,
            min_trials=settings.min_trials if settings.min_trials is not None else 5,
            name=rule,
        )
    assert settings.max is not None
    promotion = settings.variant == "promotion"
    if rule == "asha":
        return (ASHAPromotion if promotion else ASHA)(min=low, max=settings.max, eta=eta)
    if rule == "hyperband":
        return (HyperbandPromotion if promotion else Hyperband)(min=low, max=settings.max, eta=eta)
    halving = SuccessiveHalving(min=low, max=settings.max, eta=eta, trials_per_bracket=1)
    size = settings.trials_per_bracket or int(round(eta ** len(halving.rungs)))
    return SuccessiveHalving(min=low, max=settings.max, eta=eta, trials_per_bracket=size)
