"""Several objectives and constraints: parabo's GP against Optuna's samplers and random search.

    python3 benchmarks/multi_objective/run.py                  # quick: 3 seeds, 50 evaluations
    python3 benchmarks/multi_objective/run.py --seeds 0-9 --evals 50,100 --pending 0,16 --tag full
    python3 benchmarks/multi_objective/run.py --summarize --evals 50,100
    python3 benchmarks/multi_objective/run.py --latency
    python3 benchmarks/multi_objective/run.py --problems gb-cancer --seeds 0-9 --evals 50,100 \
        --pending 0,4 --all-pending --tag gb-cancer

quality     every problem x peer x seed: ``--evals`` evaluations, one at a time (``--pending 0``)
            or with k trials in flight at every ask (parabo only unless ``--all-pending``: the
            oldest one is told, then the next asked). Several objectives: log10 of the hypervolume regret against the
            true front's hypervolume (reference point fixed per problem). Constrained: log10 of
            the best feasible value's regret (2 when no feasible trial yet) and the evaluation
            at which the first feasible trial came.
latency     one ask's wall time at 100 completed trials and 8 in flight, two objectives and one
            constraint (ZDT1 with a constraint), median of 10 asks: parabo's GP and Optuna's
            GPSampler, in one process, one BLAS thread each.

Problems: ZDT1, ZDT2, ZDT3 (two objectives, d = 6), DTLZ2 (three objectives, d = 6),
constrained Branin (Gardner et al. 2014) and a sphere in d = 4 whose feasible region is a ball
of about 3% of the box. A real task, ``gb-cancer``: scikit-learn's gradient boosting on its
breast-cancer data set, 3-fold cross-validated error against model size (log10 of the trees'
nodes); its score is the log10 gap between the front's hypervolume and that of the ideal point
(error 0, size 10 nodes), as the true front is unknown. Writes results/quality-TAG.{csv,md} (``--tag``, default ``quick``),
results/summary.{csv,md} (``--summarize``) and results/latency.{csv,md} (``--latency``).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import one_blas_thread  # noqa: E402

one_blas_thread()

import numpy as np  # noqa: E402
from common.options import int_list, seed_range  # noqa: E402
from common.tables import write_table  # noqa: E402

import parabo  # noqa: E402
from parabo.pareto import hypervolume, non_dominated  # noqa: E402

RESULTS = HERE / "results"
PEERS = ("parabo-gp", "random", "optuna-nsga2", "optuna-tpe", "optuna-gp")


# ---------------------------------------------------------------------- problems
@dataclass(frozen=True)
class Problem:
    """``f(x) -> (objectives, constraint values)``; a constraint holds when its value is <= 0."""

    name: str
    d: int
    n_obj: int
    n_con: int
    f: Callable[[np.ndarray], tuple[list[float], list[float]]]
    ref: tuple[float, ...] | None = None  # several objectives: the reference point
    best_hv: float | None = None  # ... and the true front's hypervolume against it
    fstar: float | None = None  # constrained: the feasible optimum
    low: float = 0.0
    high: float = 1.0
    lows: tuple[float, ...] | None = None
    highs: tuple[float, ...] | None = None

    def bounds(self, i: int) -> tuple[float, float]:
        if self.lows is not None and self.highs is not None:
            return self.lows[i], self.highs[i]
        return self.low, self.high


def _zdt(kind: int) -> Callable[[np.ndarray], tuple[list[float], list[float]]]:
    def f(x: np.ndarray) -> tuple[list[float], list[float]]:
        g = 1 + 9 * float(np.mean(x[1:]))
        f1 = float(x[0])
        if kind == 1:
            f2 = g * (1 - math.sqrt(f1 / g))
        elif kind == 2:
            f2 = g * (1 - (f1 / g) ** 2)
        else:
            f2 = g * (1 - math.sqrt(f1 / g) - f1 / g * math.sin(10 * math.pi * f1))
        return [f1, f2], []

    return f


def _zdt_front(kind: int) -> np.ndarray:
    f1 = np.linspace(0, 1, 20001)
    if kind == 1:
        f2 = 1 - np.sqrt(f1)
    elif kind == 2:
        f2 = 1 - f1**2
    else:
        f2 = 1 - np.sqrt(f1) - f1 * np.sin(10 * np.pi * f1)
    Y = np.column_stack([f1, f2])
    return Y[non_dominated(Y)]


def dtlz2(x: np.ndarray) -> tuple[list[float], list[float]]:
    g = float(np.sum((x[2:] - 0.5) ** 2))
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    r = 1 + g
    return [r * math.cos(a) * math.cos(b), r * math.cos(a) * math.sin(b), r * math.sin(a)], []


def branin_c(x: np.ndarray) -> tuple[list[float], list[float]]:
    x1, x2 = float(x[0]), float(x[1])
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    f = (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
    return [f], [(x1 - 2.5) ** 2 + (x2 - 7.5) ** 2 - 50.0]


_R_BALL = 0.28  # a ball of radius 0.28 in d = 4 holds pi^2/2 r^4 = 3.0% of the unit box


def sphere_ball(x: np.ndarray) -> tuple[list[float], list[float]]:
    return [float(np.sum((x - 0.2) ** 2))], [float(np.linalg.norm(x - 0.7)) - _R_BALL]


_GB_DATA: list[Any] = []  # (X, y, folds), loaded on the first evaluation


def gb_hyperparameters(x: np.ndarray) -> dict[str, Any]:
    """The unit box onto gradient boosting's settings (every peer searches the same box)."""
    return {
        "n_estimators": int(round(math.exp(math.log(5) + float(x[0]) * math.log(100 / 5)))),
        "max_depth": 1 + min(int(float(x[1]) * 5), 4),  # 1 .. 5, equal shares of the box
        "learning_rate": 10 ** (-2 + 2 * float(x[2])),  # 0.01 .. 1, log scale
        "subsample": 0.5 + 0.5 * float(x[3]),
    }


