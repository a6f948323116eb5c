"""A clerk's edit saved by Word, WPS or Excel is in the next build: the fixtures (tests/office_saves.py)
carry what those programs write when they save a template again; `gaizao templates check` finds
nothing to fix in them, and names the tag where the clerk's typing really broke one."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.data.loader import DataSet, load
from generator.documents.template_check import check_folder
from generator.output.pipeline import Selection, build
from generator.render.layout import REFERENCE
from generator.render.templates import BUILTIN
from tests.office_saves import BOOKMARK, PAGE_END, SPELLING, cut, excel_resave, with_text_box, word_resave, wps_resave
from tests.snapshot import docx_text, xlsx_text

NOTICE = BUILTIN / "docx" / "notice.docx"
BUDGET = BUILTIN / "xlsx" / "budget.xlsx"
OPENING = "现将本小区老旧小区改造方案的主要内容公示如下："
# The clerk types a field with a default into the sentence; Word's AutoCorrect turns the quotes round.
TYPED = "现将{{ contact.person or ‘社区’ }}整理的改造方案公示如下，请广大居民监督："
MEANT = "现将{person}整理的改造方案公示如下，请广大居民监督："
BOX = "编号：{{ community.name }}"


def _clerks_edit(xml: str) -> str:
    """The opening sentence reworded, a text box added, and the cuts and marks Word leaves in tags."""
    xml = xml.replace(f"<w:t>{OPENING}</w:t>", f"<w:t>{TYPED}</w:t>")
    xml = with_text_box(xml, TYPED, BOX)
    xml = cut(xml, "{{ street_office }}", "office", between=SPELLING)
    xml = cut(xml, "{{ contact.person }}", "person", between=BOOKMARK)
    xml = cut(xml, "{{ dates.notice_end|cn_date }}", "_date", lead=PAGE_END)
    return cut(xml, "{{ contact.person or ‘社区’ }}", "‘社区’", between=SPELLING)


def _notice(data_root: Path, out: Path) -> tuple[str, str]:
    """The notice built for dongqu-01: its text, and its document XML (text boxes included)."""
    result = build(load(data_root), out, Selection(project="dongqu-01", kinds=("notice",)))
    (path,) = result.paths
    return docx_text(path), zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")


@pytest.mark.parametrize("saves", [word_resave, wps_resave], ids=["word", "wps"])
def test_a_clerks_edit_saved_by_word_or_wps_is_in_the_next_notice(data_root: Path, tmp_path: Path,
                                                                   bundled: DataSet, saves: object) -> None:
    before, _ = _notice(data_root, tmp_path / "before")
    own = data_root / "templates" / "docx" / "notice.docx"
    assert callable(saves)
    saved = saves(NOTICE, own, _clerks_edit)
    xml = zipfile.ZipFile(saved).read("word/document.xml").decode("utf-8")
    assert "{{ street_" in xml and "office }}" in xml and "‘社区’" in xml  # really cut and curly
    if saves is word_resave:
        assert 'w:rsidRPr="' in xml and PAGE_END in xml and "mc:AlternateContent" in xml
    after, body = _notice(data_root, tmp_path / "after")
    person = bundled.projects["dongqu-01"].contact.person
    assert after == before.replace(OPENING, MEANT.format(person=person))
    name = bundled.communities["dongqu-01"].name
    # the text box, in the drawing and in its fallback, each with the field filled in
    assert re.sub(r"<[^>]+>", "", body).count(f"编号：{name}") == 2 and "{{" not in body and "{%" not in body
    findings, checked = check_folder(data_root / "templates", bundled, REFERENCE)
    assert [str(f) for f in findings] == [] and [Path(c).name for c in checked] == ["notice.docx"]


def test_full_width_punctuation_typed_in_a_tag_is_read_as_meant(data_root: Path, tmp_path: Path) -> None:
    # Typed with a Chinese input method on: full-width parentheses and a 。 for the dot.
    before, _ = _notice(data_root, tmp_path / "before")

    def typed(xml: str) -> str:
        return xml.replace("{{ funding.total|yuan_as_wan }}", "{{ funding。total|yuan_as_wan（2） }}")

    word_resave(NOTICE, data_root / "templates" / "docx" / "notice.docx", typed)
    after, _ = _notice(data_root, tmp_path / "after")
    assert after == before


def test_templates_check_names_the_tag_a_clerks_edit_really_broke(data_root: Path, tmp_path: Path) -> None:
    # The clerk deleted one of the quotes AutoCorrect had turned round: nothing can tell what was meant.
    def broken(xml: str) -> str:
        return xml.replace("{{ funding.total|yuan_as_wan }}", "{{ funding.total|yuan_as_wan or ‘— }}")

    word_resave(NOTICE, data_root / "templates" / "docx" / "notice.docx", broken)
    result = CliRunner().invoke(main, ["--data", str(data_root), "templates", "check"])
    assert result.exit_code != 0
    assert "notice.docx" in result.output and "段落“二、资金筹集" in result.output, result.output
    assert "字段 {{ funding.total|yuan_as_wan or '— }} 的引号没有配对" in result.output, result.output
    built = CliRunner().invoke(main, ["--data", str(data_root), "build", "--out", str(tmp_path / "out"),
                                      "--project", "dongqu-01", "--kind", "notice"])
    assert built.exit_code != 0 and "引号没有配对" in built.output and "二、资金筹集" in built.output, built.output
    assert not list((tmp_path / "out").rglob("*.docx"))


def _encoded(text: str) -> str:
    """Text as the template's sheet XML writes it: every character not ASCII as a reference."""
    return "".join(ch if ord(ch) < 128 else f"&#{ord(ch)};" for ch in text)


# openpyxl drops the x14 data validations (Excel's drop-down lists that refer to another sheet)
# and says so: docs/templates.md tells the clerk to keep such lists out of a template.
@pytest.mark.filterwarnings("ignore:Data Validation extension is not supported")
def test_a_clerks_edit_saved_by_excel_is_in_the_next_budget(data_root: Path, tmp_path: Path,
                                                            bundled: DataSet) -> None:
    def built(out: Path) -> str:
        result = build(load(data_root), out, Selection(project="dongqu-01", kinds=("budget",)))
        (path,) = result.paths
        return xlsx_text(path)

    before = built(tmp_path / "before")
    own = data_root / "templates" / "xlsx" / "budget.xlsx"
    excel_resave(BUDGET, own)  # saved again unchanged: the same workbook
    saved = zipfile.ZipFile(own)
    assert {"xl/sharedStrings.xml", "xl/calcChain.xml"} <= set(saved.namelist())
    sheet = saved.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert 'x14ac:dyDescent="0.25"' in sheet and "<extLst>" in sheet and 't="inlineStr"' not in sheet
    assert built(tmp_path / "same") == before
    title = "老旧小区改造工程预算及资金筹集表"
    excel_resave(BUDGET, own, lambda xml: xml.replace(_encoded(title), _encoded("改造工程预算表（送审稿）")))
    after = built(tmp_path / "after")
    assert after == before.replace(title, "改造工程预算表（送审稿）") and after != before
    findings, _ = check_folder(data_root / "templates", bundled, REFERENCE)
    assert [str(f) for f in findings] == []
