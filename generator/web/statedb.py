"""The web's own state in one SQLite database in the instance folder: accounts, sessions, login
failures, the audit log, review decisions, print jobs and upload records.

The data folder stays the record of project data (YAML); this database holds what the web
service and `gaizao users` do. Both open it the same way: write-ahead logging, so readers never
wait for a writer, and every change in one `BEGIN IMMEDIATE` transaction, so that two processes
changing accounts at once wait for each other instead of losing one change. The schema is a
numbered list of migrations; `PRAGMA user_version` says how many have been applied. Instance
folders from before kept JSON and log files: they are imported once, then renamed *.imported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from generator.errors import GaizaoError

DB_FILE = "gaizao.sqlite3"
BUSY_TIMEOUT = 30.0
"""Seconds a change waits for another process's change to finish before giving up."""

MIGRATIONS: tuple[str, ...] = (
    # 1: everything the JSON and log files held, plus server-side sessions, print jobs and uploads.
    """
    CREATE TABLE users (
        name TEXT PRIMARY KEY, role TEXT NOT NULL, unit TEXT NOT NULL, password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0, changed REAL NOT NULL DEFAULT 0);
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY, user TEXT NOT NULL, since REAL NOT NULL, seen REAL NOT NULL, address TEXT NOT NULL);
    CREATE INDEX sessions_user ON sessions(user);
    CREATE TABLE login_failures (scope TEXT NOT NULL, key TEXT NOT NULL, time REAL NOT NULL);
    CREATE INDEX login_failures_key ON login_failures(scope, key, time);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
        project TEXT NOT NULL, changes TEXT NOT NULL, version_before TEXT NOT NULL,
        version_after TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE INDEX audit_project ON audit(project, id);
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT NULL, unit TEXT NOT NULL,
        community TEXT NOT NULL, kind TEXT NOT NULL, decision TEXT NOT NULL, comment TEXT NOT NULL,
        content TEXT NOT NULL);
    CREATE INDEX reviews_community ON reviews(community, id);
    CREATE TABLE print_jobs (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, kind TEXT NOT NULL, district TEXT, year INTEGER,
        street_office TEXT, pdf INTEGER NOT NULL, layout INTEGER NOT NULL, created REAL NOT NULL,
        state TEXT NOT NULL, phase TEXT NOT NULL, done INTEGER NOT NULL, total INTEGER NOT NULL,
        files TEXT NOT NULL, skipped TEXT NOT NULL, error TEXT NOT NULL);
    CREATE INDEX print_jobs_owner ON print_jobs(owner, created);
    CREATE TABLE uploads (
        id INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT NULL, community TEXT NOT NULL,
        what TEXT NOT NULL, filename TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
        outcome TEXT NOT NULL);
    CREATE INDEX uploads_community ON uploads(community, id);
    CREATE TABLE imported (name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, time TEXT NOT NULL);
    """,
    # 2: the 等保 baseline. Accounts gain a duty of the three administrators (系统/安全/审计管理员, at most
    # one), a forced change of a password someone else set, the time the password was set, the last login;
    # locks, earlier password hashes and the security settings get tables; the audit log gains the
    # client's address, the outcome and a hash chain, and refuses UPDATE and DELETE. An account of the
    # old all-powerful role `admin` keeps its reach over project data and becomes the 系统管理员.
    """
    ALTER TABLE users ADD COLUMN duty TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN password_set REAL NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN last_login REAL NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN last_address TEXT NOT NULL DEFAULT '';
    UPDATE users SET duty = 'sysadmin' WHERE role = 'admin';
    UPDATE users SET password_set = changed;
    CREATE TABLE locks (user TEXT PRIMARY KEY, since REAL NOT NULL, until REAL NOT NULL);
    CREATE TABLE password_history (user TEXT NOT NULL, password_hash TEXT NOT NULL, time REAL NOT NULL);
    CREATE INDEX password_history_user ON password_history(user, time);
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, time TEXT NOT NULL, user TEXT NOT NULL);
    ALTER TABLE audit ADD COLUMN address TEXT NOT NULL DEFAULT '';
    ALTER TABLE audit ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
    ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, '操作记录只能追加，不能删除'); END;
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit WHEN OLD.hash != ''
        BEGIN SELECT RAISE(ABORT, '操作记录只能追加，不能修改'); END;
    """,
    # 3: the 第三级 switch: a TOTP secret per account and its one-time recovery codes (SHA-256 of each).
    """
    ALTER TABLE users ADD COLUMN totp TEXT NOT NULL DEFAULT '';
    CREATE TABLE recovery_codes (user TEXT NOT NULL, code_hash TEXT NOT NULL, used REAL NOT NULL DEFAULT 0);
    CREATE INDEX recovery_codes_user ON recovery_codes(user);
    """,
    # 4: the audit chain's head (how many records, the last one's hash) kept beside it, so that records cut
    # from its end show; it may only grow. (A copy outside the database, audit.head, catches the database
    # put back from an older copy.)
    """
    CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL, hash TEXT NOT NULL);
    INSERT INTO audit_head SELECT 1, count(*), coalesce((SELECT hash FROM audit ORDER BY id DESC LIMIT 1), '')
        FROM audit;
    CREATE TRIGGER audit_head_only_grows BEFORE UPDATE ON audit_head WHEN NEW.count < OLD.count
        BEGIN SELECT RAISE(ABORT, '操作记录只能追加，记录数不能减少'); END;
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, '操作记录只能追加，不能删除'); END;
    """,
    # 5: the person behind an account and a phone number to reach them (the accounts sheet's 姓名 and 手机).
    """
    ALTER TABLE users ADD COLUMN person TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
    """,
)

