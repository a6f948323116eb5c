"""In a real browser at 1366×768: the navigation of every role on one line, the administrator's journey
(find an account, disable it after the question, make accounts from a sheet and take their passwords), and
the district's PDF review copy link."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from generator.web.account_sheet import COLUMNS, SHEET
from generator.web.accounts import Accounts
from tests.test_web_browser import SHOTS, launched
from tests.test_web_browser import pytestmark as browser_marks
from tests.webapp import CHEAP, PASSWORD, Running, make_app, make_instance

pytestmark = browser_marks


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data, instance = make_instance(tmp_path_factory.mktemp("admin-browser"))
    Accounts(instance, CHEAP).add("sys", "", "攀枝花市住房和城乡建设局", PASSWORD, duty="sysadmin")
    running = Running(make_app(data, instance))
    yield running.base, instance
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched()


def _login(browser: Any, base: str, name: str) -> Any:
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                               accept_downloads=True).new_page()
    page.goto(f"{base}/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
    return page


@pytest.mark.parametrize("name", ["bcg", "dongqu", "city", "admin", "sys"])
def test_the_navigation_stays_on_one_line_at_1366(site: tuple[str, Path], browser: Any, name: str) -> None:
    base, _ = site
    page = _login(browser, base, name)
    tops = page.evaluate("[...document.querySelectorAll('nav.main > *')]"
                         ".map(e => Math.round(e.getBoundingClientRect().top))")
    assert len(set(tops)) == 1, tops
    assert page.evaluate("document.querySelector('header.top').getBoundingClientRect().height") < 56
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"nav-{name}.png"), clip={"x": 0, "y": 0, "width": 1366, "height": 120})
    page.click("nav.main summary")  # 更多 opens without scripts of its own: a <details>
    assert page.locator("nav.main .menu >> text=修改密码").is_visible()
    page.context.close()


def test_the_administrator_finds_disables_and_makes_accounts_from_a_sheet(
        site: tuple[str, Path], browser: Any, tmp_path: Path) -> None:
    base, instance = site
    page = _login(browser, base, "admin")
    page.goto(f"{base}/admin/users")
    page.fill("#q", "仁和")
    page.click("form.search button")
    assert page.locator("table.users tbody tr").count() == 1
    page.click("#user-renhe >> text=停用…")
    assert "停用账户“renhe”？" in page.inner_text("h1")
    page.screenshot(path=str(SHOTS / "admin-disable-question.png"))
    page.click("text=确定停用“renhe”")
    assert "已停用账户“renhe”" in page.inner_text("main")
    with page.expect_download() as got:
        page.click("text=下载账户表模板")
    template = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))[SHEET]
    assert tuple(c.value for c in template[1]) == COLUMNS
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(list(COLUMNS))
    ws.append(["dq-wang", "王芳", "县（区）", "东区", "13800000001"])
    ws.append(["ddk", "李强", "街道办事处", "大渡口街道办事处", ""])
    sheet = tmp_path / "账户.xlsx"
    wb.save(sheet)
    page.set_input_files("#sheet", str(sheet))
    page.click("text=上传并新增账户")
    assert "已新增2个账户" in page.inner_text("h1")
    page.screenshot(path=str(SHOTS / "admin-imported.png"))
    with page.expect_download() as got:
        page.click("text=下载初始密码表（只能下载一次）")
    assert got.value.suggested_filename.startswith("初始密码-")
    rows = list(load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))["初始密码"]
                .iter_rows(min_row=2, max_row=3, values_only=True))
    assert [r[0] for r in rows] == ["dq-wang", "ddk"]
    made = Accounts(instance).get("ddk")
    assert made is not None and made.must_change
    page.goto(f"{base}/admin/users?q=王芳")
    page.screenshot(path=str(SHOTS / "admin-users-search.png"), full_page=True)
    assert page.locator("table.users tbody tr").count() == 1


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")
def test_the_district_downloads_a_pdf_review_copy(site: tuple[str, Path], browser: Any) -> None:
    base, _ = site
    page = _login(browser, base, "dongqu")
    page.goto(f"{base}/projects/dongqu-01/review")
    page.screenshot(path=str(SHOTS / "review-pdf-link.png"))
    with page.expect_download() as got:
        page.locator("text=下载PDF审核稿").first.click()
    assert got.value.suggested_filename.startswith("审核稿-") and got.value.suggested_filename.endswith(".pdf")
    assert Path(got.value.path()).read_bytes().startswith(b"%PDF")


def test_the_district_moves_a_community_and_the_clerk_sees_the_signing_units(
        site: tuple[str, Path], browser: Any) -> None:
    base, _ = site
    clerk = _login(browser, base, "bcg")
    clerk.goto(f"{base}/projects/dongqu-10/edit/basic")
    assert clerk.locator("#f-street_office").evaluate("e => e.tagName") == "OUTPUT"
    clerk.screenshot(path=str(SHOTS / "basic-clerk.png"))
    clerk.goto(f"{base}/projects/dongqu-01/edit/acceptance")
    clerk.locator("fieldset.signers").scroll_into_view_if_needed()
    clerk.screenshot(path=str(SHOTS / "acceptance-signers.png"))
    clerk.click("fieldset.signers >> text=参建单位")
    assert clerk.url.endswith("/projects/dongqu-01/edit/units")
    district = _login(browser, base, "dongqu")
    district.goto(f"{base}/projects/dongqu-10/edit/basic")
    district.select_option("#f-street_office", "大渡口街道办事处")
    district.screenshot(path=str(SHOTS / "basic-district.png"))
    district.click("form#edit button.primary")
    district.wait_for_url("**/edit/basic?saved=1")
    assert "已保存" in district.inner_text("main")
    assert clerk.goto(f"{base}/projects/dongqu-10").status == 404  # now 大渡口's
