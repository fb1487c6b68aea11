"""Problems with learning curves for the early-stopping question, and the latency objective.

Each problem is a space, a number of steps (``max``) and ``start(params) -> step function``:
``step(s)`` runs step ``s`` (one epoch) and returns the validation loss after it. Lower is
better. ``final`` problems also give the loss at the full budget without running the steps.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

Step = Callable[[int], float]


@dataclass(frozen=True)
class CurveProblem:
    name: str
    space: dict[str, dict[str, Any]]
    max: int
    start: Callable[[dict[str, Any]], Step]


# ---------------------------------------------------------------- synthetic, known optimum
def _synthetic_final(p: dict[str, Any]) -> float:
    return 4.0 * ((p["x0"] - 0.3) ** 2 + (p["x1"] - 0.7) ** 2) + 0.3 * (1 - math.cos(8 * p["x2"]))


def synthetic(p: dict[str, Any]) -> Step:
    """A known optimum (0 at x0=0.3, x1=0.7, x2=0); x2 and x0 also set how slowly a curve comes
    down, so curves cross: some good configurations look worse early than some bad ones."""
    final = _synthetic_final(p)
    slope = 0.3 + 0.6 * p["x2"] + 0.3 * p["x0"]

    def step(s: int) -> float:
        return final + slope * (s**-0.6 - 81**-0.6)

    return step


# ---------------------------------------------------------------- scikit-learn, real curves
@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xva), ytr, yva


def sgd_digits(p: dict[str, Any]) -> Step:
    """SGDClassifier (log-loss) trained one epoch per step; the validation log-loss."""
    import warnings

    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import log_loss

    Xtr, Xva, ytr, yva = _digits()
    model = SGDClassifier(
        loss="log_loss",
        alpha=p["alpha"],
        eta0=p["eta0"],
        learning_rate=p["schedule"],
        penalty=p["penalty"],
        random_state=0,
    )
    classes = np.unique(ytr)
    rng = np.random.default_rng(0)

    def step(s: int) -> float:
        order = rng.permutation(len(ytr))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.partial_fit(Xtr[order], ytr[order], classes=classes)
            proba = np.clip(model.predict_proba(Xva), 1e-12, 1.0)
        return float(min(log_loss(yva, proba, labels=classes), 30.0))

    return step


def mlp_digits(p: dict[str, Any]) -> Step:
    """MLPClassifier trained one epoch per step; the validation log-loss."""
    import warnings

    from sklearn.metrics import log_loss
    from sklearn.neural_network import MLPClassifier

    Xtr, Xva, ytr, yva = _digits()
    model = MLPClassifier(
        hidden_layer_sizes=(int(p["width"]),),
        alpha=p["alpha"],
        learning_rate_init=p["lr"],
        batch_size=int(p["batch"]),
        random_state=0,
    )
    classes = np.unique(ytr)

    def step(s: int) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.partial_fit(Xtr, ytr, classes=classes)
            proba = np.clip(model.predict_proba(Xva), 1e-12, 1.0)
        return float(min(log_loss(yva, proba, labels=classes), 30.0))

    return step


PROBLEMS = {
    "synthetic": CurveProblem(
        "synthetic",
        {n: {"type": "float", "low": 0.0, "high": 1.0} for n in ("x0", "x1", "x2")},
        81,
        synthetic,
    ),
    "sgd_digits": CurveProblem(
        "sgd_digits",
        {
            "alpha": {"type": "float", "low": 1e-6, "high": 1e-1, "log": True},
            "eta0": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
            "schedule": {"type": "categorical", "choices": ["constant", "invscaling", "adaptive"]},
            "penalty": {"type": "categorical", "choices": ["l2", "l1", "elasticnet"]},
        },
        27,
        sgd_digits,
    ),
    "mlp_digits": CurveProblem(
        "mlp_digits",
        {
            "width": {"type": "int", "low": 4, "high": 128, "log": True},
            "alpha": {"type": "float", "low": 1e-6, "high": 1e-1, "log": True},
            "lr": {"type": "float", "low": 1e-4, "high": 0.3, "log": True},
            "batch": {"type": "int", "low": 16, "high": 256, "log": True},
        },
        27,
        mlp_digits,
    ),
}


# ---------------------------------------------------------------- decision latency
def latency(params: dict[str, Any], trial: Any) -> float:
    """Report once, then spin on should_prune(): the seconds until the stop is seen, to a file."""
    import parabo

    time.sleep(float(params.get("before", 0.0)))
    began = time.perf_counter()
    trial.report(1.0, step=1)
    while not trial.should_prune():  # checked every half millisecond, as a busy trial would
        if time.perf_counter() - began > 10.0:
            break
        time.sleep(0.0005)
    seconds = time.perf_counter() - began
    with open(os.environ["PARABO_LATENCY_FILE"], "a") as f:
        f.write(f"{seconds}\n")
    raise parabo.TrialPruned()
