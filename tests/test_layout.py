"""The reference layout: the built-in templates follow it, check names what is off, restyle fixes it
without touching a template's text."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from generator.cli import main
from generator.data.loader import DataSet
from generator.documents.template_check import check_folder
from generator.output.restyle import restyle_folder
from generator.render.layout import REFERENCE, check_layout, find_reference, read_layout, reference_parts
from generator.render.templates import BUILTIN
from tests.snapshot import docx_text

BUILT_IN_WORD = sorted((BUILTIN / "docx").glob("*.docx"))


def _off_layout(path: Path) -> Path:
    """The notice template as a clerk might leave it: narrow margins, 宋体 小四 text, one footer gone."""
    doc = Document(str(BUILTIN / "docx" / "notice.docx"))
    section = doc.sections[0]
    section.left_margin, section.top_margin = Mm(20), Mm(25)
    style = doc.styles["公示正文"]
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    doc.styles["Normal"].font.size = Pt(12)
    for ref in section._sectPr.findall(qn("w:footerReference")):
        if ref.get(qn("w:type")) == "even":
            section._sectPr.remove(ref)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def _paragraphs(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs]


def test_the_reference_is_gb_t_9704() -> None:
    layout = read_layout(reference_parts(), "reference.docx")
    assert (layout.lines, layout.chars) == (22, 28)
    assert layout.page == (11906, 16838) and layout.page_numbers is True
    assert layout.body.font == "仿宋_GB2312" and layout.body.size == 16
    faces = {name: face.describe() for name, face in layout.styles.items()}
    assert faces["公文标题"] == "二号方正小标宋简体" and faces["一级标题"] == "三号黑体"
    assert faces["二级标题"] == "三号楷体_GB2312" and faces["页码"] == "四号宋体"
    assert {"发文机关标志", "发文字号", "版记"} <= set(faces)  # 版头 and 版记


@pytest.mark.parametrize("path", BUILT_IN_WORD, ids=lambda p: p.name)
def test_every_built_in_template_follows_the_reference(path: Path) -> None:
    assert check_layout(path, path.name) == []


def test_the_built_in_folder_passes_the_check_with_its_layout(bundled: DataSet) -> None:
    findings, checked = check_folder(BUILTIN, bundled, REFERENCE)
    workbooks = sorted((BUILTIN / "xlsx").glob("*.xlsx"))
    assert findings == [] and len(checked) == len(BUILT_IN_WORD) + len(workbooks) and workbooks


def test_nothing_asks_a_clerk_not_to_edit_a_template() -> None:
    for path in [*BUILTIN.rglob("*.docx"), *BUILTIN.rglob("*.xlsx")]:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                assert "请勿手工修改" not in zf.read(name).decode("utf-8", "replace"), (path, name)


def test_check_names_what_is_off_in_chinese(tmp_path: Path) -> None:
    problems = check_layout(_off_layout(tmp_path / "notice.docx"), "notice.docx")
    assert problems == [
        "页边距：应为上37、下35、左28、右26毫米，现为上25、下35、左20、右26毫米",
        "每页行数：应为22行，现为23行",
        "每行字数：应为28字，现为40字",
        "正文字体：应为三号仿宋_GB2312，现为小四号仿宋_GB2312",
        "样式“公示正文”的字体：应为四号仿宋_GB2312，现为小四号宋体",
    ]


def test_restyle_fixes_the_layout_and_leaves_every_paragraph_as_it_was(tmp_path: Path) -> None:
    source = _off_layout(tmp_path / "city" / "docx" / "notice.docx")
    (done,) = restyle_folder(tmp_path / "city", REFERENCE, tmp_path / "out")
    target = tmp_path / "out" / "docx" / "notice.docx"
    assert done.target == target and "页边距" in done.fixed[0]
    assert check_layout(target, "notice.docx") == []
    assert _paragraphs(target) == _paragraphs(source)
    # the same text, headers included; the even pages' footer, which the clerk's copy had lost, is back
    assert docx_text(target) == docx_text(source) + "[偶数页页脚1] — 1 —\n"


@pytest.mark.parametrize("path", BUILT_IN_WORD, ids=lambda p: p.name)
def test_restyling_a_built_in_template_keeps_its_text(tmp_path: Path, path: Path) -> None:
    (tmp_path / "in").mkdir()
    shutil.copy(path, tmp_path / "in" / path.name)
    restyle_folder(tmp_path / "in", REFERENCE, tmp_path / "out")
    out = tmp_path / "out" / path.name
    assert check_layout(out, path.name) == []
    assert _paragraphs(out) == _paragraphs(path)
    with zipfile.ZipFile(path) as before, zipfile.ZipFile(out) as after:
        assert before.read("word/document.xml").count(b"<w:t") == after.read("word/document.xml").count(b"<w:t")


def test_the_restyle_command_never_overwrites_silently(tmp_path: Path) -> None:
    city = tmp_path / "city"
    _off_layout(city / "docx" / "notice.docx")
    shutil.copy(BUILTIN / "docx" / "plan.docx", city / "docx" / "plan.docx")
    plan_bytes = (city / "docx" / "plan.docx").read_bytes()
    runner = CliRunner()
    neither = runner.invoke(main, ["templates", "restyle", str(city)])
    assert neither.exit_code == 2 and "--in-place" in neither.output
    (tmp_path / "out" / "docx").mkdir(parents=True)
    (tmp_path / "out" / "docx" / "plan.docx").write_bytes(b"mine")
    taken = runner.invoke(main, ["templates", "restyle", str(city), "--out", str(tmp_path / "out")])
    assert taken.exit_code == 1 and "不会覆盖" in taken.output
    assert (tmp_path / "out" / "docx" / "plan.docx").read_bytes() == b"mine"
    assert not (tmp_path / "out" / "docx" / "notice.docx").exists()  # nothing half done
    failing = runner.invoke(main, ["templates", "check", str(city)])
    assert failing.exit_code == 1 and "页边距" in failing.output and "正文字体" in failing.output
    in_place = runner.invoke(main, ["templates", "restyle", str(city), "--in-place"])
    assert in_place.exit_code == 0, in_place.output
    assert "notice.docx：页边距" in in_place.output and "plan.docx" not in in_place.output
    assert (city / "docx" / "plan.docx").read_bytes() == plan_bytes  # already right: untouched
    assert runner.invoke(main, ["templates", "check", str(city)]).exit_code == 0
    builtin = runner.invoke(main, ["templates", "restyle", str(BUILTIN), "--in-place"])
    assert builtin.exit_code == 2 and "内置模板" in builtin.output


def test_a_city_reference_document_is_its_layout(tmp_path: Path) -> None:
    city = tmp_path / "templates"
    city.mkdir()
    assert find_reference([city]) == REFERENCE
    doc = Document(str(REFERENCE))
    doc.sections[0].left_margin = Mm(30)
    doc.save(str(city / "reference.docx"))
    assert find_reference([city]) == city / "reference.docx"
    problems = check_layout(BUILTIN / "docx" / "plan.docx", "plan.docx", city / "reference.docx")
    assert problems and problems[0].startswith("页边距：应为上37、下35、左30、右26毫米")


def test_restyle_leaves_no_half_done_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.errors import OutputError
    from generator.output import restyle

    city = tmp_path / "city"
    _off_layout(city / "docx" / "notice.docx")
    shutil.copy(BUILTIN / "docx" / "plan.docx", city / "docx" / "plan.docx")
    with pytest.raises(OutputError, match="在模板文件夹"):
        restyle_folder(city, REFERENCE, city / "restyled")
    calls: list[Path] = []
    real = restyle.atomic_write

    def full_disk(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(restyle, "atomic_write", full_disk)
    with pytest.raises(OutputError, match="磁盘"):
        restyle_folder(city, REFERENCE, tmp_path / "out")
    assert len(calls) == 2 and not list((tmp_path / "out").rglob("*.docx"))


def test_a_short_row_that_may_break_is_kept_whole_and_a_tall_one_may_still_break() -> None:
    from generator.render.docx import SHORT_ROW_LINES, keep_short_rows_whole

    def row(chars: int) -> str:
        # a 2616-twip cell: 130.8 pt less 10.8 pt of margins, ten 12-point characters a line
        return ('<w:tr><w:trPr/><w:tc><w:tcPr><w:tcW w:type="dxa" w:w="2616"/></w:tcPr>'
                f'<w:p><w:r><w:t>{"字" * chars}</w:t></w:r></w:p></w:tc></w:tr>')

    short, tall = row(10 * SHORT_ROW_LINES), row(10 * SHORT_ROW_LINES + 1)
    fixed = '<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr><w:tc><w:p/></w:tc></w:tr>'
    xml = f"<w:tbl>{fixed}{short}{tall}</w:tbl>"
    out = keep_short_rows_whole(xml)
    assert out == f"<w:tbl>{fixed}{short.replace('<w:trPr/>', '<w:trPr><w:cantSplit/></w:trPr>')}{tall}</w:tbl>"
    assert keep_short_rows_whole(out) == out
    # Latin letters and digits take half a character
    assert "<w:cantSplit/>" in keep_short_rows_whole(row(0).replace("<w:t></w:t>", f"<w:t>{'8' * 190}</w:t>"))


def test_the_plans_item_rows_are_kept_whole_when_short(bundled: DataSet) -> None:
    from generator.documents.kinds import KINDS, community_target
    from generator.output.pipeline import Renderers, render_document

    docx = render_document(bundled, KINDS["plan"], community_target(bundled, "dongqu-10"), Renderers(bundled, None))
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    rows = re.findall(r"<w:tr>(<w:trPr[^>]*?/?>)", xml)
    assert rows and "<w:trPr/>" not in rows  # every item row of this plan is short enough
