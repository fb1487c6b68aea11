"""Search spaces: parameters, validation, sampling and the unit-cube encoding.

A :class:`Space` maps a name to a parameter. Every non-fixed parameter owns one
coordinate of the unit cube ``[0, 1]^d`` (``d = space.dim``), in the order of
``space.names``; fixed parameters take no coordinate.

- ``Float(low, high)``: ``u = (x - low) / (high - low)``; with ``log=True`` the
  same in ``log(x)``.
- ``Int(low, high)``: the ``high - low + 1`` values own equal bins of
  ``[0, 1]``; a value encodes to the centre of its bin. With ``log=True`` the
  bins are equal in ``log`` over ``[low - 0.5, high + 0.5]``.
- ``Categorical(choices)``: choice ``i`` of ``k`` owns the bin
  ``[i/k, (i+1)/k)`` and encodes to its centre. Samplers that model
  categoricals explicitly (the GP uses a Hamming-type kernel) read
  ``param.kind`` and ``param.size``.

``space.from_unit(space.to_unit(p)) == p`` holds exactly for every valid
parameter dict ``p`` whose floats are values that ``from_unit`` can produce
(every value a sampler suggests), and the decode of any point of the cube is a
valid parameter dict.
"""

from __future__ import annotations

import difflib
import math
import reprlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from parabo.exceptions import SpaceError

__all__ = [
    "MAX_CHOICES",
    "MAX_INT",
    "MAX_PARAMS",
    "Categorical",
    "Fixed",
    "Float",
    "Int",
    "Param",
    "Space",
    "check_space",
]

Kind = Literal["float", "int", "categorical", "fixed"]
_Scalar = (str, int, float, bool)

#: the most choices of one categorical parameter
MAX_CHOICES = 10_000
#: the most parameters in one space
MAX_PARAMS = 1_000
#: the largest magnitude of an int parameter's bounds (the integers a float holds exactly)
MAX_INT = 2**53

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 80
_repr.maxlist = _repr.maxtuple = _repr.maxset = 10
_repr.maxdict = 6
_repr.maxlevel = 3
_repr.maxlong = 40


def brief(value: object) -> str:
    """``repr(value)`` cut to a readable length, for error messages (any size of input)."""
    return _repr.repr(value)


