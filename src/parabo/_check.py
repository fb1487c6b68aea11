"""Checks of option values that name the field and the bound, and the words of their messages."""

from __future__ import annotations

import difflib
import math
import reprlib
from collections.abc import Iterable, Sequence
from typing import Any

from parabo.exceptions import ConfigError

__all__ = ["brief", "check_choice", "check_integer", "check_number", "did_you_mean"]


def check_choice(value: Any, allowed: Sequence[str], field: str) -> None:
    """``value`` must be one of ``allowed``."""
    if value not in allowed:
        name = field.rsplit(".", 1)[-1]
        raise ConfigError(
            f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}", field=field
        )


def check_integer(value: Any, low: int, field: str) -> None:
    """``value`` must be an integer (not a bool) of at least ``low``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConfigError(f"must be an integer >= {low}, got {value!r}", field=field)


def check_number(
    value: Any,
    field: str,
    low: float,
    high: float | None = None,
    *,
    strict: bool = False,
    hint: str = "",
) -> None:
    """``value`` must be a finite number ``>= low`` (``> low`` when ``strict``) and ``<= high``."""
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > low if strict else value >= low)
        and (high is None or value <= high)
    )
    if not ok:
        bound = (
            f"{'>' if strict else '>='} {low:g}"
            if high is None
            else f"between {low:g} and {high:g}"
        )
        raise ConfigError(f"must be a number {bound}{hint}, got {value!r}", field=field)


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
