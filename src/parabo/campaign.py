"""Campaigns: many studies from one template, run over one pool of workers as one job.

A campaign file names a study template and a matrix (or an explicit list) of values for the
template's ``{placeholders}``; every combination is a study (a *cell*) with its own study
folder inside the campaign folder, a normal study that ``parabo status``, ``best`` and
``export`` open. ``parabo run campaign.yaml`` validates every cell before anything runs, then
one coordinator keeps every worker busy across all unfinished studies: each free worker goes
to the study the policy picks (``round_robin``, or ``gain``: in proportion to each study's
recent improvement), and a study that finishes gives its workers to the others. Each study's
sampler sees only its own trials. Results are cached by content across the campaign (the same
objective with the same parameters runs once), and resume resumes every study.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parabo.exceptions import ConfigError

if TYPE_CHECKING:
    from parabo.config import StudyConfig
    from parabo.study import Study

__all__ = [
    "CAMPAIGN_FILE",
    "Campaign",
    "CampaignConfig",
    "Cell",
    "is_campaign_file",
    "is_campaign_folder",
    "cell_rows",
    "export_campaign",
    "load_campaign_file",
    "open_cells",
]

#: the campaign's record in its folder: the matrix keys and each cell's values and folder
CAMPAIGN_FILE = "campaign.json"
MAX_CELLS = 10_000
#: run keys that belong to the pool (the campaign's ``run``); the others are per study
POOL_KEYS = (
    "workers",
    "backend",
    "address",
    "cluster",
    "idle_timeout",
    "gpus",
    "resources",
    "runtime",
)
STUDY_KEYS = (
    "trials",
    "timeout",
    "max_time",
    "target",
    "retries",
    "retry_on",
    "max_failures",
    "stop_grace",
    "cache",
    "cache_dir",
    "trial_folders",
)
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_Scalar = str | int | float | bool


class CampaignConfig(BaseModel):
    """A campaign file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("campaign", min_length=1, max_length=200)
    study: str = Field(min_length=1)  # the template study file, relative to the campaign file
    matrix: dict[str, list[_Scalar]] | None = None  # every combination of these values
    cells: list[dict[str, _Scalar]] | None = None  # or the combinations, listed
    per_study: dict[str, Any] = Field(default_factory=dict)  # run keys for every study
    run: dict[str, Any] = Field(default_factory=dict)  # the pool: workers, backend, policy, ...
    storage: str | None = None  # the campaign folder, relative to the campaign file


@dataclass(frozen=True)
class Cell:
    """One study of a campaign: its matrix values, its validated study file, its folder."""

    values: Mapping[str, _Scalar]
    config: StudyConfig
    folder: Path

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values.items())


@dataclass(frozen=True)
class Campaign:
    """A validated campaign: its cells, the pool's run settings and where it lives."""

    name: str
    keys: tuple[str, ...]
    cells: tuple[Cell, ...]
    folder: Path
    base_dir: Path  # the template's folder: relative paths of the studies start there
    pool: Mapping[str, Any]
    policy: Literal["round_robin", "gain"]


def is_campaign_file(data: Any) -> bool:
    """True when a parsed file is a campaign (it has ``study`` and ``matrix`` or ``cells``)."""
    return isinstance(data, Mapping) and "study" in data and ("matrix" in data or "cells" in data)


def is_campaign_folder(folder: str | os.PathLike[str]) -> bool:
    return (Path(folder) / CAMPAIGN_FILE).is_file()


# ---------------------------------------------------------------------- reading and checking
def load_campaign_file(path: str | Path, data: Any | None = None) -> Campaign:
    """Read and validate a campaign file and every study it makes, before anything runs."""
    from parabo._problems import combine, problems_of
    from parabo.config import read_file

    p = Path(path)
    if data is None:
        data = read_file(p, "campaign file")
    try:
        cfg = CampaignConfig.model_validate(data)
    except ValidationError as exc:
        raise combine(problems_of(exc, CampaignConfig), [str(k) for k in data]) from None
    base = p.parent.resolve()
    combos = _combinations(cfg)
    _check_keys(cfg.per_study, STUDY_KEYS, "per_study")
    policy = cfg.run.get("policy", "round_robin")
    if policy not in ("round_robin", "gain"):
        raise ConfigError(f"must be round_robin or gain, got {policy!r}", field="run.policy")
    pool = {k: v for k, v in cfg.run.items() if k != "policy"}
    _check_keys(pool, POOL_KEYS, "run")
    template_path = (base / cfg.study).resolve()
    try:
        template = read_file(template_path, "study template")
    except ConfigError as exc:
        raise ConfigError(exc.message, field="study") from None
    if not isinstance(template, Mapping):
        raise ConfigError("the study template must hold a mapping at the top", field="study")
    _check_template(template, list(combos[0]))
    folder = _campaign_folder(cfg, base)
    cells = []
    seen: dict[str, str] = {}
    for values in combos:
        cell = _cell(template, values, cfg, pool, folder, template_path.parent)
        if cell.folder.name in seen:
            raise ConfigError(
                f"the studies {seen[cell.folder.name]} and {cell.label} would share the folder "
                f"{cell.folder.name}; make their values differ in letters or digits",
                field="matrix",
            )
        seen[cell.folder.name] = cell.label
        cells.append(cell)
    if any(c.config.run.batch for c in cells):
        raise ConfigError(
            "a campaign runs its studies asynchronously on one pool; remove `batch: true`",
            field="study",
        )
    return Campaign(
        cfg.name,
        tuple(combos[0].keys()),
        tuple(cells),
        folder,
        template_path.parent,
        pool,
        policy,
    )


