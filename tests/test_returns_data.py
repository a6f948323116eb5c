"""Dated facts and effects: fund records, their rules, and effect indicators counted from the budget."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from generator.rules.effects import project_effects
from tests.helpers import DataDir, good_project


@pytest.fixture
def dd(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


def _funds(*events: tuple[str, str, str, int]) -> list[dict[str, Any]]:
    return [{"date": dt.date.fromisoformat(d), "source": s, "kind": k, "amount": a} for d, s, k, a in events]


def _with(**fields: Any) -> dict[str, Any]:
    project = good_project()
    project.update(fields)
    return project


def _messages(dd: DataDir, rule_id: str) -> list[tuple[str, str, str]]:
    return [(f.severity, f.field, f.message) for f in dd.findings(rule_id)]


def test_old_project_files_without_funds_stay_valid(dd: DataDir) -> None:
    dd.project()
    assert dd.load().projects["dongqu-01"].funds == []
    for rule_id in ("FUND-SOURCE", "FUND-ORDER", "FUND-BUDGET", "DATE-FUTURE", "STAGE-DATES"):
        assert dd.findings(rule_id) == []


def test_fund_records_in_order_pass(dd: DataDir) -> None:
    dd.project(_with(funds=_funds(("2018-05-10", "city", "下达", 200000), ("2018-06-01", "city", "到位", 200000),
                                  ("2018-09-01", "city", "支出", 150000))))
    assert [f for f in dd.findings() if f.rule.startswith("FUND-")] == []


def test_spending_beyond_what_was_paid_in_is_an_error(dd: DataDir) -> None:
    dd.project(_with(funds=_funds(("2018-06-01", "city", "到位", 100000), ("2018-07-01", "city", "支出", 120000))))
    assert _messages(dd, "FUND-ORDER") == [
        ("error", "funds[1]（资金记录）.amount",
         "市级财政截至2018年7月1日累计支出120,000.00元，超过已到位的100,000.00元")]


def test_paid_in_before_it_was_paid_counts_by_date(dd: DataDir) -> None:
    # spent on 1 June, paid in on 2 June: in the file's order the sums pass, by date they do not
    dd.project(_with(funds=_funds(("2018-06-02", "district", "到位", 50000),
                                  ("2018-06-01", "district", "支出", 50000))))
    assert [m[1] for m in _messages(dd, "FUND-ORDER")] == ["funds[1]（资金记录）.amount"]


def test_paid_in_beyond_allocated_is_a_warning(dd: DataDir) -> None:
    dd.project(_with(funds=_funds(("2018-05-01", "city", "下达", 100000), ("2018-06-01", "city", "到位", 100001))))
    assert [m[0] for m in _messages(dd, "FUND-ORDER")] == ["warning"]


def test_paid_in_beyond_the_budget_is_an_error(dd: DataDir) -> None:
    dd.project(_with(funds=_funds(("2018-06-01", "city", "到位", 400000), ("2018-06-01", "district", "到位", 70751))))
    assert _messages(dd, "FUND-BUDGET") == [
        ("error", "funds（资金记录）", "到位资金合计470,751.00元，超过工程预算470,750.00元")]


def test_a_source_that_is_no_party_is_an_error(dd: DataDir) -> None:
    dd.project(_with(funds=_funds(("2018-06-01", "central", "到位", 1000))))
    (severity, field, message), = _messages(dd, "FUND-SOURCE")
    assert (severity, field) == ("error", "funds[0]（资金记录）.source")
    assert message.startswith("资金来源“central”不是方案 parties 中的出资方")


def test_a_date_in_the_future_is_an_error(dd: DataDir) -> None:
    later = dt.date.today() + dt.timedelta(days=1)
    dd.project(_with(funds=[{"date": later, "source": "city", "kind": "下达", "amount": 1}]))
    (severity, field, message), = _messages(dd, "DATE-FUTURE")
    assert (severity, field) == ("error", "funds[0]（资金记录）.date")
    assert "晚于今天" in message


def test_completion_before_start_is_caught(dd: DataDir) -> None:
    project = good_project()
    project["dates"]["completion"] = dt.date(2018, 5, 30)
    dd.project(project)
    assert any(f.field == "dates.completion" and "完工日期2018年5月30日早于开工日期" in f.message
               for f in dd.findings("DATE-ORDER"))


def test_a_dated_start_on_a_project_before_construction_is_named(dd: DataDir) -> None:
    project = good_project()
    project["stage"] = "notice"
    for key in ("acceptance", "completion"):
        del project[key]
    del project["dates"]["completion"], project["dates"]["acceptance"]
    dd.project(project)
    assert [(f.severity, f.field) for f in dd.findings("STAGE-DATES")] == [("warning", "dates.start")]


# ---------------------------------------------------------------- effects


def test_a_lump_sum_pipe_line_is_named_by_validate(dd: DataDir) -> None:
    dd.project()  # its 供水 line is one 项
    (f,) = dd.findings("EFFECT-UNIT")
    assert (f.severity, f.field) == ("warning", "items[0].unit（预算项目“供水”的单位）")
    assert f.message.startswith("单位“项”不能换算为“老旧供水管线”的单位km")


def test_metres_of_pipe_count_as_km_and_ignored_units_pass(dd: DataDir) -> None:
    project = good_project()
    project["items"][0].update(quantity=1250, unit="米", unit_price=96, amount=120000)
    dd.project(project)
    assert dd.findings("EFFECT-UNIT") == []
    data = dd.load()
    effects = project_effects(data, data.projects["dongqu-01"])
    assert effects["pipe_water"] == Decimal("1.250")
    project["items"][0].update(quantity=300, unit="户", unit_price=400, amount=120000)
    dd.project(project)  # 一户一表 by household: the catalogue says 户 does not count, so no warning
    assert dd.findings("EFFECT-UNIT") == []
    data = dd.load()
    assert project_effects(data, data.projects["dongqu-01"])["pipe_water"] == 0


def test_a_catalogue_conversion_of_its_own_counts(dd: DataDir) -> None:
    def link(cat: Any) -> None:
        item = next(i for c in cat["categories"] for i in c["items"] if i["name"] == "公共服务设施")
        item["effect"] = {"indicator": "elderly_facilities", "units": {"项": 1}}

    dd.edit("catalogue.yaml", link)
    dd.project()
    data = dd.load()
    assert project_effects(data, data.projects["dongqu-01"])["elderly_facilities"] == 1


def test_failed_items_do_not_count_as_delivered(dd: DataDir) -> None:
    project = good_project()
    project["items"][0].update(quantity=1250, unit="米", unit_price=96, amount=120000)
    project["acceptance"]["results"][0]["result"] = "不合格"
    dd.project(project)
    data = dd.load()
    p = data.projects["dongqu-01"]
    assert project_effects(data, p)["pipe_water"] == Decimal("1.250")
    assert project_effects(data, p, delivered_only=True)["pipe_water"] == 0
