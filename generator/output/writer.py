"""Write documents safely: atomic files, a manifest, a lock, and no silent overwrite of hand edits."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from generator.errors import OutputError

MANIFEST = "manifest.json"
JOURNAL = ".gaizao-journal.jsonl"
LOCK = ".gaizao.lock"


@dataclass(frozen=True, slots=True)
class Entry:
    """One generated document as the manifest records it."""

    path: str
    kind: str
    kind_name: str
    community: str
    district: str
    year: int | None
    template: str
    sha256: str
    data_hash: str


_REASONS = {
    errno.ENOTDIR: "路径中有一段是文件，不是文件夹",
    errno.EEXIST: "已有同名的文件",
    errno.EISDIR: "已有同名的文件夹",
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限",
    errno.EROFS: "磁盘或文件夹是只读的",
    errno.ENOSPC: "磁盘空间已满",
    errno.EDQUOT: "超出磁盘配额",
    errno.ENAMETOOLONG: "文件名或路径过长",
    errno.ENOENT: "路径不存在",
    errno.EIO: "磁盘读写出错",
}


def os_reason(exc: OSError, about: Path | None = None) -> str:
    """An operating-system error in a clerk's words (strerror is English on most systems),
    naming the file it concerns when that is not `about`, the path the message names already."""
    code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
    reason = _REASONS.get(exc.errno or 0, f"系统错误 {code}")
    if exc.filename is not None and about is not None and str(exc.filename) != str(about):
        reason += f"：{exc.filename}"
    return reason


_STALE = re.compile(r"\..+\.\d+\.tmp")
"""atomic_write's temporary name, left behind only when a build was killed mid-write."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes | Iterable[bytes], durable: bool = True) -> None:
    """Write under a temporary name in the same folder, then rename: never a half-written file.

    The data may come in pieces, so a large file is never held whole in memory. durable=False
    leaves the flush to disk to the caller (Output syncs once, before the manifest).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            if isinstance(data, bytes):
                data = (data,)
            for piece in data:
                fh.write(piece)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


_UNIQUE = frozenset({"path", "sha256", "data_hash"})
"""Entry fields whose values differ from document to document."""


def _entry_hook() -> Callable[[dict[str, Any]], Any]:
    """json.loads' object_hook for a manifest: each document's object becomes an Entry as it is read.

    No list of tens of thousands of dicts is built first, and the kinds, districts, years and
    templates that repeat from entry to entry are kept once.
    """
    shared: dict[Any, Any] = {}

    def hook(raw: dict[str, Any]) -> Any:
        if "sha256" not in raw:
            return raw
        return Entry(**{k: v if k in _UNIQUE else shared.setdefault(v, v) for k, v in raw.items()})

    return hook


class Output:
    """An output folder: what the tool wrote there before, and a guard for what it writes now."""

    def __init__(self, root: Path, force: bool = False):
        self.root = root
        self.force = force
        self.known: dict[str, Entry] = {}
        self.written: dict[str, Entry] = {}
        self._journal: object = None

    @contextmanager
    def session(self) -> Iterator[Output]:
        """Hold the folder's lock for a whole build; refuse if another build holds it."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"无法创建输出文件夹 {self.root}：{os_reason(exc, self.root)}；"
                              "请检查路径，或换一个文件夹（--out）") from None
        if not os.access(self.root, os.W_OK):
            raise OutputError(f"输出文件夹 {self.root} 不可写入，请检查权限或换一个文件夹（--out）")
        lock = open(self.root / LOCK, "a+")  # noqa: SIM115 - held for the whole session
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            lock.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise OutputError(
                    f"另一个生成任务正在写入 {self.root}，请等它结束后再运行"
                ) from None
            raise
        try:
            self._load()
            for stale in self.root.rglob(".*.tmp"):  # we hold the lock: no build is writing them
                if _STALE.fullmatch(stale.name):
                    stale.unlink(missing_ok=True)
            with open(self.root / JOURNAL, "a", encoding="utf-8") as journal:
                self._journal = journal
                yield self
            self._commit()
        finally:
            self._journal = None
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    def _load(self) -> None:
        manifest = self.root / MANIFEST
        if manifest.exists():
            try:
                doc = json.loads(manifest.read_bytes(), object_hook=_entry_hook())
                for entry in doc.get("documents", []):
                    if not isinstance(entry, Entry):
                        raise TypeError(entry)
                    self.known[entry.path] = entry
            except (ValueError, TypeError, AttributeError):
                raise OutputError(f"{manifest} 已损坏，无法读取；请移走后重新生成") from None
        journal = self.root / JOURNAL
        if journal.exists():
            # An interrupted build: each line was written just before its document. Where the
            # document holds exactly those bytes it is the tool's own; where the build was
            # killed before the rename, the file is as the manifest knew it (or absent).
            for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = Entry(**json.loads(line))
                except (ValueError, TypeError):
                    continue  # the last line of a killed build may be cut short
                target = self.root / entry.path
                if target.is_file() and sha256(target.read_bytes()) == entry.sha256:
                    self.known[entry.path] = entry

    def check_writable(self, rel: str) -> None:
        """Refuse to replace a file someone changed by hand, or one the tool did not write."""
        target = self.root / rel
        if self.force or not target.exists():
            return
        known = self.known.get(rel)
        if known is None:
            raise OutputError(
                f"{target} 不是本工具生成的文件（清单 manifest.json 中没有），为免覆盖他人文件已停止；"
                f"确需覆盖请加 --force"
            )
        if sha256(target.read_bytes()) != known.sha256:
            raise OutputError(
                f"{target} 在生成后被手工修改过，为免丢失修改已停止；"
                f"请先另存修改后的文件，或加 --force 覆盖"
            )

    def write(self, entry: Entry, data: bytes) -> bool:
        """Write one document; return False when the file already holds exactly these bytes."""
        target = self.root / entry.path
        unchanged = target.exists() and self.known.get(entry.path) == entry and (
            sha256(target.read_bytes()) == entry.sha256
        )
        assert self._journal is not None
        try:
            if not unchanged:
                self.check_writable(entry.path)
                # Journal first: killed right after the rename, the next build still knows
                # the file as its own (see _load) instead of calling it someone else's.
                self._journal.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")  # type: ignore[attr-defined]
                self._journal.flush()  # type: ignore[attr-defined]
                atomic_write(target, data, durable=False)
        except OSError as exc:
            raise OutputError(f"无法写入 {target}：{os_reason(exc, target)}。已写好的文件都已记录，"
                              "排除问题后重新运行即可接着生成") from None
        self.written[entry.path] = entry
        return not unchanged

    def _commit(self) -> None:
        if self.written:
            # Documents are not flushed to disk one by one (that cost more than the rest of a
            # build): one sync here, so the manifest never lists a file a power cut could take back.
            os.sync()
        entries = {**self.known, **self.written}
        paths = sorted(p for p in entries if (self.root / p).exists())
        atomic_write(self.root / MANIFEST, manifest_text(entries[p] for p in paths))
        (self.root / JOURNAL).unlink(missing_ok=True)


def manifest_text(entries: Iterable[Entry]) -> Iterator[bytes]:
    """manifest.json entry by entry, byte for byte what json.dumps(doc, indent=1) writes.

    A province's manifest is tens of megabytes as one string; written in pieces it never is.
    """
    yield b'{\n "generator": "gaizao",\n "documents": ['
    first = True
    for entry in entries:
        text = json.dumps(asdict(entry), ensure_ascii=False, indent=1)
        # One level deeper than on its own: inside the document and its list.
        yield ("\n" if first else ",\n").encode() + _INDENT.sub("  ", text).encode("utf-8")
        first = False
    yield b"]\n}\n" if first else b"\n ]\n}\n"


_INDENT = re.compile("^", re.M)
