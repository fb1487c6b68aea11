"""The study journal: an append-only file of events, one per line, each with a checksum.

A line is ``CRC32 JSON\\n`` where ``CRC32`` is the 8-hex-digit CRC-32 of the
JSON text. Only the coordinator writes; events are buffered by :meth:`append`
and written by :meth:`commit`, which fsyncs when asked (the scheduler commits
once per batch of finished trials, so trials that finish together share one
fsync). The write itself happens at once — it survives a crash of the
coordinator — while the fsync, which guards against a power cut and costs
milliseconds, runs on a background thread so that it never delays handing the
next trial to a free worker. :meth:`close` and :meth:`flush` wait for it.

On open, a torn or corrupt *last* line (a crash in the middle of a write) is
cut off and reported; a corrupt line anywhere else means the file was damaged
some other way, and is a :class:`StorageError` naming the line.
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from parabo.exceptions import StorageError

__all__ = ["FileJournal", "Journal", "MemoryJournal", "ReadResult", "decode_line", "encode_event"]

JOURNAL_FILE = "journal.jsonl"


def encode_event(event: dict[str, Any]) -> bytes:
    """One journal line for ``event`` (a JSON-serializable dict)."""
    payload = json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    data = payload.encode("utf-8")
    return b"%08x " % zlib.crc32(data) + data + b"\n"


def decode_line(line: bytes) -> dict[str, Any] | None:
    """The event of one line, or ``None`` if the line is torn or corrupt."""
    if not line.endswith(b"\n") or len(line) < 11 or line[8:9] != b" ":
        return None
    data = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(data):
            return None
        event = json.loads(data)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


@dataclass(frozen=True)
class ReadResult:
    """Events read from a journal, and what was repaired (a message, or None)."""

    events: list[dict[str, Any]]
    repaired: str | None = None


class Journal(Protocol):
    """What the study needs from a journal: read everything, append, commit."""

    def read(self) -> ReadResult: ...

    def append(self, event: dict[str, Any]) -> None: ...

    def commit(self, sync: bool = False) -> None: ...

    def close(self) -> None: ...


class MemoryJournal:
    """A journal that keeps events in memory (``Study(storage=None)`` and tests)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def read(self) -> ReadResult:
        return ReadResult(list(self.events))

    def append(self, event: dict[str, Any]) -> None:
        encode_event(event)  # same validation as the file journal: JSON, no NaN
        self.events.append(event)

    def commit(self, sync: bool = False) -> None:
        pass

    def close(self) -> None:
        pass


def _scan(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(line number from 1, byte offset, line with its newline) for each line."""
    offset = 0
    number = 0
    while offset < len(data):
        end = data.find(b"\n", offset)
        end = len(data) if end < 0 else end + 1
        number += 1
        yield number, offset, data[offset:end]
        offset = end


class FileJournal:
    """A journal file in a study folder.

    Args:
        path: the journal file (created if missing).
        writable: open for appending (the coordinator) or only to read
            (``parabo status`` while a study runs: a torn last line is then
            skipped, not cut off).
    """

    def __init__(
        self, path: str | os.PathLike[str], writable: bool = True, background_sync: bool = True
    ) -> None:
        self.path = Path(path)
        self.writable = writable
        self._buffer: list[bytes] = []
        self._fd: int | None = None
        self._sync_wanted = threading.Event()
        self._sync_done = threading.Condition()
        self._synced = 0  # commits covered by a finished fsync
        self._requested = 0
        self._syncer: threading.Thread | None = None
        self._background = background_sync
        self._sync_error: OSError | None = None
        if writable:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            except OSError as exc:
                raise StorageError(f"cannot open the journal {self.path}: {exc.strerror}") from exc

    def read(self) -> ReadResult:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return ReadResult([])
        except OSError as exc:
            raise StorageError(f"cannot read the journal {self.path}: {exc.strerror}") from exc
        events: list[dict[str, Any]] = []
        lines = list(_scan(data))
        repaired = None
        for number, offset, line in lines:
            event = decode_line(line)
            if event is not None:
                events.append(event)
                continue
            if number != len(lines):
                raise StorageError(
                    f"the journal {self.path} is corrupt at line {number} (checksum or format "
                    "mismatch) and it is not the last line, so this is not a torn write. "
                    "Restore the file from a backup, or move it away to start a new study."
                )
            repaired = (
                f"the last line of the journal {self.path} (line {number}, {len(line)} bytes) "
                "was torn by a crash and has been removed"
            )
            if self.writable:
                assert self._fd is not None
                os.ftruncate(self._fd, offset)
                os.fsync(self._fd)
            else:
                repaired = repaired.replace("has been removed", "is ignored")
        return ReadResult(events, repaired)

    def append(self, event: dict[str, Any]) -> None:
        if not self.writable:
            raise StorageError(f"the journal {self.path} is open read-only")
        try:
            self._buffer.append(encode_event(event))
        except (TypeError, ValueError) as exc:
            raise StorageError(f"cannot record event {event.get('e')!r}: {exc}") from exc

    def commit(self, sync: bool = False) -> None:
        """Write buffered events; with ``sync``, also fsync so they survive a power cut."""
        if self._fd is None:
            return
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer.clear()
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        if self._sync_error is not None:
            err, self._sync_error = self._sync_error, None
            raise StorageError(f"cannot fsync the journal {self.path}: {err.strerror}") from err
        if sync:
            if not self._background:
                os.fsync(self._fd)
                return
            if self._syncer is None:
                self._syncer = threading.Thread(
                    target=self._sync_loop, name="parabo-journal-fsync", daemon=True
                )
                self._syncer.start()
            self._requested += 1
            self._sync_wanted.set()

    def _sync_loop(self) -> None:
        while True:
            self._sync_wanted.wait()
            self._sync_wanted.clear()
            target = self._requested
            fd = self._fd
            if fd is None:
                return
            try:
                os.fsync(fd)
            except OSError as exc:
                self._sync_error = exc
            with self._sync_done:
                self._synced = target
                self._sync_done.notify_all()

    def flush(self) -> None:
        """Write what is buffered and wait until it is on disk."""
        if self._fd is None:
            return
        self.commit(sync=False)
        if self._syncer is None:
            os.fsync(self._fd)
            return
        self._requested += 1
        target = self._requested
        self._sync_wanted.set()
        with self._sync_done:
            self._sync_done.wait_for(lambda: self._synced >= target, timeout=60)

    def close(self) -> None:
        if self._fd is not None:
            try:
                self.flush()
                if self._syncer is not None:
                    fd, self._fd = self._fd, None
                    self._sync_wanted.set()
                    self._syncer.join(timeout=60)
                    self._fd = fd
                assert self._fd is not None
                os.fsync(self._fd)
            finally:
                if self._fd is not None:
                    os.close(self._fd)
                self._fd = None
