"""Accounts of the web front end: names, roles, units and argon2id password hashes in the instance database."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type

from generator.errors import GaizaoError
from generator.web.atrest import Opener, sealer
from generator.web.policy import Policy, PolicyError, check_password
from generator.web.policy import load as load_policy
from generator.web.statedb import StateDB

Role = Literal["street", "district", "city", "admin", ""]
ROLES: dict[str, str] = {
    "street": "街道办事处（乡镇）",
    "district": "县（区）住房城乡建设部门",
    "city": "市住房城乡建设部门",
    "admin": "全市资料管理",
}
"""Each business role and what its unit names: a street office, a district, the city. `admin` sees and
changes every community (before the three administrators it also managed the accounts)."""

DUTIES: dict[str, str] = {
    "sysadmin": "系统管理员",
    "secadmin": "安全管理员",
    "auditor": "审计管理员",
}
"""The three administrators (三员): accounts and units; security settings and unlocks; the audit log.
An account holds at most one, and sees project data only through a business role of its own."""

ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,40}$")

_HASHER = PasswordHasher(type=Type.ID)
INITIAL_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)
"""For the random first passwords of accounts made from a sheet (hundreds at once): argon2id at the
recommended minimum (19 MiB, 2 passes). The cost guards guessable passwords; a random 14-character one
is out of reach at any cost, and it is replaced, at full cost, at the account's first login."""


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
    """When the password, the role or the state last changed (epoch seconds): sessions from before it end."""
    duty: str = ""
    """One of DUTIES, or none."""
    must_change: bool = False
    """The password was set by someone else: it must be changed before anything else."""
    password_set: float = 0.0
    """When the password was set (epoch seconds), for its expiry."""
    last_login: float = 0.0
    last_address: str = ""
    totp: str = ""
    """The base32 TOTP secret of the second factor (第三级); empty until the account enrols."""
    person: str = ""
    """The name of the person who uses the account (姓名)."""
    phone: str = ""

    @property
    def role_name(self) -> str:
        names = [ROLES[self.role]] if self.role else []
        return "、".join(names + ([DUTIES[self.duty]] if self.duty in DUTIES else []))


@dataclass(frozen=True)
class NewAccount:
    """An account to be made: what `add` takes."""

    name: str
    role: str
    unit: str
    password: str
    duty: str = ""
    person: str = ""
    phone: str = ""


