"""Build the Word templates of a community's packet (templates/docx/*.docx) with python-docx.

The templates carry docxtpl tags ({{ community.name }}, {%p if survey %}, {%tr for it in items %});
the fields they use are the render context of generator/documents/project.py. Run from the project root:

    python tools/make_templates.py            # writes templates/docx/
    python tools/make_templates.py OUT_DIR

Layout follows GB/T 9704-2012 (A4, type area 156 x 225 mm, 3号仿宋 body on a 28.95 pt line,
2号小标宋 title, 4号宋体 page numbers "— 1 —", odd pages right and even pages left). The fonts are
declared by their Windows names (仿宋_GB2312, 方正小标宋简体, 楷体_GB2312, 黑体, 宋体); where a font
is missing Word falls back to the altName declared in the font table and LibreOffice to fontconfig.
Every tag stands in one run, so Word never splits it; formats live in named paragraph styles
(公文正文, 公文标题, 一级标题, ...), so a clerk can reword a template in Word and keep its look.
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_ALIGN_VERTICAL, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Row
from docx.text.paragraph import Paragraph
from docx_layout import (
    FANGSONG,
    HEITI,
    KAITI,
    LINE_PT,
    PPR_ORDER,
    SONGTI,
    TBLPR_ORDER,
    TYPE_WIDTH_MM,
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

OUT_DIR = Path(__file__).resolve().parent.parent / "templates" / "docx"

# Word substitutes a missing font by the altName of its font-table entry; the GB2312-era names
# are absent from current Windows, whose 仿宋/楷体/宋体 are the usual stand-ins.
FONT_TABLE = {
    FANGSONG: ("仿宋", "02010609030101010101", "modern", "fixed"),
    XIAOBIAOSONG: ("宋体", "02000000000000000000", "auto", "variable"),
    KAITI: ("楷体", "02010609030101010101", "modern", "fixed"),
    HEITI: ("SimHei", "02010609060101010101", "modern", "fixed"),
    SONGTI: ("SimSun", "02010600030101010101", "auto", "variable"),
}

LINE = Pt(LINE_PT)
ILLUSTRATIVE_MARK = "【示例数据，仅供演示】"
RED = RGBColor(0xC0, 0x00, 0x00)


def declare_fonts(doc: DocumentObject) -> None:
    """Add the Chinese fonts to the font table with an altName Word falls back to."""
    part = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    xml = part.blob.decode("utf-8")
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:panose1 w:val="{panose}"/>'
        f'<w:charset w:val="86"/><w:family w:val="{family}"/><w:pitch w:val="{pitch}"/></w:font>'
        for name, (alt, panose, family, pitch) in FONT_TABLE.items()
    )
    part._blob = xml.replace("</w:fonts>", entries + "</w:fonts>").encode("utf-8")


# ---------------------------------------------------------------- styles


def add_style(
    doc: DocumentObject,
    style_id: str,
    name: str,
    *,
    font: str = FANGSONG,
    size: float = 16,
    align: WD_ALIGN_PARAGRAPH | None = WD_ALIGN_PARAGRAPH.JUSTIFY,
    line: float | None = LINE_PT,
    first_line_chars: int = 0,
    right_chars: int = 0,
    bold: bool = False,
    color: RGBColor | None = None,
    outline: int | None = None,
    keep_next: bool = False,
    space_after: Pt | None = None,
    space_before: Pt | None = None,
    based_on: str = "Normal",
):
    """A named paragraph style; sizes in points, indents in characters of the style's own size."""
    style = paragraph_style(doc, style_id, name, font, size, align=align, line_pt=line,
                            bold=bold, keep_next=keep_next, outline=outline, based_on=based_on)
    if color is not None:
        style.font.color.rgb = color
    pf = style.paragraph_format
    if space_before:
        pf.space_before = space_before
    if space_after:
        pf.space_after = space_after
    ppr = style.element.get_or_add_pPr()
    # A font bigger or smaller than the grid's would be pushed to grid cells: keep text off it.
    set_child(ppr, "snapToGrid", PPR_ORDER, val="0")
    unit = int(size * 20)
    set_child(
        ppr, "ind", PPR_ORDER,
        firstLine=str(first_line_chars * unit), firstLineChars=str(first_line_chars * 100),
        right=str(right_chars * unit), rightChars=str(right_chars * 100),
        left="0", leftChars="0",
    )
    return style


BODY = "公文正文"
TITLE = "公文标题"
H1 = "一级标题"
H2 = "二级标题"
ADDRESSEE = "主送机关"
SIGNATURE = "落款"
NOTE = "附注"
TABLE_TEXT = "表格文字"
TABLE_SMALL = "表格小字"
TABLE_HEAD = "表头"
TABLE_HEAD_SMALL = "表头小字"
MARK = "示例标记"
PAGE_NUMBER = "页码"
HEADER_MARK = "页眉标记"
FORM_LABEL = "表单栏目"


