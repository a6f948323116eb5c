"""Accounts of the web front end: names, roles, units and argon2id password hashes in the instance database."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type

from generator.errors import GaizaoError
from generator.web.statedb import StateDB

Role = Literal["street", "district", "city", "admin"]
ROLES: dict[str, str] = {
    "street": "街道办事处（乡镇）",
    "district": "县（区）住房城乡建设部门",
    "city": "市住房城乡建设部门",
    "admin": "系统管理员",
}
"""Each role and what its unit names: a street office, a district, the city."""

MIN_PASSWORD = 10
"""Characters of a password at least: a clerk's account opens a street office's records."""
_NAME = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,40}$")

_HASHER = PasswordHasher(type=Type.ID)


class AccountError(GaizaoError):
    """A users command or login that cannot be carried out, said in Chinese."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    unit: str
    password_hash: str
    disabled: bool = False
    changed: float = 0.0
    """When the password last changed (epoch seconds): sessions from before it end."""

    @property
    def role_name(self) -> str:
        return ROLES[self.role]


class Accounts:
    """The accounts of an instance folder, in its database; each change is one transaction."""

    def __init__(self, instance: Path, hasher: PasswordHasher | None = None) -> None:
        self.db = StateDB.of(instance)
        self.hasher = hasher or _HASHER
        """New hashes are made with these costs; a stored hash is checked with its own."""
        self._dummy: str | None = None

    def all(self) -> list[User]:
        """Every account, by name."""
        return [_user(row) for row in self.db.rows("SELECT * FROM users ORDER BY name")]

    def get(self, name: str) -> User | None:
        found = self.db.rows("SELECT * FROM users WHERE name = ?", name)
        return _user(found[0]) if found else None

    def add(self, name: str, role: str, unit: str, password: str) -> User:
        """A new account; its name must be new, its password long enough."""
        if not _NAME.match(name):
            raise AccountError(f"用户名“{name}”不合要求：2至40个字母、数字、汉字或 . _ -")
        _check_role_unit(role, unit)
        _check_password(password)
        user = User(name, cast(Role, role), unit.strip(), self.hasher.hash(password), changed=time.time())
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccountError(f"用户“{name}”已存在")
            conn.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)",
                         (user.name, user.role, user.unit, user.password_hash, 0, user.changed))
        return user

    def set_password(self, name: str, password: str) -> None:
        """Replace an account's password; its open sessions end."""
        _check_password(password)
        self._update(name, ends_sessions=True, password_hash=self.hasher.hash(password), changed=time.time())

    def disable(self, name: str) -> None:
        """Stop an account from logging in; its open sessions end."""
        self._update(name, ends_sessions=True, disabled=1, changed=time.time())

    def enable(self, name: str) -> None:
        """Let a disabled account log in again (with its password as it was)."""
        self._update(name, ends_sessions=False, disabled=0)

    def assign(self, name: str, role: str, unit: str) -> None:
        """Give an account another role or unit; its open sessions end, since what it may see changes."""
        _check_role_unit(role, unit)
        self._update(name, ends_sessions=True, role=role, unit=unit.strip(), changed=time.time())

    def _update(self, name: str, ends_sessions: bool, **values: object) -> None:
        columns = ", ".join(f"{column} = ?" for column in values)
        with self.db.write() as conn:
            if conn.execute(f"UPDATE users SET {columns} WHERE name = ?", (*values.values(), name)).rowcount == 0:
                raise AccountError(f"用户“{name}”不存在")
            if ends_sessions:
                # In the same transaction: no request can pass with a session of the account as it was.
                conn.execute("DELETE FROM sessions WHERE user = ?", (name,))

    def verify(self, name: str, password: str) -> User | None:
        """The account when the name and password match and it is enabled; None otherwise."""
        user = self.get(name)
        if user is None:
            if self._dummy is None:
                self._dummy = self.hasher.hash("no such account: spend the time a real check takes")
            _check_hash(self._dummy, password)  # no faster answer for a name that does not exist
            return None
        if not _check_hash(user.password_hash, password) or user.disabled:
            return None
        return user


def _check_hash(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_role_unit(role: str, unit: str) -> None:
    if role not in ROLES:
        raise AccountError(f"未知的角色“{role}”，可选：{'、'.join(ROLES)}")
    if not unit.strip():
        raise AccountError("须写明所属单位（--unit）")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少{MIN_PASSWORD}个字符")
    if password.strip() != password or "\n" in password:
        raise AccountError("密码首尾不能有空格或换行")


class Throttle:
    """Failed logins counted per account and per address in the database; too many in the window
    refuse the next, and a restart of the server does not forget them."""

    def __init__(self, db: StateDB, per_account: int = 5, per_address: int = 20, window: float = 900.0) -> None:
        self.db = db
        self.limits = {"account": per_account, "address": per_address}
        self.window = window

    def blocked(self, account: str, address: str, now: float | None = None) -> bool:
        """True while either the account or the address has too many recent failures."""
        now = time.time() if now is None else now
        for scope, key in (("account", account), ("address", address)):
            count = self.db.rows("SELECT count(*) FROM login_failures WHERE scope = ? AND key = ? AND time > ?",
                                 scope, key, now - self.window)[0][0]
            if count >= self.limits[scope]:
                return True
        return False

    def failed(self, account: str, address: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.db.write() as conn:
            conn.execute("DELETE FROM login_failures WHERE time <= ?", (now - self.window,))
            conn.executemany("INSERT INTO login_failures VALUES (?, ?, ?)",
                             [("account", account, now), ("address", address, now)])

    def succeeded(self, account: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM login_failures WHERE scope = 'account' AND key = ?", (account,))


def _user(row: Any) -> User:
    return User(row["name"], row["role"], row["unit"], row["password_hash"], bool(row["disabled"]), row["changed"])
