"""``parabo run`` on generated study files: exit 2 with one line naming a field, or a real run
that ends within seconds — never a traceback, a hang or a partly written study."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parabo.cli import cli

OBJECTIVE = (
    "def evaluate(params):\n    return sum(abs(hash(str(v))) % 97 for v in params.values())\n"
)

BASE: dict[str, Any] = {
    "name": "fuzz",
    "direction": "minimize",
    "space": {
        "x": {"type": "float", "low": -5, "high": 10},
        "lr": {"type": "float", "low": 1e-5, "high": 0.1, "log": True},
        "layers": {"type": "int", "low": 1, "high": 4},
        "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
    },
    "objective": {"python": "fuzz_objective:evaluate"},
    "sampler": "random",
    "seed": 0,
    "run": {"trials": 3, "workers": 2, "backend": "inline", "timeout": "10s", "retries": 1},
}

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.sampled_from(["1e18", "-1", "0", "../x", "/abs", "proces", "{params.nope}", "", "[/]"]),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _paths(d: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix] if prefix else []
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, (*prefix, k))
    return out


PATHS = _paths(BASE)
KEEP_SMALL = {("run", "trials"), ("run", "workers"), ("run", "backend")}  # a run stays seconds


@st.composite
def study_files(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[str, ...]]:
    data = copy.deepcopy(BASE)
    chosen: tuple[str, ...] = ()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from([p for p in PATHS if p not in KEEP_SMALL]))
        parent: Any = data
        try:
            for k in path[:-1]:
                parent = parent[k]
            if draw(st.booleans()):
                parent[path[-1]] = draw(junk)
            else:
                del parent[path[-1]]
        except (KeyError, TypeError):
            continue  # an earlier mutation removed the parent
        chosen += path
    return data, chosen


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=study_files())
def test_run_on_a_generated_study_file_exits_cleanly(
    tmp_path: Path, monkeypatch: Any, case: tuple[dict[str, Any], tuple[str, ...]]
) -> None:
    data, path = case
    folder = Path(tmp_path) / f"case{time.monotonic_ns()}"
    folder.mkdir()
    (folder / "fuzz_objective.py").write_text(OBJECTIVE)
    data = {**data, "storage": str(folder / "out")}
    (folder / "study.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.chdir(folder)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["run", str(folder / "study.yaml"), "-q"])
    took = time.monotonic() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    if result.exit_code == 2:
        lines = [line for line in result.output.strip().splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        # the message names a field: a mutated key, a key on its path, or a section
        named = set(path) | {"space", "run", "objective", "sampler", "seed", "name", "direction"}
        assert any(n in lines[0] for n in named), (path, result.output)
        assert not (folder / "out" / "journal.jsonl").exists()  # nothing started
    assert took < 20, (took, path)