def define_styles(doc: DocumentObject) -> None:
    """Document defaults in 3号仿宋, and the named styles every template uses."""
    ppr = set_document_defaults(doc, FANGSONG, 16)
    set_child(ppr, "spacing", PPR_ORDER, after="0", line="240", lineRule="auto")
    set_fonts(doc.styles["Normal"].element.get_or_add_rPr(), FANGSONG, 16)
    for name in ("Header", "Footer"):
        set_fonts(doc.styles[name].element.get_or_add_rPr(), SONGTI)

    center, left = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT
    add_style(doc, "GongwenZhengwen", BODY, first_line_chars=2)
    add_style(doc, "GongwenBiaoti", TITLE, font=XIAOBIAOSONG, size=22, align=center,
              line=35, space_after=LINE)
    add_style(doc, "YijiBiaoti", H1, font=HEITI, first_line_chars=2, outline=0, keep_next=True)
    add_style(doc, "ErjiBiaoti", H2, font=KAITI, first_line_chars=2, outline=1, keep_next=True)
    add_style(doc, "ZhusongJiguan", ADDRESSEE)
    add_style(doc, "Luokuan", SIGNATURE, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)
    signature_box(doc.styles[SIGNATURE].element.get_or_add_pPr())
    add_style(doc, "Fuzhu", NOTE, first_line_chars=2)
    add_style(doc, "BiaogeWenzi", TABLE_TEXT, size=14, line=22, align=left)
    add_style(doc, "BiaogeXiaozi", TABLE_SMALL, size=12, line=18, align=left)
    add_style(doc, "Biaotou", TABLE_HEAD, font=HEITI, size=14, line=22, align=center)
    add_style(doc, "BiaotouXiaozi", TABLE_HEAD_SMALL, font=HEITI, size=12, line=18,
              align=center)
    add_style(doc, "ShiliBiaoji", MARK, font=HEITI, size=16, bold=True, color=RED, align=center)
    add_style(doc, "BiaodanLanmu", FORM_LABEL, font=HEITI, keep_next=True,
              space_before=Pt(8), align=left)
    add_style(doc, "Yema", PAGE_NUMBER, font=SONGTI, size=14, line=None, based_on="Footer")
    add_style(doc, "YemeiBiaoji", HEADER_MARK, font=HEITI, size=12, bold=True, color=RED,
              line=None, align=center, based_on="Header")


# ---------------------------------------------------------------- page, header and footers


def setup_page(doc: DocumentObject) -> None:
    """A4 with GB/T 9704 margins, odd and even page-number footers, the 示例 mark in the header."""
    # The page number's dashes stand 7 mm below the type area.
    set_up_page(doc, footer_mm=24)
    settings = doc.settings.element
    for el in settings.findall(qn("w:themeFontLang")):
        el.set(qn("w:eastAsia"), "zh-CN")
    for el in settings.findall(qn("w:characterSpacingControl")):
        el.set(qn("w:val"), "compressPunctuation")
    page_number_footers(doc, PAGE_NUMBER, field="complex")  # WPS shows a simple field as text
    header_text(doc, HEADER_MARK, "{% if illustrative %}" + ILLUSTRATIVE_MARK + "{% endif %}")


def new_document(kind_title: str) -> DocumentObject:
    """An empty template: styles, page, footers and document properties set."""
    doc = Document()
    body = doc.element.body
    for p in list(body.findall(qn("w:p"))):
        body.remove(p)
    declare_fonts(doc)
    define_styles(doc)
    setup_page(doc)
    # python-docx's default package carries a blank-page thumbnail (Explorer's preview) and a
    # Word 2010 copy of the old styles, which that version would read instead of ours.
    for rels, unwanted in ((doc.part.package.rels, "/thumbnail"),
                           (doc.part.rels, "/stylesWithEffects")):
        for rid in [rid for rid, rel in rels.items() if rel.reltype.endswith(unwanted)]:
            rels.pop(rid)
    props = doc.core_properties
    props.title = kind_title
    props.author = ""
    props.last_modified_by = ""
    props.comments = ""
    props.subject = ""
    props.keywords = ""
    props.category = ""
    props.language = "zh-CN"
    props.revision = 1
    return doc


# ---------------------------------------------------------------- content helpers


def para(container, text: str = "", style: str = BODY) -> Paragraph:
    """A paragraph of one run: static text and tags together, so no tag is ever split."""
    p = container.add_paragraph(style=style)
    if text:
        p.add_run(text)
    return p


def tag(container, text: str) -> Paragraph:
    """A paragraph holding one paragraph-level tag ({%p ... %}); docxtpl removes the paragraph."""
    return para(container, text, BODY)


def photo_block(doc: DocumentObject, name: str, lead: str, style: str = BODY) -> None:
    """A lead-in line and the table of photos the renderer lays out (nothing when there are none)."""
    tag(doc, f"{{%p if {name} %}}")
    para(doc, lead, style).paragraph_format.keep_with_next = True
    tag(doc, f"{{{{p {name} }}}}")
    tag(doc, "{%p endif %}")


def illustrative_mark(doc: DocumentObject) -> None:
    """The red 示例 line at the top of the first page, only for illustrative data."""
    tag(doc, "{%p if illustrative %}")
    para(doc, ILLUSTRATIVE_MARK, MARK)
    tag(doc, "{%p endif %}")


def titled_document(kind_title: str, title: str, *, mark: bool = True) -> DocumentObject:
    """A new template that opens with its title, under the 示例 line unless mark is off."""
    doc = new_document(kind_title)
    if mark:
        illustrative_mark(doc)
    # A long title breaks where the program chooses: between words, in balanced lines.
    para(doc, "{% filter title_lines %}" + title + "{% endfilter %}", TITLE)
    return doc


def ruled_table(doc: DocumentObject, widths_mm: Sequence[float]) -> Table:
    """An empty fixed-width table, centred, single-ruled, exactly as wide as the type area."""
    assert abs(sum(widths_mm) - TYPE_WIDTH_MM) < 0.01, widths_mm
    table = fixed_table(doc, widths_mm)
    tbl_pr = table._tbl.tblPr
    set_child(tbl_pr, "tblW", TBLPR_ORDER, w=str(int(TYPE_WIDTH_MM * 56.7)), type="dxa")
    borders = set_child(tbl_pr, "tblBorders", TBLPR_ORDER)
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        b = OxmlElement(f"w:{edge}")
        b.set(qn("w:val"), "single")
        b.set(qn("w:sz"), "6")
        b.set(qn("w:space"), "0")
        b.set(qn("w:color"), "000000")
        borders.append(b)
    set_child(tbl_pr, "tblLayout", TBLPR_ORDER, type="fixed")
    return table