def did_you_mean(word: object, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when ``word`` is a close misspelling of one of ``options``, else ``""``."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


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


_PARAM_KEYS: dict[str, tuple[type[Param], set[str], set[str]]] = {
    # type: (class, required keys, optional keys)
    "float": (Float, {"low", "high"}, {"log"}),
    "int": (Int, {"low", "high"}, {"log"}),
    "categorical": (Categorical, {"choices"}, set()),
    "fixed": (Fixed, {"value"}, set()),
}
_TYPE_ALIASES = {"real": "float", "integer": "int", "choice": "categorical", "const": "fixed"}


def param_from_dict(name: str, spec: Any) -> Param:
    """Build one parameter from its study-file form, e.g. ``{type: float, low: 0, high: 1}``.

    A bare list is shorthand for a categorical; a bare scalar for a fixed value.
    """
    where = f"space.{name}"
    if isinstance(spec, Param):
        return spec.named(name)
    if isinstance(spec, list):
        return Categorical(tuple(spec), name=name)
    if spec is None or isinstance(spec, _Scalar):
        return Fixed(spec, name=name)
    if not isinstance(spec, Mapping):
        raise SpaceError(
            f"expected a mapping like {{type: float, low: 0, high: 1}}, got {brief(spec)}",
            field=where,
        )
    if "type" not in spec:
        raise SpaceError(
            "missing 'type' (one of: float, int, categorical, fixed)", field=f"{where}.type"
        )
    t = spec["type"]
    t = _TYPE_ALIASES.get(t, t) if isinstance(t, str) else None
    if t not in _PARAM_KEYS:
        raise SpaceError(
            f"unknown type {brief(spec['type'])}"
            + did_you_mean(spec["type"], [*_PARAM_KEYS, *_TYPE_ALIASES])
            + "; use one of: float, int, categorical, fixed",
            field=f"{where}.type",
        )
    cls, required, optional = _PARAM_KEYS[t]
    keys = set(spec) - {"type"}
    for k in sorted(keys - required - optional, key=str):
        raise SpaceError(
            f"unknown key {brief(k)} for a {t} parameter"
            + did_you_mean(k, required | optional)
            + "; allowed: "
            + ", ".join(sorted(required | optional)),
            field=f"{where}.{k}",
        )
    for k in sorted(required - keys):
        raise SpaceError(f"missing required key {k!r} for a {t} parameter", field=f"{where}.{k}")
    if "log" in spec and not isinstance(spec["log"], bool):
        raise SpaceError(f"must be true or false, got {brief(spec['log'])}", field=f"{where}.log")
    kwargs = {k: spec[k] for k in keys}
    if t == "categorical":
        return Categorical(kwargs["choices"], name=name)
    return cls(**kwargs, name=name)


def _named_param(name: Any, spec: Any) -> Param:
    if not isinstance(name, str) or not name or not name.isprintable():
        raise SpaceError(
            f"parameter names must be non-empty printable strings, got {brief(name)}",
            field="space",
        )
    return param_from_dict(name, spec)


def check_space(params: Any) -> list[SpaceError]:
    """Every problem of a study file's space, at most one per parameter (empty: the space is valid).

    :class:`Space` stops at the first problem; a study file's errors list them all.
    """
    if isinstance(params, Mapping) and 0 < len(params) <= MAX_PARAMS:
        problems = []
        for name, spec in params.items():
            try:
                _named_param(name, spec)
            except SpaceError as exc:
                problems.append(exc)
        if problems:
            return problems
    try:
        Space(params)
    except SpaceError as exc:
        return [exc]
    return []


class Space(Mapping[str, Param]):
    """An ordered mapping of parameter names to parameters.

    Build one from parameter objects or from the study-file dict::

        >>> s = Space({"x": {"type": "float", "low": -5, "high": 10}, "k": Int(1, 4)})
        >>> s.names, s.dim
        (('x', 'k'), 2)
        >>> s.from_unit([0.0, 0.99])
        {'x': -5.0, 'k': 4}
    """

    def __init__(self, params: Mapping[str, Any] | Space) -> None:
        if isinstance(params, Space):
            params = dict(params.items())
        if not isinstance(params, Mapping):
            raise SpaceError(
                f"a space must be a mapping of parameter names to definitions, got {type(params).__name__}",
                field="space",
            )
        if not params:
            raise SpaceError("the space has no parameters", field="space")
        if len(params) > MAX_PARAMS:
            raise SpaceError(
                f"{len(params)} parameters; a space may have at most {MAX_PARAMS}", field="space"
            )
        built = {name: _named_param(name, spec) for name, spec in params.items()}
        self._params = built
        self._free = tuple(p for p in built.values() if p.kind != "fixed")
        if not self._free:
            raise SpaceError("every parameter is fixed: nothing to optimize", field="space")

    # Mapping protocol
    def __getitem__(self, name: str) -> Param:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        return f"Space({self.to_dict()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self._params))

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the parameters that own a coordinate of the unit cube, in order."""
        return tuple(p.name for p in self._free)

    @property
    def params(self) -> tuple[Param, ...]:
        """The parameters that own a coordinate of the unit cube, in order."""
        return self._free

    @property
    def dim(self) -> int:
        """Dimension ``d`` of the unit cube."""
        return len(self._free)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The study-file form of the space (round-trips through ``Space(...)``)."""
        return {n: p.to_dict() for n, p in self._params.items()}

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check a parameter dict; return it with values normalized to the space's types.

        Fixed parameters may be omitted. Raises :class:`SpaceError` naming the parameter.
        """
        if not isinstance(params, Mapping):
            raise SpaceError(f"parameters must be a mapping, got {type(params).__name__}")
        unknown = set(params) - set(self._params)
        if unknown:
            raise SpaceError(
                f"unknown parameter(s) {sorted(unknown)!r}; the space has {list(self._params)!r}"
            )
        out: dict[str, Any] = {}
        for name, p in self._params.items():
            if name not in params:
                if p.kind == "fixed":
                    out[name] = p.validate(p.value)  # type: ignore[attr-defined]
                    continue
                raise SpaceError("missing value", field=name)
            out[name] = p.validate(params[name])
        return out

    def to_unit(self, params: Mapping[str, Any]) -> np.ndarray:
        """Encode one parameter dict as a point ``(d,)`` of the unit cube."""
        return np.array([p.encode(params[p.name]) for p in self._free], dtype=float)

    def to_unit_array(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode parameter dicts as points ``(n, d)`` of the unit cube."""
        if not rows:
            return np.empty((0, self.dim))
        return np.array([[p.encode(r[p.name]) for p in self._free] for r in rows], dtype=float)

    def from_unit(self, u: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """Decode a point ``(d,)`` of the unit cube into a parameter dict (fixed values included)."""
        u = np.asarray(u, dtype=float).reshape(-1)
        if u.shape[0] != self.dim:
            raise SpaceError(f"expected a point of dimension {self.dim}, got {u.shape[0]}")
        it = iter(u.tolist())
        return {
            name: (p.decode(0.5) if p.kind == "fixed" else p.decode(next(it)))
            for name, p in self._params.items()
        }

    def snap(self, u: np.ndarray) -> np.ndarray:
        """Round points ``(n, d)`` to the encodings of the values they decode to."""
        u = np.atleast_2d(np.asarray(u, dtype=float))
        return self.to_unit_array([self.from_unit(row) for row in u])

    def sample(self, rng: np.random.Generator, n: int = 1) -> list[dict[str, Any]]:
        """Draw ``n`` parameter dicts uniformly (in the unit cube, so log-uniform for log scales)."""
        return [self.from_unit(row) for row in rng.random((n, self.dim))]


def as_space(space: Space | Mapping[str, Any]) -> Space:
    """Coerce a plain dict (study-file shape) or a Space into a Space."""
    return space if isinstance(space, Space) else Space(space)
