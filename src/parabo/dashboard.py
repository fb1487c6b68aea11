"""``parabo dashboard``: a live page of a study, served on loopback while ``parabo run`` writes it.

The server holds one :class:`~parabo.view.StudyView` and refreshes it when the
page asks for data, so each refresh reads only the journal lines appended since
the last one; the figures are rebuilt only when lines were added. It never writes
to the study folder, and serves exactly three things: the page (``/``), its data
(``/data.json``) and plotly.js (``/plotly.js``). Requests whose ``Host`` is not
the address it serves on are refused (a guard against DNS rebinding).

Built on starlette (routing with nothing implicit: no static folder, no
directory listing) and uvicorn (its standard server); the page draws with
plotly.js, as the report does.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from parabo.exceptions import ConfigError, ParaboError
from parabo.view import Snapshot, StudyView

__all__ = ["DEFAULT_PORT", "Dashboard", "is_loopback", "make_app", "open_socket", "serve"]

DEFAULT_PORT = 8080
#: the newest trials the page's table shows (the report has them all)
ROWS = 500
#: the newest trials the page's figures draw (and the best, if older): a browser takes about a
#: minute to draw 20,000 trials in every view (benchmarks/dashboard); the report draws them all
DRAW_MAX = 2000
#: the page asks for new data this often (milliseconds)
POLL_MS = 1000
#: the fANOVA importance (a random-forest fit, on its own thread) is refit at most this often (s)
IMPORTANCE_EVERY = 10.0

# Nothing the page loads may come from elsewhere: scripts, data and styles only from here.
CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
    "font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _require() -> None:
    from parabo import plot

    for module in ("starlette", "uvicorn", "plotly"):
        if not plot._importable(module):
            raise ConfigError(
                f"the dashboard needs {module}, which is not installed: "
                "pip install 'parabo[dashboard]'",
                field="dashboard",
            )


class Dashboard:
    """The data behind the page: a study view, refreshed incrementally, and its figures.

    Args:
        folder: the study folder to follow (read-only).
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.view = StudyView(folder)
        self._lock = threading.Lock()
        self._payload: bytes | None = None
        self._key: tuple[int, int] = (
            -1,
            -1,
        )  # (journal lines read, importance fits) of the payload
        self._served = 0  # the version the page sees: grows whenever the payload changes
        # the importance fit runs on a thread of its own, so that no poll waits for it
        self._importance: Any = None
        self._importance_fits = 0
        self._importance_for = -1  # completed trials of the last fit
        self._importance_at = -IMPORTANCE_EVERY
        self._importance_error: str | None = None
        self._fitting: threading.Thread | None = None
        self.refreshes = 0
        self.rebuilds = 0

    def data(self, since: int | None = None) -> bytes:
        """The page's data as JSON: summary, trials table, figures, and a version.

        With ``since`` equal to the current version, only ``{"version": ..., "changed": false}``.
        """
        with self._lock:
            self.view.refresh()
            self.refreshes += 1
            key = (self.view.version, self._importance_fits)
            if key != self._key or self._payload is None:
                self._served += 1
                self._payload = self._build(self._served)
                self._key = key
                self.rebuilds += 1
            if since is not None and since == self._served:
                return json.dumps({"version": self._served, "changed": False}).encode()
            return self._payload

    def wait_for_importance(self, timeout: float | None = None) -> None:
        """Wait until the importance fit in progress, if any, is done."""
        fitting = self._fitting
        if fitting is not None:
            fitting.join(timeout)

    def _build(self, version: int) -> bytes:
        import plotly.io

        from parabo import plot as plots
        from parabo.report import summary, trial_rows

        whole = self.view.snapshot()
        snap = newest(whole, DRAW_MAX)
        figures: dict[str, str] = {}  # kind -> the figure's JSON, spliced into the payload
        reasons: dict[str, str] = {}
        for kind, why in plots.applicable(snap).items():
            fig = None
            if not why and kind == "importance":
                fig, why = self._importance_figure(snap)
            elif not why:
                fig = plots.figure(snap, kind)
            if fig is None:
                reasons[kind] = why
                continue
            figures[kind] = plotly.io.to_json(fig, validate=False)  # NaN becomes null
        columns, rows, states = trial_rows(whole, last=ROWS)
        payload = {
            "version": version,
            "changed": True,
            "summary": summary(whole),
            "drawn": len(snap.trials),
            "not_drawn": reasons,
            "columns": columns,
            "rows": rows,
            "states": states,
        }
        head = json.dumps(payload, default=str, allow_nan=False)
        parts = ", ".join(f"{json.dumps(kind)}: {fig}" for kind, fig in figures.items())
        return (head[:-1] + ', "figures": {' + parts + "}}").encode()

    def _importance_figure(self, snap: Any) -> tuple[Any, str]:
        """The last importance figure (or why there is none); start a new fit when it is due."""
        done = len(snap.complete)
        busy = self._fitting is not None and self._fitting.is_alive()
        due = time.monotonic() - self._importance_at >= IMPORTANCE_EVERY
        if not busy and done != self._importance_for and (due or self._importance is None):
            self._importance_at = time.monotonic()
            self._fitting = threading.Thread(
                target=self._fit, args=(snap, done), name="parabo-importance", daemon=True
            )
            self._fitting.start()
        if self._importance is not None:
            return self._importance, ""
        return None, self._importance_error or "being computed"

    def _fit(self, snap: Any, done: int) -> None:
        from parabo import plot as plots

        try:
            fig = plots.importance(snap)
            error = None
        except Exception as exc:  # shown on the page in place of the plot, never lost
            fig, error = None, f"the estimate failed: {exc}"
        with self._lock:
            if fig is not None:
                self._importance = fig
            self._importance_error = error
            self._importance_for = done
            self._importance_fits += 1