def add_row(table: Table, texts: Sequence[str], style: str = TABLE_TEXT, *,
            height_mm: float | None = None, header: bool = False,
            aligns: Sequence[WD_ALIGN_PARAGRAPH | None] | None = None) -> _Row:
    """Append a row of one-run cells; a header row repeats on every page the table runs onto."""
    row = table.add_row()
    for i, (cell, text) in enumerate(zip(row.cells, texts, strict=True)):
        cell.width = table.columns[i].width
        cell_text(cell, text, style, aligns[i] if aligns else None)
    if height_mm:
        row.height = Mm(height_mm)
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    keep_row_whole(row, repeat=header)
    return row


def tag_row(table: Table, text: str) -> _Row:
    """A row holding one row-level tag ({%tr ... %}) in its first cell; docxtpl removes the row."""
    return add_row(table, [text] + [""] * (len(table.columns) - 1), TABLE_SMALL)


def keep_together(table: Table) -> None:
    """Keep a short table on one page: every paragraph but the last row's keeps with the next."""
    for row in table.rows[:-1]:
        for cell in row.cells:
            for p in cell.paragraphs:
                p.paragraph_format.keep_with_next = True


def sign_off(doc: DocumentObject, lines: Sequence[str], style: str) -> None:
    """A blank line, then the closing lines of a form or notice (who signs, when) in style."""
    para(doc)
    for text in lines:
        para(doc, text, style)


def signature(doc: DocumentObject, who: str, date: str) -> None:
    """The signing organisation and the date, right-aligned four characters from the edge.

    The last body paragraph keeps with them, so a page never holds the signature alone.
    """
    doc.paragraphs[-1].paragraph_format.keep_with_next = True
    for text, style in (("", BODY), ("", BODY), (who, SIGNATURE), (date, SIGNATURE)):
        para(doc, text, style).paragraph_format.keep_with_next = True


FACTS_WIDTHS = (29, 49, 29, 49)
"""A form's facts: label, value, label, value; a label holds five 4号 characters."""
C = WD_ALIGN_PARAGRAPH.CENTER
L = WD_ALIGN_PARAGRAPH.LEFT
R = WD_ALIGN_PARAGRAPH.RIGHT
FACTS_ALIGNS = (C, L, C, L)


def facts_table(doc: DocumentObject, rows: Sequence[Sequence[str]]) -> Table:
    """A form's facts in 10 mm rows; a row of one label and value spans the full width."""
    facts = ruled_table(doc, FACTS_WIDTHS)
    for texts in rows:
        row = add_row(facts, [*texts, "", ""][:4], height_mm=10, aligns=FACTS_ALIGNS)
        if len(texts) == 2:
            row.cells[1].merge(row.cells[3])
    return facts


BUILT = "{{ community.built }}{% if community.built[-1:] in '0123456789' %}年{% endif %}"
"""建成时间 as written in the plan ("1970", "1980年代", "1985—2000"), with 年 after a bare year."""

FACTS_SENTENCE = (
    "{{ community.name }}位于{{ district.name }}"
    "{% if community.location %}{{ community.location }}{% endif %}"
    "{% if community.built %}，建成于" + BUILT + "{% endif %}"
    "，共有住户{{ community.households }}户"
    "{% if buildings %}、楼栋{{ buildings|length }}栋{% endif %}"
    "，属{{ street_office }}{{ community_committee }}辖区。"
)

PROBLEM = "{{ loop.index }}.{{ p|trim('。；') }}。"
"""One problem of the community, numbered, as a sentence however the data ends it."""

SURVEY_SENTENCE = (
    "{{ survey.date|cn_date }}，社区居民委员会组织开展居民意见征询，共征询{{ survey.asked }}户，"
    "同意{{ survey.support }}户，反对{{ survey.oppose }}户，未表态{{ survey.no_answer }}户，"
    "居民支持率{{ survey.rate|percent }}"
    "{% if support_ok %}"
    "，达到居民支持率不低于{{ programme.min_support_percent }}%的要求"
    "{% endif %}。"
)


# ---------------------------------------------------------------- 居民意见征询表


def fresh_sheet(doc: DocumentObject) -> Paragraph:
    """An empty paragraph ending a section: what follows starts on an odd page, numbered from 1,
    so each household's form begins on a sheet of its own however the pages are printed."""
    p = para(doc, "", NOTE)
    sect = copy.deepcopy(doc.sections[0]._sectPr)
    # (The survey form has no headers or footers, so its sections are cheap to lay out.)
    for child in sect.findall(qn("w:type")):
        sect.remove(child)
    kind = OxmlElement("w:type")
    kind.set(qn("w:val"), "oddPage")
    refs = len(sect.findall(qn("w:headerReference"))) + len(sect.findall(qn("w:footerReference")))
    sect.insert(refs, kind)
    numbering = sect.find(qn("w:pgNumType"))
    if numbering is None:
        numbering = OxmlElement("w:pgNumType")
        sect.find(qn("w:pgMar")).addnext(numbering)
    numbering.set(qn("w:start"), "1")
    p._p.get_or_add_pPr().append(sect)
    return p


BOX = "□"
"""The check box: U+25A1, which every Chinese font has (☐ U+2610 is in none: LibreOffice then looks
for it in the symbol fonts glyph by glyph, which took 40 % of a form's conversion)."""
SURVEY_QUESTIONS = tuple(q.replace("☐", BOX) for q in (
    "1.是否同意本小区实施老旧小区改造：☐同意　☐不同意　☐暂不表态",
    "2.是否愿意按改造方案分担居民应承担的费用：☐愿意　☐不愿意",
    "3.改造后小区的管理方式：☐专业化物业管理　☐业主自治管理",
    "4.是否同意建立小区专项维修资金：☐同意　☐不同意",
))


