"""Workbooks that preview: every formula stored with its value, equal to LibreOffice's own result;
and the WPS checker over every generated file."""

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


def test_every_formula_of_every_workbook_has_its_value(full_build: Result,
                                                       full_reports: Result) -> None:
    books = _workbooks(full_build, full_reports)
    kinds = {p.name.split("-")[-1] if "-" in p.name else p.name for p in books}
    assert len(books) > 20 and any("考评表" in k for k in kinds) and any("计划表" in k for k in kinds)
    for path in books:
        cells = _formulas(path)
        assert cells, path
        empty = [ref for ref, value in cells.items() if value is None]
        assert not empty, f"{path}：公式没有缓存值：{empty[:5]}"


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
def test_cached_values_equal_libreoffices_recalculation(full_build: Result, full_reports: Result,
                                                        tmp_path: Path) -> None:
    books = _workbooks(full_reports) + [p for p in _workbooks(full_build)
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


def test_a_formula_outside_the_known_functions_is_refused_not_guessed(full_reports: Result,
                                                                     tmp_path: Path) -> None:
    path = next(p for p in _workbooks(full_reports) if "考评表" in p.name)
    wb = openpyxl.load_workbook(path)
    wb.worksheets[0]["Z1"] = "=VLOOKUP(1,A1:B2,2,FALSE)"
    odd = tmp_path / "odd.xlsx"
    wb.save(odd)
    with pytest.raises(Unsupported):
        with_cached_values(odd.read_bytes())


# ---------------------------------------------------------------- WPS


def test_no_generated_file_has_a_known_wps_pitfall(full_build: Result, full_reports: Result,
                                                   tmp_path: Path, bundled: object) -> None:
    from generator.output.printing import print_documents

    bound = print_documents(bundled, tmp_path, "notice", district="东区")  # type: ignore[arg-type]
    files = [p for r in (full_build, full_reports, bound) for p in r.paths]
    assert len(files) > 130
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


def test_the_wps_checker_finds_each_pitfall(full_build: Result, tmp_path: Path) -> None:
    plan = next(p for p in full_build.paths if p.name.endswith("改造方案.docx"))
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
        "list-validation": (budget, "xl/worksheets/sheet1.xml", lambda x: x.replace(
            "</sheetData>", '</sheetData><dataValidations count="1"><dataValidation type="list" '
            f'sqref="A1"><formula1>"{"甲," * 200}"</formula1></dataValidation></dataValidations>', 1)),
    }
    assert set(cases) == set(RULES)
    for rule, (source, part, edit) in cases.items():
        assert not check_file(source)
        bad = _edited(source, tmp_path / f"{rule}{source.suffix}", part, edit)
        assert rule in {f.rule for f in check_file(bad)}, rule
