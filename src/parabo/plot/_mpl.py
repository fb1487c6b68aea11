"""Static figures (matplotlib, for PNG and SVG) of the records in :mod:`parabo.plot._data`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from parabo.plot import _data
from parabo.plot._plotly import (
    BEST,
    CURVE_STYLE,
    DOMINATED,
    FAILED,
    INFEASIBLE,
    STATE_COLORS,
    VALUE,
)

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


def _figure(rows: int = 1, cols: int = 1, width: float = 9.0, height: float = 4.5) -> Any:
    from matplotlib.figure import Figure

    # a Figure, not pyplot: no global state, no GUI backend, safe in a server thread
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, axes


def _failed(ax: Any, x: Sequence[float], y: Sequence[float], label: bool = True) -> None:
    if x:
        ax.scatter(x, y, marker="x", color=FAILED, s=36, label="failed" if label else None)


def history(d: _data.History, title: str) -> Any:
    fig, axes = _figure(1, 2, width=11)
    a, b = axes[0]
    a.scatter(d.ids, d.values, color=VALUE, s=16, label=d.label)
    a.step(d.best_ids, d.best_by_id, where="post", color=BEST, label="best so far")
    _failed(a, d.failed_ids, [d.failed_level] * len(d.failed_ids))
    a.set(xlabel="trial", ylabel=d.label, title="by trial number")
    a.legend(loc="best", fontsize="small")
    b.scatter(d.seconds, d.values_by_time, color=VALUE, s=16)
    b.step(d.seconds, d.best_by_time, where="post", color=BEST)
    _failed(b, d.failed_seconds, [d.failed_level] * len(d.failed_ids), label=False)
    b.set(xlabel="seconds since the first ask", title="by wall-clock")
    fig.suptitle(title)
    return fig


def timeline(d: _data.Timeline, title: str) -> Any:
    fig, axes = _figure(height=max(2.5, 0.35 * len(d.workers) + 1.5))
    ax = axes[0][0]
    row = {w: i for i, w in enumerate(d.workers)}
    seen: set[str] = set()
    for bar in d.bars:
        ax.barh(
            row[bar.worker],
            bar.end - bar.start,
            left=bar.start,
            color=STATE_COLORS.get(bar.state, "#7f7f7f"),
            edgecolor="white",
            linewidth=0.5,
            label=None if bar.state in seen else bar.state,
        )
        seen.add(bar.state)
    ax.set_yticks(range(len(d.workers)), d.workers)
    ax.invert_yaxis()
    ax.set(xlabel="seconds since the first ask", ylabel="worker")
    if seen:
        ax.legend(loc="lower right", fontsize="small")
    ax.set_title(d.caption, fontsize="small")
    fig.suptitle(title)
    return fig


def importance(d: _data.Importance, title: str) -> Any:
    fig, axes = _figure(height=max(2.5, 0.4 * len(d.names) + 1.5))
    ax = axes[0][0]
    ax.barh(d.names[::-1], d.shares[::-1], color=VALUE)
    for y, s in enumerate(d.shares[::-1]):
        ax.text(s, y, f" {s:.2f}", va="center", fontsize="small")
    ax.set(xlabel="share of the variance", xlim=(0, max(d.shares + [0.01]) * 1.15))
    ax.set_title(d.caption, fontsize="small")
    fig.suptitle(title)
    return fig


def parallel(d: _data.Parallel, title: str) -> Any:
    from matplotlib import colormaps

    fig, axes = _figure(width=max(6.0, 1.6 * (len(d.axes) + 1)))
    ax = axes[0][0]
    done = [v for v in d.values if v is not None]
    lo, hi = (min(done), max(done)) if done else (0.0, 1.0)
    span = (hi - lo) or 1.0
    columns = [a.values for a in d.axes] + [[hi + 0.1 * span if v is None else v for v in d.values]]
    scaled = []
    for col in columns:
        arr = np.asarray(col, dtype=float)
        a_lo, a_hi = np.nanmin(arr) if arr.size else 0.0, np.nanmax(arr) if arr.size else 1.0
        scaled.append((arr - a_lo) / ((a_hi - a_lo) or 1.0))
    lines = np.array(scaled).T if scaled and len(d.values) else np.zeros((0, len(columns)))
    cmap = colormaps["viridis"]
    xs = range(len(columns))
    for k, v in enumerate(d.values):
        if v is None:
            ax.plot(xs, lines[k], color=FAILED, linestyle="--", linewidth=1, alpha=0.8)
        else:
            ax.plot(xs, lines[k], color=cmap((v - lo) / span), linewidth=1, alpha=0.7)
    names = [a.name + (" (log10)" if a.log else "") for a in d.axes] + [d.label]
    ax.set_xticks(list(xs), names, rotation=20)
    ax.set_yticks([])
    for x in xs:
        ax.axvline(x, color="black", linewidth=0.8)
    ax.set_title("color: value (dark is low); dashed red: failed trials", fontsize="small")
    fig.suptitle(title)
    return fig


def slices(d: _data.Slice, title: str) -> Any:
    n = max(1, len(d.panels))
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = _figure(rows, cols, width=4 * cols, height=3.2 * rows)
    for k, p in enumerate(d.panels):
        ax = axes[k // cols][k % cols]
        ax.scatter(p.x, p.y, c=p.ids, cmap="Blues", s=16, edgecolors="grey", linewidths=0.3)
        _failed(ax, p.failed_x, [d.failed_level] * len(p.failed_x), label=k == 0)
        if p.log:
            ax.set_xscale("log")
        if p.labels:
            ax.set_xticks(p.ticks, p.labels)
        ax.set(title=p.name, ylabel=d.label if k % cols == 0 else None)
        if k == 0 and p.failed_x:
            ax.legend(fontsize="small")
    for k in range(len(d.panels), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    fig.suptitle(f"{title} (color: trial number, darker is later)")
    return fig


def contour(d: _data.Contour, title: str) -> Any:
    fig, axes = _figure(width=7, height=5.5)
    ax = axes[0][0]
    z = np.array([[np.nan if v is None else v for v in row] for row in d.z], dtype=float)
    if np.isfinite(z).any():
        cs = ax.contourf(d.grid_x, d.grid_y, np.ma.masked_invalid(z), levels=15, cmap="viridis")
        fig.colorbar(cs, ax=ax, label=d.label)
    ax.scatter(d.x, d.y, color="white", edgecolors="black", s=20, label="trials")
    _failed(ax, d.failed_x, d.failed_y)
    if d.x_log:
        ax.set_xscale("log")
    if d.y_log:
        ax.set_yscale("log")
    ax.set(xlabel=d.x_name, ylabel=d.y_name)
    ax.legend(fontsize="small", loc="upper right")
    fig.suptitle(title)
    return fig


def compare(d: _data.Compare, title: str) -> Any:
    fig, axes = _figure(1, 2, width=11)
    a, b = axes[0]
    for c in d.curves:
        (line,) = a.step(c.seconds, c.best, where="post", label=c.label)
        b.step(c.trials, c.best, where="post", color=line.get_color())
    ylabel = f"regret of the best {d.label}" if d.regret else f"best {d.label} so far"
    for ax in (a, b):
        if d.regret:
            ax.set_yscale("log")
    a.set(xlabel="seconds since the first ask", ylabel=ylabel, title="by wall-clock")
    b.set(xlabel="completed trials", title="by completed trials")
    a.legend(fontsize="small")
    fig.suptitle(title)
    return fig


_DASHES = {"solid": "-", "dash": "--", "dot": ":", "dashdot": "-."}


def curves(d: _data.Curves, title: str) -> Any:
    from matplotlib.collections import LineCollection

    fig, axes = _figure(width=9, height=5)
    ax = axes[0][0]
    for state in _data.CURVE_STATES:
        lines = [ln for ln in d.lines if ln.state == state]
        if not lines:
            continue
        style = CURVE_STYLE[state]
        segments = [np.column_stack([ln.steps, ln.values]) for ln in lines]
        ax.add_collection(
            LineCollection(
                segments,
                colors=style["color"],
                linestyles=_DASHES[style["dash"]],
                linewidths=1.2,
                alpha=0.75,
                label=f"{state} ({len(lines)})",
            )
        )
        if state == "pruned":  # where each pruned trial was stopped
            ax.scatter(
                [ln.steps[-1] for ln in lines],
                [ln.values[-1] for ln in lines],
                marker="x",
                color=style["color"],
                s=30,
            )
    best = [ln for ln in d.lines if ln.trial == d.best]
    if best:
        ax.plot(best[0].steps, best[0].values, color=BEST, linewidth=3, marker="o",
                markersize=3, label=f"best (trial {d.best})")  # fmt: skip
    ax.autoscale_view()
    ax.set(xlabel="step", ylabel=d.label)
    ax.legend(fontsize="small", loc="best")
    ax.set_title(d.caption, fontsize="small")
    fig.suptitle(title)
    return fig


def _pareto_points(ax: Any, d: _data.Pareto, i: int, j: int, legend: bool) -> None:
    """Objective ``i`` (x) against ``j`` (y): dominated, infeasible and front trials."""
    if d.dominated:
        ax.scatter(d.column(i, d.dominated), d.column(j, d.dominated), color=DOMINATED, s=18,
                   label=f"dominated ({len(d.dominated)})" if legend else None)  # fmt: skip
    if d.infeasible:
        ax.scatter(d.column(i, d.infeasible), d.column(j, d.infeasible), marker="D",
                   facecolors="none", edgecolors=INFEASIBLE, s=24,
                   label=f"infeasible ({len(d.infeasible)})" if legend else None)  # fmt: skip
    if d.front:
        ax.scatter(d.column(i, d.front), d.column(j, d.front), color=BEST, edgecolors="black",
                   s=40, zorder=3,
                   label=f"Pareto front ({len(d.front)})" if legend else None)  # fmt: skip


def pareto(d: _data.Pareto, title: str) -> Any:
    m = len(d.names)
    if m == 2:
        fig, axes = _figure(width=7, height=5.5)
        ax = axes[0][0]
        _pareto_points(ax, d, 0, 1, legend=True)
        if d.front:
            where = "post" if d.step_shape == "hv" else "pre"
            ax.step(d.column(0, d.front), d.column(1, d.front), where=where, color=BEST, zorder=2)
        ax.set(xlabel=d.axis_labels[0], ylabel=d.axis_labels[1])
        ax.legend(fontsize="small", loc="best")
    else:
        # a scatter matrix: each pair of objectives once (objective i across, j up)
        fig, axes = _figure(m - 1, m - 1, width=3.2 * (m - 1) + 1, height=3 * (m - 1) + 0.6)
        for r in range(m - 1):
            for c in range(m - 1):
                ax = axes[r][c]
                if c > r:
                    ax.set_visible(False)
                    continue
                _pareto_points(ax, d, c, r + 1, legend=r == c == 0)
                if r == m - 2:
                    ax.set_xlabel(d.axis_labels[c])
                if c == 0:
                    ax.set_ylabel(d.axis_labels[r + 1])
        fig.legend(fontsize="small", loc="upper right")
    fig.suptitle(f"{title}\n{d.caption}", fontsize="medium")
    return fig