def without_headers(doc: DocumentObject) -> None:
    """No headers or footers: a form of one sheet needs no page number, and LibreOffice lays out
    a section that has them (one per household form) about twice as slowly."""
    section = doc.sections[0]
    for part in (section.header, section.even_page_header, section.footer, section.even_page_footer):
        part.is_linked_to_previous = True
    settings = doc.settings.element
    for el in settings.findall(qn("w:evenAndOddHeaders")):
        settings.remove(el)


def survey_form() -> DocumentObject:
    # One form per household of the roster (or blank ones), each starting on a sheet of its own.
    doc = new_document("居民意见征询表")
    without_headers(doc)
    # The catalogue's table is the same on every form: rendered once, printed in each.
    tag(doc, "{%p set catalogue_table %}")
    options = ruled_table(doc, [30, 44, 82])
    add_row(options, ["类别", "改造项目", "改造标准"], TABLE_HEAD_SMALL, header=True)
    tag_row(options, "{%tr for cat in catalogue %}")
    tag_row(options, "{%tr for e in cat.entries %}")
    row = add_row(options, ["{% vm %}{{ cat.name }}", BOX + " {{ e.name }}", "{{ e.standard or '' }}"],
                  TABLE_SMALL, aligns=[C, L, L])
    # docxtpl writes w:vMerge last in the cell's properties, where no w:vAlign may precede it.
    tc_pr = row.cells[0]._tc.get_or_add_tcPr()
    tc_pr.remove(tc_pr.find(qn("w:vAlign")))
    tag_row(options, "{%tr endfor %}")
    tag_row(options, "{%tr endfor %}")

    tag(doc, "{%p endset %}")
    tag(doc, "{%p for h in households %}")
    tag(doc, "{%p if illustrative %}")
    para(doc, ILLUSTRATIVE_MARK, HEADER_MARK)  # in the header on the other papers
    tag(doc, "{%p endif %}")
    para(doc, "{% filter title_lines %}{{ community.name }}老旧小区改造入户意见征询表{% endfilter %}", TITLE)
    facts = facts_table(doc, [
        ("小区名称", "{{ community.name }}"
                     "{% if community.location %}（{{ community.location }}）{% endif %}"),
        ("住　　址", "{{ h.address }}"),
        ("户主姓名", "{{ h.head }}", "联系电话", "{{ h.phone }}"),
        ("建筑面积", "{% if h.area %}{{ h.area }}㎡{% endif %}", "产权类型", "{{ h.tenure or '' }}"),
    ])
    add_row(facts, ["表格编号", "{{ community.id }}-{{ '%04d'|format(h.no) }}", "所属社区",
                    "{{ community_committee }}"], height_mm=10, aligns=FACTS_ALIGNS)
    para(doc, "{{ basis.text.survey }}，本小区列入{{ community.year }}年老旧小区改造计划，"
              "改造内容由居民对照项目分类表自主选择，居民支持率不低于"
              "{{ programme.min_support_percent }}%方可申请实施。一般改造项目的费用由"
              "{{ programme.parties.city }}、{{ programme.parties.district }}和"
              "{{ programme.parties.residents }}按{{ programme.general_ratio }}的比例分担，"
              "请您逐项选择后签字。", TABLE_TEXT).paragraph_format.first_line_indent = Pt(28)

    para(doc, f"一、希望改造的项目（可多选，在“{BOX}”内打“√”）", FORM_LABEL)
    tag(doc, "{{p catalogue_table }}")
    para(doc, "二、意见", FORM_LABEL)
    for text in SURVEY_QUESTIONS:
        para(doc, text, TABLE_TEXT)
    para(doc, "5.其他意见或建议：", TABLE_TEXT)
    remarks = ruled_table(doc, [156])
    add_row(remarks, [""], height_mm=14)
    keep_together(remarks)
    para(doc, "户主（家庭成员）签字：______________　日期：____年__月__日", TABLE_TEXT)
    para(doc, "入户征询人员签字：　　______________　日期：____年__月__日", TABLE_TEXT)
    para(doc, "本表一户一份，由{{ street_office }}{{ community_committee }}入户征询后收回统计，"
              "住户信息仅用于本次征询，不对外公开。", TABLE_SMALL)
    tag(doc, "{%p if not loop.last %}")
    fresh_sheet(doc)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    return doc


# ---------------------------------------------------------------- 意见征询结果汇总表


PCT = "{{ X.rate|percent if X.rate is not none else '—' }}"
AREA = "{{ X.area|yuan if X.area is not none else '—' }}"
AREA_PCT = "{{ X.area_rate|percent if X.area_rate is not none else '—' }}"
TALLY_COLUMNS = (
    ("楼栋", 20), ("户数", 14), ("同意", 14), ("不同意", 15), ("未表态", 15), ("未征询", 15),
    ("支持率", 20), ("建筑面积（㎡）", 23), ("面积支持率", 20),
)


def _tally_cells(x: str) -> list[str]:
    return [f"{{{{ {x}.name }}}}", f"{{{{ {x}.households }}}}", f"{{{{ {x}.support }}}}",
            f"{{{{ {x}.oppose }}}}", f"{{{{ {x}.no_answer }}}}", f"{{{{ {x}.not_asked }}}}",
            PCT.replace("X", x), AREA.replace("X", x), AREA_PCT.replace("X", x)]