def _combinations(cfg: CampaignConfig) -> list[dict[str, _Scalar]]:
    if (cfg.matrix is None) == (cfg.cells is None):
        raise ConfigError("give either `matrix` or `cells`, not both or neither", field="matrix")
    if cfg.matrix is not None:
        if not cfg.matrix:
            raise ConfigError("must name at least one key", field="matrix")
        for key, values in cfg.matrix.items():
            if not values:
                raise ConfigError("must list at least one value", field=f"matrix.{key}")
            if len({json.dumps(v) for v in values}) != len(values):
                raise ConfigError("lists a value twice", field=f"matrix.{key}")
        keys = list(cfg.matrix)
        count = math.prod(len(v) for v in cfg.matrix.values())
        if count > MAX_CELLS:
            raise ConfigError(f"makes {count} studies; at most {MAX_CELLS}", field="matrix")
        combos = [dict(zip(keys, vs, strict=True)) for vs in product(*cfg.matrix.values())]
    else:
        assert cfg.cells is not None
        if not cfg.cells:
            raise ConfigError("must list at least one study", field="cells")
        if len(cfg.cells) > MAX_CELLS:
            raise ConfigError(f"lists {len(cfg.cells)} studies; at most {MAX_CELLS}", field="cells")
        keys = list(cfg.cells[0])
        for i, cell in enumerate(cfg.cells):
            if list(cell) != keys:
                raise ConfigError(
                    f"has keys {sorted(cell)}, the first study has {sorted(keys)}; give every "
                    "study the same keys",
                    field=f"cells.{i}",
                )
        combos = [dict(c) for c in cfg.cells]
    for key in keys:
        if not _KEY.match(key):
            raise ConfigError(
                "a key must be a name of letters, digits and _ (it is a {placeholder})",
                field=f"matrix.{key}",
            )
    if len({json.dumps(c, sort_keys=True) for c in combos}) != len(combos):
        raise ConfigError("lists the same study twice", field="cells")
    return combos


