"""Any text a clerk pastes into any text field gives documents that open and show it.

Text goes in through the data files (written as YAML, read by the loader), so the whole way a
pasted name travels is tested: YAML escapes, the schema, the rules, the Word and Excel
renderers, and python-docx / openpyxl opening the result. Characters XML 1.0 cannot hold
(most C0 controls, U+FFFE, U+FFFF) are dropped by the renderers — and the rule
TEXT-CONTROL-CHARS says so before a document is made.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
from docx import Document
from docx.oxml.ns import qn
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator.data.loader import DataSet, load
from generator.documents.kinds import KINDS, Target, community_target
from generator.documents.plan_table import plan_workbook
from generator.output.pipeline import Renderers, render_document
from generator.render.env import xml_safe
from generator.rules.checks import Finding, check_all
from tests.helpers import DataDir, good_project

# Characters that break things when they are not handled: XML-invalid controls, characters XML
# keeps but Office treats specially, YAML's own line breaks, bidi overrides, astral characters
# (emoji, CJK extension B), and template, markup and spreadsheet syntax.
SPECIAL = [
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f", "\x7f", "\x85",
    "\ufeff", "\ufffe", "\uffff", "\u2028", "\u2029", "\u202e", "\u200b", "\t", "\n", "\r",
    " ", "\u3000", "😀", "👨‍👩‍👧", "𠀀", "𪚥", "{{", "}}", "{%", "%}", "{#", "{_{", "}_}",
    "&", "<", ">", '"', "'", "=", "+", "-", "@", "\\", "。", "；", "#", ":", "- ", "*", "!",
]
EXAMPLES = [
    "{{ community.name }}", "{% for x in range(99999999) %}x{% endfor %}", "{{ ''.__class__ }}",
    '=HYPERLINK("http://example.com","点这里")', "=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(1)",
    "&amp;<w:p><w:r><w:t>插入</w:t></w:r></w:p>", "]]><!--", "😀𠀀𪚥", "\x07\x0b\x1f",
    "yes", "no", "~", "null", "2018-02-30", "1,130", "１２３", "a\r\nb", "。；a；。", "{_{ x }_}",
]
text = st.one_of(
    st.text(min_size=1, max_size=30),
    st.lists(st.sampled_from(SPECIAL), min_size=1, max_size=12).map("".join),
    st.sampled_from(EXAMPLES),
)

FIELDS = ("name", "location", "street_office", "problem", "description", "narrative")
"""Text fields of every kind of record the documents show: plan row, project, budget line,
district report. Each example puts its own text into each of them."""


def squeeze(value: str) -> str:
    """Text as compared: what XML can hold, without whitespace (Word breaks and tabs, \\r → \\n)."""
    return "".join(xml_safe(value).split())


def docx_text(payload: bytes) -> str:
    """The text of a .docx as python-docx opens it: body, headers and footers, run after run."""
    doc = Document(io.BytesIO(payload))
    parts = [doc.element.body]
    for section in doc.sections:
        # a header linked to the previous section's (none on the household forms) is not read:
        # python-docx would make one, walking back through every section before it
        parts += [side._element for side in (section.header, section.footer) if not side.is_linked_to_previous]
    return "".join(node.text or "" for part in parts for node in part.iter(qn("w:t")))


def xlsx_cells(payload: bytes) -> list[openpyxl.cell.cell.Cell]:
    wb = openpyxl.load_workbook(io.BytesIO(payload))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row
            if cell.value is not None]


def xlsx_text(payload: bytes) -> str:
    return "\x00".join(str(c.value) for c in xlsx_cells(payload))


def write_data(root: Path, texts: dict[str, str]) -> DataDir:
    """The bundled plan with one project and one district report, the texts in their fields."""
    dd = DataDir(root)

    def plan_row(data: Any) -> None:
        row = data["communities"][0]
        row["name"], row["location"] = texts["name"], texts["location"]

    dd.edit("communities.yaml", plan_row)
    project = good_project()
    project["street_office"] = texts["street_office"]
    project["problems"] = [texts["problem"], "道路破损"]
    project["items"][1]["description"] = texts["description"]
    dd.project(project)
    dd.write("reports/2018/东区.yaml", {"district": "东区", "year": 2018,
                                        "narrative": {"situation": texts["narrative"]}})
    return dd


def loaded_texts(data: DataSet) -> dict[str, str]:
    c, p = data.communities["dongqu-01"], data.projects["dongqu-01"]
    narrative = data.reports[("东区", 2018)].narrative.situation
    return {"name": c.name, "location": c.location or "", "street_office": p.street_office,
            "problem": p.problems[0], "description": p.items[1].description,
            "narrative": narrative or ""}


def control_findings(data: DataSet) -> list[Finding]:
    return [f for f in check_all(data) if f.rule == "TEXT-CONTROL-CHARS"]


def render(data: DataSet, kind: str) -> bytes:
    return render_document(data, KINDS[kind], community_target(data, "dongqu-01"), _renderers(data))


def pilot_report(data: DataSet) -> bytes:
    return render_document(data, KINDS["pilot-report"], Target(2018, "东区"), _renderers(data))


_CACHE: dict[str, Renderers] = {}


def _renderers(data: DataSet) -> Renderers:
    """One set of compiled templates for all examples: the data folders only differ in data."""
    if "renderers" not in _CACHE:
        _CACHE["renderers"] = Renderers(data, None)
    return _CACHE["renderers"]


DOCUMENTS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "survey": (lambda d: docx_text(render(d, "survey")), ("name", "location", "street_office")),
    "plan": (lambda d: docx_text(render(d, "plan")), ("problem", "description", "name")),
    "budget": (lambda d: xlsx_text(render(d, "budget")), ("name", "street_office", "description")),
    "report": (lambda d: docx_text(pilot_report(d)), ("narrative",)),
    "table": (lambda d: xlsx_text(plan_workbook(d)), ("name", "location")),
}
"""Each document an example may render, and the fields it shows."""


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({name: text for name in FIELDS}),
       st.lists(st.sampled_from(sorted(DOCUMENTS)), min_size=1, max_size=2, unique=True))
@example({name: "\x07" + name + "\x0b{{ x }}=1" for name in FIELDS}, sorted(DOCUMENTS))
@example({name: "😀𠀀&<>\"'{% if %}" for name in FIELDS}, sorted(DOCUMENTS))
@example(
    # The test always failed when commented parts were varied together.
    texts={
        'name': '0',  # or any other generated value
        'location': '0',  # or any other generated value
        'street_office': '0',  # or any other generated value
        'problem': '0',  # or any other generated value
        'description': '0',  # or any other generated value
        'narrative': '\x85',
    },
    documents=['budget'],  # or any other generated value
).via('discovered failure')
def test_any_text_in_any_field_gives_documents_that_open_and_show_it(
    texts: dict[str, str], documents: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = load(write_data(Path(tmp) / "data", texts).root)
    assert loaded_texts(data) == texts  # the YAML round trip keeps every character

    # Told before building: one warning for each field holding characters a document cannot.
    flagged = control_findings(data)
    unsavable = [name for name, value in texts.items() if xml_safe(value) != value]
    assert len(flagged) == len(unsavable), (flagged, unsavable)
    assert all(f.severity == "warning" and "生成时将删除" in f.message for f in flagged)

    for document in documents:
        make, fields = DOCUMENTS[document]
        shown = "".join(make(data).split())
        for field in fields:
            want = squeeze(texts[field])
            if field == "problem":  # the plan prints each problem as {{ p|trim('。；') }}
                want = want.strip("。；")
            assert want in shown, (document, field, texts[field])


# ---------------------------------------------------------------- TEXT-CONTROL-CHARS


def test_control_chars_rule_passes_on_the_bundled_data(bundled: DataSet) -> None:
    assert control_findings(bundled) == []


def test_control_chars_rule_names_file_record_field_and_characters(tmp_path: Path) -> None:
    texts = {name: f"正常的{name}" for name in FIELDS}
    texts["name"] = "炳草岗\x07园林苗圃小区"
    texts["description"] = "沥青\x0b路面\x1f"
    data = load(write_data(tmp_path / "data", texts).root)
    found = {f.field: f for f in control_findings(data)}
    assert set(found) == {"name（老旧小区名称）", "items[1].description（预算项目[1].工程内容）"}
    row = found["name（老旧小区名称）"]
    assert row.file.endswith("communities.yaml") and row.where.startswith("序号1 ")
    assert "U+0007" in row.message and "生成时将删除" in row.message
    line = found["items[1].description（预算项目[1].工程内容）"]
    assert line.file.endswith("projects/dongqu-01.yaml") and line.where.startswith("dongqu-01 ")
    assert "U+000B、U+001F" in line.message


def test_control_chars_rule_covers_every_file(tmp_path: Path) -> None:
    dd = write_data(tmp_path / "data", {name: name for name in FIELDS})
    dd.replace("programme.yaml", "report_recipient: 攀枝花市住房城乡建设局",
               'report_recipient: "攀枝花市住房城乡\\a建设局"')
    dd.replace("districts.yaml", "government: 攀枝花市西区人民政府",
               'government: "攀枝花市西区\\x1f人民政府"')
    dd.replace("catalogue.yaml", "  - name: 市政配套设施", '  - name: "市政\\x0c配套设施"')
    dd.write("reports/2018/东区.yaml", {"district": "东区", "year": 2018,
                                        "narrative": {"results": "成效\x08显著"}})
    found = {(Path(f.file).name, f.where, f.field.split("（")[0]) for f in control_findings(dd.load())}
    assert found == {
        ("programme.yaml", "方案参数", "report_recipient"),
        ("districts.yaml", "西区", "districts[1].government"),
        ("catalogue.yaml", "项目分类表", "categories[0].name"),
        ("东区.yaml", "东区 2018年报告", "narrative.results"),
    }


def test_control_chars_warn_but_do_not_stop_a_build(tmp_path: Path) -> None:
    texts = {name: name for name in FIELDS}
    texts["street_office"] = "炳草岗\x07街道办事处"
    data = load(write_data(tmp_path / "data", texts).root)
    assert [f.severity for f in check_all(data) if f.severity == "error"] == []
    assert "炳草岗街道办事处" in docx_text(render(data, "survey"))


def test_rendered_text_is_never_evaluated(tmp_path: Path) -> None:
    """Tags and markup from the data print as written: no template runs, no XML is injected."""
    texts = {name: name for name in FIELDS}
    texts["name"] = "{{ programme.city }}{% if true %}是{% endif %}"
    texts["street_office"] = "</w:t></w:r><w:r><w:t>插入</w:t>&amp;"
    texts["description"] = "{{ 7*7 }}"
    data = load(write_data(tmp_path / "data", texts).root)
    survey = docx_text(render(data, "survey"))
    assert "{{ programme.city }}{% if true %}是{% endif %}" in survey
    assert "</w:t></w:r><w:r><w:t>插入</w:t>&amp;" in survey
    assert "{{ 7*7 }}" in xlsx_text(render(data, "budget"))


def test_docxtpl_brace_escapes_in_data_are_kept(tmp_path: Path) -> None:
    """docxtpl turns “{_{” into “{{” after rendering; here that happens only in templates."""
    texts = {name: name for name in FIELDS}
    texts["street_office"] = "{_{ 甲 }_} {_% 乙 %_}"
    data = load(write_data(tmp_path / "data", texts).root)
    assert "{_{ 甲 }_} {_% 乙 %_}" in docx_text(render(data, "survey"))
