"""One archive of a data folder and an instance folder, taken while the server runs, and put back
only after it has been checked.

The archive is a zip: `data/...` (the data folder's files, linked or copied aside under the data
folder's writer lock, which every web save holds, and compressed after it is given back),
`instance/gaizao.sqlite3` (a copy made with SQLite's backup API under the same lock, so the audit
record of a save is in it exactly when the save is), the
instance folder's other files, and `gaizao-backup.json`, the manifest with each file's size and
SHA-256. Restoring reads nothing it has not checked: the manifest must be ours, every name must
stay inside its folder, every checksum must match, and the database must open, before either
folder is touched; a folder that is not empty is only replaced with force, and then kept renamed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from generator import __version__
from generator.errors import GaizaoError
from generator.intake.writelock import LOCK_FILE, WriteLock
from generator.output.oslock import lock_exclusive, unlock
from generator.web.audit import HEAD_FILE
from generator.web.statedb import DB_FILE, StateDB

FORMAT = "gaizao-backup"
VERSION = 1
MANIFEST = "gaizao-backup.json"
FOLDERS = ("data", "instance")
COMPRESSED = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".zip", ".docx", ".xlsx", ".pdf"})
"""Suffixes stored as they are: deflating them again costs time and saves nothing."""
SERVING_FILE = ".gaizao-serving.lock"
"""Held locked by a running server in its instance folder (the system lets go when the process
ends, however it ends): a restore refuses to replace the files under it."""
OWNER_FILE = ".owner.lock"
"""Held locked in a backup's staging folder while the backup runs: one no process holds is left
from a backup that was killed, and the next backup removes it."""
DB_SIDE_FILES = frozenset({DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", f"{DB_FILE}-journal", SERVING_FILE,
                           HEAD_FILE})
"""Files of the instance folder left out of the archive: the database is copied on its own, and the audit
head, written after each record, could be ahead of that copy and make a restored chain look cut."""
_CHUNK = 1 << 20
STALE_SECONDS = 3600
"""A staging folder without its owner's lock file (made a moment before it) is removed only when older."""


def _hold(path: Path) -> IO[Any] | None:
    """The file at path opened and locked by this process, or None when another holds it or it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        held = open(path, "a")  # noqa: SIM115 - held for as long as the caller keeps it
    except OSError:
        return None
    try:
        lock_exclusive(held)
    except OSError:
        held.close()
        return None
    return held


def _held(path: Path) -> bool:
    """Whether a process holds the lock of the file at path."""
    try:
        probe = open(path, "a")  # noqa: SIM115 - closed below
    except OSError:
        return False
    with probe:
        try:
            lock_exclusive(probe)
        except BlockingIOError:
            return True
        except OSError:
            return False
        unlock(probe)
    return False


def hold_serving(instance: Path) -> IO[Any] | None:
    """Mark the instance folder as used by a running server until this process ends (keep the file)."""
    return _hold(instance / SERVING_FILE)


def served(instance: Path) -> bool:
    """Whether a running server uses the instance folder."""
    return (instance / SERVING_FILE).is_file() and _held(instance / SERVING_FILE)


class BackupError(GaizaoError):
    """A backup that cannot be taken or an archive that cannot be restored, said in Chinese."""


@dataclass
class Taken:
    """What a backup wrote."""

    path: Path
    files: int
    size: int
    """Bytes of the files before compression."""
    locked: float
    """Seconds the data folder's writer lock was held (saves waited at most this long)."""
    skipped: list[str] = field(default_factory=list)
    """Links left out: a backup copies files, never what a link points to."""


@dataclass
class Restored:
    """What a restore put back and where the folders it replaced went."""

    created: str
    files: dict[str, int]
    """data / instance → files put back."""
    kept: list[Path] = field(default_factory=list)
    """The replaced folders, renamed, not deleted."""


def _files(root: Path, leave_out: frozenset[str]) -> Iterator[tuple[str, Path]]:
    """Each regular file under root (relative POSIX name, path), links and our temporaries left out."""
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if rel in leave_out or (name.startswith(".") and name.endswith(".tmp")):
                continue
            yield rel, path


