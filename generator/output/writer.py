"""Write documents safely: atomic files, a manifest, a lock, and no silent overwrite of hand edits."""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from generator.errors import OutputError
from generator.output.oslock import lock_exclusive, unlock

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


_TMP_PID = re.compile(r"\d+")
"""The process id in atomic_write's temporary name .<name>.<pid>.tmp."""


def own_temporaries(folder: Path, name: str) -> Iterator[Path]:
    """atomic_write's temporary files for folder/name, left only by a build killed mid-write.

    Only these exact names are ever cleaned up: a clerk's own “.现场照片.2024.tmp” is not ours.
    """
    prefix, suffix = f".{name}.", ".tmp"
    try:
        siblings = list(os.scandir(folder))
    except OSError:
        return
    for item in siblings:
        middle = item.name[len(prefix):-len(suffix)]
        if (item.name.startswith(prefix) and item.name.endswith(suffix) and _TMP_PID.fullmatch(middle)
                and item.is_file(follow_symlinks=False)):
            yield Path(item.path)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes | Iterable[bytes], durable: bool = True) -> None:
    """Write under a temporary name in the same folder, then rename: never a half-written file.

    The data may come in pieces, so a large file is never held whole in memory. durable=False
    leaves the flush to disk to the caller (Output syncs once, before the manifest).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if durable:  # a single file kept (a project, a manifest); a build's documents are swept by Output
        _sweep(path)
    try:
        # O_NOFOLLOW | O_EXCL: a link planted under the temporary name is never written through.
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with open(fd, "wb") as fh:
            if isinstance(data, bytes):
                data = (data,)
            for piece in data:
                fh.write(piece)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()


STALE_SECONDS = 600
"""A temporary file this old was left by a process that died mid-write (a write takes seconds)."""


def _sweep(path: Path) -> None:
    """Remove the temporary files of earlier writes of path that a killed process left behind."""
    now = time.time()
    try:
        leftovers = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
    except OSError:
        return
    for leftover in leftovers:
        try:
            if leftover.is_file() and not leftover.is_symlink() and now - leftover.stat().st_mtime > STALE_SECONDS:
                leftover.unlink()
        except OSError:
            pass  # another process's, or already gone


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
        self._journalled: list[str] = []
        self._safe_folders: set[Path] = set()

    @contextmanager
    def session(self) -> Iterator[Output]:
        """Hold the folder's lock for a whole build; refuse if another build holds it."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"无法创建输出文件夹 {self.root}：{os_reason(exc, self.root)}；"
                              "请检查路径，或换一个文件夹（--out）") from None
        if not self.root.is_dir():
            raise OutputError(f"{self.root} 已存在且不是文件夹；请换一个输出文件夹（--out）")
        if not os.access(self.root, os.W_OK):
            raise OutputError(f"输出文件夹 {self.root} 不可写入，请检查权限或换一个文件夹（--out）")
        for name in (LOCK, JOURNAL, MANIFEST):
            self._plain_file(self.root / name)
        try:
            fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            raise OutputError(f"无法创建锁文件 {self.root / LOCK}：{os_reason(exc, self.root / LOCK)}") from None
        lock = open(fd, "a+")  # noqa: SIM115 - held for the whole session
        try:
            lock_exclusive(lock)
        except BlockingIOError:
            lock.close()
            raise OutputError(f"另一个生成任务正在写入 {self.root}，请等它结束后再运行") from None
        except OSError:
            lock.close()
            raise
        try:
            self._load()
            self._clean_temporaries()  # we hold the lock: no build is writing them
            try:
                fd = os.open(self.root / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT
                             | getattr(os, "O_NOFOLLOW", 0), 0o644)
            except OSError as exc:
                raise OutputError(f"无法写入 {self.root / JOURNAL}：{os_reason(exc, self.root / JOURNAL)}") from None
            with open(fd, "a", encoding="utf-8") as journal:
                self._journal = journal
                yield self
            self._commit()
        finally:
            self._journal = None
            unlock(lock)
            lock.close()

    def _plain_file(self, path: Path) -> None:
        """The lock, journal and manifest must be plain files (or absent), never a folder or a link."""
        if path.is_symlink():
            raise OutputError(f"{path} 是符号链接（快捷方式），不是本工具写的文件；为免写到输出文件夹以外已停止，"
                              "请删除该链接后重新运行")
        if path.is_dir():
            raise OutputError(f"{path} 是文件夹，但本工具要在这里写同名文件；请移走该文件夹后重新运行")

    def _clean_temporaries(self) -> None:
        """Remove the temporary files a killed build left: only for names it had journalled."""
        names = {(self.root, MANIFEST)}
        for rel in self._journalled:
            target = self.root / rel
            names.add((target.parent, target.name))
        for folder, name in names:
            if self._inside(folder):
                for stale in own_temporaries(folder, name):
                    stale.unlink(missing_ok=True)

    def _inside(self, folder: Path) -> bool:
        """True when folder lies under the root with no symbolic link on the way."""
        try:
            rel = folder.relative_to(self.root)
        except ValueError:
            return False
        here = self.root
        for part in rel.parts:
            here = here / part
            if part in ("..", ".") or here.is_symlink():
                return False
        return True

    def _load(self) -> None:
        self._journalled = []
        manifest = self.root / MANIFEST
        if manifest.exists():
            try:
                doc = json.loads(manifest.read_bytes(), object_hook=_entry_hook())
                for entry in doc.get("documents", []):
                    if not isinstance(entry, Entry) or not _relative(entry.path):
                        raise TypeError(entry)
                    self.known[entry.path] = entry
            except (ValueError, TypeError, AttributeError, RecursionError):
                raise OutputError(f"{manifest} 已损坏，无法读取；请移走后重新生成") from None
            except OSError as exc:
                raise OutputError(f"无法读取 {manifest}：{os_reason(exc, manifest)}") from None
        journal = self.root / JOURNAL
        if journal.exists():
            # An interrupted build: each line was written just before its document. Where the
            # document holds exactly those bytes it is the tool's own; where the build was
            # killed before the rename, the file is as the manifest knew it (or absent).
            try:
                lines = journal.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError as exc:
                raise OutputError(f"无法读取 {journal}：{os_reason(exc, journal)}") from None
            for line in lines:
                try:
                    entry = Entry(**json.loads(line))
                except (ValueError, TypeError, RecursionError):
                    continue  # the last line of a killed build may be cut short
                if not isinstance(entry.path, str) or not _relative(entry.path):
                    continue
                self._journalled.append(entry.path)
                target = self.root / entry.path
                if (self._inside(target.parent) and not target.is_symlink() and target.is_file()
                        and sha256(target.read_bytes()) == entry.sha256):
                    self.known[entry.path] = entry

    def _no_links(self, rel: str) -> None:
        """Refuse a document path that passes through a symbolic link (a planted folder link would
        send the documents outside the output folder)."""
        parent = (self.root / rel).parent
        if parent in self._safe_folders:
            return
        here = self.root
        for part in Path(rel).parts[:-1]:
            here = here / part
            if here in self._safe_folders:
                continue
            if here.is_symlink():
                raise OutputError(f"{here} 是符号链接（快捷方式），为免把文书写到输出文件夹以外已停止；"
                                  "请删除该链接后重新运行")
            if here.exists() and not here.is_dir():
                raise OutputError(f"无法写入 {self.root / rel}：{here} 是文件，不是文件夹；请移走后重新运行")
        self._safe_folders.add(parent)

    def check_writable(self, rel: str) -> None:
        """Refuse to replace a file someone changed by hand, or one the tool did not write."""
        target = self.root / rel
        if target.is_symlink():
            if self.force:
                return  # replaced by the rename, never written through
            raise OutputError(f"{target} 是符号链接（快捷方式），不是本工具生成的文件；为免写到别处已停止，"
                              "确需替换请加 --force")
        if target.is_dir():
            raise OutputError(f"无法写入 {target}：已有同名的文件夹；请移走后重新运行")
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
        self._no_links(entry.path)
        unchanged = target.is_file() and not target.is_symlink() and self.known.get(entry.path) == entry and (
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
            sync_files(self.root / p for p in self.written)
        entries = {**self.known, **self.written}
        paths = sorted(p for p in entries if (self.root / p).exists())
        try:
            atomic_write(self.root / MANIFEST, manifest_text(entries[p] for p in paths))
        except OSError as exc:
            # The journal stays: the next build knows every document written now as its own.
            raise OutputError(f"无法写入清单 {self.root / MANIFEST}：{os_reason(exc, self.root / MANIFEST)}。"
                              "文书已写好并记录在日志中，排除问题后重新运行即可") from None
        (self.root / JOURNAL).unlink(missing_ok=True)


def _relative(rel: str) -> bool:
    """A manifest path that stays inside the output folder."""
    path = Path(rel)
    return bool(rel) and not path.is_absolute() and ".." not in path.parts


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


def sync_files(paths: Iterable[Path]) -> None:
    """Flush written files to disk: one system-wide sync where there is one, file by file on Windows."""
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in paths:
        try:
            with open(path, "rb+") as file:
                os.fsync(file.fileno())
        except OSError:
            pass  # gone or locked by a viewer: the manifest only lists files that exist
