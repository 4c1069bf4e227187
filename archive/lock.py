"""One writer at a time per archive directory: an exclusive, non-blocking lock file.

The lock is ``fcntl.flock`` on ``<directory of archive.db>/.hotline.lock``. The file holds
the holder's pid, start time and command (JSON), for the message a refused run prints. The
kernel drops a flock when its process ends, however it ends: a run killed with SIGKILL
leaves the file behind with a dead pid in it, but not the lock, and the next run takes it.
The file is never deleted: a process that still had the old file open would hold a lock on
a name nobody else sees.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)

LOCK_NAME = ".hotline.lock"


@dataclass(frozen=True)
class LockHolder:
    """Who holds an archive's lock, as written in the lock file (None when unreadable)."""

    pid: int | None
    started: str | None
    command: str | None


class ArchiveLocked(Exception):
    """Another process holds the archive's lock."""

    def __init__(self, path: Path, holder: LockHolder) -> None:
        self.path = path
        self.holder = holder
        pid = holder.pid if holder.pid is not None else "unknown"
        started = holder.started or "unknown"
        super().__init__(
            f"another {holder.command or 'refresh'} (pid {pid}, started {started}) holds {path};"
            " try again later"
        )


def lock_path(db_path: Path) -> Path:
    """The lock file of the archive whose database is ``db_path``."""
    return Path(db_path).resolve().parent / LOCK_NAME


def _read_holder(fd: int) -> LockHolder:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw.decode("utf-8"))
        return LockHolder(data.get("pid"), data.get("started"), data.get("command"))
    except (OSError, ValueError, AttributeError):
        # Empty while the holder is still writing it, or not ours: the refusal stands anyway.
        return LockHolder(None, None, None)


class ArchiveLock:
    """The exclusive lock of one archive directory (a context manager; not re-entrant)."""

    def __init__(self, db_path: Path, command: str = "refresh") -> None:
        self.path = lock_path(db_path)
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> ArchiveLock:
        """Take the lock at once or raise ArchiveLocked naming the holder; never waits."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this process")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise ArchiveLocked(self.path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        started = datetime.now(UTC).isoformat(timespec="seconds")
        record = {"pid": os.getpid(), "started": started, "command": self.command}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8"), 0)
        self._fd = fd
        logger.debug("locked %s", self.path)
        return self

    def release(self) -> None:
        """Give the lock back (emptying the file first, so it names no one)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        logger.debug("unlocked %s", self.path)

    def __enter__(self) -> ArchiveLock:
        # ``with ArchiveLock(path).acquire():`` is allowed: the lock is then already taken.
        return self if self._fd is not None else self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def lock_holder(db_path: Path) -> LockHolder | None:
    """Who holds the archive's lock now; None when it is free (probes it, creates no file)."""
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            # A shared lock is refused only while someone holds the exclusive one.
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
