"""An exclusive lock on an open file, shared between processes, on Windows and on POSIX systems alike."""

from __future__ import annotations

import errno
import importlib
import time
from typing import IO, Any

# Windows locks a byte range; one byte at the start of the file stands for the whole file.
_SPAN = 1
_WAIT = 0.05
"""Seconds between tries while waiting for a lock on Windows (msvcrt has no wait without a limit)."""


def _module(name: str) -> Any:
    """The platform module, or None where this system has none of that name (fcntl on Windows)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def lock_exclusive(file: IO[Any], blocking: bool = False) -> None:
    """Take the lock on an open file; BlockingIOError when another process holds it and blocking is False."""
    fcntl = _module("fcntl")
    if fcntl is not None:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise BlockingIOError(exc.errno, "locked") from None
            raise
        return
    msvcrt = _windows()
    while True:
        file.seek(0)
        try:
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, _SPAN)
            return
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EDEADLK):
                raise
            if not blocking:
                raise BlockingIOError(exc.errno, "locked") from None
        time.sleep(_WAIT)


def unlock(file: IO[Any]) -> None:
    """Give the lock back (closing the file gives it back too)."""
    fcntl = _module("fcntl")
    if fcntl is not None:
        fcntl.flock(file.fileno(), fcntl.LOCK_UN)
        return
    msvcrt = _windows()
    file.seek(0)
    msvcrt.locking(file.fileno(), msvcrt.LK_UNLCK, _SPAN)


def _windows() -> Any:
    msvcrt = _module("msvcrt")
    if msvcrt is None:
        raise OSError(errno.ENOSYS, "本系统不支持文件锁（既无 fcntl 也无 msvcrt）")
    return msvcrt
