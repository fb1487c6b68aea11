from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parabo import StorageError, Study, StudyLockedError
from parabo.storage import FileJournal, MemoryJournal
from parabo.storage.journal import decode_line, encode_event

SPACE = {"x": {"type": "float", "low": -5, "high": 10}}


def test_lines_carry_a_checksum(tmp_path: Path) -> None:
    j = FileJournal(tmp_path / "j")
    j.append({"e": "a", "n": 1})
    j.append({"e": "b", "text": "ünï ✓"})
    j.commit(sync=True)
    j.close()
    data = (tmp_path / "j").read_bytes().splitlines(keepends=True)
    assert [decode_line(line) for line in data] == [{"e": "a", "n": 1}, {"e": "b", "text": "ünï ✓"}]
    flipped = data[0].replace(b'"n":1', b'"n":2')
    assert decode_line(flipped) is None


def test_torn_last_line_is_cut_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_bytes(encode_event({"e": "a"}) + encode_event({"e": "b"})[:-5])
    j = FileJournal(path)
    read = j.read()
    assert read.events == [{"e": "a"}]
    assert read.repaired and "torn" in read.repaired
    j.append({"e": "c"})
    j.close()
    assert FileJournal(path, writable=False).read().events == [{"e": "a"}, {"e": "c"}]


def test_read_only_open_does_not_cut(tmp_path: Path) -> None:
    path = tmp_path / "j"
    content = encode_event({"e": "a"}) + b"0000 garbage"
    path.write_bytes(content)
    read = FileJournal(path, writable=False).read()
    assert read.events == [{"e": "a"}] and "ignored" in (read.repaired or "")
    assert path.read_bytes() == content


def test_corrupt_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_bytes(encode_event({"e": "a"}) + b"deadbeef {}\n" + encode_event({"e": "b"}))
    with pytest.raises(StorageError, match="line 2"):
        FileJournal(path).read()


def test_second_coordinator_is_refused_with_the_holder(folder: Path) -> None:
    with Study(SPACE, storage=folder), pytest.raises(StudyLockedError, match=f"pid {os.getpid()}"):
        Study(SPACE, storage=folder)


def test_stale_lock_of_a_dead_process_is_taken_over(folder: Path) -> None:
    code = (
        "import sys, time; from parabo import Study; "
        f"s = Study({SPACE!r}, storage=sys.argv[1]); print('locked', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(StudyLockedError, match=f"pid {proc.pid}"):
            Study(SPACE, storage=folder)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with Study(SPACE, storage=folder) as study:  # the kernel dropped the dead holder's lock
        assert study.trials == []


events = st.lists(
    st.tuples(
        st.sampled_from(["ask", "start", "done", "fail"]), st.integers(0, 5), st.floats(-1e9, 1e9)
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(events, st.integers(0, 400))
def test_replay_equals_the_live_state_even_after_a_torn_tail(
    tmp_path_factory: pytest.TempPathFactory, script: list, cut: int
) -> None:
    """Whatever sequence of asks and tells happened, reopening gives the same trials."""
    folder = tmp_path_factory.mktemp("s")
    study = Study(SPACE, sampler="random", seed=1, storage=folder)
    for kind, index, value in script:
        pending = study.pending
        if kind == "ask" or not pending:
            study.ask()
        else:
            t = pending[index % len(pending)]
            if kind == "start":
                study.mark_started(t, worker="w")
            elif kind == "done":
                study.tell(t, value)
            else:
                study.tell(t, error="bad", reason="exception")
    study.commit(sync=True)
    live = study.trials
    study.close()
    again = Study(SPACE, sampler="random", seed=1, storage=folder)
    assert [(t.id, t.state, t.value, t.reason, dict(t.params)) for t in again.trials] == [
        (t.id, t.state, t.value, t.reason, dict(t.params)) for t in live
    ]
    again.close()
    # a crash mid-write: cut the file anywhere in the last line; the rest still replays
    path = folder / "journal.jsonl"
    data = path.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    if last > 0:
        path.write_bytes(data[: last + cut % max(1, len(data) - last)])
        with Study(SPACE, sampler="random", seed=1, storage=folder) as torn:
            assert len(torn.trials) >= len(live) - 1


def test_memory_journal_rejects_nan() -> None:
    j = MemoryJournal()
    with pytest.raises(ValueError):
        j.append({"v": float("nan")})