def _add(archive: zipfile.ZipFile, name: str, raw: bytes, mtime: float, listed: dict[str, Any]) -> None:
    info = zipfile.ZipInfo(name, time.localtime(max(mtime, 315532800.0))[:6])  # zip dates begin in 1980
    info.compress_type = zipfile.ZIP_STORED if PurePosixPath(name).suffix.lower() in COMPRESSED \
        else zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    archive.writestr(info, raw)
    listed[name] = {"size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


def _add_folder(archive: zipfile.ZipFile, prefix: str, root: Path, leave_out: frozenset[str],
                listed: dict[str, Any], skipped: list[str]) -> None:
    for rel, path in _files(root, leave_out):
        if path.is_symlink() or not path.is_file():
            skipped.append(str(path))
            continue
        _add(archive, f"{prefix}/{rel}", path.read_bytes(), path.stat().st_mtime, listed)


def _snapshot(root: Path, staging: Path, skipped: list[str]) -> None:
    """The data folder as it is now, in staging: each file hard-linked where the file system allows
    (a save replaces a file, never writes into it, so the link keeps what was there), copied otherwise."""
    for rel, path in _files(root, frozenset({LOCK_FILE})):
        if path.is_symlink() or not path.is_file():
            skipped.append(str(path))
            continue
        out = staging / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, out)
        except OSError:
            shutil.copy2(path, out)


def _staging(data_dir: Path) -> tuple[Path, IO[Any] | None]:
    """A new folder beside the data folder (the same file system, so links work), or in the system's
    temporary folder when the data folder's parent is not writable; and its owner's lock, held."""
    try:
        folder = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.backup-", dir=data_dir.parent))
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix="gaizao-backup-"))
    return folder, _hold(folder / OWNER_FILE)


