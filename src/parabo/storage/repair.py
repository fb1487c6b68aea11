"""``parabo repair``: keep every valid line of a damaged journal, set the others aside.

A complete line whose checksum does not match stops the study (only a torn last line,
cut short by a crash, is dropped on its own). Repair keeps the valid lines, moves the
damaged ones to ``journal.damaged-<n>.jsonl``, says what each seems to have recorded, and
puts a ``lost`` event where a trial's ``ask`` went, so trial ids stay contiguous.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parabo.exceptions import StorageError
from parabo.storage.journal import _scan, decode_line, encode_event

__all__ = ["RepairReport", "repair_journal"]


@dataclass(frozen=True)
class RepairReport:
    """What :func:`repair_journal` did: lines kept, line numbers set aside, and where."""

    kept: int
    damaged: list[int]
    torn: bool
    aside: Path | None
    #: what each damaged line seems to have recorded (best effort: the bytes are damaged)
    lost: list[str] = field(default_factory=list)
    #: trials whose ``ask`` was lost: recorded as failed with reason ``lost``
    marked: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.damaged and not self.torn:
            return f"the journal is sound: {self.kept} lines, nothing to repair"
        parts = [f"kept {self.kept} valid lines"]
        if self.damaged:
            lines = ", ".join(map(str, self.damaged[:20])) + (
                " ..." if len(self.damaged) > 20 else ""
            )
            parts.append(f"set {len(self.damaged)} damaged line(s) aside ({lines}) in {self.aside}")
        if self.torn:
            parts.append("dropped a torn last line")
        if self.lost:
            parts.append(
                "lost: " + ", ".join(self.lost[:20]) + (" ..." if len(self.lost) > 20 else "")
            )
        if self.marked:
            ids = ", ".join(map(str, self.marked[:20])) + (" ..." if len(self.marked) > 20 else "")
            parts.append(
                f"trials {ids} lost their parameters: recorded as failed (reason 'lost'), "
                "unseen by the sampler"
            )
        return "; ".join(parts)


_WHAT = {
    "ask": "the suggestion",
    "start": "the start",
    "proc": "a process record",
    "retry": "a retry",
    "done": "the result",
    "fail": "the failure",
    "study": "the study header",
}


def _guess(line: bytes) -> str:
    """What a damaged line seems to have recorded, from the parts of it still legible."""
    kind = re.search(rb'"e"\s*:\s*"(\w+)"', line)
    ident = re.search(rb'"id"\s*:\s*(\d+)', line)
    what = _WHAT.get(kind.group(1).decode(), "an event") if kind else "an event"
    return f"{what} of trial {int(ident.group(1))}" if ident else what


def _mark_lost_asks(lines: list[bytes]) -> tuple[list[bytes], list[int]]:
    """Put a ``lost`` event where a trial's ``ask`` line is missing, so ids stay contiguous.

    Returns the lines and the ids marked lost. A missing ``ask`` of the last trials that no
    later event mentions needs no mark: those trials simply never existed.
    """
    records = [decode_line(line) for line in lines]
    asked = {r["id"] for r in records if r and r.get("e") == "ask" and isinstance(r.get("id"), int)}
    mentioned = [r["id"] for r in records if r and isinstance(r.get("id"), int)]
    top = max(mentioned, default=-1)
    missing = sorted(set(range(top + 1)) - asked)
    if not missing:
        return lines, []
    out: list[bytes] = []
    todo = list(missing)
    last_t: Any = None
    for line, record in zip(lines, records, strict=True):
        if record and record.get("e") == "ask" and isinstance(record.get("id"), int):
            while todo and todo[0] < record["id"]:
                out.append(encode_event({"e": "lost", "id": todo.pop(0), "t": last_t}))
        if record and isinstance(record.get("t"), (int, float)):
            last_t = record["t"]
        # an event of a lost trial before any later ask (e.g. its result): mark it first
        if record and todo and record.get("id") == todo[0] and record.get("e") != "ask":
            out.append(encode_event({"e": "lost", "id": todo.pop(0), "t": last_t}))
        out.append(line)
    out += [encode_event({"e": "lost", "id": i, "t": last_t}) for i in todo]
    return out, missing


def repair_journal(path: str | os.PathLike[str]) -> RepairReport:
    """Keep every valid line of a journal, move the damaged ones to a file beside it.

    The journal is replaced atomically; the damaged lines go to
    ``journal.damaged-<n>.jsonl`` in the same folder (never overwritten). The caller
    holds the study's lock.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise StorageError(f"cannot read the journal {p}: {exc.strerror}") from exc
    good: list[bytes] = []
    bad: list[bytes] = []
    numbers: list[int] = []
    lost: list[str] = []
    torn = False
    for number, _, line in _scan(data):
        if not line.endswith(b"\n"):
            torn = True
            bad.append(line + b"\n")
            numbers.append(number)
        elif decode_line(line) is None:
            bad.append(line)
            numbers.append(number)
            lost.append(f"line {number}: {_guess(line)}")
        else:
            good.append(line)
    damaged = numbers[:-1] if torn else numbers
    if not bad:
        return RepairReport(len(good), [], False, None)
    kept = len(good)
    good, marked = _mark_lost_asks(good)
    n = 1
    while (p.parent / f"{p.stem}.damaged-{n}.jsonl").exists():
        n += 1
    aside = p.parent / f"{p.stem}.damaged-{n}.jsonl"
    try:
        aside.write_bytes(b"".join(bad))
        tmp = p.with_name(f".{p.name}.repair")
        with open(tmp, "wb") as f:
            f.write(b"".join(good))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except OSError as exc:
        raise StorageError(f"cannot repair the journal {p}: {exc.strerror}") from exc
    return RepairReport(kept, damaged, torn, aside, lost, marked)
