"""Write templates/docx/pilot_report.docx: the pilot (annual) report laid out per GB/T 9704-2012.

Run `python tools/make_report_templates.py` after changing this file; the template is committed.
Every docxtpl tag is written as one run, so Word's spell-checker cannot split it.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

from docx import Document
from docx.document import Document as Doc
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx_layout import (
    FANGSONG,
    HEITI,
    KAITI,
    LINE_PT,
    PPR_ORDER,
    SONGTI,
    TBLPR_ORDER,
    XIAOBIAOSONG,
    cell_text,
    explicit_fonts,
    fixed_table,
    header_text,
    keep_row_whole,
    keep_rows_together,
    page_number_footers,
    paragraph_style,
    set_child,
    set_document_defaults,
    set_fonts,
    set_up_page,
    signature_box,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.render.ziputil import normalize_zip  # noqa: E402

OUT = ROOT / "templates" / "docx" / "pilot_report.docx"

# GB/T 9704-2012: A4, type area 156 × 225 mm, 3号 (16 pt) body, 22 lines of 28 characters.
BODY_PT = 16.0
CHARS_PER_LINE = 28
TABLE_PT = 10.5
PARTIES = ("city", "district", "residents", "utility", "maintenance_fund", "social_capital")

# ---------------------------------------------------------------- low-level helpers


def _indent_chars(style: ParagraphStyle, chars: int) -> None:
    """First-line indent in characters, which Word keeps right when the font size changes."""
    style.paragraph_format.first_line_indent = Pt(BODY_PT * chars)
    ind = style.element.get_or_add_pPr().find(qn("w:ind"))
    if ind is not None:
        ind.set(qn("w:firstLineChars"), str(chars * 100))


def para_style(doc: Doc, style_id: str, name: str, font: str, size: float, *,
               align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY, indent: int = 0,
               exact: float | None = LINE_PT, grid: bool = True, bold: bool = False,
               keep_next: bool = False, outline: int | None = None) -> ParagraphStyle:
    """A paragraph style with its East-Asian font declared and a fixed line height."""
    style = paragraph_style(doc, style_id, name, font, size, align=align, line_pt=exact,
                            bold=bold, keep_next=keep_next, outline=outline)
    pf = style.paragraph_format
    if exact is None:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    pf.first_line_indent = Pt(0)
    if indent:
        _indent_chars(style, indent)
    if not grid:
        # Small text off the character grid: otherwise Word spreads it to the body's pitch.
        set_child(style.element.get_or_add_pPr(), "snapToGrid", PPR_ORDER, val="0")
    return style


def tag(paragraph: Paragraph, text: str) -> Paragraph:
    """One docxtpl tag (or text) as one run."""
    paragraph.add_run(text)
    return paragraph


# ---------------------------------------------------------------- document set-up


def set_up(doc: Doc) -> None:
    """Page, grid, default fonts and the styles the template uses."""
    # The page number's dashes sit 7 mm under the type area (35 mm − 7 mm − one 4号 line).
    set_up_page(doc, footer_mm=22)
    # 28 characters a line come from condensed spacing (below), not from a character grid.
    set_document_defaults(doc, FANGSONG, BODY_PT)

    normal = doc.styles["Normal"]
    set_fonts(normal.element.get_or_add_rPr(), FANGSONG, BODY_PT)
    pf = normal.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.space_before = pf.space_after = Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(LINE_PT)
    pf.widow_control = False
    _indent_chars(normal, 2)

    para_style(doc, "GwTitle", "公文标题", XIAOBIAOSONG, 22, align=WD_ALIGN_PARAGRAPH.CENTER,
               exact=36, grid=False)
    para_style(doc, "GwAddressee", "主送机关", FANGSONG, BODY_PT)
    para_style(doc, "GwHeading1", "一级标题", HEITI, BODY_PT, indent=2, keep_next=True, outline=0)
    para_style(doc, "GwHeading2", "二级标题", KAITI, BODY_PT, indent=2, keep_next=True, outline=1)
    sign = para_style(doc, "GwSignature", "署名", FANGSONG, BODY_PT, align=WD_ALIGN_PARAGRAPH.CENTER)
    signature_box(sign.element.get_or_add_pPr())
    para_style(doc, "GwTableNote", "表注", FANGSONG, 12, align=WD_ALIGN_PARAGRAPH.RIGHT,
               exact=None, grid=False, keep_next=True)
    para_style(doc, "GwTableText", "表格文字", FANGSONG, TABLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER,
               exact=None, grid=False)
    para_style(doc, "GwTableName", "表格文字（左对齐）", FANGSONG, TABLE_PT,
               align=WD_ALIGN_PARAGRAPH.LEFT, exact=None, grid=False)
    para_style(doc, "GwTableHead", "表头文字", HEITI, TABLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER,
               exact=None, grid=False)
    page = para_style(doc, "GwPageNumber", "页码", SONGTI, 14, exact=None, grid=False)
    page.paragraph_format.widow_control = False
    masthead = para_style(doc, "GwMasthead", "发文机关标志", XIAOBIAOSONG, 26,
                          align=WD_ALIGN_PARAGRAPH.CENTER, exact=None, grid=False)
    masthead.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    para_style(doc, "GwDocNumber", "发文字号", FANGSONG, BODY_PT, align=WD_ALIGN_PARAGRAPH.CENTER)
    para_style(doc, "GwAttachment", "附件说明", FANGSONG, BODY_PT, indent=2)
    para_style(doc, "GwRecord", "版记", FANGSONG, 14, exact=None, grid=False)
    mark = para_style(doc, "GwSampleMark", "示例标记", HEITI, 12, align=WD_ALIGN_PARAGRAPH.RIGHT,
                      exact=None, grid=False)
    mark.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    figure_styles(doc)


def figure_styles(doc: Doc) -> None:
    """The chart's own paragraph (off the fixed line height, which would clip it) and its caption."""
    picture = para_style(doc, "GwFigure", "图", FANGSONG, BODY_PT, align=WD_ALIGN_PARAGRAPH.CENTER,
                         exact=None, grid=False, keep_next=True)
    picture.paragraph_format.space_before = Pt(6)
    caption = para_style(doc, "GwFigureCaption", "图题", HEITI, 12, align=WD_ALIGN_PARAGRAPH.CENTER,
                         exact=None, grid=False)
    caption.paragraph_format.space_before = Pt(3)
    caption.paragraph_format.space_after = Pt(6)


