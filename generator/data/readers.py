"""Project files read by other processes, one per core, when a data folder has many.

Each worker is `python -m generator.data.readers`: it takes its share of the files (chunks of
CHUNK, every n-th chunk) as one pickle on its input and answers a pickle per chunk, in order.
Workers are plain child processes rather than a multiprocessing pool, so that no caller's main
module is run again in them; a worker that cannot start or dies leaves its files to be read
in this process, so the answers are the same either way.
"""

from __future__ import annotations

import gc
import importlib
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 64
"""Files a worker reads before it answers."""
POOL_MAX = 8

Answer = Any
"""What read() returns for one file (picklable)."""


def read_all(paths: list[Path], read: Callable[[Path], Answer], workers: int) -> Iterator[Answer]:
    """read(path) of every path, in order; by `workers` other processes when more than one
    (started now, before the first answer is asked for)."""
    chunks = [paths[start:start + CHUNK] for start in range(0, len(paths), CHUNK)]
    pool = _Pool(read, chunks, min(workers, POOL_MAX, len(chunks))) if workers > 1 and len(chunks) > 1 else None
    return _in_order(chunks, read, pool)


def _in_order(chunks: list[list[Path]], read: Callable[[Path], Answer], pool: _Pool | None) -> Iterator[Answer]:
    try:
        for index, chunk in enumerate(chunks):
            answers = pool.wait(index) if pool is not None else None
            if answers is None or len(answers) != len(chunk):
                answers = [read(path) for path in chunk]
            yield from answers
    finally:
        if pool is not None:
            pool.close()


class _Pool:
    """The workers, and a thread each that collects its answers as they come."""

    def __init__(self, read: Callable[[Path], Answer], chunks: list[list[Path]], workers: int) -> None:
        self._read = (read.__module__, read.__qualname__)
        """What a worker calls, named: a module-level function of this program."""
        self._answers: dict[int, list[Answer] | None] = {}
        self._ready = threading.Condition()
        self._procs: list[subprocess.Popen[bytes]] = []
        package = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (package, os.environ.get("PYTHONPATH")) if p)}
        for worker in range(workers):
            share = [(index, chunks[index]) for index in range(worker, len(chunks), workers)]
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "generator.data.readers"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL, env=env, creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
            except OSError:  # no processes allowed: this process reads them
                self._give_up([index for index, _ in share])
                continue
            self._procs.append(proc)
            threading.Thread(target=self._collect, args=(proc, share), daemon=True,
                             name="gaizao-readers").start()

    def _collect(self, proc: subprocess.Popen[bytes], share: list[tuple[int, list[Path]]]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        waiting = [index for index, _ in share]
        try:
            pickle.dump((self._read, share), proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            proc.stdin.close()
            while waiting:
                index, answers = pickle.load(proc.stdout)  # the worker is this program: its answers are trusted
                with self._ready:
                    self._answers[index] = answers
                    self._ready.notify_all()
                waiting.remove(index)
        except Exception:  # noqa: BLE001 - a worker gone: its files are read in this process
            self._give_up(waiting)

    def _give_up(self, indexes: list[int]) -> None:
        with self._ready:
            for index in indexes:
                self._answers.setdefault(index, None)
            self._ready.notify_all()

    def wait(self, index: int) -> list[Answer] | None:
        """The answers to one chunk, once they are there (None: read them here)."""
        with self._ready:
            self._ready.wait_for(lambda: index in self._answers)
            return self._answers.pop(index)

    def close(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()


def _serve(source: BinaryIO, sink: BinaryIO) -> None:
    """A worker: read each chunk of files given with the function named, and answer it."""
    # A reader keeps nothing: what it builds is freed as soon as it is answered, so the cycle
    # collector, run after every file's thousands of new objects, only costs (8 % of its time).
    gc.disable()
    (module, name), share = pickle.load(source)
    read = getattr(importlib.import_module(module), name)
    for index, chunk in share:
        pickle.dump((index, [read(path) for path in chunk]), sink, protocol=pickle.HIGHEST_PROTOCOL)
        sink.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
