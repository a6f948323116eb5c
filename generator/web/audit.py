"""The append-only audit log: who did what from where, to which object, with what outcome (each data
change field by field, before → after), every record carrying a hash of the one before so that a
record changed or removed outside the app shows; and the record of every file uploaded."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from generator.data.sealed import sm3_hex
from generator.web.atrest import Opener, level3, sealer
from generator.web.statedb import StateDB, database_folder, now_iso

SEALED = "audit_sealed"
"""The settings row that says the records from before the hash chain were chained, once."""

ACTIONS: dict[str, str] = {
    "login": "登录", "login-failed": "登录失败", "login-throttled": "登录被拒（锁定中）", "lock": "账户锁定",
    "unlock": "解除锁定", "logout": "退出登录", "session-limit": "超出在线会话数，结束旧会话",
    "password-change": "修改本人密码", "save": "修改资料", "save-failed": "修改资料未保存", "review": "审核",
    "print": "批量打印",
    "plan-import": "导入年度计划", "user-add": "新增账户", "user-disable": "停用账户", "user-enable": "启用账户",
    "user-passwd": "重设密码", "user-list-full": "命令行列出账户完整手机号", "user-assign": "修改角色和单位",
    "user-duty": "修改管理职责",
    "security-settings": "修改安全设置", "audit-export": "导出操作记录", "audit-verify": "校验操作记录",
    "roster-download": "下载住户名册", "roster-export": "命令行导出住户名册",
    "backup": "备份", "restore": "恢复", "totp-enrol": "开通动态口令",
    "personal-download": "下载含住户信息的文书",
    "vote-download": "下载表决票登记表", "survey-download": "下载满意度调查答卷登记表",
    "totp-reset": "重置动态口令",
    "data-seal": "加密保存住户文件（SM4）", "data-unseal": "住户文件改为明文保存",
}
"""Each event as the audit page and workbook name it."""

PURPOSE = 100
"""Characters of a roster download's or export's stated purpose at most."""


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
    address: str = ""
    """The client's address (the proxy's forwarded one behind --behind-https); empty for the command line."""
    outcome: str = ""
    """成功 or 失败 (empty in records from before outcomes were kept)."""
    id: int = 0

    @property
    def action_name(self) -> str:
        """The event in Chinese."""
        return ACTIONS.get(self.action, self.action)

    @property
    def local_time(self) -> str:
        """The time as a clerk reads it, in the server's time zone."""
        return _local_time(self.time)


def _local_time(time: str) -> str:
    return dt.datetime.fromisoformat(time).astimezone().strftime("%Y-%m-%d %H:%M:%S")


CHAINED = ("time", "user", "action", "project", "changes", "version_before", "version_after", "detail", "address",
           "outcome")
"""The columns each record's hash covers, with the hash of the record before."""


SM3 = "sm3:"
"""The prefix of a hash made with SM3 (GB/T 32905), as the 第三级 switch asks; SHA-256 otherwise."""


def record_hash(previous: str, values: Sequence[Any], sm3: bool = False) -> str:
    """The hash a record carries: over the previous record's hash and this record's columns (in CHAINED
    order), each prefixed with its length so that no two different records read alike."""
    parts = [previous.encode("ascii")]
    for value in values:
        raw = str(value).encode("utf-8")
        parts += [len(raw).to_bytes(8, "big"), raw]
    if sm3:
        return SM3 + sm3_hex(b"".join(parts))
    return hashlib.sha256(b"".join(parts)).hexdigest()


_SELECT_CHAINED = f"SELECT id, time, hash, {', '.join(CHAINED)} FROM audit ORDER BY id"


HEAD_FILE = "audit.head"
"""The chain's head (count and last hash) as a line in the instance folder, written after each record."""


@dataclass(frozen=True)
class Verified:
    records: int
    """Records checked."""
    broken: int | None = None
    """The number (id) of the first record whose hash does not match; None when the chain is whole."""
    broken_time: str = ""
    cut: str = ""
    """How the records' end is short of the head kept beside them, when it is."""

    @property
    def whole(self) -> bool:
        return self.broken is None and not self.cut

    def message(self) -> str:
        """The verdict in Chinese, naming the first broken record or what is missing from the end."""
        if self.broken is not None:
            return (f"操作记录不完整：第{self.broken}号记录（{self.broken_time}）的校验值不符，该记录或其前一条"
                    f"已在本程序之外被修改或删除；其后的记录无法再证明未被改动。")
        if self.cut:
            return f"操作记录不完整：现有{self.records}条，逐条校验值一致，但{self.cut}。"
        return f"操作记录完整：共{self.records}条，逐条校验值一致，未发现修改或删除。"


