"""Cost of a GP suggestion with many trials in flight: 300 completed (6-D), 128 pending, then ask(32).

    python benchmarks/gp/ask_many_pending.py
"""

import time

import numpy as np

from parabo import Study

SPACE = {f"x{i}": {"type": "float", "low": 0, "high": 1} for i in range(6)}


def f(p: dict) -> float:
    return float(np.sum((np.array(list(p.values())) - 0.3) ** 2))


study = Study(SPACE, sampler={"name": "gp", "seed": 0})
rng = np.random.default_rng(0)
for _ in range(300):
    p = {k: float(v) for k, v in zip(SPACE, rng.random(6), strict=True)}
    study.add_trial(p, f(p))
study.ask(128)
t0 = time.perf_counter()
study.ask(32)
elapsed = time.perf_counter() - t0
print(f"ask(32) with 128 pending, 300 completed: {elapsed:.2f} s = {1000 * elapsed / 32:.0f} ms per suggestion")
