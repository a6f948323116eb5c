"""Spreadsheet injection: text from the data that starts with = + - or @ stays text in every workbook.

A community named ``=HYPERLINK(...)`` or ``=cmd|' /C calc'!A0`` must reach Excel as the
characters typed, never as a formula Excel would run when a clerk opens the file — in the
budget (templates/xlsx, render_xlsx.py), in the plan table and the assessment
(report_workbooks.py). Reading goes the other way: such a name in an imported workbook is data,
while a real formula in a community row is refused.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.data.loader import DataSet
from generator.documents.assessment import assessment_workbook
from generator.documents.kinds import KINDS, community_target
from generator.documents.plan_table import plan_workbook
from generator.output.pipeline import Renderers, render_document
from tests.bad_inputs.make_workbooks import plan_table
from tests.helpers import DataDir, good_project

PAYLOADS = [
    '=HYPERLINK("http://example.com/x","点此查看")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1:A2)",
    "=1+1",
]


def cells(payload: bytes) -> list[openpyxl.cell.cell.Cell]:
    wb = openpyxl.load_workbook(io.BytesIO(payload))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def assert_all_text(payload: bytes, expected: list[str]) -> None:
    """Each expected value is in a cell of its own, stored as text; no formula carries any."""
    found = cells(payload)
    for value in expected:
        holding = [c for c in found if c.value == value]
        assert holding, f"{value!r} 不在工作簿中"
        assert all(c.data_type == "s" for c in holding), [(c.coordinate, c.data_type) for c in holding]
    formulas = [str(c.value) for c in found if c.data_type == "f"]
    for marker in ("HYPERLINK", "cmd|", "@SUM", "+SUM", "点此查看"):
        assert not [f for f in formulas if marker in f], formulas
    # and in the file itself: no <f> element holds them
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        xml = "".join(zf.read(n).decode("utf-8") for n in zf.namelist()
                      if n.startswith("xl/worksheets/"))
    assert "<f>HYPERLINK" not in xml and "<f>cmd" not in xml


@pytest.fixture
def dd(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


def test_budget_workbook_keeps_data_as_text(dd: DataDir) -> None:
    project = good_project()
    project["street_office"] = PAYLOADS[0]
    project["community_committee"] = PAYLOADS[4]
    for line, payload in zip(project["items"], PAYLOADS[1:4], strict=True):
        line["description"] = payload
    dd.project(project)
    dd.community("dongqu-01", name=PAYLOADS[5])
    data = dd.load()
    payload = render_document(data, KINDS["budget"], community_target(data, "dongqu-01"),
                              Renderers(data, None))
    # lone tags ({{ line.description }}) hold the data itself; text around a tag holds it inside
    assert_all_text(payload, PAYLOADS[1:4])
    texts = [str(c.value) for c in cells(payload) if c.data_type == "s"]
    assert any(PAYLOADS[0] in t for t in texts) and any(PAYLOADS[5] in t for t in texts)


def test_plan_table_keeps_data_as_text(dd: DataDir) -> None:
    dd.community("dongqu-01", name=PAYLOADS[0], location=PAYLOADS[1], remarks=PAYLOADS[2])
    dd.community("dongqu-02", name=PAYLOADS[3], built=PAYLOADS[4], location=PAYLOADS[5])
    assert_all_text(plan_workbook(dd.load()), PAYLOADS)


def rename_district(dd: DataDir, old: str, new: str) -> None:
    for name in ("districts.yaml", "communities.yaml", "programme.yaml"):
        path = dd.path(name)
        text = path.read_text(encoding="utf-8")
        quoted = json.dumps(new, ensure_ascii=False)  # a JSON string is a YAML "string"
        path.write_text(text.replace(f"name: {old}\n", f"name: {quoted}\n")
                            .replace(f"district: {old}\n", f"district: {quoted}\n"),
                        encoding="utf-8")


def test_district_names_stay_text_in_the_summary_and_the_assessment(dd: DataDir) -> None:
    rename_district(dd, "东区", PAYLOADS[1])
    rename_district(dd, "西区", PAYLOADS[0])
    data: DataSet = dd.load()
    assert PAYLOADS[1] in data.districts
    assert_all_text(plan_workbook(data), PAYLOADS[:2])
    assert_all_text(assessment_workbook(data, 2018), PAYLOADS[:2])


def test_a_name_typed_as_text_in_an_imported_workbook_is_data(dd: DataDir, tmp_path: Path) -> None:
    def names(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
        for ref, value in (("B4", PAYLOADS[0]), ("E5", PAYLOADS[1])):
            ws[ref] = value
            ws[ref].data_type = "s"  # typed with a leading apostrophe, as Excel stores it

    workbook = tmp_path / "计划表.xlsx"
    plan_table(names).save(workbook)
    result = CliRunner().invoke(main, ["--data", str(dd.root), "import", str(workbook), "--force"])
    assert result.exit_code == 0, result.output
    data = dd.load()
    rows = data.active_communities()
    assert [r.name for r in rows][0] == PAYLOADS[0] and rows[1].location == PAYLOADS[1]
    assert_all_text(plan_workbook(data), PAYLOADS[:2])  # and back out, still text


def test_a_formula_in_an_imported_community_row_is_refused(dd: DataDir, tmp_path: Path) -> None:
    workbook = tmp_path / "计划表.xlsx"
    plan_table(lambda ws: ws.__setitem__("B4", '=HYPERLINK("http://example.com/x","点")')).save(workbook)
    before = dd.path("communities.yaml").read_bytes()
    result = CliRunner().invoke(main, ["--data", str(dd.root), "import", str(workbook), "--force"])
    assert result.exit_code == 1
    assert "第4行 B列（老旧小区名称）：是公式“=HYPERLINK(" in result.output
    assert dd.path("communities.yaml").read_bytes() == before


def test_a_lone_equals_sign_is_text(dd: DataDir) -> None:
    """YAML 1.1 gives a lone “=” a tag of its own that a safe loader cannot build; here it is text."""
    dd.replace("communities.yaml", "    name: 炳草岗园林苗圃小区\n", "    name: =\n")
    data = dd.load()
    assert data.communities["dongqu-01"].name == "="
    assert_all_text(plan_workbook(data), ["="])


def test_the_form_keeps_every_text_from_the_data_as_text(dd: DataDir) -> None:
    """The 填报表 a clerk opens: names, remarks, units and table cells from the data stay text,
    and control characters a pasted text may hold are dropped, not refused by the workbook."""
    from generator.intake.form import export_form

    project = good_project()
    project["street_office"] = PAYLOADS[0]
    project["community_committee"] = PAYLOADS[4]
    project["units"] = {"design": PAYLOADS[1], "construction": "施工\x07单位"}
    for line, payload in zip(project["items"], PAYLOADS[2:4], strict=False):
        line["description"] = payload
    dd.project(project)
    dd.community("dongqu-01", name=PAYLOADS[5])
    data = dd.load()
    payload = export_form(data, data.communities["dongqu-01"])
    assert_all_text(payload, PAYLOADS[:5])
    assert "施工单位" in [c.value for c in cells(payload)]
