"""The 系统管理员's users page: search and pages, accounts made from a sheet (all or none, first passwords
handed over once), the question before 停用, messages naming the account, units checked against the data
(on the web and in `gaizao users`)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook

from generator.cli import main
from generator.web.account_sheet import COLUMNS, SHEET
from generator.web.accounts import Accounts, NewAccount
from generator.web.audit import AuditLog
from tests.webapp import CHEAP, PASSWORD, csrf, login, make_app, make_instance


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Flask, Path]:
    data, instance = make_instance(tmp_path)
    return make_app(data, instance), instance


def _admin(app: Flask) -> FlaskClient:
    client = app.test_client()
    login(client, "admin")
    return client


def _sheet(rows: list[tuple[object, ...]], headings: tuple[str, ...] = COLUMNS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(list(headings))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client: FlaskClient, raw: bytes, name: str = "各街道账户.xlsx") -> tuple[int, str]:
    r = client.post("/admin/users-import", data={"csrf_token": csrf(client, "/admin/users"),
                                                 "file": (io.BytesIO(raw), name)}, content_type="multipart/form-data")
    return r.status_code, r.get_data(as_text=True)


def test_accounts_are_found_by_name_person_unit_and_role_a_page_at_a_time(fresh: tuple[Flask, Path]) -> None:
    app, instance = fresh
    Accounts(instance, CHEAP).add_many([NewAccount(f"street{n:03d}", "street", "炳草岗街道办事处", PASSWORD,
                                                   person=f"张{n:03d}") for n in range(120)])
    client = _admin(app)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "账户管理（125个账户）" in page and "第1/3页" in page and "street044" in page
    assert "street045" not in page  # 50 a page, by name
    assert "street045" in client.get("/admin/users?page=2").get_data(as_text=True)
    last = client.get("/admin/users?page=99").get_data(as_text=True)
    assert "第3/3页" in last and "street119" in last
    found = client.get("/admin/users?q=张007").get_data(as_text=True)
    assert "符合条件的1个" in found and "street007" in found and "street008" not in found
    by_unit = client.get("/admin/users?q=仁和").get_data(as_text=True)
    assert "符合条件的1个" in by_unit and 'id="user-renhe"' in by_unit
    districts = client.get("/admin/users?role=district").get_data(as_text=True)
    assert "符合条件的1个" in districts and 'id="user-dongqu"' in districts
    # % is a character searched for, not a wildcard
    assert "符合条件的0个" in client.get("/admin/users?q=%25").get_data(as_text=True)


def test_a_sheet_with_one_bad_row_makes_no_account_and_names_every_bad_cell(fresh: tuple[Flask, Path]) -> None:
    app, instance = fresh
    client = _admin(app)
    template = client.get("/admin/users-template.xlsx")
    assert template.status_code == 200
    ws = load_workbook(io.BytesIO(template.data))[SHEET]
    assert tuple(c.value for c in ws[1]) == COLUMNS
    before = len(Accounts(instance).all())
    status, page = _upload(client, _sheet([
        ("bcg2", "王芳", "街道办事处", "炳草岗街道办事处", "13800000001"),
        ("xq", "李强", "县（区）", "北区", "13800000002"),  # no such district
        ("bcg2", "赵六", "街道", "无此街道办事处", "1380000"),  # repeated account, unknown office, short phone
        ("renhe", "", "科长", "仁和街道办事处", None),  # taken, no person, unknown role
        ("boss", "孙七", "全市资料管理", "攀枝花市", None),  # not made from a sheet
    ]))
    assert status == 422, page
    assert "有8处问题，一个账户也没有新增" in page and "各街道账户.xlsx" in page
    for where in ("工作表“账户” 第3行 D列（单位）：县（区）“北区”不在县（区）名录中",
                  "工作表“账户” 第4行 A列（账号）：账号“bcg2”与第2行重复",
                  "工作表“账户” 第4行 D列（单位）：街道办事处“无此街道办事处”在项目资料和街道办事处分配中都没有",
                  "工作表“账户” 第4行 E列（手机）",
                  "工作表“账户” 第5行 A列（账号）：账号“renhe”已有账户使用",
                  "工作表“账户” 第5行 B列（姓名）：未填写姓名",
                  "工作表“账户” 第5行 C列（角色）：角色“科长”无法识别",
                  "工作表“账户” 第6行 C列（角色）：角色“全市资料管理”无法识别"):
        assert where in page, where
    assert len(Accounts(instance).all()) == before
    status, page = _upload(client, _sheet([("x1", "王芳", "街道", "炳草岗街道办事处", None)], COLUMNS[:4] + ("电话",)))
    assert status == 422 and "第1行：标题应为" in page
    status, page = _upload(client, b"not a workbook", "a.xlsx")
    assert status == 422 and "一个账户也没有新增" in page


def test_a_good_sheet_makes_every_account_and_hands_their_passwords_over_once(fresh: tuple[Flask, Path]) -> None:
    app, instance = fresh
    client = _admin(app)
    status, page = _upload(client, _sheet([
        ("bcg-wang", "王芳", "街道办事处", "炳草岗街道办事处", 13800000001),
        ("dq-li", "李强", "县（区）", "东区", "13800000002"),
    ]))
    assert status == 200 and "已新增2个账户" in page and "bcg-wang" in page
    made = Accounts(instance).get("bcg-wang")
    assert made is not None and made.must_change and made.person == "王芳" and made.phone == "13800000001"
    token = page.split('name="token" value="')[1].split('"')[0]
    got = client.post("/admin/users-import/passwords", data={"csrf_token": csrf(client, "/admin/users"),
                                                              "token": token})
    assert got.status_code == 200 and got.headers["Cache-Control"] == "no-store"
    assert "%E5%88%9D%E5%A7%8B%E5%AF%86%E7%A0%81" in got.headers["Content-Disposition"]  # 初始密码
    rows = list(load_workbook(io.BytesIO(got.data))["初始密码"].iter_rows(min_row=2, max_row=3, values_only=True))
    passwords = {r[0]: r[4] for r in rows}
    assert set(passwords) == {"bcg-wang", "dq-li"}
    again = client.post("/admin/users-import/passwords", data={"csrf_token": csrf(client, "/admin/users"),
                                                                "token": token})
    assert again.status_code == 410 and "只能下载一次" in again.get_data(as_text=True)
    events = [(e.action, e.detail) for e in AuditLog(instance).events()]
    assert ("user-import", "账户表 各街道账户.xlsx：2个账户 bcg-wang、dq-li") in events
    assert ("user-import-passwords", "2个账户的初始密码表") in events
    assert not any(p in e.detail for e in AuditLog(instance).events() for p in passwords.values())
    clerk = app.test_client()
    login(clerk, "bcg-wang", str(passwords["bcg-wang"]))
    assert clerk.get("/").status_code == 302  # the first login goes to the password change


def test_disabling_asks_first_and_every_message_names_the_account(fresh: tuple[Flask, Path]) -> None:
    app, instance = fresh
    client = _admin(app)
    assert 'href="/admin/users/renhe/disable"' in client.get("/admin/users").get_data(as_text=True)
    question = client.get("/admin/users/renhe/disable").get_data(as_text=True)
    assert "停用账户“renhe”？" in question and "仁和街道办事处" in question and "确定停用“renhe”" in question
    assert client.get("/admin/users/no-such/disable").status_code == 404
    assert not Accounts(instance).get("renhe").disabled  # type: ignore[union-attr]  # asking changes nothing
    r = client.post("/admin/users/renhe/disable", data={"csrf_token": csrf(client, "/admin/users")})
    assert r.status_code == 302 and Accounts(instance).get("renhe").disabled  # type: ignore[union-attr]
    assert "已停用账户“renhe”" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已停用账户“<b>”" not in client.get("/admin/users?done=disable&who=<b>").get_data(as_text=True)
    token = csrf(client, "/admin/users")
    bad = client.post("/admin/users/admin/disable", data={"csrf_token": token}).get_data(as_text=True)
    assert "账户“admin”是" in bad


def test_a_typed_unit_must_be_one_the_data_names(fresh: tuple[Flask, Path], tmp_path: Path) -> None:
    app, instance = fresh
    client = _admin(app)
    token = csrf(client, "/admin/users")
    form = {"csrf_token": token, "name": "newclerk", "role": "street", "unit": "炳草岗街道", "password": PASSWORD,
            "password2": PASSWORD}
    r = client.post("/admin/users", data=form)
    assert r.status_code == 422 and Accounts(instance).get("newclerk") is None
    page = r.get_data(as_text=True)
    assert "新增账户“newclerk”未成功：街道办事处“炳草岗街道”在项目资料和街道办事处分配中都没有" in page
    assert "炳草岗街道办事处" in page  # offered as the likely one
    r = client.post("/admin/users", data={**form, "unit": "炳草岗街道办事处"})
    assert r.status_code == 302 and "who=newclerk" in r.headers["Location"]
    r = client.post("/admin/users/renhe/assign", data={"csrf_token": token, "role": "district", "unit": "北区"})
    assert r.status_code == 422
    assert "账户“renhe”的角色和单位未修改：县（区）“北区”不在县（区）名录中" in r.get_data(as_text=True)
    data = str(tmp_path / "data")
    runner = CliRunner()
    bad = runner.invoke(main, ["--data", data, "users", "add", "c2", "--role", "street", "--unit", "炳草岗街道",
                               "--password-stdin", "--instance", str(instance)], input=PASSWORD + "\n")
    assert bad.exit_code == 1 and "街道办事处“炳草岗街道”在项目资料和街道办事处分配中都没有" in bad.output
    ok = runner.invoke(main, ["--data", data, "users", "add", "c2", "--role", "street", "--unit", "仁和街道办事处",
                              "--person", "王芳", "--password-stdin", "--instance", str(instance)],
                       input=PASSWORD + "\n")
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main, ["--data", data, "users", "assign", "c2", "--role", "district", "--unit", "北区",
                               "--instance", str(instance)])
    assert bad.exit_code == 1 and "县（区）“北区”不在县（区）名录中" in bad.output


def test_generated_first_passwords_are_hashed_at_the_minimum_cost_and_still_verify(tmp_path: Path) -> None:
    from generator.web.accounts import initial_password

    accounts = Accounts(tmp_path / "inst")  # the real hasher, not the tests' cheap one
    password = initial_password("bcg-wang")
    made = accounts.add_many([NewAccount("bcg-wang", "street", "炳草岗街道办事处", password)], generated=True)[0]
    assert made.password_hash.startswith("$argon2id$") and "m=19456,t=2,p=1" in made.password_hash
    assert accounts.verify("bcg-wang", password) is not None and made.must_change
    typed = accounts.add("typed", "street", "炳草岗街道办事处", PASSWORD)
    assert "m=19456" not in typed.password_hash  # a password someone chose gets the full cost


def test_each_change_says_which_account_it_was(fresh: tuple[Flask, Path]) -> None:
    app, _ = fresh
    client = _admin(app)
    token = csrf(client, "/admin/users")
    new = "Another-long-password-7"
    for action, form, said in (
            ("passwd", {"password": new, "password2": new}, "已重设账户“renhe”的密码"),
            ("assign", {"role": "street", "unit": "大渡口街道办事处"}, "已修改账户“renhe”的角色和单位"),
            ("disable", {}, "已停用账户“renhe”"), ("enable", {}, "已启用账户“renhe”")):
        r = client.post(f"/admin/users/renhe/{action}", data={"csrf_token": token, **form})
        assert r.status_code == 302, (action, r.get_data(as_text=True)[:800])
        assert said in client.get(r.headers["Location"]).get_data(as_text=True)
