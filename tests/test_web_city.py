"""The bureaus' pages: dashboard and /api/stats by scope, city and district papers, report texts, plan upload."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from generator.data.loader import load
from generator.documents.plan_table import plan_workbook
from generator.documents.progress import row_tally
from generator.web.audit import AuditLog
from tests.webapp import ACCOUNTS, csrf, login, make_app, make_instance

OWN_DISTRICT = {"bcg": "东区", "renhe": "仁和区", "dongqu": "东区", "city": "西区", "admin": "米易县"}
OTHER_DISTRICT = {"dongqu": "西区"}
SEES = {"street": 404, "district": 200, "city": 200, "admin": 200}
CITY_ONLY = {"street": 404, "district": 404, "city": 200, "admin": 200}

CITY_ROUTES: list[tuple[str, str, str, dict[str, int]]] = [
    # (method, path with {district}, the route's rule, expected status in scope by role)
    ("GET", "/dashboard", "/dashboard", SEES),
    ("GET", "/api/stats", "/api/stats", SEES),
    ("GET", "/api/stats?month=2019-06", "/api/stats", SEES),
    ("GET", "/reports", "/reports", SEES),
    ("GET", "/reports/file/pilot-report?year=2018&district={district}", "/reports/file/<kind>", SEES),
    ("GET", "/reports/2018/{district}/text", "/reports/<int:year>/<district>/text", SEES),
    # a save from a stale form: in scope, refused without change
    ("POST", "/reports/2018/{district}/text", "/reports/<int:year>/<district>/text", {**SEES, "district": 409,
                                                                                     "city": 409, "admin": 409}),
    ("GET", "/reports/file/statistics?year=2018&district=全市", "/reports/file/<kind>", CITY_ONLY),
    ("GET", "/reports/file/statistics?year=2019&district=全市&month=6", "/reports/file/<kind>", CITY_ONLY),
    ("GET", "/reports/file/plan-table?year=&district=全市", "/reports/file/<kind>", CITY_ONLY),
    ("GET", "/plan", "/plan", CITY_ONLY),
    ("POST", "/plan/preview", "/plan/preview", {**CITY_ONLY, "city": 400, "admin": 400}),  # no file sent
    ("POST", "/plan/apply", "/plan/apply", {r: 404 for r in SEES}),  # no such upload, whoever asks
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_app(*make_instance(tmp_path_factory.mktemp("web-city")))


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Flask, Path, Path]:
    data, instance = make_instance(tmp_path)
    return make_app(data, instance), data, instance


def client_of(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    login(client, name)
    return client


def _call(client: FlaskClient, method: str, path: str, token: str) -> int:
    if method == "GET":
        return client.get(path).status_code
    return client.post(path, data={"csrf_token": token, "version": "stale", "token": "0" * 32}).status_code


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_every_bureau_route_answers_each_role_by_scope(app: Flask, name: str) -> None:
    client = client_of(app, name)
    token = csrf(client, "/")
    role = ACCOUNTS[name][0]
    got, want = {}, {}
    for method, pattern, _, by_role in CITY_ROUTES:
        own = pattern.format(district=OWN_DISTRICT[name])
        got[(method, own)], want[(method, own)] = _call(client, method, own, token), by_role[role]
        if "{district}" in pattern:
            other = pattern.format(district=OTHER_DISTRICT.get(name, "no-such-district"))
            got[(method, other)], want[(method, other)] = _call(client, method, other, token), 404
    assert got == want


def test_without_a_session_every_bureau_route_asks_for_a_login(app: Flask) -> None:
    client = app.test_client()
    for method, pattern, _, _ in CITY_ROUTES:
        status = _call(client, method, pattern.format(district="东区"), "x")
        assert status == (400 if method == "POST" else 401 if pattern.startswith("/api/") else 302), pattern


def test_a_district_account_gets_its_district_only(app: Flask) -> None:
    body = client_of(app, "dongqu").get("/api/stats").get_json()
    assert [d["district"] for d in body["districts"]] == ["东区"]
    assert body["programme"]["communities"] == 6 and body["programme"]["households"] == 3339
    assert {c["district"] for c in body["cells"]} == {"东区"}
    assert body["pilot"]["targets"] == []  # the targets are the city's
    page = client_of(app, "dongqu").get("/dashboard").get_data(as_text=True)
    assert "西区" not in page and "仁和区" not in page
    whole = client_of(app, "city").get("/api/stats").get_json()
    assert whole["programme"]["communities"] == 30 and whole["programme"]["households"] == 13785
    assert whole["programme"]["investment_wan"] == "25765.5"
    assert [(y["year"], y["communities"], y["households"], y["investment_wan"]) for y in whole["years"]] == [
        (2018, 9, 4071, "7475"), (2019, 11, 4391, "9264.5"), (2020, 10, 5323, "9026")]


def test_the_dashboard_offers_the_statistics_workbook_with_cached_figures(app: Flask) -> None:
    client = client_of(app, "city")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "/reports/file/statistics?year=2018" in page.replace("&amp;", "&")
    assert page.count("<svg") == 3 and "<script" not in page.split("<main>")[1]
    # the charts print each figure as the tables do: 2018's 完工率 by households, 99.8%
    assert ">99.8</text>" in page
    assert re.search(r'data-figure="year-2018.finished_households_rate">(<a [^>]+>)?99.8%<', page)
    r = client.get("/reports/file/statistics?year=2018&district=全市")
    ws = openpyxl.load_workbook(io.BytesIO(r.data), data_only=True).active
    assert ws is not None
    cells = client.get("/api/stats").get_json()["cells"]
    east = next(c for c in cells if c["year"] == 2018 and c["district"] == "东区")
    row = next(r for r in ws.iter_rows(min_row=5) if r[1].value == "东区")
    assert [row[2].value, row[3].value, row[9].value, row[15].value, row[16].value] == [
        east["communities"], east["households"], east["started"], east["finished"], east["households_done"]]
    total = next(r for r in ws.iter_rows(min_row=5) if r[0].value == "全市")
    assert total[2].value == 9 and total[3].value == 4071 and str(total[6].value) == "7475"


# ---------------------------------------------------------------- report texts


def test_a_report_text_is_saved_round_trip_and_audited(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    path = data / "reports" / "2018" / "东区.yaml"
    before = path.read_text(encoding="utf-8")
    client = client_of(app, "city")
    page = client.get("/reports/2018/东区/text").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    version = re.search(r'name="version" value="([^"]+)"', page)
    assert token and version
    old = load(data).reports[("东区", 2018)].narrative
    form = {key: getattr(old, key) or "" for key in ("situation", "practices", "results", "experience",
                                                      "problems", "suggestions")}
    form["practices"] = "区政府成立领导小组，<b>每周</b>调度一次。"
    r = client.post("/reports/2018/东区/text", data={**form, "csrf_token": token.group(1),
                                                   "version": version.group(1)})
    assert r.status_code == 302
    after = path.read_text(encoding="utf-8")
    assert "# 示例数据" in after and "# 报告日期（须在2019年1月5日前报送）" in after  # comments kept
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert len(changed) == 1 and "每周" in changed[0]
    assert load(data).reports[("东区", 2018)].narrative.practices == form["practices"]
    event = [e for e in AuditLog(instance).events("report:东区:2018")][-1]
    assert event.user == "city" and event.changes[0].field == "报告内容·主要做法"
    # the same form again is stale now: refused, the file untouched
    r = client.post("/reports/2018/东区/text", data={**form, "practices": "别的", "csrf_token": token.group(1),
                                                   "version": version.group(1)})
    assert r.status_code == 409 and path.read_text(encoding="utf-8") == after
    # the pilot report the city downloads prints the new words, escaped as text
    from tests.golden_reports import report_text

    doc = client.get("/reports/file/pilot-report?year=2018&district=东区").data
    assert "区政府成立领导小组，<b>每周</b>调度一次。" in report_text(doc)
    # an empty form for a report not yet begun makes no file
    page = client.get("/reports/2019/西区/text").get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', page)
    assert version and version.group(1) == "new"
    r = client.post("/reports/2019/西区/text", data={"csrf_token": token.group(1), "version": "new"})
    assert r.status_code == 302 and not (data / "reports" / "2019").exists()
    r = client.post("/reports/2019/西区/text", data={"csrf_token": token.group(1), "version": "new",
                                                   "practices": "西区的做法。"})
    assert r.status_code == 302 and load(data).reports[("西区", 2019)].narrative.practices == "西区的做法。"


# ---------------------------------------------------------------- the annual plan workbook


def _upload(client: FlaskClient, payload: bytes, name: str = "计划表.xlsx") -> Any:
    token = csrf(client, "/plan")
    return client.post("/plan/preview", data={"csrf_token": token, "plan": (io.BytesIO(payload), name)},
                       content_type="multipart/form-data")


def _plan_with(data: Path, households: object) -> bytes:
    """The plan table the tool makes of the data, with 炳草岗园林苗圃小区's 户数 changed."""
    book = openpyxl.load_workbook(io.BytesIO(plan_workbook(load(data))))
    row = next(r for r in book.worksheets[0].iter_rows(min_row=4) if r[1].value == "炳草岗园林苗圃小区")
    row[5].value = households
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _confirm_form(page: str) -> dict[str, str]:
    """The hidden fields of the preview's confirm form."""
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page)
    base = re.search(r'name="base" value="([^"]+)"', page)
    assert token and base, page[:800]
    return {"token": token.group(1), "base": base.group(1)}


