"""Workbooks that preview: every formula stored with its value (the WPS checker's formula-cache
rule, over every generated file), equal to LibreOffice's own result; 大写, checks, print setup."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from generator.output.pipeline import Result
from generator.output.wps import RULES, check_file, check_files
from generator.render.formulas import Unsupported, with_cached_values

needs_lo = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")


def _workbooks(*results: Result) -> list[Path]:
    return [p for r in results for p in r.paths if p.suffix == ".xlsx"]


def _formulas(path: Path) -> dict[tuple[str, str], object]:
    """(sheet, cell) → cached value of every formula cell."""
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    return {(ws.title, c.coordinate): values[ws.title][c.coordinate].value
            for ws in formulas.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"}


def _strip_cache(path: Path, out: Path) -> None:
    """A copy whose formulas have no stored values, so LibreOffice must compute each."""
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            blob = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                blob = re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", blob)
            zout.writestr(info, blob)


@needs_lo
@pytest.mark.libreoffice
def test_cached_values_equal_libreoffices_recalculation(full_build: Result, reports_build: Result,
                                                        tmp_path: Path) -> None:
    books = _workbooks(reports_build) + [p for p in _workbooks(full_build)
                                        if "东区" in str(p) or "仁和区" in str(p)]
    staged = tmp_path / "in"
    staged.mkdir()
    originals = {}
    for n, path in enumerate(books):
        copy = staged / f"{n:03d}.xlsx"
        _strip_cache(path, copy)
        originals[copy.name] = path
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), *map(str, staged.iterdir())],
                   check=True, capture_output=True, timeout=300)
    compared = 0
    for name, path in originals.items():
        ours = _formulas(path)
        theirs = openpyxl.load_workbook(tmp_path / "out" / name, data_only=True)
        for (sheet, ref), value in ours.items():
            lo = theirs[sheet][ref].value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert isinstance(lo, (int, float)), (path, sheet, ref, value, lo)
                tolerance = Decimal("1e-9") * max(1, abs(Decimal(str(lo))))
                assert abs(Decimal(str(value)) - Decimal(str(lo))) <= tolerance, (path, sheet, ref, value, lo)
            else:
                assert value == lo or (value in ("", None) and lo in ("", None)), (path, sheet, ref, value, lo)
            compared += 1
    assert compared > 500


def test_a_formula_outside_the_known_functions_is_refused_not_guessed(reports_build: Result,
                                                                     tmp_path: Path) -> None:
    path = next(p for p in _workbooks(reports_build) if "考评表" in p.name)
    wb = openpyxl.load_workbook(path)
    wb.worksheets[0]["Z1"] = "=VLOOKUP(1,A1:B2,2,FALSE)"
    odd = tmp_path / "odd.xlsx"
    wb.save(odd)
    with pytest.raises(Unsupported):
        with_cached_values(odd.read_bytes())


# ---------------------------------------------------------------- WPS


def test_no_generated_file_has_a_known_wps_pitfall(full_build: Result, reports_build: Result,
                                                   tmp_path: Path, bundled: object) -> None:
    from generator.output.printing import print_documents

    bound = print_documents(bundled, tmp_path, "notice", district="东区")  # type: ignore[arg-type]
    files = [p for r in (full_build, reports_build, bound) for p in r.paths]
    books = [p.name for p in files if p.suffix == ".xlsx"]
    # Budgets, assessments and the plan table: each formula's cached value is checked here.
    assert len(files) > 130 and len(books) > 20
    assert any("考评表" in b for b in books) and any("计划表" in b for b in books)
    found = check_files(files)
    assert not found, "\n".join(f"{p}：{f}" for p, fs in list(found.items())[:3] for f in fs[:3])


def _edited(path: Path, out: Path, part: str, edit: object) -> Path:
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            blob = zin.read(info.filename)
            if info.filename == part:
                blob = edit(blob.decode("utf-8")).encode("utf-8")  # type: ignore[operator]
            zout.writestr(info, blob)
    return out


def test_the_wps_checker_finds_each_pitfall(full_build: Result, reports_build: Result,
                                           tmp_path: Path) -> None:
    plan = next(p for p in full_build.paths if p.name.endswith("改造方案.docx"))
    plan_table = next(p for p in reports_build.paths if p.name.endswith("实施计划表.xlsx"))
    budget = next(p for p in full_build.paths if p.suffix == ".xlsx")
    cases = {
        "simple-field": (plan, "word/footer1.xml",
                         lambda x: x.replace("</w:p>", '<w:fldSimple w:instr=" PAGE "/></w:p>', 1)),
        "field-unbalanced": (plan, "word/footer1.xml",
                             lambda x: x.replace('<w:fldChar w:fldCharType="end"/>', "", 1)),
        "table-grid": (plan, "word/document.xml", lambda x: re.sub(r"<w:tblGrid>.*?</w:tblGrid>", "", x, count=1)),
        "theme-font": (plan, "word/styles.xml",
                       lambda x: x.replace("<w:rFonts ", '<w:rFonts w:eastAsiaTheme="minorEastAsia" ', 1)),
        "east-asia-font": (plan, "word/styles.xml", lambda x: re.sub(
            r'(<w:rPrDefault><w:rPr><w:rFonts[^>]*?) w:eastAsia="[^"]*"', r"\1", x, count=1)),
        "xlsx-theme-font": (budget, "xl/styles.xml",
                            lambda x: x.replace("</font>", '<scheme val="minor"/></font>', 1)),
        "formula-cache": (budget, "xl/worksheets/sheet1.xml",
                          lambda x: re.sub(r"(</f>)<v>[^<]*</v>", r"\1", x, count=1)),
        "chart-cache": (plan_table, "xl/charts/chart1.xml",
                        lambda x: re.sub(r"<(c:)?numCache>.*?</(c:)?numCache>", "", x, count=1)),
        "list-validation": (budget, "xl/worksheets/sheet1.xml", lambda x: x.replace(
            "</sheetData>", '</sheetData><dataValidations count="1"><dataValidation type="list" '
            f'sqref="A1"><formula1>"{"甲," * 200}"</formula1></dataValidation></dataValidations>', 1)),
    }
    assert set(cases) == set(RULES)
    for rule, (source, part, edit) in cases.items():
        assert not check_file(source)
        bad = _edited(source, tmp_path / f"{rule}{source.suffix}", part, edit)
        assert rule in {f.rule for f in check_file(bad)}, rule


# ---------------------------------------------------------------- 大写, checks and print setup


def _sweep() -> list[Decimal]:
    """Amounts from 0.01 to 1e9: every digit position, zeros inside, 整, 角 alone, 分 alone."""
    import random

    fixed = ["0", "0.01", "0.05", "0.1", "0.29", "0.57", "1", "10", "10.05", "11", "100.5", "101",
             "1005", "10000", "10001", "10010", "100000.1", "1010101.01", "20000", "100000000",
             "100010000", "999999999.99", "1000000000", "300000060", "10000000.01", "12030.4"]
    rng = random.Random(14)
    return [Decimal(v) for v in fixed] + [Decimal(rng.randint(1, 10 ** rng.randint(1, 11))) / 100
                                          for _ in range(300)]


def _daxie_book(path: Path, amounts: list[Decimal]) -> None:
    from generator.render.formulas import daxie_formula

    wb = openpyxl.Workbook()
    for row, amount in enumerate(amounts, start=1):
        wb.active.cell(row, 1, float(amount))
        wb.active.cell(row, 2, "=" + daxie_formula(f"A{row}"))
    wb.save(path)


def test_the_daxie_formula_spells_every_amount_as_the_code_does(tmp_path: Path) -> None:
    from generator.render.filters import daxie

    amounts = _sweep()
    _daxie_book(tmp_path / "d.xlsx", amounts)
    (tmp_path / "c.xlsx").write_bytes(with_cached_values((tmp_path / "d.xlsx").read_bytes()))
    ws = openpyxl.load_workbook(tmp_path / "c.xlsx", data_only=True).active
    for row, amount in enumerate(amounts, start=1):
        assert ws.cell(row, 2).value == daxie(amount), amount


@needs_lo
@pytest.mark.libreoffice
def test_libreoffice_computes_the_daxie_formula_as_the_code_spells(tmp_path: Path) -> None:
    from generator.render.filters import daxie

    amounts = _sweep()
    _daxie_book(tmp_path / "d.xlsx", amounts)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(tmp_path / "d.xlsx")],
                   check=True, capture_output=True, timeout=120)
    ws = openpyxl.load_workbook(tmp_path / "out" / "d.xlsx", data_only=True).active
    wrong = [(a, ws.cell(r, 2).value, daxie(a)) for r, a in enumerate(amounts, start=1)
             if ws.cell(r, 2).value != daxie(a)]
    assert not wrong, wrong[:5]


def _cell_with(ws: object, text: str) -> object:
    return next(c for row in ws.iter_rows() for c in row  # type: ignore[attr-defined]
                if isinstance(c.value, str) and text in c.value)


def test_the_budgets_daxie_and_meter_check_follow_an_edit(full_build: Result, tmp_path: Path) -> None:
    from generator.render.filters import daxie

    path = next(p for p in full_build.paths if p.suffix == ".xlsx" and "管线" in _sheet_text(p))
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    pipeline = next(c.row for c in ws["K"] if c.value == "管线项目")
    ws[f"E{pipeline}"] = (ws[f"E{pipeline}"].value or 0) + 1  # one more unit: the amount grows
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    edited.write_bytes(with_cached_values(edited.read_bytes()))
    values = openpyxl.load_workbook(edited, data_only=True).active
    total = next(values[f"H{c.row}"].value for c in values["A"] if c.value == "合计")
    words = _cell_with(values, "人民币大写").value  # type: ignore[attr-defined]
    assert words == f"工程预算总额（人民币大写）：{daxie(Decimal(str(total)))}"
    # 表（箱）前 and 表（箱）后 no longer add up to the line's amount: the check shows the gap.
    check = _cell_with(values, "表（箱）前加表（箱）后减金额").row  # type: ignore[attr-defined]
    assert values[f"N{check}"].value != 0
    original = openpyxl.load_workbook(path, data_only=True).active
    assert original[f"N{check}"].value == 0


def _sheet_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_every_workbook_prints_on_a4_one_page_wide_with_titles_and_a_print_area(
        full_build: Result, reports_build: Result) -> None:
    for path in _workbooks(full_build, reports_build):
        for ws in openpyxl.load_workbook(path).worksheets:
            where = f"{path.name} {ws.title}"
            assert str(ws.page_setup.paperSize) == "9", where
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (1, None), where
            assert ws.print_title_rows, where
            assert ws.print_area and ws.print_area.endswith(f"{ws.max_row}"), where
