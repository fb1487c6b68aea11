"""The user documentation agrees with the code: study-file keys, GP options, limits, CLI commands,
options and exit codes, failure and stop reasons, API pages.

The study-file page (docs/study-file.md) lists keys in tables whose header is
``| key | type | default | meaning |`` and whose first cell is the full key in a code
span (``run.cluster.cores``), the GP options in a ``| option | default | meaning |`` table
and the limits in a ``| limit | value | what it bounds |`` table; the command-line page
(docs/cli.md) has one ``## parabo NAME`` section per command with a ``| option | meaning |``
table and a ``| code | meaning |`` table of exit codes; the failures page (docs/robustness.md)
has ``| reason | meaning |`` and ``| stop reason | meaning |`` tables.
"""

from __future__ import annotations

import dataclasses
import doctest
import os
import re
import types
import typing
from pathlib import Path

import click
from pydantic import BaseModel

import parabo
from parabo import _problems, _yaml, config, parameters, space
from parabo.cli import ExitCode, cli
from parabo.config import StudyConfig
from parabo.samplers.gp_options import GPOptions
from parabo.trial import FailReason, StopReason

DOCS = Path(__file__).resolve().parent.parent / "docs"
_CELL_KEY = re.compile(r"^\|\s*`([^`]+)`")


def _tables(text: str, header: str) -> list[list[str]]:
    """The rows (lines) of every Markdown table in ``text`` whose header line starts with ``header``."""
    tables: list[list[str]] = []
    rows: list[str] | None = None
    for line in text.splitlines():
        s = line.strip()
        if rows is None:
            if re.sub(r"\s+", " ", s).startswith(header):
                rows = []
            continue
        if not s.startswith("|"):
            tables.append(rows)
            rows = None
        elif not re.fullmatch(r"\|[\s|:-]+\|", s):
            rows.append(s)
    if rows is not None:
        tables.append(rows)
    return tables


def _models(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation such as ``ClusterConfig | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models(arg)]
    return []


def _model_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every study-file key of ``model``, nested models included, as dotted paths."""
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        key = prefix + (info.alias or name)
        keys.add(key)
        for sub in _models(info.annotation):
            keys |= _model_keys(sub, key + ".")
    return keys


def _documented_keys() -> set[str]:
    text = (DOCS / "study-file.md").read_text(encoding="utf-8")
    keys = set()
    for table in _tables(text, "| key | type | default | meaning |"):
        for row in table:
            m = _CELL_KEY.match(row)
            assert m, f"a key row of docs/study-file.md must start with the key in backticks: {row}"
            keys.add(m.group(1))
    return keys


def test_study_file_page_documents_every_model_field() -> None:
    model_keys = _model_keys(StudyConfig)
    # the walk reaches every model the study file is validated with
    assert {"run.workers", "objective.python", "run.cluster.type", "run.resources.gpus"} <= (
        model_keys
    )
    missing = sorted(model_keys - _documented_keys())
    assert not missing, f"keys of the study-file models missing from docs/study-file.md: {missing}"


def test_study_file_page_documents_only_real_keys() -> None:
    unknown = sorted(_documented_keys() - _model_keys(StudyConfig))
    assert not unknown, f"docs/study-file.md documents keys the models do not accept: {unknown}"


def _cli_sections() -> dict[str, str]:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    parts = re.split(r"^## parabo (\S+)\s*$", text, flags=re.M)
    sections = {"": parts[0]}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        sections[name] = re.split(r"^## ", body, flags=re.M)[0]
    return sections


def _option_cells(section: str) -> set[str]:
    """Every option named in the first column of the section's option tables."""
    opts = set()
    for table in _tables(section, "| option | meaning |"):
        for row in table:
            first = row.split("|")[1]
            opts |= {o.split()[0] for o in re.findall(r"`(-[^`]+)`", first)}
    return opts