LEGACY = ("users.json", "audit.log", "reviews.log")
"""The files instance folders kept before this database, imported once in this order."""


class StateError(GaizaoError):
    """The instance database cannot be opened or used, said in Chinese with what to do."""


def now_iso() -> str:
    """Now in UTC, ISO 8601 to the second: how every record of this database is timed."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def damaged(path: Path, exc: BaseException) -> StateError:
    """The message for a database file that is not one, or is damaged."""
    return StateError(
        f"{path}：实例数据库已损坏或不是本工具的数据库（{exc}）。请先停止网页服务，把该文件改名移走，"
        f"再用 gaizao restore 从最近的备份恢复实例文件夹；没有备份时可移走该文件后重新启动（将新建空数据库，"
        f"须重新添加账户）")


def unwritable(path: Path, exc: BaseException) -> StateError | None:
    """The message for a database that cannot be written because of its disk (full, failing or
    read-only), or None when the error is something else."""
    text = str(exc).lower()
    if "full" in text:
        why = "所在磁盘已满"
    elif "disk i/o" in text:
        why = "所在磁盘读写出错"
    elif "readonly" in text or "read-only" in text:
        why = "不可写（只读）"
    else:
        return None
    error = StateError(f"{path}：实例数据库{why}，无法记录（{exc}）；请联系系统管理员清理或检查实例文件夹 "
                       f"{path.parent} 所在的磁盘后重试")
    error.brief = f"服务器的实例数据库{why}"  # type: ignore[attr-defined]  # for pages clerks read: no server paths
    return error


class StateDB:
    """One instance folder's database; a connection per use, so threads and processes never share one."""

    _opened: dict[Path, StateDB] = {}
    _opening = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of(cls, instance: Path) -> StateDB:
        """The database of an instance folder, made, migrated and imported into on first use in this process."""
        path = (instance / DB_FILE).resolve()
        with cls._opening:
            db = cls._opened.get(path)
            if db is None or not path.exists():
                db = cls(path)
                db._prepare()
                cls._opened[path] = db
            return db

    @classmethod
    def forget(cls, instance: Path) -> None:
        """Open the instance's database afresh on next use: its file was replaced (a restore)."""
        with cls._opening:
            cls._opened.pop((instance / DB_FILE).resolve(), None)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading; closed afterwards."""
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as exc:
            raise StateError(f"{self.path}：无法打开实例数据库（{exc}），请检查该文件及其文件夹的权限") from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StateError(f"{self.path}：实例数据库被其他程序长时间占用（{exc}），请稍后再试") from None
            raise unwritable(self.path, exc) or damaged(self.path, exc) from None
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, exc) from None
        finally:
            conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection in a write transaction taken at once (BEGIN IMMEDIATE): committed when the block
        ends, rolled back when it raises; other writers, in this process or another, wait their turn."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:  # a full disk may have ended it already
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        """The rows a query gives."""
        with self.connect() as conn:
            return list(conn.execute(sql, args))

    def _prepare(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        with self.connect() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            if not fresh:
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise damaged(self.path, sqlite3.DatabaseError(check))
        if fresh:
            self.path.chmod(0o600)  # password hashes and sessions: the owner's only
        with self.write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StateError(f"{self.path}：实例数据库由更新版本的程序创建（结构版本{version}，本程序只认识到"
                                 f"{len(MIGRATIONS)}），请升级程序后再运行，不要用旧版本打开")
            for number in range(version, len(MIGRATIONS)):
                for statement in statements(MIGRATIONS[number]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")
        self._import_legacy()

    def _import_legacy(self) -> None:
        """Files of an instance folder from before this database, imported once and kept renamed."""
        folder = self.path.parent
        for name in LEGACY:
            source = folder / name
            if not source.is_file():
                continue
            raw = source.read_bytes()
            with self.write() as conn:
                done = conn.execute("SELECT 1 FROM imported WHERE name = ?", (name,)).fetchone()
                if done is None:
                    IMPORTERS[name](conn, source, raw)
                    conn.execute("INSERT INTO imported VALUES (?, ?, ?)",
                                 (name, hashlib.sha256(raw).hexdigest(), now_iso()))
            # Renamed, never deleted: what was there can still be read. A file that appears again
            # after its import (restored by hand) is set aside the same way, not read twice.
            target = source.with_name(name + ".imported")
            number = 1
            while target.exists():
                number += 1
                target = source.with_name(f"{name}.{number}.imported")
            source.replace(target)


def database_folder(conn: sqlite3.Connection) -> Path:
    """The folder of the database a connection has open (its instance folder)."""
    return Path(conn.execute("PRAGMA database_list").fetchone()[2]).parent


def statements(script: str) -> Iterator[str]:
    """The statements of a migration, whole: a trigger's body holds semicolons of its own."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def json_lines(raw: bytes) -> Iterator[dict[str, Any]]:
    """Each record of a JSON-lines file, oldest first; a line cut short by a crash is skipped."""
    for line in raw.decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def _import_users(conn: sqlite3.Connection, source: Path, raw: bytes) -> None:
    try:
        users = json.loads(raw.decode("utf-8"))["users"]
        rows = [(name, u["role"], u["unit"], u["password_hash"], int(bool(u.get("disabled"))),
                 float(u.get("changed", 0.0))) for name, u in users.items()]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateError(f"{source}：旧账户文件已损坏（{exc}），未能导入实例数据库；请从备份恢复该文件后重新启动") \
            from None
    # An account already in the database (made before this file was imported) is kept as it is.
    # An `admin` from before the three administrators becomes the 系统管理员, as migration 2 does.
    conn.executemany("INSERT OR IGNORE INTO users (name, role, unit, password_hash, disabled, changed, duty, "
                     "password_set) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [(*r, "sysadmin" if r[1] == "admin" else "", r[5]) for r in rows])


def _import_audit(conn: sqlite3.Connection, source: Path, raw: bytes) -> None:
    for r in json_lines(raw):
        conn.execute(
            "INSERT INTO audit (time, user, action, project, changes, version_before, version_after, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (str(r.get("time", "")), str(r.get("user", "")), str(r.get("action", "")), str(r.get("project", "")),
             json.dumps(r.get("changes", []), ensure_ascii=False), str(r.get("version_before", "")),
             str(r.get("version_after", "")), str(r.get("detail", ""))))


def _import_reviews(conn: sqlite3.Connection, source: Path, raw: bytes) -> None:
    fields = ("time", "user", "unit", "community", "kind", "decision", "comment", "content")
    for r in json_lines(raw):
        if all(isinstance(r.get(f), str) for f in fields):
            conn.execute("INSERT INTO reviews (time, user, unit, community, kind, decision, comment, content) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(r[f] for f in fields))


IMPORTERS = {"users.json": _import_users, "audit.log": _import_audit, "reviews.log": _import_reviews}
