"""The dashboard's figures are the reports' figures: computed by the same functions, printed alike."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl

from generator.data.loader import DataSet
from generator.documents.progress import stats
from generator.documents.report import statistics_path
from generator.output.pipeline import Result
from generator.rules.checks import check_all
from tests.report_figures import dashboard_figures, report_figures


def test_every_report_figure_equals_the_dashboards(bundled: DataSet, reports_build: Result) -> None:
    printed = report_figures(bundled, reports_build.out)
    mine = dashboard_figures(stats(bundled))
    # the targets, the districts and the funding of every report, and the plan table's summary (the
    # monthly return's money is its spending records, reconciled with the API in tests/test_returns.py)
    assert len(printed) == 280
    assert {k.split(".")[0] for k in printed} >= {"programme", "pilot", "year-2018", "year-2020",
                                                  "district-东区", "cell-2018-西区"}
    assert {k: mine.get(k) for k in printed} == printed


def test_the_programme_is_annex_1(bundled: DataSet) -> None:
    s = stats(bundled, check_all(bundled))
    p = s.programme
    assert (p.communities, p.households, str(p.investment_wan)) == (30, 13785, "25765.5")
    assert [(g.year, g.communities, g.households, str(g.investment_wan)) for g in s.years] == [
        (2018, 9, 4071, "7475"), (2019, 11, 4391, "9264.5"), (2020, 10, 5323, "9026")]
    assert [(g.district, g.communities, g.households) for g in s.districts] == [
        ("东区", 6, 3339), ("西区", 6, 2822), ("仁和区", 7, 2145), ("米易县", 3, 1672),
        ("盐边县", 5, 2026), ("钒钛高新区", 3, 1781)]
    assert sum(st.communities for st in p.stages) == 30
    assert p.started >= p.finished >= p.accepted
    # every finding is about a plan row, or about the programme as a whole
    assert p.errors + p.warnings + len(s.general) == len(check_all(bundled))
    assert [f.where for f in s.general] == ["方案一 东区"]


def test_a_district_scope_adds_up_its_own_rows_only(bundled: DataSet) -> None:
    s = stats(bundled, districts=["东区"])
    assert [g.district for g in s.districts] == ["东区"] and s.pilot == []
    assert s.programme.households == 3339 and {d for _, d in s.cells} == {"东区"}
    whole = stats(bundled)
    assert s.programme.paid_wan == next(g for g in whole.districts if g.district == "东区").paid_wan


def test_the_statistics_workbook_holds_the_dashboards_figures(bundled: DataSet, reports_build: Result) -> None:
    # the year-end returns of past years count by the recorded dates what the dashboard counts by stage
    s = stats(bundled)
    for year in bundled.programme.years:
        path = reports_build.out / statistics_path(bundled, year, 12)
        ws = openpyxl.load_workbook(path, data_only=True)["进展情况"]
        for row in ws.iter_rows(min_row=5, max_row=4 + len(bundled.districts), values_only=True):
            c = s.cells[(year, str(row[1]))]
            assert (row[2], row[3], Decimal(str(row[6]))) == (c.communities, c.households, c.investment_wan)
            assert (row[9], row[10], row[15], row[16]) == (c.started, c.started_households, c.finished,
                                                           c.households_done)


def test_the_statistics_workbook_formulas_are_what_openpyxl_reads(bundled: DataSet, reports_build: Result) -> None:
    path = Path(reports_build.out) / statistics_path(bundled, 2018, 12)
    ws = openpyxl.load_workbook(path)["进展情况"]
    assert ws["L5"].value == "=IF(C5=0,0,J5/C5)" and ws["C11"].value == "=SUM(C5:C10)"
    assert ws["L11"].value == "=IF(C11=0,0,J11/C11)"