def _read_head(folder: Path) -> tuple[int, str] | None:
    """The head the file says, or None when there is none (a new or restored instance) or it is unreadable."""
    try:
        count, last = (folder / HEAD_FILE).read_text(encoding="ascii").split()
        return int(count), last
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def write_head(db: StateDB) -> None:
    """Note the chain's head in the instance folder. Best effort: a file lagging behind the records (a crash,
    two processes writing) is allowed for; one ahead of them is what shows records cut off."""
    rows = db.rows("SELECT count, hash FROM audit_head")
    if not rows:
        return
    path = db.path.parent / HEAD_FILE
    tmp = path.with_name(f"{HEAD_FILE}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(f"{rows[0][0]} {rows[0][1]}\n", encoding="ascii")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)


def _client_address() -> str:
    from flask import has_request_context, request

    return (request.remote_addr or "") if has_request_context() else ""


class AuditLog:
    """One row per event in the instance database, appended; nothing is ever rewritten (the database
    refuses UPDATE and DELETE of a chained record)."""

    def __init__(self, instance: Path) -> None:
        self.db = StateDB.of(instance)
        self._seal()

    def _seal(self) -> None:
        """Chain the records from before the hash chain, once; afterwards an unchained record is a broken one."""
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM settings WHERE key = ?", (SEALED,)).fetchone():
                return
            previous = ""
            for row in conn.execute(_SELECT_CHAINED).fetchall():
                if row[2]:
                    previous = row[2]
                    continue
                previous = record_hash(previous, tuple(row)[3:])
                conn.execute("UPDATE audit SET hash = ? WHERE id = ?", (previous, row[0]))
            conn.execute("UPDATE audit_head SET count = (SELECT count(*) FROM audit), hash = ?", (previous,))
            conn.execute("INSERT INTO settings VALUES (?, '1', ?, '')", (SEALED, now_iso()))

    def append(self, user: str, action: str, project: str = "", changes: list[FieldChange] | None = None,
               version_before: str = "", version_after: str = "", detail: str = "", outcome: str = "成功",
               address: str | None = None) -> Event:
        """Record one event now, chained to the one before (the address is the request's when not given)."""
        address = _client_address() if address is None else address
        event = Event(now_iso(), user, action, project, changes or [], version_before, version_after, detail,
                      address, outcome)
        with self.db.write() as conn:
            append_row(conn, event)
        write_head(self.db)
        return event

    def events(self, project: str | None = None, limit: int | None = None) -> list[Event]:
        """Every event (of one project), oldest first; limit: only the latest this many."""
        where, args = ("WHERE project = ?", [project]) if project is not None else ("", [])
        if limit is not None:
            rows = self.db.rows(f"SELECT * FROM (SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?) ORDER BY id",
                                *args, limit)
        else:
            rows = self.db.rows(f"SELECT * FROM audit {where} ORDER BY id", *args)
        opened = Opener(self.db)
        return [_event(r, opened) for r in rows]

    def export_rows(self) -> Iterator[tuple[str, ...]]:
        """Every record as the workbook's row (HEADERS), oldest first, read as it is written out rather than all
        at once: a year's records are hundreds of thousands."""
        local: dict[str, str] = {}  # many records share a second
        opened = Opener(self.db)
        with self.db.connect() as conn:
            conn.row_factory = None
            for id_, time, user, address, action, project, outcome, detail, changes in conn.execute(
                    "SELECT id, time, user, address, action, project, outcome, detail, changes FROM audit ORDER BY id"):
                shown = local.get(time)
                if shown is None:
                    shown = local[time] = _local_time(time)
                detail = opened(detail)
                if changes != "[]":
                    detail = _with_changes(detail, [FieldChange(**c) for c in json.loads(opened(changes))])
                yield (str(id_), shown, user, opened(address), ACTIONS.get(action, action), project, outcome, detail)

    def verify(self) -> Verified:
        """Recompute the chain from the first record: the first whose hash does not match is named; then its end
        is held against the head kept in the database and the one in the instance folder."""
        previous, count = "", 0
        noted = _read_head(self.db.path.parent)
        at_noted = ""
        with self.db.connect() as conn:
            conn.row_factory = None  # plain tuples: the check reads every record
            for row in conn.execute(_SELECT_CHAINED):
                count += 1
                if row[2] != record_hash(previous, row[3:], row[2].startswith(SM3)):
                    return Verified(count, row[0], row[1])
                previous = row[2]
                if noted is not None and count == noted[0]:
                    at_noted = previous
            head = conn.execute("SELECT count, hash FROM audit_head").fetchone()
        if head is None or head[0] != count or head[1] != previous:
            kept = f"{head[0]}条" if head is not None else "（记录已被删除）"
            return Verified(count, cut=f"数据库中另记的记录数为{kept}，末尾的记录已在本程序之外被删除或改动")
        if noted is not None and (noted[0] > count or at_noted != noted[1]):
            return Verified(count, cut=f"实例文件夹中 {HEAD_FILE} 记下的记录数为{noted[0]}条且校验值不同，末尾的记录"
                                       "已被删除，或实例数据库被换成了较早的副本")
        return Verified(count)

    def latest(self, action: str) -> Event | None:
        """The latest event of one kind; None when there was none."""
        rows = self.db.rows("SELECT * FROM audit WHERE action = ? ORDER BY id DESC LIMIT 1", action)
        return _event(rows[0], Opener(self.db)) if rows else None

    def count(self, action: str) -> int:
        """How many events of one kind were recorded."""
        return int(self.db.rows("SELECT count(*) FROM audit WHERE action = ?", action)[0][0])

    def oldest(self) -> str:
        """The time of the first record kept; empty when there is none."""
        rows = self.db.rows("SELECT min(time) FROM audit")
        return str(rows[0][0] or "")


def append_row(conn: sqlite3.Connection, event: Event) -> None:
    """Insert one event, chained, in the caller's transaction (so a change and its record commit together)."""
    last = conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    third = level3(conn)
    # At the 第三级 what may name a person is sealed (SM4) before it is chained: the chain covers what is
    # stored, so it is verified without the key.
    sealed = sealer(conn, database_folder(conn))
    changes = json.dumps([asdict(c) for c in event.changes], ensure_ascii=False)
    values = {"time": event.time, "user": event.user, "action": event.action, "project": event.project,
              "changes": sealed(changes) if event.changes else changes,
              "version_before": event.version_before, "version_after": event.version_after,
              "detail": sealed(event.detail), "address": sealed(event.address), "outcome": event.outcome}
    values["hash"] = record_hash(last["hash"] if last else "", [values[c] for c in CHAINED], sm3=third)
    conn.execute(f"INSERT INTO audit ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                 tuple(values.values()))
    conn.execute("UPDATE audit_head SET count = count + 1, hash = ?", (values["hash"],))


def _event(r: Any, opened: Opener) -> Event:
    return Event(r["time"], r["user"], r["action"], r["project"],
                 [FieldChange(**c) for c in json.loads(opened(r["changes"]))], r["version_before"],
                 r["version_after"], opened(r["detail"]), opened(r["address"]), r["outcome"], r["id"])


HEADERS = ("序号", "时间", "账户", "来访地址", "事件", "对象", "结果", "详情")
WIDTHS = (8, 20, 16, 16, 20, 24, 8, 60)


def _with_changes(detail: str, changes: list[FieldChange]) -> str:
    """A record's detail with the changes of a save written out after it."""
    return "；".join([detail] * bool(detail) + [f"{c.field}：{c.before}→{c.after}" for c in changes])


def workbook(rows: Iterable[Sequence[str]], verdict: str) -> bytes:
    """The audit records (AuditLog.export_rows) as a workbook for the assessor, the chain's verdict on top;
    every cell is text, so nothing in it runs as a formula. Streamed: rows may be a generator."""
    from generator.render.textbook import text_workbook

    return text_workbook("操作记录", WIDTHS, itertools.chain([(verdict,), HEADERS], rows))


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
            sealed = sealer(conn, self.db.path.parent)  # a file's name and refusal may name a resident
            conn.execute("INSERT INTO uploads (time, user, community, what, filename, size, sha256, outcome) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (now_iso(), user, community, what, sealed(filename), len(raw),
                          hashlib.sha256(raw).hexdigest(), sealed(outcome)))

    def uploads(self, community: str | None = None) -> list[Upload]:
        """Every upload (for one community), oldest first."""
        where, args = ("WHERE community = ?", (community,)) if community is not None else ("", ())
        opened = Opener(self.db)
        return [Upload(r["time"], r["user"], r["community"], r["what"], opened(r["filename"]), r["size"], r["sha256"],
                       opened(r["outcome"]))
                for r in self.db.rows(f"SELECT * FROM uploads {where} ORDER BY id", *args)]
