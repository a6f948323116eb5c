"""What a district looks for on its lists: the street filter, the filtered list as a workbook, and
通过 on many ticked documents at once, each decision audited."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from generator.web.audit import AuditLog
from generator.web.reviews import ReviewLog
from tests.webapp import csrf, login, make_app, make_instance


@pytest.fixture
def site(tmp_path: Path) -> tuple[Flask, Path]:
    data, instance = make_instance(tmp_path)
    return make_app(data, instance), instance


def _as(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    login(client, name)
    return client


def test_the_street_filter_and_the_export_give_the_same_communities(site: tuple[Flask, Path]) -> None:
    app, _ = site
    city = _as(app, "city")
    page = city.get("/").get_data(as_text=True)
    assert '<select name="street">' in page and "导出 Excel" in page
    listed = city.get("/?street=炳草岗街道办事处&per_page=200").get_data(as_text=True)
    r = city.get("/list.xlsx?street=炳草岗街道办事处")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "小区名称", "县（区）", "街道办事处")
    assert len(rows) > 1 and {row[3] for row in rows[1:]} == {"炳草岗街道办事处"}
    assert all(f"/projects/{row[0]}" in listed for row in rows[1:])
    everything = openpyxl.load_workbook(io.BytesIO(city.get("/list.xlsx").data)).active
    assert everything.max_row > ws.max_row  # the filter was applied, not the whole list
    # names written as text cells (through render.cells.put)
    assert all(cell.data_type == "s" for cell in ws["B"])


def test_a_street_office_exports_only_its_own(site: tuple[Flask, Path]) -> None:
    app, _ = site
    ws = openpyxl.load_workbook(io.BytesIO(_as(app, "bcg").get("/list.xlsx").data)).active
    assert {row[3] for row in ws.iter_rows(min_row=2, values_only=True)} == {"炳草岗街道办事处"}


def _picks(page: str) -> list[str]:
    return re.findall(r'name="pick" value="([^"]+)"', page)


def test_a_reviewer_passes_ticked_documents_at_once(site: tuple[Flask, Path]) -> None:
    app, instance = site
    reviewer = _as(app, "dongqu")
    page = reviewer.get("/review").get_data(as_text=True)
    picks = _picks(page)
    assert len(picks) >= 2 and "批量通过勾选的文书" in page
    token = csrf(reviewer, "/review")
    stale = picks[1].rsplit(":", 1)[0] + ":0000"
    assert reviewer.post("/review/bulk", data={"pick": [picks[0]]}).status_code == 400  # no CSRF token
    assert ReviewLog(instance).decisions() == []
    r = reviewer.post("/review/bulk", data={"csrf_token": token, "pick": [picks[0], stale, "renhe-05:plan:x"]})
    assert r.status_code == 303
    decisions = ReviewLog(instance).decisions()
    community, kind, _ = picks[0].split(":")
    assert [(d.community, d.kind, d.decision) for d in decisions] == [(community, kind, "pass")]
    events = [e for e in AuditLog(instance).events() if e.action == "review"]
    assert len(events) == 1 and events[0].detail == "批量通过" and events[0].changes[0].after == "通过"
    shown = reviewer.get(r.headers["Location"]).get_data(as_text=True)
    assert "已批量通过1份文书" in shown and "已被修改" in shown and "不在本单位审核范围内" in shown
    assert picks[0] not in _picks(shown)  # a passed document is not offered again


def test_only_a_district_reviewer_passes_in_bulk(site: tuple[Flask, Path]) -> None:
    app, instance = site
    picks = _picks(_as(app, "dongqu").get("/review").get_data(as_text=True))
    city = _as(app, "city")
    assert "批量通过" not in city.get("/review").get_data(as_text=True)
    token = csrf(city, "/")
    assert city.post("/review/bulk", data={"csrf_token": token, "pick": picks}).status_code == 403
    clerk = _as(app, "bcg")
    assert clerk.post("/review/bulk", data={"csrf_token": csrf(clerk, "/"), "pick": picks}).status_code == 404
    assert ReviewLog(instance).decisions() == []
