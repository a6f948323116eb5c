"""The security settings the 安全管理员 sets (password rules, lockout, idle timeout, concurrent sessions),
kept in the instance database, and the password check they drive."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from generator.errors import GaizaoError
from generator.web.statedb import StateDB, now_iso


class PolicyError(GaizaoError):
    """A password or a setting that the rules refuse, said in Chinese."""


@dataclass(frozen=True)
class Policy:
    min_length: int = 10
    """Characters of a password at least."""
    classes: int = 3
    """Of the four kinds (upper case, lower case, digits, other signs), how many a password must mix."""
    history: int = 5
    """A new password may not be any of the account's last this many."""
    max_age_days: int = 90
    """A password older than this must be changed at the next login (0: never)."""
    warn_days: int = 7
    """Days before that a logged-in account is told its password will expire."""
    lock_after: int = 5
    """Failed logins in a row that lock the account."""
    lock_minutes: int = 30
    """How long a lock lasts (0: until the 安全管理员 unlocks it)."""
    idle_minutes: int = 15
    """A session unused this long ends. Fifteen, not the ten assessors often ask: a clerk typing a long
    section loses nothing either way (a stale save is refused with what was typed), and a 安全管理员
    who is asked for ten sets ten."""
    max_sessions: int = 2
    """Sessions one account may hold at once; a new login ends the oldest beyond it."""
    level: int = 2
    """The 等级保护 level: 3 adds a second factor (TOTP), the SM3 audit chain, and no serving without HTTPS."""


LIMITS: dict[str, tuple[int, int]] = {
    "min_length": (8, 64), "classes": (1, 4), "history": (0, 24), "max_age_days": (0, 365), "warn_days": (0, 30),
    "lock_after": (3, 20), "lock_minutes": (0, 1440), "idle_minutes": (1, 240), "max_sessions": (1, 20),
    "level": (2, 3),
}
"""What each setting may be set to."""

LABELS: dict[str, str] = {
    "min_length": "密码最短长度（字符）", "classes": "密码至少包含的字符种类（大写、小写、数字、其他符号四类中）",
    "history": "新密码不得与最近几次密码相同", "max_age_days": "密码有效期（天，0为不过期）",
    "warn_days": "到期前几天提醒", "lock_after": "连续登录失败几次锁定账户",
    "lock_minutes": "锁定时长（分钟，0为须由安全管理员解锁）", "idle_minutes": "无操作自动退出（分钟）",
    "max_sessions": "同一账户同时在线的会话数",
    "level": "等级保护级别（2或3；3为登录加动态口令、操作记录用SM3校验、只在HTTPS之后运行）",
}


def load(db: StateDB) -> Policy:
    """The settings as the 安全管理员 left them; defaults for what was never set."""
    stored = {r["key"]: r["value"] for r in db.rows("SELECT key, value FROM settings")}
    values = {}
    for f in fields(Policy):
        if f.name in stored and f.name in LIMITS:
            try:
                values[f.name] = int(json.loads(stored[f.name]))
            except (ValueError, TypeError):
                continue  # a value broken by hand: the default holds
    return Policy(**values)


def changed_settings(db: StateDB) -> set[str]:
    """The settings someone has set (the rest are defaults)."""
    return {r["key"] for r in db.rows("SELECT key FROM settings")} & set(LIMITS)


SERVED = "served"
"""The settings row where the server notes how it was last started (behind the HTTPS proxy or not)."""


def note_served(db: StateDB, behind_https: bool, data_dir: Path | None = None) -> None:
    """Remember how the web service was started and over which data folder, for `gaizao security check`."""
    value: dict[str, object] = {"behind_https": behind_https}
    if data_dir is not None:
        value["data"] = str(data_dir)
    with db.write() as conn:
        conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?, ?, ?)",
                     (SERVED, json.dumps(value, ensure_ascii=False), now_iso(), ""))


def last_served(db: StateDB) -> dict[str, object] | None:
    """How the web service was last started and when; None when it never was."""
    rows = db.rows("SELECT value, time FROM settings WHERE key = ?", SERVED)
    if not rows:
        return None
    try:
        value = json.loads(rows[0]["value"])
    except ValueError:
        return None
    return {**value, "time": rows[0]["time"]} if isinstance(value, dict) else None


def save(db: StateDB, given: dict[str, str], user: str) -> tuple[Policy, list[str]]:
    """New values for some settings, each checked against its limits; nothing is stored when one is wrong.
    Returns the new settings and what changed (for the audit log)."""
    old = load(db)
    new: dict[str, int] = {}
    for key, raw in given.items():
        if key not in LIMITS:
            continue
        low, high = LIMITS[key]
        try:
            value = int(raw.strip())
        except ValueError:
            raise PolicyError(f"{LABELS[key]}：“{raw[:20]}”不是整数") from None
        if not low <= value <= high:
            raise PolicyError(f"{LABELS[key]}：须在{low}至{high}之间")
        new[key] = value
    policy = replace(old, **new)
    changes = [f"{LABELS[k]} {getattr(old, k)}→{v}" for k, v in new.items() if getattr(old, k) != v]
    with db.write() as conn:
        for key, value in new.items():
            conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?, ?, ?)",
                         (key, json.dumps(value), now_iso(), user))
        if policy.level >= 3:
            from generator.web.atrest import seal_phones

            seal_phones(conn, db.path.parent)  # the accounts' phones from before the switch, in this transaction
    return policy, changes


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords every guesser tries first, lower-cased."""
    text = resources.files("generator.web").joinpath("resources/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def classes_of(password: str) -> int:
    """How many of the four kinds of character a password mixes."""
    return sum((any(c.isupper() for c in password), any(c.islower() for c in password),
                any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))


def check_password(policy: Policy, name: str, password: str) -> None:
    """Refuse a password the rules do not allow, saying which rule (the history is checked by the accounts)."""
    if len(password) < policy.min_length:
        raise PolicyError(f"密码至少{policy.min_length}个字符")
    if password.strip() != password or "\n" in password or "\r" in password:
        raise PolicyError("密码首尾不能有空格或换行")
    if classes_of(password) < policy.classes:
        raise PolicyError(f"密码须包含大写字母、小写字母、数字、其他符号中的至少{policy.classes}类")
    lowered = password.lower()
    if len(name) >= 3 and name.lower() in lowered:
        raise PolicyError("密码不能包含用户名")
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        raise PolicyError("密码过于常见或过于简单，容易被猜中，请换一个")


def as_dict(policy: Policy) -> dict[str, int]:
    """The settings the page shows, by key."""
    return {k: v for k, v in asdict(policy).items() if k in LIMITS}
