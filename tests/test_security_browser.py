"""The security journeys in a real browser: a lockout and its unlock, the first login's password change,
and the three administrators each seeing only their own pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from generator.web.accounts import Accounts
from tests.test_web_browser import SHOTS, launched, pytestmark  # noqa: F401  (the browser mark and skip)
from tests.webapp import CHEAP, PASSWORD, Running, make_app, make_instance


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data, instance = make_instance(tmp_path_factory.mktemp("security-browser"))
    accounts = Accounts(instance, CHEAP)
    for name, duty in (("sys", "sysadmin"), ("sec", "secadmin"), ("aud", "auditor")):
        accounts.add(name, "", "市住房城乡建设局", PASSWORD, duty=duty)
    accounts.add("newclerk", "street", "仁和街道办事处", "Given-by-admin-1", must_change=True)
    running = Running(make_app(data, instance))
    yield running.base
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched()


def _page(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()


def _log_in(page: Any, base: str, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("button.primary")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_five_failures_lock_the_account_until_the_security_administrator_unlocks_it(browser: Any, base: str) -> None:
    page = _page(browser)
    for _ in range(4):
        _log_in(page, base, "bcg", "Wrong-password-1")
        assert "用户名或密码错误" in page.inner_text("[role=alert]")
    _log_in(page, base, "bcg", "Wrong-password-1")
    assert "已暂时锁定" in page.inner_text("[role=alert]")
    _log_in(page, base, "bcg")  # the right password is refused while locked
    assert "已暂时锁定" in page.inner_text("[role=alert]")
    _shot(page, "security-locked.png")
    sec = _page(browser)
    _log_in(sec, base, "sec")
    sec.click("text=安全设置")
    assert sec.locator("#lock-bcg").count() == 1
    _shot(sec, "security-settings.png")
    sec.click("#lock-bcg button")
    assert "已解锁" in sec.inner_text("[role=status]")
    _log_in(page, base, "bcg")
    page.wait_for_url(f"{base}/")


def test_the_first_login_asks_for_a_new_password_first(browser: Any, base: str) -> None:
    page = _page(browser)
    _log_in(page, base, "newclerk", "Given-by-admin-1")
    page.wait_for_url(f"{base}/account/password")
    assert "须先修改密码" in page.inner_text("main")
    page.goto(f"{base}/projects/renhe-24")  # anything else leads back here
    page.wait_for_url(f"{base}/account/password")
    page.fill("#old", "Given-by-admin-1")
    page.fill("#password", "weakpassword")
    page.fill("#password2", "weakpassword")
    page.click("button.primary")
    assert "至少3类" in page.inner_text("[role=alert]")
    _shot(page, "security-first-login.png")
    page.fill("#old", "Given-by-admin-1")
    page.fill("#password", "Tea-garden-road-7")
    page.fill("#password2", "Tea-garden-road-7")
    page.click("button.primary")
    page.wait_for_url(f"{base}/")
    assert "密码已修改" in page.inner_text("main")


@pytest.mark.parametrize(("name", "link", "others"), [
    ("sys", "账户管理", ["安全设置", "操作记录", "进度看板", "批量打印"]),
    ("sec", "安全设置", ["账户管理", "操作记录", "进度看板", "批量打印"]),
    ("aud", "操作记录", ["账户管理", "安全设置", "进度看板", "批量打印"]),
])
def test_each_of_the_three_sees_only_its_own_page(browser: Any, base: str, name: str, link: str,
                                                  others: list[str]) -> None:
    page = _page(browser)
    _log_in(page, base, name)
    page.wait_for_url(f"{base}/")
    nav = page.inner_text("nav.main")
    assert link in nav and not [o for o in others if o in nav]
    page.click(f"nav.main >> text={link}")
    if name == "aud":
        assert "操作记录完整" in page.inner_text("#verdict")
    _shot(page, f"security-{name}.png")
    for path in ("/admin/users", "/admin/security", "/admin/audit", "/projects/renhe-24"):
        response = page.goto(f"{base}{path}")
        own = {"sys": "/admin/users", "sec": "/admin/security", "aud": "/admin/audit"}[name]
        assert response.status == (200 if path == own else 404), path
