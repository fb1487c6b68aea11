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

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from parabo._check import brief, did_you_mean
from parabo.exceptions import SpaceError
from parabo.parameters import (
    MAX_CHOICES,
    MAX_INT,
    Categorical,
    Fixed,
    Float,
    Int,
    Param,
)

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
    "as_space",
    "brief",
    "check_space",
    "did_you_mean",
    "param_from_dict",
]

#: the most parameters in one space
MAX_PARAMS = 1_000

_PARAM_KEYS: dict[str, tuple[type[Param], set[str], set[str]]] = {
    # type: (class, required keys, optional keys)
    "float": (Float, {"low", "high"}, {"log"}),
    "int": (Int, {"low", "high"}, {"log"}),
    "categorical": (Categorical, {"choices"}, set()),
    "fixed": (Fixed, {"value"}, set()),
}
_SCALARS = (str, int, float, bool)
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
    if spec is None or isinstance(spec, _SCALARS):
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
