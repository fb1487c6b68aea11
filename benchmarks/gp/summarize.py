"""Aggregate results/raw/*.json into results/summary.csv, results/async.csv and docs/img plots.

    benchmarks/.venv/bin/python benchmarks/gp/summarize.py

Metric: log10 regret of the best value so far (``log10(best - fstar)``, floored
at 1e-12) for synthetic problems; the best cross-validated error (1 - accuracy)
for the sklearn tasks. Median and quartiles over seeds at budgets 25, 50, 100.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
RAW = HERE / "results" / "raw"
IMG = HERE.parent.parent / "docs" / "img"
BUDGETS = (25, 50, 100)


def metric(r: dict) -> np.ndarray:
    v = np.array([x if x is not None else np.inf for x in r["values"]], dtype=float)
    best = np.minimum.accumulate(v)
    if r["fstar"] is None:
        return best
    return np.log10(np.maximum(best - r["fstar"], 1e-12))


def load() -> dict[tuple[str, str, int], list[np.ndarray]]:
    runs: dict[tuple[str, str, int], list[np.ndarray]] = defaultdict(list)
    for f in sorted(RAW.glob("*.json")):
        r = json.loads(f.read_text())
        runs[(r["tag"], r["problem"], r["pending"])].append(metric(r))
    return runs


def quartiles(curves: list[np.ndarray], b: int) -> tuple[float, float, float]:
    vals = [c[min(b, len(c)) - 1] for c in curves if len(c) >= b]
    if not vals:
        return (math.nan,) * 3  # type: ignore[return-value]
    q = np.quantile(vals, [0.25, 0.5, 0.75])
    return float(q[0]), float(q[1]), float(q[2])


def main() -> None:
    runs = load()
    out = HERE / "results"
    rows = []
    for (tag, prob, q), curves in sorted(runs.items()):
        row = {"method": tag, "problem": prob, "pending": q, "seeds": len(curves)}
        for b in BUDGETS:
            lo, med, hi = quartiles(curves, b)
            row |= {f"q25_{b}": lo, f"median_{b}": med, f"q75_{b}": hi}
        rows.append(row)
    with open(out / "summary.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in r.items()})
    # min distance between pending points in async runs
    dist = defaultdict(list)
    for f in sorted(RAW.glob("*.json")):
        r = json.loads(f.read_text())
        if r["pending"] and r.get("min_pending_dist") is not None:
            dist[(r["tag"], r["problem"], r["pending"])].append(r["min_pending_dist"])
    with open(out / "async_min_dist.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["method", "problem", "pending", "min_pending_dist"])
        for k, v in sorted(dist.items()):
            w.writerow([*k, f"{min(v):.3g}"])
    print(f"{len(rows)} configurations -> {out / 'summary.csv'}")
    (out / "tables.md").write_text(markdown(rows) + seed_blocks() + real_task_seeds())
    plot(runs)


def markdown(rows: list[dict]) -> str:
    """Tables for docs/benchmarks.md: median [q25, q75] per problem and method, per budget."""
    seq = [r for r in rows if r["pending"] == 0]
    methods = [
        m
        for m in ("parabo", "parabo_r4", "parabo_r3", "optuna_gp", "botorch", "tpe", "skopt", "random")
        if any(r["method"] == m for r in seq)
    ]
    problems = sorted(
        {r["problem"] for r in seq}, key=lambda p: (p.endswith(("digits", "cancer", "wine")), p)
    )
    out = []
    for b in BUDGETS:
        out.append(f"\n**{b} evaluations** — median [q25, q75] (seeds)\n")
        out.append("| problem | " + " | ".join(methods) + " |")
        out.append("|---|" + "---|" * len(methods))
        for p in problems:
            cells = []
            for m in methods:
                r = next((x for x in seq if x["method"] == m and x["problem"] == p), None)
                if r is None or math.isnan(r[f"median_{b}"]):
                    cells.append("–")
                else:
                    k = 4 if p.endswith(("digits", "cancer", "wine")) else 2
                    cells.append(
                        f"{r[f'median_{b}']:.{k}f} [{r[f'q25_{b}']:.{k}f}, "
                        f"{r[f'q75_{b}']:.{k}f}] ({r['seeds']})"
                    )
            out.append(f"| {p} | " + " | ".join(cells) + " |")
    asy = [r for r in rows if r["pending"] > 0]
    if asy:
        out.append("\n**Asynchronous, 100 evaluations** — median [q25, q75] (seeds)\n")
        tags = sorted({r["method"] for r in asy})
        out.append(
            "| problem | pending | parabo sequential (all seeds) | seeds 0-9 | " + " | ".join(tags) + " |"
        )
        out.append("|---|---|---|---|" + "---|" * len(tags))
        matched = _sequential_seeds_0_9()
        for p in sorted({r["problem"] for r in asy}):
            ref = next((x for x in seq if x["method"] == "parabo" and x["problem"] == p), None)
            refc = f"{ref['median_100']:.2f}" if ref else "–"
            refc += f" | {matched[p]:.2f}" if p in matched else " | –"
            for q in sorted({r["pending"] for r in asy}):
                cells = []
                for t in tags:
                    r = next(
                        (
                            x
                            for x in asy
                            if x["method"] == t and x["problem"] == p and x["pending"] == q
                        ),
                        None,
                    )
                    cells.append(
                        "–"
                        if r is None
                        else f"{r['median_100']:.2f} [{r['q25_100']:.2f}, {r['q75_100']:.2f}] ({r['seeds']})"
                    )
                out.append(f"| {p} | {q} | {refc} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def _sequential_seeds_0_9() -> dict[str, float]:
    """Median at 100 evaluations of the sequential default on seeds 0-9 (the asynchronous runs' seeds)."""
    by: dict[str, list[float]] = defaultdict(list)
    for f in sorted(RAW.glob("parabo__*__q0__s*.json")):
        r = json.loads(f.read_text())
        if r["seed"] < 10 and r["fstar"] is not None and len(r["values"]) >= 100:
            by[r["problem"]].append(float(metric(r)[99]))
    return {p: float(np.median(v)) for p, v in by.items()}


def seed_blocks() -> str:
    """Sequential runs at 100 evaluations, seeds 0-9 against seeds 10-29, and basin success rates.

    Some problems (Hartmann-6 above all) have bimodal outcomes: a run finds the
    global basin or stays in a local one, so a 10-seed median swings with the
    seeds. The success rate (log10 regret below -1, i.e. past Hartmann-6's
    local optimum at regret 0.12) is the steadier statistic.
    """
    by: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for f in sorted(RAW.glob("*__q0__s*.json")):
        r = json.loads(f.read_text())
        if r["fstar"] is None or len(r["values"]) < 100:
            continue
        by[(r["tag"], r["problem"])][r["seed"]] = float(metric(r)[99])
    out = ["\n**100 evaluations by seed block** — median (runs); success: log10 regret < -1\n"]
    out.append("| problem | method | seeds 0-9 | seeds 10-29 | all | success, all |")
    out.append("|---|---|---|---|---|---|")
    for (tag, prob), v in sorted(by.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if tag not in ("parabo", "parabo_r4", "parabo_r3", "tpe", "optuna_gp", "botorch", "random"):
            continue
        a = [x for s_, x in v.items() if s_ < 10]
        b = [x for s_, x in v.items() if 10 <= s_ < 30]
        al = list(v.values())

        def med(xs: list[float]) -> str:
            return f"{float(np.median(xs)):.2f} ({len(xs)})" if xs else "–"

        ok = sum(x < -1 for x in al)
        out.append(f"| {prob} | {tag} | {med(a)} | {med(b)} | {med(al)} | {ok}/{len(al)} |")
    return "\n".join(out) + "\n"


def real_task_seeds() -> str:
    """Every seed's best CV error at 100 evaluations on the sklearn tasks (the values are quantized)."""
    by: dict[tuple[str, str], list[float]] = defaultdict(list)
    for f in sorted(RAW.glob("*__q0__s*.json")):
        r = json.loads(f.read_text())
        if r["fstar"] is None and len(r["values"]) >= 100:
            by[(r["problem"], r["tag"])].append(min(r["values"][:100]))
    out = ["\n**sklearn tasks, every seed** — best CV error at 100 evaluations, sorted\n"]
    out.append("| problem | method | seeds | values |")
    out.append("|---|---|---|---|")
    for (prob, tag), v in sorted(by.items()):
        out.append(f"| {prob} | {tag} | {len(v)} | " + ", ".join(f"{x:.4f}" for x in sorted(v)) + " |")
    return "\n".join(out) + "\n"


def plot(runs: dict) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plots")
        return
    IMG.mkdir(parents=True, exist_ok=True)
    problems = sorted({p for (_, p, q) in runs if q == 0})
    methods = ["parabo", "parabo_r4", "parabo_r3", "optuna_gp", "botorch", "tpe", "skopt", "random"]
    colors = dict(zip(methods, ["C3", "C6", "C5", "C0", "C1", "C2", "C4", "C7"], strict=False))
    ncol = 4
    nrow = math.ceil(len(problems) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 3.2 * nrow), squeeze=False)
    for ax, prob in zip(axes.ravel(), problems, strict=False):
        for m in methods:
            curves = runs.get((m, prob, 0))
            if not curves:
                continue
            n = min(len(c) for c in curves)
            C = np.array([c[:n] for c in curves])
            x = np.arange(1, n + 1)
            ax.plot(x, np.median(C, 0), color=colors[m], label=f"{m} ({len(curves)})")
            ax.fill_between(x, *np.quantile(C, [0.25, 0.75], axis=0), color=colors[m], alpha=0.15)
        ax.set_title(prob)
        ax.set_xlabel("evaluations")
        if prob.endswith(("digits", "cancer", "wine")):
            ax.set_ylabel("best CV log-loss" if "logloss" in prob else "best CV error")
            ax.set_yscale("log")
        else:
            ax.set_ylabel("log10 regret")
        ax.legend(fontsize=7)
    for ax in axes.ravel()[len(problems) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(IMG / "gp_sequential.png", dpi=90)
    plt.close(fig)

    # async: pending strategies at q = 4 and 16 vs sequential
    aprobs = sorted({p for (t, p, q) in runs if q > 0})
    if aprobs:
        strategies = ["kbtr", "kb", "cl", "lp", "none"]
        fig, axes = plt.subplots(1, len(aprobs), figsize=(4 * len(aprobs), 3.2), squeeze=False)
        for ax, prob in zip(axes.ravel(), aprobs, strict=False):
            labels, meds, los, his = [], [], [], []
            seq = runs.get(("parabo", prob, 0))
            if seq:
                lo, med, hi = quartiles(seq, 100)
                labels.append("seq")
                meds.append(med)
                los.append(med - lo)
                his.append(hi - med)
            for q in (4, 16):
                for s in strategies:
                    curves = runs.get((f"parabo_{s}", prob, q))
                    if curves:
                        lo, med, hi = quartiles(curves, 100)
                        labels.append(f"{s}/{q}")
                        meds.append(med)
                        los.append(med - lo)
                        his.append(hi - med)
            ax.errorbar(range(len(labels)), meds, yerr=[los, his], fmt="o")
            ax.set_xticks(range(len(labels)), labels, rotation=60, fontsize=7)
            ax.set_title(f"{prob}: after 100 evaluations")
            ax.set_ylabel("log10 regret")
        fig.tight_layout()
        fig.savefig(IMG / "gp_async.png", dpi=90)
        plt.close(fig)

    # prefer the measurements taken on an idle machine (latency_idle_*.json)
    files = sorted((HERE / "results").glob("latency_idle_*.json")) or [
        HERE / "results" / "latency.json"
    ]
    rows = [r for f in files if f.exists() for r in json.loads(f.read_text())]
    if rows:
        fig, ax = plt.subplots(figsize=(5, 3.2))
        for name, c in (("parabo", "C3"), ("optuna_gp", "C0")):
            rs = [r for r in rows if r["sampler"] == name]
            if rs:
                ax.plot(
                    [r["completed"] for r in rs],
                    [r["median_ms"] for r in rs],
                    "o-",
                    color=c,
                    label=name,
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("completed trials (6-D, 8 pending)")
        ax.set_ylabel("median ask latency (ms)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(IMG / "gp_latency.png", dpi=90)
        plt.close(fig)


if __name__ == "__main__":
    main()
