"""The user documentation agrees with the code: study-file keys, CLI commands and options, API pages.

The study-file page (docs/study-file.md) lists keys in tables whose header is
``| key | type | default | meaning |`` and whose first cell is the full key in a code
span (``run.cluster.cores``); the command-line page (docs/cli.md) has one
``## parabo NAME`` section per command with a ``| option | meaning |`` table.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import click
import pytest
from pydantic import BaseModel

import parabo
from parabo.cli import cli
from parabo.config import StudyConfig

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
            arguments.add((p.name or "").upper())
    return options, arguments


def test_cli_page_has_every_command_and_option() -> None:
    sections = _cli_sections()
    root = click.Context(cli, info_name="parabo")
    group_opts, _ = _params(cli, root)
    assert group_opts <= _option_cells(sections[""]), "the group's options belong above the commands"
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        assert name in sections, f"docs/cli.md has no '## parabo {name}' section"
        ctx = click.Context(command, info_name=name, parent=root)
        options, arguments = _params(command, ctx)
        options -= {"-h", "--help"}  # documented once, at the top
        documented = _option_cells(sections[name])
        assert options - documented == set(), f"parabo {name}: undocumented {options - documented}"
        assert documented - options == set(), f"parabo {name}: no such option {documented - options}"
        for arg in arguments:
            assert arg in sections[name], f"parabo {name}: argument {arg} not named"
    extra = set(sections) - set(cli.commands) - {""}
    assert not extra, f"docs/cli.md documents commands that do not exist: {extra}"


@pytest.mark.parametrize("code", ["0", "1", "2", "3", "130", "143"])
def test_cli_page_lists_exit_code(code: str) -> None:
    rows = _tables((DOCS / "cli.md").read_text(encoding="utf-8"), "| code | meaning |")
    assert any(row.startswith(f"| `{code}` |") for table in rows for row in table)


def test_api_reference_covers_public_names() -> None:
    """Every name in ``parabo.__all__`` has a mkdocstrings entry (``::: parabo....Name``)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "reference").glob("*.md"))
    entries = {m.rsplit(".", 1)[-1] for m in re.findall(r"^::: (\S+)", text, flags=re.M)}
    missing = sorted(set(parabo.__all__) - entries - {"__version__"})
    assert not missing, f"public names without an API reference entry in docs/reference/: {missing}"


def test_no_heading_names_a_round() -> None:
    for page in DOCS.rglob("*.md"):
        for line in page.read_text(encoding="utf-8").splitlines():
            assert not re.match(r"#+ .*round [0-9]+", line, flags=re.I), f"{page.name}: {line}"
