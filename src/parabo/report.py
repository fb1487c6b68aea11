"""``parabo report``: one self-contained HTML file with every plot, the summary and all trials.

The file embeds plotly.js and its own small script (the sortable table), so it
opens from disk with no network. It reads the study through
:class:`~parabo.view.StudyView` and writes only the report file.
"""

from __future__ import annotations

import html
import json
import math
import os
import time
from pathlib import Path
from typing import Any

from parabo.exceptions import ConfigError, StorageError
from parabo.results import write_text_atomic
from parabo.view import Snapshot, StudyView

__all__ = ["REPORT_FILE", "render_report", "summary", "trial_rows", "write_report"]

REPORT_FILE = "report.html"

#: the page's style, shared with the dashboard
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.summary td { padding: 0.15em 1em 0.15em 0; } .muted { color: #777; }
table.trials { border-collapse: collapse; font-size: 0.85em; width: 100%; }
table.trials th, table.trials td { border-bottom: 1px solid #eee; padding: 0.2em 0.5em; text-align: right; }
table.trials th { cursor: pointer; background: #f6f6f6; position: sticky; top: 0; user-select: none; }
table.trials th[aria-sort=ascending]::after { content: " \\25B2"; }
table.trials th[aria-sort=descending]::after { content: " \\25BC"; }
tr.failed td { color: #d62728; } tr.running td { color: #7f7f7f; }
.plot { min-height: 420px; }
"""

#: click a header to sort by it (numbers as numbers), again to reverse
SORT_SCRIPT = """
function parseCell(text) { const n = parseFloat(text); return isNaN(n) || !/^[-+0-9.eE]+$/.test(text.trim()) ? text : n; }
function sortTable(th) {
  const table = th.closest("table"), body = table.tBodies[0];
  const col = Array.prototype.indexOf.call(th.parentNode.children, th);
  const asc = th.getAttribute("aria-sort") !== "ascending";
  for (const h of th.parentNode.children) h.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = parseCell(a.cells[col].textContent), y = parseCell(b.cells[col].textContent);
    if (x === "" && y !== "") return 1; if (y === "" && x !== "") return -1;
    const c = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
    return asc ? c : -c;
  });
  for (const r of rows) body.appendChild(r);
}
document.addEventListener("click", (ev) => {
  const th = ev.target.closest("table.trials th"); if (th) sortTable(th);
});
"""


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    return str(v)


def summary(snap: Snapshot) -> dict[str, Any]:
    """The run's summary: counts, span, utilization, ask time and the best trial."""
    from parabo.plot import _data

    tl = _data.timeline(snap)
    best = snap.best
    return {
        "study": snap.name,
        "direction": snap.direction,
        "metric": snap.metric or "value",
        "trials": len(snap.trials),
        "complete": len(snap.complete),
        "failed": len(snap.failed),
        "running": sum(1 for t in snap.trials if not t.state.finished),
        "workers": len(tl.workers),
        "span_s": tl.span,
        "utilization": tl.utilization,
        "asks": tl.asks,
        "ask_mean_s": tl.ask_mean,
        "ask_total_s": tl.ask_total,
        "best_trial": None if best is None else best.id,
        "best_value": None if best is None else best.value,
        "best_params": None if best is None else dict(best.params),
    }


def trial_rows(
    snap: Snapshot, last: int | None = None
) -> tuple[list[str], list[list[str]], list[str]]:
    """The trials table: column names, one row of cells per trial, and each row's state.

    ``last``: only the newest ``last`` trials.
    """
    names = list(snap.space.names)
    columns = ["id", "state", snap.metric or "value", *names, "duration (s)", "worker", "reason"]
    rows, states = [], []
    trials = snap.trials if last is None else snap.trials[-last:]
    for t in trials:
        rows.append(
            [
                str(t.id),
                t.state.value,
                _fmt(t.value),
                *(_fmt(t.params.get(n)) for n in names),
                _fmt(t.duration),
                t.worker or "",
                str(t.reason or ""),
            ]
        )
        states.append(t.state.value)
    return columns, rows, states


def _summary_html(s: dict[str, Any]) -> str:
    util = s["utilization"]
    ask = s["ask_mean_s"]
    items = [
        ("direction", f"{s['direction']} {s['metric']}"),
        (
            "trials",
            f"{s['trials']} ({s['complete']} complete, {s['failed']} failed, {s['running']} running)",
        ),
        ("workers", str(s["workers"])),
        ("span", f"{s['span_s']:.4g} s, first start to last finish"),
        ("worker utilization", "" if util is None else f"{100 * util:.1f}%"),
        (
            "coordinator ask time",
            ""
            if ask is None
            else f"{s['ask_total_s']:.4g} s over {s['asks']} asks (mean {1000 * ask:.3g} ms)",
        ),
    ]
    rows = "".join(
        f"<tr><td class=muted>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in items
    )
    best = "<p>No completed trial yet.</p>"
    if s["best_trial"] is not None:
        params = "".join(
            f"<tr><td class=muted>{html.escape(k)}</td><td>{html.escape(_fmt(v))}</td></tr>"
            for k, v in s["best_params"].items()
        )
        best = (
            f"<p>Trial <b>{s['best_trial']}</b>: {html.escape(s['metric'])} = "
            f"<b>{html.escape(_fmt(s['best_value']))}</b></p><table class=summary>{params}</table>"
        )
    return f"<table class=summary>{rows}</table><h2>Best trial</h2>{best}"


def _table_html(snap: Snapshot) -> str:
    columns, rows, states = trial_rows(snap)
    head = "".join(f"<th title='sort'>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        f"<tr class={state}>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row, state in zip(rows, states, strict=True)
    )
    return (
        f"<table class=trials id=trials><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def render_report(snap: Snapshot) -> str:
    """The report page of ``snap`` as one HTML string (plotly.js embedded)."""
    from parabo import plot as plots

    plots.require("plotly")
    from plotly.offline import get_plotlyjs

    sections = []
    for kind, why in plots.applicable(snap).items():
        if why:
            sections.append(f"<h2>{kind}</h2><p class=muted>not drawn: {html.escape(why)}</p>")
            continue
        fig = plots.figure(snap, kind, engine="plotly")
        div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"plot-{kind}")
        sections.append(f"<h2>{kind}</h2><div class=plot>{div}</div>")
    s = summary(snap)
    generated = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(snap.name)}: parabo report</title>"
        f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
        f"<h1>{html.escape(snap.name)}</h1><p class=muted>parabo report, written {generated}</p>"
        f"<h2>Run summary</h2>{_summary_html(s)}"
        + "".join(sections)
        + f"<h2>Trials</h2><p class=muted>click a column to sort</p>{_table_html(snap)}"
        + f"<script type=application/json id=summary>{_json_for_html(s)}</script>"
        + f"<script>{SORT_SCRIPT}</script></body></html>"
    )


def _json_for_html(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element."""
    return json.dumps(data, default=str).replace("</", "<\\/")


def write_report(
    folder: str | os.PathLike[str], output: str | os.PathLike[str] | None = None
) -> Path:
    """Write the report of the study in ``folder`` to ``output`` (default: ``folder/report.html``).

    Raises:
        ConfigError: ``folder`` is not a study folder, or plotly is missing.
        StorageError: the report cannot be written.
    """
    snap = StudyView(folder).snapshot()
    if not snap.trials:
        raise ConfigError(f"the study in {folder} has no trial yet", field="STUDY")
    page = render_report(snap)
    out = Path(output) if output is not None else Path(folder) / REPORT_FILE
    try:
        write_text_atomic(out, page)
    except OSError as exc:
        raise StorageError(f"cannot write the report {out}: {exc.strerror}") from exc
    return out
