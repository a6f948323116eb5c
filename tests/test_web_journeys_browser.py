"""Journeys in a real browser across roles: a new city started from the browser alone after `gaizao init --plan`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from generator.cli import main
from generator.web.accounts import Accounts
from tests.test_init_plan import CITY, county_plan
from tests.test_web_browser import SHOTS, _login, browser, pytestmark  # noqa: F401  (fixtures, marks)
from tests.webapp import CHEAP, PASSWORD, Running, make_app


def test_a_new_city_is_started_from_the_browser_alone(tmp_path: Path, browser: Any) -> None:  # noqa: F811
    folder = tmp_path / "云溪"
    result = CliRunner().invoke(main, ["init", str(folder), "--city", CITY,
                                       "--plan", str(county_plan(tmp_path / "计划表.xlsx"))])
    assert result.exit_code == 0, result.output
    assert "【待填写：街道办事处】" in (folder / "projects" / "d1-01.yaml").read_text(encoding="utf-8")
    instance = tmp_path / "instance"
    accounts = Accounts(instance, CHEAP)
    accounts.add("city", "city", CITY, PASSWORD)
    accounts.add("chengnan", "street", "城南街道办事处", PASSWORD)
    running = Running(make_app(folder, instance))
    try:
        base = running.base
        city = _login(browser, base, "city")
        clerk = _login(browser, base, "chengnan")
        assert "粮食局宿舍" not in clerk.inner_text("main")  # nothing assigned yet
        city.click("nav.main >> text=街道分配")
        city.select_option("#a-district", "城南街道")
        city.click("text=查看")
        city.fill("input[aria-label='粮食局宿舍的街道办事处']", "城南街道办事处")
        city.screenshot(path=str(SHOTS / "assign.png"), full_page=True)
        city.click("text=保存分配")
        city.wait_for_selector("p.notice")
        clerk.reload()
        clerk.click("text=粮食局宿舍")
        clerk.fill("#start-committee", "粮食局社区居民委员会")
        clerk.screenshot(path=str(SHOTS / "start.png"), full_page=True)
        clerk.click("#start button.primary")
        clerk.wait_for_selector("p.notice")
        assert "已开始填报" in clerk.inner_text("p.notice")
        clerk.screenshot(path=str(SHOTS / "started.png"), full_page=True)
        clerk.click("table.sections a[href$='/edit/survey']")
        clerk.fill("#f-survey-date", "2021-03-10")
        clerk.fill("#f-survey-households_asked", "120")
        clerk.fill("#f-survey-support", "115")
        clerk.fill("#f-survey-oppose", "3")
        clerk.fill("#f-survey-no_answer", "2")
        clerk.click("button.primary")
        clerk.wait_for_selector("p.notice")
        text = (folder / "projects" / "d1-01.yaml").read_text(encoding="utf-8")
        assert "street_office: 城南街道办事处" in text and "support: 115" in text
    finally:
        running.stop()


def test_the_budget_editor_at_1366x768(tmp_path: Path, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    from tests.webapp import make_instance

    data, instance = make_instance(tmp_path)
    running = Running(make_app(data, instance))
    try:
        page = _login(browser, running.base, "bcg")
        page.goto(f"{running.base}/projects/dongqu-10/edit/budget")
        page.locator("#split td.num").first.wait_for()
        heights = page.evaluate("Array.from(document.querySelectorAll('table.rows tbody tr'))"
                                ".map(r => r.getBoundingClientRect().height)")
        assert max(heights) <= 42, heights
        bar = page.evaluate("document.querySelector('section.live').getBoundingClientRect().height")
        assert bar <= 45, bar
        assert (768 - bar - 40) // max(heights) >= 12  # twelve lines in view above the bar, under a header
        # A new line: choosing its item paints nothing red; 数量 × 单价 gives 金额 to the 分.
        last = page.locator("select.catalogue").count() - 1
        page.select_option(f"#f-items-{last}-item", index=3)
        page.wait_for_timeout(600)
        assert page.locator("ul.messages li", has_text="缺少").count() == 0
        page.fill(f"#f-items-{last}-quantity", "12.5")
        page.fill(f"#f-items-{last}-unit_price", "80.08")
        expect(page.locator(f"#f-items-{last}-amount")).to_have_value("1001.00")
        # The budget no longer equals the plan (the box is ticked): said beside the total, in view.
        page.fill(f"#f-items-{last}-description", "新增一项")
        page.fill(f"#f-items-{last}-unit", "项")
        bar_msg = page.locator("ul.messages.bar li.error", has_text="与计划表预计投资")
        bar_msg.wait_for()
        assert "与计划表预计投资" in bar_msg.inner_text() and bar_msg.is_visible()
        box = bar_msg.bounding_box()
        assert box is not None and 0 <= box["y"] < 768
        page.screenshot(path=str(SHOTS / "budget-editor.png"))
    finally:
        running.stop()
