"""The web's own state in the instance database: sessions ended on the server, accounts shared with
`gaizao users` across processes, old instance folders imported once, print jobs across a restart,
upload records, and a damaged database said plainly."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from generator.cli import main
from generator.web.accounts import Accounts
from generator.web.audit import AuditLog, UploadLog
from generator.web.batch import PrintJob, PrintJobs
from generator.web.reviews import ReviewLog
from generator.web.sessions import Sessions
from generator.web.statedb import DB_FILE, MIGRATIONS, StateDB
from tests.test_web_district import client_of
from tests.webapp import CHEAP, PASSWORD, csrf, login, make_app, make_instance, one_more_in_favour

COOKIE = "gaizao_session"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Flask, Path, Path]:
    return make_app(*make_instance(tmp_path), PRINT_LAYOUT=False), tmp_path / "data", tmp_path / "instance"


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of the client's session cookie, as one copied off a shared desk."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


# (path, what a live session gets) for a page, the API and the roster workbook with residents' names and phones
GUARDED = (("/projects/renhe-24", 200), ("/api/projects/renhe-24", 200), ("/projects/renhe-24/roster.xlsx", 200))


def _answers(client: FlaskClient) -> list[int]:
    return [client.get(path).status_code for path, _ in GUARDED]


def test_a_cookie_copied_before_logout_stops_working_everywhere(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    clerk = client_of(app, "renhe")
    thief = _copy(app, clerk)
    assert _answers(thief) == [code for _, code in GUARDED]  # the copy works while the session lives
    assert clerk.post("/logout", data={"csrf_token": csrf(clerk, "/")}).status_code == 302
    # The page sends the copy to the login page; the API and the workbook refuse it outright.
    pages = thief.get("/projects/renhe-24")
    assert pages.status_code == 302 and "/login" in pages.headers["Location"]
    assert _answers(thief) == [302, 401, 302]
    assert _answers(clerk) == [302, 401, 302]


@pytest.mark.parametrize("change", ["passwd", "disable", "assign"])
def test_a_password_change_or_a_disabled_account_ends_every_copy_of_its_sessions(
        fresh: tuple[Flask, Path, Path], change: str) -> None:
    app, _, instance = fresh
    clerk = client_of(app, "renhe")
    second = client_of(app, "renhe")  # another desk, its own session
    thief = _copy(app, clerk)
    admin = client_of(app, "admin")
    form = {"csrf_token": csrf(admin, "/admin/users"), "password": "A-new-long-password-5",
            "password2": "A-new-long-password-5", "role": "street", "unit": "仁和街道办事处"}
    assert admin.post(f"/admin/users/renhe/{change}", data=form).status_code == 302
    for client in (clerk, second, thief):
        assert _answers(client) == [302, 401, 302]
    assert Sessions(StateDB.of(instance)).count("renhe") == 0 and Sessions(StateDB.of(instance)).count("admin") == 1


def test_the_api_login_session_ends_at_logout_too(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    client = app.test_client()
    assert client.post("/api/login", json={"username": "renhe", "password": PASSWORD}).status_code == 200
    thief = _copy(app, client)
    assert thief.get("/api/projects").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf(client, "/")}).status_code == 302
    assert thief.get("/api/projects").status_code == 401


def test_the_command_line_and_the_server_change_accounts_at_once_and_lose_nothing(tmp_path: Path) -> None:
    data, instance = make_instance(tmp_path)
    app = make_app(data, instance)
    admin = client_of(app, "admin")
    token = csrf(admin, "/admin/users")
    # Another process: `gaizao users add` eight times, each a fresh start of the command, as a script would.
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from generator.cli import main\n"
        "for i in range(8):\n"
        "    r = CliRunner().invoke(main, ['users', 'add', f'cli{i}', '--role', 'street', '--unit', '仁和街道办事处',\n"
        f"                                  '--password-stdin', '--instance', sys.argv[1]], input='{PASSWORD}\\n')\n"
        "    assert r.exit_code == 0, r.output\n"
    )
    cli = subprocess.Popen([sys.executable, "-c", script, str(instance)], cwd=ROOT, stderr=subprocess.PIPE)
    errors: list[str] = []

    def web(i: int) -> None:
        client = client_of(app, "admin")
        for j in range(4):
            r = client.post("/admin/users", data={"csrf_token": csrf(client, "/admin/users"), "name": f"web{i}-{j}",
                                                  "role": "district", "unit": "东区", "password": PASSWORD,
                                                  "password2": PASSWORD})
            if r.status_code != 302:
                errors.append(f"web{i}-{j}: {r.status_code}")

    threads = [threading.Thread(target=web, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    # Meanwhile the admin's own changes to an existing account, interleaved with both.
    for _ in range(4):
        assert admin.post("/admin/users/bcg/disable", data={"csrf_token": token}).status_code == 302
        assert admin.post("/admin/users/bcg/enable", data={"csrf_token": token}).status_code == 302
    for t in threads:
        t.join()
    _, err = cli.communicate(timeout=300)
    assert cli.returncode == 0, err.decode()
    assert errors == []
    names = {u.name for u in Accounts(instance).all()}
    made = {f"cli{i}" for i in range(8)} | {f"web{i}-{j}" for i in range(3) for j in range(4)}
    assert made <= names and len(names) == 5 + len(made)
    bcg = Accounts(instance).get("bcg")
    assert Accounts(instance).verify("cli7", PASSWORD) is not None and bcg is not None and not bcg.disabled
    adds = [e.detail.split()[0] for e in AuditLog(instance).events() if e.action == "user-add"]
    assert sorted(adds) == sorted(made)


def _old_instance(folder: Path) -> None:
    """An instance folder as versions before the database kept it: JSON and JSON-lines files."""
    folder.mkdir(parents=True)
    users = {"users": {"clerk": {"name": "clerk", "role": "street", "unit": "仁和街道办事处",
                                 "password_hash": CHEAP.hash(PASSWORD), "disabled": False, "changed": 1.0},
                       "gone": {"name": "gone", "role": "district", "unit": "东区",
                                "password_hash": CHEAP.hash(PASSWORD), "disabled": True, "changed": 2.0}}}
    (folder / "users.json").write_text(json.dumps(users, ensure_ascii=False), encoding="utf-8")
    events = [{"time": "2024-05-01T08:00:00+00:00", "user": "clerk", "action": "save", "project": "renhe-24",
               "changes": [{"field": "survey.support（同意户数）", "before": "10", "after": "11"}],
               "version_before": "a", "version_after": "b", "detail": ""},
              {"time": "2024-05-01T08:01:00+00:00", "user": "clerk", "action": "logout"}]
    lines = [json.dumps(e, ensure_ascii=False) for e in events]
    (folder / "audit.log").write_text("\n".join(lines) + '\n{"time": "2024-05-01T08:0', encoding="utf-8")
    decision = {"time": "2024-05-02T09:00:00+00:00", "user": "dongqu", "unit": "东区", "community": "dongqu-10",
                "kind": "notice", "decision": "return", "comment": "公示期太短", "content": "abc"}
    (folder / "reviews.log").write_text(json.dumps(decision, ensure_ascii=False) + "\n", encoding="utf-8")


def test_an_old_instance_folder_is_imported_once_and_its_files_kept_renamed(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    _old_instance(instance)
    originals = {name: (instance / name).read_bytes() for name in ("users.json", "audit.log", "reviews.log")}
    app = make_app(ROOT / "data", instance)
    for name, raw in originals.items():
        assert not (instance / name).exists() and (instance / f"{name}.imported").read_bytes() == raw
    accounts = Accounts(instance)
    gone = accounts.get("gone")
    assert [u.name for u in accounts.all()] == ["clerk", "gone"] and gone is not None and gone.disabled
    client = app.test_client()
    login(client, "clerk")  # the old hash still logs in
    events = AuditLog(instance).events()
    assert [(e.action, e.project) for e in events[:2]] == [("save", "renhe-24"), ("logout", "")]
    assert events[0].changes[0].after == "11" and events[-1].action == "login"  # the line cut short is skipped
    assert [(d.community, d.comment) for d in ReviewLog(instance).decisions()] == [("dongqu-10", "公示期太短")]
    # The file put back by hand is not read a second time: it is set aside beside the first.
    (instance / "users.json").write_bytes(originals["users.json"])
    StateDB._opened.clear()  # a new process
    make_app(ROOT / "data", instance)
    assert (instance / "users.json.2.imported").exists() and not (instance / "users.json").exists()
    assert len(AuditLog(instance).events()) == len(events) and len(Accounts(instance).all()) == 2


def test_a_damaged_old_users_file_stops_the_import_with_its_name(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "users.json").write_text('{"users": {"x": {"role": ', encoding="utf-8")
    result = CliRunner().invoke(main, ["users", "list", "--instance", str(instance)])
    assert result.exit_code == 1 and "users.json" in result.output and "已损坏" in result.output
    assert (instance / "users.json").exists()  # not renamed: nothing was imported from it


def test_a_damaged_database_is_named_with_what_to_do_and_no_traceback(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / DB_FILE).write_bytes(b"this is not a database, it was overwritten " * 200)
    for args in (["users", "list"], ["serve", "--port", "1"]):
        result = CliRunner().invoke(main, [*args, "--instance", str(instance)])
        assert result.exit_code == 1, result.output
        assert str(instance / DB_FILE) in result.output and "gaizao restore" in result.output
        assert "Traceback" not in result.output


def test_a_database_damaged_while_the_server_runs_gives_a_page_that_says_so(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, instance = fresh
    clerk = client_of(app, "renhe")
    (instance / DB_FILE).write_bytes(b"overwritten by accident " * 400)
    for name in (f"{DB_FILE}-wal", f"{DB_FILE}-shm"):
        (instance / name).unlink(missing_ok=True)
    for path in ("/", "/api/projects"):
        r = clerk.get(path)
        text = r.get_data(as_text=True)
        assert r.status_code == 503 and str(instance / DB_FILE) in text and "gaizao restore" in text, path
        assert "Traceback" not in text


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    Accounts(instance)
    with StateDB.of(instance).connect() as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    StateDB._opened.clear()
    result = CliRunner().invoke(main, ["users", "list", "--instance", str(instance)])
    assert result.exit_code == 1 and "更新版本" in result.output


def test_print_jobs_survive_a_restart(fresh: tuple[Flask, Path, Path]) -> None:
    from tests.test_web_district import _start, _wait

    app, data, instance = fresh
    district = client_of(app, "dongqu")
    job = _start(district, kind="notice")
    assert _wait(district, job)["state"] == "done"
    # A job that was running when the server died: its row says running, and no thread runs it.
    dead = PrintJobs(instance / "prints", StateDB.of(instance))
    dead._save(PrintJob("deadjob", "dongqu", "plan", None, None, None, False, state="running", phase="合并文书",
                        done=3, total=9))
    StateDB._opened.clear()
    after = client_of(make_app(data, instance, PRINT_LAYOUT=False), "dongqu")
    page = after.get("/batch/prints").get_data(as_text=True)
    assert f"/batch/prints/{job}/files/0" in page and "服务器在生成过程中停止" in page
    assert after.get(f"/batch/prints/{job}/files/0").status_code == 200
    state = after.get("/batch/prints/deadjob").get_json()
    assert state["state"] == "interrupted" and state["done"] == 3


def test_every_upload_is_recorded_with_its_checksum(fresh: tuple[Flask, Path, Path]) -> None:
    import hashlib

    app, _, instance = fresh
    clerk = client_of(app, "renhe")
    form = clerk.get("/projects/renhe-16/form.xlsx").data
    changed, _ = one_more_in_favour(form)
    for payload, name in ((b"<html>not a workbook</html>", "假的.xlsx"), (changed, "我的填报表.xlsx")):
        sent = {"csrf_token": csrf(clerk, "/"), "form": (io.BytesIO(payload), name)}
        clerk.post("/projects/renhe-16/form", data=sent, content_type="multipart/form-data")
    records = UploadLog(instance).uploads("renhe-16")
    assert [(r.user, r.what, r.filename) for r in records] == [("renhe", "填报表", "假的.xlsx"),
                                                               ("renhe", "填报表", "我的填报表.xlsx")]
    assert records[0].outcome.startswith("未导入") and records[1].outcome == "已导入"
    assert records[1].sha256 == hashlib.sha256(changed).hexdigest() and records[1].size == len(changed)


def test_login_failures_outlast_a_restart(tmp_path: Path) -> None:
    data, instance = make_instance(tmp_path)
    client = make_app(data, instance, THROTTLE_ACCOUNT=2).test_client()
    token = csrf(client)
    for _ in range(2):
        client.post("/login", data={"username": "bcg", "password": "wrong-password", "csrf_token": token})
    StateDB._opened.clear()
    again = make_app(data, instance, THROTTLE_ACCOUNT=2).test_client()
    r = again.post("/login", data={"username": "bcg", "password": PASSWORD, "csrf_token": csrf(again)})
    assert r.status_code == 429