def survey_tally() -> DocumentObject:
    doc = titled_document("意见征询结果汇总表", "{{ community.name }}老旧小区改造居民意见征询结果汇总表")
    facts_table(doc, [
        ("小区名称", "{{ community.name }}", "县（区）", "{{ district.name }}"),
        ("街道（镇）", "{{ street_office }}", "所属社区", "{{ community_committee }}"),
        ("总户数", "{{ community.households }}户", "楼栋数", "{{ tally.buildings|length }}栋"),
        ("征询时间", "{% if tally.first_date %}{{ tally.first_date|cn_date }}至"
                     "{{ tally.last_date|cn_date }}{% endif %}"),
    ])
    para(doc, "一、按楼栋汇总", FORM_LABEL)
    table = ruled_table(doc, [w for _, w in TALLY_COLUMNS])
    add_row(table, [h for h, _ in TALLY_COLUMNS], TABLE_HEAD_SMALL, header=True, height_mm=9)
    tag_row(table, "{%tr for b in tally.buildings %}")
    add_row(table, _tally_cells("b"), TABLE_SMALL, aligns=[C] * 9)
    tag_row(table, "{%tr endfor %}")
    add_row(table, _tally_cells("tally.total"), TABLE_SMALL, aligns=[C] * 9)
    para(doc, "小区共{{ tally.total.households }}户，征询{{ tally.total.asked }}户，"
              "同意{{ tally.total.support }}户，不同意{{ tally.total.oppose }}户，"
              "未表态{{ tally.total.no_answer }}户，按户数计居民支持率"
              "{{ tally.total.rate|percent }}"
              "{% if tally.has_area %}，按建筑面积计{{ tally.total.area_rate|percent }}{% endif %}；"
              "{% if tally.passed %}达到{% else %}未达到{% endif %}居民支持率不低于"
              "{{ tally.min_percent }}%{% if tally.min_area_percent %}、按建筑面积计不低于"
              "{{ tally.min_area_percent }}%{% endif %}的要求。"
              "愿意分担居民应承担费用的{{ tally.pays }}户；"
              "{% for m in tally.modes %}选择{{ m.name }}的{{ m.count }}户"
              "{% if not loop.last %}、{% endif %}{% endfor %}；"
              "同意建立专项维修资金的{{ tally.fund }}户。", TABLE_TEXT
         ).paragraph_format.first_line_indent = Pt(28)
    # The ranked items (at most the catalogue's 19) fit a page: kept whole, under their heading.
    para(doc, "二、居民希望改造的项目（按户数排列）", FORM_LABEL).paragraph_format.keep_with_next = True
    items = ruled_table(doc, [14, 50, 30, 62])
    add_row(items, ["序号", "改造项目", "希望改造户数", "占征询户数比例"], TABLE_HEAD_SMALL, header=True,
            height_mm=9)
    tag_row(items, "{%tr for it in tally.wanted %}")
    add_row(items, ["{{ it.no }}", "{{ it.name }}", "{{ it.count }}",
                    "{{ it.share|percent if it.share is not none else '—' }}"], TABLE_SMALL,
            aligns=[C, L, C, C])
    tag_row(items, "{%tr endfor %}")
    keep_rows_together(items)
    para(doc, "本表根据入户意见征询表逐户统计，征询表原件由社区居民委员会存档备查。", NOTE)
    sign_off(doc, ["社区居民委员会（盖章）：{{ community_committee }}",
                   "负责人（签字）：__________　统计人（签字）：__________",
                   "日期：____年__月__日"], ADDRESSEE)
    return doc


# ---------------------------------------------------------------- 改造申请书（请示）


def application() -> DocumentObject:
    doc = titled_document("改造申请书", "关于申请对{{ community.name }}实施老旧小区改造的请示")
    para(doc, "{{ street_office }}：", ADDRESSEE)
    para(doc, FACTS_SENTENCE + "小区{{ basis.listing }}，"
              "预计投资{{ community.investment_wan|wan }}万元。")
    para(doc, "{{ eligibility.built }}{{ eligibility.housing }}")
    tag(doc, "{%p if problems %}")
    para(doc, "{% if eligibility.old %}小区建成时间较长，{% endif %}"
              "基础配套设施不完善，居住环境较差，目前主要存在以下问题：")
    tag(doc, "{%p for p in problems %}")
    para(doc, PROBLEM)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    photo_block(doc, "photos.situation", "小区现状照片如下：")
    tag(doc, "{%p if survey %}")
    para(doc, SURVEY_SENTENCE)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if items %}")
    para(doc, "经居民共同商议，拟申请实施以下改造项目："
              "{% for c in categories %}{{ c.name }}"
              "（{{ c.entries|map(attribute='item')|join('、') }}）"
              "{% if not loop.last %}；{% endif %}{% endfor %}，"
              "预算投资{{ funding.total|yuan_as_wan }}万元。")
    tag(doc, "{%p else %}")
    para(doc, "具体改造内容将由居民对照《老旧小区改造提升项目分类表》自主选择，"
              "在方案编制阶段确定。")
    tag(doc, "{%p endif %}")
    para(doc, "为改善小区居住条件、提升居住品质，{{ community_committee }}代表小区居民"
              "申请对本小区实施老旧小区改造，恳请予以支持，并组织开展方案设计、造价咨询等工作。")
    para(doc, "妥否，请批示。")
    tag(doc, "{%p if attachments %}")
    para(doc)
    tag(doc, "{%p for a in attachments %}")
    para(doc, "{% if loop.first %}附件：{% else %}　　　{% endif %}"
              "{% if loop.length > 1 %}{{ loop.index }}.{% endif %}{{ a }}", NOTE)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    signature(doc, "{{ community_committee }}", "{{ dates.application|cn_date }}")
    para(doc, "（联系人：{% if committee_contact %}{{ committee_contact.person }}，联系电话："
              "{{ committee_contact.phone|whole }}{% else %}________，联系电话：________{% endif %}）",
         NOTE)
    return doc


# ---------------------------------------------------------------- 改造方案


