"""Print fidelity: 22 × 28 typography, titles broken between words, 署名 over 成文日期, tables kept
whole, and a distinct PDF font per role (GB/T 9704-2012), measured on the PDFs LibreOffice makes."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from generator.data.loader import DataSet
from generator.output import fonts
from generator.output.pdf import to_pdf
from generator.output.pipeline import Result, Selection, build
from generator.render.titles import TITLE_CHARS, break_title, words

needs_lo = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TITLE_STYLES = {"GongwenBiaoti", "GwTitle"}
LEFT_PT, RIGHT_PT = 28 / 25.4 * 72, (210 - 26) / 25.4 * 72
CHAR_PT = 156 / 25.4 * 72 / 28
COMMUNITY = "2019/东区/10-炳草岗酿造厂小区（鸿海巷小区）"


def _docx(result: Result) -> list[Path]:
    return [p for p in result.paths if p.suffix == ".docx"]


def _titles(path: Path) -> list[list[str]]:
    """Each title paragraph of a document as its lines (split at Word line breaks)."""
    root = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    out = []
    for p in root.iter(f"{W}p"):
        style = p.find(f"{W}pPr/{W}pStyle")
        if style is None or style.get(f"{W}val") not in TITLE_STYLES:
            continue
        text = "".join("\n" if el.tag == f"{W}br" else el.text or ""
                       for el in p.iter(f"{W}t", f"{W}br"))
        out.append(text.split("\n"))
    return out


def test_no_generated_title_splits_a_word(full_build: Result, reports_build: Result,
                                          bundled: DataSet) -> None:
    names = [c.name for c in bundled.communities.values()]
    checked = broken = 0
    for path in _docx(full_build) + _docx(reports_build):
        for lines in _titles(path):
            checked += 1
            broken += len(lines) > 1
            whole = "".join(lines)
            for name in names:
                if name in whole:
                    assert any(name in line for line in lines), f"{path}：标题拆开了“{name}”：{lines}"
            cuts = {sum(len(x) for x in lines[:i]) for i in range(1, len(lines))}
            bounds = {sum(len(x) for x in words(whole, names)[:i]) for i in range(20)}
            assert cuts <= bounds, f"{path}：标题断在词中间：{lines}"
            assert all(sum(0.5 if ord(c) < 128 else 1 for c in ln) <= TITLE_CHARS for ln in lines), (path, lines)
    assert checked > 100 and broken > 50


def test_a_long_title_breaks_in_balanced_lines_at_word_boundaries() -> None:
    name = "仁和第二农贸市场及烧烤城周边安置房"
    lines = break_title(f"{name}老旧小区改造工程竣工验收表", [name])
    assert lines == [name, "老旧小区改造工程竣工验收表"]
    lines = break_title("大渡口东林巷小区老旧小区改造居民意见征询表", ["大渡口东林巷小区"])
    assert lines == ["大渡口东林巷小区老旧小区", "改造居民意见征询表"]
    assert break_title("某某小区老旧小区改造方案", ["某某小区"]) == ["某某小区老旧小区改造方案"]


def test_a_title_with_figures_counts_the_space_word_sets_around_them() -> None:
    # Word and LibreOffice put a quarter character between a figure and CJK text: "1栋2单元…登记表"
    # is 20 characters of glyphs but did not fit the line, and its last character stood alone.
    name = "炳草岗园林苗圃小区"
    assert break_title(f"{name}1栋2单元加装电梯业主签到及表决情况登记表", [name]) == [
        f"{name}1栋2单元", "加装电梯业主签到及表决情况登记表"]
    assert break_title(f"{name}1栋2单元加装电梯业主表决票", [name]) == [name, "1栋2单元加装电梯业主表决票"]


@needs_lo
def test_the_vote_register_prints_each_date_and_the_voting_period_whole(bundled: DataSet,
                                                                        tmp_path: Path) -> None:
    (source,) = build(bundled, tmp_path / "out", Selection(kinds=("vote-register",))).paths
    assert to_pdf([source]).done
    text = subprocess.run(["pdftotext", "-layout", str(source.with_suffix(".pdf")), "-"], capture_output=True,
                          text=True, check=True).stdout
    lines = [re.sub(r"\s+", "", line) for line in text.splitlines()]
    assert "表决时间：2018年7月2日至2018年7月15日" in lines
    days = [line for line in lines if re.search(r"\d+月\d+日$", line)]
    assert len(days) >= 10, text  # every signed row's 签署日期 on one line (it was "7月5" over "日")
    assert not any(re.fullmatch(r"日", line) for line in lines), text
    assert "加装电梯业主签到及表决情况登记表" in lines  # the title's last line, not a lone 表


def test_every_mapped_font_is_installed_and_distinct_per_role() -> None:
    mapped = fonts.font_map()
    roles = [mapped[n] for n in ("仿宋_GB2312", "楷体_GB2312", "黑体", "方正小标宋简体", "宋体")]
    assert len(set(roles)) == 5, roles
    assert len({r.family for r in roles}) >= 3
    assert fonts.missing_fonts() == []


def test_a_missing_font_is_named_in_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_installed", lambda sub: sub.family != "LXGW WenKai")
    warnings = fonts.missing_fonts()
    assert len(warnings) == 1
    assert "楷体_GB2312" in warnings[0] and "LXGW WenKai" in warnings[0]


def test_every_character_of_the_bundled_documents_has_a_glyph_in_every_font(
        full_build: Result, reports_build: Result) -> None:
    text = []
    for path in _docx(full_build) + _docx(reports_build):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.startswith("word/") and name.endswith(".xml"):
                    text.append(re.sub(r"<[^>]+>", "", zf.read(name).decode("utf-8")))
    joined = "".join(text)
    # The forms' check box is □ (U+25A1), in every Chinese font: ☐ (U+2610) is in none, and
    # LibreOffice looking for it in the symbol fonts glyph by glyph doubled a form's conversion.
    assert "□" in joined and "☐" not in joined
    assert fonts.uncovered(joined) == {}


# ---------------------------------------------------------------- measured on PDF


@pytest.fixture(scope="module")
def pdfs(full_build: Result, reports_build: Result, tmp_path_factory: pytest.TempPathFactory
         ) -> dict[str, Path]:
    """One community's Word documents and a district report, converted once."""
    folder = tmp_path_factory.mktemp("fidelity")
    # Not the household forms: one per household, hundreds of pages (they are benchmarked).
    chosen = {p.name: p for p in full_build.paths if COMMUNITY in str(p) and p.suffix == ".docx"
              and not p.name.startswith("01-")}
    chosen["report.docx"] = next(p for p in reports_build.paths
                                 if "东区" in str(p) and p.name.endswith("工作报告.docx"))
    chosen["zone-report.docx"] = next(p for p in reports_build.paths
                                      if "钒钛高新区" in str(p) and p.name.endswith("工作报告.docx"))
    # A plan whose money list puts long numbers at line starts (justified, its lines were stretched).
    chosen["long-numbers.docx"] = next(p for p in full_build.paths
                                       if "07-月潭小区" in str(p) and p.name == "03-改造方案.docx")
    copies = []
    for name, path in chosen.items():
        copies.append(folder / name)
        shutil.copyfile(path, copies[-1])
    done = to_pdf(copies)
    assert not done.failed
    return {p.stem: p for p in done.done}


