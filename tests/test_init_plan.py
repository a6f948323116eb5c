"""`gaizao init --plan`: a new city's data folder learnt from its plan workbook, ready to validate and build."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner

from generator.cli import main
from generator.data.loader import load
from generator.errors import DataError
from generator.intake.init import init_data
from generator.intake.plan_import import import_workbook
from tests.snapshot import docx_text

CITY = "云溪市"  # a made-up county-level city


def county_plan(path: Path) -> Path:
    """A county-level city's 2021 plan: towns and a development zone, a merged year, totals."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["云溪市2021年老旧小区改造计划表"])
    ws.merge_cells("A1:I1")
    ws.append(["序号", "小区名称", "镇（街道）", "建成年代", "小区位置", "户数", "计划投资（万元）",
               "改造年度", "备注"])
    ws.append([1, "粮食局宿舍", "城南街道", "1992", "南门路8号", 120, 360, "2021年", None])
    ws.append([2, "农机厂小区", "石桥镇", "1988", "石桥老街", 86, 258, None, None])
    ws.append([3, "纺织二村", "城南街道", "1995", "纺织路", 210, 630, None, "分两期"])
    ws.append([4, "电机厂家属院", "云溪经济开发区", "1990", "工业园2路", 64, 192, None, None])
    ws.merge_cells("H3:H6")
    ws.append(["合计", None, None, None, None, 480, 1440])
    wb.save(path)
    return path


def test_init_plan_learns_districts_and_years_then_validates_and_builds(tmp_path: Path) -> None:
    plan = county_plan(tmp_path / "计划表.xlsx")
    folder = tmp_path / "云溪"
    runner = CliRunner()
    result = runner.invoke(main, ["init", str(folder), "--city", CITY, "--plan", str(plan)])
    assert result.exit_code == 0, result.output
    assert "县（区）：计划表中出现的 3 个：城南街道、石桥镇、云溪经济开发区" in result.output
    assert "云溪经济开发区按名称视为管委会管理" in result.output
    assert "计划年度：2021（试点年度 2021）" in result.output
    assert "发文字号" in result.output and "全称" in result.output and "街道办事处" in result.output

    data = load(folder)
    assert data.programme.years == [2021] and data.programme.city == CITY
    assert [d.last_day.year for d in data.programme.deadlines][:3] == [2021, 2021, 2021]
    assert data.programme.deadlines[0].text.startswith("2021年")
    assert list(data.districts) == ["城南街道", "石桥镇", "云溪经济开发区"]
    assert data.districts["云溪经济开发区"].body_type == "管委会"
    assert "【待填写" in data.districts["石桥镇"].government
    assert sorted(data.communities) == ["d1-01", "d1-03", "d2-02", "d3-04"]
    assert len(data.projects) == 4

    validated = runner.invoke(main, ["--data", str(folder), "validate"])
    assert validated.exit_code == 0, validated.output
    out = tmp_path / "文书"
    built = runner.invoke(main, ["--data", str(folder), "build", "--out", str(out), "-q"])
    assert built.exit_code == 0, built.output
    forms = sorted(out.rglob("01-*.docx"))
    assert len(forms) == 4
    text = docx_text(forms[0].read_bytes())
    assert "【待填写" in text and "攀枝花" not in text
    readme = (folder / "README.txt").read_bytes().decode("utf-8-sig")
    assert str(folder) in readme and ".init-" not in readme


def test_a_broken_plan_makes_no_folder(tmp_path: Path) -> None:
    plan = county_plan(tmp_path / "计划表.xlsx")
    wb = openpyxl.load_workbook(plan)
    wb.active["F3"] = "一百二十"
    wb.save(plan)
    folder = tmp_path / "云溪"
    try:
        init_data(folder, CITY, plan)
    except DataError as exc:
        assert "F列（户数）" in str(exc)
    else:
        raise AssertionError("a broken plan must be refused")
    assert not folder.exists() and list(tmp_path.iterdir()) == [plan]


def test_plain_import_still_refuses_and_points_to_the_flag(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    init_data(folder, CITY)
    plan = county_plan(tmp_path / "计划表.xlsx")
    try:
        import_workbook(plan, folder)
    except DataError as exc:
        text = str(exc)
    else:
        raise AssertionError("unknown districts and years must be refused")
    assert "未知的县（区）“城南街道”" in text and "改造年度 2021 不在" in text
    assert "--plan 计划表.xlsx" in text
