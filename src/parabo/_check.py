"""Checks of option values that name the field and the bound (shared by the option records)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from parabo.exceptions import ConfigError

__all__ = ["check_choice", "check_integer", "check_number"]


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
