"""The scheduler: keep N trials in flight, refill the moment one finishes.

One loop, one writer: ask → journal → submit → collect → journal → tell. The
clock is the executor's (``executor.now``), so the same loop runs on real
workers and on a simulated backend; the loop never sleeps, it only waits in
``executor.collect``.

Stopping: on a trial count, a wall-clock limit (in-flight trials are cancelled
and run again on resume), or a target value (in-flight trials finish). The
first SIGINT/SIGTERM stops asking and waits for the trials in flight; the
second cancels them. Either way every trial's state is journaled.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from parabo._procs import host, kill_leftovers, kill_orphan_group, start_marker
from parabo.cache import ResultCache, trial_key
from parabo.exceptions import ConfigError
from parabo.executors.base import Executor, Outcome, Task
from parabo.goals import InvalidResult
from parabo.pruning import EarlyStopping, Promote, Rule, Stop, make_rule
from parabo.results import FolderWriter, pareto_record, progress_record
from parabo.run_options import RetryPolicy, StopRule
from parabo.study import TRIALS_FOLDER, Study
from parabo.trial import FailReason, StopReason, Trial, TrialState

__all__ = ["RunSummary", "Scheduler", "SchedulerListener", "process_recorder"]

#: seconds: how often the loop looks at signals and the clock while waiting
_POLL = 0.25


def _goal_fields(trial: Trial) -> dict[str, Any]:
    """``values`` (several objectives) and ``violation``/``feasible`` (constraints) of a trial record."""
    out: dict[str, Any] = {}
    if trial.values is not None:
        out["values"] = list(trial.values)
    if trial.violation is not None:
        out["violation"] = trial.violation
        out["feasible"] = trial.feasible
    return out


def process_recorder(study: Study) -> Callable[[int, int], None]:
    """The ``on_process`` hook of an executor: journal each trial's process groups in ``study``.

    A resumed study kills the groups of interrupted trials that outlived their coordinator.
    """

    def record(trial_id: int, pgid: int) -> None:
        study.record_process(trial_id, pgid, host(), start_marker(pgid))

    return record


@dataclass(frozen=True)
class RunSummary:
    """How a run ended.

    ``stop_reason`` is a :class:`~parabo.trial.StopReason`: ``trials`` (budget reached),
    ``time`` (wall-clock limit), ``target`` (target value reached), ``interrupted`` (a
    signal), or ``failures`` (too many failures in a row; ``message`` says more).
    """

    stop_reason: StopReason
    n_complete: int
    n_failed: int
    elapsed: float
    best: Trial | None
    signal: int | None = None
    message: str | None = None
    reused: int = 0
    retried: int = 0


class SchedulerListener(Protocol):
    """Hooks for progress displays; every method is optional to act on."""

    def on_start(self, scheduler: Scheduler) -> None: ...

    def on_trial(self, scheduler: Scheduler, trial: Trial) -> None: ...

    def on_tick(self, scheduler: Scheduler) -> None: ...

    def on_stop(self, scheduler: Scheduler, summary: RunSummary) -> None: ...


class Scheduler:
    """Run a study's trials on an executor until its stop rule says so.

    Args:
        study: the study (its journal records everything).
        executor: where trials run; ``executor.workers`` trials are kept in flight. Build
            it with ``on_process=process_recorder(study)`` (as :func:`parabo.optimize` does)
            so that the process groups of trials are journaled.
        stop: when to stop (:class:`~parabo.run_options.StopRule`).
        retry: which failed trials run again (:class:`~parabo.run_options.RetryPolicy`).
        batch: synchronous batches: wait for all trials in flight before asking again.
        trial_timeout: per-trial time limit in seconds, enforced by the executor.
        cache: a result cache; trials whose key it holds are completed from it.
        trial_folders: name trial folders by ``id`` (``trials/000012``) or by cache ``key``.
        listener: progress display hooks.
        handle_signals: install SIGINT/SIGTERM handlers (main thread only).
        clock: the time source of the run (default: the executor's, virtual on the
            simulated backend); every event the run records carries its time.
        early_stopping: the rule that stops trials from their reports: settings
            (:class:`~parabo.pruning.EarlyStopping`) or a :class:`~parabo.pruning.Rule` of
            one's own; without it reports are still journaled and nothing is stopped.
    """

    def __init__(
        self,
        study: Study,
        executor: Executor,
        *,
        stop: StopRule,
        retry: RetryPolicy | None = None,
        batch: bool = False,
        trial_timeout: float | None = None,
        cache: ResultCache | None = None,
        trial_folders: str = "id",
        listener: SchedulerListener | None = None,
        handle_signals: bool = True,
        clock: Callable[[], float] | None = None,
        early_stopping: EarlyStopping | Rule | None = None,
    ) -> None:
        self.study = study
        self.executor = executor
        if stop.target is not None and study.goal.multi:
            raise ConfigError(
                "applies to a study with one objective; leave it out with several", field="target"
            )
        self.stop = stop
        self.retry = retry or RetryPolicy()
        self.batch = batch
        self.trial_timeout = trial_timeout
        self.cache = cache
        self.trial_folders = trial_folders
        self.listener = listener
        self.handle_signals = handle_signals
        self.clock: Callable[[], float] = clock or executor.now
        self.inflight: dict[int, Trial] = {}
        self.started_at = self.clock()
        self._stop: StopReason | None = None
        self._signals = 0
        self._last_signal: int | None = None
        self._notices: list[str] = []  # said by a signal handler, printed by the loop
        self._dropped_at: float | None = None  # when parabo enqueue's folder was last looked at
        self._cancelled = False
        self._rerun: deque[Trial] = deque()
        self.trials_root = study.folder / TRIALS_FOLDER if study.folder else None
        self._writer: FolderWriter | None = None
        self._keys: dict[int, str] = {}
        self._dirs: dict[int, str] = {}
        self._failures_in_a_row = 0
        self._grace_until: float | None = None
        self.message: str | None = None
        self.n_reused = 0
        self.n_retried = 0
        self.n_orphans_killed = 0
        self.rule: Rule | None = (
            make_rule(early_stopping)
            if isinstance(early_stopping, EarlyStopping)
            else early_stopping
        )
        self._unread_reports_said = False
        executor.on_report = self._on_report
        #: the resource of a full run (``early_stopping.max``; ``None`` without one)
        self.full_budget: float | None = (
            early_stopping.max
            if isinstance(early_stopping, EarlyStopping)
            else getattr(self.rule, "max", None)
        )
        executor.full_budget = self.full_budget

    @property
    def trials(self) -> int:
        """Finished trials wanted in total (``stop.trials``)."""
        return self.stop.trials

    # ------------------------------------------------------------------ helpers
    @property
    def elapsed(self) -> float:
        return self.clock() - self.started_at

    def _remaining(self) -> int:
        # known results told before the run (warm start) are not part of its budget
        done = self.study.n_finished - self.study.n_warm
        return self.trials - done - len(self.inflight) - len(self._rerun)

    def wait_trial_files(self, trial: Trial | int, timeout: float = 30.0) -> None:
        """Wait until the trial's own files (``params.json``, ``trial.json``) are written.

        For callers on other threads (the tracking thread): the scheduler hands these files
        to a background writer and never waits on them itself.
        """
        folder, writer = self.trial_folder(trial), self._writer
        if folder is not None and writer is not None:
            writer.wait_written([folder / "params.json", folder / "trial.json"], timeout)

    def trial_folder(self, trial: Trial | int) -> Path | None:
        """The folder of a trial this run started (``None`` without a study folder)."""
        path = self._dirs.get(trial.id if isinstance(trial, Trial) else trial)
        return Path(path) if path is not None else None

    def _trial_dir(self, trial: Trial) -> str | None:
        """The trial's folder, chosen once when it is submitted."""
        if self.trials_root is None:
            return None
        if trial.id in self._dirs:
            return self._dirs[trial.id]
        if self.trial_folders == "key":
            key = self._key(trial)
            twin = any(self._keys.get(t) == key for t in self.inflight if t != trial.id)
            # the same parameters already running: a folder of its own, so they never share files
            path = str(self.trials_root / (f"{key[:20]}-{trial.id}" if twin else key[:20]))
        else:
            path = str(self.trials_root / f"{trial.id:06d}")
        self._dirs[trial.id] = path
        return path

    def _key(self, trial: Trial) -> str:
        key = self._keys.get(trial.id)
        if key is None:
            key = self._keys[trial.id] = trial_key(
                trial.params, self.cache.fingerprint if self.cache else ""
            )
        return key

    def _from_cache(self, trial: Trial) -> bool:
        """Complete ``trial`` from the result cache if its key is there."""
        if self.cache is None:
            return False
        hit = self.cache.get(self._key(trial))
        if hit is None:
            return False
        now = self.clock()
        reads_dict = self.study.metric is not None or not self.study.goal.simple
        result = hit.get("metrics") if reads_dict else hit["value"]
        done = self.study.tell(
            trial, result, started_at=now, finished_at=now, worker="cache", reused=True
        )
        self.n_reused += 1
        self._after_tell(done)
        return True

    def _submit(self, trial: Trial) -> bool:
        """Start a trial on the executor; False if the cache completed it instead."""
        if not trial.promotions and self._from_cache(trial):
            return False
        budget = trial.budget
        if budget is None:
            fresh = self.rule is not None and self.rule.promotes
            budget = self.rule.budget(trial.id) if fresh and self.rule else None
            budget = self.full_budget if budget is None else budget
        trial = self.study.mark_started(trial, t=self.clock(), budget=budget)
        trial_dir = self._trial_dir(trial)
        if trial_dir is not None and self._writer is not None:
            # external commands create their folder and params.json themselves before they start
            self._writer.put(Path(trial_dir) / "params.json", dict(trial.params))
        self.inflight[trial.id] = trial
        curve = self.study.curve(trial)
        self.executor.submit(
            Task(
                trial.id,
                trial.params,
                trial_dir,
                trial.attempt,
                self.trial_timeout,
                trial.budget,
                curve[-1].step if curve else None,
            )
        )
        return True

    def _pauses(self, trial: Trial) -> bool:
        """Whether ``trial`` runs to a budget below the full one: it pauses there (promotion)."""
        return (
            self.rule is not None
            and self.rule.promotes
            and trial.budget is not None
            and (self.full_budget is None or trial.budget < self.full_budget)
        )

    def _promotion(self) -> Promote | None:
        """The paused trial the rule would resume now, if any."""
        if self.rule is None or not self.rule.promotes or not self.study.n_paused:
            return None
        return self.rule.promote({t.id: t.budget for t in self.study.paused})

    def _promote(self) -> None:
        """Resume the paused trials the rule promotes into the free workers (before new ones)."""
        while self._stop is None and len(self.inflight) < self.executor.workers:
            choice = self._promotion()
            if choice is None:
                return
            self._submit(
                self.study.promote(choice.trial, choice.budget, choice.why, t=self.clock())
            )

    def _fill(self) -> None:
        if self.batch and self.inflight:
            return
        while self._rerun and len(self.inflight) < self.executor.workers:
            self._submit(self._rerun.popleft())
        self._promote()
        # trials completed from the cache free their slot at once: ask again until all are busy
        while self._stop is None:
            want = min(self.executor.workers - len(self.inflight), self._remaining())
            if want <= 0:
                return
            # Asynchronous runs ask as many at once as the sampler says (one, unless a batch
            # costs it about as much as one suggestion): with a model-based sampler and many
            # free workers, the first worker does not wait for the suggestions of all the
            # others. Synchronous batches ask for the whole batch.
            if not self.batch:
                want = min(
                    want, max(1, int(self.study.sampler.batch_size(want, len(self.inflight))))
                )
            new = self.study.ask(want, t=self.clock())
            self.study.commit(sync=False)
            started = [self._submit(trial) for trial in new]
            if not all(started):
                self._check_stop()

    # ------------------------------------------------------------------ early stopping
    def _report_value(self, value: float | None, metrics: Mapping[str, float]) -> float | None:
        """The study's metric in a report: a plain number, or its entry of a dict report."""
        if value is not None:
            return value
        metric = self._report_metric()
        if metric is not None:
            return metrics.get(metric)
        return next(iter(metrics.values())) if len(metrics) == 1 else None

    def _report_metric(self) -> str | None:
        """The metric reports are compared on (the first objective's with several)."""
        metric = self.study.metric
        return metric[0] if isinstance(metric, list) else metric

    def _on_report(
        self, trial_id: int, step: float, value: float | None, metrics: Mapping[str, float]
    ) -> None:
        """A running trial reported: journal it, then ask the rule whom to stop."""
        running = self.inflight.get(trial_id)
        if running is None:
            return  # a report of a trial already failed (timeout) or cancelled
        if (
            self._pauses(running)
            and running.budget is not None
            and step > running.budget * (1 + 1e-9)
            and self.study.stop_decided(trial_id) is None
        ):
            # past its budget (the objective did not stop there itself): pause it now; the
            # report is not part of its curve at this rung
            self.study.record_stop(
                trial_id, f"paused at its budget {running.budget:g}", t=self.clock(), pause=True
            )
            self.executor.prune(trial_id)
        read = self._report_value(value, metrics)
        recorded = dict(metrics)
        if value is not None:
            recorded.setdefault(self._report_metric() or "value", value)
        elif read is None and not self._unread_reports_said:
            self._unread_reports_said = True
            self._notices.append(
                f"trial {trial_id} reported {sorted(recorded)} without the study's metric "
                f"({self._report_metric() or 'set `metric` to the key to compare'}): its reports "
                "are recorded, and early stopping cannot compare them"
            )
        if not self.study.report(trial_id, step, read, recorded, t=self.clock()):
            return
        self._feed_rule(trial_id, [(step, read)])
        self.study.commit(sync=False)  # a report is on disk before the trial hears of it

    def _feed_rule(self, trial_id: int, reports: list[tuple[float, float | None]]) -> None:
        """Hand the rule a trial's reported values (lower is better) and stop whom it says."""
        if self.rule is None:
            return
        sign = 1.0 if self.study.direction == "minimize" else -1.0
        for step, value in reports:
            if value is not None:
                self._stop_trials(self.rule.report(trial_id, step, sign * value))

    def _stop_trials(self, stops: list[Stop]) -> None:
        for stop in stops:
            if stop.trial in self.inflight and self.study.stop_decided(stop.trial) is None:
                self.study.record_stop(stop.trial, stop.why, t=self.clock())
                self.executor.prune(stop.trial)

    def _rule_done(self, trial: Trial) -> None:
        if self.rule is not None:
            self._stop_trials(self.rule.done(trial.id))

    def _restore_rule(self) -> None:
        """Feed the rule every report in the journal's order, as the earlier run fed it, then
        the finished trials, so a resumed study decides the same way."""
        if self.rule is None:
            return
        for report in self.study.reports:
            self._feed_rule(report.id, [(report.step, report.value)])
        for trial in self.study.history:
            self.rule.done(trial.id)

    def _prune_decided(self) -> None:
        """Trials the rule had stopped when an earlier coordinator died end PRUNED (or PAUSED,
        stopped at their budget), not rerun."""
        for trial in list(self._rerun):
            decided = self.study.stop_decided(trial)
            if decided is not None:
                self._rerun.remove(trial)
                if decided.pause:
                    self.study.pause(trial, finished_at=self.clock())
                else:
                    self.study.prune(trial, finished_at=self.clock())

    def _finish(self, outcome: Outcome) -> Trial | None:
        if outcome.trial_id not in self.inflight:
            return None  # a late outcome of a trial already failed (timeout) or cancelled
        running = self.inflight.pop(outcome.trial_id)
        decision = self.study.stop_decided(running)
        if outcome.reason == "pruned" and decision is not None and decision.pause:
            return self._paused(running, outcome, None)
        if outcome.error is None and self._pauses(running) and not self._ran_full(running):
            try:
                value = self.study.goal.read(outcome.result)[0]
            except InvalidResult:
                pass  # told below: it fails, saying why
            else:
                return self._paused(running, outcome, value)
        if outcome.reason == "pruned":
            decided = decision is not None
            pruned = self.study.prune(
                running,
                None if decided else outcome.error,
                started_at=outcome.started_at,
                finished_at=outcome.finished_at,
                worker=outcome.worker,
            )
            self._write_record(pruned)
            self._rule_done(pruned)
            return pruned
        if (
            outcome.error is not None
            and self.retry.retries_left(outcome.reason, running.attempt)
            and self._stop is None
        ):
            self.study.record_retry(running, outcome.error, outcome.reason or "", t=self.clock())
            self.n_retried += 1
            self._rerun.append(running)
            return None
        held = self.study.held_reports(running) if outcome.error is None else []
        trial = self.study.tell(
            outcome.trial_id,
            outcome.result,
            error=outcome.error,
            reason=outcome.reason,
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
            worker=outcome.worker,
        )
        if self.rule is not None and trial.state is TrialState.COMPLETE:
            # it completed before the stop reached it: its later reports were journaled now
            self._feed_rule(trial.id, [(r.step, r.value) for r in held])
        self._write_record(trial)
        self._after_tell(trial)
        self._rule_done(trial)
        self._check_first_result(trial, outcome.result)
        return trial

    def _ran_full(self, trial: Trial) -> bool:
        """Whether a trial given a partial budget reported up to the full one anyway."""
        reports = self.study.held_reports(trial) or self.study.curve(trial)
        return (
            self.full_budget is not None
            and bool(reports)
            and reports[-1].step >= self.full_budget * (1 - 1e-9)
        )

    def _paused(self, running: Trial, outcome: Outcome, value: float | None) -> Trial:
        """A trial stopped at its budget (ASHA's promotion variant): PAUSED, to resume later."""
        seen = len(self.study.curve(running))
        paused = self.study.pause(
            running,
            value,
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
            worker=outcome.worker,
        )
        # the result at its budget, journaled as its report there
        self._feed_rule(paused.id, [(r.step, r.value) for r in self.study.curve(paused)[seen:]])
        self._failures_in_a_row = 0
        self._write_record(paused)
        return paused

    def _write_record(self, trial: Trial) -> None:
        trial_dir = self._trial_dir(trial)
        if trial_dir is not None and self._writer is not None:
            record = {
                "id": trial.id,
                "state": trial.state.value,
                "value": trial.value,
                **_goal_fields(trial),
                "metrics": dict(trial.metrics),
                "error": trial.error,
                "reason": trial.reason,
                "started_at": trial.started_at,
                "finished_at": trial.finished_at,
                "worker": trial.worker,
                "attempt": trial.attempt,
            }
            if trial.step is not None:
                record["step"] = trial.step
            if trial.stopped is not None:
                record["stopped"] = trial.stopped
            if trial.budget is not None:
                record["budget"] = trial.budget
            if trial.promotions:
                record["promotions"] = trial.promotions
            self._writer.put(Path(trial_dir) / "trial.json", record)

    def _check_first_result(self, trial: Trial, result: Any) -> None:
        """A dict result without the study's metric, before any trial completed: stop now, say why.

        A missing or misnamed metric fails every trial the same way; one clear message
        beats ``max_failures`` failures in a row. (A metric that is NaN fails its trial only.)
        """
        if not (
            trial.state is TrialState.FAILED
            and trial.reason == FailReason.INVALID_RESULT
            and isinstance(result, Mapping)
            and self.study.n_complete == 0
            and not self.message
        ):
            return
        metric = self.study.metric
        numbers = [
            k for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
        goal = self.study.goal
        if not goal.simple:
            missing = [
                m for m in (*goal.names, *(c.metric for c in goal.constraints)) if m not in result
            ]
            if missing:
                first = (trial.error or "").splitlines()[0][:300] if trial.error else ""
                self._stop = self._stop or StopReason.FAILURES
                self.message = (
                    f"the objective's first result cannot be read: {first}; return "
                    f"{', '.join(repr(m) for m in missing)} in the dict, or fix `metric` / "
                    "`constraints`. Stopped before running more trials."
                )
            return
        if (metric is not None and metric not in result) or (metric is None and len(numbers) != 1):
            first = (trial.error or "").splitlines()[0][:300] if trial.error else ""
            hint = (
                f"return {self.study.metric!r} in the dict, or set `metric` to one of its keys"
                if self.study.metric is not None
                else "set `metric` to the key to optimize"
            )
            self._stop = self._stop or StopReason.FAILURES
            self.message = (
                f"the objective's first result cannot be read: {first}; {hint}. "
                "Stopped before running more trials."
            )

    def _after_tell(self, trial: Trial) -> None:
        if trial.state is TrialState.COMPLETE:
            self._failures_in_a_row = 0
            if self.cache is not None and not trial.reused:
                key = self._key(trial)
                record = {
                    "key": key,
                    "value": trial.value,
                    "metrics": dict(trial.metrics),
                    "params": dict(trial.params),
                    "objective": self.cache.fingerprint,
                    "study": self.study.name,
                    "trial": trial.id,
                    "at": trial.finished_at,
                }
                self.cache.remember(key, record)
                if self._writer is not None:
                    self._writer.put(self.cache.path(key), record)
        elif trial.state is TrialState.FAILED and not (trial.reason and trial.reason.reruns):
            self._failures_in_a_row += 1
            limit = self.stop.max_failures
            if limit is not None and self._failures_in_a_row >= limit and not self.message:
                first = (trial.error or "").splitlines()[0][:300] if trial.error else ""
                self._stop = self._stop or StopReason.FAILURES
                self.message = (
                    f"stopped after {self._failures_in_a_row} trials in a row failed; the last one "
                    f"({trial.reason}): {first}. Fix the objective (see the trial folders and "
                    "`parabo status`), then run the study again to resume."
                )

    def _check_stop(self) -> None:
        best = self.study.best_value
        if self._grace_until is not None and self.clock() >= self._grace_until:
            self._cancel_all()
        if self._stop is not None:
            return
        if (
            self.stop.target is not None
            and best is not None
            and not self.study.better(self.stop.target, best)
        ):
            self._stop = StopReason.TARGET
        elif self.stop.max_time is not None and self.elapsed >= self.stop.max_time:
            self._stop = StopReason.TIME
            self._cancel_all()
        elif (
            self._remaining() <= 0
            and not self.inflight
            and not self._rerun
            and self._promotion() is None
        ):
            self._stop = StopReason.TRIALS

    def _cancel_all(self) -> None:
        if self._cancelled:
            return
        self._cancelled = True
        for tid in list(self.inflight):
            self.executor.cancel(tid)

    def _on_signal(self, signum: int | signal.Signals, frame: FrameType | None) -> None:
        self._signals += 1
        self._last_signal = signum
        if self._stop in (None, StopReason.TRIALS, StopReason.TARGET):
            self._stop = StopReason.INTERRUPTED
        grace = self.stop.stop_grace
        if grace is None and signum == signal.SIGTERM:
            grace = 10.0  # a batch system's SIGTERM is followed by SIGKILL: do not wait long
        if grace is not None and self._grace_until is None:
            self._grace_until = self.clock() + grace
        if self._signals >= 2:
            self._cancel_all()
        if signum in (signal.SIGINT, signal.SIGTERM) and frame is not None:
            self._notices.append(self._signal_notice(signum, grace))

    def _signal_notice(self, signum: int, grace: float | None) -> str:
        """What a person who just pressed Ctrl-C (or sent SIGTERM) needs to know."""
        name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        n = len(self.inflight)
        if self._signals >= 2 or not n:
            return f"{name}: stopping now; trials in flight are cancelled and recorded as such"
        wait = f" for up to {grace:g} s" if grace is not None else ""
        again = " (Ctrl-C again cancels them)" if signum == signal.SIGINT else ""
        return (
            f"{name}: no new trials; waiting{wait} for the {n} trial{'s' if n > 1 else ''} "
            f"in flight to finish{again}; run the same command again to resume"
        )

    def _take_dropped(self, every: float = 1.0) -> None:
        """Enqueue what ``parabo enqueue`` left in the study folder (looked at once a second)."""
        now = time.monotonic()
        if self.study.folder is None or (
            self._dropped_at is not None and now - self._dropped_at < every
        ):
            return
        self._dropped_at = now
        from parabo.warm_start import take_dropped

        self._notices.extend(take_dropped(self.study))

    def _say_notices(self) -> None:
        while self._notices:
            text = self._notices.pop(0)
            say = getattr(self.listener, "on_notice", None)
            if say is not None:
                say(self, text)
            else:
                print(f"parabo: {text}", file=sys.stderr, flush=True)

    def request_stop(self, cancel: bool = False) -> None:
        """Stop asking (thread-safe); with ``cancel``, also stop the trials in flight."""
        self._on_signal(signal.SIGINT, None)
        if cancel:
            self._on_signal(signal.SIGINT, None)

    def _wait(self) -> float | None:
        if self.stop.max_time is not None and self._stop is None:
            return max(0.0, min(_POLL, self.stop.max_time - self.elapsed))
        return _POLL

    def _progress(self) -> None:
        if self.study.folder is None or self._writer is None:
            return
        self._writer.put(self.study.folder / "progress.json", progress_record(self.study, self))
        if self.study.goal.multi:
            if self.study.n_complete:
                self._writer.put(self.study.folder / "pareto.json", pareto_record(self.study))
            return
        best = self.study.best
        if best is not None:
            record = {
                "id": best.id,
                "value": best.value,
                "params": dict(best.params),
                "metrics": dict(best.metrics),
            }
            if self.study.goal.constraints:
                record["feasible"] = True
            self._writer.put(self.study.folder / "best.json", record)

    # ------------------------------------------------------------------ the loop
    def run(self) -> RunSummary:
        """Run until the stop rule says so; returns how it ended.

        Events are batched while it runs (:meth:`Study.batched`): the trials that finish
        together are written at once and share one fsync.
        """
        with self.study.batched():
            return self._run()

    def _run(self) -> RunSummary:
        previous: dict[int, Any] = {}
        if self.handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, self._on_signal)
        self.begin()
        try:
            while not self.advance():
                self.absorb(self.executor.collect(timeout=self._wait()))
                self.tick()
        except BaseException:
            self._abort()
            raise
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self.end()

    # The steps of the loop, public so that a campaign (:mod:`parabo.campaign`) can drive the
    # schedulers of several studies on one pool of workers, one loop for all of them.
    def begin(self) -> None:
        """Start the run: interrupted trials queued to rerun, orphans killed, writer started."""
        self.started_at = self.clock()
        self._rerun.extend(self.study.interrupted)
        self._kill_orphans()
        self._prune_decided()
        self._restore_rule()
        self._take_dropped()  # points left while no coordinator ran go first
        if self.study.folder is not None:
            self._writer = FolderWriter()
        if self.listener is not None:
            self.listener.on_start(self)

    def advance(self, fill: bool = True) -> bool:
        """Check the stop rule and (with ``fill``) refill free workers; True once the run is over."""
        self._check_stop()
        if self._stop is None and fill:
            self._fill()
        return not self.inflight and (
            self._stop is not None
            or (self._remaining() <= 0 and not self._rerun and self._promotion() is None)
        )

    def absorb(self, outcomes: list[Outcome]) -> list[Trial]:
        """Record finished trials, refill the freed workers first, then do the bookkeeping."""
        if not outcomes:
            self.study.commit(sync=False)  # e.g. process groups just started: on disk now
            return []
        told = [t for t in map(self._finish, outcomes) if t is not None]
        self.study.commit(sync=False)  # written (safe from a coordinator crash) ...
        # ... then refill the free workers at once, before the slower bookkeeping
        self._check_stop()
        if self._stop is None:
            self._fill()
        # one fsync for every trial that finished together (and the trials just asked)
        self.study.commit(sync=True)
        self._progress()
        if self.listener is not None:
            for trial in told:
                self.listener.on_trial(self, trial)
        return told

    def tick(self) -> None:
        """Take points left by ``parabo enqueue``, say pending notices, let the listener refresh."""
        self._take_dropped()
        if self._notices:
            self._say_notices()
        if self.listener is not None:
            self.listener.on_tick(self)

    def end(self) -> RunSummary:
        """Close the run: the executor closed, everything fsynced and written; how it ended."""
        self._check_stop()
        summary = RunSummary(
            self._stop or StopReason.TRIALS,
            self.study.n_complete,
            self.study.n_failed,
            self.elapsed,
            self.study.best,
            self._last_signal,
            self.message,
            self.n_reused,
            self.n_retried,
        )
        self.executor.close(cancel=True)
        self.study.commit(sync=True)
        self._progress()
        self._close_writer()
        if self.listener is not None:
            self.listener.on_stop(self, summary)
        return summary

    def abort(self) -> None:
        """An exception escaped the loop: stop the trials in flight, record them as interrupted."""
        self._abort()

    def _close_writer(self) -> None:
        if self._writer is not None:
            try:
                # still reachable while it flushes: the tracking thread waits on it for the
                # files of the last trials (wait_trial_files)
                self._writer.close()
            finally:
                self._writer = None

    def _kill_orphans(self) -> None:
        """Kill process groups of interrupted trials that outlived their coordinator on this host."""
        me = host()
        for trial in self._rerun:
            for proc in self.study.processes(trial):
                if proc.host == me and kill_orphan_group(proc.pgid, proc.start):
                    self.n_orphans_killed += 1
        if self.study.folder is not None:
            # any process marked with a trial of this study (daemons, commands of a
            # SIGKILLed coordinator on the thread backend): none can be ours yet
            self.n_orphans_killed += kill_leftovers(self.study.folder)

    def _abort(self) -> None:
        """An exception escaped the loop: stop the trials in flight and record them as interrupted."""
        try:
            self._cancel_all()
            self.executor.close(cancel=True)
        finally:
            for tid in list(self.inflight):
                self.study.tell(
                    tid,
                    error="the coordinator stopped before the trial finished",
                    reason=FailReason.INTERRUPTED,
                    finished_at=self.clock(),
                )
            self.inflight.clear()
            self.study.commit(sync=True)
            self._progress()
            self._close_writer()