def sweep(data_dir: Path) -> list[Path]:
    """Remove the staging folders killed backups left beside the data folder; the ones removed."""
    removed = []
    now = time.time()
    for folder in data_dir.parent.glob(f".{data_dir.name}.backup-*"):
        owner = folder / OWNER_FILE
        try:
            if not folder.is_dir() or folder.is_symlink():
                continue
            if owner.exists() and _held(owner):
                continue  # a backup running now
            if not owner.exists() and now - folder.stat().st_mtime < STALE_SECONDS:
                continue  # perhaps made this moment, its lock not yet taken
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def take(data_dir: Path, instance: Path, target: Path) -> Taken:
    """Write one archive of the data folder and the instance folder to target (a new file)."""
    data_dir, instance, target = data_dir.resolve(), instance.resolve(), target.resolve()
    if not data_dir.is_dir():
        raise BackupError(f"数据文件夹 {data_dir} 不存在")
    if not (instance / DB_FILE).is_file():
        raise BackupError(f"{instance} 中没有实例数据库 {DB_FILE}：请用 --instance 指定网页版使用的实例文件夹")
    for folder in (data_dir, instance):
        if target.is_relative_to(folder):
            raise BackupError(f"备份文件 {target} 不能放在 {folder} 之内，否则下次备份会把它也收进去；请换一个位置")
    if target.exists():
        raise BackupError(f"{target} 已存在，不会覆盖；请换一个文件名")
    target.parent.mkdir(parents=True, exist_ok=True)
    db = StateDB.of(instance)  # migrated to this program's schema before it is copied
    listed: dict[str, Any] = {}
    skipped: list[str] = []
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    sweep(data_dir)
    staging, owner = _staging(data_dir)
    try:
        with zipfile.ZipFile(tmp, "w", compresslevel=6) as archive:
            copy = staging / DB_FILE
            started = time.monotonic()
            # Under the lock only what must be: the files' state and the database's, not the compression.
            with WriteLock(data_dir):
                _snapshot(data_dir, staging / "data", skipped)
                with db.connect() as source:
                    snapshot = sqlite3.connect(copy)
                    try:
                        source.backup(snapshot)
                    finally:
                        snapshot.close()
            locked = time.monotonic() - started
            if (staging / "data").is_dir():
                _add_folder(archive, "data", staging / "data", frozenset(), listed, skipped)
            _add(archive, f"instance/{DB_FILE}", copy.read_bytes(), time.time(), listed)
            _add_folder(archive, "instance", instance, DB_SIDE_FILES, listed, skipped)
            manifest = {"format": FORMAT, "version": VERSION, "program": __version__,
                        "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                        "data": str(data_dir), "instance": str(instance), "files": listed}
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"写备份文件 {target} 失败：{exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if owner is not None:
            owner.close()  # before the folder goes: Windows removes no open file
        shutil.rmtree(staging, ignore_errors=True)
    return Taken(target, len(listed), sum(f["size"] for f in listed.values()), locked, skipped)


def _safe_name(name: str) -> PurePosixPath | None:
    """The entry's path when it stays inside data/ or instance/; None for anything that could escape."""
    if not name or "\\" in name or ":" in name or name.startswith("/") or "\x00" in name:
        return None
    path = PurePosixPath(name)
    parts = path.parts
    if len(parts) < 2 or parts[0] not in FOLDERS or any(p in ("", ".", "..") for p in parts):
        return None
    return path


def _manifest(archive: zipfile.ZipFile, source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except KeyError:
        raise BackupError(f"{source} 不是本工具的备份（缺少 {MANIFEST}），未恢复任何内容") from None
    except ValueError as exc:
        raise BackupError(f"{source}：备份清单 {MANIFEST} 已损坏（{exc}），未恢复任何内容") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or not isinstance(manifest.get("files"), dict):
        raise BackupError(f"{source} 不是本工具的备份（清单格式不符），未恢复任何内容")
    if not all(isinstance(v, dict) for v in manifest["files"].values()):
        raise BackupError(f"{source}：备份清单 {MANIFEST} 已损坏（文件条目格式不符），未恢复任何内容")
    if manifest.get("version") != VERSION:
        raise BackupError(f"{source} 是另一版本程序的备份（格式版本{manifest.get('version')}），请用相同版本的程序恢复")
    return manifest


def _check_entries(archive: zipfile.ZipFile, source: Path, listed: dict[str, Any]) -> None:
    names = [i.filename for i in archive.infolist() if i.filename != MANIFEST]
    if len(names) != len(set(names)):
        raise BackupError(f"{source}：备份中有重名的文件，不是本工具写的备份，未恢复任何内容")
    for name in [*names, *listed]:
        if _safe_name(name) is None:
            raise BackupError(f"{source}：备份中的“{name}”会写到目标文件夹以外，已拒绝，未恢复任何内容")
    if set(names) != set(listed):
        extra = "、".join(sorted(set(names) - set(listed))) or "无"
        missing = "、".join(sorted(set(listed) - set(names))) or "无"
        raise BackupError(f"{source}：备份内容与清单不符（多出：{extra}；缺少：{missing}），备份可能已损坏或被改动，"
                          "未恢复任何内容")
    if f"instance/{DB_FILE}" not in listed:
        raise BackupError(f"{source}：备份中没有实例数据库，未恢复任何内容")


def _extract(archive: zipfile.ZipFile, source: Path, listed: dict[str, Any], staging: dict[str, Path]) -> None:
    """Every listed file written under its staging folder, its size and checksum checked as it is read."""
    for name, expected in listed.items():
        path = PurePosixPath(name)
        out = staging[path.parts[0]].joinpath(*path.parts[1:])
        out.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        try:
            with archive.open(name) as fh, open(out, "xb") as dest:
                while chunk := fh.read(_CHUNK):
                    size += len(chunk)
                    if size > int(expected.get("size", -1)):
                        break
                    digest.update(chunk)
                    dest.write(chunk)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:  # zlib.error is reported as BadZipFile or OSError
            raise BackupError(f"{source}：读取“{name}”失败（{exc}），备份已损坏，未恢复任何内容") from None
        if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
            raise BackupError(f"{source}：“{name}”的校验和与清单不符，备份已损坏或被改动，未恢复任何内容")


def _not_empty(folder: Path) -> bool:
    return folder.exists() and (not folder.is_dir() or any(folder.iterdir()))


def restore(source: Path, data_dir: Path, instance: Path, force: bool = False, while_serving: bool = False) -> Restored:
    """Put an archive's data folder and instance folder back, after checking every file of it;
    refused while a server uses the instance folder unless while_serving."""
    source, data_dir, instance = source.resolve(), data_dir.resolve(), instance.resolve()
    if not while_serving and served(instance):
        raise BackupError(f"网页服务（gaizao serve）正在运行并使用实例文件夹 {instance}，恢复会替换它正在读写的文件，"
                          "未恢复任何内容；请先停止网页服务再恢复（确需在服务运行时恢复，加 --while-serving）")
    targets = {"data": data_dir, "instance": instance}
    if instance == data_dir or instance.is_relative_to(data_dir) or data_dir.is_relative_to(instance):
        raise BackupError(f"实例文件夹 {instance} 与数据文件夹 {data_dir} 不能互相包含，请分别指定")
    full = [str(folder) for folder in targets.values() if _not_empty(folder)]
    if full and not force:
        raise BackupError(f"{'、'.join(full)} 不是空的，未恢复任何内容；确认要用备份替换其中的内容时加 --force"
                          "（原内容将改名保留，不会删除）")
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}")
    if not zipfile.is_zipfile(source):
        raise BackupError(f"{source} 不是 zip 文件，不是本工具的备份，未恢复任何内容")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    staging = {key: folder.with_name(f".{folder.name}.restoring-{os.getpid()}") for key, folder in targets.items()}
    try:
        with zipfile.ZipFile(source) as archive:
            manifest = _manifest(archive, source)
            listed: dict[str, Any] = manifest["files"]
            _check_entries(archive, source, listed)
            for folder in staging.values():
                shutil.rmtree(folder, ignore_errors=True)  # ours, left by a restore that was stopped
                folder.mkdir(parents=True)
            _extract(archive, source, listed, staging)
        _check_database(staging["instance"] / DB_FILE, source)
        kept = _swap(targets, staging, stamp)
    finally:
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)
    StateDB.forget(instance)  # this process opens the restored file afresh
    counts = {key: sum(1 for name in listed if name.startswith(f"{key}/")) for key in FOLDERS}
    return Restored(str(manifest.get("created", "")), counts, kept)