def figure(doc: Doc, chart: str) -> None:
    """A chart of the context (charts.NAME: picture and caption), its caption under it; none when
    the context has none."""
    add = doc.add_paragraph
    tag(add(), f"{{%p if charts.{chart} %}}")
    tag(add(style="图"), f"{{{{r charts.{chart}.picture|picture }}}}")
    tag(add(style="图题"), f"{{{{ charts.{chart}.caption }}}}")
    tag(add(), "{%p endif %}")


def headers_and_footers(doc: Doc) -> None:
    """The sample mark in the headers; page numbers on the right of odd and left of even pages."""
    header_text(doc, "示例标记", "{{ mark }}")
    page_number_footers(doc, "页码", field="complex")


# ---------------------------------------------------------------- tables


def table(doc: Doc, widths_mm: list[float], heads: list[str], loop: str,
          cells: list[str], total: list[str] | None = None, merge_total: int = 1,
          left: tuple[int, ...] = ()) -> Table:
    """A ruled table: a header row, one templated row repeated by {%tr for %}, an optional total."""
    t = fixed_table(doc, widths_mm, rows=4 + (1 if total else 0))
    t.style = doc.styles["Table Grid"]
    # Narrow cell margins (1 mm): an amount such as 2,825.00 stays on one line.
    margins = set_child(t._tbl.tblPr, "tblCellMar", TBLPR_ORDER)
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(round(Mm(1).twips)))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    for row in t.rows:
        for cell in row.cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for index, text in enumerate(heads):
        cell_text(t.rows[0].cells[index], text, "表头文字")
    cell_text(t.rows[1].cells[0], f"{{%tr for r in {loop} %}}", "表格文字")
    for index, text in enumerate(cells):
        style = "表格文字（左对齐）" if index in left else "表格文字"
        cell_text(t.rows[2].cells[index], text, style)
    cell_text(t.rows[3].cells[0], "{%tr endfor %}", "表格文字")
    for index, row in enumerate(t.rows):
        keep_row_whole(row, repeat=index == 0)
    for row in t.rows[1:]:
        row.height = Mm(7)
    if total:
        row = t.rows[4]
        first = row.cells[0].merge(row.cells[merge_total - 1]) if merge_total > 1 else row.cells[0]
        cell_text(first, total[0], "表头文字")
        for index, text in enumerate(total[1:], start=merge_total):
            cell_text(row.cells[index], text, "表格文字")
    if total:
        keep_rows_together(t)  # never a header over the 合计 row alone, nor one row on a page
    else:
        # The repeated row is the last: it keeps with the next row except on its last pass
        # (UNTIL_LAST, made a Jinja condition in build), or it would tie the table to what follows.
        keep_rows_together(t)
        for cell in t.rows[2].cells:
            for p in cell.paragraphs:
                set_child(p._p.get_or_add_pPr(), "keepNext", PPR_ORDER, val=UNTIL_LAST)
    return t


