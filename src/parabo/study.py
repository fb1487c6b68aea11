"""Study: ask/tell over a journal and a sampler.

The study owns the record of one optimization: its space, its direction, its
trials. Every change is appended to the journal before it is acted on, and
opening a study folder again replays the journal (resume is replay).

    >>> study = Study({"x": {"type": "float", "low": -5, "high": 10}}, sampler="random", seed=0)
    >>> trial = study.ask()
    >>> _ = study.tell(trial, trial.params["x"] ** 2)
    >>> study.best.value >= 0
    True
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from parabo.exceptions import ConfigError, SpaceError, StorageError, TrialError
from parabo.samplers import Direction, Sampler, make_sampler
from parabo.space import Space, as_space
from parabo.storage.journal import JOURNAL_FILE, FileJournal, Journal, MemoryJournal
from parabo.storage.lock import StudyLock
from parabo.trial import Trial, TrialState

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Study", "interpret_result", "InvalidResult", "RERUN_REASONS"]

JOURNAL_VERSION = 1

#: failure reasons that mean "the trial did not get to finish": it runs again on resume
RERUN_REASONS = frozenset({"interrupted", "cancelled"})


class InvalidResult(ValueError):
    """An objective's result cannot be read as a value; the message says why."""


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        import numpy as np

        if isinstance(v, np.ndarray) and v.size == 1:
            v = v.item()
    except ImportError:  # pragma: no cover - numpy is a core dependency
        pass
    if isinstance(v, (int, float)) or hasattr(v, "__float__") and not isinstance(v, (str, bytes)):
        try:
            return float(v)
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def interpret_result(result: Any, metric: str | None) -> tuple[float, dict[str, float]]:
    """Read an objective's result as ``(value, metrics)``.

    ``result`` is a number, or a mapping of metric names to numbers of which
    ``metric`` is the objective (a mapping with one number needs no ``metric``).
    Raises :class:`InvalidResult` for anything else, NaN or infinity included.
    """
    if isinstance(result, Mapping):
        metrics: dict[str, float] = {}
        for k, v in result.items():
            f = _number(v)
            if f is not None and math.isfinite(f):
                metrics[str(k)] = f
        if metric is None:
            numeric = [k for k, v in result.items() if _number(v) is not None]
            if len(numeric) != 1:
                raise InvalidResult(
                    f"the objective returned a dict with keys {sorted(map(str, result))!r}; "
                    "set `metric` in the study to name the one to optimize"
                )
            metric = str(numeric[0])
        if metric not in result:
            raise InvalidResult(
                f"the objective's result has no metric {metric!r} (keys: {sorted(map(str, result))!r})"
            )
        raw = result[metric]
        value = _number(raw)
        if value is None:
            raise InvalidResult(f"metric {metric!r} is not a number: {raw!r:.200}")
    else:
        value = _number(result)
        if value is None:
            kind = (
                "nothing (None)" if result is None else f"{type(result).__name__} {result!r:.200}"
            )
            raise InvalidResult(f"the objective returned {kind}, not a number")
        metrics = {}
    if not math.isfinite(value):
        raise InvalidResult(f"the objective value is {value}, not a finite number")
    metrics[metric or "value"] = value
    return value, metrics


