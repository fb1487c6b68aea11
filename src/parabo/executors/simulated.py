"""Simulated time: trials "run" on a virtual clock, so parallel studies replay in seconds.

Each submitted trial occupies one of ``workers`` slots for a duration drawn
from a *runtime model* (a constant, a distribution, or a function of the
parameters); its value comes from calling the objective instantly when the
trial's simulated end arrives. An event heap orders the ends; ``collect``
jumps the virtual clock to the next one (or to the end of its timeout, in
virtual seconds).

The coordinator's own work is charged to the virtual clock: by default the
*real* time that passes between two ``collect`` calls (the scheduler asking,
journaling and telling) is added to the virtual clock, so a slow optimizer
shows up as idle workers, exactly as it would on real machines. For exact
determinism (tests), give ``overhead`` a fixed number of virtual seconds
charged per submitted trial instead (``0`` charges nothing).

Early stopping: an objective that reports (a Python function with a ``trial``
parameter, a command with reports on) is run when its trial *starts*, its
reports recorded; they then reach the coordinator at virtual times spread over
the trial's duration in proportion to their step (the last report at its end).
A trial the rule stops ends at the time of the report that stopped it (plus the
coordinator's time to handle it), with reason ``pruned``, and frees its worker
then; a stop that comes at or after the trial's own end is too late, and the
trial finishes as it would have. The coordinator's time to handle a report is
charged before the next report or end is handled; the objective's own (real)
time never is.

    >>> from parabo.executors.base import Task
    >>> ex = SimulatedExecutor(lambda p: p["x"] ** 2, workers=2, runtime="10s", overhead=0)
    >>> ex.submit(Task(0, {"x": 3.0}))
    >>> [(o.trial_id, o.result, o.finished_at) for o in ex.collect()]
    [(0, 9.0, 10.0)]
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from parabo.exceptions import ConfigError, ExecutorError
from parabo.executors.base import Executor, Outcome, Task, run_task
from parabo.objectives import (
    CommandObjective,
    Objective,
    PythonObjective,
    TrialContext,
    as_objective,
)
from parabo.reporting import wants_trial

__all__ = ["RuntimeModel", "SimulatedExecutor", "SimulatedRecord", "parse_runtime"]

_DIST = re.compile(r"\s*([a-z_]+)\s*\((.*)\)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class RuntimeModel:
    """How long a trial runs, in seconds: ``sample(params, rng)``.

    ``kind`` is ``constant``, ``lognormal`` (``a`` = mean, ``b`` = sigma of the
    log), ``uniform`` (``a``..``b``), ``exponential`` (``a`` = mean) or
    ``function`` (``function(params)`` returns the seconds).
    """

    kind: str
    a: float = 0.0
    b: float = 0.0
    function: Callable[[Mapping[str, Any]], float] | None = None
    field: str = "run.runtime"

    @property
    def mean(self) -> float | None:
        """The mean duration in seconds (``None`` for a function of the parameters)."""
        if self.kind in ("constant", "lognormal", "exponential"):
            return self.a
        if self.kind == "uniform":
            return (self.a + self.b) / 2
        return None

    def sample(self, params: Mapping[str, Any], rng: np.random.Generator) -> float:
        if self.kind == "constant":
            return self.a
        if self.kind == "lognormal":
            # parameterized by its mean, so 'lognormal(60s, 0.5)' averages 60 s
            return float(rng.lognormal(math.log(self.a) - self.b**2 / 2, self.b))
        if self.kind == "uniform":
            return float(rng.uniform(self.a, self.b))
        if self.kind == "exponential":
            return float(rng.exponential(self.a))
        assert self.function is not None
        seconds = self.function(params)
        try:
            value = float(seconds)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise ConfigError(
                f"the runtime function returned {seconds!r} for {dict(params)!r}; it must return seconds >= 0",
                field=self.field,
            )
        return value

    def __str__(self) -> str:
        if self.kind == "constant":
            return f"{self.a:g}s"
        if self.kind == "lognormal":
            return f"lognormal({self.a:g}s, {self.b:g})"
        if self.kind == "uniform":
            return f"uniform({self.a:g}s, {self.b:g}s)"
        if self.kind == "exponential":
            return f"exponential({self.a:g}s)"
        return getattr(self.function, "__name__", "function")


def parse_runtime(spec: Any, field: str = "run.runtime") -> RuntimeModel:
    """A runtime model from ``60``, ``"90s"``, ``"lognormal(60s, 0.5)"``, ``"uniform(10s, 2m)"``,
    ``"exponential(60s)"``, ``"constant(1m)"``, a function ``f(params) -> seconds``, or a model.

    Raises :class:`ConfigError` naming ``field`` when the spec cannot be read.
    """
    from parabo.config import parse_duration

    if isinstance(spec, RuntimeModel):
        return spec
    if callable(spec):
        return RuntimeModel("function", function=spec, field=field)
    if isinstance(spec, str):
        m = _DIST.fullmatch(spec)
        if m:
            kind = m.group(1).lower()
            args = [a.strip() for a in m.group(2).split(",")] if m.group(2).strip() else []
            usage = {
                "constant": "constant(60s)",
                "lognormal": "lognormal(MEAN, SIGMA), e.g. lognormal(60s, 0.5)",
                "uniform": "uniform(LOW, HIGH), e.g. uniform(10s, 2m)",
                "exponential": "exponential(MEAN), e.g. exponential(60s)",
            }
            if kind not in usage:
                raise ConfigError(
                    f"unknown runtime distribution {kind!r}; use one of: {', '.join(usage.values())}",
                    field=field,
                )
            want = {"constant": 1, "lognormal": 2, "uniform": 2, "exponential": 1}[kind]
            if len(args) != want:
                raise ConfigError(f"{spec!r} needs {want} argument(s): {usage[kind]}", field=field)
            if kind == "lognormal":
                sigma = _number(args[1], field)
                if sigma < 0:
                    raise ConfigError(f"the sigma of {spec!r} must be >= 0", field=field)
                return RuntimeModel(kind, parse_duration(args[0], field), sigma, field=field)
            if kind == "uniform":
                low = 0.0 if _number_or_none(args[0]) == 0 else parse_duration(args[0], field)
                high = parse_duration(args[1], field)
                if high < low:
                    raise ConfigError(f"the low end of {spec!r} is above its high end", field=field)
                return RuntimeModel(kind, low, high, field=field)
            return RuntimeModel(kind, parse_duration(args[0], field), field=field)
    return RuntimeModel("constant", parse_duration(spec, field), field=field)


def _number_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _number(text: str, field: str) -> float:
    value = _number_or_none(text)
    if value is None or not math.isfinite(value):
        raise ConfigError(f"expected a number, got {text!r}", field=field)
    return value


@dataclass(frozen=True)
class SimulatedRecord:
    """One trial's stay on a simulated worker (virtual seconds)."""

    trial_id: int
    worker: int
    start: float
    end: float
    reason: str | None


