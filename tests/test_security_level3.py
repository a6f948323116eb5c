"""The 第三级 switch: a TOTP second factor with recovery codes, the SM3 audit chain, HTTPS only."""

from __future__ import annotations

import re
import sqlite3
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
