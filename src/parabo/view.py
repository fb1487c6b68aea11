"""A read-only, incremental view of a study folder: what plots, reports and the dashboard read.

:class:`StudyView` follows a study's journal with a
:class:`~parabo.storage.journal.JournalReader`: each :meth:`StudyView.refresh`
reads only the lines appended since the last one and applies their events to a
:class:`~parabo.storage.replay.StudyState`, the same replay that
:meth:`parabo.Study.load` uses. It never takes the study's lock and never writes
to the folder, so it is safe beside the coordinator of a running study.

    >>> import tempfile
    >>> from parabo import Study
    >>> folder = tempfile.mkdtemp()
    >>> study = Study({"x": {"type": "float", "low": 0, "high": 1}}, storage=folder)
    >>> trial = study.ask()
    >>> view = StudyView(folder)
    >>> view.n_trials, view.n_running
    (1, 1)
    >>> _ = study.tell(trial, 0.5)
    >>> view.refresh() > 0, view.n_complete
    (True, 1)
    >>> study.close()
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parabo.exceptions import ConfigError, StorageError
from parabo.goals import Goal
from parabo.space import Space, as_space
from parabo.storage.events import EventFormatError, Reported, StudyCreated, decode
from parabo.storage.journal import JOURNAL_FILE, JournalReader
from parabo.storage.replay import StudyState
from parabo.trial import Trial, TrialState

if TYPE_CHECKING:
    from parabo.study import Study

__all__ = ["Snapshot", "StudyView", "snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """A study's trials at one moment, as the plots read them.

    Attributes:
        name, direction, metric: from the study's header (the first objective's, with several).
        space: the study's parameters.
        trials: every trial, in id order (running ones included).
        history: finished trials in the order they finished.
        version: grows whenever the trials change (the journal lines read so far).
        goal: every objective (names, directions) and the constraints.
        curves: each trial's reports of its current (or last) attempt, in step order, by
            trial id (only trials that reported).
    """

    name: str
    direction: str
    metric: str | None
    space: Space
    trials: Sequence[Trial]
    history: Sequence[Trial]
    version: int = 0
    goal: Goal = field(default_factory=Goal)
    curves: Mapping[int, Sequence[Reported]] = field(default_factory=dict)

    @property
    def minimize(self) -> bool:
        return self.direction != "maximize"

    @property
    def complete(self) -> list[Trial]:
        """COMPLETE trials, in id order."""
        return [t for t in self.trials if t.state is TrialState.COMPLETE and t.value is not None]

    @property
    def failed(self) -> list[Trial]:
        """FAILED trials, in id order."""
        return [t for t in self.trials if t.state is TrialState.FAILED]

    @property
    def best(self) -> Trial | None:
        done = self.complete
        if not done:
            return None
        key = (lambda t: t.value) if self.minimize else (lambda t: -(t.value or 0.0))
        return min(done, key=key)


class StudyView:
    """Follow a study folder read-only; :meth:`refresh` reads only what was appended.

    Args:
        folder: a study folder (it holds ``journal.jsonl``).

    Raises:
        ConfigError: ``folder`` is not a study folder.
        StorageError: its journal is damaged or does not start with a study header.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        path = self.folder / JOURNAL_FILE
        if not path.is_file():
            raise ConfigError(
                f"{self.folder} is not a study folder (it has no {JOURNAL_FILE}); give the "
                "folder a study writes to, or its study file",
                field="STUDY",
            )
        self._reader = JournalReader(path)
        records = self._reader.poll()
        if not records:
            raise StorageError(f"the journal {path} is empty; has the study started?")
        header = _event(records[0], path)
        if not isinstance(header, StudyCreated):
            raise StorageError(
                f"the journal {path} does not start with a study header; is this a parabo "
                "study folder?"
            )
        self.header = header
        self.space = as_space(header.space)
        self._state = StudyState(header)
        self._apply(records[1:])

    def _apply(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            event = _event(record, self._reader.path)
            if event is not None and not isinstance(event, StudyCreated):
                self._state.apply(event)

    def refresh(self) -> int:
        """Read the journal lines appended since the last call; return how many there were.

        Raises:
            StorageError: a damaged line, or a journal shorter than what was read (it was
                replaced or cut: open a new view).
        """
        try:
            size = self._reader.path.stat().st_size
        except FileNotFoundError:
            size = -1
        if size < self._reader.offset:
            raise StorageError(
                f"the journal {self._reader.path} is "
                + ("gone" if size < 0 else f"shorter ({size} bytes) than what was read")
                + f" ({self._reader.offset} bytes): it was removed, replaced or cut; open the "
                "study again"
            )
        records = self._reader.poll()
        self._apply(records)
        return len(records)

    @property
    def version(self) -> int:
        """Journal lines read so far (grows with every change)."""
        return self._reader.lines

    @property
    def bytes_read(self) -> int:
        """Bytes of the journal read so far: each is read once."""
        return self._reader.offset

    @property
    def n_trials(self) -> int:
        return len(self._state.trials)

    @property
    def n_complete(self) -> int:
        return self._state.n_complete

    @property
    def n_running(self) -> int:
        return sum(1 for t in self._state.trials if t.state is TrialState.RUNNING)

    @property
    def n_failed(self) -> int:
        return sum(1 for t in self._state.trials if t.state is TrialState.FAILED)

    def snapshot(self) -> Snapshot:
        """The trials as they are now (a copy: later refreshes do not change it)."""
        h = self.header
        return Snapshot(
            name=h.name,
            direction=_first(h.direction),
            metric=_first(h.metric),
            space=self.space,
            trials=list(self._state.trials),
            history=list(self._state.history),
            version=self.version,
            goal=self._state.goal,
            curves={tid: tuple(c) for tid, c in self._state.curves.items()},
        )


def _first(value: Any) -> Any:
    """A header's direction or metric, of the first objective with several (the plots draw it)."""
    return value if value is None or isinstance(value, str) else next(iter(value), None)


def _event(record: dict[str, Any], path: Path) -> Any:
    try:
        return decode(record)
    except EventFormatError as exc:
        raise StorageError(f"the journal {path} holds a malformed event: {exc}") from None


def snapshot(source: Study | StudyView | Snapshot | str | os.PathLike[str]) -> Snapshot:
    """The :class:`Snapshot` of a study, a view, or a study folder (read once)."""
    if isinstance(source, Snapshot):
        return source
    if isinstance(source, StudyView):
        return source.snapshot()
    if isinstance(source, (str, os.PathLike)):
        return StudyView(source).snapshot()
    from parabo.study import Study

    if isinstance(source, Study):
        return Snapshot(
            name=source.name,
            direction=_first(source.direction),
            metric=_first(source.metric),
            space=source.space,
            trials=source.trials,
            history=list(source.history),
            version=source.n_trials,
            goal=source.goal,
            curves={t.id: tuple(c) for t in source.trials if (c := source.curve(t))},
        )
    raise ConfigError(
        f"expected a Study, a study folder or a StudyView, got {type(source).__name__}",
        field="study",
    )
