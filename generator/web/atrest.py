"""Personal data at rest under the 第三级 switch: the instance database's personal fields sealed with SM4
(GB/T 32907) in GCM mode, a random 96-bit nonce per value, so a wrong key or a changed value is refused
rather than read as rubbish.

What is sealed, once the level is 3 (values written before stay as they were, and stay readable):
the audit records' detail, changes and client address; the upload records' file name and outcome; each
account's TOTP secret and phone (the phones already stored are sealed when the level is raised). What is not:
the columns the app looks records up by (time, account, event, object, outcome; account names, units). The data
folder's resident files are sealed with the same key as whole files (`generator/data/sealed.py`): the web app
attaches this instance's key to its data folder (`data_keyring`), and `switch_data` seals or opens a folder.

The key is 16 random bytes in `sm4.key` in the instance folder, made once, the first time a value is
sealed, with only its owner allowed to read it where the system has permissions; the database keeps a
check value of it, so a missing or wrong key is named, never silently replaced by a new one. SM4 is
OpenSSL's through the cryptography package (the 第三级 extra): gmssl's pure-Python SM4 takes most of a
millisecond a value, minutes for an export of a year's records, and has no authenticated mode.
"""

from __future__ import annotations

import base64
import binascii
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from generator.data.sealed import Keyring, SealError, gcm_open, gcm_seal, key_check, read_key_file
from generator.web.statedb import StateDB, StateError, now_iso

KEY_FILE = "sm4.key"
PREFIX = "sm4:"
"""How a sealed value starts; anything else is read as it is."""
CHECK = "sm4_check"
"""The settings row holding the key's check value."""
SAFEKEEPING = "请从密钥的备份（见 README“第三级”一节）把 sm4.key 放回实例文件夹后重试，不要另建新密钥"

_keys: dict[Path, bytes] = {}
_making = threading.Lock()


def seal(key: bytes, text: str) -> str:
    """A value sealed: sm4: and base64 of nonce, ciphertext and tag. Empty stays empty (nothing to hide)."""
    if not text:
        return text
    try:
        return PREFIX + base64.b64encode(gcm_seal(key, text.encode("utf-8"))).decode("ascii")
    except SealError as exc:
        raise StateError(str(exc)) from None


def unseal(key: bytes, value: str, where: Path) -> str:
    """A sealed value read back; refused, naming the database, when it was changed outside the program."""
    from cryptography.exceptions import InvalidTag

    try:
        return gcm_open(key, base64.b64decode(value[len(PREFIX):], validate=True)).decode("utf-8")
    except SealError as exc:
        raise StateError(str(exc)) from None
    except (InvalidTag, ValueError, binascii.Error):
        raise StateError(f"{where}：实例数据库中一项加密保存的内容无法解密（已在本程序之外被改动或损坏）") from None


def level3(conn: sqlite3.Connection) -> bool:
    """Whether the instance is set to the 第三级 (new personal values are sealed)."""
    row = conn.execute("SELECT value FROM settings WHERE key = 'level'").fetchone()
    return row is not None and row[0] == "3"


def key_for(conn: sqlite3.Connection, folder: Path, make: bool) -> bytes:
    """The instance's key, checked against the database; made now (in the caller's transaction, the check
    value with it) when make and no key was ever made. A key once made is never made again: missing or
    not this database's, the answer says so."""
    path = folder / KEY_FILE
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (CHECK,)).fetchone()
    with _making:
        key = _keys.get(path)
        if key is not None and row is not None and key_check(key) == row[0] and path.is_file():
            return key
        if row is None:
            if not make:
                raise StateError(f"{path}：实例数据库中没有加密密钥的记录，却有加密保存的内容；{SAFEKEEPING}")
            # A key file without its record is one whose first use was rolled back: nothing was sealed with it.
            key = _read_key(path) if path.is_file() else _write_key(path)
            conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?, ?, '')", (CHECK, key_check(key), now_iso()))
        else:
            key = _read_key(path)
            if key_check(key) != row[0]:
                raise StateError(f"{path}：SM4 密钥与本实例数据库不符（别的实例的密钥，或文件已损坏），"
                                 f"无法读写加密保存的住户信息；{SAFEKEEPING}")
        _keys[path] = key
        return key


