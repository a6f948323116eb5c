"""The monthly return: `report --month` and GET /api/stats?month= give the same figures, every one."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from flask import Flask

from generator.cli import main
from generator.data.loader import DataSet
from generator.documents.returns import Month, default_month, month_return, parse_month, return_context
from generator.errors import DataError
from generator.rules.effects import EFFECT_KEYS
from tests.webapp import login, make_app, make_instance

PROGRESS = ["communities", "households", "buildings", "floor_area", "investment_wan", "started_month",
            "started_month_households", "started", "started_households", None, None, "completed_month",
            "completed_month_households", "completed", "completed_households", None, None, "spent_month_wan",
            "spent_wan", None]
"""进展情况 columns C onwards: the API's field of each (None: a rate column)."""
RATES = {11: ("started", 9, 2), 12: ("started_households", 10, 3), 17: ("completed", 15, 2),
         18: ("completed_households", 16, 3), 21: ("investment", 20, 6)}
"""Rate column (0-based) → the API's rate, and the columns of its numerator and denominator."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_app(*make_instance(tmp_path_factory.mktemp("web-returns")))


def _api(app: Flask, month: str, account: str = "city") -> dict[str, Any]:
    client = app.test_client()
    login(client, account)
    r = client.get(f"/api/stats?month={month}")
    assert r.status_code == 200, r.data[:300]
    body: dict[str, Any] = r.get_json()
    return body


def _workbook(tmp_path: Path, month: str) -> openpyxl.Workbook:
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["report", "--kind", "statistics", "--month", month, "--out", str(out)])
    assert r.exit_code == 0, r.output
    year, number = month.split("-")
    return openpyxl.load_workbook(out / f"{year}/全市/{year}年{number}月老旧小区改造进展统计月报.xlsx", data_only=True)


def _same(cell: Any, text: str | int | Decimal) -> bool:
    """A cell's cached number equals the API's exact figure (Excel keeps 15 significant digits)."""
    return Decimal(str(cell)) == Decimal(str(text)) or abs(Decimal(str(cell)) - Decimal(str(text))) < Decimal("1e-9")


def _pct(value: Any) -> str:
    return str((Decimal(str(value)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("month", ["2019-06", "2018-12"])
def test_every_figure_of_the_return_is_the_apis(app: Flask, tmp_path: Path, month: str) -> None:
    api = _api(app, month)
    wb = _workbook(tmp_path, month)
    groups = [*api["districts"], api["city"]]
    checked = 0
    rows = list(wb["进展情况"].iter_rows(min_row=5, max_row=4 + len(groups), values_only=True))
    for row, g in zip(rows, groups, strict=True):
        assert row[1] in (g["name"], None) and (row[0] == g["name"] or row[1] == g["name"])
        for col, key in enumerate(PROGRESS, start=2):
            if key is not None:
                assert _same(row[col], g[key]), (g["name"], key, row[col], g[key])
                checked += 1
        for col, (key, num, den) in RATES.items():
            # the sheet's rate is its own cells' ratio; the API's the same ratio printed to 0.1 %
            assert _pct(row[col]) == (g["rates"][key] or "0.0"), (g["name"], key)
            assert row[col] == (row[num] / row[den] if row[den] else 0)
            checked += 1
    rows = list(wb["改造效果"].iter_rows(min_row=5, max_row=4 + len(groups), values_only=True))
    for row, g in zip(rows, groups, strict=True):
        for col, key in enumerate(EFFECT_KEYS, start=2):
            assert _same(row[col], g["effects"][key]), (g["name"], key)
            checked += 1
        assert _same(row[16], g["spent_wan"])
    funds = list(wb["资金使用"].iter_rows(min_row=5, max_row=4 + len(api["funds"]), values_only=True))
    for row, f in zip(funds, api["funds"], strict=True):
        assert row[0] == f["district"] and row[1] == (f["source"] or "合计")
        for col, key in ((2, "allocated"), (3, "received"), (4, "spent"), (7, "carried")):
            assert _same(row[col], f[key]), (f, key)
            checked += 1
        assert _same(row[8], Decimal(f["received"]) - Decimal(f["spent"]))
    city_total = next(f for f in api["funds"] if f["district"] == "全市" and f["source"] is None)
    assert _pct(Decimal(city_total["spent"]) / Decimal(city_total["received"])) == api["city"]["rates"]["fund_use"]
    projects = list(wb["项目基本情况"].iter_rows(min_row=5, max_row=4 + len(api["projects"]), values_only=True))
    for row, p in zip(projects, api["projects"], strict=True):
        assert [row[2], row[3], row[7], row[8] or "", row[9] or "", row[10] or ""] == [
            p["name"], p["households"], p["stage"], p["started"], p["completed"], p["accepted"]]
        assert _same(row[11], p["received_wan"]) and _same(row[12], p["spent_wan"])
        checked += 1
    assert checked > 300


def test_the_city_row_adds_up_the_districts(app: Flask) -> None:
    api = _api(app, "2018-12")
    for key in ("communities", "households", "started", "completed", "completed_households", "accepted"):
        assert api["city"][key] == sum(d[key] for d in api["districts"])
    for key in ("spent_wan", "investment_wan"):
        assert Decimal(api["city"][key]) == sum(Decimal(d[key]) for d in api["districts"])


def test_the_month_counts_what_its_dates_say(bundled: DataSet) -> None:
    june, may = month_return(bundled, Month(2019, 6)), month_return(bundled, Month(2019, 5))
    # dongqu-11 and xiqu-12 started in May 2019, yanbian-17 in June
    assert (may.city.started_month, may.city.started) == (2, 2)
    assert (june.city.started_month, june.city.started) == (1, 3)
    assert june.city.completed == 0 and june.city.spent_month_yuan == Decimal("5428976.04")
    december = month_return(bundled, Month(2018, 12))
    assert december.city.completed == 9 and december.city.completed_households == 4063  # as the reports
    assert december.city.effects["pipe_telecom"] == Decimal("12.060")  # 6860 m + 5200 m of 弱电
    assert december.city.effects["parking"] == 85  # yanbian-07's 85 个; 套 of 道闸 do not count


def test_a_district_account_gets_its_districts_return_only(app: Flask) -> None:
    api = _api(app, "2018-12", "dongqu")
    assert [d["name"] for d in api["districts"]] == ["东区"]
    assert api["city"]["communities"] == api["districts"][0]["communities"] == 2
    assert {p["district"] for p in api["projects"]} == {"东区"}


def test_a_bad_month_is_a_400_that_says_why(app: Flask) -> None:
    client = app.test_client()
    login(client, "city")
    r = client.get("/api/stats?month=2019-13")
    assert r.status_code == 400 and "应写成 年-月" in r.get_json()["error"]


def test_a_month_outside_the_year_is_refused(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["report", "--kind", "statistics", "--month", "2019-06", "--year", "2018",
                                  "--out", str(tmp_path)])
    assert r.exit_code != 0 and "不在 --year 2018 年度内" in r.output
    assert not any(tmp_path.iterdir())


def test_an_open_month_says_so(bundled: DataSet) -> None:
    ctx = return_context(bundled, Month(2019, 6), today=dt.date(2019, 6, 20))
    assert ctx["open"] and ctx["as_of"] == dt.date(2019, 6, 20) and ctx["due"] == dt.date(2019, 7, 5)
    assert not return_context(bundled, Month(2019, 6), today=dt.date(2019, 7, 1))["open"]


def test_month_parsing_and_defaults() -> None:
    assert parse_month("2019-06") == Month(2019, 6) == parse_month("2019年6月")
    with pytest.raises(DataError):
        parse_month("2019-00")
    assert default_month(2018, dt.date(2026, 3, 1)) == Month(2018, 12)
    assert default_month(2026, dt.date(2026, 3, 1)) == Month(2026, 2)


# ---------------------------------------------------------------- fund use on the dashboard, the calendar


def test_the_dashboards_fund_use_is_the_year_end_returns_added_up(app: Flask) -> None:
    client = app.test_client()
    login(client, "city")
    page = client.get("/dashboard").get_data(as_text=True)
    returns = [_api(app, f"{year}-12") for year in (2018, 2019, 2020)]
    for kind in ("allocated", "received", "spent"):
        total = sum((Decimal(next(f[kind] for f in r["funds"] if f["district"] == "全市" and f["source"] is None))
                     for r in returns), Decimal(0))
        assert total > 0
        want = f"{total.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
        assert f'data-figure="funds.全市.total.{kind}">{want}<' in page, kind
    assert "期限" in page and "竣工验收备案" in page


def _due(data: Path, on: str) -> list[str]:
    r = CliRunner().invoke(main, ["--data", str(data), "validate", "--due", "--on", on])
    assert r.exit_code == 0, r.output
    return r.output.splitlines()


def test_validate_due_lists_the_deadlines_of_the_day(tmp_path: Path) -> None:
    data, _ = make_instance(tmp_path)
    lines = _due(data, "2018-12-10")
    # miyi-08: accepted 3 December, 15 days to file, filed on the 26th: still open on the 10th
    assert any("2018-12-18" in ln and "竣工验收备案" in ln and "miyi-08" in ln and "8天后" in ln for ln in lines)
    assert any("2019-01-05" in ln and "进展统计月报报送（2018年12月）" in ln for ln in lines)
    assert any("2018-12-31" in ln and "年度资金结转" in ln for ln in lines)
    assert not any("yanbian-07" in ln for ln in lines)  # accepted after the day asked about
    assert not any("dongqu-01" in ln for ln in lines)  # filed on 28 November
    assert lines[-1] == "截至2018-12-10：未完成的期限 3 项，其中已逾期 0 项。"
    assert not any("miyi-08" in ln for ln in _due(data, "2018-12-26"))
    # without its filing date, dongqu-01 (accepted 16 November) is 9 days late on the 10th
    path = data / "projects" / "dongqu-01.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text("\n".join(ln for ln in text.splitlines() if not ln.startswith("  filing:")) + "\n",
                    encoding="utf-8")
    assert any("2018-12-01" in ln and "dongqu-01" in ln and "已逾期9天" in ln for ln in _due(data, "2018-12-10"))


def test_a_changed_project_file_changes_the_return(tmp_path: Path) -> None:
    data, instance = make_instance(tmp_path)
    app = make_app(data, instance)
    before = _api(app, "2019-06")["city"]
    path = data / "projects" / "dongqu-11.yaml"
    path.write_text(path.read_text(encoding="utf-8")
                    + "  - {date: 2019-06-20, source: city, kind: 支出, amount: 10000.00}\n", encoding="utf-8")
    after = _api(app, "2019-06")["city"]
    assert Decimal(after["spent_wan"]) - Decimal(before["spent_wan"]) == 1
    assert Decimal(after["spent_month_wan"]) - Decimal(before["spent_month_wan"]) == 1


def test_a_street_office_sees_the_deadlines_of_its_own_communities(tmp_path: Path) -> None:
    data, instance = make_instance(tmp_path)
    path = data / "projects" / "yanbian-07.yaml"  # accepted, not filed: overdue for 盐边县 only
    assert "filing" not in path.read_text(encoding="utf-8")
    app = make_app(data, instance)
    for account, shown in (("bcg", False), ("city", True)):
        client = app.test_client()
        login(client, account)
        page = client.get("/" if account == "bcg" else "/dashboard").get_data(as_text=True)
        assert 'id="deadlines"' in page and "进展统计月报报送" in page, account
        assert ("yanbian-07 月潭小区" in page) == shown, account
    path.write_text(path.read_text(encoding="utf-8").replace(
        "  acceptance: 2018-12-12", "  acceptance: 2018-12-12\n  filing: 2018-12-20"), encoding="utf-8")
    client = app.test_client()
    login(client, "city")
    assert "yanbian-07 月潭小区" not in client.get("/dashboard").get_data(as_text=True)