def _lines(pdf: Path) -> list[tuple[int, float, float, str]]:
    """(page, left, right, text) of every text line, from pdftotext's layout boxes."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True,
                         check=True).stdout
    root = etree.fromstring(xml, etree.XMLParser(recover=True))
    return [(n, float(line.get("xMin")), float(line.get("xMax")),
             "".join(w.text or "" for w in line.iter("{*}word")))
            for n, page in enumerate(root.iter("{*}page"), start=1) for line in page.iter("{*}line")]


def _boxes(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    """(page, left, top, right, bottom, text) of every text line, from pdftotext's layout boxes."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True,
                         check=True).stdout
    root = etree.fromstring(xml, etree.XMLParser(recover=True))
    return [(n, float(line.get("xMin")), float(line.get("yMin")), float(line.get("xMax")),
             float(line.get("yMax")), "".join(w.text or "" for w in line.iter("{*}word")))
            for n, page in enumerate(root.iter("{*}page"), start=1) for line in page.iter("{*}line")]


TYPE_AREA_BOTTOM = (297 - 35) / 25.4 * 72
"""The type area's lower edge, in points from the top of an A4 page (bottom margin 35 mm)."""
RECORD_CHAR = 14.0
"""A 4号 character of the 版记, in points."""


@needs_lo
@pytest.mark.libreoffice
@pytest.mark.parametrize("stem", ["report", "zone-report"])
def test_report_head_and_record_are_gb_t_9704(pdfs: dict[str, Path], stem: str) -> None:
    """版头: the masthead on one line; 发文字号 one character in from the left and 签发人 one in from
    the right on one line. 版记: 印发 one character in from the right, on the last page's last line."""
    boxes = _boxes(pdfs[stem])
    docx_lines = docx_text_lines(pdfs[stem].with_suffix(".docx"))
    masthead = docx_lines[0]
    assert any(text == masthead for page, *_, text in boxes if page == 1), masthead
    signer = next(b for b in boxes if "签发人" in b[5])
    line = [b for b in boxes if b[0] == 1 and abs(b[2] - signer[2]) < 2]
    assert any("〔" in b[5] for b in line), line  # 发文字号 and 签发人 on one line
    assert abs(min(b[1] for b in line) - (LEFT_PT + CHAR_PT)) < CHAR_PT / 2, line
    assert abs(max(b[3] for b in line) - (RIGHT_PT - CHAR_PT)) < CHAR_PT / 2, line
    last = max(b[0] for b in boxes)
    printed = next(b for b in boxes if b[0] == last and b[5].endswith("印发"))
    assert abs(printed[3] - (RIGHT_PT - RECORD_CHAR)) < RECORD_CHAR / 2, printed
    assert 0 <= TYPE_AREA_BOTTOM - printed[4] < RECORD_CHAR, printed  # at the foot of the page
    assert not [b for b in boxes if b[0] == last and b[2] > printed[4] and not re.fullmatch(r"—\d+—", b[5])]


