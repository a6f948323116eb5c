"""`gaizao templates diff`: what differs between the built-in kit and a city's own copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from docx.shared import Mm
from openpyxl import load_workbook

from generator.cli import main
from generator.render.template_diff import diff_folder, diff_template
from generator.render.templates import BUILTIN
from tests.resave import libreoffice_resave

NOTICE = BUILTIN / "docx" / "notice.docx"
OPENING = "现将本小区老旧小区改造方案的主要内容公示如下："


def _city_notice(path: Path) -> Path:
    """A city's notice: the opening reworded, the 公示期 paragraph gone, wider margins."""
    doc = Document(str(NOTICE))
    (run,) = [r for p in doc.paragraphs for r in p.runs if r.text == OPENING]
    run.text = "现将本小区改造方案公示如下："
    gone = next(p for p in doc.paragraphs if p.text.startswith("五、公示期"))
    gone._p.getparent().remove(gone._p)
    doc.sections[0].left_margin = Mm(30)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def test_a_city_notice_shows_its_changes_against_the_kit(tmp_path: Path) -> None:
    found = diff_template(_city_notice(tmp_path / "docx" / "notice.docx"), "docx/notice.docx")
    assert found.builtin == NOTICE and not found.same
    assert found.changed == [(OPENING, "现将本小区改造方案公示如下：")]
    assert [t[:6] for t in found.only_builtin] == ["五、公示期{"] and found.only_city == []
    assert "{{ contact.notice_place }}" in found.tags_only_builtin and found.tags_only_city == []
    assert found.layout == ["页边距：内置模板为上37、下35、左28、右26毫米，你的模板为上37、下35、左30、右26毫米"]
    lines = found.lines()
    assert f"    改动：内置模板为“{OPENING}”" in lines and "          你的模板为“现将本小区改造方案公示如下：”" in lines
    assert any(line.startswith("    内置模板有、你的模板没有：“五、公示期") for line in lines)
    assert "  版式：" in lines


def test_a_district_copy_and_a_workbook_are_compared_with_theirs(tmp_path: Path) -> None:
    city = tmp_path / "templates"
    (city / "东区" / "docx").mkdir(parents=True)
    shutil.copy(NOTICE, city / "东区" / "docx" / "notice.docx")
    (city / "xlsx").mkdir()
    book = load_workbook(BUILTIN / "xlsx" / "budget.xlsx")
    sheet = book.worksheets[0]
    cell = next(c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value.strip())
    old = cell.value
    cell.value = "本市预算表"
    book.save(city / "xlsx" / "budget.xlsx")
    (city / "docx").mkdir()
    Document().save(str(city / "docx" / "visit.docx"))
    found = {d.rel: d for d in diff_folder(city)}
    assert found["东区/docx/notice.docx"].same
    assert found["xlsx/budget.xlsx"].changed == [(f"{sheet.title}!{cell.coordinate}：{old}",
                                                 f"{sheet.title}!{cell.coordinate}：本市预算表")]
    assert found["docx/visit.docx"].builtin is None
    assert "这是你自己加的模板" in found["docx/visit.docx"].lines()[1]


def test_the_diff_command(tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "data"
    shutil.copytree(BUILTIN.parent / "data", data, ignore=shutil.ignore_patterns("photos", "rosters"))
    none = runner.invoke(main, ["--data", str(data), "templates", "diff"])
    assert none.exit_code == 0 and "全部使用内置模板" in none.output
    _city_notice(data / "templates" / "docx" / "notice.docx")
    shutil.copy(BUILTIN / "docx" / "plan.docx", data / "templates" / "docx" / "plan.docx")
    result = runner.invoke(main, ["--data", str(data), "templates", "diff"])
    assert result.exit_code == 0, result.output
    assert "docx/notice.docx（你的模板：" in result.output and "与内置模板相同" in result.output
    assert result.output.rstrip().endswith("共 2 个模板：1 个与内置模板相同，1 个不同，0 个是自己加的。")
    given = runner.invoke(main, ["templates", "diff", "--templates", str(data / "templates")])
    assert given.output == result.output


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_copy_only_resaved_by_libreoffice_is_the_same(tmp_path: Path) -> None:
    (resaved,) = libreoffice_resave([NOTICE], tmp_path / "docx")
    found = diff_template(resaved, "docx/notice.docx")
    assert found.same, found.lines()
