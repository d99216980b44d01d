"""A lock per recorded run, held by the one process that works on the run.

A live run holds its run's lock from before it is recorded until it ends; `resume`
and `undo` hold the lock of the run they work on. A second process that asks for a
held lock is refused at once, with the holder's process id and what it is doing.

The lock is `flock` on a small file beside the journal, so the kernel releases it
however the holder ends, SIGKILL included: a killed run is never mistaken for a
live one, and a process id reused since is never mistaken for the holder. The file
holds the holder's pid and role for the refusal message only; it is removed when
the lock is released (a killed holder leaves it, unlocked, for the next one). A
lock file that is a symbolic link or belongs to another user is refused
(ConfigurationError). On a platform without `flock` (Windows) runs are not locked.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Self

from action_timeouts.errors import InUseError
from action_timeouts.journal_files import open_private

__all__ = ["RunLock"]

logger = logging.getLogger(__name__)


class RunLock:
    """The lock of one run; `role` says what the holder does ("running")."""

    def __init__(self, path: Path, run_id: str, role: str) -> None:
        self.path = path
        self.run_id = run_id
        self.role = role
        self._descriptor: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise InUseError naming the process that holds it."""
        if sys.platform == "win32":
            return
        descriptor = _locked_descriptor(self.path)
        if descriptor is None:
            raise InUseError(self._refusal())
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()} {self.role}\n".encode())
        self._descriptor = descriptor
        logger.debug("run %s locked (%s)", self.run_id, self.role)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Remove the lock file and let the lock go; safe to call twice."""
        descriptor, self._descriptor = self._descriptor, None
        if descriptor is None:
            return
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        finally:
            os.close(descriptor)
        logger.debug("run %s unlocked", self.run_id)

    def _refusal(self) -> str:
        """Say who holds the run, as far as its lock file tells."""
        try:
            pid, _, role = self.path.read_text().strip().partition(" ")
        except OSError:
            pid, role = "", ""
        holder = f"process {pid}" if pid.isdigit() else "another process"
        doing = role or "still running"
        if doing == "running":
            doing = "still running"
        return f"run {self.run_id} is {doing} in {holder}; wait for it or stop it"


def _locked_descriptor(path: Path) -> int | None:
    """Open and flock the lock file; None when another process holds it.

    A holder removes the file before letting the lock go, so a lock taken on a
    file that is no longer at `path` is let go and taken again on the new file.
    """
    import fcntl

    while True:
        descriptor = open_private(path, "run lock file")
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(descriptor).st_ino:
            return descriptor
        os.close(descriptor)