def plan() -> DocumentObject:
    doc = titled_document("改造方案", "{{ community.name }}老旧小区改造方案")
    para(doc, "{{ basis.text.plan }}，结合小区实际和居民意愿，制定本方案。")

    para(doc, "一、基本情况", H1)
    para(doc, FACTS_SENTENCE + "小区列入{{ community.year }}年改造计划，"
              "计划投资{{ community.investment_wan|wan }}万元。")
    tag(doc, "{%p if problems %}")
    para(doc, "小区现状主要存在以下问题：")
    tag(doc, "{%p for p in problems %}")
    para(doc, PROBLEM)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if survey %}")
    para(doc, SURVEY_SENTENCE)
    tag(doc, "{%p endif %}")
    photo_block(doc, "photos.situation", "小区现状照片如下：")

    para(doc, "二、设计方案", H1)
    tag(doc, "{%p if items %}")
    para(doc, "根据居民意见征询结果，对照《老旧小区改造提升项目分类表》，本小区实施以下"
              "{{ items|length }}项改造：")
    design = ruled_table(doc, [13, 18, 22, 39, 32, 32])
    add_row(design, ["序号", "类别", "改造项目", "改造内容", "标准", "工程内容"], TABLE_HEAD_SMALL,
            header=True)
    tag_row(design, "{%tr for it in items %}")
    add_row(design, ["{{ it.no }}", "{{ it.category }}", "{{ it.item }}", "{{ it.content }}",
                     "{{ it.standard|or_fill }}", "{{ it.description }}"], TABLE_SMALL,
            aligns=[C, C, C, L, L, L])
    tag_row(design, "{%tr endfor %}")
    tag(doc, "{%p else %}")
    para(doc, "改造项目由居民对照《老旧小区改造提升项目分类表》自主选择，待居民意见征询后确定。")
    tag(doc, "{%p endif %}")

    para(doc, "三、工程预算", H1)
    tag(doc, "{%p if funding %}")
    para(doc, "经造价咨询，本项目工程预算总额{{ funding.total|yuan }}元"
              "（{{ funding.total|yuan_as_wan }}万元，大写人民币{{ funding.total|daxie }}），"
              "分类如下：")
    budget = ruled_table(doc, [14, 36, 62, 44])
    add_row(budget, ["序号", "类别", "改造项目", "金额（元）"], TABLE_HEAD, header=True)
    tag_row(budget, "{%tr for c in categories %}")
    add_row(budget, ["{{ loop.index }}", "{{ c.name }}",
                     "{{ c.entries|map(attribute='item')|join('、') }}", "{{ c.amount|yuan }}"],
            aligns=[C, L, L, R])
    tag_row(budget, "{%tr endfor %}")
    row = add_row(budget, ["合计", "", "", "{{ funding.total|yuan }}"], TABLE_HEAD,
                  aligns=[C, C, C, R])
    row.cells[0].merge(row.cells[2])
    tag(doc, "{%p else %}")
    para(doc, "工程预算待改造项目确定后由造价咨询单位编制；年度实施计划预计投资"
              "{{ community.investment_wan|wan }}万元。")
    tag(doc, "{%p endif %}")

    para(doc, "四、资金筹集方案", H1)
    para(doc, "按照政府主导、社会参与、居民共担的原则，一般改造项目由{{ programme.parties.city }}、"
              "{{ programme.parties.district }}和{{ programme.parties.residents }}按"
              "{{ programme.general_ratio }}的比例共同承担；"
              "水、电、气、通讯等管线表（箱）前段改造费用由{{ programme.parties.utility }}和"
              "{{ district.government }}按{{ programme.pipeline_ratio }}的比例承担，"
              "表（箱）后段改造费用由居民自行承担。")
    tag(doc, "{%p if funding %}")
    para(doc, "本项目资金筹集如下：")
    money = ruled_table(doc, [12, 30, 34, 58, 22])
    add_row(money, ["序号", "出资方", "金额（元）", "计算方法", "占比"], TABLE_HEAD_SMALL, header=True)
    tag_row(money, "{%tr for r in funding.rows %}")
    add_row(money, ["{{ loop.index }}", "{{ r.party }}", "{{ r.amount|yuan }}",
                    "{{ funding_how[r.key] }}", "{{ r.share|percent }}"], TABLE_SMALL,
            aligns=[C, L, R, L, R])
    tag_row(money, "{%tr endfor %}")
    row = add_row(money, ["合计", "", "{{ funding.total|yuan }}", "", "100%"], TABLE_HEAD_SMALL,
                  aligns=[C, C, R, C, R])
    row.cells[0].merge(row.cells[1])
    # Which items follow which rule, then why the shares are not the general ratio.
    tag(doc, "{%p for t in funding_text[:-1] %}")
    para(doc, "{{ t }}")
    tag(doc, "{%p endfor %}")
    para(doc, "{{ share_note }}")
    para(doc, "{{ programme.parties.residents }}出资{{ funding.residents|yuan }}元，"
              "按{{ funding.households }}户计算，户均{{ funding.per_household|yuan }}元。")
    tag(doc, "{%p endif %}")

    para(doc, "五、长效管理机制", H1)
    para(doc, "（一）自治组织", H2)
    para(doc, "{% if management.body %}"
              "小区已成立{{ management.body }}（{{ management.body_name }}），"
              "负责改造后小区的日常管理和维护。"
              "{% else %}"
              "{{ street_office }}、{{ community_committee }}推动成立业主委员会或居民自治小组，"
              "负责改造后小区的日常管理和维护。"
              "{% endif %}")
    para(doc, "（二）物业管理", H2)
    para(doc, "{% if management.property_mode == '专业化物业管理' %}小区引入专业化物业管理"
              "{% if management.property_company %}，"
              "物业服务企业为{{ management.property_company }}{% endif %}。"
              "{% elif management.property_mode %}小区实行业主自治管理。"
              "{% else %}鼓励并指导小区引入专业化物业管理或实行业主自治管理。{% endif %}"
              "健全小区各项管理制度，保障改造成果。")
    para(doc, "（三）维修资金", H2)
    para(doc, "{% if management.maintenance_fund %}小区已建立房屋专项维修资金，已归集"
              "{{ management.maintenance_fund_amount|yuan }}元，为后续维修提供资金保障。"
              "{% else %}加强宣传指导，建立、归集房屋专项维修资金，为后续维修提供资金保障。"
              "{% endif %}")

    para(doc, "六、实施计划", H1)
    para(doc, "（一）实施时间", H2)
    para(doc, "计划于{{ dates.start|cn_date }}开工，{{ dates.completion|cn_date }}完工。")
    para(doc, "（二）参建单位", H2)
    para(doc, "项目业主单位：{{ street_office }}")
    para(doc, "设计单位：{{ units.design }}")
    para(doc, "造价咨询单位：{{ units.cost_consulting }}")
    para(doc, "施工单位：{{ units.construction }}")
    para(doc, "监理单位：{{ units.supervision }}")
    para(doc, "（三）组织实施", H2)
    para(doc, "本方案经居民公示确认后组织实施。涉及水、电、气、通讯等管线改造的，"
              "由管线单位按照已认定的方案组织设计、施工。"
              "项目完工后，由{{ street_office }}组织竣工验收。")
    signature(doc, "{{ street_office }}", "{{ dates.plan|cn_date }}")
    return doc