@needs_lo
@pytest.mark.libreoffice
def test_no_full_line_is_stretched(pdfs: dict[str, Path]) -> None:
    """A line is never spread out with gaps between its characters: where a long number does not
    fit a line's end, the number moves to the next line and the line ends short (left aligned)."""
    checked = 0
    for stem, pdf in pdfs.items():
        xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True,
                             check=True).stdout
        root = etree.fromstring(xml, etree.XMLParser(recover=True))
        for line in root.iter("{*}line"):
            words = [(float(x.get("xMin")), float(x.get("xMax")), float(x.get("yMax")) - float(x.get("yMin")),
                      x.text or "") for x in line.iter("{*}word")]
            if len(words) < 2:
                continue
            checked += 1
            height = max(wd[2] for wd in words)
            # Justification spreads a line's slack over every character gap: pdftotext then cuts
            # the line into many words a quarter of a character apart or more.
            wide = [b[0] - a[1] for a, b in zip(words, words[1:], strict=False) if b[0] - a[1] > height / 4]
            assert len(wide) < 3, f"{stem}：字距被拉开：{''.join(wd[3] for wd in words)}"
    assert checked > 20


def docx_text_lines(path: Path) -> list[str]:
    from tests.snapshot import docx_text

    return docx_text(path).splitlines()


