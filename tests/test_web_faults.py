"""A full disk or a damaged instance file: a save is kept with its audit record or not at all, and
every page and command says what happened in Chinese, never a traceback."""

from __future__ import annotations

import errno
import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from generator.cli import main
from generator.intake import project_yaml
from generator.web.app import SECRET_FILE
from generator.web.audit import AuditLog
from generator.web.statedb import DB_FILE, StateDB
from tests.test_web import _form
from tests.webapp import PASSWORD, csrf, login, make_app, make_instance

PROJECT = "renhe-24"
CHANGE = {"survey.date": "2018-03-10", "survey.households_asked": "100", "survey.support": "61",
          "survey.oppose": "34", "survey.no_answer": "5"}


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Flask, Path, Path]:
    data, instance = make_instance(tmp_path)
    return make_app(data, instance), data, instance


def _disk_full_for(monkeypatch: pytest.MonkeyPatch, statements: tuple[str, ...]) -> None:
    """Every new database connection refuses these statements as SQLite does on a full disk."""
    real = sqlite3.connect

    class Full(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            if sql.lstrip().upper().startswith(statements):
                raise sqlite3.OperationalError("database or disk is full")
            return super().execute(sql, *args)

    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: real(*a, **{**k, "factory": Full}))


def _ready_to_save(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    """A clerk logged in with the survey form filled in (before any fault begins)."""
    client = app.test_client()
    login(client, "renhe")
    form = _form(client, f"/projects/{PROJECT}/edit/survey")
    form.update(CHANGE)
    return client, form


def _post(client: FlaskClient, form: dict[str, str]) -> tuple[int, str]:
    r = client.post(f"/projects/{PROJECT}/edit/survey", data=form)
    return r.status_code, r.get_data(as_text=True)


def _project_file(data: Path) -> tuple[Path, bytes]:
    path = data / "projects" / f"{PROJECT}.yaml"
    return path, path.read_bytes()


def _saves(instance: Path) -> int:
    return len([e for e in AuditLog(instance).events(PROJECT) if e.action == "save"])


def test_a_full_instance_disk_undoes_the_change_and_says_so(
    fresh: tuple[Flask, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, data, instance = fresh
    path, before = _project_file(data)
    store = app.extensions["gaizao"]["store"]
    survey = store.current().data.projects[PROJECT].survey
    client, form = _ready_to_save(app)  # logged in before the disk fills
    _disk_full_for(monkeypatch, ("INSERT INTO AUDIT",))
    status, page = _post(client, form)
    assert status == 503, page[:500]
    assert "未保存" in page and "磁盘已满" in page and "修改已撤销" in page
    assert "OSError" not in page and "Traceback" not in page and "已损坏" not in page
    assert str(instance) not in page  # no server paths on a clerk's page
    assert path.read_bytes() == before
    monkeypatch.undo()
    assert _saves(instance) == 0
    assert client.get(f"/projects/{PROJECT}/edit/survey").status_code == 200  # the state reads the file as it is
    assert store.current().data.projects[PROJECT].survey == survey


def test_a_change_that_cannot_be_undone_either_is_said_to_be_written_without_its_record(
    fresh: tuple[Flask, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, data, _ = fresh
    client, form = _ready_to_save(app)
    _disk_full_for(monkeypatch, ("INSERT INTO AUDIT",))
    real_write = project_yaml.atomic_write
    writes: list[Path] = []

    def second_fails(path: Path, raw: bytes) -> None:
        writes.append(path)
        if len(writes) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, raw)

    monkeypatch.setattr(project_yaml, "atomic_write", second_fails)
    status, page = _post(client, form)
    assert status == 503 and "修改已写入" in page and "未能记入操作日志" in page and "撤销修改也失败" in page


def test_a_full_data_disk_writes_nothing_and_says_so(
    fresh: tuple[Flask, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, data, instance = fresh
    path, before = _project_file(data)

    def full(target: Path, raw: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    client, form = _ready_to_save(app)
    monkeypatch.setattr(project_yaml, "atomic_write", full)
    status, page = _post(client, form)
    assert status == 503 and "未保存" in page and "磁盘空间已满" in page and "原文件未改动" in page
    assert "OSError" not in page
    assert path.read_bytes() == before and _saves(instance) == 0


def test_login_with_a_full_instance_disk_says_so(fresh: tuple[Flask, Path, Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    app, _, _ = fresh
    client = app.test_client()
    token = csrf(client)
    _disk_full_for(monkeypatch, ("INSERT", "UPDATE", "DELETE", "REPLACE"))
    r = client.post("/login", data={"username": "renhe", "password": PASSWORD, "csrf_token": token})
    page = r.get_data(as_text=True)
    assert r.status_code == 503, page[:500]
    assert "磁盘已满" in page and "Traceback" not in page and "OperationalError：" not in page


def test_an_empty_session_key_is_made_again_and_logins_work(tmp_path: Path) -> None:
    data, instance = make_instance(tmp_path)
    (instance / SECRET_FILE).write_bytes(b"")  # its first write stopped by a full disk
    app = make_app(data, instance)
    client = app.test_client()
    login(client, "renhe")
    assert client.get("/").status_code == 200
    assert len((instance / SECRET_FILE).read_text().strip()) == 64


def test_a_truncated_database_stops_the_start_naming_the_file_and_what_to_do(tmp_path: Path) -> None:
    data, instance = make_instance(tmp_path)
    db = instance / DB_FILE
    StateDB.forget(instance)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = db.read_bytes()
    db.write_bytes(raw[: len(raw) // 3])
    for name in (f"{DB_FILE}-wal", f"{DB_FILE}-shm"):
        (instance / name).unlink(missing_ok=True)
    r = CliRunner().invoke(main, ["--data", str(data), "serve", "--instance", str(instance), "--port", "1"])
    assert r.exit_code == 1, r.output
    assert str(db) in r.output and "gaizao restore" in r.output and "Traceback" not in r.output


def _refusals(instance: Path) -> list[tuple[str, str, str]]:
    return [(e.user, e.outcome, e.detail) for e in AuditLog(instance).events(PROJECT) if e.action == "save-failed"]


def test_every_refused_save_is_recorded_as_failed_with_its_reason(
    fresh: tuple[Flask, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, data, instance = fresh
    client, form = _ready_to_save(app)
    # a check refuses it (422)
    status, _ = _post(client, {**form, "survey.support": "八十"})
    assert status == 422
    (user, outcome, detail), = _refusals(instance)
    assert (user, outcome) == ("renhe", "失败")
    assert "填写内容未通过检查" in detail and "居民意见征询·同意户数：应为整数" in detail
    # someone saved since (409)
    other = app.test_client()
    login(other, "admin")
    theirs = _form(other, f"/projects/{PROJECT}/edit/survey")
    assert other.post(f"/projects/{PROJECT}/edit/survey", data={**theirs, **CHANGE}).status_code == 302
    status, _ = _post(client, {**form, "survey.support": "62", "survey.no_answer": "4"})
    assert status == 409
    assert "他人已先保存" in _refusals(instance)[-1][2]
    # the data folder's disk is full (503)
    form = _form(client, f"/projects/{PROJECT}/edit/survey")

    def full(target: Path, raw: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(project_yaml, "atomic_write", full)
    status, _ = _post(client, {**form, "survey.support": "63", "survey.no_answer": "3"})
    assert status == 503
    assert "磁盘空间已满" in _refusals(instance)[-1][2]
    assert [o for _, o, _ in _refusals(instance)] == ["失败"] * 3
    assert AuditLog(instance).verify().whole
    # the instance database's disk full too: the refusal still answers, nothing recorded
    _disk_full_for(monkeypatch, ("INSERT INTO AUDIT",))
    status, _ = _post(client, {**form, "survey.support": "64", "survey.no_answer": "2"})
    monkeypatch.undo()
    assert status == 503 and len(_refusals(instance)) == 3


def test_a_refused_form_upload_is_recorded_as_a_failed_save(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, instance = fresh
    client = app.test_client()
    login(client, "renhe")
    token = csrf(client, f"/projects/{PROJECT}")
    r = client.post(f"/projects/{PROJECT}/form", data={"csrf_token": token, "form": (io.BytesIO(b"<html>"), "a.xlsx")})
    assert r.status_code == 422
    (user, outcome, detail), = _refusals(instance)
    assert (user, outcome) == ("renhe", "失败") and detail.startswith("填报表 a.xlsx未导入：")