def _check_keys(section: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    from parabo._check import did_you_mean

    for key in section:
        if key not in allowed:
            other = "per_study" if where == "run" else "run"
            hint = (
                f"; it belongs in `{other}`"
                if key in (STUDY_KEYS + POOL_KEYS)
                else did_you_mean(key, allowed)
            )
            raise ConfigError(
                f"unknown key{hint}; `{where}` takes {', '.join(allowed)}", field=f"{where}.{key}"
            )


def _check_template(template: Mapping[str, Any], keys: Sequence[str]) -> None:
    text = json.dumps(template)
    for key in keys:
        if "{" + key + "}" not in text:
            raise ConfigError(
                f"the study template never uses {{{key}}}: every study of this key would be the "
                "same; use it in the template (for example in the objective) or drop the key",
                field=f"matrix.{key}",
            )


def _substitute(node: Any, values: Mapping[str, _Scalar]) -> Any:
    """The template with each ``{key}`` replaced: a whole-string ``{key}`` takes the value itself."""
    if isinstance(node, str):
        for key, value in values.items():
            if node == "{" + key + "}":
                return value
        for key, value in values.items():
            node = node.replace("{" + key + "}", str(value))
        return node
    if isinstance(node, Mapping):
        return {k: _substitute(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, values) for v in node]
    return node


def _folder_name(values: Mapping[str, _Scalar]) -> str:
    part = "__".join(f"{k}-{v}" for k, v in values.items())
    return re.sub(r"[^A-Za-z0-9._-]", "_", part)[:200]


def _campaign_folder(cfg: CampaignConfig, base: Path) -> Path:
    if cfg.storage:
        s = Path(cfg.storage)
        return (s if s.is_absolute() else base / s).resolve()
    runs = (Path.cwd() / "runs").resolve()
    folder = (runs / cfg.name).resolve()
    if runs not in folder.parents:
        raise ConfigError(
            "without `storage` the campaign folder is runs/<name>; use a plain name", field="name"
        )
    return folder


def _cell(
    template: Mapping[str, Any],
    values: Mapping[str, _Scalar],
    cfg: CampaignConfig,
    pool: Mapping[str, Any],
    folder: Path,
    template_dir: Path,
) -> Cell:
    from parabo.config import parse_study

    data = dict(_substitute(template, values))
    run = dict(data.get("run") or {})
    run.update(cfg.per_study)
    run.update(pool)
    run.setdefault("cache", True)  # the cache spans the campaign
    run.setdefault("cache_dir", str(folder / "cache"))
    data["run"] = run
    label = ", ".join(f"{k}={v}" for k, v in values.items())
    data["name"] = f"{cfg.name}[{label}]"[:200]
    cell_folder = folder / _folder_name(values)
    data["storage"] = str(cell_folder)
    try:
        config = parse_study(data, template_dir)
    except ConfigError as exc:
        raise ConfigError(f"the study {label}: {exc}", field=exc.field) from None
    return Cell(dict(values), config, cell_folder)


# ---------------------------------------------------------------------- the campaign record
def _write_record(campaign: Campaign) -> None:
    path = campaign.folder / CAMPAIGN_FILE
    old: list[dict[str, Any]] = []
    with contextlib.suppress(OSError, ValueError, KeyError):
        old = json.loads(path.read_text())["cells"]
    cells = [{"values": dict(c.values), "folder": c.folder.name} for c in campaign.cells]
    names = {c["folder"] for c in cells}
    cells += [c for c in old if isinstance(c, dict) and c.get("folder") not in names]
    record = {"name": campaign.name, "keys": list(campaign.keys), "cells": cells}
    from parabo.results import write_json_atomic

    write_json_atomic(path, record)


def open_cells(
    folder: str | os.PathLike[str],
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], Study | None]]]:
    """The record of a campaign folder and each cell's study, read-only (None: not started)."""
    from parabo.study import Study

    root = Path(folder)
    try:
        record = json.loads((root / CAMPAIGN_FILE).read_text())
        cells = record["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read {root / CAMPAIGN_FILE}: {exc}", field="STUDY") from None
    out: list[tuple[dict[str, Any], Study | None]] = []
    for cell in cells:
        sub = root / str(cell["folder"])
        if ".." in Path(str(cell["folder"])).parts or not (sub / "journal.jsonl").exists():
            out.append((cell, None))
            continue
        out.append((cell, Study.load(sub)))
    return record, out


def cell_rows(folder: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """One summary per study of a campaign folder (for ``parabo status``)."""
    _, cells = open_cells(folder)
    busy: list[float] = []
    for _, study in cells:
        total = 0.0
        for t in study.trials if study is not None else ():
            if t.started_at is not None and t.finished_at is not None and t.worker != "cache":
                total += max(0.0, t.finished_at - t.started_at)
        busy.append(total)
    all_busy = sum(busy) or 1.0
    for (cell, study), b in zip(cells, busy, strict=True):
        row: dict[str, Any] = {"folder": cell["folder"], **cell["values"]}
        if study is None:
            row.update(state="not started", completed=0, failed=0, running=0, best=None)
        else:
            running = len(study.pending)
            requested = None
            with contextlib.suppress(OSError, ValueError, AttributeError):
                requested = json.loads(
                    (Path(folder) / cell["folder"] / "progress.json").read_text()
                ).get("requested")
            finished = study.n_complete + study.n_failed
            state = "done" if requested is not None and finished >= requested else "stopped"
            row.update(
                state="running or interrupted" if running else state,
                completed=study.n_complete,
                failed=study.n_failed,
                running=running,
                best=study.best_value,
            )
        row["worker_share"] = round(b / all_busy, 4)
        yield row


def export_campaign(
    folder: str | os.PathLike[str], fmt: str = "csv", output: str | os.PathLike[str] | None = None
) -> tuple[Path, int]:
    """One table of every trial of a campaign, a column per matrix key; (path, rows)."""
    import pandas as pd

    from parabo.results import check_format, write_table

    check_format(fmt)
    record, cells = open_cells(folder)
    keys = [str(k) for k in record.get("keys", [])]
    frames = []
    for cell, study in cells:
        if study is None:
            continue
        df = study.to_dataframe()
        for i, key in enumerate(keys):
            df.insert(i, key, cell["values"].get(key))
        df.insert(len(keys), "study", cell["folder"])
        frames.append(df)
    table = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*keys, "study"])
    )
    path = Path(output) if output is not None else Path(folder) / f"trials.{fmt}"
    return write_table(table, fmt, path), len(table)
