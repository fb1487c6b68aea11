"""``parabo report CAMPAIGN``: one self-contained HTML file for every study of a campaign.

The page holds the campaign's summary, the matrix as a table of each study's best
value, state and counts (a grid when the matrix has two keys, and always a sortable
table with one row per study), the best value so far of every study against the
campaign's wall-clock, and one section per study with its own run summary. Like the
single-study report it embeds plotly.js and its sort script, so it opens from disk
with no network; it reads the studies read-only and writes only the report file.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from parabo.exceptions import ConfigError, StorageError
from parabo.report import (
    REPORT_FILE,
    SORT_SCRIPT,
    STYLE,
    _fmt,
    _json_for_html,
    _summary_html,
    summary,
)
from parabo.results import write_text_atomic
from parabo.view import Snapshot, StudyView

__all__ = ["campaign_rows", "render_campaign_report", "write_campaign_report"]

#: the page's own additions to the report style: the matrix grid
GRID_STYLE = """
table.grid { border-collapse: collapse; font-size: 0.9em; }
table.grid th, table.grid td { border: 1px solid #ddd; padding: 0.3em 0.7em; text-align: center; }
table.grid th { background: #f6f6f6; } table.grid td .best { font-weight: bold; }
table.grid td.best-of-row { background: #e8f4e8; }
section.study { margin-top: 1.2em; }
"""


def _anchor(folder: str) -> str:
    return "study-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in folder)


def campaign_rows(
    folder: str | os.PathLike[str],
) -> tuple[dict[str, Any], list[dict[str, Any]], list[Snapshot | None]]:
    """The campaign record, one row per study (as ``parabo status``) and each study's snapshot.

    A row holds the study's folder, its matrix values, ``state``, ``completed``, ``failed``,
    ``running``, ``trials`` (all of them), ``best`` and ``worker_share``; the snapshot is None
    for a study that has not started.
    """
    from parabo.campaign import cell_rows, open_cells

    record, cells = open_cells(folder)
    rows = list(cell_rows(folder))
    snaps: list[Snapshot | None] = []
    for (cell, study), row in zip(cells, rows, strict=True):
        if study is None:
            snaps.append(None)
            row["trials"] = 0
            continue
        snap = StudyView(Path(folder) / str(cell["folder"])).snapshot()
        snaps.append(snap)
        row["trials"] = len(snap.trials)
    return record, rows, snaps


def _better(direction: str) -> Any:
    return max if direction == "maximize" else min


def _cell_html(row: Mapping[str, Any], best_of_row: bool) -> str:
    best = "–" if row["best"] is None else _fmt(float(row["best"]))
    counts = f"{row['completed']} complete, {row['failed']} failed"
    if row["running"]:
        counts += f", {row['running']} running"
    cls = " class=best-of-row" if best_of_row else ""
    return (
        f"<td{cls}><a href='#{_anchor(str(row['folder']))}'><span class=best>"
        f"{html.escape(best)}</span></a><br><span class=muted>{html.escape(str(row['state']))}"
        f"<br>{html.escape(counts)}</span></td>"
    )


def _grid_html(
    keys: Sequence[str], rows: Sequence[Mapping[str, Any]], direction: str | None
) -> str:
    """The matrix of a two-key campaign: the first key's values down, the second's across.

    The best study of each row is shaded (none when the studies' directions differ: None).
    """
    down: list[Any] = []
    across: list[Any] = []
    for r in rows:
        if r.get(keys[0]) not in down:
            down.append(r.get(keys[0]))
        if r.get(keys[1]) not in across:
            across.append(r.get(keys[1]))
    by = {(r.get(keys[0]), r.get(keys[1])): r for r in rows}
    head = f"<th>{html.escape(keys[0])} ↓ {html.escape(keys[1])} →</th>" + "".join(
        f"<th>{html.escape(str(v))}</th>" for v in across
    )
    body = []
    for d in down:
        line = [by.get((d, a)) for a in across]
        found = [float(c["best"]) for c in line if c is not None and c["best"] is not None]
        best = _better(direction)(found) if found and direction is not None else None
        cells = []
        for c in line:
            if c is None:
                cells.append("<td class=muted>not in the campaign</td>")
            else:
                cells.append(_cell_html(c, best is not None and c["best"] == best))
        body.append(f"<tr><th>{html.escape(str(d))}</th>{''.join(cells)}</tr>")
    return (
        f"<table class=grid id=matrix><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _studies_table_html(keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """One sortable row per study: its values, state, counts, best value and share of workers."""
    columns = [*keys, "state", "trials", "complete", "failed", "running", "best", "workers"]
    head = "".join(f"<th title='sort'>{html.escape(c)}</th>" for c in columns)
    body = []
    for r in rows:
        link = f"<a href='#{_anchor(str(r['folder']))}'>{html.escape(str(r.get(keys[0])))}</a>"
        tds = f"<td>{link}</td>" + "".join(
            f"<td>{html.escape(str(r.get(k)))}</td>" for k in keys[1:]
        )
        cells = [
            str(r["state"]),
            str(r["trials"]),
            str(r["completed"]),
            str(r["failed"]),
            str(r["running"]),
            "" if r["best"] is None else _fmt(float(r["best"])),
            f"{100 * r['worker_share']:.0f}%",
        ]
        tds += "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        body.append(f"<tr data-study='{html.escape(str(r['folder']))}'>{tds}</tr>")
    return (
        f"<table class=trials id=studies><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _label(keys: Sequence[str], row: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={row.get(k)}" for k in keys)


#: the best values span more than this ratio: the figure opens on a log axis
LOG_SPAN = 1000.0


def _y_scale(values: Sequence[float]) -> str:
    """``log`` when every value is positive and they span more than ``LOG_SPAN``; ``linear``
    when every value is positive (a log axis can be chosen), ``none`` otherwise."""
    if not values or min(values) <= 0:
        return "none"
    return "log" if max(values) / min(values) > LOG_SPAN else "linear"


def _progress_figure(
    keys: Sequence[str], rows: Sequence[Mapping[str, Any]], snaps: Sequence[Snapshot | None]
) -> str:
    """Every study's best value so far against seconds since the campaign's first ask."""
    from parabo.plot import _data, _plotly

    started = [(r, s) for r, s in zip(rows, snaps, strict=True) if s is not None and s.complete]
    if not started:
        return "<p class=muted>not drawn: no study has a completed trial yet</p>"
    directions = {s.direction for _, s in started}
    if len(directions) > 1:
        return "<p class=muted>not drawn: the studies do not share a direction</p>"
    asks = [
        t.asked_at for _, s in started for t in s.trials if t.asked_at is not None
    ]  # the campaign's clock starts at its first ask
    t0 = min(asks, default=0.0)
    curves = []
    for row, snap in started:
        h = _data.history(snap)
        own = min((t.asked_at for t in snap.trials if t.asked_at is not None), default=t0)
        curves.append(
            _data.Curve(
                _label(keys, row),
                [s + own - t0 for s in h.seconds],
                list(range(1, len(h.best_by_time) + 1)),
                h.best_by_time,
            )
        )
    data = _data.Compare(curves, started[0][1].metric or "value", False)
    fig = _plotly.compare(data, "best so far of every study")
    fig.update_xaxes(title_text="seconds since the campaign's first ask", row=1, col=1)
    scale = _y_scale([b for c in curves for b in c.best])
    both = {"yaxis.type": "linear", "yaxis2.type": "linear"}
    logs = {"yaxis.type": "log", "yaxis2.type": "log"}
    buttons = [{"label": "linear", "method": "relayout", "args": [both]}]
    if scale != "none":
        buttons.append({"label": "log", "method": "relayout", "args": [logs]})
    fig.update_yaxes(type="log" if scale == "log" else "linear")
    fig.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "buttons": buttons,
                "active": 1 if scale == "log" else 0,
                "x": 1.0,
                "xanchor": "right",
                "y": 1.26,
                "yanchor": "top",
                "showactive": True,
            }
        ]
    )
    div: str = fig.to_html(full_html=False, include_plotlyjs=False, div_id="plot-progress")
    return f"<div class=plot>{div}</div>"


def _study_section(
    root: Path, keys: Sequence[str], row: Mapping[str, Any], snap: Snapshot | None, here: Path
) -> str:
    """One study's section; ``here``: the folder the page is written to (links start there)."""
    folder = str(row["folder"])
    title = html.escape(_label(keys, row))
    head = f"<section class=study id='{_anchor(folder)}'><h3>{title}</h3>"
    where = f"<p class=muted>folder <code>{html.escape(folder)}</code>"
    report = root / folder / REPORT_FILE
    if report.is_file():
        link = Path(os.path.relpath(report.resolve(), here.resolve())).as_posix()
        where += f" · <a class=own href='{html.escape(quote(link))}'>its own report</a>"
    else:
        where += (
            f" · its own report: <code>parabo report {html.escape(str(root / folder))}</code>"
            " (or <code>--studies</code> on the campaign)"
        )
    where += "</p>"
    if snap is None:
        return f"{head}{where}<p>Not started.</p></section>"
    if not snap.trials:
        return f"{head}{where}<p>No trial yet.</p></section>"
    own = _summary_html(summary(snap)).replace("<h2>Best trial</h2>", "<h4>Best trial</h4>")
    return f"{head}{where}{own}</section>"


def render_campaign_report(
    folder: str | os.PathLike[str], here: str | os.PathLike[str] | None = None
) -> str:
    """The report page of the campaign in ``folder`` as one HTML string (plotly.js embedded).

    ``here``: the folder the page will be in (default ``folder``); the links to the studies'
    own reports start there.

    Raises:
        ConfigError: ``folder`` is not a campaign folder, or plotly is missing.
    """
    from parabo import plot as plots

    plots.require("plotly")
    from plotly.offline import get_plotlyjs

    root = Path(folder)
    record, rows, snaps = campaign_rows(root)
    keys = [str(k) for k in record.get("keys", [])]
    name = str(record.get("name", root.name))
    started = [s for s in snaps if s is not None]
    if not any(s.trials for s in started):
        raise ConfigError(f"no study of the campaign in {root} has a trial yet", field="STUDY")
    direction = started[0].direction if started else "minimize"
    values = [float(r["best"]) for r in rows if r["best"] is not None]
    one_direction = len({s.direction for s in started}) == 1
    best = _better(direction)(values) if values and one_direction else None
    best_rows = [r for r in rows if best is not None and r["best"] == best]
    states: dict[str, int] = {}
    for r in rows:
        states[str(r["state"])] = states.get(str(r["state"]), 0) + 1
    items = [
        ("matrix", " × ".join(keys) if keys else ""),
        ("studies", f"{len(rows)} ({', '.join(f'{n} {s}' for s, n in states.items())})"),
        (
            "trials",
            f"{sum(r['trials'] for r in rows)} ({sum(r['completed'] for r in rows)} complete, "
            f"{sum(r['failed'] for r in rows)} failed, {sum(r['running'] for r in rows)} running)",
        ),
        ("direction", direction if one_direction else "mixed"),
        (
            "best of all studies",
            ""
            if not best_rows
            else f"{_fmt(best)} ({'; '.join(_label(keys, r) for r in best_rows)})",
        ),
    ]
    summary_rows = "".join(
        f"<tr><td class=muted>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in items
    )
    grid = _grid_html(keys, rows, direction if one_direction else None) if len(keys) == 2 else ""
    at = root if here is None else Path(here)
    sections = "".join(
        _study_section(root, keys, r, s, at) for r, s in zip(rows, snaps, strict=True)
    )
    data = {
        "campaign": name,
        "keys": keys,
        "studies": rows,
        "best": best,
    }
    generated = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(name)}: parabo campaign report</title>"
        f"<style>{STYLE}{GRID_STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
        f"<h1>{html.escape(name)}</h1>"
        f"<p class=muted>parabo campaign report, written {generated}</p>"
        f"<h2>Campaign summary</h2><table class=summary>{summary_rows}</table>"
        "<h2>Matrix</h2>"
        + (
            f"<p class=muted>the best value of each study; the best of each row is shaded</p>{grid}"
            if grid
            else ""
        )
        + "<p class=muted>one row per study; click a column to sort</p>"
        + _studies_table_html(keys, rows)
        + "<h2>Best so far</h2>"
        + _progress_figure(keys, rows, snaps)
        + f"<h2>Studies</h2>{sections}"
        + f"<script type=application/json id=campaign>{_json_for_html(data)}</script>"
        + f"<script>{SORT_SCRIPT}</script></body></html>"
    )


def write_campaign_report(
    folder: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    studies: bool = False,
) -> Path:
    """Write the report of the campaign in ``folder`` (default: ``folder/report.html``).

    ``studies``: first write each study's own report (``report.html`` in its folder, every
    plot and trial of it), which the campaign's page then links to.

    Raises:
        ConfigError: ``folder`` is not a campaign folder, no study has a trial yet, or plotly
            is missing.
        StorageError: a report cannot be written.
    """
    from parabo.campaign import open_cells
    from parabo.report import write_report

    out = Path(output) if output is not None else Path(folder) / REPORT_FILE
    if studies:
        _, cells = open_cells(folder)
        for cell, study in cells:
            if study is not None and study.trials:
                write_report(Path(folder) / str(cell["folder"]))
    page = render_campaign_report(folder, out.parent)
    try:
        write_text_atomic(out, page)
    except OSError as exc:
        raise StorageError(f"cannot write the report {out}: {exc.strerror}") from exc
    return out