CLOSING = "，。、；：）》”"
CJK_ONLY = re.compile(r"^[\u4e00-\u9fff，。、；：“”《》（）！？]+$")


@needs_lo
@pytest.mark.libreoffice
def test_every_full_body_line_holds_28_characters(pdfs: dict[str, Path]) -> None:
    full = 0
    for stem in ("02-改造申请书", "03-改造方案", "report"):
        for _, left, right, text in _lines(pdfs[stem]):
            if right < RIGHT_PT - CHAR_PT / 2 or not CJK_ONLY.match(text):
                continue  # a paragraph's last line, or one with digits or Latin letters
            if (right - left) / len(text) > CHAR_PT + 1:
                continue  # the title, in 2号
            indent = round((left - LEFT_PT) / CHAR_PT)
            if indent not in (0, 2):
                continue
            full += 1
            # A line may end one short where a closing mark may not start the next line, or
            # one over where that mark closes it, compressed to half its width (行末标点挤压).
            count = len(text) + indent
            assert 27 <= count <= 29, f"{stem}：{count} 字：{text}"
            if count != 28:
                assert (text[-1] in CLOSING) == (count == 29), f"{stem}：{count} 字：{text}"
    assert full >= 8


@needs_lo
@pytest.mark.libreoffice
def test_the_sender_is_centred_over_the_date_four_characters_from_the_margin(
        pdfs: dict[str, Path]) -> None:
    for stem, pattern in (("02-改造申请书", r"^\d{4}年\d{1,2}月\d{1,2}日$"),
                          ("report", r"^\d{4}年\d{1,2}月\d{1,2}日$")):
        lines = _lines(pdfs[stem])
        at = max(i for i, line in enumerate(lines) if re.match(pattern, line[3]))
        _, name_left, name_right, name = lines[at - 1]
        _, date_left, date_right, _ = lines[at]
        assert abs((name_left + name_right) / 2 - (date_left + date_right) / 2) < 2, (stem, name)
        assert 3.5 * CHAR_PT <= RIGHT_PT - date_right <= 4.5 * CHAR_PT, stem


@needs_lo
@pytest.mark.libreoffice
def test_the_conclusion_and_the_signatures_each_stand_whole_on_a_page(pdfs: dict[str, Path]) -> None:
    # The conclusion may end the page before the signatures (so that page is not left two-thirds
    # blank), but neither table is cut, and every signer stands on the page of the 验收日期 line.
    lines = _lines(pdfs["06-竣工验收表"])
    pages = {text: page for page, _, _, text in lines}
    dated = max(page for page, _, _, text in lines if text.startswith("验收日期："))
    assert pages["三、验收结论"] <= pages["四、验收组成员"] <= pages["三、验收结论"] + 1
    assert pages["四、验收组成员"] == pages["设计单位"] == pages["管线单位"] == dated


