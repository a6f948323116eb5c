"""The city dashboard in a real browser: every figure on it is the figure `gaizao report` printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from generator.cli import main
from generator.data.loader import load
from tests.report_figures import report_figures
from tests.test_web_browser import SHOTS, _login, browser, pytestmark, server  # noqa: F401  (fixtures, marks)


def _figures(page: Any) -> dict[str, str]:
    cells = page.locator("[data-figure]")
    keys = cells.evaluate_all("els => els.map(e => [e.dataset.figure, e.textContent.trim()])")
    out = dict(keys)
    assert len(out) == len(keys), "a figure is shown twice under one key"
    return out


def test_the_city_dashboard_shows_the_figures_gaizao_report_printed(
        server: tuple[str, Path], browser: Any, tmp_path: Path) -> None:  # noqa: F811
    base, data = server
    out = tmp_path / "output"
    result = CliRunner().invoke(main, ["--data", str(data), "report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    printed = report_figures(load(data), out)

    page = _login(browser, base, "city")
    page.click("text=进度看板")  # from the navigation
    page.wait_for_url(f"{base}/dashboard")
    shown = _figures(page)
    assert {k: shown.get(k) for k in printed} == printed
    cards = [page.inner_text(f"[data-card={k}]") for k in ("communities", "households", "investment")]
    assert cards == ["30", "13,785", "25,765.50"]
    annex = page.locator("#annex tbody tr.total td").all_inner_texts()
    assert annex == ["9", "4071", "7,475.00", "11", "4391", "9,264.50", "10", "5323", "9,026.00",
                     "30", "13785", "25,765.50"]
    assert page.locator("svg.chart").count() == 3
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden()  # the print stylesheet drops the navigation
    page.screenshot(path=str(SHOTS / "dashboard-print.png"), full_page=True)

    with page.expect_download() as download:
        page.emulate_media(media="screen")
        page.click("text=2018年度老旧小区改造进展统计月报（Excel）")
    assert download.value.suggested_filename == "2018年12月老旧小区改造进展统计月报.xlsx"  # the year-end return


def test_a_district_dashboard_shows_its_district_only(server: tuple[str, Path], browser: Any) -> None:  # noqa: F811
    base, _ = server
    page = _login(browser, base, "dongqu")
    page.goto(f"{base}/dashboard")
    shown = _figures(page)
    assert shown["programme.communities"] == "6" and shown["programme.households"] == "3339"
    assert not any("西区" in k for k in shown)
    page.screenshot(path=str(SHOTS / "dashboard-district.png"), full_page=True)
    assert page.goto(f"{base}/reports/2018/西区/text").status == 404


def test_the_city_edits_a_report_text_and_replaces_the_plan_after_a_preview(
        server: tuple[str, Path], browser: Any) -> None:  # noqa: F811
    import io

    import openpyxl

    from generator.documents.plan_table import plan_workbook

    base, data = server
    page = _login(browser, base, "city")
    page.click("text=报告与报表")
    page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)
    page.click("tr:has-text('2018') >> text=编辑文字")  # the first district: 东区
    page.wait_for_url(f"{base}/reports/2018/东区/text")
    page.fill("#f-suggestions", "建议市级出台物业服务收费指导意见。")
    page.click("button:has-text('保存')")
    assert "已保存" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "report-text.png"), full_page=True)
    assert load(data).reports[("东区", 2018)].narrative.suggestions == "建议市级出台物业服务收费指导意见。"

    book = openpyxl.load_workbook(io.BytesIO(plan_workbook(load(data))))
    row = next(r for r in book.worksheets[0].iter_rows(min_row=4) if r[1].value == "林业大院")
    row[6].value = 210
    buffer = io.BytesIO()
    book.save(buffer)
    page.goto(f"{base}/plan")
    page.set_input_files("#plan", files=[{"name": "2019计划.xlsx", "mimeType": "application/octet-stream",
                                          "buffer": buffer.getvalue()}])
    page.click("button:has-text('检查')")
    assert "修改：仁和区 林业大院：预计投资(万元)：200 → 210" in page.inner_text("main")
    assert load(data).communities["renhe-06"].investment_wan == 200  # not yet
    page.screenshot(path=str(SHOTS / "plan-preview.png"), full_page=True)
    page.click("button:has-text('确认写入')")
    assert "已写入" in page.inner_text("main")
    assert load(data).communities["renhe-06"].investment_wan == 210
