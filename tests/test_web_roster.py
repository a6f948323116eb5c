"""The household roster in the web app: download, upload filled, checked as `gaizao roster import`."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from generator.web.audit import AuditLog
from tests.webapp import csrf, login, make_app, make_instance


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Flask, Path, Path]:
    data, instance = make_instance(tmp_path)
    return make_app(data, instance), data, instance


def _client(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    login(client, name)
    return client


def _upload(client: FlaskClient, community: str, payload: bytes, name: str = "名册.xlsx",
            token: str | None = None) -> tuple[int, str]:
    token = token or csrf(client, f"/projects/{community}")
    r = client.post(f"/projects/{community}/roster", data={"csrf_token": token, "roster": (io.BytesIO(payload), name)},
                    content_type="multipart/form-data")
    return r.status_code, r.get_data(as_text=True)


def _edited(payload: bytes, cells: dict[str, object]) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(payload))
    for ref, value in cells.items():
        wb["住户名册"][ref] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _roster(client: FlaskClient, community: str) -> Any:
    """The roster workbook, downloaded as the page does: a POST with its purpose."""
    token = csrf(client, f"/projects/{community}/roster.xlsx")
    return client.post(f"/projects/{community}/roster.xlsx", data={"csrf_token": token, "purpose": "入户征询意见"})


def test_the_project_page_offers_the_roster(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    page = _client(app, "renhe").get("/projects/renhe-06").get_data(as_text=True)
    assert "住户名册（逐户意见征询）" in page and "共84户，已征询84户" in page
    assert 'href="/projects/renhe-06/roster.xlsx"' in page and 'name="roster"' in page
    city = _client(app, "city").get("/projects/renhe-06").get_data(as_text=True)
    assert "住户名册（逐户意见征询）" not in city  # the city reviews; it neither edits nor sees residents


def test_a_filled_roster_uploaded_replaces_the_roster_and_is_audited(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    client = _client(app, "renhe")
    match = re.search(r"其中同意(\d+)户", client.get("/projects/renhe-06").get_data(as_text=True))
    assert match
    agreed = int(match.group(1))
    r = _roster(client, "renhe-06")
    assert r.status_code == 200 and "filename*=UTF-8''06-" in r.headers["Content-Disposition"]
    status, text = _upload(client, "renhe-06", r.data)
    assert status == 200 and "与现有名册相同，没有改动" in text
    csv = data / "rosters" / "renhe-06.csv"
    before = csv.read_text(encoding="utf-8-sig")
    changed = _edited(r.data, {"H3": "不同意", "N3": "改为反对"})
    status, text = _upload(client, "renhe-06", changed, "林业大院名册.xlsx")
    assert status == 200, text
    assert "已导入住户名册，共84户，改动2处" in text
    assert "住户名册·1栋1单元101·意见：同意 → 不同意" in text
    after = csv.read_text(encoding="utf-8-sig")
    assert after != before and "不同意" in after.splitlines()[2] and "改为反对" in after
    event = AuditLog(instance).events("renhe-06")[-1]
    assert event.user == "renhe" and event.detail == "住户名册 林业大院名册.xlsx（84户）"
    assert [(c.field, c.before, c.after) for c in event.changes][0] == ("住户名册·1栋1单元101·意见", "同意", "不同意")
    page = client.get("/projects/renhe-06").get_data(as_text=True)
    assert f"其中同意{agreed - 1}户" in page  # the app sees the new roster at once
    assert "住户名册·1栋1单元101·意见：同意 → 不同意" in page  # in the page's history


def test_a_bad_roster_is_refused_by_row_and_column_and_changes_nothing(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    client = _client(app, "renhe")
    source = _roster(client, "renhe-06").data
    csv = data / "rosters" / "renhe-06.csv"
    before = csv.read_bytes()
    status, text = _upload(client, "renhe-06", _edited(source, {"H5": "弃权", "E6": "12345"}))
    assert status == 422 and "原名册没有改动" in text
    assert "第5行“意见”列：“弃权”不是可选的意见" in text and "第6行“联系电话”列：“12345”不是电话号码" in text
    status, text = _upload(client, "renhe-06", _edited(source, {"C7": None, "M8": "2018-02-30"}))
    assert status == 422 and "第7行“房号”列：不能为空" in text and "第8行“征询日期”列：日期不存在" in text
    status, text = _upload(client, "renhe-06", b"<html><table></table></html>")
    assert status == 422 and "网页" in text
    other = _roster(client, "renhe-05").data
    status, text = _upload(client, "renhe-06", other)
    assert status == 422 and "不是林业大院（renhe-06）的" in text
    assert csv.read_bytes() == before
    assert not [e for e in AuditLog(instance).events("renhe-06") if e.action == "save"]


def test_roster_routes_check_scope_and_csrf(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    bcg = _client(app, "bcg")
    assert bcg.get("/projects/renhe-06/roster.xlsx").status_code == 404
    renhe = _client(app, "renhe")
    source = _roster(renhe, "renhe-06").data
    token = csrf(bcg, "/projects/dongqu-01")
    assert _upload(bcg, "renhe-06", source, token=token)[0] == 404
    before = (data / "rosters" / "renhe-06.csv").read_bytes()
    assert _upload(renhe, "renhe-06", _edited(source, {"H3": "不同意"}), token="forged")[0] == 400
    assert (data / "rosters" / "renhe-06.csv").read_bytes() == before
    city = _client(app, "city")
    assert city.get("/projects/renhe-06/roster.xlsx").status_code == 403


@pytest.mark.browser
def test_a_clerk_downloads_fills_and_uploads_the_roster_in_a_browser(tmp_path: Path) -> None:
    """In chromium: the panel on the project page, the download, the upload and its result."""
    from tests.test_web_browser import ARGS, CHROMIUM, PASSWORD, SHOTS
    from tests.webapp import Running

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system)")
    from playwright.sync_api import sync_playwright

    data, instance = make_instance(tmp_path)
    running = Running(make_app(data, instance))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                                       accept_downloads=True).new_page()
            page.goto(f"{running.base}/login")
            page.fill("#username", "renhe")
            page.fill("#password", PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{running.base}/")
            page.goto(f"{running.base}/projects/renhe-06")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.locator("#roster").screenshot(path=str(SHOTS / "roster-panel.png"))
            page.click("text=下载住户名册（Excel）")
            page.fill("#purpose", "入户征询意见")  # asked before every download, and recorded
            with page.expect_download() as info:
                page.click("button:has-text('下载住户名册')")
            download = info.value
            assert download.suggested_filename == "06-林业大院-住户名册.xlsx"
            page.goto(f"{running.base}/projects/renhe-06")
            filled = tmp_path / "filled.xlsx"
            filled.write_bytes(_edited(Path(download.path()).read_bytes(), {"H4": "未表态"}))
            page.set_input_files("#roster-file", str(filled))
            page.click("text=上传并导入名册")
            page.wait_for_selector("[role=status]")
            page.screenshot(path=str(SHOTS / "roster-imported.png"))
            assert "住户名册·1栋1单元102·意见：同意 → 未表态" in page.content()
            browser.close()
    finally:
        running.stop()
    assert "未表态" in (data / "rosters" / "renhe-06.csv").read_text(encoding="utf-8-sig").splitlines()[3]


def test_a_roster_change_is_recorded_and_shown_with_names_and_phones_masked(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, instance = fresh
    client = _client(app, "renhe")
    source = _roster(client, "renhe-06").data
    status, text = _upload(client, "renhe-06", _edited(source, {"D3": "王小明", "E3": "13812341234"}))
    assert status == 200, text
    assert "王*明" in text and "138****1234" in text and "王小明" not in text and "13812341234" not in text
    changes = AuditLog(instance).events("renhe-06")[-1].changes
    recorded = " ".join(f"{c.before} {c.after}" for c in changes)
    assert "王*明" in recorded and "138****1234" in recorded and "13812341234" not in recorded
    assert "崔*芳" in recorded and "100****2751" in recorded  # the values before, masked too
    page = client.get("/projects/renhe-06").get_data(as_text=True)
    assert "王小明" not in page and "13812341234" not in page