def gb_cancer(x: np.ndarray) -> tuple[list[float], list[float]]:
    """3-fold cross-validated error and log10 of the mean node count of the fitted trees.

    Deterministic: the folds and the boosting (its subsampling) have fixed seeds, and the
    model's size, not its fit time, is the second objective (fit time is noise on a shared
    machine). One evaluation takes 0.02 to 0.6 seconds here.
    """
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import cross_validate

    if not _GB_DATA:
        from sklearn.datasets import load_breast_cancer
        from sklearn.model_selection import StratifiedKFold

        X, y = load_breast_cancer(return_X_y=True)
        _GB_DATA.extend([X, y, StratifiedKFold(3, shuffle=True, random_state=0)])
    X, y, folds = _GB_DATA
    model = GradientBoostingClassifier(random_state=0, **gb_hyperparameters(x))
    out = cross_validate(model, X, y, cv=folds, return_estimator=True)
    nodes = statistics.mean(
        sum(tree.tree_.node_count for tree in est.estimators_.ravel()) for est in out["estimator"]
    )
    return [1.0 - float(np.mean(out["test_score"])), math.log10(nodes)], []


def _problems() -> dict[str, Problem]:
    out = {}
    for k in (1, 2, 3):
        # f2 <= g <= 10 on ZDT1 and ZDT2 (11 on ZDT3): every point counts. The customary
        # (1.1, 1.1) leaves random search, NSGA-II and TPE at zero hypervolume after 100
        # evaluations in d = 6 (their g stays far above 1), which ranks nothing.
        ref = (1.1, 11.0)
        out[f"zdt{k}"] = Problem(
            f"zdt{k}", 6, 2, 0, _zdt(k), ref, hypervolume(_zdt_front(k), np.array(ref))
        )
    # DTLZ2's front is the unit sphere's positive octant; its objectives stay below 1 + g <= 2
    out["dtlz2"] = Problem("dtlz2", 6, 3, 0, dtlz2, (2.2, 2.2, 2.2), 2.2**3 - math.pi / 6)
    out["branin-c"] = Problem(
        "branin-c", 2, 1, 1, branin_c, fstar=0.397887, lows=(-5.0, 0.0), highs=(10.0, 15.0)
    )
    # the nearest point of the ball to (0.2, ...): distance between centres 1.0, less the radius
    out["sphere-ball"] = Problem("sphere-ball", 4, 1, 1, sphere_ball, fstar=(1.0 - _R_BALL) ** 2)
    # the majority class errs on 0.373 and log10 nodes <= log10(100 * 63) < 3.81, so every
    # trial but a worse-than-constant model counts; the true front is unknown, so the "best" hypervolume is the ideal
    # point's (error 0, 10 nodes) and the score is the log10 of the hypervolume it leaves
    ref = (0.4, 4.0)
    out["gb-cancer"] = Problem(
        "gb-cancer", 4, 2, 0, gb_cancer, ref, hypervolume(np.array([[0.0, 1.0]]), np.array(ref))
    )
    return out


