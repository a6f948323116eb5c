"""GB/T 9704-2012 page, font, style and table helpers shared by the python-docx template builders.

tools/make_templates.py (the packet) and tools/make_report_templates.py (the pilot report) keep
their documents' wording and structure; the layout both follow lives here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_ALIGN_VERTICAL, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.section import Section
from docx.shared import Mm, Pt
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph

FANGSONG = "仿宋_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"

LINE_PT = 28.95
"""GB/T 9704: 22 lines on a 225 mm type area."""
TYPE_WIDTH_MM = 156
CHARS_PER_LINE = 28
"""GB/T 9704: 28 characters of 3号 on a 156 mm line."""
BODY_PT = 16.0
CHAR_PT = TYPE_WIDTH_MM / 25.4 * 72 / CHARS_PER_LINE
"""The character pitch: 15.79 pt, a little under the 16 pt of 3号."""
CONDENSE = math.floor(((CHAR_PT * CHARS_PER_LINE - BODY_PT / 2) / CHARS_PER_LINE - BODY_PT) * 20)
"""Every character condensed by this many twentieths of a point (-10), so that 28 fit a line
with room left for a closing mark compressed to half its width at the line's end: LibreOffice
drops a comma that ends a line already full (condensed by only -5, the comma was lost)."""

# Element order inside w:pPr, w:rPr, w:trPr and w:tblPr (the schema's sequences); Word refuses
# a file that breaks it.
PPR_ORDER = (
    "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers "
    "pBdr shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE "
    "autoSpaceDN bidi adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents "
    "suppressOverlap jc textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle "
    "rPr sectPr pPrChange"
).split()
RPR_ORDER = (
    "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint "
    "noProof snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u "
    "effect bdr shd fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath"
).split()
TRPR_ORDER = (
    "cnfStyle divId gridBefore gridAfter wBefore wAfter cantSplit trHeight tblHeader "
    "tblCellSpacing jc hidden"
).split()
TBLPR_ORDER = (
    "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc "
    "tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription"
).split()


def set_child(parent: BaseOxmlElement, tag: str, order: Sequence[str], **attrs: str) -> BaseOxmlElement:
    """Replace (or add) the child w:<tag> of parent at its schema position, with attributes."""
    for old in parent.findall(qn(f"w:{tag}")):
        parent.remove(old)
    child: BaseOxmlElement = OxmlElement(f"w:{tag}")
    for key, value in attrs.items():
        child.set(qn(f"w:{key}"), value)
    later = order[order.index(tag) + 1:]
    parent.insert_element_before(child, *(f"w:{t}" for t in later))
    return child


def set_fonts(rpr: BaseOxmlElement, font: str, size: float | None = None) -> None:
    """Name one font for every script, and optionally its size in points."""
    # run.font.name sets only ascii and hAnsi: Chinese text would stay in the theme's font.
    set_child(rpr, "rFonts", RPR_ORDER, ascii=font, hAnsi=font, eastAsia=font, cs=font)
    if size is not None:
        for tag in ("sz", "szCs"):
            set_child(rpr, tag, RPR_ORDER, val=str(int(size * 2)))


def set_document_defaults(doc: Document, font: str, size: float) -> BaseOxmlElement:
    """Default run font, size and Chinese language; returns the default paragraph properties."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr, font, size)
    # 16 pt characters on a 15.79 pt pitch: condensed, so a full line holds 28 in Word, WPS and
    # LibreOffice alike (LibreOffice gives a character wider than a grid cell two cells).
    set_child(rpr, "spacing", RPR_ORDER, val=str(CONDENSE))
    set_child(rpr, "lang", RPR_ORDER, val="en-US", eastAsia="zh-CN", bidi="ar-SA")
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    # Text off the grid: the condensed spacing, not grid cells, sets the pitch.
    set_child(ppr, "snapToGrid", PPR_ORDER, val="0")
    return ppr


def paragraph_style(
    doc: Document, style_id: str, name: str, font: str, size: float, *,
    align: WD_ALIGN_PARAGRAPH | None = WD_ALIGN_PARAGRAPH.JUSTIFY, line_pt: float | None = LINE_PT,
    bold: bool = False, keep_next: bool = False, outline: int | None = None,
    based_on: str = "Normal",
) -> ParagraphStyle:
    """A named paragraph style with no space around it and, given line_pt, a fixed line height."""
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    # A fixed ASCII styleId: the generated one from a Chinese name differs between Word versions.
    style.element.set(qn("w:styleId"), style_id)
    style.base_style = doc.styles[based_on]
    style.quick_style = True
    set_fonts(style.element.get_or_add_rPr(), font, size)
    style.font.bold = bold
    pf = style.paragraph_format
    pf.alignment = align
    pf.space_before = pf.space_after = Pt(0)
    if line_pt is not None:
        pf.line_spacing = Pt(line_pt)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.keep_with_next = keep_next
    if outline is not None:
        set_child(style.element.get_or_add_pPr(), "outlineLvl", PPR_ORDER, val=str(outline))
    return style


def set_up_page(doc: Document, *, footer_mm: float) -> Section:
    """A4 with the GB/T 9704 margins, 22 lines a page, and odd/even headers and footers."""
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    # Type area 156 x 225 mm: top 37, bottom 35, left 28, right 26.
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance = Mm(15)
    # Where the page number's dashes land 7 mm under the type area depends on the footer style.
    section.footer_distance = Mm(footer_mm)
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    # A line grid, no character grid: LibreOffice lays a character grid out one cell short
    # (27 a line at any charSpace from -848 to -1024); 28 a line come from the condensed
    # spacing of set_document_defaults, the same in Word, WPS and LibreOffice.
    for attr in list(grid.attrib):
        del grid.attrib[attr]
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PT * 20)))
    # Odd pages number on the right, even pages on the left: two footers.
    doc.settings.odd_and_even_pages_header_footer = True
    return section


