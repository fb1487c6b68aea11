"""How often round 13's noise-triggered switch picks Thompson sampling, per run.

Needs the throw-away patch (it counts the switch's asks in the sampler's ``_x_fired``):

    git -C ../.. apply benchmarks/parallel/patches/round13_rugged_ts.patch
    ../.venv/bin/python ts_asks.py 4 0.01 branin hartmann6 rosenbrock4 styblinski8 levy10 ackley5
    git -C ../.. checkout src

Runs parabo's GP with N simulated workers (time_to_target.py's durations, a free coordinator so
the runs do not depend on the load) for ``2*100 + 2*N`` trials on seeds 0-20, with the switch at
threshold TAU (Thompson sampling on an ask with trials in flight once the learned noise is at
least TAU times the signal variance), and prints the number of asks it answered by Thompson
sampling in each run. Zero everywhere means the runs are those of the default sampler.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import time_to_target as ttt  # noqa: E402
from common import PROBLEMS  # noqa: E402

from parabo.executors.simulated import SimulatedExecutor  # noqa: E402
from parabo.samplers.gp import GPSampler  # noqa: E402
from parabo.scheduler import Scheduler  # noqa: E402
from parabo.study import Study  # noqa: E402


def main() -> None:
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    workers, tau = int(sys.argv[1]), float(sys.argv[2])
    if "_x_fired" not in inspect.getsource(GPSampler._suggest):
        raise SystemExit("apply patches/round13_rugged_ts.patch first")
    ttt.GP_OPTIONS.update({"attr._x_tsn": tau})
    for name in sys.argv[3:]:
        counts = []
        for seed in range(21):
            sampler, _ = ttt.gp_sampler(seed)
            study = Study(PROBLEMS[name].space, sampler=sampler)
            ex = SimulatedExecutor(PROBLEMS[name], workers, runtime=ttt.RUNTIME, seed=seed, overhead=0)
            Scheduler(study, ex, trials=2 * 100 + 2 * workers, handle_signals=False).run()
            counts.append(getattr(sampler, "_x_fired", 0))
        print(f"{name}: asks answered by Thompson sampling per run ({workers} workers, tau {tau}): {counts}",
              flush=True)


if __name__ == "__main__":
    main()