PROBLEMS = _problems()


# ---------------------------------------------------------------------- peers
class ParaboPeer:
    def __init__(self, p: Problem, seed: int, sampler: str = "gp") -> None:
        space = {
            f"x{i}": {"type": "float", "low": p.bounds(i)[0], "high": p.bounds(i)[1]}
            for i in range(p.d)
        }
        metrics = [f"f{j}" for j in range(p.n_obj)]
        cons = {f"c{i}": {"max": 0.0} for i in range(p.n_con)} or None
        self.p = p
        self.study = parabo.Study(
            space,
            ["minimize"] * p.n_obj if p.n_obj > 1 else "minimize",
            sampler,
            seed,
            metric=metrics if p.n_obj > 1 else "f0",
            constraints=cons,
            durability="write",
        )

    def ask(self) -> tuple[Any, np.ndarray]:
        t = self.study.ask()
        return t, np.array([t.params[f"x{i}"] for i in range(self.p.d)])

    def tell(self, handle: Any, objs: list[float], cons: list[float]) -> None:
        result = {f"f{j}": v for j, v in enumerate(objs)}
        result.update({f"c{i}": v for i, v in enumerate(cons)})
        self.study.tell(handle, result)


class OptunaPeer:
    def __init__(self, p: Problem, seed: int, kind: str, pending: int = 0) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.p = p
        cons: Any = (lambda t: t.user_attrs["c"]) if p.n_con else None
        if kind == "nsga2":
            sampler: Any = optuna.samplers.NSGAIISampler(seed=seed, constraints_func=cons)
        elif kind == "tpe":
            # with trials in flight, the constant liar: Optuna's own answer to pending trials
            sampler = optuna.samplers.TPESampler(
                seed=seed, multivariate=True, constraints_func=cons, constant_liar=pending > 0
            )
        elif kind == "gp":
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # constraints_func, still supported
                sampler = optuna.samplers.GPSampler(seed=seed, constraints_func=cons)
        else:
            sampler = optuna.samplers.RandomSampler(seed=seed)
        self.study = optuna.create_study(directions=["minimize"] * p.n_obj, sampler=sampler)

    def ask(self) -> tuple[Any, np.ndarray]:
        t = self.study.ask()
        x = np.array([t.suggest_float(f"x{i}", *self.p.bounds(i)) for i in range(self.p.d)])
        return t, x

    def tell(self, handle: Any, objs: list[float], cons: list[float]) -> None:
        if cons:
            handle.set_user_attr("c", cons)
        self.study.tell(handle, objs if len(objs) > 1 else objs[0])


def make_peer(name: str, p: Problem, seed: int, pending: int = 0) -> Any:
    if name == "parabo-gp":
        return ParaboPeer(p, seed)
    return OptunaPeer(p, seed, name.removeprefix("optuna-"), pending)


# ---------------------------------------------------------------------- scores
def score(p: Problem, Y: np.ndarray, C: np.ndarray) -> float:
    """log10 hypervolume regret (several objectives) or best-feasible regret (constrained)."""
    feasible = np.all(C <= 0, axis=1) if C.size else np.ones(len(Y), dtype=bool)
    if p.n_obj > 1:
        assert p.ref is not None and p.best_hv is not None
        hv = hypervolume(Y[feasible], np.array(p.ref)) if feasible.any() else 0.0
        return math.log10(max(p.best_hv - hv, 1e-12))
    if not feasible.any():
        return 2.0  # no feasible trial: above any regret these problems reach
    assert p.fstar is not None
    return math.log10(max(float(Y[feasible, 0].min()) - p.fstar, 1e-12))