def _swap(targets: dict[str, Path], staging: dict[str, Path], stamp: str) -> list[Path]:
    """Each target replaced by its staging folder, a non-empty one kept renamed; when one cannot be
    (a file held open by a running server, on Windows), every step taken is undone."""
    moved: list[tuple[Path, Path]] = []  # (target, where its old content went)
    placed: list[Path] = []
    try:
        for key, folder in targets.items():
            if _not_empty(folder):
                aside = folder.with_name(f"{folder.name}.before-restore-{stamp}")
                folder.replace(aside)
                moved.append((folder, aside))
            elif folder.exists():
                folder.rmdir()
            staging[key].replace(folder)
            placed.append(folder)
    except OSError as exc:
        for folder in placed:
            shutil.rmtree(folder, ignore_errors=True)  # the restored copy: ours, the archive still has it
        for folder, aside in moved:
            aside.replace(folder)
        raise BackupError(f"无法替换 {exc.filename or ''}（{exc.strerror or exc}）：请先停止网页服务、"
                          "关闭打开了其中文件的程序，再重新恢复；原文件夹已还原，未恢复任何内容") from None
    return [aside for _, aside in moved]


def _check_database(path: Path, source: Path) -> None:
    try:
        conn = sqlite3.connect(path)
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        check = str(exc)
    if check != "ok":
        raise BackupError(f"{source}：备份中的实例数据库无法打开（{check}），未恢复任何内容")