def _params(command: click.Command, ctx: click.Context) -> tuple[set[str], set[str]]:
    options: set[str] = set()
    arguments: set[str] = set()
    for p in command.get_params(ctx):
        if isinstance(p, click.Option):
            options |= set(p.opts) | set(p.secondary_opts)
        elif isinstance(p, click.Argument):
            arguments.add((p.metavar or p.name or "").upper())
    return options, arguments


def test_cli_page_has_every_command_and_option() -> None:
    sections = _cli_sections()
    root = click.Context(cli, info_name="parabo")
    group_opts, _ = _params(cli, root)
    assert group_opts <= _option_cells(sections[""]), (
        "the group's options belong above the commands"
    )
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        assert name in sections, f"docs/cli.md has no '## parabo {name}' section"
        ctx = click.Context(command, info_name=name, parent=root)
        options, arguments = _params(command, ctx)
        options -= {"-h", "--help"}  # documented once, at the top
        documented = _option_cells(sections[name])
        assert options - documented == set(), f"parabo {name}: undocumented {options - documented}"
        assert documented - options == set(), (
            f"parabo {name}: no such option {documented - options}"
        )
        for arg in arguments:
            assert arg in sections[name], f"parabo {name}: argument {arg} not named"
    extra = set(sections) - set(cli.commands) - {""}
    assert not extra, f"docs/cli.md documents commands that do not exist: {extra}"


def _first_cells(page: str, header: str) -> list[str]:
    """The code spans that open the rows of the tables of ``page`` under ``header``."""
    cells = []
    for table in _tables((DOCS / page).read_text(encoding="utf-8"), header):
        for row in table:
            m = _CELL_KEY.match(row)
            assert m, f"a row of docs/{page} must start with a code span: {row}"
            cells.append(m.group(1))
    return cells


def test_cli_page_lists_exactly_the_exit_codes() -> None:
    documented = _first_cells("cli.md", "| code | meaning |")
    assert sorted(documented, key=int) == [str(int(c)) for c in sorted(ExitCode)]


def test_failure_reasons_documented_once_and_all() -> None:
    """The vocabulary of FailReason and StopReason: one table each, on the failures page."""
    reasons = _first_cells("robustness.md", "| reason | meaning |")
    assert sorted(reasons) == sorted(r.value for r in FailReason)
    stops = _first_cells("robustness.md", "| stop reason | meaning |")
    assert sorted(stops) == sorted(r.value for r in StopReason)
    for page in DOCS.rglob("*.md"):  # the other pages link to it instead of repeating it
        if page.name != "robustness.md":
            text = page.read_text(encoding="utf-8")
            assert "| reason | meaning |" not in text, page.name