# ---------------------------------------------------------------- body


def parts_block(doc: Doc, name: str) -> None:
    """Sub-headings (optional) and paragraphs; a paragraph still to be written stands out."""
    add = doc.add_paragraph
    tag(add(), f"{{%p for part in {name} %}}")
    tag(add(), "{%p if part.heading %}")
    tag(add(style="二级标题"), "{{ part.heading }}")
    tag(add(), "{%p endif %}")
    tag(add(), "{%p for para in part.paragraphs %}")
    tag(add(), "{%p if para.fill %}")
    run = add().add_run("{{ para.text }}")
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    tag(add(), "{%p else %}")
    tag(add(), "{{ para.text }}")
    tag(add(), "{%p endif %}")
    tag(add(), "{%p endfor %}")
    tag(add(), "{%p endfor %}")


def body(doc: Doc) -> None:
    """Title, addressee, the four sections of the report, signature and date."""
    add: Callable[..., Paragraph] = doc.add_paragraph
    # 版头 of an upward document: the sender's mark, then 发文字号 with 签发人 (GB/T 9704 7.2).
    tag(add(style="发文机关标志"), "{{ doc.masthead }}")
    tag(add(style="发文字号"), "{{ doc.number }}　　签发人：{{ doc.signer }}")
    add()
    tag(add(style="公文标题"), "{% filter title_lines %}{{ title }}{% endfilter %}")
    add()
    tag(add(style="主送机关"), "{{ recipient }}：")
    tag(add(), "{{ opening }}")

    tag(add(style="一级标题"), "一、总体情况")
    tag(add(), "{{ summary }}")
    parts_block(doc, "situation")
    tag(add(style="二级标题"), "{{ heads.targets }}")
    table(doc, [46, 40, 40, 30], ["指标", "{{ target_label }}", "实际完成", "完成率"], "targets",
          ["{{ r.name }}", "{{ r.target }}", "{{ r.done }}", "{{ r.rate }}"], left=(0,))
    figure(doc, "plan")
    tag(add(), "{%p if districts %}")
    tag(add(style="二级标题"), "{{ heads.districts }}")
    table(doc, [24, 17, 17, 18, 18, 21, 21, 20],
          ["县（区）", "计划小区\n（个）", "完工小区\n（个）", "计划户数", "完成户数",
           "预计投资\n（万元）", "实际到位\n（万元）", "户数\n完成率"],
          "districts",
          ["{{ r.name }}", "{{ r.communities }}", "{{ r.finished }}", "{{ r.households }}",
           "{{ r.households_done }}", "{{ r.investment }}", "{{ r.actual }}", "{{ r.rate }}"],
          total=["合计", "{{ district_total.communities }}", "{{ district_total.finished }}",
                 "{{ district_total.households }}", "{{ district_total.households_done }}",
                 "{{ district_total.investment }}", "{{ district_total.actual }}",
                 "{{ district_total.rate }}"])
    tag(add(), "{%p endif %}")
    tag(add(style="二级标题"), "{{ heads.projects }}")
    table(doc, [10, 36, 21, 15, 15, 20, 20, 19],
          ["序号", "小区名称", "县（区）", "计划\n户数", "完成\n户数", "预计投资\n（万元）",
           "实际到位\n（万元）", "进度"],
          "projects",
          ["{{ r.no }}", "{{ r.name }}", "{{ r.district }}", "{{ r.households }}",
           "{{ r.households_done }}", "{{ r.investment }}", "{{ r.actual }}", "{{ r.stage }}"],
          total=["合计", "{{ project_total.households }}", "{{ project_total.households_done }}",
                 "{{ project_total.investment }}", "{{ project_total.actual }}",
                 "{{ project_total.stage }}"],
          merge_total=3, left=(1,))
    tag(add(style="二级标题"), "{{ heads.funding }}")
    tag(add(style="表注"), "单位：万元")
    # The paying parties are named as programme.yaml names them.
    table(doc, [9, 25, 17, 17, 17, 17, 17, 17, 20],
          ["序号", "小区名称", *(f"{{{{ parties.{k} }}}}" for k in PARTIES), "合计"],
          "funding",
          ["{{ r.no }}", "{{ r.name }}", *(f"{{{{ r.{k} }}}}" for k in PARTIES), "{{ r.total }}"],
          total=["合计", *(f"{{{{ funding_total.{k} }}}}" for k in PARTIES),
                 "{{ funding_total.total }}"],
          merge_total=2, left=(1,))
    figure(doc, "funding")

    tag(add(style="一级标题"), "二、主要做法和成效")
    parts_block(doc, "practices")
    # Before/after photos of the projects: the table is laid out by the renderer.
    tag(add(), "{%p if photos %}")
    tag(add(), "项目改造前后对比照片如下：").paragraph_format.keep_with_next = True
    tag(add(), "{{p photos }}")
    tag(add(), "{%p endif %}")
    tag(add(style="一级标题"), "三、可复制可推广的经验")
    parts_block(doc, "experience")
    tag(add(style="一级标题"), "四、存在的问题和建议")
    parts_block(doc, "problems")
    tag(add(), "{{ closing }}").paragraph_format.keep_with_next = True
    tag(add(), "{%p if doc.attachments %}")
    add()
    tag(add(), "{%p for a in doc.attachments %}")
    tag(add(style="附件说明"), "{% if loop.first %}附件：{% else %}　　　{% endif %}"
                              "{{ loop.index }}.{{ a }}")
    tag(add(), "{%p endfor %}")
    tag(add(), "{%p endif %}")
    # 特此报告, the sender and the date stay on one page: no page holds the date alone.
    for p in (add(), add(), tag(add(style="署名"), "{{ sign.name|trim }}")):
        p.paragraph_format.keep_with_next = True
    tag(add(style="署名"), "{{ sign.date|trim }}")
    # 版记: 抄送, then the printing office and date (GB/T 9704 7.4).
    add()
    tag(add(), "{%p if doc.cc %}")
    tag(add(style="版记"), "{{ doc.cc }}")
    tag(add(), "{%p endif %}")
    tag(add(style="版记"), "{{ doc.printed }}")


