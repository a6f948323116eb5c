"""Template lookup, the template check, the fields list and the sandbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from openpyxl import Workbook

from generator.cli import main
from generator.data.loader import DataSet, load
from generator.documents.template_check import check_docx, check_folder, check_xlsx, fields_doc
from generator.errors import TemplateError
from generator.output.pipeline import Selection, build
from generator.render.templates import BUILTIN, find_template, search_dirs
from tests.snapshot import docx_text

DOCS = Path(__file__).resolve().parent.parent / "docs" / "template-fields.md"


def _docx(path: Path, *paragraphs: str | list[str]) -> Path:
    """A Word file; a list is one paragraph written as several runs, as Word's editing leaves it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = Document()
    for text in paragraphs:
        p = doc.add_paragraph()
        for run in [text] if isinstance(text, str) else text:
            p.add_run(run)
    doc.save(path)
    return path


# ---------------------------------------------------------------- lookup


def test_an_override_folder_wins_over_the_built_in_template(tmp_path: Path, bundled: DataSet) -> None:
    _docx(tmp_path / "mine" / "docx" / "notice.docx", "本区公示：{{ community.name }}")
    result = build(bundled, tmp_path / "out", Selection(project="dongqu-01", kinds=("notice",)),
                   templates_dir=tmp_path / "mine")
    assert docx_text(result.paths[0]).startswith("本区公示：炳草岗园林苗圃小区")


def test_a_district_template_wins_for_that_district_only(tmp_path: Path, bundled: DataSet) -> None:
    _docx(tmp_path / "mine" / "东区" / "docx" / "notice.docx", "东区专用抬头 {{ community.name }}")
    result = build(bundled, tmp_path / "out", Selection(year=2018, kinds=("notice",)),
                   templates_dir=tmp_path / "mine")
    for path in result.paths:
        text = docx_text(path)
        assert ("东区专用抬头" in text) == ("/东区/" in path.as_posix()), path


def test_templates_inside_the_data_folder_are_used(tmp_path: Path) -> None:
    data_root = tmp_path / "data"
    shutil.copytree(load().root, data_root)
    _docx(data_root / "templates" / "docx" / "notice.docx", "数据文件夹模板 {{ community.name }}")
    result = build(load(data_root), tmp_path / "out", Selection(project="dongqu-01", kinds=("notice",)))
    assert docx_text(result.paths[0]).startswith("数据文件夹模板")


