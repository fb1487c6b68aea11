"""The benchmark problems: synthetic functions, a mixed space, scikit-learn tuning tasks.

Every problem is minimized. ``space`` is in parabo's study-file form; ``fstar``
is the known minimum (``None`` for the scikit-learn tasks, whose score is
1 - cross-validated accuracy, 0 at best). The peers' space mappings
(:func:`optuna_params`, :func:`skopt_dimensions`) live here too, so every
optimizer sees the same space.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Problem:
    name: str
    space: dict[str, dict[str, Any]]
    f: Callable[[dict[str, Any]], float]
    fstar: float | None

    @property
    def optimum(self) -> float:
        """The known minimum, or 0 (a perfect score) for the scikit-learn tasks."""
        return 0.0 if self.fstar is None else float(self.fstar)

    def __call__(self, params: dict[str, Any]) -> float:
        """Evaluate at ``params`` (so a problem is an objective for parabo's executors)."""
        return float(self.f(dict(params)))


def _box(d: int, lo: float, hi: float) -> dict[str, dict[str, Any]]:
    return {f"x{i}": {"type": "float", "low": lo, "high": hi} for i in range(d)}


def _vec(p: dict[str, Any], d: int) -> np.ndarray:
    return np.array([p[f"x{i}"] for i in range(d)], dtype=float)


def branin(p: dict[str, Any]) -> float:
    x1, x2 = p["x0"], p["x1"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(p: dict[str, Any]) -> float:
    x = _vec(p, 6)
    return float(-_H6_ALPHA @ np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1)))


_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array(
    [[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]]
)


def hartmann3(p: dict[str, Any]) -> float:
    x = _vec(p, 3)
    return float(-_H6_ALPHA @ np.exp(-np.sum(_H3_A * (x - _H3_P) ** 2, axis=1)))


def ackley(p: dict[str, Any], d: int = 5) -> float:
    x = _vec(p, d)
    return float(
        -20 * np.exp(-0.2 * np.sqrt(np.mean(x**2)))
        - np.exp(np.mean(np.cos(2 * np.pi * x)))
        + 20
        + math.e
    )


def rosenbrock(p: dict[str, Any], d: int = 4) -> float:
    x = _vec(p, d)
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def levy(p: dict[str, Any], d: int = 10) -> float:
    x = _vec(p, d)
    w = 1 + (x - 1) / 4
    return float(
        np.sin(np.pi * w[0]) ** 2
        + np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
        + (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2)
    )


def styblinski_tang(p: dict[str, Any], d: int = 8) -> float:
    x = _vec(p, d)
    return float(0.5 * np.sum(x**4 - 16 * x**2 + 5 * x))


_MIXED_OFFSET = {"a": 1.0, "b": 0.0, "c": 0.5, "d": 2.0}


def mixed(p: dict[str, Any]) -> float:
    """Two floats, a linear and a log integer, a categorical that shifts the float optimum."""
    c = p["c"]
    shift = 0.5 * "abcd".index(c)
    return (
        0.1 * (p["x1"] - 1.5 - shift) ** 2
        + 0.1 * (p["x2"] + 2) ** 2
        + 0.05 * (p["n1"] - 7) ** 2
        + (math.log10(p["n2"]) - 1.5) ** 2
        + _MIXED_OFFSET[c]
        + 0.2 * math.sin(p["x2"] + 2) ** 2 * (p["n1"] % 3)
    )


MIXED_FSTAR = (math.log10(32) - 1.5) ** 2  # x1=2, x2=-2, n1=7, n2=32, c=b

_DATA: dict[str, Any] = {}


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name not in _DATA:
        from sklearn import datasets
        from sklearn.preprocessing import StandardScaler

        if name == "digits":
            X, y = datasets.load_digits(return_X_y=True)
            rng = np.random.default_rng(0)
            idx = rng.permutation(X.shape[0])[:400]  # cheap: a 400-image subset
            X, y = X[idx] / 16.0, y[idx]
        elif name == "cancer":
            X, y = datasets.load_breast_cancer(return_X_y=True)
            X = StandardScaler().fit_transform(X)
        else:
            X, y = datasets.load_wine(return_X_y=True)
            X = StandardScaler().fit_transform(X)
        _DATA[name] = (X, y)
    return _DATA[name]


