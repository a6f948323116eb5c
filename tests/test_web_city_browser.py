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
    assert download.value.suggested_filename == "2018年度老旧小区改造进展统计月报.xlsx"


def test_a_district_dashboard_shows_its_district_only(server: tuple[str, Path], browser: Any) -> None:  # noqa: F811
    base, _ = server
    page = _login(browser, base, "dongqu")
    page.goto(f"{base}/dashboard")
    shown = _figures(page)
    assert shown["programme.communities"] == "6" and shown["programme.households"] == "3339"
    assert not any("西区" in k for k in shown)
    page.screenshot(path=str(SHOTS / "dashboard-district.png"), full_page=True)
    assert page.goto(f"{base}/reports/2018/西区/text").status == 404
