"""Problems in a study file, in the project's words: pydantic's errors turned into
``field: message`` pairs, limits on the whole document, and the one-line error that lists them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from parabo._check import brief, did_you_mean
from parabo._yaml import MAX_DEPTH, MAX_VALUES
from parabo.exceptions import ConfigError

__all__ = ["MAX_PROBLEMS", "Problem", "check_tree", "combine", "problems_of"]

#: the most problems one error message lists
MAX_PROBLEMS = 20

Problem = tuple[str | None, str]  # (field, message)

# loc segments that name a member of a union (sampler.str, run.gpus.0.int), not a key
_UNION_TAG = re.compile(r"(str|int|float|bool|none|[a-z]+\[.*\]|[A-Z]\w*Config|function-.*)")

_NOUNS = {
    "string_type": "a string",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "none_required": "null",
}


def _field_of(loc: tuple[int | str, ...]) -> str | None:
    parts = [str(p) for i, p in enumerate(loc) if not (i and _UNION_TAG.fullmatch(str(p)))]
    parts = [p for p in parts if not p.startswith("function-")]
    return ".".join(parts) or None


def _allowed_keys(model: type[BaseModel], loc: list[str]) -> list[str]:
    parent: Any = model
    for part in loc:
        ann = (
            parent.model_fields.get(part)
            if isinstance(parent, type) and issubclass(parent, BaseModel)
            else None
        )
        parent = ann.annotation if ann is not None else None
        for arg in getattr(parent, "__args__", ()):  # e.g. RunConfig | None
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                parent = arg
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        return sorted(parent.model_fields)
    return []


def _message(err: Any) -> str:
    """One pydantic error in the project's words, with the offending value cut to size."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    got = f", got {brief(err['input'])}" if "input" in err else ""
    if kind == "value_error":
        cause = ctx.get("error")
        text = cause.message if isinstance(cause, ConfigError) else str(cause or err["msg"])
        return text.removeprefix("Value error, ")
    if kind == "missing":
        return "missing required key"
    if kind in ("literal_error", "enum"):
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(err.get("input"), options)
        return f"must be {ctx.get('expected', 'one of the listed values')}{got}{hint}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "less_than_equal": ("at most", "le"),
        "greater_than": ("more than", "gt"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}{got}"
    if kind in ("too_long", "too_short"):
        words = "at most" if kind == "too_long" else "at least"
        limit = ctx.get("max_length" if kind == "too_long" else "min_length")
        return f"must hold {words} {limit} items, got {ctx.get('actual_length')}"
    if kind in ("int_from_float", "int_parsing_size"):
        return f"expected a whole number{got}"
    if kind in _NOUNS:
        return f"expected {_NOUNS[kind]}{got}"
    return str(err["msg"]).replace("Input should be", "must be") + got


def _unknown_key(err: Any, model: type[BaseModel], missing: set[str | None]) -> Problem:
    loc = [str(p) for p in err["loc"]]
    allowed = _allowed_keys(model, loc[:-1])
    key = loc[-1]
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        sibling = ".".join([*loc[:-1], close[0]])
        missed = ", which is missing" if sibling in missing else ""
        return ".".join(loc), f"unknown key {brief(key)} (did you mean {close[0]!r}{missed}?)"
    listed = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
    return ".".join(loc), f"unknown key {brief(key)}{listed}"


def problems_of(exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Every problem of a validation error, one per field, typos with a "did you mean".

    A required key that is missing because it was misspelt is reported once, at the typo.
    """
    by_field: dict[str | None, list[Any]] = {}
    for err in exc.errors():
        by_field.setdefault(_field_of(err["loc"]), []).append(err)
    missing = {f for f, errs in by_field.items() if errs[0]["type"] == "missing"}
    out: list[Problem] = []
    explained: set[str | None] = set()
    for field, errs in by_field.items():
        err = errs[0]
        if err["type"] == "extra_forbidden":
            problem = _unknown_key(err, model, missing)
            if "which is missing" in problem[1]:
                m = re.search(r"did you mean '([^']+)'", problem[1])
                assert m is not None
                explained.add(".".join([*map(str, err["loc"][:-1]), m.group(1)]))
            out.append(problem)
            continue
        kinds = [e["type"] for e in errs]
        if len(errs) > 1 and all(k in _NOUNS for k in kinds):
            # a union such as str | dict: name every accepted kind once
            nouns = list(dict.fromkeys(_NOUNS[k] for k in kinds))
            got = f", got {brief(err['input'])}" if "input" in err else ""
            out.append((field, f"expected {' or '.join(nouns)}{got}"))
            continue
        specific = next((e for e in errs if e["type"] not in _NOUNS), err)
        out.append((field, _message(specific)))
    return [p for p in out if not (p[0] in explained and p[1] == "missing required key")]


def _format_errors(exc: ValidationError, model: type[BaseModel]) -> ConfigError:
    """A :class:`ConfigError` that lists every problem of ``exc``, each with its field."""
    return combine(problems_of(exc, model))


def _one_line(text: str) -> str:
    return " ".join(text.split()) if "\n" in text or "\r" in text else text


def combine(problems: list[Problem], order: list[str] | None = None) -> ConfigError:
    """One :class:`ConfigError` listing every problem on one line, the first one's field as its field."""
    if order:
        rank = {k: i for i, k in enumerate(order)}
        problems = sorted(problems, key=lambda p: rank.get((p[0] or "").split(".")[0], len(rank)))
    first_field, first = problems[0]
    shown = [first] + [f"{f}: {m}" if f else m for f, m in problems[1:MAX_PROBLEMS]]
    message = "; ".join(_one_line(m) for m in shown)
    if len(problems) > MAX_PROBLEMS:
        message += f"; and {len(problems) - MAX_PROBLEMS} more problems"
    return ConfigError(message, field=first_field)


def check_tree(data: Any) -> list[Problem]:
    """Limits on the whole document: nesting, number of values, NUL bytes in any text.

    Walks at most ``MAX_VALUES`` values, so shared or recursive structures (YAML
    aliases, Python references) cannot make it slow.
    """
    problems: list[Problem] = []
    stack: list[tuple[Any, list[str]]] = [(data, [])]
    seen = 0
    while stack:
        value, path = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise ConfigError(
                f"the study holds more than {MAX_VALUES} values (YAML aliases count once per use)"
            )
        if len(path) > MAX_DEPTH:
            raise ConfigError(
                f"nested more than {MAX_DEPTH} levels deep (or a value contains itself)",
                field=".".join(path[:3]),
            )
        where = ".".join(path) or None
        if isinstance(value, (str, bytes)):
            if (isinstance(value, str) and "\0" in value) or (
                isinstance(value, bytes) and b"\0" in value
            ):
                problems.append((where, "contains a NUL byte (\\0); remove it"))
        elif isinstance(value, Mapping):
            for k, v in value.items():
                if isinstance(k, str) and "\0" in k:
                    problems.append((where, f"the key {brief(k)} contains a NUL byte (\\0)"))
                stack.append((v, [*path, str(k)]))
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend((v, [*path, str(i)]) for i, v in enumerate(value))
    return problems