def newest(snap: Snapshot, most: int) -> Snapshot:
    """``snap`` with only its newest ``most`` trials, and its best trial if that is older
    (with several objectives, every trial of the Pareto front)."""
    if len(snap.trials) <= most:
        return snap
    keep = {t.id for t in snap.trials[-most:]}
    best = snap.best
    if best is not None:
        keep.add(best.id)
    if snap.goal.multi:
        from parabo.plot._data import front_ids

        keep |= front_ids(snap)
    return dataclasses.replace(
        snap,
        trials=[t for t in snap.trials if t.id in keep],
        history=[t for t in snap.history if t.id in keep],
        curves={tid: c for tid, c in snap.curves.items() if tid in keep},
    )


def _page(name: str) -> str:
    import html

    from parabo.report import STYLE

    return (
        PAGE.replace("{STYLE}", STYLE)
        .replace("{NAME}", html.escape(name))
        .replace("{POLL_MS}", str(POLL_MS))
    )


def make_app(dashboard: Dashboard, allowed_hosts: list[str]) -> Any:
    """The ASGI app: ``/``, ``/data.json`` and ``/plotly.js``, and nothing else."""
    from plotly.offline import get_plotlyjs
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }
    page = _page(dashboard.view.header.name)
    plotly_js = get_plotlyjs().encode()

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers=headers)

    async def data(request: Request) -> Response:
        since_text = request.query_params.get("since")
        since = int(since_text) if since_text is not None and since_text.isdigit() else None
        try:
            body = dashboard.data(since)
        except ParaboError as exc:  # a damaged or replaced journal: say so on the page
            return JSONResponse({"error": str(exc)}, status_code=503, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    async def script(request: Request) -> Response:
        return Response(
            plotly_js,
            media_type="text/javascript",
            headers={**headers, "Cache-Control": "max-age=3600"},
        )

    return Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/data.json", data, methods=["GET"]),
            Route("/plotly.js", script, methods=["GET"]),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)],
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def open_socket(host: str, port: int | None) -> socket.socket:
    """A listening socket on ``host``: ``port``, or 8080 (the next free port if it is taken).

    Raises:
        ConfigError: the port is taken or the address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    candidates = [port] if port is not None else [DEFAULT_PORT, 0]
    last: OSError | None = None
    for p in candidates:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, p))
        except OSError as exc:
            sock.close()
            last = exc
            continue
        sock.listen(128)
        return sock
    what = f"port {port}" if port is not None else f"port {DEFAULT_PORT} or a free port"
    raise ConfigError(
        f"cannot listen on {host} {what}: {last.strerror if last else 'unknown error'}; "
        "give another --port (0 picks a free one)",
        field="--port",
    )


def serve(
    folder: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int | None = None,
    announce: Any = print,
) -> None:
    """Serve the dashboard of the study in ``folder`` until interrupted.

    Args:
        folder: a study folder (it may be running).
        host: the address to listen on; loopback unless told otherwise (then a warning).
        port: the port; ``None`` is 8080, or a free port when 8080 is taken; 0 picks a free one.
        announce: called with each line to show the user (the URL, the warning).

    Raises:
        ConfigError: not a study folder, a port that cannot be bound, or the extra is missing.
    """
    _require()
    import uvicorn

    if port is not None and not 0 <= port <= 65535:
        raise ConfigError(f"must be between 0 and 65535, got {port}", field="--port")
    dashboard = Dashboard(Path(folder))
    sock = open_socket(host, port)
    bound = sock.getsockname()[1]
    if not is_loopback(host):
        announce(
            f"warning: the dashboard listens on {host}, not only on this machine: anyone who "
            "can reach this address can read the study (its parameters and results)"
        )
        allowed = ["*"]
    else:
        allowed = ["127.0.0.1", "localhost", "[::1]", host]
    shown = f"[{host}]" if ":" in host else host
    announce(f"dashboard of {folder} at http://{shown}:{bound}/ (Ctrl-C to stop)")
    sys.stdout.flush()
    config = uvicorn.Config(
        make_app(dashboard, allowed), log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


PAGE = """<!DOCTYPE html><html lang=en><head><meta charset=utf-8>
<title>{NAME}: parabo dashboard</title><style>{STYLE}
#status { font-size: 0.9em; } .stale { color: #d62728; }
</style><script src="/plotly.js"></script></head><body>
<h1>{NAME}</h1>
<p id=status class=muted>connecting…</p>
<table class=summary>
<tr><td class=muted>trials</td><td><b id=n-trials>0</b> (<span id=n-complete>0</span> complete,
<span id=n-failed>0</span> failed, <span id=n-running>0</span> running)</td></tr>
<tr><td class=muted>best</td><td id=best></td></tr>
<tr><td class=muted>workers</td><td id=workers></td></tr>
</table>
<p id=drawn class=muted></p>
<div id=plots></div>
<h2>Newest trials</h2><table class=trials id=trials><thead></thead><tbody></tbody></table>
<script>
"use strict";
const KINDS = ["history", "timeline", "importance", "parallel", "slice", "contour", "curves", "pareto"];
let version = -1;
function text(id, value) { document.getElementById(id).textContent = value; }
function fmt(v, digits) { return v === null || v === undefined ? "" : Number(v).toPrecision(digits || 6); }
function section(kind) {
  let div = document.getElementById("plot-" + kind);
  if (!div) {
    const box = document.createElement("div");
    const h = document.createElement("h2"); h.textContent = kind; box.appendChild(h);
    const note = document.createElement("p"); note.className = "muted"; note.id = "why-" + kind; box.appendChild(note);
    div = document.createElement("div"); div.id = "plot-" + kind; div.className = "plot"; box.appendChild(div);
    document.getElementById("plots").appendChild(box);
  }
  return div;
}
function show(d) {
  const s = d.summary;
  text("n-trials", s.trials); text("n-complete", s.complete); text("n-failed", s.failed); text("n-running", s.running);
  text("best", s.best_trial === null ? "no completed trial yet" : "trial " + s.best_trial + ": " + s.metric + " = " + fmt(s.best_value));
  document.getElementById("drawn").textContent = d.drawn < s.trials
    ? "the plots draw the newest " + d.drawn + " trials and the best; parabo report draws them all" : "";
  text("workers", s.workers + (s.utilization === null ? "" : ", utilization " + (100 * s.utilization).toFixed(1) + "%")
    + (s.ask_mean_s === null ? "" : ", mean ask " + fmt(1000 * s.ask_mean_s, 3) + " ms"));
  for (const kind of KINDS) {
    const div = section(kind);
    const fig = d.figures[kind];
    document.getElementById("why-" + kind).textContent = fig ? "" : "not drawn: " + (d.not_drawn[kind] || "");
    if (fig) Plotly.react(div, fig.data, fig.layout, {responsive: true});
  }
  const head = document.querySelector("#trials thead"), body = document.querySelector("#trials tbody");
  head.innerHTML = ""; body.innerHTML = "";
  const hr = head.insertRow();
  for (const c of d.columns) { const th = document.createElement("th"); th.textContent = c; hr.appendChild(th); }
  for (let i = d.rows.length - 1; i >= 0; i--) {
    const tr = body.insertRow(); tr.className = d.states[i];
    for (const c of d.rows[i]) tr.insertCell().textContent = c;
  }
  document.body.dataset.shownTrials = s.trials;  // every view drawn (read by benchmarks)
}
async function poll() {
  try {
    const r = await fetch("/data.json?since=" + version, {cache: "no-store"});
    const d = await r.json();
    if (!r.ok) throw new Error(d.error || "HTTP " + r.status);
    if (d.changed) { show(d); version = d.version; }
    const st = document.getElementById("status");
    st.className = "muted"; st.textContent = "live: updated " + new Date().toLocaleTimeString();
  } catch (e) {
    const st = document.getElementById("status");
    st.className = "stale"; st.textContent = "no new data: " + e.message + " (retrying)";
  }
  setTimeout(poll, {POLL_MS});
}
poll();
</script></body></html>
"""
