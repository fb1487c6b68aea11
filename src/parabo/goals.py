"""What a study optimizes: one or several objectives, their directions, and constraints.

A :class:`Goal` is built once from the study's ``metric``, ``direction`` and
``constraints`` (the study file's fields or :class:`~parabo.Study`'s arguments) and
reads every result: :meth:`Goal.read` turns an objective's return value into the
trial's value(s) and metrics, or raises :class:`InvalidResult` naming what is
missing. A study with one metric and no constraints reads results exactly as it
always did.

    >>> goal = Goal.build(["error", "seconds"], ["minimize", "minimize"], {"memory_gb": {"max": 8}})
    >>> goal.read({"error": 0.1, "seconds": 3, "memory_gb": 9.5})[1]
    (0.1, 3.0)
    >>> goal.violation({"memory_gb": 9.5})
    1.5
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from parabo.exceptions import ConfigError

__all__ = ["Constraint", "Goal", "InvalidResult", "interpret_result"]

Direction = Literal["minimize", "maximize"]
_DIRECTIONS = ("minimize", "maximize")


class InvalidResult(ValueError):
    """An objective's result cannot be read as a value; the message says why."""


@dataclass(frozen=True)
class Constraint:
    """``metric`` must stay at most ``bound`` (``kind="max"``) or at least ``bound`` (``"min"``)."""

    metric: str
    kind: Literal["max", "min"]
    bound: float

    def violation(self, value: float) -> float:
        """How far ``value`` is outside the bound (0.0 when it satisfies the constraint)."""
        excess = value - self.bound if self.kind == "max" else self.bound - value
        return max(0.0, float(excess))

    def to_dict(self) -> dict[str, float]:
        return {self.kind: self.bound}