def _page_field(paragraph: Paragraph, kind: Literal["simple", "complex"]) -> None:
    """A PAGE field showing "1" until the page is laid out."""
    if kind == "simple":
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), " PAGE ")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        field.append(run)
        paragraph._p.append(field)
        return
    r = paragraph.add_run()._r
    for fld_type, instr in (("begin", None), ("instr", " PAGE "), ("separate", None),
                            ("text", "1"), ("end", None)):
        if fld_type == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = instr
        elif fld_type == "text":
            el = OxmlElement("w:t")
            el.text = instr
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), fld_type)
        r.append(el)


def page_number_footers(doc: Document, style: str, *, field: Literal["simple", "complex"]) -> None:
    """Page numbers "— 1 —": odd pages on the right, even on the left, one 4号 character in."""
    section = doc.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.style = doc.styles[style]
        p.alignment = align
        # 单页码居右空一字，双页码居左空一字 (one 4号 character: 14 pt).
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            p.paragraph_format.right_indent = Pt(14)
        else:
            p.paragraph_format.left_indent = Pt(14)
        p.add_run("— ")
        # The two builders write the field differently; python-docx reads only the complex one's
        # "1" as text, so each keeps its own and its golden snapshots stay as they are.
        _page_field(p, field)
        p.add_run(" —")


def header_text(doc: Document, style: str, text: str) -> None:
    """The same one-run text in the odd and even page headers."""
    section = doc.sections[0]
    for header in (section.header, section.even_page_header):
        header.is_linked_to_previous = False
        p = header.paragraphs[0]
        p.style = doc.styles[style]
        p.add_run(text)


def fixed_table(doc: Document, widths_mm: Sequence[float], rows: int = 0) -> Table:
    """A centred table of fixed column widths, which Word, WPS and LibreOffice all keep."""
    table = doc.add_table(rows=rows, cols=len(widths_mm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for index, width in enumerate(widths_mm):
        table.columns[index].width = Mm(width)
        for row in table.rows:
            row.cells[index].width = Mm(width)
    return table


def cell_text(cell: _Cell, text: str, style: str,
              align: WD_ALIGN_PARAGRAPH | None = None) -> Paragraph:
    """Put one run of text (a tag stays whole) into an empty cell, centred vertically."""
    p = cell.paragraphs[0]
    p.style = style
    if text:
        p.add_run(text)
    if align is not None:
        p.alignment = align
    cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
    return p


def keep_row_whole(row: _Row, *, repeat: bool = False) -> None:
    """Never split the row across pages; with repeat, it heads every page the table runs onto."""
    tr_pr = row._tr.get_or_add_trPr()
    set_child(tr_pr, "cantSplit", TRPR_ORDER)
    if repeat:
        set_child(tr_pr, "tblHeader", TRPR_ORDER)


# ---------------------------------------------------------------- GB/T 9704 7.3.5.1: 署名 over 成文日期

DATE_CHARS = 8
"""The width of a 成文日期 such as 2019年12月31日: digits are about half a character, and Word
and LibreOffice set a quarter space between a digit and a Chinese character."""
SIGN_BOX_CHARS = 20
"""The signature box: a sender of up to 20 characters stays on one line."""


def signature_box(ppr: BaseOxmlElement) -> None:
    """Centre a paragraph on the 成文日期's centre, the date ending four characters from the margin.

    The 发文机关署名 and the 成文日期 both carry this layout, so the sender stands centred over
    the date however a clerk rewords either; no runs of spaces position them.
    """
    centre = 4 + DATE_CHARS / 2  # characters from the right margin
    right = centre - SIGN_BOX_CHARS / 2
    left = CHARS_PER_LINE - centre - SIGN_BOX_CHARS / 2
    set_child(ppr, "ind", PPR_ORDER, left=str(round(left * CHAR_PT * 20)),
              right=str(round(right * CHAR_PT * 20)), firstLine="0")
    set_child(ppr, "jc", PPR_ORDER, val="center")


# ---------------------------------------------------------------- tables that split well


def keep_rows_together(table: Table, *, keep_last: bool = False) -> None:
    """Chain every row to the next, so a table that fits a page is never split.

    Word and LibreOffice split a chained table only when it is longer than a page; a header
    row marked to repeat then heads each page. keep_last chains the last row to what follows
    (a table that must stay with the next one).
    """
    rows = table.rows if keep_last else table.rows[:-1]
    for row in rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                p.paragraph_format.keep_with_next = True


def explicit_fonts(doc: Document, font: str) -> None:
    """No font taken from the theme: WPS asks for a missing font where Word reads the theme.

    python-docx's built-in styles (Heading 1, Title, ...) name theme fonts; each gets font by
    name for every script instead.
    """
    parts = [doc.styles.element, doc.element]
    for section in doc.sections:
        # a header linked to the previous one is not read: reading it would make one
        parts += [side._element for side in (section.header, section.footer, section.even_page_header,
                                             section.even_page_footer) if not side.is_linked_to_previous]
    themed = {f"w:{a}" for a in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme")}
    for part in parts:
        for fonts in part.iter(qn("w:rFonts")):
            if any(fonts.get(qn(a)) is not None for a in themed):
                for a in themed:
                    fonts.attrib.pop(qn(a), None)
                for script in ("ascii", "hAnsi", "eastAsia", "cs"):
                    fonts.set(qn(f"w:{script}"), fonts.get(qn(f"w:{script}")) or font)
