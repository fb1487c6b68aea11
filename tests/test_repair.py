"""A damaged journal line is reported with its number; `parabo repair` keeps every valid line,
sets the damaged ones aside, says what was lost, and the study resumes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from parabo import Study
from parabo.cli import cli
from parabo.exceptions import StorageError

SPACE = {"x": {"type": "float", "low": 0, "high": 1}}


def _study(folder: Path, n: int = 4) -> list[bytes]:
    with Study(SPACE, sampler="random", seed=0, storage=folder) as study:
        for _ in range(n):
            t = study.ask()
            study.tell(t, t.params["x"])
    return (folder / "journal.jsonl").read_bytes().splitlines(keepends=True)


def _flip(folder: Path, number: int) -> None:
    """Flip one bit of line ``number``'s checksum (from 1), keeping its newline."""
    path = folder / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    line = bytearray(lines[number - 1])
    line[0] ^= 0x01  # still one complete line, its checksum no longer matches
    lines[number - 1] = bytes(line)
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize("where", ["middle", "last"])
def test_damaged_line_is_refused_then_repaired(tmp_path: Path, where: str) -> None:
    folder = tmp_path / "s"
    lines = _study(folder)
    number = len(lines) if where == "last" else 4  # line 4: the first trial's result
    _flip(folder, number)
    # a complete line with a bad checksum is never taken for a torn write, even the last one
    with pytest.raises(StorageError, match=f"line {number}"):
        Study(SPACE, sampler="random", seed=0, storage=folder)
    status = CliRunner().invoke(cli, ["status", str(folder)])
    assert status.exit_code == 1 and f"line {number}" in status.output
    assert "parabo repair" in status.output

    repaired = CliRunner().invoke(cli, ["repair", str(folder)])
    assert repaired.exit_code == 0, repaired.output
    assert f"kept {len(lines) - 1} valid lines" in repaired.output
    assert "lost: line" in repaired.output and "of trial" in repaired.output
    aside = folder / "journal.damaged-1.jsonl"
    assert aside.read_bytes().count(b"\n") == 1  # the damaged line, kept for a person to read
    with Study(SPACE, sampler="random", seed=0, storage=folder) as study:
        assert study.n_complete == 3  # every other result is there
        if where == "middle":  # trial 1's ask was lost: failed, reason lost, unseen by samplers
            assert "trials 1 lost their parameters" in repaired.output
            assert study.trials[1].reason == "lost" and study.trials[1].params == {}
            assert [t.id for t in study.history] == [0, 2, 3]
        else:  # trial 3's result was lost: it runs again
            assert [t.id for t in study.interrupted] == [3]
        study.tell(study.ask(), 0.5)  # and the study goes on
    again = CliRunner().invoke(cli, ["repair", str(folder)])
    assert "nothing to repair" in again.output


def test_repair_takes_the_study_file_and_refuses_a_non_study(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["repair", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "not a study folder" in result.output
    (tmp_path / "o.py").write_text("def f(p):\n    return p['x']\n")
    study_file = tmp_path / "study.yaml"
    study_file.write_text(
        "space:\n  x: {type: float, low: 0, high: 1}\nobjective: {python: o:f}\nstorage: s\n"
    )
    _study(tmp_path / "s")
    result = CliRunner().invoke(cli, ["repair", str(study_file)])
    assert result.exit_code == 0 and "nothing to repair" in result.output, result.output
