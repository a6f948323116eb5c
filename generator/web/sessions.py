"""Sessions kept on the server: the cookie carries only a random key, so logging out, a new
password or a disabled account ends every copy of that cookie at once."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from generator.web.statedb import StateDB

TOUCH_EVERY = 30.0
"""Seconds between writes of a session's last use: a page's many requests cost one write, not one each."""


@dataclass(frozen=True)
class Session:
    user: str
    since: float
    """When the account logged in (epoch seconds)."""
    seen: float
    """When the session was last used, to within TOUCH_EVERY."""


def _key(token: str) -> str:
    # Only a hash is stored: a copy of the database does not hand out live sessions.
    return hashlib.sha256(token.encode("ascii", errors="replace")).hexdigest()


class Sessions:
    """The open sessions of an instance: one row each, removed when it ends."""

    def __init__(self, db: StateDB) -> None:
        self.db = db

    def start(self, user: str, address: str, lifetime: float) -> str:
        """A new session of an account: the token its cookie carries. Sessions past their day are cleared."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.db.write() as conn:
            conn.execute("DELETE FROM sessions WHERE since < ?", (now - lifetime,))
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", (_key(token), user, now, now, address))
        return token

    def get(self, token: str) -> Session | None:
        """The session a cookie's token stands for; None when it has ended (or never was)."""
        rows = self.db.rows("SELECT user, since, seen FROM sessions WHERE id = ?", _key(token))
        return Session(rows[0]["user"], rows[0]["since"], rows[0]["seen"]) if rows else None

    def touch(self, token: str, session: Session, now: float) -> None:
        """Note that the session is in use now (written at most every TOUCH_EVERY seconds)."""
        if now - session.seen >= TOUCH_EVERY:
            with self.db.write() as conn:
                conn.execute("UPDATE sessions SET seen = ? WHERE id = ?", (now, _key(token)))

    def end(self, token: str) -> None:
        """End one session: its cookie, and every copy of it, no longer logs anyone in."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (_key(token),))

    def count(self, user: str) -> int:
        """The account's open sessions."""
        return int(self.db.rows("SELECT count(*) FROM sessions WHERE user = ?", user)[0][0])

    def trim(self, user: str, keep: int) -> int:
        """End the account's oldest sessions beyond the newest `keep`; how many ended."""
        with self.db.write() as conn:
            return conn.execute("DELETE FROM sessions WHERE user = ? AND id NOT IN (SELECT id FROM sessions WHERE "
                                "user = ? ORDER BY since DESC LIMIT ?)", (user, user, keep)).rowcount