def front_hypervolume(p: Problem, Y: np.ndarray, C: np.ndarray) -> float | None:
    """The feasible trials' hypervolume against the reference point (several objectives)."""
    if p.n_obj == 1:
        return None
    assert p.ref is not None
    feasible = np.all(C <= 0, axis=1) if C.size else np.ones(len(Y), dtype=bool)
    return hypervolume(Y[feasible], np.array(p.ref)) if feasible.any() else 0.0


def run_one(name: str, p: Problem, seed: int, evals: list[int], pending: int) -> dict[str, Any]:
    peer = make_peer(name, p, seed, pending)
    Y = np.zeros((0, p.n_obj))
    C = np.zeros((0, p.n_con))
    order: list[tuple[Any, np.ndarray]] = []
    first_feasible = None
    began = time.perf_counter()
    while len(Y) < max(evals):
        while len(order) < pending + 1 and len(Y) + len(order) < max(evals):
            order.append(peer.ask())
        handle, x = order.pop(0)
        objs, cons = p.f(x)
        peer.tell(handle, objs, cons)
        Y = np.vstack([Y, objs])
        C = np.vstack([C, cons]) if p.n_con else C
        if first_feasible is None and (not cons or all(c <= 0 for c in cons)):
            first_feasible = len(Y)
    row: dict[str, Any] = {
        "problem": p.name,
        "peer": name,
        "pending": pending,
        "seed": seed,
    }
    for n in evals:
        row[f"score@{n}"] = score(p, Y[:n], C[:n] if p.n_con else C)
    for n in evals:
        row[f"hv@{n}"] = front_hypervolume(p, Y[:n], C[:n] if p.n_con else C)
    row["first_feasible"] = first_feasible
    row["seconds"] = round(time.perf_counter() - began, 2)
    return row


# ---------------------------------------------------------------------- latency
def latency() -> list[dict[str, Any]]:
    p = Problem("zdt1-c", 6, 2, 1, lambda x: (_zdt(1)(x)[0], [float(x[1]) - 0.5]))
    rows = []
    for name in ("parabo-gp", "optuna-gp"):
        peer = make_peer(name, p, 0)
        rng = np.random.default_rng(0)
        for _ in range(100):  # 100 completed trials (their parameters from the peer)
            handle, x = peer.ask()
            objs, cons = p.f(x)
            peer.tell(handle, objs, cons)
        del rng
        inflight = [peer.ask() for _ in range(8)]
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            new = peer.ask()
            times.append(time.perf_counter() - t0)
            handle, x = inflight.pop(0)  # keep 8 in flight and about 100 completed
            objs, cons = p.f(x)
            peer.tell(handle, objs, cons)
            inflight.append(new)
        rows.append(
            {
                "peer": name,
                "completed": 100,
                "in_flight": 8,
                "median_ms": round(1000 * statistics.median(times), 1),
                "max_ms": round(1000 * max(times), 1),
            }
        )
        print(rows[-1], flush=True)
    return rows


# ---------------------------------------------------------------------- summary
def summarize(rows: list[dict[str, Any]], evals: list[int]) -> list[dict[str, Any]]:
    out = []
    keys = sorted({(r["problem"], r["peer"], r["pending"]) for r in rows}, key=str)
    for prob, peer, pending in keys:
        group = [
            r for r in rows if (r["problem"], r["peer"], r["pending"]) == (prob, peer, pending)
        ]
        row: dict[str, Any] = {
            "problem": prob,
            "peer": peer,
            "pending": pending,
            "seeds": len(group),
        }
        for n in evals:
            vals = sorted(r[f"score@{n}"] for r in group)
            row[f"median@{n}"] = round(statistics.median(vals), 3)
            # the middle half of the seeds: an interval for the median's spread
            row[f"iqr@{n}"] = f"{np.quantile(vals, 0.25):.2f}..{np.quantile(vals, 0.75):.2f}"
        for n in evals:  # the hypervolume itself (higher is better); older runs lack it
            hvs = [r[f"hv@{n}"] for r in group if r.get(f"hv@{n}") is not None]
            row[f"hv_median@{n}"] = round(statistics.median(hvs), 4) if hvs else None
        ff = [r["first_feasible"] for r in group]
        row["first_feasible_median"] = (
            statistics.median([math.inf if v is None else v for v in ff])
            if PROBLEMS[prob].n_con
            else None
        )
        row["seconds_median"] = round(statistics.median(r["seconds"] for r in group), 1)
        out.append(row)
    return out