def test_a_plan_workbook_is_checked_shown_and_applied_only_when_confirmed(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    target = data / "communities.yaml"
    before = target.read_bytes()
    client = client_of(app, "city")
    r = _upload(client, _plan_with(data, 301))
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "修改：东区 炳草岗园林苗圃小区：户数：300 → 301" in page
    assert target.read_bytes() == before  # nothing written before the confirmation
    confirm = _confirm_form(page)
    r = client.post("/plan/apply", data={"csrf_token": csrf(client, "/plan"), **confirm})
    assert r.status_code == 200 and "已写入" in r.get_data(as_text=True)
    assert load(data).communities["dongqu-01"].households == 301
    assert [e for e in AuditLog(instance).events("communities.yaml") if e.action == "plan-import"]
    # the upload is used once
    assert client.post("/plan/apply", data={"csrf_token": csrf(client, "/plan"), **confirm}).status_code == 404


def test_a_bad_plan_workbook_is_refused_naming_the_cell_and_nothing_is_written(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    target = data / "communities.yaml"
    before = target.read_bytes()
    client = client_of(app, "city")
    r = _upload(client, _plan_with(data, "三百"), "我的计划.xlsx")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "我的计划.xlsx" in page and "户数" in page and "三百" in page
    assert str(data) not in page and "pending-plan" not in page  # no server path shown
    assert target.read_bytes() == before
    r = _upload(client, b"not a workbook at all")
    assert r.status_code == 422 and target.read_bytes() == before
    page = _upload(client, plan_workbook(load(data))).get_data(as_text=True)
    assert 'name="token"' not in page and "与现有计划相同" in page  # the same plan: nothing to apply
    # a plan changed between the preview and the confirmation is not overwritten
    confirm = _confirm_form(_upload(client, _plan_with(data, 302)).get_data(as_text=True))
    target.write_text(target.read_text(encoding="utf-8") + "# 手工加的注释\n", encoding="utf-8")
    r = client.post("/plan/apply", data={"csrf_token": csrf(client, "/plan"), **confirm})
    assert r.status_code == 409 and target.read_text(encoding="utf-8").endswith("# 手工加的注释\n")


def test_names_on_the_dashboard_and_in_its_charts_are_text(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    for path in data.rglob("*.yaml"):  # a district named with markup, everywhere it is named
        path.write_text(path.read_text(encoding="utf-8").replace("钒钛高新区", "钒钛<b>高新区"), encoding="utf-8")
    plan = data / "communities.yaml"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace("name: 炳草岗园林苗圃小区", 'name: "<script>alert(1)</script>"'), encoding="utf-8")
    client = client_of(app, "city")
    r = client.get("/dashboard")
    page = r.get_data(as_text=True)
    assert r.status_code == 200, page[:2000]
    # the findings are counted by district, not listed by community; a deadline may name it, as text
    assert "<script>alert(1)</script>" not in page
    assert page.count("alert(1)") == page.count("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert "钒钛<b>高新区" not in page and "钒钛&lt;b&gt;高新区" in page  # in the tables and the SVG labels
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []


@pytest.mark.libreoffice
def test_a_city_paper_as_pdf_on_request(app: Flask) -> None:
    r = client_of(app, "city").get("/reports/file/statistics?year=2018&district=全市&format=pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert ".pdf" in r.headers["Content-Disposition"]


def _notes(client: FlaskClient) -> dict[str, str]:
    """The 尾差 notes of the dashboard, each by the id of the table it follows."""
    page = client.get("/dashboard").get_data(as_text=True)
    out = {}
    for found in re.finditer(r'<p class="rounding-note" data-note>(.*?)</p>', page):
        table = re.findall(r'<table class="stats" id="([\w-]+)"', page[:found.start()])[-1]
        out[table] = found.group(1)
    return out


def test_the_bundled_dashboard_adds_up_and_says_no_rounding_note(app: Flask) -> None:
    page = client_of(app, "city").get("/dashboard").get_data(as_text=True)
    assert "rounding-note" not in page and "尾差" not in page


def test_a_dashboard_table_that_misses_its_total_by_a_rounding_gap_says_so(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    # two plan rows of 2018 in two districts, each 0.004万元 over: each cell prints as before, the year
    # and the programme 0.01 more than their districts' printed cells add up to
    plan = data / "communities.yaml"
    text = plan.read_text(encoding="utf-8")
    for was, now in (("investment_wan: 750\n", "investment_wan: 750.004\n"),
                     ("investment_wan: 200\n", "investment_wan: 200.004\n")):
        assert text.count(was) >= 1
        text = text.replace(was, now, 1)
    plan.write_text(text, encoding="utf-8")
    # the money paid in: every source of the programme 40 元 over a whole 0.01万元 but two, whole;
    # each source prints rounded down, their 合计 (80 元 over) rounded up
    loaded = load(data)
    paid: dict[str, Decimal] = {}
    for c in loaded.active_communities():
        for k, v in row_tally(loaded, c).paid.items():
            paid[k] = paid.get(k, Decimal(0)) + v
    over = {k: Decimal(40) if i < 2 else Decimal(0) for i, k in enumerate(sorted(paid))}
    project = data / "projects" / "dongqu-01.yaml"
    lines = project.read_text(encoding="utf-8").split("\n")
    start = lines.index("  actual:")
    for i in range(start + 1, len(lines)):
        key, _, value = lines[i].strip().partition(": ")
        if not lines[i].startswith("    ") or key not in paid:
            break
        lines[i] = f"    {key}: {Decimal(value) + (over[key] - paid[key] % 100) % 100}"
    project.write_text("\n".join(lines), encoding="utf-8")

    notes = _notes(client_of(app, "city"))
    assert set(notes) == {"progress", "annex", "funds"}
    assert "各县（区）预计投资一列各数相加为25,765.50万元，与合计25,765.51万元相差0.01万元" in notes["progress"]
    assert notes["annex"].startswith("注：表中各数分别按其金额四舍五入，")
    assert "2018年预计投资一列各数相加为7,475.00万元，与合计7,475.01万元相差0.01万元" in notes["annex"]
    assert re.search(r"实际到位一列各数相加为[\d,.]+万元，与合计[\d,.]+万元相差0\.01万元", notes["funds"]), notes
    assert notes["funds"].endswith("，为尾差。")
