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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from parabo.exceptions import ConfigError, SpaceError, StorageError, TrialError
from parabo.goals import Goal, InvalidResult, interpret_result
from parabo.samplers import Direction, Sampler, make_sampler
from parabo.space import Space, as_space
from parabo.storage.events import (
    Asked,
    Completed,
    Enqueued,
    Event,
    EventFormatError,
    Failed,
    Paused,
    ProcessStarted,
    Pruned,
    Reported,
    Resumed,
    Retried,
    Started,
    StopDecided,
    StudyCreated,
    decode,
    encode,
)
from parabo.storage.journal import JOURNAL_FILE, FileJournal, Journal, MemoryJournal
from parabo.storage.lock import StudyLock
from parabo.storage.replay import StudyState, goal_of
from parabo.trial import FailReason, Trial, TrialState

if TYPE_CHECKING:
    import pandas as pd

#: the folder of a study folder that holds one folder per trial
TRIALS_FOLDER = "trials"

__all__ = ["DURABILITY", "InvalidResult", "Study", "interpret_result"]

#: when a recorded event reaches the journal file (``Study(durability=...)``)
DURABILITY = ("fsync", "write", "batch")


class Study:
    """One optimization: a space, a direction, a sampler and a record of trials.

    Use it as a context manager (or call :meth:`close`) to release a study folder::

        with parabo.Study(space, storage="runs/mine") as study:
            trial = study.ask()
            study.tell(trial, f(trial.params))

    Args:
        space: a :class:`Space` or its plain-dict form (as in a study file).
        direction: ``"minimize"`` or ``"maximize"``; a list of them for several objectives
            (one per objective, in the order of ``metric``).
        sampler: a sampler name (``"random"``, ``"sobol"``, ``"gp"``), a mapping
            ``{name: ..., **options}``, or a :class:`Sampler`.
        seed: seed of the sampler (when the sampler spec gives none).
        storage: a study folder (created if missing, resumed if it holds a
            journal), a :class:`Journal`, or ``None`` to keep everything in memory.
        metric: which entry of a dict result is the objective; with several objectives, a
            list naming each (optional when results are lists of values).
        constraints: limits on metrics of the result dict, ``{name: {"max": bound}}`` or
            ``{name: {"min": bound}}``. A trial outside them is COMPLETE and infeasible
            (:attr:`Trial.violation` says by how much); the best trial and the Pareto front
            hold feasible trials only.
        reference_point: with several objectives, the point the hypervolume is measured
            against (one value per objective, in the objectives' own directions); derived
            from the trials when not given.
        name: a name for people; defaults to the folder's name.
        durability: when a call that records something (``ask``, ``tell``, ...) has
            returned, its event is in the journal file and fsynced (``"fsync"``, the
            default: it survives a crash of the script and a power cut), or written
            (``"write"``: it survives a crash of the script, not of the machine), or
            buffered until :meth:`commit` (``"batch"``: for loops that commit
            themselves, as the scheduler does).
        clock: the time source of recorded events (the simulated backend's virtual
            clock in simulations).

    Raises:
        ConfigError: invalid arguments, or a folder that holds a different study.
        StudyLockedError: another live coordinator holds the folder.
    """

    def __init__(
        self,
        space: Space | Mapping[str, Any],
        direction: Direction | Sequence[Direction] = "minimize",
        sampler: str | Mapping[str, Any] | Sampler | None = None,
        seed: int | None = None,
        *,
        storage: str | os.PathLike[str] | Journal | None = None,
        metric: str | Sequence[str] | None = None,
        constraints: Mapping[str, Mapping[str, float]] | None = None,
        reference_point: Sequence[float] | None = None,
        name: str | None = None,
        durability: str = "fsync",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(direction, str) and direction not in ("minimize", "maximize"):
            raise ConfigError(
                f"must be 'minimize' or 'maximize', got {direction!r}", field="direction"
            )
        if metric is not None and not isinstance(metric, (str, list, tuple)):
            raise ConfigError(
                f"must be a non-empty string or a list of them, got {metric!r}", field="metric"
            )
        if durability not in DURABILITY:
            raise ConfigError(
                f"must be one of {', '.join(DURABILITY)}, got {durability!r}", field="durability"
            )
        self.space = as_space(space)
        #: the objectives and constraints (:class:`parabo.goals.Goal`)
        self.goal = Goal.build(metric, direction, constraints)
        #: the objectives' directions, one per objective
        self.directions: tuple[Direction, ...] = self.goal.directions
        #: the (first) objective's direction
        self.direction: Direction = self.goal.directions[0]
        header = self.goal.header()
        self.metric: str | list[str] | None = header["metric"]
        self.constraints: dict[str, dict[str, float]] | None = header["constraints"]
        self.reference_point = _reference(reference_point, self.goal)
        self.sampler = make_sampler(sampler, seed)
        self.sampler.bind(self.goal)
        self.seed = seed
        self.clock = clock
        self.durability = durability
        self.folder: Path | None = None
        self.repaired: str | None = None
        self._lock: StudyLock | None = None
        self._ignored: dict[int, int] = {}  # reports that came after a trial's stop, by trial
        # reports that came after a trial's stop, held until it ends: journaled if it completes
        # anyway (the stop reached it too late), dropped if it ends pruned or paused
        self._held: dict[int, list[Reported]] = {}
        if storage is None:
            self.journal: Journal = MemoryJournal()
        elif isinstance(storage, (str, os.PathLike)):
            self.folder = Path(storage)
            self.journal = self._open_folder(self.folder)
        else:
            self.journal = storage
        self.name = name or (self.folder.name if self.folder else "study")
        self._state = StudyState(self._header())
        try:
            self._replay()
            if self._lock is not None:
                self._check_trial_folders()
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
        records = journal.read().events
        header = _decode_header(records, f" {journal_path}")
        study = cls(
            header.space,
            header.direction,  # type: ignore[arg-type]
            "random",
            storage=journal,
            metric=header.metric,
            constraints=header.constraints,
            reference_point=header.reference,
            name=header.name,
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

    def _check_trial_folders(self) -> None:
        """Refuse a journal that does not know trial folders beside it (emptied or replaced).

        Trial folders named by id (``trials/000012``) are made only after their
        trial's ``ask`` is in the journal, so a folder for an id the journal never
        asked means the journal lost events: resuming would overwrite those trials.
        """
        assert self.folder is not None
        root = self.folder / TRIALS_FOLDER
        try:
            names = [p.name for p in root.iterdir() if p.is_dir()]
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"cannot list {root}: {exc.strerror}") from exc
        known = self.n_trials
        # (folders named by cache key are 20 hex digits; ids are 6 to 19 digits)
        unknown = sorted(int(n) for n in names if n.isdigit() and len(n) < 20 and int(n) >= known)
        if not unknown:
            return
        ids = ", ".join(str(i) for i in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        records = f"records {known} trial{'s' if known != 1 else ''}" if known else "records none"
        raise StorageError(
            f"{root} holds folders of {len(unknown)} trial{'s' if len(unknown) > 1 else ''} "
            f"(ids {ids}) that the journal {self.folder / JOURNAL_FILE} does not know (it "
            f"{records}): the journal was emptied, replaced or lost. Restore it from a backup "
            f"(or a {JOURNAL_FILE}.saved-* file beside it), or move {root} away to start over, "
            "or run the study in a new folder"
        )

    def _header(self) -> StudyCreated:
        fields = self.goal.header()
        return StudyCreated(
            name=self.name,
            direction=fields["direction"],
            metric=fields["metric"],
            space=self.space.to_dict(),
            t=self.clock(),
            constraints=fields["constraints"],
            reference=self.reference_point,
        )

    def _replay(self) -> None:
        read = self.journal.read()
        self.repaired = read.repaired
        records = read.events
        if not records:
            self.journal.append(encode(self._state.header))
            self.journal.commit(sync=True)
            return
        where = f" in {self.folder}" if self.folder else ""
        header = _decode_header(records, where)
        if Space(header.space) != self.space:
            raise ConfigError(
                f"the study{where} was created with a different space; use another storage "
                "folder for a new study, or restore the original space to resume",
                field="space",
            )
        recorded = goal_of(header)
        if recorded.directions != self.goal.directions:
            what = " and ".join(recorded.directions)
            raise ConfigError(
                f"the study{where} was created to {what}; use another storage "
                "folder for a new study",
                field="direction",
            )
        if recorded.metrics != self.goal.metrics:
            raise ConfigError(
                f"the study{where} was created with metric {header.metric!r}; use another "
                "storage folder for a new study",
                field="metric",
            )
        if recorded.constraints != self.goal.constraints:
            raise ConfigError(
                f"the study{where} was created with constraints {header.constraints!r}; use "
                "another storage folder for a new study",
                field="constraints",
            )
        if header.reference is not None and self.reference_point is None:
            self.reference_point = tuple(header.reference)
        elif self.reference_point is not None and header.reference != self.reference_point:
            raise ConfigError(
                f"the study{where} was created with reference point "
                f"{None if header.reference is None else list(header.reference)!r}; keep it "
                "(or leave it out) to resume",
                field="reference_point",
            )
        if self.name == (self.folder.name if self.folder else "study"):
            self.name = header.name or self.name
        state = StudyState(header)
        for number, record in enumerate(records[1:], start=2):
            try:
                event = decode(record)
            except EventFormatError as exc:
                raise StorageError(
                    f"the journal{where} holds a malformed event at line {number}: {exc}"
                ) from None
            if event is not None:
                state.apply(event)
        state.resume()
        self._state = state
        if state.history:
            # a sampler that caches a model rebuilds it as the uninterrupted study did
            self.sampler.restore(self.space, state.history, self.direction)

    def _record(self, event: Event) -> None:
        """Append ``event`` to the journal and apply it to the study's state."""
        self.journal.append(encode(event))
        self._state.apply(event)
        if self.durability != "batch":
            self.check_storage()
            fsync = self.durability == "fsync"
            self.journal.commit(sync=fsync, wait=fsync)

    def close(self) -> None:
        """Write what is buffered, fsync, and release the study folder."""
        try:
            if getattr(self.journal, "broken", None) is None:  # a broken journal said so already
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
        """Write buffered journal events (and fsync them when ``sync``).

        Raises:
            StorageError: the study folder, its journal or its lock was removed or
                replaced while the study was open, or the journal cannot be written.
        """
        self.check_storage()
        self.journal.commit(sync=sync)

    def check_storage(self) -> None:
        """Raise :class:`StorageError` if the lock of the study folder was removed or replaced."""
        if self._lock is not None:
            self._lock.check()

    @contextmanager
    def batched(self) -> Iterator[Study]:
        """Within this block, recorded events are buffered until :meth:`commit` (durability ``"batch"``).

        The scheduler runs in such a block and commits once per round of finished trials,
        so trials that finish together share one write and one fsync. On exit everything
        is written and fsynced, and the study's own durability applies again.
        """
        saved, self.durability = self.durability, "batch"
        try:
            yield self
        finally:
            self.durability = saved
            self.journal.commit(sync=True)

    # ------------------------------------------------------------------ ask / tell
    @overload
    def ask(self, n: None = None, *, t: float | None = None) -> Trial: ...

    @overload
    def ask(self, n: int, *, t: float | None = None) -> list[Trial]: ...

    def ask(self, n: int | None = None, *, t: float | None = None) -> Trial | list[Trial]:
        """Start new trials: ``ask()`` returns one trial, ``ask(n)`` a list of ``n``.

        Every trial asked is pending until told; the sampler sees all of them.
        Enqueued parameters (:meth:`enqueue`) come first. ``t``: the time to record
        (default: the study's clock).
        """
        count = 1 if n is None else n
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ConfigError(f"must be a non-negative integer, got {n!r}", field="n")
        rows: list[tuple[dict[str, Any], float | None, str | None]] = []
        for queued, origin in self._state.queue[:count]:
            rows.append((queued, None, origin))
        if len(rows) < count:
            wanted = count - len(rows)
            began = time.perf_counter()
            suggested = self.sampler.ask(
                self.space, self._state.history, self.pending, wanted, self.direction
            )
            share = (time.perf_counter() - began) / max(1, len(suggested))
            for params in suggested:
                try:
                    rows.append((self.space.validate(params), share, None))
                except SpaceError as exc:
                    raise TrialError(
                        f"sampler {self.sampler!r} suggested invalid parameters: {exc}"
                    ) from exc
        now = self.clock() if t is None else t
        trials = []
        for params, seconds, source in rows:
            tid = len(self._state.trials)
            self._record(Asked(tid, params, now, seconds, source))
            trials.append(self._state.trials[tid])
        return trials[0] if n is None else trials

    def enqueue(self, params: Mapping[str, Any]) -> None:
        """Have the next :meth:`ask` return these parameters before any suggestion of the sampler.

        The parameters are validated now and journaled: a study resumed before they were
        tried still tries them first. Points are tried in the order they were enqueued.
        """
        self._enqueue(params, "enqueue")

    def _enqueue(self, params: Mapping[str, Any], source: str) -> None:
        self._record(Enqueued(self.space.validate(params), source, self.clock()))

    def enqueue_initial(self, points: Sequence[Mapping[str, Any]]) -> int:
        """Enqueue the study file's ``initial`` points not enqueued before; returns how many.

        On resume the points already enqueued (tried or waiting) are not enqueued again.
        """
        new = list(points)[self._state.n_initial :]
        checked = [self.space.validate(p) for p in new]  # all or nothing
        for params in checked:
            self._enqueue(params, "initial")
        return len(checked)

    @property
    def queued(self) -> list[dict[str, Any]]:
        """Enqueued parameters not asked yet, in the order they will be tried."""
        return [dict(p) for p, _ in self._state.queue]

    def add_trial(self, params: Mapping[str, Any], value: Any) -> Trial:
        """Record an already-known result (a warm start) before the sampler's next ask.

        The trial is marked ``source="warm_start"``; it is part of the history every sampler
        sees, and does not count toward a run's ``trials``. A ``value`` that is not a finite
        number fails it, as :meth:`tell` does.
        """
        checked = self.space.validate(params)
        tid = len(self._state.trials)
        self._record(Asked(tid, checked, self.clock(), None, "warm_start"))
        return self.tell(tid, value)

    def _resolve(self, trial: Trial | int) -> Trial:
        tid = trial.id if isinstance(trial, Trial) else trial
        if not isinstance(tid, int) or not 0 <= tid < len(self._state.trials):
            raise TrialError(f"no trial with id {tid!r} in this study")
        current = self._state.trials[tid]
        if tid not in self._state.pending:
            raise TrialError(f"trial {tid} is already {current.state.value}; a trial is told once")
        return current

    def mark_started(
        self,
        trial: Trial | int,
        worker: str | None = None,
        t: float | None = None,
        budget: float | None = None,
    ) -> Trial:
        """Record that a worker started running a pending trial (a new attempt on reruns).

        ``budget``: the resource the run may use (default: the trial's budget so far).
        """
        current = self._resolve(trial)
        attempt = current.attempt + 1 if current.started_at is not None else current.attempt
        when = self.clock() if t is None else t
        run_to = current.budget if budget is None else float(budget)
        self._record(Started(current.id, when, worker, attempt, run_to))
        return self._state.trials[current.id]

    def record_process(self, trial: Trial | int, pgid: int, host: str, start: str | None) -> None:
        """Journal a process group running a pending trial, so a resumed study can kill it if orphaned.

        A process group reported for a trial that is no longer pending (it finished or
        was cancelled while the report was on its way) is not recorded.
        """
        tid = trial.id if isinstance(trial, Trial) else trial
        if tid in self._state.pending:
            self._record(ProcessStarted(tid, pgid, host, start))

    def report(
        self,
        trial: Trial | int,
        step: float,
        value: float | None,
        metrics: Mapping[str, float] | None = None,
        t: float | None = None,
    ) -> bool:
        """Journal a report of a running trial: ``value`` (the study's metric) at ``step``.

        Returns False, recording nothing, for a report that comes after the trial was
        stopped or finished, or whose step is not larger than the trial's last one; the
        reports ignored after a stop are counted in the trial's record when it ends.
        """
        tid = trial.id if isinstance(trial, Trial) else trial
        if tid not in self._state.pending:
            return False
        held = self._held.get(tid)
        curve = self._state.curves.get(tid)
        last = held[-1] if held else curve[-1] if curve else None
        if last is not None and step <= last.step:
            return False
        current = self._state.trials[tid]
        when = self.clock() if t is None else t
        event = Reported(tid, float(step), value, dict(metrics or {}), current.attempt, when)
        if tid in self._state.stops:
            self._ignored[tid] = self._ignored.get(tid, 0) + 1
            self._held.setdefault(tid, []).append(event)
            return False
        self._record(event)
        return True

    def held_reports(self, trial: Trial | int) -> list[Reported]:
        """Reports of a running trial that came after its stop decision (not journaled yet).

        They are journaled if the trial completes anyway (the decision reached it too late,
        :meth:`tell`), and dropped if it ends pruned or paused.
        """
        return list(self._held.get(trial.id if isinstance(trial, Trial) else trial, []))

    def record_stop(
        self, trial: Trial | int, why: str, t: float | None = None, *, pause: bool = False
    ) -> None:
        """Journal the early-stopping rule's decision to stop a running trial (once).

        ``pause``: it stops at its budget to be promoted later (it ends PAUSED, not PRUNED).
        """
        current = self._resolve(trial)
        if current.id in self._state.stops:
            return
        when = self.clock() if t is None else t
        self._record(StopDecided(current.id, current.step, why, when, pause))

    def stop_decided(self, trial: Trial | int) -> StopDecided | None:
        """The rule's decision to stop ``trial``, if one is journaled for its current attempt."""
        return self._state.stops.get(trial.id if isinstance(trial, Trial) else trial)

    def prune(
        self,
        trial: Trial | int,
        why: str | None = None,
        *,
        started_at: float | None = None,
        finished_at: float | None = None,
        worker: str | None = None,
    ) -> Trial:
        """End a running trial early as PRUNED, keeping its last reported value.

        ``why`` defaults to the rule's decision, if one was journaled. Returns the trial
        as recorded.
        """
        current = self._resolve(trial)
        self._held.pop(current.id, None)
        curve = self._state.curves.get(current.id) or []
        last = curve[-1] if curve else None
        decided = self._state.stops.get(current.id)
        if why is None:
            why = decided.why if decided is not None else "stopped early"
        self._record(
            Pruned(
                current.id,
                None if last is None else last.value,
                None if last is None else last.step,
                why,
                self._ignored.pop(current.id, 0),
                self.clock() if finished_at is None else finished_at,
                current.started_at if started_at is None else started_at,
                worker if worker is not None else current.worker,
            )
        )
        return self._state.trials[current.id]

    def pause(
        self,
        trial: Trial | int,
        result: float | None = None,
        *,
        started_at: float | None = None,
        finished_at: float | None = None,
        worker: str | None = None,
    ) -> Trial:
        """End a running trial's run at its budget as PAUSED (ASHA's promotion variant).

        Its value is its last report at or below the budget; ``result`` (what the objective
        returned at its budget) is journaled as a report at the budget first when no report
        reached it. Reports past the budget are dropped. Returns the trial as recorded.
        """
        current = self._resolve(trial)
        self._held.pop(current.id, None)
        budget = current.budget
        curve = self._state.curves.get(current.id) or []
        if (
            result is not None
            and budget is not None
            and (not curve or curve[-1].step < budget)
            and current.id not in self._state.stops
        ):
            when = self.clock() if finished_at is None else finished_at
            metric = self.metric[0] if isinstance(self.metric, list) else self.metric
            self._record(
                Reported(
                    current.id,
                    float(budget),
                    float(result),
                    {metric or "value": float(result)},
                    current.attempt,
                    when,
                )
            )
            curve = self._state.curves.get(current.id) or []
        last = curve[-1] if curve else None
        self._record(
            Paused(
                current.id,
                None if last is None else last.value,
                None if last is None else last.step,
                budget,
                self._ignored.pop(current.id, 0),
                self.clock() if finished_at is None else finished_at,
                current.started_at if started_at is None else started_at,
                worker if worker is not None else current.worker,
            )
        )
        return self._state.trials[current.id]

    def promote(self, trial: Trial | int, budget: float, why: str, t: float | None = None) -> Trial:
        """Promote a PAUSED trial: it becomes pending again, to run on to ``budget``.

        Its curve goes on (reports at steps it already reported are not recorded again).
        """
        tid = trial.id if isinstance(trial, Trial) else trial
        if not isinstance(tid, int) or not 0 <= tid < len(self._state.trials):
            raise TrialError(f"no trial with id {tid!r} in this study")
        current = self._state.trials[tid]
        if current.state is not TrialState.PAUSED:
            raise TrialError(
                f"trial {tid} is {current.state.value}; only a paused trial is promoted"
            )
        when = self.clock() if t is None else t
        self._record(Resumed(tid, float(budget), why, when))
        return self._state.trials[tid]

    def curve(self, trial: Trial | int) -> list[Reported]:
        """The reports of a trial's current (or last) attempt, in step order."""
        return list(self._state.curves.get(trial.id if isinstance(trial, Trial) else trial, []))

    @property
    def reports(self) -> list[Reported]:
        """Every report recorded, every attempt, in the journal's order."""
        return list(self._state.reports)

    def processes(self, trial: Trial | int) -> list[ProcessStarted]:
        """Process groups journaled for a trial."""
        return list(self._state.processes.get(trial.id if isinstance(trial, Trial) else trial, []))

    def record_retry(
        self, trial: Trial | int, error: str, reason: FailReason | str, t: float | None = None
    ) -> Trial:
        """Journal a failed attempt that will be run again (the trial stays pending)."""
        current = self._resolve(trial)
        self._held.pop(current.id, None)
        self._ignored.pop(current.id, None)
        when = self.clock() if t is None else t
        self._record(
            Retried(
                current.id,
                current.attempt,
                error,
                FailReason.read(reason) or FailReason.EXCEPTION,
                when,
            )
        )
        return current

    def tell(
        self,
        trial: Trial | int,
        value: Any = None,
        *,
        error: str | None = None,
        reason: FailReason | str | None = None,
        started_at: float | None = None,
        finished_at: float | None = None,
        worker: str | None = None,
        reused: bool = False,
    ) -> Trial:
        """Finish a trial with its result, or with a failure.

        When it returns, the outcome is in the journal (see ``durability``).

        Args:
            trial: the trial (or its id).
            value: a number, or a dict of metrics of which the study's ``metric``
                is the objective. With several objectives, a list of numbers (one per
                objective) or a dict holding every objective's metric; with constraints,
                a dict that also holds every constrained metric. NaN, infinity, anything
                that is not a number, or a missing metric fails the trial with reason
                ``invalid_result`` (the error names the metric).
            error: a message: the trial failed (``value`` is ignored).
            reason: why it failed (a :class:`~parabo.trial.FailReason`; default ``told``).

        Returns:
            The trial as recorded (COMPLETE or FAILED).
        """
        current = self._resolve(trial)
        now = self.clock() if finished_at is None else finished_at
        started = current.started_at if started_at is None else started_at
        who = worker if worker is not None else current.worker
        if error is None:
            try:
                val, values, metrics = self.goal.read(value)
            except InvalidResult as exc:
                error, reason = str(exc), FailReason.INVALID_RESULT
        held = self._held.pop(current.id, [])
        if error is not None:
            why = FailReason.read(reason) or FailReason.TOLD
            self._record(Failed(current.id, str(error), why, now, started, who))
        else:
            # it completed anyway: the reports that came after a stop decision are real
            for event in held:
                self._record(event)
            if held:
                self._ignored.pop(current.id, None)
            several = values if self.goal.multi else None
            self._record(Completed(current.id, val, metrics, now, started, who, reused, several))
        return self._state.trials[current.id]

    def better(self, a: float | None, b: float | None) -> bool:
        """Whether value ``a`` is strictly better than ``b`` in this study's direction."""
        return self._state.better(a, b)

    # ------------------------------------------------------------------ views
    @property
    def trials(self) -> list[Trial]:
        """Every trial, in id order."""
        return list(self._state.trials)

    @property
    def history(self) -> Sequence[Trial]:
        """Finished trials in the order they finished (the journal's order): what the sampler sees.

        A resumed study has the same history, in the same order, as the study that
        recorded it.
        """
        return list(self._state.history)

    @property
    def pending(self) -> list[Trial]:
        """Trials asked and not told yet (in flight), in the order they were asked."""
        return list(self._state.pending.values())

    @property
    def interrupted(self) -> list[Trial]:
        """Pending trials left in flight by an earlier coordinator, to run again."""
        return [self._state.trials[i] for i in self._state.rerun]

    @property
    def n_trials(self) -> int:
        """Trials asked so far (every state)."""
        return len(self._state.trials)

    @property
    def n_finished(self) -> int:
        """Trials that reached COMPLETE, FAILED or PRUNED (and will not run again)."""
        return len(self._state.history) + self._state.n_lost

    @property
    def n_warm(self) -> int:
        """Trials that are known results told before running (warm start, :meth:`add_trial`)."""
        return self._state.n_warm

    @property
    def n_complete(self) -> int:
        """Trials that completed with a value."""
        return self._state.n_complete

    @property
    def n_failed(self) -> int:
        """Trials that failed for good (interrupted or cancelled ones run again and are not counted)."""
        state = self._state
        return (
            len(state.history) - state.n_complete - state.n_pruned - state.n_paused + state.n_lost
        )

    @property
    def n_pruned(self) -> int:
        """Trials that early stopping (or the objective, raising ``TrialPruned``) ended early."""
        return self._state.n_pruned

    @property
    def n_paused(self) -> int:
        """Trials paused at a rung by ASHA's promotion variant, waiting to be promoted."""
        return self._state.n_paused

    @property
    def n_promotions(self) -> int:
        """How many times a paused trial was promoted (resumed to a larger budget)."""
        return self._state.n_promotions

    @property
    def paused(self) -> list[Trial]:
        """The PAUSED trials, in id order."""
        return [t for t in self._state.history if t.state is TrialState.PAUSED]

    @property
    def best(self) -> Trial | None:
        """The best COMPLETE trial (with constraints, the best feasible one), or ``None`` before any.

        A study with several objectives has no single best: ``None``; see :meth:`pareto_front`.
        """
        return self._state.best

    def pareto_front(self) -> list[Trial]:
        """The feasible COMPLETE trials that no other feasible trial dominates, in id order.

        With one objective, the best feasible trial (empty before any).
        """
        return self._state.pareto_front()

    def hypervolume(self, reference_point: Sequence[float] | None = None) -> float:
        """The hypervolume of the Pareto front against ``reference_point``.

        Default: the study's reference point, or one derived from the front
        (:meth:`derived_reference_point`). Values are in the objectives' own directions.
        """
        import numpy as np

        from parabo.pareto import hypervolume

        front = self.pareto_front()
        ref = reference_point if reference_point is not None else self.reference()
        if not front or ref is None:
            return 0.0
        signs = np.array(self.goal.signs)
        Y = np.array([t.values if t.values is not None else (t.value,) for t in front]) * signs
        return hypervolume(Y, np.asarray(ref, dtype=float) * signs)

    def reference(self) -> tuple[float, ...] | None:
        """The study's reference point, or the one derived from the front; ``None`` before any."""
        if self.reference_point is not None:
            return self.reference_point
        return self.derived_reference_point()

    def derived_reference_point(self) -> tuple[float, ...] | None:
        """The front's worst value per objective, 10% of its range further (``None`` before any)."""
        import numpy as np

        from parabo.pareto import reference_point

        front = self.pareto_front()
        if not front:
            return None
        signs = np.array(self.goal.signs)
        Y = np.array([t.values if t.values is not None else (t.value,) for t in front]) * signs
        return tuple(float(x) for x in reference_point(Y) * signs)

    @property
    def best_value(self) -> float | None:
        return None if self._state.best is None else self._state.best.value

    @property
    def best_params(self) -> dict[str, Any] | None:
        return None if self._state.best is None else dict(self._state.best.params)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per trial: id, state, value, ``params_<name>``, ``metrics_<name>``, times, worker, error.

        With several objectives also ``values_<name>``; with constraints ``feasible``,
        ``violation`` and ``violation_<metric>``.
        """
        from parabo.results import trials_dataframe

        return trials_dataframe(self.trials, self.space, self.goal)

    def __repr__(self) -> str:
        return (
            f"Study(name={self.name!r}, direction={self.direction!r}, trials={self.n_trials}, "
            f"best={self.best_value!r})"
        )


def _reference(point: Sequence[float] | None, goal: Goal) -> tuple[float, ...] | None:
    """The reference point as a tuple, checked against the objectives."""
    if point is None:
        return None
    if not goal.multi:
        raise ConfigError(
            "applies to studies with several objectives; leave it out", field="reference_point"
        )
    if isinstance(point, (str, bytes)) or not isinstance(point, Sequence):
        raise ConfigError(f"must be a list of numbers, got {point!r}", field="reference_point")
    out = []
    for i, x in enumerate(point):
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise ConfigError(f"must be a finite number, got {x!r}", field=f"reference_point.{i}")
        out.append(float(x))
    if len(out) != len(goal.directions):
        raise ConfigError(
            f"has {len(out)} values for {len(goal.directions)} objectives; give one per objective",
            field="reference_point",
        )
    return tuple(out)


def _decode_header(records: Sequence[Mapping[str, Any]], where: object) -> StudyCreated:
    """The journal's first record as a header; StorageError if it is not one."""
    try:
        header = decode(records[0]) if records else None
    except EventFormatError as exc:
        raise StorageError(f"the journal{where} has a malformed study header: {exc}") from None
    if not isinstance(header, StudyCreated):
        raise StorageError(
            f"the journal{where} does not start with a study header; is this a parabo study folder?"
        )
    return header