UNTIL_LAST = "untilLast"
"""A marker value of w:keepNext: build() turns it into {% if not loop.last %}<w:keepNext/>{% endif %}."""


def _keep_until_last(docx: bytes) -> bytes:
    """The marked keepNext of repeated rows as a Jinja condition on the loop's last pass."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            blob = zin.read(info.filename)
            if info.filename == "word/document.xml":
                blob = blob.replace(f'<w:keepNext w:val="{UNTIL_LAST}"/>'.encode(),
                                    b"{% if not loop.last %}<w:keepNext/>{% endif %}")
            zout.writestr(info, blob)
    return out.getvalue()


def build() -> bytes:
    """The template as repeatable bytes."""
    doc = Document()
    set_up(doc)
    headers_and_footers(doc)
    body(doc)
    explicit_fonts(doc, FANGSONG)
    props = doc.core_properties
    props.title = "老旧小区改造试点工作报告（年度工作总结）模板"
    props.author = props.last_modified_by = "gaizao"
    props.revision = 1
    props.comments = "由 tools/make_report_templates.py 生成，请勿手工修改"
    buffer = io.BytesIO()
    doc.save(buffer)
    return normalize_zip(_keep_until_last(buffer.getvalue()))


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(build())
    print(OUT.relative_to(ROOT))


if __name__ == "__main__":
    main()
