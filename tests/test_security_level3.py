"""The 第三级 switch: a TOTP second factor with recovery codes, the SM3 audit chain, HTTPS only."""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from generator.errors import GaizaoError
from generator.web.audit import SM3, AuditLog
from generator.web.policy import save as save_policy
from generator.web.statedb import DB_FILE, StateDB
from tests.webapp import PASSWORD, csrf, make_app, make_instance

HTTPS = "https://gaizao.example.internal"


@pytest.fixture()
def level3(tmp_path: Path) -> tuple[Flask, Path]:
    data, instance = make_instance(tmp_path)
    save_policy(StateDB.of(instance), {"level": "3"}, "sec")
    return make_app(data, instance, BEHIND_HTTPS=True), instance


def _password(client: FlaskClient, name: str, password: str = PASSWORD) -> str:
    token = csrf(client, f"{HTTPS}/login")
    r = client.post(f"{HTTPS}/login", data={"username": name, "password": password, "csrf_token": token,
                                           "next": "/projects/renhe-24"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/second"), r.get_data(as_text=True)[:300]
    return csrf(client, f"{HTTPS}/login/second")


def _code(client: FlaskClient, token: str, code: str) -> tuple[int, str]:
    r = client.post(f"{HTTPS}/login/second", data={"code": code, "csrf_token": token})
    return r.status_code, r.get_data(as_text=True) if r.status_code != 302 else r.headers["Location"]


def test_the_password_alone_does_not_log_in_and_the_first_login_enrols(level3: tuple[Flask, Path]) -> None:
    app, instance = level3
    client = app.test_client()
    token = _password(client, "renhe")
    assert client.get(f"{HTTPS}/").status_code == 302  # no session yet
    page = client.get(f"{HTTPS}/login/second").get_data(as_text=True)
    match = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert match and "验证器" in page
    totp = pyotp.TOTP(match.group(1))
    assert _code(client, token, "000000" if totp.now() != "000000" else "111111")[0] == 401
    status, page = _code(client, token, totp.now())
    assert status == 200
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", page)
    assert len(codes) == 8 and "/projects/renhe-24" in page
    assert client.get(f"{HTTPS}/").status_code == 200
    # the next login asks for a code from the same secret; a recovery code works once
    other = app.test_client()
    token = _password(other, "renhe")
    assert "totp-secret" not in other.get(f"{HTTPS}/login/second").get_data(as_text=True)
    assert _code(other, token, codes[0]) == (302, "/projects/renhe-24")
    again = app.test_client()
    token = _password(again, "renhe")
    assert _code(again, token, codes[0])[0] == 401
    assert _code(again, token, totp.now())[0] == 302
    actions = [e.action for e in AuditLog(instance).events() if e.user == "renhe"]
    assert actions.count("totp-enrol") == 1 and actions.count("login") == 3 and "login-failed" in actions


def test_wrong_codes_lock_the_account_like_wrong_passwords(level3: tuple[Flask, Path]) -> None:
    app, _ = level3
    client = app.test_client()
    token = _password(client, "bcg")
    statuses = [_code(client, token, "12345x")[0] for _ in range(5)]
    assert statuses == [401] * 4 + [429]


def test_the_api_and_plain_http_are_refused(level3: tuple[Flask, Path]) -> None:
    app, _ = level3
    client = app.test_client()
    r = client.post(f"{HTTPS}/api/login", json={"username": "renhe", "password": PASSWORD})
    assert r.status_code == 403 and "动态口令" in r.get_json()["error"]
    r = client.get("http://localhost/login")
    assert r.status_code == 403 and "HTTPS" in r.get_data(as_text=True)


def test_the_server_will_not_start_without_https(level3: tuple[Flask, Path], tmp_path: Path) -> None:
    with pytest.raises(GaizaoError, match="只能在 HTTPS 反向代理之后运行"):
        make_app(tmp_path / "data", level3[1])


def test_the_audit_chain_goes_on_with_sm3_and_a_change_is_still_found(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    log.append("bcg", "login")
    save_policy(log.db, {"level": "3"}, "sec")
    log.append("bcg", "save", "dongqu-01")
    log.append("bcg", "logout")
    hashes = [r["hash"] for r in log.db.rows("SELECT hash FROM audit ORDER BY id")]
    assert not hashes[0].startswith(SM3) and all(h.startswith(SM3) for h in hashes[1:])
    # SM3 of "abc", the standard's own example
    from generator.web.audit import sm3_hex

    assert sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert log.verify().whole
    conn = sqlite3.connect(tmp_path / DB_FILE)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET project = 'dongqu-02' WHERE id = 2")
    conn.commit()
    conn.close()
    assert log.verify().broken == 2


def test_level_three_cannot_be_set_over_plain_http(tmp_path: Path) -> None:
    from generator.web.accounts import Accounts
    from generator.web.policy import LIMITS, load
    from tests.webapp import CHEAP, login

    data, instance = make_instance(tmp_path)
    Accounts(instance, CHEAP).add("sec", "", "市局", PASSWORD, duty="secadmin")
    client = make_app(data, instance).test_client()
    login(client, "sec")
    values = {k: str(v) for k, v in vars(load(StateDB.of(instance))).items() if k in LIMITS}
    r = client.post("/admin/security", data={**values, "level": "3", "csrf_token": csrf(client, "/admin/security")})
    assert r.status_code == 422 and "不能改为第三级" in r.get_data(as_text=True)
    assert load(StateDB.of(instance)).level == 2
    r = client.post("/admin/security", data={**values, "idle_minutes": "10",
                                             "csrf_token": csrf(client, "/admin/security")})
    assert r.status_code == 302 and load(StateDB.of(instance)).idle_minutes == 10


# ---------------------------------------------------------------- SM4 at rest


def _stored(instance: Path, sql: str) -> list[tuple[str, ...]]:
    conn = sqlite3.connect(instance / DB_FILE)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_the_default_level_seals_nothing_and_makes_no_key(tmp_path: Path) -> None:
    from generator.web.atrest import KEY_FILE
    from generator.web.audit import FieldChange

    AuditLog(tmp_path).append("renhe", "save", "renhe-24", [FieldChange("住户名册·1栋101·意见", "空", "同意")],
                              detail="用途：入户", address="10.0.0.9")
    assert _stored(tmp_path, "SELECT detail, address FROM audit") == [("用途：入户", "10.0.0.9")]
    assert not (tmp_path / KEY_FILE).exists()


def test_personal_fields_are_sealed_with_sm4_at_the_third_level_and_read_back(tmp_path: Path) -> None:
    import io

    import openpyxl

    from generator.web.accounts import Accounts
    from generator.web.atrest import KEY_FILE, PREFIX
    from generator.web.audit import FieldChange, UploadLog, workbook
    from tests.webapp import CHEAP

    db = StateDB.of(tmp_path)
    log = AuditLog(tmp_path)
    log.append("renhe", "login", address="10.0.0.8")  # before the switch: stays as it was
    save_policy(db, {"level": "3"}, "sec")
    change = FieldChange("住户名册·1栋101·户主姓名", "张*明", "李*华")
    log.append("renhe", "save", "renhe-24", [change], detail="用途：入户征询", address="10.0.0.9")
    UploadLog(tmp_path).record("renhe", "renhe-24", "住户名册", "张小明家.xlsx", b"x", "未导入：第3行电话有误")
    accounts = Accounts(tmp_path, CHEAP)
    accounts.add("wang", "street", "仁和街道办事处", PASSWORD)
    accounts.enrol_totp("wang", "JBSWY3DPEHPK3PXPJBSWY3DP")
    key = tmp_path / KEY_FILE
    assert key.is_file() and len(bytes.fromhex(key.read_text().strip())) == 16
    if hasattr(key.stat(), "st_mode") and sys.platform != "win32":
        assert key.stat().st_mode & 0o077 == 0  # the owner's only
    stored = _stored(tmp_path, "SELECT detail, address, changes FROM audit ORDER BY id")
    assert stored[0][1] == "10.0.0.8"
    sealed = [v for row in stored[1:] for v in row if v not in ("", "[]")]
    assert sealed and all(v.startswith(PREFIX) for v in sealed)
    assert not any("入户" in v or "10.0.0" in v or "张" in v for v in sealed)
    assert all(v.startswith(PREFIX) for v in _stored(tmp_path, "SELECT filename, outcome FROM uploads")[0])
    assert _stored(tmp_path, "SELECT totp FROM users WHERE name = 'wang'")[0][0].startswith(PREFIX)
    # read back whole, by the web and the commands alike
    event = [e for e in log.events() if e.action == "save"][-1]
    assert (event.detail, event.address, event.changes) == ("用途：入户征询", "10.0.0.9", [change])
    upload = UploadLog(tmp_path).uploads()[0]
    assert (upload.filename, upload.outcome) == ("张小明家.xlsx", "未导入：第3行电话有误")
    wang = accounts.get("wang")
    assert wang is not None and wang.totp == "JBSWY3DPEHPK3PXPJBSWY3DP"
    assert accounts.second_factor(wang, pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DP").now())
    ws = openpyxl.load_workbook(io.BytesIO(workbook(log.export_rows(), ""))).active
    assert ("10.0.0.9", "修改资料", "renhe-24", "成功", "用途：入户征询；住户名册·1栋101·户主姓名：张*明→李*华") in [
        row[3:] for row in ws.iter_rows(values_only=True)]
    # the chain covers what is stored: whole without reading the key
    assert log.verify().whole


@pytest.mark.parametrize("damage", ["missing", "other", "garbled"])
def test_a_missing_or_wrong_key_is_named_in_chinese_and_never_replaced(tmp_path: Path, damage: str) -> None:
    from click.testing import CliRunner

    from generator.cli.main import main
    from generator.web.atrest import KEY_FILE, _keys

    save_policy(StateDB.of(tmp_path), {"level": "3"}, "sec")
    AuditLog(tmp_path).append("renhe", "save", "renhe-24", detail="用途：入户征询", address="10.0.0.9")
    key = tmp_path / KEY_FILE
    if damage == "missing":
        key.unlink()
    else:
        key.write_text("00" * 16 if damage == "other" else "xyz\n")
    _keys.clear()  # another process: nothing remembered
    with pytest.raises(GaizaoError) as caught:
        AuditLog(tmp_path).events()
    said = {"missing": "找不到 SM4 密钥文件", "other": "SM4 密钥与本实例数据库不符", "garbled": "SM4 密钥文件已损坏"}
    assert said[damage] in str(caught.value) and "备份" in str(caught.value)
    with pytest.raises(GaizaoError):  # nor is a new key made to seal new records with
        AuditLog(tmp_path).append("renhe", "login", address="10.0.0.9")
    assert damage != "missing" or not key.exists()
    assert AuditLog(tmp_path).verify().whole  # verifying needs no key
    out = CliRunner().invoke(main, ["security", "check", "--instance", str(tmp_path)]).output
    assert "【不符合】住户个人信息存储加密（SM4）" in out and said[damage] in out


def test_the_self_check_says_sm4_is_met_at_the_third_level(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from generator.cli.main import main

    save_policy(StateDB.of(tmp_path), {"level": "3"}, "sec")
    AuditLog(tmp_path).append("renhe", "save", "renhe-24", detail="用途：入户征询", address="10.0.0.9")
    data = tmp_path / "data"
    (data / "rosters").mkdir(parents=True)
    out = CliRunner().invoke(main, ["--data", str(data), "security", "check", "--instance", str(tmp_path)]).output
    assert "【符合】住户个人信息存储加密（SM4）" in out and "住户名册、表决票和满意度答卷（0个文件）" in out
