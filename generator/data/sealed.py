"""Residents' files of a data folder sealed at rest with SM4 under the 第三级 switch.

The files that name residents (rosters/<id>.csv, votes/<id>.csv, satisfaction/<id>.csv) may be kept as
<name>.csv.sm4: one header line, `GAIZAO-SM4-GCM 1 <key check>`, then a 96-bit random nonce, the CSV's bytes
sealed with SM4 (GB/T 32907) in GCM mode with the header line as associated data, and the 128-bit tag. The
key check is the SM3 digest of the key the instance database also keeps, so a wrong key is named before
anything is decrypted, and a changed byte anywhere is refused rather than read as rubbish.

Readers call `read` with the path they found: a plain file costs one suffix check more. The key of a
sealed file comes from the keyring the web app attaches to its data folder (`attach`), else from the key
file named by the environment variable GAIZAO_SM4_KEY, else from instance/sm4.key under the current
folder (where `gaizao serve` keeps its instance by default), so the command line reads what the web
wrote with no option. A plain file next to a sealed one of the same name is refused, unless both hold the
same bytes: that is what an interrupted `security seal-data` leaves, and it is read as either.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.data.yamlio import read_bytes
from generator.errors import DataError, Problem

SUFFIX = ".sm4"
FOLDERS = ("rosters", "votes", "satisfaction")
"""The data folder's folders whose CSV files name residents."""
ENV = "GAIZAO_SM4_KEY"
DEFAULT_KEY = Path("instance") / "sm4.key"
MAGIC = "GAIZAO-SM4-GCM"
VERSION = 1
NONCE = 12
TAG = 16
HOW_TO_KEY = f"命令行请在实例文件夹 instance 所在的文件夹中运行，或设置环境变量 {ENV}=密钥文件路径"


class SealError(Exception):
    """SM4 is not at hand, or the key is missing or unreadable: the message says which and what to do."""


def cipher(key: bytes, mode: Any) -> Any:
    """OpenSSL's SM4 through the cryptography package, in the given mode."""
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
    except ImportError:
        raise SealError("第三级的住户信息加密（SM4）需要 cryptography 包：请运行 pip install 'gaizao[level3]'") \
            from None
    try:
        return Cipher(algorithms.SM4(key), mode)
    except Exception as exc:  # UnsupportedAlgorithm: an OpenSSL built without SM4
        raise SealError(f"本机的 OpenSSL 不支持 SM4（{exc}），无法按第三级加密；请安装 cryptography 官方发行包") \
            from None


def sm3_hex(data: bytes) -> str:
    """SM3 of some bytes: OpenSSL's through hashlib where it has it (fast), else gmssl's pure Python."""
    if "sm3" in hashlib.algorithms_available:
        return hashlib.new("sm3", data).hexdigest()
    from gmssl import func, sm3  # the 第三级 extra: pip install gaizao[level3]

    return str(sm3.sm3_hash(func.bytes_to_list(data)))


_checks: dict[bytes, str] = {}


def key_check(key: bytes) -> str:
    """The key's check value, as the instance database and each sealed file's header keep it."""
    check = _checks.get(key)
    if check is None:
        check = _checks[key] = sm3_hex(b"gaizao sm4 key check\0" + key)
    return check


def read_key_file(path: Path) -> bytes:
    """A key file's 16 bytes (32 hex digits); SealError when it is missing or not a key."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise SealError(f"{path}：找不到 SM4 密钥文件") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SealError(f"{path}：SM4 密钥文件无法读取（{exc}）") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 16:
        raise SealError(f"{path}：SM4 密钥文件已损坏（应为32位十六进制数字）")
    return key


def _header(key: bytes) -> bytes:
    return f"{MAGIC} {VERSION} {key_check(key)}\n".encode("ascii")


def gcm_seal(key: bytes, plain: bytes, associated: bytes = b"") -> bytes:
    """SM4-GCM: a fresh nonce, the ciphertext and the tag (associated: bytes authenticated, not sealed)."""
    from cryptography.hazmat.primitives.ciphers import modes

    nonce = os.urandom(NONCE)
    encryptor = cipher(key, modes.GCM(nonce)).encryptor()
    if associated:
        encryptor.authenticate_additional_data(associated)
    return nonce + encryptor.update(plain) + encryptor.finalize() + encryptor.tag


def gcm_open(key: bytes, sealed: bytes, associated: bytes = b"") -> bytes:
    """gcm_seal undone: cryptography's InvalidTag for a changed byte, ValueError for a cut one."""
    from cryptography.hazmat.primitives.ciphers import modes

    decryptor = cipher(key, modes.GCM(sealed[:NONCE], sealed[-TAG:])).decryptor()
    if associated:
        decryptor.authenticate_additional_data(associated)
    return bytes(decryptor.update(sealed[NONCE:-TAG]) + decryptor.finalize())


