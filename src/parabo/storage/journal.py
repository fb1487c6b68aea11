"""The study journal: an append-only file of records, one per line, each with a checksum.

A line is ``CRC32 JSON\\n`` where ``CRC32`` is the 8-hex-digit CRC-32 of the
JSON text. The records are the encoded events of :mod:`parabo.storage.events`;
this layer only stores and checks them. Only the coordinator writes; records are
buffered by :meth:`FileJournal.append` and written by :meth:`FileJournal.commit`,
which fsyncs when asked. The write itself happens at once — it survives a crash of
the coordinator — while the fsync, which guards against a power cut and costs
milliseconds, runs on a background thread so that it never delays handing the
next trial to a free worker. :meth:`FileJournal.close` and :meth:`FileJournal.flush`
wait for it.

On open, a last line without its newline (a write cut short by a crash) is cut
off and reported. Any complete line whose checksum or format is wrong means the
file was damaged some other way: reading stops with a :class:`StorageError`
naming the line, and ``parabo repair STUDY`` (:mod:`parabo.storage.repair`) keeps
every valid line and sets the damaged ones aside.
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
from parabo.storage.lock import file_change

__all__ = [
    "FileJournal",
    "Journal",
    "JournalReader",
    "MemoryJournal",
    "ReadResult",
    "decode_line",
    "encode_event",
]

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

    def commit(self, sync: bool = False, wait: bool = False) -> None: ...

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

    def commit(self, sync: bool = False, wait: bool = False) -> None:
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
        self._size = 0  # bytes of the file this journal has seen or written
        self._broken: str | None = None  # once set, every later commit raises it
        if writable:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            except OSError as exc:
                raise StorageError(f"cannot open the journal {self.path}: {exc.strerror}") from exc
            self._size = os.fstat(self._fd).st_size

    def read(self) -> ReadResult:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return ReadResult([])
        except OSError as exc:
            raise StorageError(f"cannot read the journal {self.path}: {exc.strerror}") from exc
        events: list[dict[str, Any]] = []
        repaired = None
        for number, offset, line in _scan(data):
            if not line.endswith(b"\n"):
                # the last line, cut short by a crash in the middle of a write
                repaired = (
                    f"the last line of the journal {self.path} (line {number}, {len(line)} bytes) "
                    "was torn by a crash and has been removed"
                )
                if self.writable:
                    assert self._fd is not None
                    os.ftruncate(self._fd, offset)
                    os.fsync(self._fd)
                    self._size = offset
                else:
                    repaired = repaired.replace("has been removed", "is ignored")
                break
            event = decode_line(line)
            if event is None:
                raise StorageError(damaged_message(self.path, number))
            events.append(event)
        return ReadResult(events, repaired)

    def append(self, event: dict[str, Any]) -> None:
        if not self.writable:
            raise StorageError(f"the journal {self.path} is open read-only")
        try:
            self._buffer.append(encode_event(event))
        except (TypeError, ValueError) as exc:
            raise StorageError(f"cannot record event {event.get('e')!r}: {exc}") from exc

    def commit(self, sync: bool = False, wait: bool = False) -> None:
        """Write buffered events; with ``sync``, also fsync so they survive a power cut.

        The fsync runs on a background thread (the next commit reports its failure)
        unless ``wait``: then it is done when this returns.

        Raises:
            StorageError: the journal file was removed, replaced or truncated
                behind this process's back, or a write failed (e.g. a full disk;
                the file is cut back to its last complete event first).
        """
        if self._fd is None:
            return
        if self._broken is not None:
            raise StorageError(self._broken)
        self.check()
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer.clear()
            self._write(data)
        if self._sync_error is not None:
            err, self._sync_error = self._sync_error, None
            self._broken = f"cannot fsync the journal {self.path}: {err.strerror}"
            raise StorageError(self._broken) from err
        if sync:
            if wait or not self._background:
                try:
                    os.fsync(self._fd)
                except OSError as exc:
                    self._broken = f"cannot fsync the journal {self.path}: {exc.strerror}"
                    raise StorageError(self._broken) from exc
                return
            if self._syncer is None:
                self._syncer = threading.Thread(
                    target=self._sync_loop, name="parabo-journal-fsync", daemon=True
                )
                self._syncer.start()
            self._requested += 1
            self._sync_wanted.set()

    @property
    def broken(self) -> str | None:
        """Why this journal stopped taking events (it was removed, replaced or is full), if it did."""
        return self._broken

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
                self._size += written
        except OSError as exc:
            # keep the file a sequence of whole events: cut the part of this write that landed
            kept = self._size - (len(data) - len(view))
            try:
                os.ftruncate(self._fd, kept)
                self._size = kept
            except OSError:
                pass  # the torn tail (no newline) is dropped when the journal is next opened
            self._broken = (
                f"cannot write the journal {self.path}: {exc.strerror}; the run stops and the "
                "journal keeps every event written before this one (free space and run again "
                "to resume)"
            )
            raise StorageError(self._broken) from None

    def check(self) -> None:
        """Raise :class:`StorageError` if the journal file was removed, replaced or cut short.

        Whatever this process wrote is still readable through its open file, so a
        removed or replaced journal is saved beside it (``journal.jsonl.saved-<pid>``)
        before the error, when the folder still exists.
        """
        if self._fd is None:
            return
        try:
            change = file_change(self.path, self._fd)
        except OSError as exc:
            raise StorageError(f"cannot read the journal {self.path}: {exc.strerror}") from exc
        if change is None:
            size = os.fstat(self._fd).st_size
            if size < self._size:
                self._broken = (
                    f"the journal {self.path} was truncated while the study was open "
                    f"({size} bytes, {self._size} written): events already recorded "
                    "are gone from it. The run stops; restore the file from a backup, or "
                    "start again in a new folder"
                )
                raise StorageError(self._broken)
            return
        what = "removed" if change == "removed" else "replaced by another file"
        saved = self._save_copy()
        self._broken = (
            f"the journal {self.path} was {what} while the study was open; the run stops. "
            + (
                f"Everything recorded so far was saved to {saved}: move it back to "
                f"{self.path.name} to resume"
                if saved is not None
                else "Its record could not be saved (the study folder is gone)"
            )
        )
        raise StorageError(self._broken)

    def _save_copy(self) -> Path | None:
        """Copy what this process's open journal holds next to its path."""
        assert self._fd is not None
        target = self.path.with_name(f"{self.path.name}.saved-{os.getpid()}")
        try:
            data = os.pread(self._fd, self._size, 0)
            tmp = target.with_name(target.name + ".tmp")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except OSError:
            return None
        return target

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
                if self._broken is not None:
                    self._buffer.clear()
                    return
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


def damaged_message(path: Path, number: int) -> str:
    """The error for a damaged line ``number`` of the journal at ``path``."""
    return (
        f"the journal {path} is damaged at line {number} (its checksum or format does not "
        "match, and it is a complete line, so this is not a write cut short by a crash). "
        f"Run `parabo repair {path.parent}` to keep every valid line and set the damaged ones "
        "aside, or restore the file from a backup."
    )


class JournalReader:
    """Read a journal incrementally, safe while its coordinator appends to it.

    Each :meth:`poll` returns the records of the complete lines written since the
    last one (a line still being written is left for the next poll), so a reader
    that follows a running study never reads the file twice.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.offset = 0
        self.lines = 0

    def poll(self) -> list[dict[str, Any]]:
        """Records appended since the last call; raises StorageError on a damaged line."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StorageError(f"cannot read the journal {self.path}: {exc.strerror}") from exc
        records: list[dict[str, Any]] = []
        for _, _, line in _scan(data):
            if not line.endswith(b"\n"):
                break
            record = decode_line(line)
            if record is None:
                raise StorageError(damaged_message(self.path, self.lines + 1))
            records.append(record)
            self.lines += 1
            self.offset += len(line)
        return records
