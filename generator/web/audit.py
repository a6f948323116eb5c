"""The append-only audit log: who changed which project when, each field before → after; and the
record of every file uploaded."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from generator.web.statedb import StateDB, now_iso


@dataclass(frozen=True)
class FieldChange:
    field: str
    """The field as the data docs and rule messages name it: survey.support（同意户数）."""
    before: str
    after: str


@dataclass(frozen=True)
class Event:
    time: str
    """ISO 8601 in UTC."""
    user: str
    action: str
    """login, login-failed, logout, save, download."""
    project: str = ""
    changes: list[FieldChange] = field(default_factory=list)
    version_before: str = ""
    version_after: str = ""
    detail: str = ""

    @property
    def local_time(self) -> str:
        """The time as a clerk reads it, in the server's time zone."""
        return dt.datetime.fromisoformat(self.time).astimezone().strftime("%Y-%m-%d %H:%M:%S")


class AuditLog:
    """One row per event in the instance database, appended; nothing is ever rewritten."""

    def __init__(self, instance: Path) -> None:
        self.db = StateDB.of(instance)

    def append(self, user: str, action: str, project: str = "", changes: list[FieldChange] | None = None,
               version_before: str = "", version_after: str = "", detail: str = "") -> Event:
        """Record one event now."""
        event = Event(now_iso(), user, action, project, changes or [], version_before, version_after, detail)
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO audit (time, user, action, project, changes, version_before, version_after, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (event.time, user, action, project, json.dumps([asdict(c) for c in event.changes], ensure_ascii=False),
                 version_before, version_after, detail))
        return event

    def events(self, project: str | None = None) -> list[Event]:
        """Every event (of one project), oldest first."""
        where, args = ("WHERE project = ?", (project,)) if project is not None else ("", ())
        return [Event(r["time"], r["user"], r["action"], r["project"],
                      [FieldChange(**c) for c in json.loads(r["changes"])], r["version_before"],
                      r["version_after"], r["detail"])
                for r in self.db.rows(f"SELECT * FROM audit {where} ORDER BY id", *args)]


@dataclass(frozen=True)
class Upload:
    time: str
    user: str
    community: str
    what: str
    """form, photo or roster."""
    filename: str
    """As the client named it: shown, never used as a path."""
    size: int
    sha256: str
    outcome: str
    """imported, unchanged or refused, and why."""


class UploadLog:
    """Every file uploaded to the server, whatever became of it: who sent what, when, its checksum."""

    def __init__(self, instance: Path) -> None:
        self.db = StateDB.of(instance)

    def record(self, user: str, community: str, what: str, filename: str, raw: bytes, outcome: str) -> None:
        """One upload as it was received."""
        with self.db.write() as conn:
            conn.execute("INSERT INTO uploads (time, user, community, what, filename, size, sha256, outcome) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (now_iso(), user, community, what, filename, len(raw), hashlib.sha256(raw).hexdigest(),
                          outcome))

    def uploads(self, community: str | None = None) -> list[Upload]:
        """Every upload (for one community), oldest first."""
        where, args = ("WHERE community = ?", (community,)) if community is not None else ("", ())
        return [Upload(*(r[f.name] for f in fields(Upload)))
                for r in self.db.rows(f"SELECT * FROM uploads {where} ORDER BY id", *args)]
