"""Every study-file value is bounded and checked before anything starts (issue 21 items 6 and 7)."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from parabo.config import load_study_file, parse_study, storage_folder
from parabo.exceptions import ConfigError

ROOT = Path(__file__).resolve().parents[1]

BASE: dict[str, Any] = {
    "name": "t",
    "space": {"x": {"type": "float", "low": 0, "high": 1}},
    "objective": {"python": "m:f"},
    "sampler": "random",
    "run": {"trials": 3, "workers": 1, "backend": "inline"},
}


def rejected(mutate: Callable[[dict[str, Any]], None]) -> ConfigError:
    data = copy.deepcopy(BASE)
    mutate(data)
    with pytest.raises(ConfigError) as info:
        parse_study(data)
    return info.value


def rejected_file(tmp_path: Path, text: str, name: str = "s.yaml") -> ConfigError:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_study_file(path)
    return info.value


@pytest.mark.parametrize(
    "mutate, field, words",
    [
        (lambda d: d["run"].update(workers=10**9), "run.workers", "at most 4096"),
        (lambda d: d["run"].update(workers=10**9, backend="process"), "run.workers", "CPU cores"),
        (lambda d: d.update(seed=-5), "seed", "from 0 to 9223372036854775807"),
        (lambda d: d.update(seed=2**64), "seed", "from 0 to"),
        (lambda d: d.update(sampler={"name": "random", "seed": -1}), "sampler.seed", "from 0"),
        (lambda d: d["run"].update(trials=1e18), "run.trials", "at most 10000000"),
        (lambda d: d["run"].update(retries=10**9), "run.retries", "at most 100"),
        (lambda d: d["run"].update(timeout=1e300), "run.timeout", "at most"),
        (lambda d: d["run"].update(stop_grace=-1), "run.stop_grace", "zero or a positive"),
        (lambda d: d.update(storage="a\0b"), "storage", "NUL"),
        (lambda d: d["run"].update(cache_dir="c\0"), "run.cache_dir", "NUL"),
        (lambda d: d["space"].update(y=float("nan")), "space.y.value", "finite"),
        (
            lambda d: d["space"].update(y={"type": "fixed", "value": float("inf")}),
            "space.y.value",
            "finite",
        ),
        (
            lambda d: d["space"].update(y={"type": "float", "low": -1e308, "high": 1e308}),
            "space.y",
            "too wide",
        ),
        (
            lambda d: d["space"].update(y={"type": "int", "low": 0, "high": 10**30}),
            "space.y.high",
            "2**53",
        ),
        (lambda d: d["space"].update(c=list(range(100_000))), "space.c.choices", "at most 10000"),
        (lambda d: d.update(objective={"command": [""]}), "objective.command", "program"),
        (
            lambda d: d.update(objective={"command": ["echo", "{params.nope}"]}),
            "objective.command.1",
            "{params.nope} names no parameter",
        ),
        (
            lambda d: d.update(objective={"command": ["echo", "{param_file}"]}),
            "objective.command.1",
            "did you mean {params_file}",
        ),
        (
            lambda d: d.update(objective={"command": ["echo"], "env": {"A=B": "1"}}),
            "objective.env",
            "'='",
        ),
    ],
)
def test_out_of_bounds_values_are_rejected_with_the_limit(
    mutate: Callable[[dict[str, Any]], None], field: str, words: str
) -> None:
    exc = rejected(mutate)
    assert exc.field == field, exc
    assert words in exc.message, exc


def test_the_field_is_named_once() -> None:
    exc = rejected(lambda d: d["run"].update(timeout="soon"))
    assert str(exc).count("run.timeout") == 1, exc


def test_every_problem_is_listed_with_its_own_field() -> None:
    def many(d: dict[str, Any]) -> None:
        d["run"] = {"workers": 0, "trials": -1, "backend": "proces"}
        d["seed"] = "x"

    text = str(rejected(many))
    for part in ("run.workers: must be at least 1", "run.trials: must be at least 0", "seed: "):
        assert part in text, text
    assert "did you mean 'process'" in text and "more problem" not in text and "\n" not in text


def test_a_misspelt_required_key_is_reported_once_at_the_typo() -> None:
    exc = rejected(lambda d: d.update(spcae=d.pop("space")))
    assert exc.field == "spcae"
    assert "unknown key 'spcae' (did you mean 'space'" in str(exc)
    assert "missing required key" not in str(exc)


def test_typos_in_the_space_get_a_did_you_mean() -> None:
    exc = rejected(lambda d: d["space"].update(y={"type": "flaot", "low": 0, "high": 1}))
    assert "did you mean 'float'" in str(exc) and exc.field == "space.y.type"
    exc = rejected(lambda d: d["space"].update(y={"type": "float", "lwo": 0, "high": 1}))
    assert "did you mean 'low'" in str(exc) and exc.field == "space.y.lwo"


def test_a_huge_categorical_validates_in_linear_time() -> None:
    data = copy.deepcopy(BASE)
    data["space"]["c"] = [f"choice {i}" for i in range(10_000)]
    start = time.perf_counter()
    parse_study(data)
    assert time.perf_counter() - start < 5  # quadratic: 10,000 choices took about 13 s


def test_duplicate_yaml_keys_are_rejected_with_key_and_line(tmp_path: Path) -> None:
    exc = rejected_file(
        tmp_path, "name: a\nname: b\nspace: {x: [1, 2]}\nobjective: {python: m:f}\n"
    )
    assert exc.field == "name" and "duplicate key 'name' at line 2 (first at line 1)" in str(exc)
    exc = rejected_file(tmp_path, "space:\n  x: {type: float, low: 0, low: 1, high: 2}\n")
    assert exc.field == "space.x.low"
    exc = rejected_file(tmp_path, '{"name": "a", "name": "b"}', "s.json")
    assert "duplicate key 'name'" in str(exc)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    exc = rejected_file(tmp_path, "a: " + "[" * 5000 + "]" * 5000)
    assert "nested more than 32 levels" in str(exc)
    exc = rejected_file(tmp_path, "[" * 100_000 + "]" * 100_000, "s.json")
    assert "nested" in str(exc)


def test_a_billion_laughs_is_refused_quickly_with_a_short_message(tmp_path: Path) -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
    text = (
        "\n".join(lines)
        + "\nspace: {c: {type: categorical, choices: *l8}}\nobjective: {python: m:f}\n"
    )
    start = time.perf_counter()
    exc = rejected_file(tmp_path, text)
    assert time.perf_counter() - start < 5
    assert "more than 200000 values" in str(exc) and len(str(exc)) < 500


def test_recursive_aliases_and_unreadable_scalars_are_config_errors(tmp_path: Path) -> None:
    assert "recursive" in str(rejected_file(tmp_path, "space: &a {x: *a}\n"))
    assert "4300 digits" in str(rejected_file(tmp_path, "seed: " + "1" * 5000 + "\n"))
    assert "month" in str(rejected_file(tmp_path, "name: 2024-13-45\n"))


def test_a_huge_file_is_refused(tmp_path: Path) -> None:
    exc = rejected_file(tmp_path, "# " + "x" * 2_000_000 + "\n")
    assert "at most 1000000 bytes" in str(exc)


def test_error_messages_stay_short() -> None:
    exc = rejected(lambda d: d["space"].update(y={"type": "fixed", "value": ["x" * 10**6]}))
    assert len(str(exc)) < 500


def test_storage_folder_is_resolved_like_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = parse_study({**BASE, "storage": "out"})
    assert storage_folder(cfg, tmp_path) == (tmp_path / "out").resolve()
    monkeypatch.chdir(tmp_path)
    assert (
        storage_folder(parse_study(BASE), Path("/elsewhere")) == (tmp_path / "runs" / "t").resolve()
    )


def parabo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parabo.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_best_and_export_take_the_study_file(tmp_path: Path) -> None:
    study = tmp_path / "s.yaml"
    study.write_text(
        "name: t\nspace: {x: {type: float, low: 0, high: 1}}\n"
        "objective: {command: [python3, -c, 'import json,sys; json.dump({\"value\": 1.0}, open(sys.argv[1], \"w\"))', '{result_file}']}\n"
        "sampler: random\nrun: {trials: 2, backend: inline}\nstorage: out\n"
    )
    assert parabo("run", str(study), cwd=tmp_path).returncode == 0
    r = parabo("status", str(study), "--json", cwd=ROOT)
    assert r.returncode == 0 and '"completed": 2' in r.stdout, r.stderr
    r = parabo("best", str(study), cwd=ROOT)
    assert r.returncode == 0 and "best value 1" in r.stdout, r.stderr
    r = parabo("export", str(study), cwd=ROOT)
    assert r.returncode == 0 and (tmp_path / "out" / "trials.csv").exists(), r.stderr


@pytest.mark.parametrize("early_stopping", [None, {"rule": "median"}])
def test_a_budget_placeholder_needs_the_full_budget(early_stopping: Any) -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["objective"] = {"command": ["train", "--epochs", "{budget}"]}
        if early_stopping is not None:
            d["early_stopping"] = early_stopping

    err = rejected(mutate)
    assert err.field == "objective.command.2"
    assert "early_stopping.max" in str(err)
    ok = copy.deepcopy(BASE)
    ok["objective"] = {"command": ["train", "--epochs", "{budget}"]}
    ok["early_stopping"] = {"rule": "asha", "max": 9}
    parse_study(ok)
