"""Accounts of the web front end: names, roles, units and argon2id password hashes in the instance folder."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type

from generator.errors import GaizaoError
from generator.output.writer import atomic_write

Role = Literal["street", "district", "city", "admin"]
ROLES: dict[str, str] = {
    "street": "街道办事处（乡镇）",
    "district": "县（区）住房城乡建设部门",
    "city": "市住房城乡建设部门",
    "admin": "系统管理员",
}
"""Each role and what its unit names: a street office, a district, the city."""

USERS_FILE = "users.json"
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
    """The users file of an instance folder; every change is written atomically under a lock."""

    def __init__(self, instance: Path, hasher: PasswordHasher | None = None) -> None:
        self.path = instance / USERS_FILE
        self._lock = threading.Lock()
        self.hasher = hasher or _HASHER
        """New hashes are made with these costs; a stored hash is checked with its own."""
        self._dummy: str | None = None

    def _read(self) -> dict[str, User]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {name: User(**row) for name, row in raw["users"].items()}
        except (ValueError, KeyError, TypeError) as exc:
            raise AccountError(f"{self.path}：账户文件已损坏（{exc}），请从备份恢复") from None

    def _write(self, users: dict[str, User]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"users": {name: asdict(u) for name, u in sorted(users.items())}}
        atomic_write(self.path, json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8"))
        self.path.chmod(0o600)

    def all(self) -> list[User]:
        """Every account, by name."""
        return sorted(self._read().values(), key=lambda u: u.name)

    def get(self, name: str) -> User | None:
        return self._read().get(name)

    def add(self, name: str, role: str, unit: str, password: str) -> User:
        """A new account; its name must be new, its password long enough."""
        if not _NAME.match(name):
            raise AccountError(f"用户名“{name}”不合要求：2至40个字母、数字、汉字或 . _ -")
        _check_role_unit(role, unit)
        _check_password(password)
        with self._lock:
            users = self._read()
            if name in users:
                raise AccountError(f"用户“{name}”已存在")
            user = User(name, cast(Role, role), unit.strip(), self.hasher.hash(password), changed=time.time())
            users[name] = user
            self._write(users)
        return user

    def set_password(self, name: str, password: str) -> None:
        """Replace an account's password; its open sessions end."""
        _check_password(password)
        self._update(name, password_hash=self.hasher.hash(password), changed=time.time())

    def disable(self, name: str) -> None:
        """Stop an account from logging in; its open sessions end."""
        self._update(name, disabled=True, changed=time.time())

    def enable(self, name: str) -> None:
        """Let a disabled account log in again (with its password as it was)."""
        self._update(name, disabled=False)

    def assign(self, name: str, role: str, unit: str) -> None:
        """Give an account another role or unit; its open sessions end, since what it may see changes."""
        _check_role_unit(role, unit)
        self._update(name, role=role, unit=unit.strip(), changed=time.time())

    def _update(self, name: str, **values: object) -> None:
        with self._lock:
            users = self._read()
            if name not in users:
                raise AccountError(f"用户“{name}”不存在")
            users[name] = User(**{**asdict(users[name]), **values})  # type: ignore[arg-type]
            self._write(users)

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
    """Failed logins counted per account and per address; too many in the window refuse the next."""

    def __init__(self, per_account: int = 5, per_address: int = 20, window: float = 900.0) -> None:
        self.limits = {"account": per_account, "address": per_address}
        self.window = window
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.window]
        self._failures[key] = times
        return times

    def blocked(self, account: str, address: str, now: float | None = None) -> bool:
        """True while either the account or the address has too many recent failures."""
        now = time.time() if now is None else now
        with self._lock:
            return (len(self._recent(("account", account), now)) >= self.limits["account"]
                    or len(self._recent(("address", address), now)) >= self.limits["address"])

    def failed(self, account: str, address: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            for key in (("account", account), ("address", address)):
                self._recent(key, now).append(now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._failures.pop(("account", account), None)
