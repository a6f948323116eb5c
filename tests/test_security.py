"""The 等保 second-level baseline: password rules, lockout, first-login change, sessions, the three
administrators, the audit chain, and the login page's redirect and client address."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from generator.web.accounts import AccountError, Accounts, Throttle
from generator.web.audit import AuditLog
from generator.web.policy import Policy, PolicyError, check_password, load
from generator.web.policy import save as save_policy
from generator.web.statedb import DB_FILE, StateDB
from tests.webapp import CHEAP, OWN, PASSWORD, change_password, csrf, login, make_app, make_instance

DUTY_ACCOUNTS = {"sys": "sysadmin", "sec": "secadmin", "aud": "auditor"}
"""The three administrators without a business role."""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    data, instance = make_instance(tmp_path_factory.mktemp("security"))
    accounts = Accounts(instance, CHEAP)
    for name, duty in DUTY_ACCOUNTS.items():
        accounts.add(name, "", "市住房城乡建设局", PASSWORD, duty=duty)
    return data, instance


@pytest.fixture(scope="module")
def app(site: tuple[Path, Path]) -> Flask:
    return make_app(*site)


def client_of(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    login(client, name)
    return client


# ---------------------------------------------------------------- 身份鉴别: the password rules


@pytest.mark.parametrize(("password", "why"), [
    ("aaaaaaaaaa", "至少3类"), ("1234567890", "至少3类"), ("password12", "至少3类"), ("Short-1", "至少10个字符"),
    ("P@ssw0rd123", "常见"), ("Admin@12345", "常见"), ("Clerk-wang-2024", "用户名"), (" Leading-space-1", "首尾"),
])
def test_the_password_rules_refuse_weak_passwords(password: str, why: str) -> None:
    with pytest.raises(PolicyError, match=why):
        check_password(Policy(), "clerk-wang", password)


def test_a_password_that_keeps_the_rules_passes_and_the_rules_follow_the_settings(tmp_path: Path) -> None:
    check_password(Policy(), "clerk-wang", "Tea-garden-road-7")
    db = StateDB.of(tmp_path)
    policy, changes = save_policy(db, {"min_length": "14", "classes": "4"}, "sec")
    assert load(db) == policy and policy.min_length == 14 and len(changes) == 2
    with pytest.raises(PolicyError, match="至少14个字符"):
        check_password(policy, "x", "Tea-garden-7")
    with pytest.raises(PolicyError, match="至少4类"):
        check_password(policy, "x", "Tea-garden-road-seven")
    with pytest.raises(PolicyError, match="须在8至64之间"):
        save_policy(db, {"min_length": "4", "classes": "2"}, "sec")
    assert load(db).classes == 4  # nothing stored when one value is wrong


def test_a_new_password_may_not_be_one_of_the_last_few(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path, CHEAP)
    accounts.add("clerk", "street", "x", PASSWORD)
    save_policy(accounts.db, {"history": "2"}, "sec")
    accounts.set_password("clerk", "Second-pass-word-2")
    with pytest.raises(AccountError, match="最近2次"):
        accounts.set_password("clerk", PASSWORD)
    accounts.set_password("clerk", "Third-pass-word-3")
    accounts.set_password("clerk", PASSWORD)  # three passwords ago: allowed again


# ---------------------------------------------------------------- lockout, with a fake clock


def test_failed_logins_lock_the_account_for_the_set_time_then_it_opens(tmp_path: Path) -> None:
    db = StateDB.of(tmp_path)
    save_policy(db, {"lock_after": "5", "lock_minutes": "30"}, "sec")
    throttle = Throttle(db)
    assert [throttle.failed("bcg", "10.0.0.1", now=100 + i) for i in range(5)] == [False] * 4 + [True]
    assert throttle.blocked("bcg", "10.0.0.9", now=105)  # from any address
    assert throttle.blocked("bcg", "10.0.0.9", now=104 + 30 * 60 - 1)
    assert not throttle.blocked("bcg", "10.0.0.9", now=104 + 30 * 60 + 1)
    save_policy(db, {"lock_minutes": "0"}, "sec")  # until the 安全管理员 unlocks it
    for i in range(5):
        throttle.failed("renhe", "10.0.0.2", now=200 + i)
    assert throttle.blocked("renhe", "10.0.0.9", now=10 ** 9)
    assert [name for name, _, _ in throttle.locks(now=10 ** 9)] == ["renhe"]
    assert throttle.unlock("renhe") and not throttle.blocked("renhe", "10.0.0.9", now=10 ** 9)


def test_a_locked_account_and_a_missing_one_get_the_same_answer(site: tuple[Path, Path]) -> None:
    app = make_app(*site, THROTTLE_ADDRESS=1000)
    client = app.test_client()
    token = csrf(client)

    def attempt(name: str, password: str = "Wrong-password-1") -> tuple[int, str]:
        r = client.post("/login", data={"username": name, "password": password, "csrf_token": token})
        page = r.get_data(as_text=True)
        return r.status_code, page[page.find('role="alert">'):page.find("</p>", page.find('role="alert">'))]

    real = [attempt("dongqu") for _ in range(5)]
    ghost = [attempt("no-such-clerk") for _ in range(5)]
    assert real == ghost and [s for s, _ in real] == [401] * 4 + [429]
    assert attempt("dongqu", PASSWORD)[0] == 429  # the right password too, while locked
    events = [(e.user, e.action, e.outcome) for e in AuditLog(site[1]).events() if e.user == "dongqu"]
    assert events[-7:] == [("dongqu", "login-failed", "失败")] * 5 + [("dongqu", "lock", "成功"),
                                                                     ("dongqu", "login-throttled", "失败")]
    sec = client_of(app, "sec")
    page = sec.get("/admin/security").get_data(as_text=True)
    assert 'id="lock-dongqu"' in page and "no-such-clerk" in page
    assert sec.post("/admin/security/unlock/dongqu", data={"csrf_token": csrf(sec, "/")}).status_code == 302
    assert sec.post("/admin/security/unlock/dongqu", data={"csrf_token": csrf(sec, "/")}).status_code == 404
    login(app.test_client(), "dongqu")
    Throttle(StateDB.of(site[1])).unlock("no-such-clerk")


# ---------------------------------------------------------------- first login, expiry, last login, sessions


def test_a_password_set_by_an_administrator_is_changed_at_first_login(site: tuple[Path, Path], app: Flask) -> None:
    Accounts(site[1], CHEAP).add("newclerk", "street", "炳草岗街道办事处", "Given-by-admin-1", must_change=True)
    client = app.test_client()
    login(client, "newclerk", "Given-by-admin-1")
    for path in ("/", f"/projects/{OWN['bcg']}", "/batch/forms"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith("/account/password"), path
    assert client.get("/api/projects").status_code == 403
    menu = client.get("/account/password").get_data(as_text=True)
    assert "修改密码</a>" in menu and "批量导入填报表" not in menu and "我的小区</a>" not in menu
    token = csrf(client, "/account/password")
    r = client.post("/account/password", data={"old": "Given-by-admin-1", "password": "weakweakweak",
                                               "password2": "weakweakweak", "csrf_token": token})
    assert r.status_code == 422 and "至少3类" in r.get_data(as_text=True)
    change_password(client, "Given-by-admin-1", "My-own-secret-42")
    assert client.get("/").status_code == 200
    assert not Accounts(site[1]).get("newclerk").must_change  # type: ignore[union-attr]


def test_an_old_password_must_be_changed_and_one_soon_old_is_warned_of(site: tuple[Path, Path], app: Flask) -> None:
    import time

    Accounts(site[1], CHEAP).add("oldpass", "street", "炳草岗街道办事处", PASSWORD)
    with StateDB.of(site[1]).write() as conn:
        conn.execute("UPDATE users SET password_set = ? WHERE name = 'oldpass'", (time.time() - 85 * 86400,))
    client = app.test_client()
    login(client, "oldpass")
    assert "天内过期" in client.get("/").get_data(as_text=True)  # 90 days, warned 7 days before
    with StateDB.of(site[1]).write() as conn:
        conn.execute("UPDATE users SET password_set = ? WHERE name = 'oldpass'", (time.time() - 91 * 86400,))
    assert client.get("/").headers["Location"].endswith("/account/password")


def test_the_last_login_is_shown_once_after_the_next(app: Flask) -> None:
    first = app.test_client()
    login(first, "renhe")
    first.get("/")
    second = app.test_client()
    login(second, "renhe")
    page = second.get("/").get_data(as_text=True)
    assert 'id="last-login"' in page and "上次登录" in page and "127.0.0.1" in page
    assert 'id="last-login"' not in second.get("/").get_data(as_text=True)


def test_a_login_beyond_the_session_limit_ends_the_oldest(site: tuple[Path, Path], tmp_path: Path) -> None:
    data, instance = make_instance(tmp_path)
    save_policy(StateDB.of(instance), {"max_sessions": "2"}, "sec")
    app = make_app(data, instance)
    clients = [client_of(app, "bcg") for _ in range(3)]
    r = clients[0].post("/projects/dongqu-01/edit/survey", data={"csrf_token": "x"})
    assert r.status_code == 401 and "别处登录" in r.get_data(as_text=True)  # not a CSRF message
    assert [c.get("/").status_code for c in clients] == [302, 200, 200]
    assert [e.action for e in AuditLog(instance).events()].count("session-limit") == 1


# ---------------------------------------------------------------- 三员分立: role × action


ACTIONS = [
    # (method, path, status for sys, sec, aud, and an account with a business role only)
    ("GET", "/admin/users", {"sys": 200, "sec": 404, "aud": 404, "bcg": 404}),
    ("GET", "/admin/security", {"sys": 404, "sec": 200, "aud": 404, "bcg": 404}),
    ("POST", "/admin/security", {"sys": 404, "sec": 422, "aud": 404, "bcg": 404}),  # no values sent
    ("GET", "/admin/audit", {"sys": 404, "sec": 404, "aud": 200, "bcg": 404}),
    ("GET", "/admin/audit.xlsx", {"sys": 404, "sec": 404, "aud": 200, "bcg": 404}),
    ("GET", f"/projects/{OWN['bcg']}", {"sys": 404, "sec": 404, "aud": 404, "bcg": 200}),
    ("GET", f"/projects/{OWN['bcg']}/roster.xlsx", {"sys": 404, "sec": 404, "aud": 404, "bcg": 200}),
    ("GET", f"/api/projects/{OWN['bcg']}", {"sys": 404, "sec": 404, "aud": 404, "bcg": 200}),
    ("GET", "/review", {"sys": 404, "sec": 404, "aud": 404, "bcg": 404}),
    ("GET", "/batch/prints", {"sys": 404, "sec": 404, "aud": 404, "bcg": 404}),
    ("GET", "/dashboard", {"sys": 404, "sec": 404, "aud": 404, "bcg": 404}),
    ("GET", "/plan", {"sys": 404, "sec": 404, "aud": 404, "bcg": 404}),
    ("GET", "/account/password", {"sys": 200, "sec": 200, "aud": 200, "bcg": 200}),
]


@pytest.mark.parametrize("name", ["sys", "sec", "aud", "bcg"])
def test_each_administrator_does_only_its_own_part(app: Flask, name: str) -> None:
    client = client_of(app, name)
    token = csrf(client, "/account/password")
    got, want = {}, {}
    for method, path, by_name in ACTIONS:
        if method == "GET":
            got[path, method] = client.get(path).status_code
        else:
            got[path, method] = client.post(path, data={"csrf_token": token}).status_code
        want[path, method] = by_name[name]
    assert got == want
    listing = client.get("/api/projects").get_json()["projects"]
    assert (listing == []) is (name != "bcg")  # the three see no project data without a business role


def test_the_administrators_page_cannot_touch_the_three_or_make_them(app: Flask, site: tuple[Path, Path]) -> None:
    admin = client_of(app, "sys")
    token = csrf(admin, "/admin/users")
    r = admin.post("/admin/users/aud/passwd", data={"csrf_token": token, "password": "Take-over-audit-1",
                                                  "password2": "Take-over-audit-1"})
    assert r.status_code == 422 and "三员账户只能在服务器上" in r.get_data(as_text=True)
    r = admin.post("/admin/users", data={"csrf_token": token, "name": "aud2", "role": "auditor", "unit": "x",
                                         "password": "Fresh-account-9", "password2": "Fresh-account-9"})
    assert r.status_code == 422 and Accounts(site[1]).get("aud2") is None
    with pytest.raises(AccountError, match="未知的管理职责"):
        Accounts(site[1]).set_duty("bcg", "superuser")
    with pytest.raises(AccountError, match="没有业务角色"):
        Accounts(site[1]).set_duty("aud", "")


def test_an_old_admin_account_becomes_the_system_administrator(tmp_path: Path) -> None:
    """An instance database from before the three administrators: migrated in place."""
    from generator.web.statedb import MIGRATIONS, statements

    instance = tmp_path / "old"
    instance.mkdir()
    conn = sqlite3.connect(instance / DB_FILE)
    for statement in statements(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("INSERT INTO users VALUES ('boss', 'admin', '市局', ?, 0, 1.0)", (CHEAP.hash(PASSWORD),))
    conn.execute("INSERT INTO audit (time, user, action, project, changes, version_before, version_after, detail) "
                 "VALUES ('2025-01-01T00:00:00+00:00', 'boss', 'login', '', '[]', '', '', '')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    boss = Accounts(instance).get("boss")
    assert boss is not None and boss.role == "admin" and boss.duty == "sysadmin" and boss.password_set == 1.0
    log = AuditLog(instance)
    assert log.verify().whole and log.verify().records == 1  # the old record chained once


# ---------------------------------------------------------------- 安全审计: the chain


def test_the_audit_chain_broken_by_hand_is_found_and_named(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    for i in range(5):
        log.append("bcg", "save", f"dongqu-0{i}", detail=f"第{i}次", address="10.0.0.1")
    assert log.verify().whole and log.verify().records == 5
    path = tmp_path / DB_FILE
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="只能追加"):
        conn.execute("UPDATE audit SET user = 'renhe' WHERE id = 3")
    with pytest.raises(sqlite3.DatabaseError, match="只能追加"):
        conn.execute("DELETE FROM audit WHERE id = 3")
    conn.execute("DROP TRIGGER audit_no_update")  # what someone with the file and sqlite3 could do
    conn.execute("UPDATE audit SET user = 'renhe' WHERE id = 3")
    conn.commit()
    verdict = log.verify()
    assert not verdict.whole and verdict.broken == 3 and "第3号记录" in verdict.message()
    conn.execute("UPDATE audit SET user = 'bcg' WHERE id = 3")
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE id = 2")
    conn.commit()
    conn.close()
    assert log.verify().broken == 3  # the record after a removed one no longer matches


def test_records_cut_from_the_end_show_against_the_head_kept_beside_them(tmp_path: Path) -> None:
    import shutil

    from generator.web.audit import HEAD_FILE

    log = AuditLog(tmp_path)
    for i in range(3):
        log.append("bcg", "save", f"dongqu-0{i}", detail=f"第{i}次", address="10.0.0.1")
    shutil.copy(tmp_path / DB_FILE, tmp_path / "older.sqlite3")  # a copy of the database as it was
    for i in range(3, 5):
        log.append("bcg", "save", f"dongqu-0{i}", detail=f"第{i}次", address="10.0.0.1")
    head = (tmp_path / HEAD_FILE).read_text()
    assert head.startswith("5 ") and log.verify().whole
    conn = sqlite3.connect(tmp_path / DB_FILE)
    with pytest.raises(sqlite3.DatabaseError, match="只能追加"):
        conn.execute("UPDATE audit_head SET count = 3")
    conn.execute("DROP TRIGGER audit_no_delete")  # what someone with the file and sqlite3 could do
    conn.execute("DELETE FROM audit WHERE id > 3")
    conn.commit()
    verdict = log.verify()
    assert not verdict.whole and verdict.records == 3 and "另记的记录数为5条" in verdict.message()
    # the head in the database lowered too: the file in the instance folder still says 5
    conn.execute("DROP TRIGGER audit_head_only_grows")
    conn.execute("UPDATE audit_head SET count = 3, hash = (SELECT hash FROM audit WHERE id = 3)")
    conn.commit()
    conn.close()
    verdict = log.verify()
    assert not verdict.whole and f"{HEAD_FILE} 记下的记录数为5条" in verdict.message()
    # the database put back from the older copy: whole by itself, short of the file
    shutil.copy(tmp_path / "older.sqlite3", tmp_path / DB_FILE)
    for side in ("-wal", "-shm"):
        (tmp_path / (DB_FILE + side)).unlink(missing_ok=True)
    StateDB.forget(tmp_path)
    assert not AuditLog(tmp_path).verify().whole
    # a file behind the records (a crash between the record and the file) is no alarm
    (tmp_path / HEAD_FILE).write_text(head.replace("5 ", "2 ", 1))
    assert not AuditLog(tmp_path).verify().whole  # 2 records' hash differs from the 5th's
    log = AuditLog(tmp_path)
    second = log.db.rows("SELECT hash FROM audit WHERE id = 2")[0][0]
    (tmp_path / HEAD_FILE).write_text(f"2 {second}\n")
    assert log.verify().whole
    (tmp_path / HEAD_FILE).unlink()  # none (a restored instance): the database's own head is checked
    assert log.verify().whole


def test_the_audit_page_says_whether_the_chain_is_whole_and_exports_text(site: tuple[Path, Path],
                                                                         app: Flask) -> None:
    AuditLog(site[1]).append("bcg", "save", "dongqu-01", detail='=HYPERLINK("http://x","点我")')
    auditor = client_of(app, "aud")
    page = auditor.get("/admin/audit").get_data(as_text=True)
    assert "操作记录完整" in page and "来访地址" in page
    r = auditor.get("/admin/audit.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert ws["A1"].value.startswith("操作记录完整")
    cells = [c for row in ws.iter_rows() for c in row if c.value]
    assert all(c.data_type == "s" for c in cells)
    assert any(c.value == '=HYPERLINK("http://x","点我")' for c in cells)
    events = AuditLog(site[1]).events()
    assert [e.action for e in events[-2:]] == ["audit-verify", "audit-export"]
    assert events[-1].address == "127.0.0.1" and events[-1].outcome == "成功"


def test_the_audit_workbook_is_streamed_as_text_cells_in_order(tmp_path: Path) -> None:
    from generator.web.audit import Event, FieldChange, append_row, workbook
    from generator.web.statedb import now_iso

    log = AuditLog(tmp_path)
    with log.db.write() as conn:
        for i in range(4500):  # more than two chunks of rows
            append_row(conn, Event(now_iso(), f"u{i}", "save" if i % 2 else "login", "dongqu-01",
                                   [FieldChange("survey.support", str(i), str(i + 1))] if i % 2 else [],
                                   detail="<a & b>\x07" if i == 8 else "", address="10.0.0.1", outcome="成功"))
    ws = openpyxl.load_workbook(io.BytesIO(workbook(log.export_rows(), log.verify().message()))).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert len(rows) == 4502 and rows[0][0].startswith("操作记录完整：共4500条")
    assert rows[1] == ["序号", "时间", "账户", "来访地址", "事件", "对象", "结果", "详情"]
    assert rows[2][:3] == ["1", log.events()[0].local_time, "u0"] and rows[2][7] is None  # empty cells left out
    assert rows[3][4:] == ["修改资料", "dongqu-01", "成功", "survey.support：1→2"]
    assert rows[10][7] == "<a & b>" and rows[-1][0] == "4500"
    assert all(c.data_type == "s" for row in ws.iter_rows() for c in row if c.value is not None)


# ---------------------------------------------------------------- the login page: redirect, address, key


@pytest.mark.parametrize("target", [
    "//evil.example/", "/\\evil.example/", "\\\\evil.example", "/\t/evil.example", "\x01//evil.example",
    " //evil.example", "/\r\n/evil.example", "https://evil.example/", "javascript:alert(1)", "/%0d%0a", "",
    "\n/\\evil.example",
])
def test_after_login_only_a_path_of_this_site_is_followed(app: Flask, target: str) -> None:
    client = app.test_client()
    token = csrf(client)
    r = client.post("/login", data={"username": "renhe", "password": PASSWORD, "csrf_token": token, "next": target})
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location.split("?")[0][:3]
    assert "\r" not in location and "\n" not in location
    if target == "/%0d%0a":
        assert location == "/%0d%0a"  # a path of this site, escaped: followed
    else:
        assert location == "/"


def test_a_path_of_this_site_is_followed(app: Flask) -> None:
    client = app.test_client()
    token = csrf(client)
    r = client.post("/login", data={"username": "renhe", "password": PASSWORD, "csrf_token": token,
                                    "next": "/projects/renhe-24?tab=1"})
    assert r.headers["Location"] == "/projects/renhe-24?tab=1"


def test_the_forwarded_address_counts_only_behind_the_https_proxy(site: tuple[Path, Path]) -> None:
    for behind, want in ((True, "203.0.113.7"), (False, "127.0.0.1")):
        app = make_app(*site, BEHIND_HTTPS=behind)
        client = app.test_client()
        token = csrf(client)
        # a client's own X-Forwarded-For comes first; the proxy appends the address it saw
        client.post("/login", data={"username": "nobody-" + str(behind), "password": "x", "csrf_token": token},
                    headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7", "X-Forwarded-Proto": "https"},
                    base_url="https://localhost" if behind else "http://localhost")
        event = [e for e in AuditLog(site[1]).events() if e.user == "nobody-" + str(behind)][-1]
        assert event.address == want


@pytest.mark.parametrize("content", [b"", b"   \n", b"\xff\xfe garbage", b"short"])
def test_an_empty_or_damaged_session_key_is_made_afresh(tmp_path: Path, content: bytes) -> None:
    data, instance = make_instance(tmp_path)
    (instance / "secret_key").write_bytes(content)
    app = make_app(data, instance)
    key = (instance / "secret_key").read_text()
    assert len(key) == 64 and app.config["SECRET_KEY"] == key
    login(app.test_client(), "bcg")  # not "CSRF 校验失败"


def test_print_jobs_are_bounded_per_account_and_overall(app: Flask) -> None:
    from types import SimpleNamespace

    prints = app.extensions["gaizao"]["prints"]
    client = client_of(app, "dongqu")
    token = csrf(client, "/")
    with prints._lock:
        prints._live.update({f"fake{i}": SimpleNamespace(owner="dongqu", state="queued") for i in range(2)})
    try:
        r = client.post("/batch/prints", data={"csrf_token": token, "kind": "survey"})
        assert r.status_code == 429 and "2个打印任务" in r.get_data(as_text=True)
        with prints._lock:
            prints._live.update({f"other{i}": SimpleNamespace(owner="city", state="running") for i in range(6)})
            for i in range(2):
                del prints._live[f"fake{i}"]
        r = client.post("/batch/prints", data={"csrf_token": token, "kind": "survey"})
        assert r.status_code == 429 and "服务器上已有" in r.get_data(as_text=True)
    finally:
        with prints._lock:
            for key in [k for k in prints._live if k.startswith(("fake", "other"))]:
                del prints._live[key]


# ---------------------------------------------------------------- 个人信息保护


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("住户名册·1栋101·户主姓名", "张小明", "张*明"), ("住户名册·1栋101·户主姓名", "张三", "张*"),
    ("住户名册·1栋101·户主姓名", "欧阳小明", "欧阳*明"), ("住户名册·1栋101·联系电话", "13812341234", "138****1234"),
    ("住户名册·1栋101·联系电话", "0812-3334444", "*******4444"),
    ("住户名册·1栋101·意见", "同意", "同意"), ("住户名册·1栋101·户主姓名", "空", "空"),
])
def test_names_and_phones_are_masked(field: str, value: str, shown: str) -> None:
    from generator.web.privacy import mask_value

    assert mask_value(field, value) == shown


def test_the_roster_goes_only_to_its_street_office_with_a_purpose_and_is_logged_masked(
        site: tuple[Path, Path], app: Flask) -> None:
    from generator.web.audit import FieldChange

    street = client_of(app, "renhe")
    path = "/projects/renhe-24/roster.xlsx"
    assert street.get(path).status_code == 200 and "下载用途" in street.get(path).get_data(as_text=True)
    token = csrf(street, path)
    assert street.post(path, data={"csrf_token": token, "purpose": "  "}).status_code == 422
    r = street.post(path, data={"csrf_token": token, "purpose": "入户 征询意见"})
    assert r.status_code == 200 and r.mimetype.endswith("sheet")
    event = AuditLog(site[1]).events("renhe-24")[-1]
    assert (event.action, event.detail, event.address) == ("roster-download", "用途：入户 征询意见", "127.0.0.1")
    for name in ("dongqu", "admin"):
        other = client_of(app, name)
        assert other.get(f"/projects/{OWN[name]}/roster.xlsx").status_code == 403
    # a change recorded before masking is shown masked on the project page
    AuditLog(site[1]).append("renhe", "save", "renhe-24",
                             [FieldChange("住户名册·1栋1单元101·联系电话", "13812341234", "13998765432")])
    page = street.get("/projects/renhe-24").get_data(as_text=True)
    assert "138****1234 → 139****5432" in page and "13812341234" not in page


# ---------------------------------------------------------------- the self-check and the commands


def test_security_check_says_clause_by_clause_what_is_met(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from generator.cli.main import main

    inst = str(tmp_path / "inst")
    runner = CliRunner()
    assert runner.invoke(main, ["users", "add", "wang", "--duty", "sysadmin", "--unit", "市局", "--password-stdin",
                                "--instance", inst], input="Strong-pass-word-1\n").exit_code == 0
    assert "wang\t-\t市局\t正常\tsysadmin" in runner.invoke(main, ["users", "list", "--instance", inst]).output
    out = runner.invoke(main, ["security", "check", "--instance", inst]).output
    assert "【不符合】安全管理员：没有启用的安全管理员账户" in out
    assert "【不符合】定期备份：从未用 gaizao backup 备份过" in out
    assert "【部分符合】登录连接超时自动退出：无操作15分钟自动退出（默认值" in out
    assert "【无法判断】远程管理防窃听（HTTPS）" in out and "【符合】审计记录完整、防篡改" in out
    db = StateDB.of(Path(inst))
    save_policy(db, {"idle_minutes": "10"}, "sec")
    from generator.web.policy import note_served

    note_served(db, behind_https=True)
    AuditLog(Path(inst)).append("命令行:root", "backup", detail="/srv/backup/x.zip")
    for name, duty in (("li", "secadmin"), ("zhao", "auditor")):
        Accounts(Path(inst), CHEAP).add(name, "", "市局", "Strong-pass-word-1", duty=duty)
    out = runner.invoke(main, ["security", "check", "--instance", inst]).output
    assert "不符合" not in out.split("合计")[0], out
    assert "【符合】远程管理防窃听（HTTPS）" in out and "【符合】定期备份" in out
    assert runner.invoke(main, ["security", "verify", "--instance", inst]).exit_code == 0
    conn = sqlite3.connect(Path(inst) / DB_FILE)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET detail = 'x' WHERE id = 1")
    conn.commit()
    conn.close()
    broken = runner.invoke(main, ["security", "verify", "--instance", inst])
    assert broken.exit_code == 1 and "第1号记录" in broken.output
    out = runner.invoke(main, ["security", "check", "--instance", inst]).output
    assert "【不符合】审计记录完整、防篡改" in out and "【不符合】审计记录只能追加" in out
    assert Throttle(db, 1, lock_seconds=0).failed("zhao", "h")  # locked until unlocked
    assert runner.invoke(main, ["security", "unlock", "zhao", "--instance", inst]).exit_code == 0
    assert runner.invoke(main, ["security", "unlock", "zhao", "--instance", inst]).exit_code == 1


def test_downloads_of_papers_that_print_residents_are_recorded(site: tuple[Path, Path], app: Flask) -> None:
    city = client_of(app, "city")
    community = OWN["city"]
    assert city.get(f"/projects/{community}/documents/survey").status_code == 200
    assert city.get(f"/projects/{community}/documents/application").status_code in (200, 409)
    assert city.get(f"/projects/{community}/packet.zip").status_code == 200
    events = [e for e in AuditLog(site[1]).events(community) if e.action == "personal-download"]
    assert [(e.user, e.detail) for e in events] == [("city", "已遮蔽住户姓名、电话：居民意见征询表")] * 2


@pytest.mark.parametrize(("behind", "proxy", "want"), [
    (True, "127.0.0.1", "203.0.113.7"),  # the proxy's last address, not the one the client wrote
    (True, "10.1.1.1", "127.0.0.1"),  # a peer that is not the named proxy: its headers are dropped
    (False, "127.0.0.1", "127.0.0.1"),
])
def test_waitress_passes_the_proxy_address_only_behind_https(tmp_path: Path, behind: bool, proxy: str,
                                                            want: str) -> None:
    import urllib.error
    import urllib.request

    from generator.cli.web import waitress_options
    from tests.webapp import Running

    data, instance = make_instance(tmp_path)
    running = Running(make_app(data, instance, BEHIND_HTTPS=behind), **waitress_options(behind, proxy))
    try:
        request = urllib.request.Request(f"{running.base}/api/login", data=b'{"username": "ghost", "password": "x"}',
                                         headers={"Content-Type": "application/json",
                                                  "X-Forwarded-For": "10.9.9.9, 203.0.113.7",
                                                  "X-Forwarded-Proto": "https"})
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=10)
    finally:
        running.stop()
    assert [e.address for e in AuditLog(instance).events() if e.user == "ghost"] == [want]


# ---------------------------------------------------------------- the route × role walk, for the three administrators


DUTY_PAGES = {
    # the pages each of the three reaches, with the status a bare request gets; every other route is 404
    "sys": {("GET", "/admin/users"): 200, ("POST", "/admin/users"): 422, ("GET", "/admin/users/bcg/disable"): 200,
            ("GET", "/admin/users-template.xlsx"): 200, ("POST", "/admin/users-import"): 400,
            ("POST", "/admin/users-import/passwords"): 410},
    "sec": {("GET", "/admin/security"): 200, ("POST", "/admin/security"): 422},
    "aud": {("GET", "/admin/audit"): 200, ("GET", "/admin/audit.xlsx"): 200},
}
EVERYONE = {("GET", "/account/password"): 200, ("POST", "/account/password"): 422, ("GET", "/help"): 200}


@pytest.mark.parametrize("name", list(DUTY_ACCOUNTS))
def test_every_route_answers_the_three_administrators(app: Flask, name: str) -> None:
    """Every route of the walk in tests/test_web.py and tests/test_web_city.py: without a business role, the
    three see no community, no district, no programme; only their own page and their password."""
    from tests.test_web import GLOBAL_ROUTES, ROUTES
    from tests.test_web_city import CITY_ROUTES

    client = client_of(app, name)
    token = csrf(client, "/account/password")

    def call(method: str, path: str) -> int:
        if method == "GET":
            return int(client.get(path).status_code)
        return int(client.post(path, data={"csrf_token": token, "version": "stale", "token": "0" * 32}).status_code)

    got, want = {}, {}
    for method, pattern, _ in ROUTES:
        for community in (OWN["bcg"], OWN["city"]):
            path = pattern.format(id=community)
            got[method, path], want[method, path] = call(method, path), 404
    for method, path, _, _ in GLOBAL_ROUTES:
        expected = {**EVERYONE, **DUTY_PAGES[name]}.get((method, path), 404)
        got[method, path], want[method, path] = call(method, path), expected
    for method, pattern, _, _ in CITY_ROUTES:
        path = pattern.format(district="东区")
        got[method, path], want[method, path] = call(method, path), 404
    assert got == want
