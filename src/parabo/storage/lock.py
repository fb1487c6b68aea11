"""A lock on a study folder so that only one live coordinator writes it.

The lock is an exclusive ``flock`` on ``<folder>/lock``. The kernel drops it
when the holding process dies, however it dies, so a stale lock left by a
crashed coordinator is taken over without any clean-up. The file records the
holder's pid, host and start time for the error message.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from parabo.exceptions import StorageError, StudyLockedError

__all__ = ["StudyLock"]

LOCK_FILE = "lock"


class StudyLock:
    """Hold the lock of ``folder`` from :meth:`acquire` until :meth:`release`."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError(f"cannot create the lock file {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
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
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
