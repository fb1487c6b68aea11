"""Trace where parabo's GP sends its suggestions: the trust box and the value of every ask.

    benchmarks/.venv/bin/python benchmarks/gp/trust_box_trace.py PROBLEM PENDING SEED [FROM-TO]

Runs one asynchronous run as ``run.py --pending PENDING`` does (PENDING trials in flight at
every ask, the oldest told first; 0 = sequential) and prints, for asks FROM..TO (default
15-70): the ask's number, the trials completed, the suggestion's value, the best value
completed so far, whether the ask was searched in the trust box ("box", with the radius in
length scales, the box's mean width in the unit cube and the mean length scale) or over the
whole space ("glob"), and the suggestion's max-norm distance from the centre of the cube
(0.5 = on a face of the cube), and the model's view of it: the posterior mean there against the
lowest standardized observation (``mu`` below ``ymin``: the model expects the suggestion to beat
every trial). Used in docs/benchmarks.md, "Initial design in flight" and "Monte Carlo fantasies,
and the faces".
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from problems import PROBLEMS  # noqa: E402

from parabo.samplers.gp import GPSampler  # noqa: E402
from parabo.space import Space  # noqa: E402
from parabo.trial import Trial, TrialState  # noqa: E402


def main() -> None:
    prob, q, seed = PROBLEMS[sys.argv[1]], int(sys.argv[2]), int(sys.argv[3])
    lo_ask, hi_ask = (int(x) for x in (sys.argv[4] if len(sys.argv) > 4 else "15-70").split("-"))
    boxes: list[tuple[float, float, float]] = []
    trust_box = GPSampler._trust_box

    def logged(model, domain, radius):  # type: ignore[no-untyped-def]
        lo, hi = trust_box(model, domain, radius)
        boxes.append((radius, float(np.mean(hi - lo)), float(np.exp(model.theta[: domain.dim]).mean())))
        return lo, hi

    GPSampler._trust_box = staticmethod(logged)  # type: ignore[method-assign]
    views: list[tuple[float, float]] = []
    suggest = GPSampler._suggest

    def viewed(self, base, *args, **kwargs):  # type: ignore[no-untyped-def]
        F = suggest(self, base, *args, **kwargs)
        views.append((float(base.predict(F[:1])[0][0]), float(base.y.min())))
        return F

    GPSampler._suggest = viewed  # type: ignore[method-assign]
    sampler, space = GPSampler(seed=seed), Space(prob.space)
    history: list[Trial] = []
    pending: list[Trial] = []
    budget, next_id = 100, 0
    while len(history) < budget:
        if next_id < budget:
            n_boxes, n_views = len(boxes), len(views)
            params = sampler.ask(space, history, pending, 1)[0]
            pending.append(Trial(next_id, params))
            next_id += 1
            if lo_ask <= next_id <= hi_ask:
                box = boxes[-1] if len(boxes) > n_boxes else None
                where = "box r={:.3f} width={:.3f} ls={:.3f}".format(*box) if box else "glob"
                view = " mu={:.2f} ymin={:.2f}".format(*views[-1]) if len(views) > n_views else ""
                best = min((t.value for t in history), default=math.inf)
                u = space.to_unit_array([params])[0]
                print(f"{next_id} {len(history)} f={prob.f(dict(params)):.2f} best={best:.2f} "
                      f"{where} dist_c={np.abs(u - 0.5).max():.2f}{view}")
        if len(pending) > q or next_id >= budget:
            t = pending.pop(0)
            history.append(t.evolve(state=TrialState.COMPLETE, value=prob.f(dict(t.params))))


if __name__ == "__main__":
    main()
