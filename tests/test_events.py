"""Typed journal events: encoding, decoding, and one replay for live and resumed studies."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parabo import StorageError, Study
from parabo.storage.events import (
    Asked,
    Completed,
    Enqueued,
    EventFormatError,
    Failed,
    ProcessStarted,
    Retried,
    Started,
    StudyCreated,
    decode,
    encode,
)
from parabo.storage.journal import JOURNAL_FILE, encode_event
from parabo.trial import FailReason, TrialState

SPACE = {"x": {"type": "float", "low": -5, "high": 10}}

EVENTS = [
    StudyCreated("s", "minimize", "loss", {"x": {"type": "float", "low": 0, "high": 1}}, 1.0),
    Asked(0, {"x": 0.5}, 2.0, 0.01),
    Asked(1, {"x": 0.25}, 2.0),
    Enqueued({"x": 0.75}, "initial", 1.5),
    Asked(2, {"x": 0.75}, 2.0, None, "initial"),
    Started(0, 3.0, "w1", 1),
    ProcessStarted(0, 1234, "host", "99"),
    Retried(0, 1, "boom", FailReason.CRASHED, 4.0),
    Completed(0, 0.5, {"loss": 0.5, "acc": 0.9}, 5.0, 3.0, "w1", reused=True),
    Failed(1, "nope", FailReason.TIMEOUT, 6.0, 5.5, "w2"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: f"{e.kind}-{EVENTS.index(e)}")
def test_every_event_round_trips(event: object) -> None:
    record = encode(event)  # type: ignore[arg-type]
    assert record["e"] == event.kind  # type: ignore[attr-defined]
    assert decode(record) == event


def test_a_sampler_suggestion_has_no_source_field_and_old_asks_read_as_suggestions() -> None:
    assert "source" not in encode(Asked(0, {"x": 0.5}, 2.0, 0.01))
    old = {"e": "ask", "id": 0, "params": {"x": 0.5}, "t": 2.0}  # written before sources existed
    assert decode(old) == Asked(0, {"x": 0.5}, 2.0, None, None)
    with pytest.raises(EventFormatError, match="source must be a string"):
        decode({**old, "source": 3})
    with pytest.raises(EventFormatError, match="without 'params'"):
        decode({"e": "queue", "source": "enqueue"})


def test_unknown_kinds_are_skipped_and_malformed_ones_named() -> None:
    assert decode({"e": "note", "text": "from a newer parabo"}) is None
    with pytest.raises(EventFormatError, match="'done' event: value must be a number"):
        decode({"e": "done", "id": 1, "value": "x"})
    with pytest.raises(EventFormatError, match="without 'id'"):
        decode({"e": "ask", "params": {}})
    assert decode({"e": "fail", "id": 0, "reason": "a word from the future"}) == Failed(
        0, reason=FailReason.EXCEPTION
    )


def test_a_malformed_event_in_a_study_folder_is_reported_with_its_line(tmp_path: Path) -> None:
    with Study(SPACE, sampler="random", seed=0, storage=tmp_path / "s") as study:
        study.tell(study.ask(), 1.0)
    with open(tmp_path / "s" / JOURNAL_FILE, "ab") as f:
        f.write(encode_event({"e": "done", "id": 0, "value": [1]}))
    with pytest.raises(StorageError, match="malformed event at line 4"):
        Study(SPACE, sampler="random", seed=0, storage=tmp_path / "s")


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 6))
def test_replayed_history_equals_the_live_one(
    tmp_path_factory: pytest.TempPathFactory, rnd: random.Random, inflight: int
) -> None:
    """Trials told out of order, some failed, one interrupted: the reopened study holds the same state."""
    folder = tmp_path_factory.mktemp("s") / "study"
    with Study(SPACE, sampler="random", seed=1, storage=folder) as live:
        pending = live.ask(inflight)
        for _ in range(12):
            t = pending.pop(rnd.randrange(len(pending)))
            live.mark_started(t, worker=f"w{rnd.randrange(3)}")
            roll = rnd.random()
            if roll < 0.2:
                live.tell(t, error="crash", reason="crashed")
            elif roll < 0.3:
                live.tell(t, float("nan"))  # an invalid result fails the trial
            else:
                live.tell(t, rnd.uniform(-1, 1))
            pending += live.ask(1)
        live.tell(pending[0], error="stopped", reason=FailReason.INTERRUPTED)
        live_history = live.history
        live_trials = live.trials
        live_best = live.best
    again = Study.load(folder)
    assert again.history == live_history  # same trials, same (finish) order
    assert again.best == live_best
    # the interrupted trial and the ones never told are pending again, to run on resume
    assert {t.id for t in again.interrupted} == {
        t.id for t in live_trials if not t.state.finished
    } | {pending[0].id}
    assert all(t.state is TrialState.RUNNING for t in again.interrupted)
    assert [t.id for t in again.trials] == [t.id for t in live_trials]