def _cv_error(model: Any, data: str, scoring: str | None = None) -> float:
    """3-fold CV misclassification rate, or with ``scoring="neg_log_loss"`` the CV log-loss."""
    import warnings

    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X, y = _data(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = StratifiedKFold(3, shuffle=True, random_state=0)
        s = cross_val_score(model, X, y, cv=cv, scoring=scoring)
    return float(-np.mean(s)) if scoring else float(1.0 - np.mean(s))


def svm_digits(p: dict[str, Any]) -> float:
    from sklearn.svm import SVC

    return _cv_error(SVC(C=p["C"], gamma=p["gamma"]), "digits")


def gbm_cancer(p: dict[str, Any], scoring: str | None = None) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier

    m = HistGradientBoostingClassifier(
        learning_rate=p["learning_rate"],
        max_iter=p["max_iter"],
        max_leaf_nodes=p["max_leaf_nodes"],
        min_samples_leaf=p["min_samples_leaf"],
        l2_regularization=p["l2"],
        early_stopping=False,
        random_state=0,
    )
    return _cv_error(m, "cancer", scoring)


def mlp_wine(p: dict[str, Any], scoring: str | None = None) -> float:
    from sklearn.neural_network import MLPClassifier

    m = MLPClassifier(
        hidden_layer_sizes=(p["width"],) * p["layers"],
        alpha=p["alpha"],
        learning_rate_init=p["lr"],
        activation=p["activation"],
        max_iter=60,
        random_state=0,
    )
    return _cv_error(m, "wine", scoring)


PROBLEMS: dict[str, Problem] = {
    "branin": Problem(
        "branin",
        {
            "x0": {"type": "float", "low": -5, "high": 10},
            "x1": {"type": "float", "low": 0, "high": 15},
        },
        branin,
        0.397887357729738,
    ),
    "hartmann3": Problem("hartmann3", _box(3, 0, 1), hartmann3, -3.86278214782076),
    "hartmann6": Problem("hartmann6", _box(6, 0, 1), hartmann6, -3.322368011415515),
    "ackley5": Problem("ackley5", _box(5, -32.768, 32.768), ackley, 0.0),
    "rosenbrock4": Problem("rosenbrock4", _box(4, -5, 10), rosenbrock, 0.0),
    "levy10": Problem("levy10", _box(10, -10, 10), levy, 0.0),
    "styblinski8": Problem("styblinski8", _box(8, -5, 5), styblinski_tang, -39.16616570377142 * 8),
    "mixed": Problem(
        "mixed",
        {
            "x1": {"type": "float", "low": -5, "high": 5},
            "x2": {"type": "float", "low": -5, "high": 5},
            "n1": {"type": "int", "low": 0, "high": 20},
            "n2": {"type": "int", "low": 1, "high": 1000, "log": True},
            "c": {"type": "categorical", "choices": ["a", "b", "c", "d"]},
        },
        mixed,
        MIXED_FSTAR,
    ),
    "svm_digits": Problem(
        "svm_digits",
        {
            "C": {"type": "float", "low": 1e-3, "high": 1e3, "log": True},
            "gamma": {"type": "float", "low": 1e-5, "high": 1e1, "log": True},
        },
        svm_digits,
        None,
    ),
    "gbm_cancer": Problem(
        "gbm_cancer",
        {
            "learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True},
            "max_iter": {"type": "int", "low": 5, "high": 60},
            "max_leaf_nodes": {"type": "int", "low": 2, "high": 64, "log": True},
            "min_samples_leaf": {"type": "int", "low": 1, "high": 100, "log": True},
            "l2": {"type": "float", "low": 1e-6, "high": 10.0, "log": True},
        },
        gbm_cancer,
        None,
    ),
    "mlp_wine": Problem(
        "mlp_wine",
        {
            "width": {"type": "int", "low": 2, "high": 64, "log": True},
            "layers": {"type": "int", "low": 1, "high": 3},
            "alpha": {"type": "float", "low": 1e-6, "high": 1.0, "log": True},
            "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
            "activation": {"type": "categorical", "choices": ["relu", "tanh", "logistic"]},
        },
        mlp_wine,
        None,
    ),
}
# The same two tasks scored by the CV log-loss, a continuous score: the CV error moves in steps
# of one sample (1/569, 1/178), and samplers tie at the same count of misclassified samples.
PROBLEMS["gbm_logloss_cancer"] = Problem(
    "gbm_logloss_cancer",
    PROBLEMS["gbm_cancer"].space,
    partial(gbm_cancer, scoring="neg_log_loss"),
    None,
)
PROBLEMS["mlp_logloss_wine"] = Problem(
    "mlp_logloss_wine", PROBLEMS["mlp_wine"].space, partial(mlp_wine, scoring="neg_log_loss"), None
)


def optuna_params(trial: Any, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Suggest every parameter of a parabo space on an Optuna trial (define-by-run)."""
    p = {}
    for name, s in space.items():
        if s["type"] == "float":
            p[name] = trial.suggest_float(name, s["low"], s["high"], log=s.get("log", False))
        elif s["type"] == "int":
            p[name] = trial.suggest_int(name, s["low"], s["high"], log=s.get("log", False))
        else:
            p[name] = trial.suggest_categorical(name, s["choices"])
    return p


def skopt_dimensions(space: dict[str, dict[str, Any]]) -> list[Any]:
    """scikit-optimize's dimensions for a parabo space (log scales as log-uniform priors)."""
    from skopt.space import Categorical, Integer, Real

    dims: list[Any] = []
    for s in space.values():
        prior = "log-uniform" if s.get("log") else "uniform"
        if s["type"] == "float":
            dims.append(Real(s["low"], s["high"], prior=prior))
        elif s["type"] == "int":
            dims.append(Integer(s["low"], s["high"], prior=prior))
        else:
            dims.append(Categorical(s["choices"]))
    return dims


def skopt_params(names: list[str], x: list[Any]) -> dict[str, Any]:
    """A scikit-optimize point as plain Python parameters (numpy scalars unwrapped)."""
    return {n: (v.item() if hasattr(v, "item") else v) for n, v in zip(names, x, strict=True)}


SYNTHETIC = ["branin", "hartmann6", "ackley5", "rosenbrock4", "levy10", "styblinski8", "mixed"]
REAL = ["svm_digits", "gbm_cancer", "mlp_wine"]
ALL = SYNTHETIC + REAL  # "the ten GP benchmark problems"


def problem_list(text: str) -> list[str]:
    """A comma-separated list of problem names, ``all`` (the ten) or ``synthetic``; for argparse."""
    import argparse

    if text == "all":
        return list(ALL)
    if text == "synthetic":
        return list(SYNTHETIC)
    names = [n for n in text.split(",") if n]
    unknown = [n for n in names if n not in PROBLEMS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown problem(s) {unknown or text!r}; choose from all, synthetic, {', '.join(PROBLEMS)}"
        )
    return names
