"""The clerk's journeys in a real browser: Debian's chromium driven by Playwright, against waitress."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator import ROOT
from tests.snapshot import docx_text
from tests.webapp import PASSWORD, Running, make_app, make_instance

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "output" / "screenshots"

pytestmark = [pytest.mark.browser,
              # CI installs chromium (make system): there a missing browser fails rather than skips.
              pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                 reason="Debian's chromium is not installed (make system)")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app on waitress on a free loopback port, over its own copy of the data."""
    data, instance = make_instance(tmp_path_factory.mktemp("browser"))
    running = Running(make_app(data, instance))
    yield running.base, data
    running.stop()


def launched() -> Iterator[Any]:
    """Debian's chromium driven by Playwright, until the generator is closed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched()


def _login(browser: Any, base: str, name: str, shot: str | None = None) -> Any:
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                               accept_downloads=True).new_page()
    page.goto(f"{base}/login")
    if shot:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / shot))
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")  # the form works from the keyboard
    page.wait_for_url(f"{base}/")
    return page


def test_a_clerk_enters_the_survey_and_a_budget_line_and_downloads_the_packet(
        server: tuple[str, Path], browser: Any) -> None:
    base, data = server
    page = _login(browser, base, "renhe", "login.png")
    rows = page.locator("table.list tbody tr")
    names = rows.locator("td:first-child a").all_inner_texts()
    assert names and all("炳草岗" not in n for n in names)
    assert "仁和" in page.inner_text("table.list")
    page.screenshot(path=str(SHOTS / "list.png"), full_page=True)

    page.goto(f"{base}/projects/renhe-24/edit/survey")
    page.fill("#f-survey-date", "2018-03-10")
    page.focus("#f-survey-households_asked")
    for value in ("100", "80", "15", "5"):  # from the keyboard alone, field to field with Tab
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    assert page.input_value("#f-survey-no_answer") == "5"
    warning = page.locator('ul[data-for="survey.support"] li.warning')
    warning.wait_for()  # shown as they type, from the server's preview
    assert "居民支持率80.0%低于90%" in warning.inner_text()
    page.keyboard.press("Enter")  # submits the form from the keyboard
    page.wait_for_selector("p.notice")
    assert "居民支持率80.0%低于90%" in page.inner_text('ul[data-for="survey.support"]')  # saved all the same

    page.goto(f"{base}/projects/renhe-24/edit/budget")
    page.select_option("#f-items-0-item", "立面整治")
    assert "内容" in page.inner_text('.catalogue-info[data-for="f-items-0-item"]')
    page.fill("#f-items-0-description", "外墙真石漆涂装")
    page.fill("#f-items-0-quantity", "1000")
    page.fill("#f-items-0-unit", "平方米")
    page.fill("#f-items-0-unit_price", "123.45")
    page.fill("#f-items-0-amount", "123450")
    page.locator("#split", has_text="123,450.00").wait_for()
    split = page.inner_text("#split")
    assert "市级财政" in split and "居民每户分担" in split
    page.screenshot(path=str(SHOTS / "budget.png"))  # as a 1366×768 screen shows it, the split bar in view
    page.click("button.primary")
    page.wait_for_selector("p.notice")

    page.goto(f"{base}/projects/renhe-24")
    page.screenshot(path=str(SHOTS / "project.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#packet")
    packet = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert not any(n.startswith("02-") for n in packet.namelist())  # the application waits for 90% support
    plan = next(n for n in packet.namelist() if n.startswith("03-"))
    assert "工程预算总额123,450.00元" in docx_text(packet.read(plan))


def test_a_stale_save_is_refused_and_another_streets_page_is_not_found(
        server: tuple[str, Path], browser: Any) -> None:
    base, _ = server
    first, second = _login(browser, base, "renhe"), _login(browser, base, "admin")
    for page in (first, second):
        page.goto(f"{base}/projects/renhe-16/edit/units")

    def save(page: Any, field: str, value: str) -> None:
        page.fill(field, value)
        page.click("button.primary")

    save(second, "#f-units-design", "某某设计研究院")
    second.wait_for_selector("p.notice")
    save(first, "#f-units-supervision", "某某监理公司")
    alert = first.locator("p.conflict")
    alert.wait_for()
    assert "admin" in alert.inner_text() and "某某设计研究院" in alert.inner_text()
    assert first.input_value("#f-units-supervision") == "某某监理公司"
    assert first.input_value("#f-units-design") == "某某设计研究院"  # untouched: the current version
    first.screenshot(path=str(SHOTS / "conflict.png"), full_page=True)
    # Both change one field: the clerk sees both and must choose before anything is written.
    second.goto(f"{base}/projects/renhe-16/edit/units")
    save(second, "#f-units-construction", "甲施工公司")
    second.wait_for_selector("p.notice")
    save(first, "#f-units-construction", "乙施工公司")
    first.locator("fieldset.clash").wait_for()
    assert "甲施工公司" in first.inner_text("fieldset.clash")
    first.screenshot(path=str(SHOTS / "conflict-choice.png"), full_page=True)
    first.check("input[name='_pick.units.construction'][value='theirs']")
    first.click("button.primary")
    first.wait_for_selector("p.notice")
    assert first.input_value("#f-units-construction") == "甲施工公司"
    assert first.input_value("#f-units-supervision") == "某某监理公司"
    response = first.goto(f"{base}/projects/dongqu-01")
    assert response.status == 404 and "找不到" in first.inner_text("h1")