@dataclass
class _Running:
    task: Task
    worker: int
    start: float
    end: float
    timed_out: bool
    seq: int
    outcome: Outcome | None = None  # run at its start when it reports (early stopping)


class _Recorder:
    """The channel of a trial run ahead of its virtual time: reports are kept, never stopped."""

    def __init__(self) -> None:
        self.reports: list[tuple[float, float | None, dict[str, float]]] = []

    def report(self, step: float, value: float | None, metrics: Mapping[str, float]) -> None:
        self.reports.append((step, value, dict(metrics)))

    def stopped(self) -> bool:
        return False


def _reports(objective: Objective) -> bool:
    """Whether an objective reports as it goes (it then runs when its trial starts)."""
    if isinstance(objective, CommandObjective):
        return objective.report_key is not None
    if isinstance(objective, PythonObjective):
        try:
            fn, _ = objective._resolve()
        except Exception:
            return False
        return wants_trial(fn)
    return False


class SimulatedExecutor(Executor):
    """Run trials on ``workers`` simulated workers against a virtual clock.

    Args:
        objective: the objective (a callable, ``"module:function"`` or an
            :class:`~parabo.objectives.Objective`); loaded once, called instantly.
        workers: simulated workers (trials that run at once).
        runtime: the runtime model, see :func:`parse_runtime` (default 60 s).
        seed: seeds the durations drawn from a distribution.
        overhead: ``None`` (default) charges the coordinator's real time between
            ``collect`` calls to the virtual clock; a number charges that many
            virtual seconds per submitted trial instead (deterministic).
        start: the virtual time the clock starts at.

    Per-trial time limits (``Task.timeout``) are enforced in virtual seconds: a
    trial whose duration exceeds its limit ends at the limit with reason ``timeout``.
    """

    reports = True

    def __init__(
        self,
        objective: Objective | Callable[..., Any] | str,
        workers: int = 1,
        *,
        runtime: Any = 60.0,
        seed: int | None = None,
        overhead: float | None = None,
        start: float = 0.0,
    ) -> None:
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ConfigError(f"must be a positive integer, got {workers!r}", field="run.workers")
        if overhead is not None and not (math.isfinite(overhead) and overhead >= 0):
            raise ConfigError(f"must be None or seconds >= 0, got {overhead!r}", field="overhead")
        self.workers = workers
        self.runtime = parse_runtime(runtime)
        self.overhead = overhead
        spec = as_objective(objective)
        self._run: Callable[[TrialContext], Any] = spec.load()
        self._ahead = _reports(spec)  # run trials at their start, their reports on the clock
        self._report_heap: list[tuple[float, int, int, int]] = []  # (at, seq, trial id, index)
        self._report_data: dict[int, list[tuple[float, float | None, dict[str, float]]]] = {}
        self._rng = np.random.default_rng(seed)
        self._now = float(start)
        self.started_at = float(start)
        self._heap: list[tuple[float, int, int]] = []  # (end, sequence, trial id)
        self._seq = 0
        self._closed = False
        self._running: dict[int, _Running] = {}
        self._queue: deque[tuple[Task, float]] = deque()  # submitted while every worker was busy
        self._free = list(range(workers))  # lowest free worker first, for readable timelines
        self._done: list[Outcome] = []
        #: every trial's stay on a worker, in the order they ended
        self.records: list[SimulatedRecord] = []
        #: virtual seconds charged for the coordinator's work
        self.coordinator_time = 0.0
        self._mark = time.perf_counter()

    # ------------------------------------------------------------------ the clock
    def _charge(self) -> None:
        """Add the coordinator's real time since the last mark to the virtual clock."""
        if self.overhead is None:
            t = time.perf_counter()
            spent = t - self._mark
            self._mark = t
            self._now += spent
            self.coordinator_time += spent

    def now(self) -> float:
        self._charge()
        return self._now

    # ------------------------------------------------------------------ protocol
    def submit(self, task: Task) -> None:
        if self._closed:
            raise ExecutorError("the executor is closed")
        self._charge()
        if self.overhead:
            self._now += self.overhead
            self.coordinator_time += self.overhead
        if self._free:
            self._start(task, self._now)
        else:
            self._queue.append((task, self._now))

    def _start(self, task: Task, at: float) -> None:
        worker = heapq.heappop(self._free)
        duration = self.runtime.sample(task.params, self._rng)
        run = _Running(task, worker, at, at, False, self._seq)
        reports = self._run_ahead(run) if self._ahead else []
        # the steps this run covers: from where it resumed (0: from the start) to its last
        # report (or its budget); the runtime model's duration is that of a full budget
        first, last = 0.0, 0.0
        partial = self._partial(task)
        if partial:
            assert task.budget is not None and self.full_budget is not None
            resumed = task.resumes_at
            first = resumed if resumed is not None and reports and reports[0][0] > resumed else 0.0
            last = reports[-1][0] if reports else task.budget
            duration *= max(0.0, last - first) / self.full_budget
        elif reports:
            first, last = min(0.0, reports[0][0]), reports[-1][0]
        timed_out = task.timeout is not None and duration > task.timeout
        run.end = at + (task.timeout if timed_out and task.timeout is not None else duration)
        run.timed_out = timed_out
        if run.outcome is not None:
            run.outcome = dataclasses.replace(run.outcome, finished_at=run.end)
        self._running[task.trial_id] = run
        heapq.heappush(self._heap, (run.end, self._seq, task.trial_id))
        if reports:
            self._report_data[task.trial_id] = reports
            for i, (step, _, _) in enumerate(reports):
                if partial:
                    assert self.full_budget is not None
                    offset = (
                        duration / max(0.0, last - first) * (step - first) if last > first else 0
                    )
                else:
                    offset = duration * ((step - first) / (last - first) if last > first else 1.0)
                if at + offset <= run.end:  # a trial cut short by its time limit reports no further
                    heapq.heappush(self._report_heap, (at + offset, run.seq, task.trial_id, i))
        self._seq += 1

    def _partial(self, task: Task) -> bool:
        """Whether a run covers part of the full budget (a rung, or on from where it paused)."""
        return (
            task.budget is not None
            and self.full_budget is not None
            and (task.budget < self.full_budget or task.resumes_at is not None)
        )

    def _run_ahead(self, run: _Running) -> list[tuple[float, float | None, dict[str, float]]]:
        """Run a reporting trial now; return its reports (put on the clock by the caller)."""
        recorder = _Recorder()
        name = f"sim-{run.worker}"
        ran = self._run_objective(run, name, recorder)
        run.outcome = Outcome(
            ran.trial_id, ran.result, ran.error, ran.reason, run.start, run.end, name
        )
        return recorder.reports

    def _run_objective(self, run: _Running, name: str, channel: _Recorder | None = None) -> Outcome:
        """Call the objective: the coordinator's time up to now is charged, the objective's not."""
        self._charge()
        ran = run_task(self._run, run.task, name, clock=lambda: run.start, channel=channel)
        self._mark = time.perf_counter()
        return ran

    def _end(self, run: _Running, at: float, reason: str | None) -> None:
        del self._running[run.task.trial_id]
        heapq.heappush(self._free, run.worker)
        self.records.append(SimulatedRecord(run.task.trial_id, run.worker, run.start, at, reason))
        while self._free and self._queue:
            task, _ = self._queue.popleft()
            self._start(task, at)

    def collect(self, timeout: float | None = None) -> list[Outcome]:
        """Advance the virtual clock to the next trial end (at most ``timeout`` virtual seconds)."""
        self._charge()
        if not self._done:
            self._advance(timeout)
        done, self._done = self._done, []
        return done

    def _live(self, entry: tuple[float, int, int]) -> _Running | None:
        run = self._running.get(entry[2])
        return run if run is not None and run.seq == entry[1] else None  # else cancelled earlier

    def _advance(self, timeout: float | None) -> None:
        limit = None if timeout is None else self._now + timeout
        while self._report_heap:
            # the reports due before the next end reach the coordinator first
            while self._report_heap and self._live(self._report_heap[0][:3]) is None:
                heapq.heappop(self._report_heap)
            while self._heap and self._live(self._heap[0]) is None:
                heapq.heappop(self._heap)
            if not self._report_heap:
                break
            at, _, tid, index = self._report_heap[0]
            if (self._heap and self._heap[0][0] < at) or (limit is not None and at > limit):
                break
            heapq.heappop(self._report_heap)
            self._now = max(self._now, at)
            step, value, metrics = self._report_data[tid][index]
            if self.on_report is not None:
                self.on_report(tid, step, value, metrics)
                self._charge()  # the coordinator handled it (journal, rule) before anything else
            if self._done:
                return  # the report stopped its trial
        if limit is not None:
            timeout = max(0.0, limit - self._now)
        while self._heap and self._live(self._heap[0]) is None:
            heapq.heappop(self._heap)
        if not self._heap:
            if timeout is not None:
                self._now += timeout
            return
        end = self._heap[0][0]
        if timeout is not None and end > self._now + timeout:
            self._now += timeout
            return
        self._now = max(self._now, end)
        # every trial that ends at this instant, in submission order
        while self._heap and self._heap[0][0] <= self._now:
            run = self._live(heapq.heappop(self._heap))
            if run is not None:
                self._finish(run)

    def _finish(self, run: _Running) -> None:
        name = f"sim-{run.worker}"
        if run.timed_out:
            limit = run.task.timeout
            outcome = Outcome(
                run.task.trial_id,
                None,
                f"the trial ran past its time limit of {limit:g} s (simulated) and was stopped",
                "timeout",
                run.start,
                run.end,
                name,
            )
        elif run.outcome is not None:
            outcome = run.outcome
        else:
            ran = self._run_objective(run, name)
            outcome = Outcome(
                ran.trial_id, ran.result, ran.error, ran.reason, run.start, run.end, name
            )
        self._report_data.pop(run.task.trial_id, None)
        self._end(run, run.end, outcome.reason)
        self._done.append(outcome)

    def prune(self, trial_id: int) -> None:
        """The rule stopped a running trial: it ends now (at its report's virtual time, plus the
        coordinator's time to decide). A stop decided at or after the trial's own end comes too
        late: the trial finishes as it would have, as on real workers."""
        run = self._running.get(trial_id)
        if run is None or self._now >= run.end:
            return
        self._report_data.pop(trial_id, None)
        self._end(run, self._now, "pruned")
        self._done.append(
            Outcome(
                trial_id,
                None,
                "stopped early (simulated)",
                "pruned",
                run.start,
                self._now,
                f"sim-{run.worker}",
            )
        )

    def cancel(self, trial_id: int) -> None:
        self._charge()
        run = self._running.get(trial_id)
        if run is not None:
            self._end(run, self._now, "cancelled")
            self._done.append(
                Outcome(
                    trial_id,
                    None,
                    "cancelled while running (simulated)",
                    "cancelled",
                    run.start,
                    self._now,
                    f"sim-{run.worker}",
                )
            )
            return
        for item in list(self._queue):
            if item[0].trial_id == trial_id:
                self._queue.remove(item)
                self._done.append(
                    Outcome(trial_id, error="cancelled before it started", reason="cancelled")
                )

    def close(self, cancel: bool = True) -> None:
        self._closed = True
        for task, _ in list(self._queue):
            self.cancel(task.trial_id)
        for tid in list(self._running):
            self.cancel(tid)

    @property
    def running(self) -> int:
        return len(self._running) + len(self._queue) + len(self._done)

    # ------------------------------------------------------------------ accounting
    def utilization(self, until: float | None = None) -> float:
        """Busy worker-seconds over available worker-seconds since the clock started."""
        end = self._now if until is None else until
        span = (end - self.started_at) * self.workers
        if span <= 0:
            return 0.0
        busy = sum(min(r.end, end) - r.start for r in self.records if r.start < end)
        busy += sum(max(0.0, min(end, r.end) - r.start) for r in self._running.values())
        return busy / span
