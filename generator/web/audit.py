"""The append-only audit log: who changed which project when, each field before → after."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

AUDIT_FILE = "audit.log"


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
    """One JSON line per event, appended and flushed to disk; nothing is ever rewritten."""

    def __init__(self, instance: Path) -> None:
        self.path = instance / AUDIT_FILE
        self._lock = threading.Lock()

    def append(self, user: str, action: str, project: str = "", changes: list[FieldChange] | None = None,
               version_before: str = "", version_after: str = "", detail: str = "") -> Event:
        """Record one event now."""
        event = Event(dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), user, action, project,
                      changes or [], version_before, version_after, detail)
        append_line(self.path, self._lock, asdict(event))
        return event

    def events(self, project: str | None = None) -> list[Event]:
        """Every event (of one project), oldest first; a line cut short by a crash is skipped."""
        out = []
        for raw in read_lines(self.path):
            if project is not None and raw.get("project") != project:
                continue
            raw["changes"] = [FieldChange(**c) for c in raw.get("changes", [])]
            out.append(Event(**raw))
        return out


def append_line(path: Path, lock: threading.Lock, record: dict[str, Any]) -> None:
    """One record as a JSON line at the end of the file, flushed to disk before this returns."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


def read_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Each record of a JSON-lines file, oldest first; a line cut short by a crash is skipped."""
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                raw = json.loads(line)
            except ValueError:
                continue
            if isinstance(raw, dict):
                yield raw
