"""The parameter types of a search space: bounds, validation, sampling, the unit-cube codes.

Each parameter owns one coordinate of the unit cube (a fixed one none); the module
docstring of :mod:`parabo.space` gives the encodings. Import them from ``parabo.space``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from parabo._check import brief
from parabo.exceptions import SpaceError

__all__ = ["MAX_CHOICES", "MAX_INT", "Categorical", "Fixed", "Float", "Int", "Kind", "Param"]

Kind = Literal["float", "int", "categorical", "fixed"]
_Scalar = (str, int, float, bool)

#: the most choices of one categorical parameter
MAX_CHOICES = 10_000
#: the largest magnitude of an int parameter's bounds (the integers a float holds exactly)
MAX_INT = 2**53


def _is_real(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _finite(name: str, key: str, v: object) -> float:
    if not _is_real(v):
        raise SpaceError(f"must be a number, got {brief(v)}", field=f"space.{name}.{key}")
    try:
        f = float(v)  # type: ignore[arg-type]
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise SpaceError(f"must be a finite number, got {brief(v)}", field=f"space.{name}.{key}")
    return f


@dataclass(frozen=True)
class Param:
    """Base of every parameter type. ``name`` is set when the parameter joins a Space."""

    kind: ClassVar[Kind]
    name: str = field(default="", kw_only=True)

    @property
    def size(self) -> int:
        """Number of distinct values (0 for a continuous parameter)."""
        return 0

    def named(self, name: str) -> Param:
        raise NotImplementedError

    def encode(self, value: Any) -> float:
        raise NotImplementedError

    def decode(self, u: float) -> Any:
        raise NotImplementedError

    def validate(self, value: Any) -> Any:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Float(Param):
    """A real-valued parameter in ``[low, high]``, on a linear or log scale."""

    kind: ClassVar[Kind] = "float"
    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        lo = _finite(self.name, "low", self.low)
        hi = _finite(self.name, "high", self.high)
        if not lo < hi:
            raise SpaceError(
                f"low ({self.low}) must be smaller than high ({self.high}); "
                "use {type: fixed, value: ...} for a constant",
                field=f"space.{self.name}",
            )
        if self.log and lo <= 0:
            raise SpaceError(
                f"log scale needs low > 0, got low={self.low}", field=f"space.{self.name}.low"
            )
        if not math.isfinite(hi - lo):
            raise SpaceError(
                f"the range [{lo}, {hi}] is too wide: high - low must be a finite number",
                field=f"space.{self.name}",
            )
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)

    def named(self, name: str) -> Float:
        return Float(self.low, self.high, log=self.log, name=name)

    def _fwd(self, x: float) -> float:
        if self.log:
            return (math.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (x - self.low) / (self.high - self.low)

    def decode(self, u: float) -> float:
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            la, lb = math.log(self.low), math.log(self.high)
            x = math.exp(la + u * (lb - la))
        else:
            x = self.low + u * (self.high - self.low)
        return min(max(x, self.low), self.high)

    def encode(self, value: Any) -> float:
        x = float(value)
        u = min(max(self._fwd(x), 0.0), 1.0)
        # The affine map and its inverse can disagree in the last bits: nudge u
        # by a few ulps so that decode(encode(x)) == x for every decodable x.
        if self.decode(u) != x:
            for direction in (1.0, -1.0):
                v = u
                for _ in range(8):
                    v = math.nextafter(v, direction * 2.0)
                    if self.decode(v) == x:
                        return min(max(v, 0.0), 1.0)
        return u

    def validate(self, value: Any) -> float:
        if not _is_real(value):
            raise SpaceError(f"expected a number, got {brief(value)}", field=self.name)
        x = float(value)
        if not (self.low <= x <= self.high):
            raise SpaceError(f"{x} is outside [{self.low}, {self.high}]", field=self.name)
        return x

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": "float", "low": self.low, "high": self.high}
        if self.log:
            d["log"] = True
        return d


@dataclass(frozen=True)
class Int(Param):
    """An integer parameter in ``[low, high]`` (both included), linear or log scale."""

    kind: ClassVar[Kind] = "int"
    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        for key in ("low", "high"):
            v = getattr(self, key)
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise SpaceError(
                    f"must be an integer, got {brief(v)}", field=f"space.{self.name}.{key}"
                )
            if abs(int(v)) > MAX_INT:
                raise SpaceError(
                    f"must be between -{MAX_INT} and {MAX_INT} (2**53), got {brief(v)}",
                    field=f"space.{self.name}.{key}",
                )
            object.__setattr__(self, key, int(v))
        if not self.low < self.high:
            raise SpaceError(
                f"low ({self.low}) must be smaller than high ({self.high}); "
                "use {type: fixed, value: ...} for a constant",
                field=f"space.{self.name}",
            )
        if self.log and self.low < 1:
            raise SpaceError(
                f"log scale needs low >= 1, got low={self.low}", field=f"space.{self.name}.low"
            )

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    def named(self, name: str) -> Int:
        return Int(self.low, self.high, log=self.log, name=name)

    def _bounds(self) -> tuple[float, float]:
        return math.log(self.low - 0.5), math.log(self.high + 0.5)

    def decode(self, u: float) -> int:
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            la, lb = self._bounds()
            i = int(round(math.exp(la + u * (lb - la))))
        else:
            i = self.low + int(math.floor(u * self.size))
        return min(max(i, self.low), self.high)

    def encode(self, value: Any) -> float:
        i = int(value)
        if self.log:
            # centre of the bin [log(i - 0.5), log(i + 0.5)]
            la, lb = self._bounds()
            c = 0.5 * (math.log(i - 0.5) + math.log(i + 0.5))
            return (c - la) / (lb - la)
        return (i - self.low + 0.5) / self.size

    def validate(self, value: Any) -> int:
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise SpaceError(f"expected an integer, got {brief(value)}", field=self.name)
        i = int(value)
        if not (self.low <= i <= self.high):
            raise SpaceError(f"{i} is outside [{self.low}, {self.high}]", field=self.name)
        return i

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": "int", "low": self.low, "high": self.high}
        if self.log:
            d["log"] = True
        return d


def _same_choice(a: Any, b: Any) -> bool:
    # True == 1 in Python; choices [1, True] are distinct values for a user.
    return type(a) is type(b) and a == b


def _choice_key(value: Any) -> tuple[type, Any]:
    # hashable for every valid choice; the type keeps True and 1 apart, as _same_choice does
    return (type(value), value)


@dataclass(frozen=True)
class Categorical(Param):
    """One of a list of choices (strings, numbers, booleans or None)."""

    kind: ClassVar[Kind] = "categorical"
    choices: tuple[Any, ...]
    # choice -> position, and number -> position for numerically equal lookups (linear-time checks)
    _positions: dict[tuple[type, Any], int] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _numbers: dict[float, int] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        where = f"space.{self.name}.choices"
        choices = self.choices
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Iterable):
            raise SpaceError(f"choices must be a list, got {brief(choices)}", field=where)
        if isinstance(choices, Sequence) and len(choices) > MAX_CHOICES:
            raise SpaceError(
                f"{len(choices)} choices; a categorical may have at most {MAX_CHOICES} "
                "(use an int parameter for a range of numbers)",
                field=where,
            )
        choices = tuple(choices)
        if len(choices) > MAX_CHOICES:
            raise SpaceError(
                f"{len(choices)} choices; a categorical may have at most {MAX_CHOICES}",
                field=where,
            )
        if not choices:
            raise SpaceError("choices must not be empty", field=where)
        positions: dict[tuple[type, Any], int] = {}
        numbers: dict[float, int] = {}
        for i, c in enumerate(choices):
            if c is not None and not isinstance(c, _Scalar):
                raise SpaceError(
                    f"choice {brief(c)} is not a string, number, boolean or null", field=where
                )
            if isinstance(c, float) and not math.isfinite(c):
                raise SpaceError(f"choice {c!r} is not a finite number", field=where)
            key = _choice_key(c)
            if key in positions:
                raise SpaceError(
                    f"choice {brief(c)} appears more than once; choices must be unique",
                    field=where,
                )
            positions[key] = i
            if _is_real(c):
                try:
                    numbers.setdefault(float(c), i)  # type: ignore[arg-type]  # _is_real(c)
                except OverflowError:  # an int too large for a float is found by its own type
                    pass
        object.__setattr__(self, "choices", choices)
        object.__setattr__(self, "_positions", positions)
        object.__setattr__(self, "_numbers", numbers)

    @property
    def size(self) -> int:
        return len(self.choices)

    def named(self, name: str) -> Categorical:
        return Categorical(self.choices, name=name)

    def index(self, value: Any) -> int:
        try:
            i = self._positions.get(_choice_key(value))
        except TypeError:  # an unhashable value is no choice
            i = None
        if i is not None:
            return i
        # JSON round trips turn 1.0 into 1 and back; accept numerically equal numbers.
        if _is_real(value):
            try:
                i = self._numbers.get(float(value))
            except OverflowError:
                i = None
            if i is not None and self.choices[i] == value:
                return i
        raise SpaceError(
            f"{brief(value)} is not one of {brief(list(self.choices))}", field=self.name
        )

    def decode(self, u: float) -> Any:
        k = len(self.choices)
        i = min(max(int(math.floor(float(u) * k)), 0), k - 1)
        return self.choices[i]

    def encode(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.choices)

    def validate(self, value: Any) -> Any:
        return self.choices[self.index(value)]

    def to_dict(self) -> dict[str, Any]:
        return {"type": "categorical", "choices": list(self.choices)}


@dataclass(frozen=True)
class Fixed(Param):
    """A constant passed to the objective; it takes no coordinate of the cube."""

    kind: ClassVar[Kind] = "fixed"
    value: Any

    def __post_init__(self) -> None:
        v = self.value
        if v is not None and not isinstance(v, _Scalar):
            raise SpaceError(
                f"a fixed value must be a string, number, boolean or null, got {brief(v)}",
                field=f"space.{self.name}.value",
            )
        if isinstance(v, float) and not math.isfinite(v):
            # NaN and infinities cannot be written to the journal (strict JSON)
            raise SpaceError(
                f"a fixed value must be a finite number, got {v!r}",
                field=f"space.{self.name}.value",
            )

    @property
    def size(self) -> int:
        return 1

    def named(self, name: str) -> Fixed:
        return Fixed(self.value, name=name)

    def decode(self, u: float) -> Any:
        return self.value

    def encode(self, value: Any) -> float:
        return 0.5

    def validate(self, value: Any) -> Any:
        if not _same_choice(value, self.value) and value != self.value:
            raise SpaceError(
                f"expected the fixed value {brief(self.value)}, got {brief(value)}",
                field=self.name,
            )
        return self.value

    def to_dict(self) -> dict[str, Any]:
        return {"type": "fixed", "value": self.value}