@needs_lo
@pytest.mark.libreoffice
def test_the_plan_pdf_embeds_a_distinct_font_per_role(pdfs: dict[str, Path]) -> None:
    listed = subprocess.run(["pdffonts", str(pdfs["03-改造方案"])], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    families = {re.sub(r"^[A-Z]{6}\+|-.*$|CJK\w\w$", "", line.split()[0]) for line in listed}
    assert len(families) >= 3, families
    xml = subprocess.run(["pdftohtml", "-xml", "-i", "-stdout", str(pdfs["03-改造方案"])],
                         capture_output=True, check=True).stdout
    root = etree.fromstring(xml, etree.XMLParser(recover=True))
    face = {spec.get("id"): spec.get("family") for spec in root.iter("fontspec")}
    used: dict[str, str] = {}
    for text in root.iter("text"):
        used.setdefault("".join(text.itertext()), face[text.get("font")])
    assert "Black" in used["老旧小区改造方案"]  # 方正小标宋简体: the heavy serif
    assert "Sans" in used["一、基本情况"]  # 黑体
    assert "WenKai" in used["（一）自治组织"]  # 楷体_GB2312
    body = next(f for t, f in used.items() if t.startswith("根据《"))
    assert "Serif" in body and "Light" in body  # 仿宋_GB2312


# ---------------------------------------------------------------- bound print files, duplex


@needs_lo
@pytest.mark.libreoffice
def test_in_a_bound_print_file_every_document_starts_on_an_odd_page(
        tmp_path: Path, bundled: DataSet) -> None:
    from generator.output.printing import print_documents

    result = print_documents(bundled, tmp_path, "plan", district="东区", layout=True)
    done = to_pdf(result.paths)
    assert not done.failed
    text = subprocess.run(["pdftotext", "-layout", str(done.done[0]), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = text.split("\f")[:-1]
    footers = [page.strip().splitlines()[-1].replace(" ", "") if page.strip() else "" for page in pages]
    starts = [n for n, f in enumerate(footers, start=1) if f.endswith("—1—")]
    assert len(starts) == result.bound[result.paths.rels[0]] == 4
    assert all(n % 2 == 1 for n in starts), starts  # a right-hand page, after a blank verso
    assert len(pages) % 2 == 0
    # A blank verso is blank: no running head, no page number (GB/T 9704 numbers no blank page).
    blanks = [n for n, page in enumerate(pages, start=1) if not page.strip()]
    assert blanks, "the plans have odd page counts: some versos are blank"
    for page in pages:
        body = re.sub(r"【示例数据，仅供演示】|—\s*\d+\s*—", "", page)
        assert body.strip() or not page.strip(), f"只有页眉或页码的空白页：{page.strip()}"
    # The contents page says how many sheets each document takes, as laid out.
    lengths = [end - start for start, end in zip(starts, [*starts[1:], len(pages) + 1], strict=True)]
    rows = [line.split() for line in pages[0].splitlines() if re.match(r"^\s*\d+\s", line)]
    assert [int(r[-1]) for r in rows] == [(n + 1) // 2 for n in lengths]
    assert f"{sum(lengths) // 2}张" in pages[0].replace(" ", "")


def test_without_libreoffice_a_bound_file_says_nothing_it_cannot_count(
        tmp_path: Path, bundled: DataSet, monkeypatch: pytest.MonkeyPatch) -> None:
    import docx

    from generator.output.printing import print_documents

    monkeypatch.setattr("generator.output.printing.soffice", lambda: None)
    result = print_documents(bundled, tmp_path, "notice", district="东区", layout=True)
    summary = docx.Document(str(result.paths[0])).paragraphs[1].text
    assert "张" not in summary and "—" not in summary and "每份另起一页" in summary


def _page_bodies(pdf: Path) -> str:
    """The PDF's text without its running headers and page numbers, spaces and breaks removed."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    kept = [line for page in text.split("\f") for line in page.splitlines()
            if not re.fullmatch(r"\s*(【示例数据，仅供演示】|示例：.*不是正式公文|—\s*\d+\s*—)\s*", line)]
    return re.sub(r"\s+", "", "".join(kept))


@needs_lo
@pytest.mark.libreoffice
def test_no_character_of_a_paragraph_is_lost_in_the_pdf(pdfs: dict[str, Path]) -> None:
    """A comma that ends a full line is the character LibreOffice would drop (condensed -5)."""
    from docx import Document

    checked = 0
    for stem, pdf in pdfs.items():
        printed = _page_bodies(pdf)
        doc = Document(str(pdf.with_suffix(".docx")))
        for paragraph in doc.paragraphs:
            # The word joiners that keep a phone number whole are not text.
            text = re.sub(r"\s+", "", paragraph.text).replace("\u2060", "")
            if text and text != "【示例数据，仅供演示】":
                checked += 1
                assert text in printed, f"{stem}：PDF 中缺字：{paragraph.text}"
    assert checked > 60
