"""A lock on a study folder so that only one live coordinator writes it.

The lock is an exclusive ``flock`` on the folder itself and on ``<folder>/lock``.
The kernel drops both when the holding process dies, however it dies, so a stale
lock left by a crashed coordinator is taken over without any clean-up. The file
records the holder's pid, host and start time for the error message. Because the
folder itself is locked, deleting the lock file does not let a second
coordinator in; :meth:`StudyLock.check` notices the deletion (or a replaced
folder) so the running coordinator stops instead of writing a record nobody
will read. (Where a file system cannot lock a folder, e.g. some NFS mounts,
only the file is locked.)
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from parabo.exceptions import StorageError, StudyLockedError

__all__ = ["StudyLock", "file_change"]

LOCK_FILE = "lock"


def file_change(path: Path, fd: int) -> str | None:
    """``"removed"`` or ``"replaced"`` if ``path`` is no longer the file open as ``fd``, else None."""
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return "removed"
    mine = os.fstat(fd)
    return None if (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino) else "replaced"


class StudyLock:
    """Hold the lock of ``folder`` from :meth:`acquire` until :meth:`release`."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / LOCK_FILE
        self._fd: int | None = None
        self._dir_fd: int | None = None
        self._dir_busy = False

    def acquire(self) -> None:
        """Take the lock or raise :class:`StudyLockedError` naming the holder."""
        dir_fd = self._lock_folder()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if dir_fd is not None:
                os.close(dir_fd)
            raise StorageError(f"cannot create the lock file {self.path}: {exc.strerror}") from exc
        try:
            if dir_fd is None and self._dir_busy:
                raise BlockingIOError
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if dir_fd is not None:
                os.close(dir_fd)
            holder = ""
            try:
                info = json.loads(os.read(fd, 4096) or b"{}")
                holder = (
                    f" (pid {info.get('pid')} on {info.get('host')}, since {info.get('since')})"
                )
            except (OSError, ValueError):
                pass
            os.close(fd)
            raise StudyLockedError(
                f"the study folder {self.path.parent} is in use by another running parabo "
                f"coordinator{holder}. Wait for it to finish or stop it, or use another "
                "--storage folder."
            ) from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        except OSError:
            pass  # e.g. a full disk: the holder's details are for messages only
        self._fd = fd
        self._dir_fd = dir_fd

    def _lock_folder(self) -> int | None:
        """Lock the folder itself; None where its file system cannot (then only the file is locked)."""
        self._dir_busy = False
        try:
            dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise StorageError(
                f"cannot open the study folder {self.path.parent}: {exc.strerror}"
            ) from exc
        try:
            fcntl.flock(dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._dir_busy = True
            os.close(dir_fd)
            return None
        except OSError:
            os.close(dir_fd)
            return None
        return dir_fd

    def check(self) -> None:
        """Raise :class:`StorageError` if the lock file or the folder was removed or replaced."""
        if self._fd is None:
            return
        what = file_change(self.path, self._fd)
        if what is not None:
            raise StorageError(
                f"the lock file {self.path} was {what} while this coordinator held it; "
                "the run stops so that two coordinators never write one study. "
                "Run it again to resume (nothing recorded so far is lost)"
            )
        if self._dir_fd is not None and file_change(self.path.parent, self._dir_fd) is not None:
            raise StorageError(
                f"the study folder {self.path.parent} was removed or replaced while the "
                "run was going; the run stops"
            )

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._dir_fd is not None:
            fcntl.flock(self._dir_fd, fcntl.LOCK_UN)
            os.close(self._dir_fd)
            self._dir_fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
