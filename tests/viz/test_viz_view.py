"""StudyView: the read-only, incremental view of a study folder that plots and the dashboard read."""

from __future__ import annotations

from pathlib import Path

import pytest

from parabo import Study
from parabo.exceptions import ConfigError, StorageError
from parabo.storage.journal import JOURNAL_FILE, encode_event
from parabo.view import StudyView, snapshot

SPACE = {"x": {"type": "float", "low": 0, "high": 1}}


def test_follows_a_live_study_reading_each_byte_once(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    study = Study(SPACE, storage=folder, seed=0)
    view = StudyView(folder)
    journal = folder / JOURNAL_FILE
    assert view.bytes_read == journal.stat().st_size and view.n_trials == 0
    trials = [study.ask() for _ in range(3)]
    assert view.refresh() == 3 and view.n_running == 3
    study.tell(trials[0], 0.5)
    study.tell(trials[1], error="boom")
    assert view.refresh() == 2
    assert (view.n_complete, view.n_failed, view.n_running) == (1, 1, 1)
    assert view.refresh() == 0  # nothing new: nothing read
    assert view.bytes_read == journal.stat().st_size
    snap = view.snapshot()
    study.tell(trials[2], 0.1)
    view.refresh()
    assert [t.state.value for t in snap.trials] == ["complete", "failed", "running"]  # a copy
    assert view.snapshot().best is not None and view.snapshot().best.id == 2  # type: ignore[union-attr]
    study.close()


def test_a_line_being_written_waits_for_its_newline(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    study = Study(SPACE, storage=folder, seed=0)
    trial = study.ask()
    study.close()
    view = StudyView(folder)
    line = encode_event({"e": "done", "id": trial.id, "value": 1.0, "t": 1.0})
    with open(folder / JOURNAL_FILE, "ab") as f:
        f.write(line[:-5])
        f.flush()
        assert view.refresh() == 0 and view.n_complete == 0
        f.write(line[-5:])
    assert view.refresh() == 1 and view.n_complete == 1


def test_same_trials_as_the_study_replay(quickstart_study: Path) -> None:
    loaded = Study.load(quickstart_study)
    snap = snapshot(quickstart_study)
    assert [t.id for t in snap.history] == [t.id for t in loaded.history]
    assert snap.best is not None and loaded.best is not None and snap.best.id == loaded.best.id
    assert snapshot(loaded).trials == snap.trials


def test_view_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a study folder"):
        StudyView(tmp_path)
    (tmp_path / JOURNAL_FILE).write_bytes(encode_event({"e": "ask", "id": 0}))
    with pytest.raises(StorageError, match="does not start with a study header"):
        StudyView(tmp_path)
    with pytest.raises(ConfigError, match="expected a Study"):
        snapshot(42)  # type: ignore[arg-type]


def test_a_replaced_journal_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    study = Study(SPACE, storage=folder, seed=0)
    study.tell(study.ask(), 1.0)
    study.close()
    view = StudyView(folder)
    journal = folder / JOURNAL_FILE
    journal.write_bytes(journal.read_bytes()[:100])
    with pytest.raises(StorageError, match="shorter .* than what was read"):
        view.refresh()
    journal.unlink()
    with pytest.raises(StorageError, match="is gone"):
        view.refresh()