def read_rows() -> list[dict[str, Any]]:
    """Every row of results/quality-TAG.csv but the quick run's (peers, pending, Optuna's GP)."""
    import csv

    rows: list[dict[str, Any]] = []
    for path in sorted(RESULTS.glob("quality-*.csv")):
        if path.stem == "quality-quick":
            continue  # the smoke run's seeds repeat those of the full runs
        with path.open() as fh:
            for r in csv.DictReader(fh):
                row: dict[str, Any] = dict(r)
                row["pending"] = int(r["pending"])
                row["seconds"] = float(r["seconds"])
                row["first_feasible"] = (
                    None if r["first_feasible"] in ("", "-") else int(r["first_feasible"])
                )
                for k in r:
                    if k.startswith("score@"):
                        row[k] = float(r[k])
                    elif k.startswith("hv@"):
                        row[k] = None if r[k] in ("", "-") else float(r[k])
                rows.append(row)
    return rows


def counts(text: str) -> list[int]:
    """``0,4,16``: trials in flight, 0 or more (an argparse ``type=``)."""
    try:
        values = [int(v) for v in text.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers such as 0,4,16, got {text!r}"
        ) from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected integers of 0 or more, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--seeds", type=seed_range, default=range(0, 3), help="FIRST-LAST (default 0-2)"
    )
    ap.add_argument(
        "--evals", type=int_list, default=[50], help="evaluations to score at (default 50)"
    )
    ap.add_argument(
        "--pending",
        type=counts,
        default=[0],
        help="trials in flight at every ask, parabo only unless --all-pending (default 0)",
    )
    ap.add_argument(
        "--all-pending",
        action="store_true",
        help="run every peer with trials in flight, not only parabo (Optuna's TPE with its "
        "constant liar)",
    )
    ap.add_argument(
        "--peers",
        default=",".join(p for p in PEERS if p != "optuna-gp"),
        help=f"comma-separated, of {', '.join(PEERS)} (default: all but optuna-gp, the slowest)",
    )
    ap.add_argument(
        "--problems",
        default=",".join(p for p in PROBLEMS if p != "gb-cancer"),
        help=f"comma-separated, of {', '.join(PROBLEMS)} (default: all but gb-cancer, the "
        "real task, which is run by name)",
    )
    ap.add_argument(
        "--latency",
        action="store_true",
        help="only measure the ask latency (results/latency.{csv,md})",
    )
    ap.add_argument(
        "--summarize",
        action="store_true",
        help="only combine the results/quality-TAG.csv files (not the quick run's) into results/summary.{csv,md}",
    )
    ap.add_argument(
        "--tag", default="quick", help="suffix of the result files (to keep several runs)"
    )
    args = ap.parse_args(argv)
    if args.summarize:
        print(write_table(summarize(read_rows(), args.evals), RESULTS / "summary"))
        return
    if args.latency:
        print(write_table(latency(), RESULTS / "latency"))
        return
    peers = [p for p in args.peers.split(",") if p]
    for p in peers:
        if p not in PEERS:
            ap.error(f"--peers: unknown peer {p!r}; choose from {', '.join(PEERS)}")
    problems = [PROBLEMS[n] for n in args.problems.split(",") if n]
    tag = f"-{args.tag}" if args.tag else ""
    rows = []
    for prob in problems:
        for peer in peers:
            for pending in args.pending:
                if pending and peer != "parabo-gp" and not args.all_pending:
                    continue
                for seed in args.seeds:
                    row = run_one(peer, prob, seed, args.evals, pending)
                    rows.append(row)
                    print(row, flush=True)
                    # written after every run: a long run cut short keeps what it measured
                    write_table(rows, RESULTS / f"quality{tag}")
    if rows:
        print(write_table(summarize(rows, args.evals), RESULTS / f"summary{tag}"))


if __name__ == "__main__":
    main()
