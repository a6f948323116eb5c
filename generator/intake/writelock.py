"""The data folder's writer lock: held by every web save and by `gaizao backup`, so that a backup
never reads a project file half way between a save and its audit record.

A lock file in the data folder, locked with the operating system's file lock (flock on POSIX,
msvcrt on Windows): it holds between processes, the server and the command line alike, and it is
given back by the system when a process dies, so no stale lock is left behind.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from generator.output.oslock import lock_exclusive, unlock

LOCK_FILE = ".gaizao-write.lock"


class WriteLock:
    """The writer lock of one data folder: a thread lock within this process, the file lock between processes."""

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_FILE
        self._threads = threading.Lock()
        self._file: IO[Any] | None = None

    def __enter__(self) -> WriteLock:
        self._threads.acquire()
        try:
            # "a": made when missing, never emptied; nothing is ever written in it.
            self._file = open(self.path, "a")  # noqa: SIM115 - held until __exit__
        except OSError:
            # A folder this process cannot write in: nothing here can write to it either, and a
            # backup of it needs no lock from us.
            self._file = None
            return self
        try:
            lock_exclusive(self._file, blocking=True)
        except BaseException:
            self._file.close()
            self._file = None
            self._threads.release()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self._file is not None:
                unlock(self._file)
                self._file.close()
                self._file = None
        finally:
            self._threads.release()