def seal(key: bytes, plain: bytes) -> bytes:
    """A file's bytes sealed: header line, nonce, ciphertext, tag."""
    header = _header(key)
    return header + gcm_seal(key, plain, header)


def header_check(raw: bytes, path: Path) -> str:
    """The key check a sealed file's header names; DataError when it is no sealed file of a known version."""
    line, _, _ = raw.partition(b"\n")
    parts = line.decode("ascii", "replace").split(" ")
    if len(parts) != 3 or parts[0] != MAGIC:
        raise DataError([Problem(path, "不是本程序加密保存的文件（文件头不对），可能已损坏；请从备份恢复")])
    if parts[1] != str(VERSION):
        raise DataError([Problem(path, f"加密格式第{parts[1]}版，本程序只能读第{VERSION}版；请升级本程序")])
    return parts[2]


def unseal(key: bytes, raw: bytes, path: Path) -> bytes:
    """A sealed file's bytes opened; DataError naming the file for a wrong key or a changed byte."""
    from cryptography.exceptions import InvalidTag

    if header_check(raw, path) != key_check(key):
        raise DataError([Problem(path, "加密所用的 SM4 密钥与现有密钥不符（别的实例的密钥，或密钥文件被换过），"
                                       "无法读取；请放回加密时所用实例的 sm4.key（见 README“第三级”一节），"
                                       "不要另建新密钥")])
    header = raw[:raw.index(b"\n") + 1]
    body = raw[len(header):]
    if len(body) < NONCE + TAG:
        raise DataError([Problem(path, "加密文件不完整（被截断），无法读取；请从备份恢复")])
    try:
        return gcm_open(key, body, header)
    except InvalidTag:
        raise DataError([Problem(path, "加密文件已在本程序之外被改动或损坏，无法读取；请从备份恢复")]) from None
    except SealError as exc:
        raise DataError([Problem(path, str(exc))]) from None


@dataclass(frozen=True)
class Keyring:
    """Where a data folder's key comes from, and whether files written now are sealed."""

    key: Callable[[], bytes]
    """The key (SealError, saying why, when it cannot be had)."""
    sealing: Callable[[], bool]
    """Whether new resident files are written sealed (the web: the instance is at the 第三级)."""


_rings: dict[str, Keyring] = {}
_lock = threading.Lock()


def attach(root: Path, ring: Keyring | None) -> Keyring | None:
    """Give a data folder its keyring (the web app does, for its instance); None takes it away. The keyring
    it had before, if any."""
    with _lock:
        name = str(root.resolve())
        before = _rings.pop(name, None)
        if ring is not None:
            _rings[name] = ring
        return before


def _file_key() -> bytes:
    named = os.environ.get(ENV, "").strip()
    path = Path(named) if named else DEFAULT_KEY
    if not named and not path.is_file():
        raise SealError(f"当前文件夹下没有 {DEFAULT_KEY.as_posix()}，也没有设置环境变量 {ENV}")
    return read_key_file(path)


FILE_RING = Keyring(_file_key, lambda: False)
"""The command line's keyring: the key file named by GAIZAO_SM4_KEY, else instance/sm4.key here; what it
writes follows the folder (sealed where the folder already holds sealed files)."""


def ring(root: Path) -> Keyring:
    """The keyring of a data folder: the one attached, else the command line's."""
    if not _rings:
        return FILE_RING
    return _rings.get(str(root.resolve()), FILE_RING)


