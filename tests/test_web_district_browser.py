"""A district bureau's journeys in a real browser: review a notice, print a district's notices in one file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from docx import Document

from generator.cli import main
from tests.test_web_browser import SHOTS, _login, launched
from tests.test_web_browser import pytestmark as pytestmark
from tests.webapp import Running, make_app, make_instance


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data, instance = make_instance(tmp_path_factory.mktemp("district-browser"))
    running = Running(make_app(data, instance))
    yield running.base, data
    running.stop()


def test_a_district_returns_a_notice_and_the_street_office_sees_why(server: tuple[str, Path], browser: Any) -> None:
    base, _ = server
    district = _login(browser, base, "dongqu")
    district.click("header nav.main >> text=方案审核")
    rows = district.locator("table.review-list tbody tr")
    assert rows.count() == 6 and "仁和" not in district.inner_text("table.review-list")
    district.locator("table.review-list tr", has_text="炳草岗酿造厂小区").locator("a.review-open").click()
    district.wait_for_selector("#review-notice")
    district.check("#notice-return")
    district.fill("#notice-comment", "公示联系人电话有误，请核对后重新提交")
    district.check("#plan-pass")
    district.locator("#review-plan button[type=submit]").click()  # one decision at a time; the page reloads
    district.wait_for_selector("#review-plan .review-status:text('通过')")
    district.check("#notice-return")
    district.fill("#notice-comment", "公示联系人电话有误，请核对后重新提交")
    district.locator("#review-notice button[type=submit]").click()
    district.wait_for_selector("#review-notice .review-status:text('退回')")
    assert "公示联系人电话有误" in district.inner_text("table.history")
    SHOTS.mkdir(parents=True, exist_ok=True)
    district.screenshot(path=str(SHOTS / "review.png"), full_page=True)

    street = _login(browser, base, "bcg")
    row = street.locator("table.list tbody tr", has_text="炳草岗酿造厂小区")
    assert "改造方案公示：退回（公示联系人电话有误，请核对后重新提交）" in row.inner_text()
    assert "改造方案：通过" in row.inner_text()
    street.screenshot(path=str(SHOTS / "list-reviewed.png"), full_page=True)
    row.locator("td:first-child a").click()
    summary = street.locator("section.review-summary")
    assert "退回" in summary.inner_text() and "公示联系人电话有误" in summary.inner_text()
    street.click("#review-link")
    assert street.locator("form.review-form").count() == 0  # the street office reads, it does not decide
    assert "dongqu" in street.inner_text("table.history")


def test_a_district_prints_its_notices_in_one_file_the_same_as_gaizao_print(
        server: tuple[str, Path], browser: Any, tmp_path: Path) -> None:
    base, data = server
    page = _login(browser, base, "dongqu")
    page.click("header nav.main >> text=批量打印")
    assert page.locator("#district option").all_inner_texts() == ["东区"]  # its own district only
    page.select_option("#kind", "notice")
    page.click("#start-print")
    page.wait_for_selector("tr.job")
    page.screenshot(path=str(SHOTS / "batch-running.png"), full_page=True)
    page.reload()  # the job is the server's: a reload finds it again, still going or done
    link = page.locator("tr.job ul.files a")
    link.wait_for(timeout=240_000)
    assert page.locator("tr.job progress").get_attribute("value") == "4"
    assert "未收录2个小区：缺少工程预算（预算项目）" in page.inner_text("tr.job")
    page.screenshot(path=str(SHOTS / "batch.png"), full_page=True)
    with page.expect_download() as info:
        link.click()
    assert info.value.suggested_filename == "东区-改造方案公示.docx"
    bound = Path(info.value.path()).read_bytes()

    result = CliRunner().invoke(main, ["--data", str(data), "print", "--kind", "notice", "--district", "东区",
                                       "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    printed = (tmp_path / "打印" / "东区-改造方案公示.docx").read_bytes()
    ours, theirs = Document(io.BytesIO(bound)), Document(io.BytesIO(printed))
    assert len(ours.sections) == len(theirs.sections) >= 5  # the contents, then one section per notice
    assert [p.text for p in ours.paragraphs] == [p.text for p in theirs.paragraphs]
    contents = "\n".join(c.text for t in ours.tables[:1] for row in t.rows for c in row.cells)
    assert "炳草岗园林苗圃小区" in contents and "炳草岗酿造厂小区" in contents
    assert bound == printed  # the same file, byte for byte: the same pages
