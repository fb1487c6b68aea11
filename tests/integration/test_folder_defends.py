"""The study folder defends itself: a journal or lock removed, replaced or emptied under a live
coordinator stops the run with an error (never exit 0), a second coordinator is never let in, a
journal that does not know the trial folders beside it is refused, a full disk stops with one line
and leaves a journal that resumes."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parabo import Study
from parabo.exceptions import StorageError
from parabo.storage.journal import decode_line

ROOT = Path(__file__).resolve().parents[2]
SPACE = {"x": {"type": "float", "low": 0, "high": 1}}

STUDY = """
name: guarded
space:
  x: {type: float, low: -5, high: 10}
  sleep: {type: fixed, value: 0.05}
objective:
  python: helpers_objectives:slow_quadratic
sampler: random
seed: 0
run: {trials: TRIALS, workers: 2, backend: thread}
storage: out
"""


def _study_file(tmp_path: Path, trials: int = 400) -> Path:
    (tmp_path / "helpers_objectives.py").write_text(
        (ROOT / "tests" / "helpers_objectives.py").read_text()
    )
    path = tmp_path / "study.yaml"
    path.write_text(STUDY.replace("TRIALS", str(trials)))
    return path


def _start(study: Path, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "parabo.cli", "run", str(study), "-q"],
        cwd=study.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        **kw,  # type: ignore[call-overload]
    )


def _wait_for_done(journal: Path, n: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b'"e":"done"') >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    pytest.fail("the run did not get going")


def _valid_lines(journal: Path) -> list[dict[str, object]]:
    data = journal.read_bytes()
    assert data.endswith(b"\n")  # no torn tail
    events = [decode_line(line) for line in data.splitlines(keepends=True)]
    assert all(e is not None for e in events)
    return events  # type: ignore[return-value]


# ------------------------------------------------------------------ the Python API


def test_removed_journal_stops_the_next_tell_and_is_saved_beside(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    study = Study(SPACE, sampler="random", seed=0, storage=folder)
    for _ in range(3):
        t = study.ask()
        study.tell(t, t.params["x"])
    (folder / "journal.jsonl").unlink()
    t = study.ask  # the next call that records an event refuses
    with pytest.raises(StorageError, match="removed while the study was open") as info:
        t()
    saved = next(folder.glob("journal.jsonl.saved-*"))
    assert str(saved) in str(info.value)
    study.close()
    saved.rename(folder / "journal.jsonl")
    with Study(SPACE, sampler="random", seed=0, storage=folder) as again:
        assert again.n_complete == 3  # everything told before the removal is back


def test_truncated_journal_stops_the_study(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    study = Study(SPACE, sampler="random", seed=0, storage=folder)
    t = study.ask()
    study.tell(t, 0.5)
    os.truncate(folder / "journal.jsonl", 0)
    with pytest.raises(StorageError, match="truncated"):
        study.ask()
    study.close()


def test_emptied_journal_beside_trial_folders_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    for i in range(3):
        (folder / "trials" / f"{i:06d}").mkdir(parents=True)
    (folder / "journal.jsonl").write_bytes(b"")
    with pytest.raises(StorageError, match="does not know") as info:
        Study(SPACE, storage=folder)
    assert "ids 0, 1, 2" in str(info.value) and "records none" in str(info.value)
    Study(SPACE, storage=folder / "elsewhere").close()  # the lock was released on the way out
    shutil.rmtree(folder / "trials")
    Study(SPACE, storage=folder).close()  # with the folders moved away it starts over


def test_folder_lock_holds_when_the_lock_file_is_deleted(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from parabo import Study; "
            f"s = Study({SPACE!r}, storage=sys.argv[1]); print('ok', flush=True); time.sleep(60)",
            str(folder),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        (folder / "lock").unlink()
        from parabo.exceptions import StudyLockedError

        with pytest.raises(StudyLockedError):
            Study(SPACE, storage=folder)
    finally:
        holder.kill()
        holder.wait()
    Study(SPACE, storage=folder).close()  # the holder gone, the folder is free again


# ------------------------------------------------------------------ parabo run


@pytest.mark.parametrize("what", ["journal", "lock", "folder"])
def test_run_stops_with_an_error_when_its_files_are_removed(tmp_path: Path, what: str) -> None:
    study = _study_file(tmp_path)
    out = tmp_path / "out"
    proc = _start(study)
    _wait_for_done(out / "journal.jsonl", 5, proc)
    if what == "journal":
        (out / "journal.jsonl").unlink()
    elif what == "lock":
        (out / "lock").unlink()  # (a second coordinator is refused anyway: see above)
    else:
        # the running coordinator may add a trial folder while rmtree walks the tree: try again
        for _ in range(100):
            try:
                shutil.rmtree(out)
                break
            except OSError:
                time.sleep(0.01)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert {"journal": "was removed", "lock": "lock file", "folder": "removed"}[what] in err
    if what == "journal":
        saved = next(out.glob("journal.jsonl.saved-*"))
        saved.rename(out / "journal.jsonl")
        done = [e for e in _valid_lines(out / "journal.jsonl") if e["e"] == "done"]
        assert len(done) >= 5  # the record made before the removal survives in the copy


def _limit_file_size(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_full_disk_stops_with_one_line_and_a_journal_that_resumes(tmp_path: Path) -> None:
    study = _study_file(tmp_path, trials=60)
    out = tmp_path / "out"
    # every file the run writes is capped: the journal fills up after a few dozen events
    proc = _start(study, preexec_fn=lambda: _limit_file_size(6000))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "File too large" in err or "No space" in err, err
    events = _valid_lines(out / "journal.jsonl")  # whole events only
    assert any(e["e"] == "done" for e in events)
    rerun = _start(study)  # with room again, the same study resumes and finishes
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    done = [e for e in _valid_lines(out / "journal.jsonl") if e["e"] == "done"]
    assert len(done) == 60 and len({e["id"] for e in done}) == 60
