"""Running a campaign: one loop drives every study's scheduler on one shared pool of workers.

:func:`run_campaign` builds one :class:`~parabo.scheduler.Scheduler` per study of a validated
:class:`~parabo.campaign.Campaign`, each on its own :class:`~parabo.lanes.Lane` of one
:class:`~parabo.lanes.SharedPool`, and runs them in a single loop (single-threaded, so the
simulated backend's clock works as for one study): collect what finished on the pool, hand each
scheduler its outcomes, then give the free workers to the studies in the policy's order, one
worker at a time. Signals stop every study; resume is each study's own.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

from parabo.campaign import Campaign, _write_record
from parabo.exceptions import ConfigError
from parabo.storage.lock import StudyLock
from parabo.trial import StopReason, TrialState

if TYPE_CHECKING:
    from parabo.scheduler import RunSummary, Scheduler
    from parabo.study import Study

__all__ = ["CampaignSummary", "run_campaign"]


@dataclass(frozen=True)
class CampaignSummary:
    """How a campaign run ended: each study's summary, in the campaign's order."""

    summaries: tuple[RunSummary, ...]
    elapsed: float
    utilization: float | None  # busy worker-seconds over available ones, while trials remained

    @property
    def interrupted(self) -> RunSummary | None:
        return next((s for s in self.summaries if s.stop_reason == StopReason.INTERRUPTED), None)


def _gain(study: Study) -> float:
    """A study's expected gain from one more trial: how much its best improved lately.

    The improvement of the best value over the last 10 completed trials, over the spread of
    all its values; a study with 10 completed trials or fewer gets its initial trials first.
    """
    done = [t.value for t in study.trials if t.state is TrialState.COMPLETE and t.value is not None]
    if len(done) <= 10:
        return math.inf
    sign = 1.0 if study.direction == "minimize" else -1.0
    vals = [sign * v for v in done]
    spread = max(vals) - min(vals)
    if spread <= 0:
        return 0.0
    return (min(vals[:-10]) - min(vals)) / spread


def _order(
    lanes: Sequence[Any], gains: dict[int, float] | None, turn: int, workers: int
) -> list[Any]:
    """The lanes in turn from ``turn``; with ``gains`` (policy ``gain``), most under-served first."""
    k = turn % len(lanes)
    order = list(lanes[k:]) + list(lanes[:k])
    if gains is None:
        return order
    if any(math.isinf(gains[lane.index]) for lane in order):
        return sorted(order, key=lambda lane: not math.isinf(gains[lane.index]))
    floor = 0.05  # no study is starved: each keeps a share of the workers
    total = sum(max(gains[lane.index], floor) for lane in order)

    def deficit(lane: Any) -> float:
        share = max(gains[lane.index], floor) / total
        return len(lane.inflight) - share * workers

    return sorted(order, key=deficit)


def run_campaign(campaign: Campaign, listener: Any | None = None) -> CampaignSummary:
    """Run (or resume) every study of ``campaign`` on one pool of workers until each stops."""
    from parabo.executors import make_executor
    from parabo.lanes import CampaignObjective, SharedPool, shared_setup
    from parabo.optimize import _check, _study_cache, open_study
    from parabo.scheduler import Scheduler, process_recorder

    for cell in campaign.cells:
        for key in ("early_stopping", "warm_start", "tracking"):
            if getattr(cell.config, key, None) is not None:
                raise ConfigError(
                    "is not supported in campaigns yet; run the study on its own "
                    f"(parabo run study.yaml), or remove {key} from the template",
                    field=key,
                )
    campaign.folder.mkdir(parents=True, exist_ok=True)
    lock = StudyLock(campaign.folder)
    lock.acquire()
    studies: list[Study] = []
    try:
        objectives = []
        for cell in campaign.cells:
            obj = cell.config.objective.build(campaign.base_dir)
            _check(obj, cell.config.run.backend)
            # a setup hook (a reference per problem) is computed once for the whole campaign
            objectives.append(shared_setup(obj, cell.values, str(campaign.folder / "setup")))
        _write_record(campaign)
        for cell in campaign.cells:
            c = cell.config
            studies.append(open_study(c, cell.folder))
            if c.initial:
                with studies[-1].batched():
                    studies[-1].enqueue_initial(c.initial)
        first = campaign.cells[0].config.run
        executor = make_executor(
            first.backend,
            CampaignObjective(tuple(objectives)),
            first.workers,
            **first.backend_options(campaign.cells[0].config.seed),
        )
        pool = SharedPool(executor)
        schedulers = []
        for i, (cell, study) in enumerate(zip(campaign.cells, studies, strict=True)):
            run = cell.config.run
            schedulers.append(
                Scheduler(
                    study,
                    pool.lane(i, process_recorder(study)),
                    stop=run.stop_rule(),
                    retry=run.retry_policy(),
                    trial_timeout=run.timeout,
                    cache=_study_cache(cell.config, objectives[i], study, campaign.base_dir),
                    trial_folders=run.trial_folders,
                    handle_signals=False,
                    clock=pool.now,
                )
            )
        return _loop(campaign, pool, studies, schedulers, listener)
    finally:
        for study in studies:
            study.close()
        lock.release()


def _loop(
    campaign: Campaign,
    pool: Any,
    studies: list[Study],
    schedulers: list[Scheduler],
    listener: Any | None,
) -> CampaignSummary:
    lanes = pool.lanes
    previous: dict[int, Any] = {}
    said: list[str] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        for s in schedulers:
            s._on_signal(signum, None)
        name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        said.append(
            f"{name}: no new trials in any study; the trials in flight finish (again: cancel "
            "them); run the same command again to resume"
        )

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    start = pool.now()
    last_start = start
    done = [False] * len(schedulers)
    turn = 0
    with contextlib.ExitStack() as stack:
        for study in studies:
            stack.enter_context(study.batched())
        for s in schedulers:
            s.begin()
        try:
            while True:
                for i, s in enumerate(schedulers):
                    done[i] = s.advance(fill=False)
                if _grant(pool, lanes, schedulers, studies, campaign.policy, done, turn):
                    last_start = pool.now()
                turn += 1
                for i, s in enumerate(schedulers):
                    done[i] = s.advance(fill=False)
                if all(done):
                    break
                waits = [w for s in schedulers if (w := s._wait()) is not None]
                routed = pool.collect(timeout=min(waits) if waits else None)
                for lane, s in zip(lanes, schedulers, strict=True):
                    s.absorb(routed.get(lane, []))
                    s.tick()
                if listener is not None:
                    listener.on_campaign_tick(campaign, schedulers)
                while said:
                    print(f"parabo: {said.pop(0)}", flush=True)
        except BaseException:
            for s in schedulers:
                with contextlib.suppress(Exception):
                    s.abort()
            pool.close(cancel=True)
            raise
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        summaries = tuple(s.end() for s in schedulers)
    pool.close(cancel=True)
    return CampaignSummary(
        summaries, pool.now() - start, _utilization(studies, start, last_start, pool.workers)
    )


def _utilization(
    studies: Sequence[Study], start: float, until: float, workers: int
) -> float | None:
    """Busy worker-seconds over available ones from ``start`` to the last trial start."""
    if until <= start:
        return None
    busy = 0.0
    for study in studies:
        for t in study.trials:
            if t.started_at is None or t.finished_at is None or t.worker == "cache":
                continue
            busy += max(0.0, min(t.finished_at, until) - max(t.started_at, start))
    return busy / (workers * (until - start))


def _grant(
    pool: Any,
    lanes: Sequence[Any],
    schedulers: Sequence[Scheduler],
    studies: Sequence[Study],
    policy: str,
    done: Sequence[bool],
    turn: int,
) -> bool:
    """Give free workers to the studies, one at a time, in the policy's order; True if any started."""
    started = False
    progressed = True
    # the studies' gains, once per grant (they change when trials finish, not while granting)
    gains = (
        {lane.index: _gain(studies[lane.index]) for lane in lanes if not done[lane.index]}
        if policy == "gain"
        else None
    )
    while pool.free > 0 and progressed:
        progressed = False
        open_lanes = [lane for lane in lanes if not done[lane.index]]
        if not open_lanes:
            break
        for lane in _order(open_lanes, gains, turn, pool.workers):
            if pool.free <= 0:
                break
            lane.grant = 1
            before = len(lane.inflight)
            try:
                schedulers[lane.index].advance(fill=True)
            finally:
                lane.grant = 0
            progressed = progressed or len(lane.inflight) > before
        started = started or progressed
    return started
