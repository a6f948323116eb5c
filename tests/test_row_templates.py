"""The plan table and the assessment laid into their .xlsx templates: a city's copy wins, its words print."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from generator.data.loader import DataSet, load
from generator.documents.assessment import assessment_workbook
from generator.documents.kinds import KINDS
from generator.documents.plan_table import plan_workbook
from generator.documents.template_check import check_folder
from generator.output.pipeline import Renderers, render_document
from generator.render.templates import BUILTIN
from tests.helpers import DataDir

RATES = ("E", "I", "M", "S")
"""The rate columns of the assessment's four dimensions."""


def _book(payload: bytes, data_only: bool = False) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(payload), data_only=data_only)


def _city_row(ws: openpyxl.worksheet.worksheet.Worksheet) -> int:
    return next(r for r in range(6, ws.max_row + 1) if ws.cell(r, 1).value == "全市")


def test_a_city_row_without_data_prints_no_rate(bundled: DataSet) -> None:
    later = _book(assessment_workbook(bundled, 2019)).worksheets[0]
    row = _city_row(later)
    assert [later[f"{c}{row}"].value for c in RATES] == ["无数据"] * 4
    assert str(later[f"C{row}"].value).startswith("=SUM(")  # the counts are still summed
    pilot = _book(assessment_workbook(bundled, 2018)).worksheets[0]
    row = _city_row(pilot)
    assert [str(pilot[f"{c}{row}"].value)[:4] for c in RATES] == ["=IF("] * 4


def test_the_plan_tables_sums_as_printed_add_up(bundled: DataSet) -> None:
    ws = _book(plan_workbook(bundled), data_only=True).worksheets[0]
    subtotals = [r for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value == "合计"]
    total = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value == "总计")
    homes = [c.households for c in bundled.active_communities()]
    assert len(subtotals) == len(bundled.programme.years)
    assert sum(ws.cell(r, 6).value for r in subtotals) == ws.cell(total, 6).value == sum(homes)
    # each year's merged cell reads its own count of communities
    years = [ws.cell(r, 8).value for r in range(4, total) if ws.cell(r, 8).value]
    assert years == [f"{y}年\n(共{sum(c.year == y for c in bundled.active_communities())}个)"
                     for y in bundled.programme.years]


def _city_copy(tmp_path: Path) -> tuple[Path, Path]:
    folder = DataDir(tmp_path / "data").root
    copy = folder / "templates" / "xlsx" / "plan_table.xlsx"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(BUILTIN / "xlsx" / "plan_table.xlsx", copy)
    return folder, copy


def test_a_citys_plan_table_template_changes_a_heading_and_the_order_of_columns(tmp_path: Path) -> None:
    folder, copy = _city_copy(tmp_path)
    wb = openpyxl.load_workbook(copy)
    ws = wb.worksheets[0]
    ws["G3"] = "投资估算（万元）"
    ws["A2"] = "某市老旧小区改造年度计划"
    for row in (3, 4):  # 建成时间 and 小区位置 change places
        ws[f"D{row}"].value, ws[f"E{row}"].value = ws[f"E{row}"].value, ws[f"D{row}"].value
    wb.save(copy)
    data = load(folder)
    kind = KINDS["plan-table"]
    [target] = kind.targets(data, None)  # type: ignore[misc]
    out = _book(render_document(data, kind, target, Renderers(data, None))).worksheets[0]
    assert (out["A2"].value, out["G3"].value, out["D3"].value, out["E3"].value) == (
        "某市老旧小区改造年度计划", "投资估算（万元）", "小区位置", "建成时间")
    first = data.active_communities()[0]
    assert (out["D4"].value, out["E4"].value) == (first.location, first.built)
    assert out["F4"].value == first.households


def test_templates_check_names_a_missing_model_row(tmp_path: Path, bundled: DataSet) -> None:
    folder, copy = _city_copy(tmp_path)
    wb = openpyxl.load_workbook(copy)
    wb.worksheets[0]["A5"] = "合计"  # the {%tr subtotal %} marker typed over
    wb.save(copy)
    findings, checked = check_folder(folder / "templates", bundled)
    assert checked == [str(copy)]
    assert [(f.where, f.problem) for f in findings] == [
        ("工作表“年度实施计划表”",
         "缺少以 {%tr subtotal %} 开头的行（程序按这一行的格式逐行填写数据，请从内置模板复制）")]
    builtin, _ = check_folder(BUILTIN, bundled)
    assert builtin == []


def _budget(folder: Path) -> list[object]:
    from generator.documents.kinds import community_target

    data = load(folder)
    payload = render_document(data, KINDS["budget"], community_target(data, "dongqu-01"), Renderers(data, None))
    book = _book(payload)
    assert book.sheetnames == ["工程预算及资金筹集表"]  # the words sheet is never printed
    return [c.value for row in book.worksheets[0].iter_rows() for c in row if c.value is not None]


def test_a_citys_budget_template_words_the_rows_the_program_writes(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    dd.project()
    copy = dd.root / "templates" / "xlsx" / "budget.xlsx"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(BUILTIN / "xlsx" / "budget.xlsx", copy)
    wb = openpyxl.load_workbook(copy)
    words = wb["程序用语"]
    row = next(r for r in range(2, words.max_row + 1) if words.cell(r, 1).value == "sources")
    words.cell(row, 2).value = "资金来源（按出资方）"
    row = next(r for r in range(2, words.max_row + 1) if words.cell(r, 1).value == "per_household")
    words.cell(row, 2).value = "{{ party }}每户分担（元）"
    wb.save(copy)
    values = _budget(dd.root)
    assert any(str(v).endswith("、资金来源（按出资方）") for v in values)
    assert "小区居民每户分担（元）" in values and "资金来源汇总" not in str(values)
    # a copy made before the words sheet existed still builds, with the built-in words
    wb = openpyxl.load_workbook(copy)
    del wb["程序用语"]
    wb.save(copy)
    assert any(str(v).endswith("、资金来源汇总") for v in _budget(dd.root))


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")
def test_the_templates_saved_again_by_libreoffice_build_the_same(tmp_path: Path, bundled: DataSet) -> None:
    from generator.render.sheet_words import words_at
    from tests.snapshot import xlsx_text

    names = ("plan_table.xlsx", "assessment.xlsx", "form.xlsx")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(tmp_path / "xlsx"),
                    *(str(BUILTIN / "xlsx" / n) for n in names)], check=True, capture_output=True, timeout=300)
    builtin, resaved = [BUILTIN], [tmp_path]
    assert xlsx_text(plan_workbook(bundled, resaved)) == xlsx_text(plan_workbook(bundled, builtin))
    for year in bundled.programme.years:
        assert (xlsx_text(assessment_workbook(bundled, year, resaved))
                == xlsx_text(assessment_workbook(bundled, year, builtin)))
    form = tmp_path / "xlsx" / "form.xlsx"
    words = words_at(form, form.stat().st_mtime_ns, form.stat().st_size)
    assert words == form_words_builtin()


def form_words_builtin() -> dict[str, str]:
    from generator.render.sheet_words import words_at

    path = BUILTIN / "xlsx" / "form.xlsx"
    return words_at(path, path.stat().st_mtime_ns, path.stat().st_size)