def key_for(path: Path) -> bytes:
    """The key of a sealed file of a data folder (path: rosters/x.csv.sm4 and its kind); DataError naming the
    file and what to do when there is none."""
    try:
        return ring(path.parent.parent).key()
    except SealError as exc:
        raise DataError([Problem(path, f"按第三级以 SM4 加密保存，读取需要密钥：{exc}；{HOW_TO_KEY}")]) from None


def sealed_name(path: Path) -> Path:
    """The sealed file of a plain file's name: x.csv → x.csv.sm4."""
    return path.with_name(path.name + SUFFIX)


def plain_name(path: Path) -> Path:
    """The plain file's name of a sealed one: x.csv.sm4 → x.csv (a plain name stays as it is)."""
    return path.with_name(path.name.removesuffix(SUFFIX))


def stem(path: Path) -> str:
    """The record's id a resident file is named by, sealed or not: x.csv.sm4 → x."""
    name = path.name
    if name.endswith(SUFFIX):
        name = name[:-len(SUFFIX)]
    return name.rpartition(".")[0] or name


def read(path: Path) -> bytes:
    """A resident file's bytes, opened when it is sealed; DataError naming the file when it cannot be."""
    if not path.name.endswith(SUFFIX):
        return read_bytes(path)
    return unseal(key_for(path), read_bytes(path), path)


def which(path: Path) -> Path | None:
    """The file that holds the record a plain name names: itself, its sealed file, or None when neither is
    there. Both there is a clash (DataError), unless they hold the same bytes (an interrupted switch)."""
    sealed = sealed_name(path)
    plain_there, sealed_there = path.exists(), sealed.exists()
    if plain_there and sealed_there:
        same(path, sealed)
        return sealed
    return sealed if sealed_there else path if plain_there else None


def same(plain: Path, sealed: Path) -> None:
    """Both forms of a file are there: fine when they hold the same bytes, else DataError saying so."""
    clash = (f"与加密保存的 {sealed.name} 同时存在，无法判断哪个是现行记录；请核对后只保留一个（数据文件夹改为加密"
             f"保存后应只有 {sealed.name}）")
    try:
        if read(sealed) == read_bytes(plain):
            return
    except DataError as exc:
        raise DataError([Problem(plain, f"{clash}；且{exc.problems[0].problem}")]) from None
    raise DataError([Problem(plain, clash)])


def listing(folder: Path, suffix: str) -> tuple[list[Path], list[Problem]]:
    """The files of a folder ending in suffix, plain or sealed, by name, one path per record (the sealed one
    where both are), and the clashes; an absent folder has none."""
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries]
    except OSError:
        return [], []
    sealed_suffix = suffix + SUFFIX
    found = {n: folder / n for n in names if n.endswith(suffix)}
    problems: list[Problem] = []
    if any(n.endswith(sealed_suffix) for n in names):  # a plain folder pays for this one pass only
        for n in names:
            if n.endswith(sealed_suffix):
                base = n[:-len(SUFFIX)]
                if base in found:
                    try:
                        same(found[base], folder / n)
                    except DataError as exc:
                        problems.extend(exc.problems)
                        del found[base]
                        continue
                found[base] = folder / n
    return [found[n] for n in sorted(found)], problems


def plain_files(root: Path) -> list[Path]:
    """The resident files of a data folder still kept plain, by name."""
    return sorted(root / folder / n for folder in FOLDERS for n in _names(root / folder) if n.endswith(".csv"))


def sealed_files(root: Path) -> list[Path]:
    """The resident files of a data folder kept sealed, by name."""
    return sorted(root / folder / n for folder in FOLDERS for n in _names(root / folder) if n.endswith(".csv.sm4"))


def _names(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries if not e.name.startswith(".") and e.is_file()]
    except OSError:
        return []


def sealing(root: Path) -> bool:
    """Whether a resident file written now into this data folder is sealed: its keyring says so (the web at
    the 第三级), or the folder already keeps some sealed (a folder sealed stays sealed)."""
    if ring(root).sealing():
        return True
    for folder in FOLDERS:
        try:
            with os.scandir(root / folder) as entries:
                if any(e.name.endswith(SUFFIX) for e in entries):
                    return True
        except OSError:
            continue
    return False
