"""Fuzzed study files: every invalid file is a ConfigError naming the field — never a traceback,
never a partly started study."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parabo.config import load_study_file, parse_study
from parabo.exceptions import ConfigError

VALID: dict[str, Any] = {
    "name": "fuzz",
    "direction": "minimize",
    "metric": "loss",
    "space": {
        "x": {"type": "float", "low": -5, "high": 10},
        "lr": {"type": "float", "low": 1e-5, "high": 0.1, "log": True},
        "layers": {"type": "int", "low": 1, "high": 4},
        "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
    },
    "objective": {"python": "examples.quickstart_objective:evaluate"},
    "sampler": {"name": "sobol", "seed": 0},
    "run": {"trials": 10, "workers": 2, "backend": "process", "timeout": "10m", "retries": 1},
    "storage": "runs/fuzz",
}

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def paths(d: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(d, dict):
        for k, v in d.items():
            out += paths(v, prefix + (k,))
    return out


ALL_PATHS = paths(VALID)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[dict, tuple, str]:
    data = copy.deepcopy(VALID)
    path = draw(st.sampled_from(ALL_PATHS))
    parent = data
    for k in path[:-1]:
        parent = parent[k]
    action = draw(st.sampled_from(["replace", "delete", "add_key"]))
    if action == "replace":
        parent[path[-1]] = draw(junk)
    elif action == "delete":
        del parent[path[-1]]
    else:
        target = parent[path[-1]] if isinstance(parent[path[-1]], dict) else parent
        target[draw(st.text(min_size=1, max_size=8))] = draw(junk)
    return data, path, action


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_study_files_are_accepted_or_rejected_clearly(
    case: tuple[dict, tuple, str],
) -> None:
    data, path, action = case
    try:
        parse_study(data)
    except ConfigError as exc:
        message = str(exc)
        assert message and "Traceback" not in message
        # the error names where the problem is: the mutated key or a key on its path
        named = {str(p) for p in path} | {"space", "run", "objective", "sampler"}
        assert exc.field is not None or any(n in message for n in named), (path, action, message)
        assert "\n" not in message.strip() or "Traceback" not in message


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_files(tmp_path_factory: Any, text: str) -> None:
    path = Path(tmp_path_factory.mktemp("f")) / "study.yaml"
    path.write_text(text)
    try:
        load_study_file(path)
    except ConfigError as exc:
        assert str(exc)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=6), junk, max_size=6))
def test_random_mappings(data: dict) -> None:
    try:
        parse_study(data)
    except ConfigError as exc:
        assert str(exc)


def test_the_valid_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(VALID))
    cfg, _ = load_study_file(path)
    assert cfg.run.timeout == 600 and cfg.run.retries == 1