@dataclass(frozen=True)
class Goal:
    """The objectives (``metrics`` and ``directions``, one each) and the ``constraints``.

    ``metrics`` holds ``None`` for a single objective read from a plain number (or from
    a dict with one number), as in a study without ``metric``.
    """

    metrics: tuple[str | None, ...] = (None,)
    directions: tuple[Direction, ...] = ("minimize",)
    constraints: tuple[Constraint, ...] = ()

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        metric: str | Sequence[str] | None,
        direction: str | Sequence[str],
        constraints: Mapping[str, Any] | None = None,
    ) -> Goal:
        """The goal of ``metric``/``direction`` (a name or a list each) and ``constraints``.

        Raises :class:`ConfigError` naming ``direction``, ``metric`` or ``constraints``.
        """
        directions = _directions(direction)
        metrics = _metrics(metric, len(directions))
        built = _constraints(constraints)
        if built and len(directions) == 1 and metrics[0] is None:
            raise ConfigError(
                "a study with constraints reads a dict result; set `metric` to the key of "
                "the objective to optimize",
                field="metric",
            )
        return cls(metrics, directions, built)

    @property
    def multi(self) -> bool:
        """Whether there are several objectives."""
        return len(self.directions) > 1

    @property
    def simple(self) -> bool:
        """One objective and no constraints: the study works exactly as it always has."""
        return not self.multi and not self.constraints

    @property
    def names(self) -> tuple[str, ...]:
        """The objectives' names (``value`` for the unnamed single one, ``value_<i>`` for several)."""
        if not self.multi:
            return (self.metrics[0] or "value",)
        return tuple(m or f"value_{i}" for i, m in enumerate(self.metrics))

    @property
    def signs(self) -> tuple[float, ...]:
        """+1 for a minimized objective, -1 for a maximized one: ``sign * value`` is minimized."""
        return tuple(-1.0 if d == "maximize" else 1.0 for d in self.directions)

    def header(self) -> dict[str, Any]:
        """The journal header's ``direction``, ``metric`` and ``constraints`` fields."""
        if self.multi:
            direction: Any = list(self.directions)
            metric: Any = list(self.metrics) if self.metrics[0] is not None else None
        else:
            direction, metric = self.directions[0], self.metrics[0]
        cons = {c.metric: c.to_dict() for c in self.constraints} or None
        return {"direction": direction, "metric": metric, "constraints": cons}

    # ------------------------------------------------------------------ reading results
    def read(self, result: Any) -> tuple[float, tuple[float, ...], dict[str, float]]:
        """``(value, values, metrics)`` of a result: the first objective, all of them, every number.

        A result is a number (one objective), a list or tuple of numbers (one per
        objective, in order), or a dict of metrics holding every objective and every
        constrained metric. Raises :class:`InvalidResult` saying what is wrong.
        """
        if self.simple:
            value, metrics = interpret_result(result, self.metrics[0])
            return value, (value,), metrics
        names = self.names
        if isinstance(result, Mapping):
            metrics = _numbers(result)
            if self.multi and self.metrics[0] is None and not all(n in result for n in names):
                raise InvalidResult(
                    f"the objective returned a dict with keys {sorted(map(str, result))!r}; "
                    "set `metric` to a list naming the keys of the objectives"
                )
            values = tuple(_metric(result, n, "objective") for n in names)
        elif isinstance(result, (list, tuple)) and self.multi:
            if len(result) != len(names):
                raise InvalidResult(
                    f"the objective returned {len(result)} values for {len(names)} objectives "
                    f"({', '.join(names)})"
                )
            values = tuple(
                _metric(dict(zip(names, result, strict=True)), n, "objective") for n in names
            )
            metrics = dict(zip(names, values, strict=True))
        else:
            if self.multi:
                raise InvalidResult(
                    f"the objective returned {_kind(result)}; a study with {len(names)} "
                    f"objectives needs a list of {len(names)} numbers or a dict of metrics"
                )
            raise InvalidResult(
                f"the objective returned {_kind(result)}; a study with constraints needs a "
                "dict with the objective and every constrained metric"
            )
        for c in self.constraints:
            if c.metric not in metrics:
                if c.metric in (result if isinstance(result, Mapping) else {}):
                    raise InvalidResult(
                        f"constrained metric {c.metric!r} is not a finite number: "
                        f"{result[c.metric]!r:.200}"
                    )
                raise InvalidResult(
                    f"the objective's result has no constrained metric {c.metric!r} "
                    f"(keys: {sorted(map(str, metrics))!r})"
                )
        for n, v in zip(names, values, strict=True):
            metrics[n] = v
        return values[0], values, metrics

    def violation(self, metrics: Mapping[str, float]) -> float | None:
        """The sum of the constraints' violations (0.0: feasible); ``None`` without constraints."""
        if not self.constraints:
            return None
        total = 0.0
        for c in self.constraints:
            v = metrics.get(c.metric)
            total += math.inf if v is None else c.violation(v)
        return total

    def violations(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """Each constraint's violation, by metric name."""
        return {
            c.metric: (
                math.inf if metrics.get(c.metric) is None else c.violation(metrics[c.metric])
            )
            for c in self.constraints
        }


# ---------------------------------------------------------------------- helpers
def _directions(direction: str | Sequence[str]) -> tuple[Direction, ...]:
    items = [direction] if isinstance(direction, str) else direction
    if not isinstance(items, Sequence) or not items:
        raise ConfigError(
            f"must be 'minimize', 'maximize' or a list of them, got {direction!r}",
            field="direction",
        )
    for i, d in enumerate(items):
        if d not in _DIRECTIONS:
            where = "direction" if isinstance(direction, str) else f"direction.{i}"
            raise ConfigError(f"must be 'minimize' or 'maximize', got {d!r}", field=where)
    return tuple("maximize" if d == "maximize" else "minimize" for d in items)


def _metrics(metric: str | Sequence[str] | None, n: int) -> tuple[str | None, ...]:
    if metric is None:
        return (None,) * n
    if isinstance(metric, str):
        if not metric:
            raise ConfigError("must be a non-empty string, got ''", field="metric")
        if n != 1:
            raise ConfigError(
                f"names one metric but `direction` lists {n}; give a list of {n} metrics, "
                "one per direction",
                field="metric",
            )
        return (metric,)
    items = list(metric)
    for i, m in enumerate(items):
        if not isinstance(m, str) or not m:
            raise ConfigError(f"must be a non-empty string, got {m!r}", field=f"metric.{i}")
    if len(items) != n:
        if n == 1 and len(items) > 1:
            hint = f"give `direction` as a list of {len(items)} directions, one per metric"
        else:
            hint = "give one direction per metric"
        raise ConfigError(
            f"lists {len(items)} metrics but `direction` lists {n}; {hint}", field="metric"
        )
    if len(set(items)) != len(items):
        dup = next(m for m in items if items.count(m) > 1)
        raise ConfigError(f"names {dup!r} twice; each objective once", field="metric")
    return tuple(items)


def _constraints(constraints: Mapping[str, Any] | None) -> tuple[Constraint, ...]:
    if constraints is None:
        return ()
    if not isinstance(constraints, Mapping):
        raise ConfigError(
            f"must be a mapping of metric names to {{max: ...}} or {{min: ...}}, got {constraints!r}",
            field="constraints",
        )
    out: list[Constraint] = []
    for name, spec in constraints.items():
        where = f"constraints.{name}"
        if not isinstance(name, str) or not name:
            raise ConfigError(f"a constraint names a metric, got {name!r}", field="constraints")
        if (
            not isinstance(spec, Mapping)
            or len(spec) != 1
            or next(iter(spec)) not in ("max", "min")
        ):
            raise ConfigError(
                f"must be {{max: <number>}} or {{min: <number>}} (one bound), got {spec!r}",
                field=where,
            )
        kind, bound = next(iter(spec.items()))
        if (
            isinstance(bound, bool)
            or not isinstance(bound, (int, float))
            or not math.isfinite(bound)
        ):
            raise ConfigError(f"must be a finite number, got {bound!r}", field=f"{where}.{kind}")
        out.append(Constraint(name, kind, float(bound)))
    return tuple(out)


def _kind(result: Any) -> str:
    return "nothing (None)" if result is None else f"{type(result).__name__} {result!r:.200}"


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        import numpy as np

        if isinstance(v, np.ndarray) and v.size == 1:
            v = v.item()
    except ImportError:  # pragma: no cover - numpy is a core dependency
        pass
    if isinstance(v, (int, float)) or hasattr(v, "__float__") and not isinstance(v, (str, bytes)):
        try:
            return float(v)
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def _numbers(result: Mapping[Any, Any]) -> dict[str, float]:
    """The finite numbers of a dict result, by key."""
    metrics: dict[str, float] = {}
    for k, v in result.items():
        f = _number(v)
        if f is not None and math.isfinite(f):
            metrics[str(k)] = f
    return metrics


def _metric(result: Mapping[str, Any], name: str, what: str) -> float:
    if name not in result:
        raise InvalidResult(
            f"the objective's result has no {what} metric {name!r} (keys: {sorted(map(str, result))!r})"
        )
    value = _number(result[name])
    if value is None:
        raise InvalidResult(f"metric {name!r} is not a number: {result[name]!r:.200}")
    if not math.isfinite(value):
        raise InvalidResult(f"metric {name!r} is {value}, not a finite number")
    return value


def interpret_result(result: Any, metric: str | None) -> tuple[float, dict[str, float]]:
    """Read an objective's result as ``(value, metrics)``.

    ``result`` is a number, or a mapping of metric names to numbers of which
    ``metric`` is the objective (a mapping with one number needs no ``metric``).
    Raises :class:`InvalidResult` for anything else, NaN or infinity included.
    """
    if isinstance(result, Mapping):
        metrics = _numbers(result)
        if metric is None:
            numeric = [k for k, v in result.items() if _number(v) is not None]
            if len(numeric) != 1:
                raise InvalidResult(
                    f"the objective returned a dict with keys {sorted(map(str, result))!r}; "
                    "set `metric` in the study to name the one to optimize"
                )
            metric = str(numeric[0])
        if metric not in result:
            raise InvalidResult(
                f"the objective's result has no metric {metric!r} (keys: {sorted(map(str, result))!r})"
            )
        raw = result[metric]
        value = _number(raw)
        if value is None:
            raise InvalidResult(f"metric {metric!r} is not a number: {raw!r:.200}")
    else:
        value = _number(result)
        if value is None:
            raise InvalidResult(f"the objective returned {_kind(result)}, not a number")
        metrics = {}
    if not math.isfinite(value):
        raise InvalidResult(f"the objective value is {value}, not a finite number")
    metrics[metric or "value"] = value
    return value, metrics
