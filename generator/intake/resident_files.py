"""Writing the data folder's resident files (rosters, ballots, answers) in the form the folder keeps them,
plain or sealed with SM4 (`generator/data/sealed.py`), and switching a whole folder from one to the other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from generator.data import sealed
from generator.data.yamlio import read_bytes
from generator.errors import DataError, Problem
from generator.output.writer import atomic_write


def current(path: Path) -> bytes | None:
    """The bytes of the record a plain name (rosters/x.csv) names, opened if it is sealed; None when there is
    none yet."""
    held = sealed.which(path)
    return None if held is None else sealed.read(held)


def store(path: Path, payload: bytes) -> Path:
    """Write a resident file's new bytes (path: its plain name) sealed where the folder is sealing, else plain;
    the file written, the other form of the same record removed after it."""
    if not sealed.sealing(path.parent.parent):
        atomic_write(path, payload)
        return path
    target = sealed.sealed_name(path)
    atomic_write(target, sealed.seal(sealed.key_for(target), payload))
    path.unlink(missing_ok=True)
    return target


def switch(root: Path, key: bytes, seal: bool, before_remove: Callable[[Path], None] | None = None) -> list[Path]:
    """Seal every plain resident file of a data folder in place (seal), or open every sealed one: each new
    file written atomically and read back before the old one is removed, so a stop at any point leaves every
    record readable (an old and a new form with the same bytes are read as one); the files written. The caller
    holds the data folder's writer lock and has attached the key (`sealed.attach`). before_remove: for tests."""
    done: list[Path] = []
    sources = sealed.plain_files(root) if seal else sealed.sealed_files(root)
    for source in sources:
        target = sealed.sealed_name(source) if seal else sealed.plain_name(source)
        plain = read_bytes(source) if seal else sealed.unseal(key, read_bytes(source), source)
        if target.exists():
            # an earlier run stopped here, or the other form was written since: never overwrite a record
            sealed.same(source if seal else target, target if seal else source)
        else:
            atomic_write(target, sealed.seal(key, plain) if seal else plain)
        back = read_bytes(target)
        if (sealed.unseal(key, back, target) if seal else back) != plain:
            raise DataError([Problem(target, "写入后读回的内容与原文件不同，原文件未删除；请检查磁盘后重试")])
        if before_remove is not None:
            before_remove(source)
        source.unlink()
        done.append(target)
    return done