class Study:
    """One optimization: a space, a direction, a sampler and a record of trials.

    Args:
        space: a :class:`Space` or its plain-dict form (as in a study file).
        direction: ``"minimize"`` or ``"maximize"``.
        sampler: a sampler name (``"random"``, ``"sobol"``, ``"gp"``), a mapping
            ``{name: ..., **options}``, or a :class:`Sampler`.
        seed: seed of the sampler (when the sampler spec gives none).
        storage: a study folder (created if missing, resumed if it holds a
            journal), a :class:`Journal`, or ``None`` to keep everything in memory.
        metric: which entry of a dict result is the objective.
        name: a name for people; defaults to the folder's name.

    Raises:
        ConfigError: invalid arguments, or a folder that holds a different study.
        StudyLockedError: another live coordinator holds the folder.
    """

    def __init__(
        self,
        space: Space | Mapping[str, Any],
        direction: Direction = "minimize",
        sampler: str | Mapping[str, Any] | Sampler | None = None,
        seed: int | None = None,
        *,
        storage: str | os.PathLike[str] | Journal | None = None,
        metric: str | None = None,
        name: str | None = None,
    ) -> None:
        if direction not in ("minimize", "maximize"):
            raise ConfigError(
                f"must be 'minimize' or 'maximize', got {direction!r}", field="direction"
            )
        if metric is not None and (not isinstance(metric, str) or not metric):
            raise ConfigError(f"must be a non-empty string, got {metric!r}", field="metric")
        self.space = as_space(space)
        self.direction: Direction = direction
        self.metric = metric
        self.sampler = make_sampler(sampler, seed)
        self.seed = seed
        self.clock: Callable[[], float] = time.time
        self.folder: Path | None = None
        self.repaired: str | None = None
        self._lock: StudyLock | None = None
        self._trials: list[Trial] = []
        self._history: list[Trial] = []
        self._pending: dict[int, Trial] = {}
        self._rerun: list[int] = []
        self._queue: deque[dict[str, Any]] = deque()
        self._best: Trial | None = None
        self._n_complete = 0
        self._procs: dict[int, list[dict[str, Any]]] = {}
        if storage is None:
            self.journal: Journal = MemoryJournal()
        elif isinstance(storage, (str, os.PathLike)):
            self.folder = Path(storage)
            self.journal = self._open_folder(self.folder)
        else:
            self.journal = storage
        self.name = name or (self.folder.name if self.folder else "study")
        try:
            self._replay()
        except BaseException:
            self.close()
            raise

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Study:
        """Open a study folder read-only (no lock), e.g. while its coordinator runs.

        The space, direction and metric come from the journal's header.
        """
        path = Path(folder)
        journal_path = path / JOURNAL_FILE
        if not journal_path.exists():
            raise ConfigError(
                f"{path} is not a study folder (it has no {JOURNAL_FILE})", field="STUDY_DIR"
            )
        journal = FileJournal(journal_path, writable=False)
        events = journal.read().events
        if not events or events[0].get("e") != "study":
            raise StorageError(
                f"{journal_path} has no study header; is this a parabo study folder?"
            )
        head = events[0]
        study = cls(
            head["space"],
            head["direction"],
            "random",
            storage=journal,
            metric=head.get("metric"),
            name=head.get("name"),
        )
        study.folder = path
        return study

    # ------------------------------------------------------------------ storage
    def _open_folder(self, folder: Path) -> Journal:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the study folder {folder}: {exc.strerror}") from exc
        self._lock = StudyLock(folder)
        self._lock.acquire()
        try:
            return FileJournal(folder / JOURNAL_FILE)
        except BaseException:
            self._lock.release()
            raise

    def _header(self) -> dict[str, Any]:
        return {
            "e": "study",
            "v": JOURNAL_VERSION,
            "name": self.name,
            "direction": self.direction,
            "metric": self.metric,
            "space": self.space.to_dict(),
            "t": self.clock(),
        }

    def _replay(self) -> None:
        read = self.journal.read()
        self.repaired = read.repaired
        events = read.events
        if not events:
            self.journal.append(self._header())
            self.journal.commit(sync=True)
            return
        head = events[0]
        if head.get("e") != "study":
            raise StorageError(
                "the journal does not start with a study header; is this a parabo study folder?"
            )
        where = f" in {self.folder}" if self.folder else ""
        if Space(head["space"]) != self.space:
            raise ConfigError(
                f"the study{where} was created with a different space; use another storage "
                "folder for a new study, or restore the original space to resume",
                field="space",
            )
        if head.get("direction") != self.direction:
            raise ConfigError(
                f"the study{where} was created to {head.get('direction')}; use another storage "
                "folder for a new study",
                field="direction",
            )
        if head.get("metric") != self.metric:
            raise ConfigError(
                f"the study{where} was created with metric {head.get('metric')!r}; use another "
                "storage folder for a new study",
                field="metric",
            )
        if self.name == (self.folder.name if self.folder else "study"):
            self.name = head.get("name") or self.name
        trials: dict[int, Trial] = {}
        for event in events[1:]:
            self._apply(trials, event)
        self._trials = [trials[i] for i in sorted(trials)]
        if [t.id for t in self._trials] != list(range(len(self._trials))):
            raise StorageError("the journal's trial ids are not contiguous; the file was edited")
        for t in self._trials:
            if t.state is TrialState.RUNNING or t.reason in RERUN_REASONS:
                t = t.evolve(state=TrialState.RUNNING, error=None, reason=None)
                self._trials[t.id] = t
                self._pending[t.id] = t
                self._rerun.append(t.id)
            else:
                self._record_finished(t)

    def _apply(self, trials: dict[int, Trial], event: Mapping[str, Any]) -> None:
        kind = event.get("e")
        tid = event.get("id")
        if not isinstance(tid, int):
            return  # events that belong to no trial (sessions, notes, future versions)
        if kind == "proc":
            self._procs.setdefault(tid, []).append(dict(event))
            return
        if kind == "ask":
            trials[tid] = Trial(id=tid, params=event["params"], asked_at=event.get("t"))
            return
        if tid not in trials:
            return  # events of other kinds (sessions, notes) and future versions
        t = trials[tid]
        if kind == "start":
            trials[tid] = t.evolve(
                state=TrialState.RUNNING,
                started_at=event.get("t"),
                worker=event.get("worker"),
                attempt=event.get("attempt", t.attempt),
                error=None,
                reason=None,
            )
        elif kind == "done":
            trials[tid] = t.evolve(
                state=TrialState.COMPLETE,
                value=event["value"],
                metrics=event.get("metrics", {}),
                finished_at=event.get("t"),
                started_at=event.get("started", t.started_at),
                worker=event.get("worker", t.worker),
                reused=bool(event.get("reused", False)),
            )
        elif kind == "fail":
            trials[tid] = t.evolve(
                state=TrialState.FAILED,
                error=event.get("error"),
                reason=event.get("reason"),
                finished_at=event.get("t"),
                started_at=event.get("started", t.started_at),
                worker=event.get("worker", t.worker),
            )

    def close(self) -> None:
        """Write what is buffered, fsync, and release the study folder."""
        try:
            self.journal.commit(sync=True)
            self.journal.close()
        finally:
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def commit(self, sync: bool = True) -> None:
        """Write buffered journal events (and fsync them when ``sync``)."""
        self.journal.commit(sync=sync)

    # ------------------------------------------------------------------ ask / tell
    @overload
    def ask(self, n: None = None) -> Trial: ...

    @overload
    def ask(self, n: int) -> list[Trial]: ...

    def ask(self, n: int | None = None) -> Trial | list[Trial]:
        """Start new trials: ``ask()`` returns one trial, ``ask(n)`` a list of ``n``.

        Every trial asked is pending until told; the sampler sees all of them.
        Enqueued parameters (:meth:`enqueue`) come first.
        """
        count = 1 if n is None else n
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ConfigError(f"must be a non-negative integer, got {n!r}", field="n")
        rows: list[dict[str, Any]] = []
        while self._queue and len(rows) < count:
            rows.append(self._queue.popleft())
        if len(rows) < count:
            suggested = self.sampler.ask(
                self.space,
                self._history,
                list(self._pending.values()),
                count - len(rows),
                self.direction,
            )
            for params in suggested:
                try:
                    rows.append(self.space.validate(params))
                except SpaceError as exc:
                    raise TrialError(
                        f"sampler {self.sampler!r} suggested invalid parameters: {exc}"
                    ) from exc
        now = self.clock()
        trials = []
        for params in rows:
            trial = Trial(id=len(self._trials), params=params, asked_at=now)
            self.journal.append({"e": "ask", "id": trial.id, "params": params, "t": now})
            self._trials.append(trial)
            self._pending[trial.id] = trial
            trials.append(trial)
        return trials[0] if n is None else trials

    def enqueue(self, params: Mapping[str, Any]) -> None:
        """Have the next :meth:`ask` return these parameters (validated now)."""
        self._queue.append(self.space.validate(params))

    def add_trial(self, params: Mapping[str, Any], value: Any) -> Trial:
        """Record an already-known result (warm start); it counts as a completed trial."""
        self.enqueue(params)
        self._queue.rotate(1)  # put it first
        trial = self.ask()
        return self.tell(trial, value)

    def _resolve(self, trial: Trial | int) -> Trial:
        tid = trial.id if isinstance(trial, Trial) else trial
        if not isinstance(tid, int) or not 0 <= tid < len(self._trials):
            raise TrialError(f"no trial with id {tid!r} in this study")
        current = self._trials[tid]
        if current.state.finished:
            raise TrialError(f"trial {tid} is already {current.state.value}; a trial is told once")
        return current

    def mark_started(
        self, trial: Trial | int, worker: str | None = None, t: float | None = None
    ) -> Trial:
        """Record that a worker started running a pending trial (a new attempt on reruns)."""
        current = self._resolve(trial)
        attempt = current.attempt + 1 if current.started_at is not None else current.attempt
        when = self.clock() if t is None else t
        self.journal.append(
            {"e": "start", "id": current.id, "t": when, "worker": worker, "attempt": attempt}
        )
        updated = current.evolve(started_at=when, worker=worker, attempt=attempt)
        self._trials[current.id] = updated
        self._pending[current.id] = updated
        if current.id in self._rerun:
            self._rerun.remove(current.id)
        return updated

    def record_process(self, trial: Trial | int, pgid: int, host: str, start: str | None) -> None:
        """Journal a process group running a trial, so a resumed study can kill it if orphaned."""
        tid = trial.id if isinstance(trial, Trial) else trial
        event = {"e": "proc", "id": tid, "pgid": pgid, "host": host, "start": start}
        self.journal.append(event)
        self._procs.setdefault(tid, []).append(event)

    def processes(self, trial: Trial | int) -> list[dict[str, Any]]:
        """Process groups journaled for a trial (``pgid``, ``host``, ``start``)."""
        return list(self._procs.get(trial.id if isinstance(trial, Trial) else trial, []))

    def record_retry(self, trial: Trial | int, error: str, reason: str) -> Trial:
        """Journal a failed attempt that will be run again (the trial stays pending)."""
        current = self._resolve(trial)
        self.journal.append(
            {
                "e": "retry",
                "id": current.id,
                "attempt": current.attempt,
                "error": error,
                "reason": reason,
                "t": self.clock(),
            }
        )
        return current

    def tell(
        self,
        trial: Trial | int,
        value: Any = None,
        *,
        error: str | None = None,
        reason: str | None = None,
        started_at: float | None = None,
        finished_at: float | None = None,
        worker: str | None = None,
        reused: bool = False,
    ) -> Trial:
        """Finish a trial with its result, or with a failure.

        Args:
            trial: the trial (or its id).
            value: a number, or a dict of metrics of which the study's ``metric``
                is the objective. NaN, infinity or anything that is not a number
                fails the trial with reason ``invalid_result``.
            error: a message: the trial failed (``value`` is ignored).
            reason: a short cause for a failure (default ``"told"``).

        Returns:
            The trial as recorded (COMPLETE or FAILED).
        """
        current = self._resolve(trial)
        now = self.clock() if finished_at is None else finished_at
        started = current.started_at if started_at is None else started_at
        who = worker if worker is not None else current.worker
        if error is None:
            try:
                val, metrics = interpret_result(value, self.metric)
            except InvalidResult as exc:
                error, reason = str(exc), "invalid_result"
        if error is not None:
            reason = reason or "told"
            self.journal.append(
                {
                    "e": "fail",
                    "id": current.id,
                    "error": str(error),
                    "reason": reason,
                    "t": now,
                    "started": started,
                    "worker": who,
                }
            )
            done = current.evolve(
                state=TrialState.FAILED,
                error=str(error),
                reason=reason,
                finished_at=now,
                started_at=started,
                worker=who,
            )
        else:
            event = {
                "e": "done",
                "id": current.id,
                "value": val,
                "metrics": metrics,
                "t": now,
                "started": started,
                "worker": who,
            }
            if reused:
                event["reused"] = True
            self.journal.append(event)
            done = current.evolve(
                state=TrialState.COMPLETE,
                value=val,
                metrics=metrics,
                finished_at=now,
                started_at=started,
                worker=who,
                reused=reused,
            )
        self._trials[current.id] = done
        del self._pending[current.id]
        if done.reason in RERUN_REASONS:
            # not part of the history: it runs again on resume
            return done
        self._record_finished(done)
        return done

    def _record_finished(self, trial: Trial) -> None:
        self._history.append(trial)
        self._n_complete += trial.state is TrialState.COMPLETE
        if trial.state is TrialState.COMPLETE and (
            self._best is None or self.better(trial.value, self._best.value)
        ):
            self._best = trial

    def better(self, a: float | None, b: float | None) -> bool:
        """Whether value ``a`` is strictly better than ``b`` in this study's direction."""
        if a is None:
            return False
        if b is None:
            return True
        return a < b if self.direction == "minimize" else a > b

    # ------------------------------------------------------------------ views
    @property
    def trials(self) -> list[Trial]:
        """Every trial, in id order."""
        return list(self._trials)

    @property
    def history(self) -> Sequence[Trial]:
        """Finished trials, in the order they finished (what the sampler sees)."""
        return list(self._history)

    @property
    def pending(self) -> list[Trial]:
        """Trials asked and not told yet (in flight)."""
        return list(self._pending.values())

    @property
    def interrupted(self) -> list[Trial]:
        """Pending trials left in flight by an earlier coordinator, to run again."""
        return [self._trials[i] for i in self._rerun]

    @property
    def n_trials(self) -> int:
        """Trials asked so far (every state)."""
        return len(self._trials)

    @property
    def n_finished(self) -> int:
        """Trials that reached COMPLETE or FAILED (and will not run again)."""
        return len(self._history)

    @property
    def n_complete(self) -> int:
        return self._n_complete

    @property
    def n_failed(self) -> int:
        return len(self._history) - self._n_complete

    @property
    def best(self) -> Trial | None:
        """The best COMPLETE trial, or ``None`` before any."""
        return self._best

    @property
    def best_value(self) -> float | None:
        return None if self._best is None else self._best.value

    @property
    def best_params(self) -> dict[str, Any] | None:
        return None if self._best is None else dict(self._best.params)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per trial: id, state, value, ``params_<name>``, ``metrics_<name>``, times, worker, error."""
        from parabo.results import trials_dataframe

        return trials_dataframe(self.trials, self.space)

    def __repr__(self) -> str:
        return (
            f"Study(name={self.name!r}, direction={self.direction!r}, trials={len(self._trials)}, "
            f"best={self.best_value!r})"
        )