# ---------------------------------------------------------------- 改造方案公示


NOTICE_BODY = "公示正文"


def notice() -> DocumentObject:
    # Posted on one A4 sheet: the 示例 mark stands in the header only, amounts are in 万元.
    doc = titled_document("改造方案公示", "{{ community.name }}老旧小区改造方案公示", mark=False)
    # What a notice must say fills more than 22 lines of 3号: posted, it is set in 4号.
    add_style(doc, "GongshiZhengwen", NOTICE_BODY, size=14, first_line_chars=2, line=22)
    para(doc, "现将本小区老旧小区改造方案的主要内容公示如下：", NOTICE_BODY)
    para(doc, "一、改造项目：{% if items %}{% for it in items %}{{ it.item }}{{ it.wan|wan(2) }}万元"
              "{% if not loop.last %}、{% endif %}{% endfor %}，共{{ items|length }}项。"
              "{% else %}________{% endif %}", NOTICE_BODY)
    para(doc, "二、资金筹集：{% if funding %}预算总投资{{ funding.total|yuan_as_wan }}万元，其中"
              "{% for r in funding.rows %}{{ r.party }}{{ r.wan|wan(2) }}万元"
              "（{{ r.share|percent }}）{% if not loop.last %}、{% endif %}{% endfor %}；"
              "居民户均出资{{ funding.per_household|yuan }}元。{{ funding_brief }}"
              "{% else %}________{% endif %}", NOTICE_BODY)
    para(doc, "三、实施安排：施工单位{{ units.construction|or_fill }}，"
              "监理单位{{ units.supervision|or_fill }}；计划于{{ dates.start|cn_date }}开工，"
              "{{ dates.completion|cn_date }}完工。", NOTICE_BODY)
    para(doc, "四、居民意见：{% if survey %}征询{{ survey.asked }}户，"
              "同意{{ survey.support }}户，支持率{{ survey.rate|percent }}。"
              "{% else %}________{% endif %}"
              "长效管理：{% if management.body %}{{ management.body }}"
              "{% else %}推动成立业主委员会或居民自治小组{% endif %}负责日常管理，"
              "{% if management.property_mode == '专业化物业管理' %}引入专业化物业管理"
              "{% elif management.property_mode %}实行业主自治管理"
              "{% else %}明确物业管理方式{% endif %}，"
              "{% if management.maintenance_fund %}已建立{% else %}建立{% endif %}房屋专项维修资金。", NOTICE_BODY)
    para(doc, "五、公示期{{ dates.notice_start|cn_date }}至{{ dates.notice_end|cn_date }}"
              "{% if contact %}，公示地点：{{ contact.notice_place }}{% endif %}。"
              "如有意见或建议，请于{{ dates.notice_end|cn_date }}前"
              "{% if contact %}向{{ contact.objection_to }}反映（联系人：{{ contact.person }}，"
              "电话：{{ contact.phone|whole }}）{% else %}向________反映（联系人：________，"
              "电话：________）{% endif %}，逾期视为无异议。", NOTICE_BODY)
    for text in ("{{ street_office }}", "{{ dates.notice_start|cn_date }}"):
        para(doc, text, SIGNATURE).paragraph_format.keep_with_next = True
    return doc


# ---------------------------------------------------------------- 竣工验收表