def _read_key(path: Path) -> bytes:
    try:
        return read_key_file(path)
    except SealError as exc:
        missing = "" if path.is_file() else ("。本实例按第三级加密保存了住户信息（操作记录详情、上传记录、"
                                             "动态口令密钥，数据文件夹中的住户名册等），没有密钥无法读取")
        raise StateError(f"{exc}{missing}；{SAFEKEEPING}") from None


def _write_key(path: Path) -> bytes:
    """A new key in a new file readable by its owner only (the mode is ignored where the system has none)."""
    key = os.urandom(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key.hex() + "\n")
        out.flush()
        os.fsync(out.fileno())
    return key


def sealer(conn: sqlite3.Connection, folder: Path) -> Any:
    """What new personal values go through in this transaction: sealed at the 第三级, as they are otherwise."""
    if not level3(conn):
        return lambda text: text
    key = key_for(conn, folder, make=True)
    return lambda text: seal(key, text)


class Opener:
    """Reads values of one instance database back, sealed or not; the key is read at the first sealed value."""

    def __init__(self, db: StateDB) -> None:
        self.db = db
        self.key: bytes | None = None

    def __call__(self, value: str) -> str:
        if not value.startswith(PREFIX):
            return value
        if self.key is None:
            with self.db.connect() as conn:
                self.key = key_for(conn, self.db.path.parent, make=False)
        return unseal(self.key, value, self.db.path)


def status(db: StateDB) -> tuple[bool, str]:
    """Whether values can be sealed here (SM4 at hand; the key, once made, there and this database's), and
    what to do if not: for the self-check."""
    try:
        seal(bytes(16), "check")
        with db.connect() as conn:
            if conn.execute("SELECT 1 FROM settings WHERE key = ?", (CHECK,)).fetchone():
                key_for(conn, db.path.parent, make=False)
    except StateError as exc:
        return False, str(exc)
    return True, ""


def data_keyring(db: StateDB) -> Keyring:
    """The keyring a web app gives its data folder: this instance's key (made at the first sealed file once the
    level is 3, checked against the database), and sealing while the level is 3."""
    held: list[bytes] = []

    def key() -> bytes:
        if held:  # read once: a load of ten thousand sealed rosters asks for it ten thousand times
            return held[0]
        try:
            with db.write() as conn:
                held.append(key_for(conn, db.path.parent, make=level3(conn)))
        except StateError as exc:
            raise SealError(str(exc)) from None
        return held[0]

    def sealing() -> bool:
        with db.connect() as conn:
            return level3(conn)

    return Keyring(key, sealing)


def switch_data(data_dir: Path, instance: Path, seal: bool, before_remove: Any = None) -> list[Path]:
    """Seal the data folder's plain resident files with this instance's key (made now if it has none), or open
    the sealed ones (seal False: leaving the 第三级, or handing the data over); under the data folder's writer
    lock, so no web save writes meanwhile. The files written."""
    from generator.data import sealed
    from generator.intake.resident_files import switch
    from generator.intake.writelock import WriteLock

    db = StateDB.of(instance)
    with db.write() as conn:
        key = key_for(conn, instance, make=seal)
    before = sealed.attach(data_dir, Keyring(lambda: key, lambda: seal))
    try:
        with WriteLock(data_dir):
            return switch(data_dir, key, seal, before_remove)
    finally:
        sealed.attach(data_dir, before)


def seal_phones(conn: sqlite3.Connection, folder: Path) -> int:
    """Seal the accounts' phone numbers still stored plain (made before the level was raised); how many."""
    rows = conn.execute(f"SELECT name, phone FROM users WHERE phone != '' AND phone NOT LIKE '{PREFIX}%'").fetchall()
    if rows:
        seal_one = sealer(conn, folder)
        conn.executemany("UPDATE users SET phone = ? WHERE name = ?", [(seal_one(r[1]), r[0]) for r in rows])
    return len(rows)
