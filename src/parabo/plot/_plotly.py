"""Interactive figures (plotly) of the records in :mod:`parabo.plot._data`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from parabo.plot import _data

__all__ = [
    "compare",
    "contour",
    "curves",
    "history",
    "importance",
    "parallel",
    "pareto",
    "slices",
    "timeline",
]

FAILED = "#d62728"  # failed trials: red crosses everywhere
VALUE = "#1f77b4"
BEST = "#ff7f0e"
STATE_COLORS = {
    "complete": "#2ca02c",
    "failed": FAILED,
    "running": "#7f7f7f",
    "pruned": "#9467bd",
    "paused": "#17becf",
}


def _a(values: Sequence[Any]) -> np.ndarray:
    """An array for plotly: it takes arrays as they are, while lists are checked item by item
    (seconds with tens of thousands of trials)."""
    return np.asarray(values)


def _go() -> Any:
    import plotly.graph_objects as go

    return go


def _failed_trace(x: list[Any], y: list[float], text: list[str], **kw: Any) -> Any:
    return _go().Scatter(
        x=x,
        y=y,
        mode="markers",
        name="failed",
        marker={"symbol": "x", "color": FAILED, "size": 9},
        text=text,
        hovertemplate="%{text}<extra>failed</extra>",
        **kw,
    )


def history(d: _data.History, title: str) -> Any:
    from plotly.subplots import make_subplots

    go = _go()
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("by trial number", "by wall-clock (s since first ask)")
    )
    fig.add_trace(
        go.Scatter(
            x=_a(d.ids),
            y=_a(d.values),
            mode="markers",
            name=d.label,
            marker={"color": VALUE},
            hovertemplate="trial %{x}: %{y}<extra></extra>",
            legendgroup="v",
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Scatter(
            x=_a(d.best_ids),
            y=_a(d.best_by_id),
            mode="lines",
            line={"shape": "hv", "color": BEST},
            name="best so far",
            legendgroup="b",
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Scatter(
            x=_a(d.seconds),
            y=_a(d.values_by_time),
            mode="markers",
            marker={"color": VALUE},
            showlegend=False,
            legendgroup="v",
        ),
        1,
        2,
    )
    fig.add_trace(
        go.Scatter(
            x=_a(d.seconds),
            y=_a(d.best_by_time),
            mode="lines",
            line={"shape": "hv", "color": BEST},
            showlegend=False,
            legendgroup="b",
        ),
        1,
        2,
    )
    if d.failed_ids:
        text = [f"trial {i}: {r}" for i, r in zip(d.failed_ids, d.failed_reasons, strict=True)]
        level = [d.failed_level] * len(d.failed_ids)
        fig.add_trace(_failed_trace(list(d.failed_ids), level, text, legendgroup="f"), 1, 1)
        fig.add_trace(
            _failed_trace(list(d.failed_seconds), level, text, legendgroup="f", showlegend=False),
            1,
            2,
        )
    fig.update_xaxes(title_text="trial", row=1, col=1)
    fig.update_xaxes(title_text="seconds", row=1, col=2)
    fig.update_yaxes(title_text=d.label, row=1, col=1)
    fig.update_layout(title=title)
    return fig


def timeline(d: _data.Timeline, title: str) -> Any:
    go = _go()
    fig = go.Figure()
    for state in ("complete", "failed", "running", "pruned", "paused"):
        bars = [b for b in d.bars if b.state == state]
        if not bars:
            continue
        fig.add_trace(
            go.Bar(
                x=_a([b.end - b.start for b in bars]),
                base=_a([b.start for b in bars]),
                y=_a([b.worker for b in bars]),
                orientation="h",
                name=state,
                marker={"color": STATE_COLORS[state], "line": {"width": 0.5, "color": "white"}},
                customdata=_a([b.trial for b in bars]),
                # a label per bar while they are few enough to read (and cheap to draw)
                texttemplate="trial %{customdata}" if len(d.bars) <= 200 else None,
                textposition="inside",
                textangle=0,
                insidetextanchor="middle",
                hovertemplate="trial %{customdata}: %{base:.3g} s + %{x:.3g} s<extra>"
                + state
                + "</extra>",
            )
        )
    fig.update_layout(
        title={"text": f"{title}<br><sup>{d.caption}</sup>"},
        barmode="overlay",
        xaxis_title="seconds since the first ask",
        yaxis={"title": "worker", "categoryorder": "array", "categoryarray": d.workers[::-1]},
    )
    return fig


def importance(d: _data.Importance, title: str) -> Any:
    go = _go()
    fig = go.Figure(
        go.Bar(
            x=d.shares[::-1],
            y=d.names[::-1],
            orientation="h",
            marker={"color": VALUE},
            text=[f"{s:.2f}" for s in d.shares[::-1]],
            textposition="outside",
        )
    )
    fig.update_layout(
        title={"text": f"{title}<br><sup>{d.caption}</sup>"},
        xaxis_title="share of the variance",
    )
    return fig


def parallel(d: _data.Parallel, title: str) -> Any:
    go = _go()
    done = [v for v in d.values if v is not None]
    lo, hi = (min(done), max(done)) if done else (0.0, 1.0)
    span = (hi - lo) or 1.0
    failed_at = hi + 0.1 * span  # the value axis's "failed" tick, above every value
    dims = []
    for a in d.axes:
        dim: dict[str, Any] = {
            "label": a.name + (" (log10)" if a.log else ""),
            "values": _a(a.values),
        }
        if a.labels:
            dim.update(tickvals=a.ticks, ticktext=a.labels)
        dims.append(dim)
    value_axis = [failed_at if v is None else v for v in d.values]
    ticks = [lo + span * k / 4 for k in range(5)]
    dims.append(
        {
            "label": d.label,
            "values": _a(value_axis),
            "tickvals": ticks + ([failed_at] if None in d.values else []),
            "ticktext": [f"{t:.3g}" for t in ticks] + (["failed"] if None in d.values else []),
        }
    )
    # color: the value on a blue-to-yellow scale, failed trials red at the top of the scale
    color = [1.0 if v is None else 0.9 * (v - lo) / span for v in d.values]
    scale = [[0.0, "#440154"], [0.45, "#21918c"], [0.9, "#fde725"], [0.9001, FAILED], [1, FAILED]]
    fig = go.Figure(
        go.Parcoords(
            line={"color": _a(color), "colorscale": scale, "cmin": 0, "cmax": 1},
            dimensions=dims,
        )
    )
    fig.update_layout(title=title)
    return fig


def slices(d: _data.Slice, title: str) -> Any:
    from plotly.subplots import make_subplots

    go = _go()
    n = max(1, len(d.panels))
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[p.name for p in d.panels])
    for k, p in enumerate(d.panels):
        r, c = k // cols + 1, k % cols + 1
        fig.add_trace(
            go.Scatter(
                x=_a(p.x),
                y=_a(p.y),
                mode="markers",
                marker={"color": _a(p.ids), "colorscale": "Blues", "size": 7},
                customdata=_a(p.ids),
                hovertemplate="trial %{customdata}: %{y}<extra></extra>",
                name=d.label,
                showlegend=k == 0,
            ),
            r,
            c,
        )
        if p.failed_x:
            fig.add_trace(
                _failed_trace(
                    p.failed_x,
                    [d.failed_level] * len(p.failed_x),
                    [f"trial {i}" for i in p.failed_ids],
                    showlegend=k == 0,
                ),
                r,
                c,
            )
        axis: dict[str, Any] = {"type": "log"} if p.log else {}
        if p.labels:
            axis = {"tickvals": p.ticks, "ticktext": p.labels}
        fig.update_xaxes(row=r, col=c, **axis)
    fig.update_yaxes(title_text=d.label, col=1)
    fig.update_layout(title=f"{title}<br><sup>color: trial number (darker is later)</sup>")
    return fig


def contour(d: _data.Contour, title: str) -> Any:
    go = _go()
    fig = go.Figure()
    if any(v is not None for row in d.z for v in row):
        fig.add_trace(
            go.Contour(
                x=_a(d.grid_x),
                y=_a(d.grid_y),
                z=np.array([[np.nan if v is None else v for v in row] for row in d.z]),
                colorscale="Viridis",
                colorbar={"title": {"text": d.label}},
                connectgaps=False,
                name=d.label,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=_a(d.x),
            y=_a(d.y),
            mode="markers",
            marker={"color": "white", "line": {"color": "black", "width": 1}, "size": 7},
            customdata=_a(d.values),
            hovertemplate="%{customdata:.6g}<extra></extra>",
            name="trials",
        )
    )
    if d.failed_x:
        fig.add_trace(_failed_trace(d.failed_x, d.failed_y, ["failed"] * len(d.failed_x)))
    fig.update_layout(
        title=title,
        xaxis={"title": d.x_name, "type": "log" if d.x_log else "linear"},
        yaxis={"title": d.y_name, "type": "log" if d.y_log else "linear"},
    )
    return fig


def compare(d: _data.Compare, title: str) -> Any:
    from plotly.subplots import make_subplots

    go = _go()
    fig = make_subplots(rows=1, cols=2, subplot_titles=("by wall-clock", "by completed trials"))
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    for k, c in enumerate(d.curves):
        line = {"shape": "hv", "color": palette[k % len(palette)]}
        fig.add_trace(
            go.Scatter(x=_a(c.seconds), y=_a(c.best), mode="lines", name=c.label, line=line,
                       legendgroup=c.label),
            1,
            1,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=_a(c.trials), y=_a(c.best), mode="lines", line=line,
                       legendgroup=c.label, showlegend=False),
            1,
            2,
        )  # fmt: skip
    ylabel = f"regret of the best {d.label}" if d.regret else f"best {d.label} so far"
    fig.update_yaxes(title_text=ylabel, type="log" if d.regret else "linear")
    fig.update_xaxes(title_text="seconds since the first ask", row=1, col=1)
    fig.update_xaxes(title_text="completed trials", row=1, col=2)
    fig.update_layout(title=title)
    return fig


#: how each state's learning curves are drawn (pruned: dashed, ending in a cross; paused at
#: a rung by ASHA's promotion variant: dash-dotted)
CURVE_STYLE = {
    "complete": {"color": VALUE, "dash": "solid"},
    "pruned": {"color": STATE_COLORS["pruned"], "dash": "dash"},
    "paused": {"color": STATE_COLORS["paused"], "dash": "dashdot"},
    "running": {"color": STATE_COLORS["running"], "dash": "dot"},
    "failed": {"color": FAILED, "dash": "dot"},
}
INFEASIBLE = "#8c564b"  # infeasible trials of a Pareto plot: brown open diamonds
DOMINATED = "#9ecae1"


def _joined(lines: Sequence[_data.CurveLine]) -> tuple[list[Any], list[Any], list[Any]]:
    """The lines as one trace: their points, separated by gaps (one trace per state stays
    cheap with thousands of trials)."""
    x: list[Any] = []
    y: list[Any] = []
    ids: list[Any] = []
    for line in lines:
        x += [*line.steps, None]
        y += [*line.values, None]
        ids += [line.trial] * len(line.steps) + [None]
    return x, y, ids


def curves(d: _data.Curves, title: str) -> Any:
    go = _go()
    fig = go.Figure()
    for state in _data.CURVE_STATES:
        lines = [ln for ln in d.lines if ln.state == state]
        if not lines:
            continue
        x, y, ids = _joined(lines)
        style = CURVE_STYLE[state]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=f"{state} ({len(lines)})",
                line={"color": style["color"], "dash": style["dash"], "width": 1.2},
                opacity=0.75,
                customdata=ids,
                hovertemplate="trial %{customdata}, step %{x}: %{y}<extra>" + state + "</extra>",
                legendgroup=state,
            )
        )
        if state == "pruned":  # where each pruned trial was stopped
            fig.add_trace(
                go.Scatter(
                    x=_a([ln.steps[-1] for ln in lines]),
                    y=_a([ln.values[-1] for ln in lines]),
                    mode="markers",
                    marker={"symbol": "x", "color": style["color"], "size": 8},
                    customdata=_a([ln.trial for ln in lines]),
                    hovertemplate="trial %{customdata} stopped at step %{x}<extra>pruned</extra>",
                    name="stopped",
                    legendgroup=state,
                    showlegend=False,
                )
            )
    best = [ln for ln in d.lines if ln.trial == d.best]
    if best:
        fig.add_trace(
            go.Scatter(
                x=_a(best[0].steps),
                y=_a(best[0].values),
                mode="lines+markers",
                name=f"best (trial {d.best})",
                line={"color": BEST, "width": 3},
                marker={"size": 5},
            )
        )
    fig.update_layout(
        title={"text": f"{title}<br><sup>{d.caption}</sup>"},
        xaxis_title="step",
        yaxis_title=d.label,
    )
    return fig


def pareto(d: _data.Pareto, title: str) -> Any:
    go = _go()
    groups = [
        ("dominated", d.dominated, {"color": DOMINATED, "size": 7}),
        ("infeasible", d.infeasible, {"color": INFEASIBLE, "symbol": "diamond-open", "size": 8}),
        ("Pareto front", d.front, {"color": BEST, "size": 10, "line": {"color": "black", "width": 1}}),
    ]  # fmt: skip
    fig = go.Figure()
    if len(d.names) == 2:
        for name, which, marker in groups:
            if not which:
                continue
            fig.add_trace(
                go.Scatter(
                    x=_a(d.column(0, which)),
                    y=_a(d.column(1, which)),
                    mode="lines+markers" if name == "Pareto front" else "markers",
                    line={"shape": d.step_shape, "color": BEST},
                    marker=marker,
                    customdata=_a([d.ids[k] for k in which]),
                    hovertemplate="trial %{customdata}: (%{x}, %{y})<extra>" + name + "</extra>",
                    name=f"{name} ({len(which)})",
                )
            )
        fig.update_layout(xaxis_title=d.axis_labels[0], yaxis_title=d.axis_labels[1])
    else:
        dims = len(d.names)
        for name, which, marker in groups:
            if not which:
                continue
            fig.add_trace(
                go.Splom(
                    dimensions=[
                        {"label": d.axis_labels[j], "values": _a(d.column(j, which))}
                        for j in range(dims)
                    ],
                    marker=marker,
                    customdata=_a([d.ids[k] for k in which]),
                    hovertemplate="trial %{customdata}<extra>" + name + "</extra>",
                    name=f"{name} ({len(which)})",
                    diagonal={"visible": False},
                    showupperhalf=False,
                )
            )
    fig.update_layout(title={"text": f"{title}<br><sup>{d.caption}</sup>"})
    return fig