def initial_password(name: str, length: int = 14) -> str:
    """A random first password of every character class, for an account made from a sheet (changed at first
    login); never one that contains the account's name."""
    groups = ("ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "-_+=#%@")
    alphabet = "".join(groups)
    while True:
        chars = [secrets.choice(g) for g in groups] + [secrets.choice(alphabet) for _ in range(length - len(groups))]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        if len(name) < 3 or name.lower() not in password.lower():
            return password


class Accounts:
    """The accounts of an instance folder, in its database; each change is one transaction."""

    def __init__(self, instance: Path, hasher: PasswordHasher | None = None) -> None:
        self.db = StateDB.of(instance)
        self.hasher = hasher or _HASHER
        """New hashes are made with these costs; a stored hash is checked with its own."""
        self._dummy: str | None = None

    def all(self) -> list[User]:
        """Every account, by name."""
        opened = Opener(self.db)
        return [_user(row, opened) for row in self.db.rows("SELECT * FROM users ORDER BY name")]

    def search(self, text: str = "", role: str = "", offset: int = 0, limit: int = 50) -> tuple[list[User], int]:
        """The accounts whose name, person's name or unit contains text (and of this role), a page of them by
        name, and how many match in all."""
        where, args = ["1 = 1"], []
        if text.strip():
            like = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(name LIKE ? ESCAPE '\\' OR person LIKE ? ESCAPE '\\' OR unit LIKE ? ESCAPE '\\')")
            args += [like, like, like]
        if role in DUTIES:
            where.append("duty = ?")
            args.append(role)
        elif role:
            where.append("role = ?")
            args.append(role)
        clause = " AND ".join(where)
        total = self.db.rows(f"SELECT count(*) FROM users WHERE {clause}", *args)[0][0]
        rows = self.db.rows(f"SELECT * FROM users WHERE {clause} ORDER BY name LIMIT ? OFFSET ?", *args, limit, offset)
        opened = Opener(self.db)
        return [_user(r, opened) for r in rows], int(total)

    def get(self, name: str) -> User | None:
        found = self.db.rows("SELECT * FROM users WHERE name = ?", name)
        return _user(found[0], Opener(self.db)) if found else None

    def policy(self) -> Policy:
        """The security settings now (read once per web request)."""
        from flask import g, has_app_context

        if has_app_context():
            if "policy" not in g:
                g.policy = load_policy(self.db)
            return cast(Policy, g.policy)
        return load_policy(self.db)

    def add(self, name: str, role: str, unit: str, password: str, duty: str = "", must_change: bool = False,
            person: str = "", phone: str = "") -> User:
        """A new account; its name must be new, its password within the rules. must_change: set by someone
        else, so changed at its first login."""
        return self.add_many([NewAccount(name, role, unit, password, duty, person, phone)], must_change)[0]

    def add_many(self, new: list[NewAccount], must_change: bool = True, generated: bool = False) -> list[User]:
        """Several new accounts in one transaction: all of them, or none when one cannot be made (AccountError
        naming it). generated: the passwords are initial_password()'s, hashed at INITIAL_HASHER's cost."""
        from concurrent.futures import ThreadPoolExecutor

        now = time.time()
        for a in new:
            if not ACCOUNT_NAME.match(a.name):
                raise AccountError(f"用户名“{a.name}”不合要求：2至40个字母、数字、汉字或 . _ -")
            _check_role_unit(a.role, a.unit, a.duty)
            self._check_password(a.name, a.password)
        hasher = INITIAL_HASHER if generated and self.hasher is _HASHER else self.hasher
        # argon2 runs outside the GIL: the hashes of a long sheet are made on every core
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            hashes = list(pool.map(lambda a: hasher.hash(a.password), new))
        users = [User(a.name, cast(Role, a.role), a.unit.strip(), hashed, changed=now, duty=a.duty,
                      must_change=must_change, password_set=now, person=a.person.strip(), phone=a.phone.strip())
                 for a, hashed in zip(new, hashes, strict=True)]
        with self.db.write() as conn:
            seal = sealer(conn, self.db.path.parent)  # the phone is personal: sealed at the 第三级
            for user in users:
                if conn.execute("SELECT 1 FROM users WHERE name = ?", (user.name,)).fetchone():
                    raise AccountError(f"用户“{user.name}”已存在")
                conn.execute("INSERT INTO users (name, role, unit, password_hash, disabled, changed, duty, "
                             "must_change, password_set, person, phone) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
                             (user.name, user.role, user.unit, user.password_hash, now, user.duty,
                              int(must_change), now, user.person, seal(user.phone)))
                conn.execute("INSERT INTO password_history VALUES (?, ?, ?)", (user.name, user.password_hash, now))
        return users

    def set_password(self, name: str, password: str, must_change: bool = False) -> None:
        """Replace an account's password (by someone else when must_change); its open sessions end."""
        self._check_password(name, password)
        found = self.get(name)
        if found is None:
            raise AccountError(f"用户“{name}”不存在")
        keep = self.policy().history
        if keep:
            earlier = self.db.rows("SELECT password_hash FROM password_history WHERE user = ? "
                                   "ORDER BY time DESC LIMIT ?", name, keep)
            if any(_check_hash(r["password_hash"], password) for r in earlier):
                raise AccountError(f"新密码不能与最近{keep}次用过的密码相同")
        now = time.time()
        hashed = self.hasher.hash(password)
        self._update(name, ends_sessions=True, password_hash=hashed, changed=now, password_set=now,
                     must_change=int(must_change))
        with self.db.write() as conn:
            conn.execute("INSERT INTO password_history VALUES (?, ?, ?)", (name, hashed, now))

    def set_duty(self, name: str, duty: str) -> None:
        """Make an account one of the three administrators (or none of them, with ""); its sessions end."""
        if duty and duty not in DUTIES:
            raise AccountError(f"未知的管理职责“{duty}”，可选：{'、'.join(DUTIES)}")
        user = self.get(name)
        if user is None:
            raise AccountError(f"用户“{name}”不存在")
        if not duty and not user.role:
            raise AccountError(f"账户“{name}”没有业务角色，不能再去掉管理职责；"
                               "请先用 users assign 给它业务角色，或停用它")
        self._update(name, ends_sessions=True, duty=duty, changed=time.time())

    def enrol_totp(self, name: str, secret: str) -> list[str]:
        """Keep an account's TOTP secret; returns its new one-time recovery codes (shown once, kept hashed)."""
        codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
        with self.db.write() as conn:
            conn.execute("UPDATE users SET totp = ? WHERE name = ?", (sealer(conn, self.db.path.parent)(secret), name))
            conn.execute("DELETE FROM recovery_codes WHERE user = ?", (name,))
            conn.executemany("INSERT INTO recovery_codes (user, code_hash) VALUES (?, ?)",
                             [(name, _code_hash(c)) for c in codes])
        return codes

    def reset_totp(self, name: str) -> None:
        """Forget an account's second factor: it enrols again at its next login."""
        self._update(name, ends_sessions=True, totp="", changed=time.time())

    def second_factor(self, user: User, code: str, now: float | None = None) -> bool:
        """Whether a TOTP code (this 30 s step or the one either side) or an unused recovery code is right;
        a recovery code is spent by its use."""
        import pyotp

        code = code.strip().lower()
        if user.totp and code.isdigit() and pyotp.TOTP(user.totp).verify(code, for_time=now, valid_window=1):
            return True
        with self.db.write() as conn:
            return conn.execute("UPDATE recovery_codes SET used = ? WHERE user = ? AND code_hash = ? AND used = 0",
                                (time.time(), user.name, _code_hash(code))).rowcount == 1

    def logged_in(self, name: str, address: str, now: float) -> None:
        """Note a successful login (what the next login shows as the last one)."""
        with self.db.write() as conn:
            conn.execute("UPDATE users SET last_login = ?, last_address = ? WHERE name = ?", (now, address, name))

    def _check_password(self, name: str, password: str) -> None:
        try:
            check_password(self.policy(), name, password)
        except PolicyError as exc:
            raise AccountError(str(exc)) from None

    def disable(self, name: str) -> None:
        """Stop an account from logging in; its open sessions end."""
        self._update(name, ends_sessions=True, disabled=1, changed=time.time())

    def enable(self, name: str) -> None:
        """Let a disabled account log in again (with its password as it was)."""
        self._update(name, ends_sessions=False, disabled=0)

    def assign(self, name: str, role: str, unit: str) -> None:
        """Give an account another role or unit; its open sessions end, since what it may see changes."""
        user = self.get(name)
        _check_role_unit(role, unit, user.duty if user else "")
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


RECOVERY_CODES = 8
"""One-time codes an account gets with its second factor, for a lost phone."""


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().encode("utf-8")).hexdigest()


