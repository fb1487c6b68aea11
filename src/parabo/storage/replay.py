"""Study state from journal events: the one place where events become trials.

A live study applies each event it records to its :class:`StudyState`; opening a
study folder applies the journal's events to a fresh one, then calls
:meth:`StudyState.resume`. Both go through :meth:`StudyState.apply`, so a
replayed study and the live one it records hold the same trials, the same
history in the same order (the order in which trials finished, which is the
journal's order), and the same best trial.

    >>> from parabo.storage.events import Asked, Completed, StudyCreated
    >>> state = StudyState(StudyCreated("s", "minimize", None, {"x": {"type": "float", "low": 0, "high": 1}}))
    >>> state.apply(Asked(0, {"x": 0.5}))
    >>> state.apply(Completed(0, value=1.5))
    >>> [t.value for t in state.history]
    [1.5]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from parabo.exceptions import ConfigError, StorageError
from parabo.goals import Goal
from parabo.storage.events import (
    Asked,
    Completed,
    Enqueued,
    Event,
    Failed,
    Lost,
    Paused,
    ProcessStarted,
    Pruned,
    Reported,
    Resumed,
    Retried,
    Started,
    StopDecided,
    StudyCreated,
)
from parabo.trial import FailReason, Trial, TrialState

__all__ = ["StudyState", "goal_of", "replay"]


class StudyState:
    """Trials, pending trials, history and best of one study, built event by event.

    Attributes:
        header: the study's :class:`~parabo.storage.events.StudyCreated` event.
        trials: every trial, by id (ids are ``0 .. n-1``).
        history: finished trials (COMPLETE, FAILED, PRUNED, PAUSED) in the order they
            finished; failures that run again on resume (interrupted, cancelled) are not in
            it, and a paused trial leaves it when it is promoted (it comes back when it ends).
        pending: trials asked and not finished, by id, in the order they were asked.
        rerun: ids of pending trials left in flight by an earlier coordinator (after
            :meth:`resume`), to run again.
        processes: process groups journaled for each trial.
        best: the best COMPLETE trial in the header's direction (with constraints, the best
            feasible one; with several objectives, ``None``: see :meth:`pareto_front`).
        n_complete: how many trials of the history are COMPLETE.
        n_pruned: how many trials of the history are PRUNED.
        n_paused: how many trials of the history are PAUSED.
        n_promotions: how many times a paused trial was promoted.
        reports: every report recorded, in the journal's order (every attempt).
        curves: each trial's reports of its current attempt, in step order: what
            early-stopping rules see.
        stops: the stop decisions of the early-stopping rule, by trial.
        goal: the objectives and constraints the header names.
        queue: enqueued parameters not asked yet, first first, with their source.
        n_warm: how many trials are known results told before running (``warm_start``).
        n_initial: how many points of the study file's ``initial`` were enqueued.
    """

    def __init__(self, header: StudyCreated) -> None:
        self.header = header
        self.trials: list[Trial] = []
        self.history: list[Trial] = []
        self.pending: dict[int, Trial] = {}
        self.rerun: list[int] = []
        self.processes: dict[int, list[ProcessStarted]] = {}
        self.best: Trial | None = None
        self.n_complete = 0
        self.n_pruned = 0
        self.n_paused = 0
        self.n_promotions = 0
        self.reports: list[Reported] = []
        self.curves: dict[int, list[Reported]] = {}
        self.stops: dict[int, StopDecided] = {}
        self.n_lost = 0  # trials whose ask parabo repair set aside (failed, not in the history)
        self.goal = goal_of(header)
        self._minimize = self.goal.directions[0] != "maximize"
        self._front: tuple[int, list[Trial]] = (0, [])
        self.queue: list[tuple[dict[str, Any], str]] = []
        self.n_warm = 0
        self.n_initial = 0  # points of the study file's `initial` enqueued so far

    def better(self, a: float | None, b: float | None) -> bool:
        """Whether value ``a`` is strictly better than ``b`` in the study's direction."""
        if a is None:
            return False
        if b is None:
            return True
        return a < b if self._minimize else a > b

    def apply(self, event: Event) -> None:
        """Apply one event (events about unknown trials are ignored, as a newer writer's may be)."""
        if isinstance(event, StudyCreated):
            return
        if isinstance(event, Enqueued):
            self.queue.append((dict(event.params), event.source))
            self.n_initial += event.source == "initial"
            return
        if isinstance(event, (Asked, Lost)):
            self._add(event)
            return
        if not 0 <= event.id < len(self.trials):
            return
        current = self.trials[event.id]
        if isinstance(event, ProcessStarted):
            self.processes.setdefault(event.id, []).append(event)
        elif isinstance(event, Retried):
            pass  # the trial stays pending; its next Started event counts the attempt
        elif current.state is TrialState.PAUSED:
            if isinstance(event, Resumed):
                self._resume(current, event)
        elif _final(current):
            pass  # a trial is told once; a later outcome (a replayed duplicate) is ignored
        elif isinstance(event, Started):
            self._start(current, event)
        elif isinstance(event, Reported):
            self._report(current, event)
        elif isinstance(event, StopDecided):
            self.stops.setdefault(event.id, event)
        elif isinstance(event, Resumed):
            pass  # only a paused trial is promoted
        else:
            self._finish(current, event)

    def _report(self, current: Trial, event: Reported) -> None:
        curve = self.curves.setdefault(event.id, [])
        if curve and event.step <= curve[-1].step:
            return  # steps only grow within an attempt (the recorder checks; a replayed copy)
        curve.append(event)
        self.reports.append(event)
        self._set(current.evolve(step=event.step))

    def _add(self, event: Asked | Lost) -> None:
        """A new trial: asked with parameters, or lost (its ask set aside by ``parabo repair``)."""
        if event.id != len(self.trials):
            what = "asks" if isinstance(event, Asked) else "marks lost"
            raise StorageError(
                f"the journal {what} trial {event.id} after {len(self.trials)} trials; "
                "trial ids must be contiguous (was the file edited?)"
            )
        if isinstance(event, Lost):
            self.trials.append(
                Trial(
                    id=event.id,
                    params={},
                    state=TrialState.FAILED,
                    error="its journal line was damaged and set aside by parabo repair",
                    reason=FailReason.LOST,
                    finished_at=event.t,
                )
            )
            self.n_lost += 1
            return
        trial = Trial(
            id=event.id,
            params=dict(event.params),
            asked_at=event.t,
            ask_seconds=event.seconds,
            source=event.source,
        )
        if event.source in ("enqueue", "initial") and self.queue:
            self.queue.pop(0)
        elif event.source == "warm_start":
            self.n_warm += 1
        self.trials.append(trial)
        self.pending[trial.id] = trial

    def _start(self, current: Trial, event: Started) -> None:
        if event.id in self.rerun:
            self.rerun.remove(event.id)
        self.pending.setdefault(event.id, current)
        new_attempt = event.attempt != current.attempt or current.started_at is not None
        if new_attempt and not current.promotions:
            # a new attempt starts its curve again (the reports of earlier ones stay in `reports`)
            self.curves.pop(event.id, None)
            self.stops.pop(event.id, None)
        self._set(
            current.evolve(
                state=TrialState.RUNNING,
                started_at=event.t,
                worker=event.worker,
                attempt=event.attempt,
                error=None,
                reason=None,
                step=None if new_attempt and not current.promotions else current.step,
                budget=event.budget,
            )
        )

    def _resume(self, current: Trial, event: Resumed) -> None:
        """A paused trial promoted: out of the history until it ends again; its curve goes on."""
        self.history = [t for t in self.history if t.id != current.id]
        self.n_paused -= 1
        self.n_promotions += 1
        self.stops.pop(event.id, None)
        again = current.evolve(
            state=TrialState.RUNNING,
            value=None,
            stopped=None,
            started_at=None,  # the next Started is the same attempt, not a new one
            finished_at=None,
            budget=event.budget,
            promotions=current.promotions + 1,
        )
        self.trials[again.id] = again
        self.pending[again.id] = again
        self.pending = dict(sorted(self.pending.items()))

    def _finish(self, current: Trial, event: Completed | Failed | Pruned | Paused) -> None:
        started = event.started if event.started is not None else current.started_at
        worker = event.worker if event.worker is not None else current.worker
        if isinstance(event, (Paused, Pruned)):
            paused = isinstance(event, Paused)
            budget = current.budget
            if isinstance(event, Paused):
                budget = event.budget if event.budget is not None else current.budget
                why = "paused at its budget" + ("" if budget is None else f" {budget:g}")
            else:
                why = event.why
            if event.ignored:
                n = event.ignored
                where = "past it" if paused else "after the stop"
                why += f"; {n} report{'s' if n != 1 else ''} {where} {'were' if n != 1 else 'was'} ignored"
            done = current.evolve(
                state=TrialState.PAUSED if paused else TrialState.PRUNED,
                value=event.value,
                step=event.step,
                stopped=why,
                finished_at=event.t,
                started_at=started,
                worker=worker,
                budget=budget,
            )
        elif isinstance(event, Completed):
            metrics = dict(event.metrics)
            values = None
            if self.goal.multi:
                values = event.values if event.values is not None else (event.value,)
            done = current.evolve(
                state=TrialState.COMPLETE,
                value=event.value,
                values=values,
                violation=self.goal.violation(metrics),
                metrics=metrics,
                finished_at=event.t,
                started_at=started,
                worker=worker,
                reused=event.reused,
            )
        else:
            done = current.evolve(
                state=TrialState.FAILED,
                error=event.error,
                reason=event.reason,
                finished_at=event.t,
                started_at=started,
                worker=worker,
            )
        self._set(done)
        self.pending.pop(done.id, None)
        if event.id in self.rerun:
            self.rerun.remove(event.id)
        if done.reason is not None and done.reason.reruns:
            return  # not part of the history: it runs again on resume
        self.history.append(done)
        if done.state is TrialState.PRUNED:
            self.n_pruned += 1
        elif done.state is TrialState.PAUSED:
            self.n_paused += 1
        if done.state is TrialState.COMPLETE:
            self.n_complete += 1
            if self.goal.multi or not done.feasible:
                return
            if self.best is None or self.better(done.value, self.best.value):
                self.best = done

    def pareto_front(self) -> list[Trial]:
        """The feasible COMPLETE trials that no other feasible trial dominates, in id order.

        With one objective: the best feasible trial (an empty list before any).
        """
        if not self.goal.multi:
            return [] if self.best is None else [self.best]
        if self._front[0] == self.n_complete:
            return list(self._front[1])
        feasible = [t for t in self.history if t.feasible and t.values is not None]
        front: list[Trial] = []
        if feasible:
            import numpy as np

            from parabo.pareto import non_dominated

            Y = np.array([t.values for t in feasible]) * np.array(self.goal.signs)
            keep = non_dominated(Y)
            front = sorted(
                (t for t, k in zip(feasible, keep, strict=True) if k), key=lambda t: t.id
            )
        self._front = (self.n_complete, front)
        return list(front)

    def _set(self, trial: Trial) -> None:
        self.trials[trial.id] = trial
        if trial.id in self.pending:
            self.pending[trial.id] = trial

    def resume(self) -> None:
        """After a replay: trials that were running, interrupted or cancelled become pending reruns."""
        for trial in self.trials:
            rerun = trial.state is TrialState.RUNNING or (
                trial.reason is not None and trial.reason.reruns
            )
            if rerun and trial.id not in self.rerun:
                again = trial.evolve(state=TrialState.RUNNING, error=None, reason=None)
                self.trials[trial.id] = again
                self.pending[trial.id] = again
                self.rerun.append(trial.id)
        # keep the order in which they were asked
        self.pending = dict(sorted(self.pending.items()))
        self.rerun.sort()


def goal_of(header: StudyCreated) -> Goal:
    """The objectives and constraints a journal's header names; StorageError if malformed."""
    try:
        return Goal.build(header.metric, header.direction, header.constraints)
    except ConfigError as exc:
        raise StorageError(f"the journal's study header is malformed: {exc}") from None


def _final(trial: Trial) -> bool:
    """Whether ``trial`` is finished for good (an interrupted or cancelled one runs again)."""
    return (
        trial.state.finished
        and trial.state is not TrialState.PAUSED
        and not (trial.reason is not None and trial.reason.reruns)
    )


def replay(header: StudyCreated, events: Iterable[Event]) -> StudyState:
    """The state of a study whose journal holds ``header`` then ``events``, ready to resume."""
    state = StudyState(header)
    for event in events:
        state.apply(event)
    state.resume()
    return state
