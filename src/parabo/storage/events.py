"""The journal's vocabulary: one frozen dataclass per event, and its encoding.

A study's journal is a sequence of these events; everything a study knows is
derived from them (:mod:`parabo.storage.replay`). On disk each event is one JSON
object whose ``"e"`` key names its kind:

============  ===============  ================================================================
kind          class            meaning
============  ===============  ================================================================
``study``     :class:`StudyCreated`    the header: name, direction, metric, space (first line)
``queue``     :class:`Enqueued`        parameters to try before the sampler's next suggestions
``ask``       :class:`Asked`           a trial was created with these parameters
``start``     :class:`Started`         a worker started running it (attempt 1, 2, ...)
``proc``      :class:`ProcessStarted`  it runs in this process group (killed if orphaned)
``retry``     :class:`Retried`         an attempt failed and the trial will run again
``done``      :class:`Completed`       it finished with a value and metrics
``fail``      :class:`Failed`          it failed, with a message and a :class:`~parabo.trial.FailReason`
``lost``      :class:`Lost`            ``parabo repair`` set its ``ask`` aside (damaged)
``report``    :class:`Reported`        it reported a value (and metrics) at a step
``stop``      :class:`StopDecided`     the early-stopping rule decided to stop it
``pruned``    :class:`Pruned`          it ended early, keeping its last reported value
``paused``    :class:`Paused`          it stopped at its budget (a rung), to be promoted later
``resume``    :class:`Resumed`         the rule promoted a paused trial: it runs on to ``budget``
============  ===============  ================================================================

Events of a kind this version does not know (written by a newer parabo) decode
to ``None`` and are skipped, so an older reader still opens the study.

    >>> e = Completed(id=3, value=0.5, metrics={"loss": 0.5}, t=10.0)
    >>> decode(encode(e)) == e
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from parabo.trial import FailReason

__all__ = [
    "JOURNAL_VERSION",
    "Asked",
    "Completed",
    "Enqueued",
    "Event",
    "EventFormatError",
    "Failed",
    "Lost",
    "ProcessStarted",
    "Paused",
    "Pruned",
    "Reported",
    "Resumed",
    "Retried",
    "Started",
    "StopDecided",
    "StudyCreated",
    "TrialEvent",
    "decode",
    "encode",
]

#: version written into the header; readers accept this and older versions
JOURNAL_VERSION = 1


class EventFormatError(ValueError):
    """A journal record of a known kind lacks a field or holds a value of the wrong type."""


@dataclass(frozen=True)
class StudyCreated:
    """The journal's header: what the study optimizes, so a reader can open it alone.

    With one objective, ``direction`` is a word and ``metric`` a name or ``None``; with
    several, both are lists (``metric`` may be ``None``). ``constraints`` maps metric
    names to ``{"max": bound}`` or ``{"min": bound}``; ``reference`` is the reference
    point of the hypervolume (both are left out of the line when unset, so a study
    without them writes the header it always did).
    """

    kind: ClassVar[str] = "study"
    name: str
    direction: str | Sequence[str]
    metric: str | Sequence[str] | None
    space: Mapping[str, Any]
    t: float | None = None
    v: int = JOURNAL_VERSION
    constraints: Mapping[str, Mapping[str, float]] | None = None
    reference: Sequence[float] | None = None


#: where a trial's parameters came from, when the sampler did not suggest them (``Asked.source``)
SOURCES = ("enqueue", "initial", "warm_start")


@dataclass(frozen=True)
class Enqueued:
    """``params`` wait to be asked before the sampler is (``source``: ``enqueue`` or ``initial``).

    The next ask whose ``source`` is ``enqueue`` or ``initial`` takes the first waiting entry.
    """

    kind: ClassVar[str] = "queue"
    params: Mapping[str, Any]
    source: str = "enqueue"
    t: float | None = None


@dataclass(frozen=True)
class TrialEvent:
    """Base of the events about one trial (``id``)."""

    kind: ClassVar[str] = ""
    id: int


@dataclass(frozen=True)
class Asked(TrialEvent):
    """Trial ``id`` was created with ``params`` at ``t``; the sampler took ``seconds`` (None: enqueued).

    ``source`` is ``None`` for a sampler's suggestion, else where the parameters came from
    (one of :data:`SOURCES`): ``enqueue`` and ``initial`` take the first waiting
    :class:`Enqueued` entry; ``warm_start`` is a known result, told at once.
    """

    kind: ClassVar[str] = "ask"
    params: Mapping[str, Any] = field(default_factory=dict)
    t: float | None = None
    seconds: float | None = None
    source: str | None = None


@dataclass(frozen=True)
class Started(TrialEvent):
    """A worker started attempt ``attempt`` of trial ``id`` at ``t``, to run to ``budget``.

    ``budget`` is the resource the run may use (``None``: no early stopping budget).
    """

    kind: ClassVar[str] = "start"
    t: float | None = None
    worker: str | None = None
    attempt: int = 1
    budget: float | None = None


@dataclass(frozen=True)
class ProcessStarted(TrialEvent):
    """Trial ``id`` runs in process group ``pgid`` on ``host`` (``start``: the group leader's start time)."""

    kind: ClassVar[str] = "proc"
    pgid: int = 0
    host: str = ""
    start: str | None = None


@dataclass(frozen=True)
class Retried(TrialEvent):
    """Attempt ``attempt`` of trial ``id`` failed (``error``, ``reason``); the trial runs again."""

    kind: ClassVar[str] = "retry"
    attempt: int = 1
    error: str = ""
    reason: FailReason = FailReason.EXCEPTION
    t: float | None = None


@dataclass(frozen=True)
class Completed(TrialEvent):
    """Trial ``id`` finished with ``value`` (and every numeric metric) at ``t``.

    With several objectives ``values`` holds each one (``value`` is the first);
    it is left out of the line for a study with one objective.
    """

    kind: ClassVar[str] = "done"
    value: float = math.nan
    metrics: Mapping[str, float] = field(default_factory=dict)
    t: float | None = None
    started: float | None = None
    worker: str | None = None
    reused: bool = False
    values: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Failed(TrialEvent):
    """Trial ``id`` failed at ``t`` with ``error`` for ``reason``."""

    kind: ClassVar[str] = "fail"
    error: str = ""
    reason: FailReason = FailReason.EXCEPTION
    t: float | None = None
    started: float | None = None
    worker: str | None = None


@dataclass(frozen=True)
class Lost(TrialEvent):
    """The line that asked trial ``id`` was damaged and set aside by ``parabo repair``.

    It takes the place of that ``ask`` so that trial ids stay contiguous; the trial
    is failed with reason ``lost`` and its later events are ignored.
    """

    kind: ClassVar[str] = "lost"
    t: float | None = None


@dataclass(frozen=True)
class Reported(TrialEvent):
    """Attempt ``attempt`` of trial ``id`` reported ``value`` (and ``metrics``) at ``step`` at ``t``.

    ``value`` is the study's metric read from the report (``None`` when the report
    does not hold it); early-stopping rules compare these values.
    """

    kind: ClassVar[str] = "report"
    step: float = 0.0
    value: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    attempt: int = 1
    t: float | None = None


@dataclass(frozen=True)
class StopDecided(TrialEvent):
    """The early-stopping rule decided at ``t`` to stop trial ``id`` (at ``step``), saying ``why``.

    ``pause``: the trial is stopped at its budget to be promoted later (ASHA's promotion
    variant), not pruned.
    """

    kind: ClassVar[str] = "stop"
    step: float | None = None
    why: str = ""
    t: float | None = None
    pause: bool = False


@dataclass(frozen=True)
class Pruned(TrialEvent):
    """Trial ``id`` ended early at ``t`` with its last reported ``value`` (``None``: it reported none).

    ``why`` says who stopped it (the rule, or the objective raising ``TrialPruned``);
    ``ignored`` counts the reports that arrived after the stop and were not recorded.
    """

    kind: ClassVar[str] = "pruned"
    value: float | None = None
    step: float | None = None
    why: str = ""
    ignored: int = 0
    t: float | None = None
    started: float | None = None
    worker: str | None = None


@dataclass(frozen=True)
class Paused(TrialEvent):
    """Trial ``id`` stopped at ``t`` at its ``budget`` (a rung), with its last reported ``value``.

    It may be promoted later (:class:`Resumed`); ``ignored`` counts the reports past the
    budget that were not recorded.
    """

    kind: ClassVar[str] = "paused"
    value: float | None = None
    step: float | None = None
    budget: float | None = None
    ignored: int = 0
    t: float | None = None
    started: float | None = None
    worker: str | None = None


@dataclass(frozen=True)
class Resumed(TrialEvent):
    """The rule promoted paused trial ``id`` at ``t``: it runs on to ``budget`` (``why``)."""

    kind: ClassVar[str] = "resume"
    budget: float | None = None
    why: str = ""
    t: float | None = None


Event = (
    StudyCreated
    | Enqueued
    | Asked
    | Started
    | ProcessStarted
    | Retried
    | Completed
    | Failed
    | Lost
    | Reported
    | StopDecided
    | Pruned
    | Paused
    | Resumed
)

_KINDS: dict[str, type[Any]] = {
    cls.kind: cls
    for cls in (
        StudyCreated,
        Enqueued,
        Asked,
        Started,
        ProcessStarted,
        Retried,
        Completed,
        Failed,
        Lost,
        Reported,
        StopDecided,
        Pruned,
        Paused,
        Resumed,
    )
}
# fields left out of the record when they hold their default, so lines stay short
_OPTIONAL_DEFAULTS: dict[str, Any] = {
    "reused": False,
    "seconds": None,
    "ignored": 0,
    "source": None,
    "values": None,
    "constraints": None,
    "reference": None,
    "budget": None,
    "pause": False,
}
# the events whose value may be None (a report without the metric, a trial pruned before any report)
_VALUE_OPTIONAL = ("report", "pruned", "paused")


def encode(event: Event) -> dict[str, Any]:
    """The JSON-ready record of ``event`` (``{"e": kind, ...fields}``)."""
    record: dict[str, Any] = {"e": event.kind}
    for f in fields(event):
        value = getattr(event, f.name)
        if f.name in _OPTIONAL_DEFAULTS and value == _OPTIONAL_DEFAULTS[f.name]:
            continue
        if isinstance(value, FailReason):
            value = value.value
        elif isinstance(value, Mapping):
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        record[f.name] = value
    return record


def _check(cls: type[Any], name: str, value: Any) -> Any:
    """``value`` of field ``name`` of ``cls`` as that field wants it; raises EventFormatError."""
    if name == "reason":
        return FailReason.read(value)
    if name in ("id", "attempt", "pgid", "v", "ignored"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise EventFormatError(f"{cls.kind!r} event: {name} must be an integer, got {value!r}")
        return value
    if name == "pause":
        if not isinstance(value, bool):
            raise EventFormatError(
                f"{cls.kind!r} event: pause must be true or false, got {value!r}"
            )
        return value
    if name in ("t", "started", "seconds", "budget") or (name == "step" and cls.kind != "report"):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EventFormatError(f"{cls.kind!r} event: {name} must be a number, got {value!r}")
        return float(value)
    if name == "step":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EventFormatError(f"{cls.kind!r} event: {name} must be a number, got {value!r}")
        return float(value)
    if name == "value":
        if value is None and cls.kind in _VALUE_OPTIONAL:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EventFormatError(f"{cls.kind!r} event: value must be a number, got {value!r}")
        return float(value)
    if name in ("values", "reference") and value is not None:
        if not isinstance(value, list) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in value
        ):
            raise EventFormatError(
                f"{cls.kind!r} event: {name} must be a list of numbers, got {value!r}"
            )
        return tuple(float(x) for x in value)
    if name == "constraints" and value is not None and not isinstance(value, Mapping):
        raise EventFormatError(f"{cls.kind!r} event: constraints must be a mapping, got {value!r}")
    if name == "source" and value is not None and not isinstance(value, str):
        raise EventFormatError(f"{cls.kind!r} event: source must be a string, got {value!r}")
    if name in ("params", "metrics", "space") and not isinstance(value, Mapping):
        raise EventFormatError(f"{cls.kind!r} event: {name} must be a mapping, got {value!r}")
    return value


def decode(record: Mapping[str, Any]) -> Event | None:
    """The event of a journal record; ``None`` for a kind this version does not know.

    Raises :class:`EventFormatError` for a record of a known kind that is malformed.
    """
    cls = _KINDS.get(record.get("e"))  # type: ignore[arg-type]
    if cls is None:
        return None
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in record:
            kwargs[f.name] = _check(cls, f.name, record[f.name])
        elif f.name in ("id", "name", "direction", "metric", "space") or (
            (f.name == "step" and cls is Reported) or (cls is Enqueued and f.name == "params")
        ):
            raise EventFormatError(f"{cls.kind!r} event without {f.name!r}")
    event: Event = cls(**kwargs)
    return event