def _check_hash(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_role_unit(role: str, unit: str, duty: str = "") -> None:
    if duty and duty not in DUTIES:
        raise AccountError(f"未知的管理职责“{duty}”，可选：{'、'.join(DUTIES)}")
    if role not in ROLES and not (duty and role == ""):
        raise AccountError(f"未知的角色“{role}”，可选：{'、'.join(ROLES)}")
    if not unit.strip():
        raise AccountError("须写明所属单位（--unit）")


class Throttle:
    """Failed logins counted per account and per address in the database. N failures of an account in a
    row lock it for the set time (or until the 安全管理员 unlocks it); too many from one address refuse
    that address for the window. Whether the account exists changes nothing, and a restart forgets nothing."""

    def __init__(self, db: StateDB, per_account: int | None = None, per_address: int = 20, window: float = 900.0,
                 lock_seconds: float | None = None) -> None:
        self.db = db
        self.per_account = per_account
        """None: the security settings' number."""
        self.per_address = per_address
        self.window = window
        self.lock_seconds = lock_seconds
        """None: the security settings' time; 0: until unlocked."""

    def _limits(self) -> tuple[int, float]:
        if self.per_account is not None and self.lock_seconds is not None:
            return self.per_account, self.lock_seconds
        policy = load_policy(self.db)
        return (policy.lock_after if self.per_account is None else self.per_account,
                policy.lock_minutes * 60.0 if self.lock_seconds is None else self.lock_seconds)

    def blocked(self, account: str, address: str, now: float | None = None) -> bool:
        """True while the account is locked or the address has too many recent failures."""
        now = time.time() if now is None else now
        if self.lock_of(account, now) is not None:
            return True
        count = self.db.rows("SELECT count(*) FROM login_failures WHERE scope = 'address' AND key = ? AND time > ?",
                             address, now - self.window)[0][0]
        return bool(count >= self.per_address)

    def lock_of(self, account: str, now: float | None = None) -> float | None:
        """When the account's lock ends (0: when unlocked); None when it is not locked."""
        now = time.time() if now is None else now
        rows = self.db.rows("SELECT until FROM locks WHERE user = ?", account)
        if rows and (rows[0]["until"] == 0 or rows[0]["until"] > now):
            return float(rows[0]["until"])
        return None

    def failed(self, account: str, address: str, now: float | None = None) -> bool:
        """Count one failure; True when it locks the account."""
        now = time.time() if now is None else now
        per_account, lock = self._limits()
        with self.db.write() as conn:
            conn.execute("DELETE FROM login_failures WHERE time <= ?", (now - self.window,))
            conn.executemany("INSERT INTO login_failures VALUES (?, ?, ?)",
                             [("account", account, now), ("address", address, now)])
            count = conn.execute("SELECT count(*) FROM login_failures WHERE scope = 'account' AND key = ?",
                                 (account,)).fetchone()[0]
            if count < per_account:
                return False
            conn.execute("INSERT OR REPLACE INTO locks VALUES (?, ?, ?)", (account, now, now + lock if lock else 0))
            conn.execute("DELETE FROM login_failures WHERE scope = 'account' AND key = ?", (account,))
        return True

    def succeeded(self, account: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM login_failures WHERE scope = 'account' AND key = ?", (account,))

    def unlock(self, account: str) -> bool:
        """End an account's lock and forget its failures; False when it was not locked."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM login_failures WHERE scope = 'account' AND key = ?", (account,))
            return conn.execute("DELETE FROM locks WHERE user = ?", (account,)).rowcount > 0

    def locks(self, now: float | None = None) -> list[tuple[str, float, float]]:
        """The accounts locked now: name, since, until (0: until unlocked)."""
        now = time.time() if now is None else now
        return [(r["user"], r["since"], r["until"]) for r in
                self.db.rows("SELECT * FROM locks WHERE until = 0 OR until > ? ORDER BY since", now)]


def _user(row: Any, opened: Opener) -> User:
    return User(row["name"], row["role"], row["unit"], row["password_hash"], bool(row["disabled"]), row["changed"],
                row["duty"], bool(row["must_change"]), row["password_set"], row["last_login"], row["last_address"],
                opened(row["totp"]), row["person"], opened(row["phone"]))
