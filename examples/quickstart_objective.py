"""The quickstart objective: a noisy-free test function that costs some CPU time, like a real trial.

``evaluate(params)`` returns a dict of metrics; the study optimizes ``loss``.
"""

from __future__ import annotations

import math


def _burn(seconds_of_work: int) -> float:
    # pure-Python busy work (~0.1-0.2 s) so that parallel workers show a speed-up
    acc = 0.0
    for i in range(seconds_of_work):
        acc += math.sin(i) * 1e-9
    return acc


def evaluate(params: dict) -> dict:
    x = params["x"]
    lr = params["lr"]
    layers = params["layers"]
    optimizer = params["optimizer"]
    # a smooth valley in x, a log-scale optimum near lr=3e-3, a preferred depth and optimizer
    loss = (x - 2.0) ** 2 / 10.0 + (math.log10(lr) + 2.5) ** 2 + 0.3 * abs(layers - 3)
    loss += 0.0 if optimizer == "adam" else 0.5
    loss += _burn(1_500_000)
    return {"loss": loss, "accuracy": 1.0 / (1.0 + loss)}