def _cell_default(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_study_file_page_lists_every_gp_option_with_its_default() -> None:
    rows = _tables((DOCS / "study-file.md").read_text(encoding="utf-8"), "| option | default |")
    assert len(rows) == 1, "one table of GP options on docs/study-file.md"
    documented = {}
    for row in rows[0]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        documented[cells[0].strip("`")] = cells[1].strip("`")
    fields = {f.name: f.default for f in dataclasses.fields(GPOptions)}
    assert set(documented) == set(fields), "the GP options table must list the GPOptions fields"
    for name, default in fields.items():
        if default is not None:
            assert documented[name] == _cell_default(default), f"default of sampler.{name}"


_LIMITS = {
    "MAX_WORKERS": config.MAX_WORKERS,
    "MAX_TRIALS": config.MAX_TRIALS,
    "MAX_RETRIES": config.MAX_RETRIES,
    "MAX_SEED": config.MAX_SEED,
    "MAX_OBJECTIVES": config.MAX_OBJECTIVES,
    "MAX_CONSTRAINTS": config.MAX_CONSTRAINTS,
    "MAX_INITIAL": config.MAX_INITIAL,
    "MAX_SECONDS": config.MAX_SECONDS,
    "MAX_PARAMS": space.MAX_PARAMS,
    "MAX_CHOICES": parameters.MAX_CHOICES,
    "MAX_INT": parameters.MAX_INT,
    "MAX_FILE_BYTES": _yaml.MAX_FILE_BYTES,
    "MAX_DEPTH": _yaml.MAX_DEPTH,
    "MAX_VALUES": _yaml.MAX_VALUES,
    "MAX_PROBLEMS": _problems.MAX_PROBLEMS,
}


def test_study_file_page_lists_every_limit_with_its_value() -> None:
    config_limits = {n for n in config.__all__ if n.startswith("MAX_")}
    assert config_limits <= set(_LIMITS), f"new limits to document: {config_limits - set(_LIMITS)}"
    rows = _tables((DOCS / "study-file.md").read_text(encoding="utf-8"), "| limit | value |")
    assert len(rows) == 1
    documented = {}
    for row in rows[0]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        number = re.match(r"[0-9][0-9,]*", cells[1])
        assert number, row
        documented[cells[0].strip("`")] = int(number.group(0).replace(",", ""))
    assert documented == {k: int(v) for k, v in _LIMITS.items()}


def test_api_reference_covers_public_names() -> None:
    """Every name in ``parabo.__all__`` has a mkdocstrings entry (``::: parabo....Name``)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "reference").glob("*.md"))
    entries = {m.rsplit(".", 1)[-1] for m in re.findall(r"^::: (\S+)", text, flags=re.M)}
    missing = sorted(set(parabo.__all__) - entries - {"__version__"})
    assert not missing, f"public names without an API reference entry in docs/reference/: {missing}"


def test_no_page_names_a_round_or_a_date() -> None:
    """The pages describe the code as it is, not the history of the experiments."""
    for page in DOCS.rglob("*.md"):
        for line in page.read_text(encoding="utf-8").splitlines():
            assert not re.search(r"\bround[ -]?[0-9]+", line, flags=re.I), f"{page.name}: {line}"
            assert not re.search(r"\b20[0-9]{2}-[01][0-9]-[0-3][0-9]\b", line), (
                f"{page.name}: {line}"
            )


# the question folders: each has an entry script (tests/test_benchmarks.py checks the rest)
_BENCHMARKS = {p.name for p in (DOCS.parent / "benchmarks").iterdir() if (p / "run.py").is_file()}


def test_pages_name_only_the_benchmark_folders() -> None:
    """``benchmarks/<question>/`` on any page (and the README) is one of the question folders."""
    pages = [*DOCS.rglob("*.md"), DOCS.parent / "README.md"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for name in re.findall(r"benchmarks/([A-Za-z_]+)", text):
            if name != "README":
                assert name in _BENCHMARKS, f"{page.name} names benchmarks/{name}"


def test_readme_links_point_to_files() -> None:
    root = DOCS.parent
    text = (root / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if "://" not in target:
            assert (root / target).exists(), f"README.md links to a missing {target}"


def test_architecture_page_lists_every_module() -> None:
    """docs/architecture.md has one row per module of src/parabo, and no row for a missing one."""
    src = DOCS.parent / "src" / "parabo"
    modules = {str(f.relative_to(src)) for f in src.rglob("*.py")}
    documented = set(_first_cells("architecture.md", "| module | what it holds |"))
    assert modules - documented == set(), f"modules missing from the page: {modules - documented}"
    assert documented - modules == set(), f"the page lists missing modules: {documented - modules}"


def test_python_api_page_examples_run(tmp_path: Path) -> None:
    """The ``>>>`` examples of docs/python-api.md run as doctests (in a scratch folder)."""
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = doctest.testfile(
            str(DOCS / "python-api.md"), module_relative=False, optionflags=doctest.ELLIPSIS
        )
    finally:
        os.chdir(here)
    assert result.attempted >= 5, "the page lost its runnable examples"
    assert result.failed == 0