def test_a_missing_template_names_every_path_searched(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()  # a --templates folder that does not exist is refused outright
    dirs = search_dirs(tmp_path / "mine", None)
    with pytest.raises(TemplateError) as exc:
        find_template("docx/nothing.docx", dirs, "东区")
    message = str(exc.value)
    for path in (tmp_path / "mine" / "东区" / "docx" / "nothing.docx",
                 tmp_path / "mine" / "docx" / "nothing.docx",
                 BUILTIN / "东区" / "docx" / "nothing.docx", BUILTIN / "docx" / "nothing.docx"):
        assert str(path) in message


# ---------------------------------------------------------------- the check


@pytest.fixture(scope="module")
def notice_context(bundled: DataSet) -> dict:
    from generator.documents.template_check import context_factories

    return context_factories()["docx/notice.docx"][1](bundled)


def test_the_built_in_templates_pass_the_check(bundled: DataSet) -> None:
    findings, checked = check_folder(BUILTIN, bundled)
    assert len(checked) >= 6
    assert findings == []


def test_a_field_the_data_does_not_have_is_found(tmp_path: Path, notice_context: dict) -> None:
    path = _docx(tmp_path / "t.docx", "{{ community.nmae }}", "{%p for it in items %}",
                 "{{ it.amout }} {{ it.amount|yuan }}", "{%p endfor %}", "{{ nobody }}")
    problems = [f.problem for f in check_docx(path, "t.docx", notice_context)]
    assert problems == ["数据中没有字段“community.nmae”", "数据中没有字段“it.amout”",
                        "数据中没有字段“nobody”"]


def test_a_tag_word_split_across_runs_is_joined(tmp_path: Path, notice_context: dict, bundled: DataSet) -> None:
    path = _docx(tmp_path / "mine" / "docx" / "notice.docx", ["公示：{{ commu", "nity.name }}"])
    assert check_docx(path, "t.docx", notice_context) == []
    result = build(bundled, tmp_path / "out", Selection(project="dongqu-01", kinds=("notice",)),
                   templates_dir=tmp_path / "mine")
    assert docx_text(result.paths[0]).startswith("公示：炳草岗园林苗圃小区")


def test_a_tag_broken_across_paragraphs_is_found(tmp_path: Path, notice_context: dict) -> None:
    path = _docx(tmp_path / "t.docx", "公示：{{ community.", "name }}")
    findings = check_docx(path, "t.docx", notice_context)
    assert any("标签不完整" in f.problem and "公示：" in f.where for f in findings)


def test_a_syntax_error_names_its_paragraph(tmp_path: Path, notice_context: dict) -> None:
    path = _docx(tmp_path / "t.docx", "第一段", "{%p if survey %}", "支持率 {{ survey.rate|percent }", "第四段")
    findings = check_docx(path, "t.docx", notice_context)
    assert any(f.problem.startswith("语法错误") for f in findings)


def test_a_syntax_error_in_a_table_cell_names_the_cell(tmp_path: Path, notice_context: dict) -> None:
    doc = Document()
    table = doc.add_table(rows=2, cols=2)
    table.cell(1, 1).text = "{{ community.name | }}"
    doc.save(tmp_path / "t.docx")
    (finding,) = check_docx(tmp_path / "t.docx", "t.docx", notice_context)
    assert finding.problem.startswith("语法错误") and "community.name" in finding.where


def test_an_unknown_filter_is_found(tmp_path: Path, notice_context: dict) -> None:
    path = _docx(tmp_path / "t.docx", "{{ funding.total|money }} {{ funding.total|yuan }}")
    assert [f.problem for f in check_docx(path, "t.docx", notice_context)] == ["未知的过滤器“money”"]


def test_excel_templates_are_checked_cell_by_cell(tmp_path: Path, notice_context: dict) -> None:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "{{ community.name }}"
    ws["B2"] = "{{ community.name|nosuch }}"
    ws["C3"] = "{{ community.name "
    ws["A5"] = "{%tr for line in items %}{{ line.no }}"
    ws["B5"] = "{{ line.amout }}"
    wb.save(tmp_path / "t.xlsx")
    found = {f.where.split()[-1]: f.problem for f in check_xlsx(tmp_path / "t.xlsx", "t.xlsx", notice_context)}
    assert found == {"B2": "未知的过滤器“nosuch”", "C3": found["C3"], "B5": "数据中没有字段“line.amout”"}
    assert found["C3"].startswith("语法错误")


def test_check_command_exits_1_on_problems(tmp_path: Path) -> None:
    _docx(tmp_path / "docx" / "notice.docx", "{{ community.nmae }}")
    result = CliRunner().invoke(main, ["templates", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert "数据中没有字段“community.nmae”" in result.output
    clean = CliRunner().invoke(main, ["templates", "check", str(BUILTIN)])
    assert clean.exit_code == 0, clean.output


# ---------------------------------------------------------------- fields


def test_fields_lists_types_and_examples() -> None:
    result = CliRunner().invoke(main, ["templates", "fields", "notice"])
    assert result.exit_code == 0
    assert "community.name\t文本\t炳草岗园林苗圃小区" in result.output.splitlines() or \
        any(line.startswith("community.name\t文本\t") for line in result.output.splitlines())
    assert any(line.startswith("items[].amount\t数值\t") for line in result.output.splitlines())
    bad = CliRunner().invoke(main, ["templates", "fields", "nosuch"])
    assert bad.exit_code == 1 and "未知的文书种类" in bad.output


def test_docs_templates_md_is_in_sync(bundled: DataSet) -> None:
    assert DOCS.read_text(encoding="utf-8") == fields_doc(bundled), (
        "docs/template-fields.md 已过期：运行 python -m generator.documents.template_check")


# ---------------------------------------------------------------- sandbox


@pytest.mark.parametrize("tag", [
    "{{ community.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.environ }}",
    "{{ lipsum.__globals__ }}",
])
def test_a_template_cannot_reach_python_internals(tmp_path: Path, bundled: DataSet, tag: str) -> None:
    _docx(tmp_path / "mine" / "docx" / "notice.docx", tag)
    with pytest.raises(TemplateError):
        build(bundled, tmp_path / "out", Selection(project="dongqu-01", kinds=("notice",)),
              templates_dir=tmp_path / "mine")
    assert not list((tmp_path / "out").rglob("*.docx"))


@pytest.mark.parametrize("text", ["金福小区\n老旧小区改造", "a\nb\nc", "一行", "\n", "甲\t乙", "甲\n乙\t丙", "甲\a乙",
                                  "甲\f乙"])
def test_breaks_in_values_become_what_docxtpl_makes_of_them(text: str) -> None:
    from docxtpl import DocxTemplate

    from generator.render.docx import _unpatch

    xml = ('<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:rPr><w:b/></w:rPr>'
           f'<w:t xml:space="preserve">{text}</w:t></w:r><w:r><w:t>尾</w:t></w:r></w:p>'
           '<w:p><w:r><w:t>另一段</w:t></w:r></w:p>')
    assert _unpatch(xml) == DocxTemplate.resolve_listing(None, xml)  # type: ignore[arg-type]
    # a line break between elements (not in any text) stays what it is; a plain <w:t> is text too
    spaced = xml.replace("</w:r><w:r>", "</w:r>\n<w:r>") + f"<w:p><w:r><w:t>{text}</w:t></w:r><w:tab/>\n</w:p>"
    assert _unpatch(spaced) == DocxTemplate.resolve_listing(None, spaced)  # type: ignore[arg-type]


def test_the_guide_lists_every_built_in_template() -> None:
    guide = (DOCS.parent / "templates.md").read_text(encoding="utf-8")
    for path in [*BUILTIN.rglob("*.docx"), *BUILTIN.rglob("*.xlsx")]:
        assert f"`{path.relative_to(BUILTIN).as_posix()}`" in guide, path
    for command in ("templates check", "templates restyle", "templates diff", "templates fields"):
        assert command in guide