def acceptance() -> DocumentObject:
    doc = titled_document("竣工验收表", "{{ community.name }}老旧小区改造工程竣工验收表")

    facts_table(doc, [
        ("小区名称", "{{ community.name }}", "县（区）", "{{ district.name }}"),
        ("项目业主", "{{ street_office }}", "所属社区", "{{ community_committee }}"),
        ("改造户数", "{{ community.households }}户", "工程投资",
         "{% if funding %}{{ funding.total|yuan }}元{% else %}________{% endif %}"),
        ("设计单位", "{{ units.design }}", "造价咨询", "{{ units.cost_consulting }}"),
        ("施工单位", "{{ units.construction }}", "监理单位", "{{ units.supervision }}"),
        ("开工日期", "{{ dates.start|cn_date }}", "完工日期", "{{ dates.completion|cn_date }}"),
        ("验收日期", "{{ dates.acceptance|cn_date }}", "结算金额",
         "{% if acceptance and acceptance.settlement is not none %}"
         "{{ acceptance.settlement|yuan }}元{% else %}________元{% endif %}"),
    ])

    para(doc, "一、分项验收", FORM_LABEL)
    results = ruled_table(doc, [14, 30, 56, 24, 32])
    add_row(results, ["序号", "改造项目", "验收标准", "验收结果", "备注"], TABLE_HEAD_SMALL,
            header=True, height_mm=9)
    tag_row(results, "{%tr for it in items %}")
    add_row(results, ["{{ it.no }}", "{{ it.item }}", "{{ it.standard|or_fill }}",
                      "{{ it.result }}", "{{ it.remarks or '' }}"], TABLE_SMALL, height_mm=9,
            aligns=[C, C, L, C, L])
    tag_row(results, "{%tr endfor %}")
    # With no budget lines yet the form still prints, with empty rows to fill in by hand.
    tag_row(results, "{%tr for n in range(0 if items else 8) %}")
    add_row(results, ["", "", "", "", ""], TABLE_SMALL, height_mm=9)
    tag_row(results, "{%tr endfor %}")
    tag(doc, "{%p if acceptance %}")
    para(doc, "分项验收共{{ acceptance.total }}项，合格{{ acceptance.passed }}项"
              "{% if acceptance.failed %}，不合格{{ acceptance.failed|length }}项"
              "（{{ acceptance.failed|join('、') }}）{% endif %}。", NOTE)
    tag(doc, "{%p endif %}")

    # The conclusion, the panel's heading and its signatures make one block that moves to a new
    # page whole when it does not fit under the item results.
    para(doc, "二、验收结论", FORM_LABEL).paragraph_format.keep_with_next = True
    verdict = ruled_table(doc, [36, 120])
    add_row(verdict, ["结论", "{% if acceptance %}{{ acceptance.verdict }}{% else %}"
                      "□通过验收　□整改后复验{% endif %}"], height_mm=10, aligns=[C, L])
    row = add_row(verdict, ["验收意见", "{% if acceptance %}{{ acceptance.conclusion }}{% endif %}"],
                  height_mm=20, aligns=[C, L])
    row.cells[1].vertical_alignment = WD_ALIGN_VERTICAL.TOP
    add_row(verdict, ["遗留问题", "{% if acceptance and acceptance.remaining_issues %}"
                      "{{ acceptance.remaining_issues }}{% endif %}"], height_mm=14, aligns=[C, L])
    add_row(verdict, ["整改期限", "{% if acceptance and acceptance.failed %}"
                      "{% if acceptance.rectification_deadline %}"
                      "{{ acceptance.rectification_deadline|cn_date }}前整改完毕{% else %}"
                      "____年__月__日前整改完毕{% endif %}"
                      "{% elif acceptance %}无{% endif %}"], height_mm=10, aligns=[C, L])
    tag_row(verdict, "{%tr if acceptance and acceptance.rectification %}")
    add_row(verdict, ["整改复验", "{{ acceptance.rectification.date|cn_date }}复验："
                      "{{ acceptance.rectification.note }}"], height_mm=10, aligns=[C, L])
    tag_row(verdict, "{%tr endif %}")
    keep_rows_together(verdict, keep_last=True)  # the conclusion and the signatures: one page

    para(doc, "三、验收组成员", FORM_LABEL).paragraph_format.keep_with_next = True
    # Two bodies a row, so that the panel fits on the conclusion's page; all sign on the day.
    panel = ruled_table(doc, [42, 36, 42, 36])
    add_row(panel, ["验收单位", "签字（盖章）", "验收单位", "签字（盖章）"], TABLE_HEAD, header=True,
            height_mm=9)
    tag_row(panel, "{%tr for pair in signatories|batch(2) %}")
    row = add_row(panel, ["{{ pair[0].role }}", "", "{% if pair|length > 1 %}{{ pair[1].role }}{% endif %}",
                          ""], TABLE_SMALL, height_mm=13, aligns=[L, L, L, L])
    row.cells[0].add_paragraph("{{ pair[0].name }}", TABLE_SMALL)
    row.cells[2].add_paragraph("{% if pair|length > 1 %}{{ pair[1].name }}{% endif %}", TABLE_SMALL)
    tag_row(panel, "{%tr endfor %}")
    keep_rows_together(panel)
    para(doc, "验收日期：{% if dates.acceptance %}{{ dates.acceptance|cn_date }}"
              "{% else %}____年__月__日{% endif %}", TABLE_TEXT)
    photo_block(doc, "photos.completed", "四、改造后照片", FORM_LABEL)
    return doc


SHORT_LOOPS = ("categories", "funding.rows")
"""Lists of a few rows (budget categories, paying parties): their tables are kept whole."""


def keep_tables_whole(doc: DocumentObject) -> None:
    """Short tables kept on one page; a table of line items splits under its repeated header."""
    for table in doc.tables:
        loops = [c.text for c in table.column_cells(0) if c.text.startswith("{%tr for")]
        if len(table.rows) <= 8 and all(any(f" in {name} " in loop for name in SHORT_LOOPS)
                                        for loop in loops):
            keep_rows_together(table)


TEMPLATES = {
    "survey_form.docx": survey_form,
    "survey_tally.docx": survey_tally,
    "application.docx": application,
    "plan.docx": plan,
    "notice.docx": notice,
    "acceptance.docx": acceptance,
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=OUT_DIR, help="输出目录")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in TEMPLATES.items():
        path = args.out / name
        doc = build()
        keep_tables_whole(doc)
        explicit_fonts(doc, FANGSONG)
        doc.save(str(path))
        print(path)


if __name__ == "__main__":
    main()
