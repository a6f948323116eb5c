"""The city's two computed workbooks: the annual plan table (annex 1) and the annual assessment."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference, Series
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.drawing.text import Font as TypeFace
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from generator.data.loader import DataSet
from generator.documents.figures import DIMENSIONS, assessment_rows, weights, year_figures
from generator.render.env import xml_safe
from generator.render.formulas import cached
from generator.render.xlsx import explicit_fonts
from generator.render.ziputil import normalize_zip

# ---------------------------------------------------------------- labels (change wording here)

ANNEX_MARK = "附件1"
PLAN_SHEET = "年度实施计划表"
PLAN_TITLE = "老旧小区改造年度实施计划表"
PLAN_HEADERS = ("序号", "老旧小区名称", "县(区)", "建成时间", "小区位置", "户数",
                "预计投资(万元)", "改造年度计划", "备注")
PLAN_WIDTHS = (6, 30, 11, 12, 34, 9, 16, 13, 16)
"""预计投资(万元) and 改造年度计划 stand on one line each: a header broken before its ) reads badly."""
YEAR_CELL = "{year}年\n(共{count}个)"
SUBTOTAL = "合计"
GRAND_TOTAL = "总计"
REPLACES_NOTE = "替换原计划项目“{name}”"
PLAN_FOOTNOTE = ("备注：各县（区）在工作推进过程中可根据居民支持率等实际情况，对计划项目进行调整，"
                 "但计划项目个数不变")

SUMMARY_SHEET = "分县（区）汇总"
SUMMARY_TITLE = "老旧小区改造计划分县（区）汇总"
SUMMARY_NOTE = ("“附件1合计”由公式对“年度实施计划表”逐行汇总；“方案正文所述”摘自方案“一、基本情况”"
                "和“二、工作目标”；差异＝附件1合计－方案正文，不为0处标红。")
SUMMARY_GROUPS = ("附件1合计", "方案正文所述", "差异（附件1－正文）")
SUMMARY_FIELDS = ("小区个数", "户数", "预计投资(万元)")
SUMMARY_YEAR_TITLE = "分年度汇总"
SUMMARY_YEAR_GROUPS = ("附件1合计", "方案目标", "差异（附件1－目标）")
YEAR_LABEL = "{year}年"
PILOT_MARK = "{year}年（试点）"
APPROX_YI = "约{value}亿元"
NO_TARGET = "—"

ASSESS_SHEET = "综合考评"
CHARTS_SHEET = "附图"
PLAN_CHARTS_TITLE = "老旧小区改造计划分县（区）图表"
ASSESS_CHARTS_TITLE = "{year}年度老旧小区改造综合考评图表"
PLAN_CHARTS_NOTE = (f"图中数字取自“{SUMMARY_SHEET}”表的“附件1合计”和“方案正文所述”，"
                    "表中数字改动后图表随之更新。")
ASSESS_CHARTS_NOTE = (f"图中数字取自“{ASSESS_SHEET}”表的总分和各项完成率，表中数字改动后图表随之更新；"
                      "标“无数据”的县（区）在图中没有柱形。")
PLAN_CHARTS = (("各县（区）改造户数：附件1合计与方案正文", "户", 4, 7),
               ("各县（区）预计投资：附件1合计与方案正文", "万元", 5, 8))
"""Each chart of the summary sheet: title, unit, then the columns of its two series (D/G, E/H)."""
SCORE_CHART = "各县（区）综合考评总分"
RATE_CHART = "各县（区）各项完成率"
RATE_AXIS = "完成率"

ASSESS_TITLE = "{year}年度老旧小区改造综合考评表"
ASSESS_BASIS = ("依据《{title}》（{number}）九（四）：按年度计划从改造户数、改造内容、改造标准、"
                "长效管理机制等方面对各县（区）进行综合考评。考评年度：{year}年。")
WEIGHT_LABEL = "权重（分，市级确定）"
NO_DATA = "无数据"
ASSESS_SIGN = ("考评单位（盖章）：{body}", "考评人：", "日期：____年__月__日")
SAMPLE_MARK = "示例：本表由虚构的示例数据生成"
DIMENSION_NAMES = {"households": "改造户数", "content": "改造内容", "standards": "改造标准",
                   "management": "长效管理机制"}
DIMENSION_COLUMNS = {
    "households": ("计划户数", "完成户数", "完成率"),
    "content": ("计划改造项目数", "完成改造项目数", "完成率"),
    "standards": ("验收项目数", "验收合格数", "合格率"),
    "management": ("小区个数", "成立自治组织", "明确物业管理", "建立维修资金", "达标率"),
}
SCORE = "得分"
TOTAL_SCORE = "总分"
RANK = "排名"
WEIGHT_TOTAL = "权重合计"
CITY_ROW = "全市"
ASSESS_NOTES = (
    "说明：",
    "1. 改造户数：完成户数取各小区项目资料“完成情况”中的完成户数；"
    "完成率＝完成户数÷本年度计划小区户数之和。",
    "2. 改造内容：计划改造项目数为本年度各小区改造方案（工程预算）的改造项目数；"
    "完成改造项目数为已验收小区验收合格的项目数，加上已完工待验收小区的全部改造项目数；"
    "完成率＝完成÷计划。",
    "3. 改造标准：合格率＝竣工验收合格的分项数÷已验收的分项数。",
    "4. 长效管理机制：逐个计划小区核查是否成立业主委员会或居民自治小组、是否明确物业管理方式、"
    "是否建立房屋专项维修资金；达标率＝三项合计÷（小区个数×3）。",
    "5. 得分＝权重×比率（四舍五入保留两位小数），分母为0时比率按0计；"
    "总分为四项得分之和，按总分由高到低排名。",
    "6. 方案九（四）只规定从以上四个方面考评，未规定各方面的分值；表中权重是市住房城乡建设部门"
    "为本年度考评确定的，可在方案参数中调整。",
    "7. 本年度尚无完工项目的县（区）标“无数据”，不计得分，不参加排名。",
)

# ---------------------------------------------------------------- styles

BODY_FONT = "仿宋"
HEAD_FONT = "宋体"
MARK_FONT = "黑体"
_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
ALERT_FONT = Font(name=BODY_FONT, size=11, bold=True, color="C00000")
ALERT_FILL = PatternFill("solid", fgColor="FFE1E1")
LINE_HEIGHT = 15.0
"""Points per line of 11 pt text: rows get explicit heights, so every spreadsheet wraps alike."""


def _number(value: Decimal | int) -> Decimal | int:
    """A plan figure as the cell's number: 750 stays an integer, 2387.5 keeps its decimal."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


def _width(text: str) -> float:
    """Display width in column units of 11 pt text: a CJK character 2.1 (11 pt is 14.7 pixels, a
    unit 7), anything else 1. Less, and a long name wraps where its row has room for one line."""
    return sum(2.1 if ord(ch) > 0x2E7F else 1.0 for ch in text)


def _lines(text: str, column_width: float) -> int:
    usable = max(column_width - 0.5, 1)
    return sum(max(1, math.ceil(_width(part) / usable)) for part in text.split("\n"))


def _fit_rows(ws: Worksheet, rows: range, widths: Mapping[int, float]) -> None:
    """Give each row the height its wrapped text needs (merged cells count by their full width)."""
    merged = {(m.min_row, m.min_col): m for m in ws.merged_cells.ranges}
    for r in rows:
        lines = 1
        for c, width in widths.items():
            value = ws.cell(r, c).value
            if value is None or ws.cell(r, c).data_type == "f":
                continue
            span = merged.get((r, c))
            if span is not None:
                if span.max_row > span.min_row:
                    continue  # a cell over several rows has their joint height
                width = sum(widths.get(k, 8) for k in range(span.min_col, span.max_col + 1))
            lines = max(lines, _lines(str(value), width))
        ws.row_dimensions[r].height = max(20.0, lines * LINE_HEIGHT + 5)


def _cell(ws: Worksheet, row: int, col: int, value: object, *, font: Font | None = None,
          align: Alignment = CENTER, fmt: str | None = None, border: bool = True,
          literal: bool = False) -> None:
    """Write a cell; a str starting with = is a formula unless literal (text from the data,
    which stays text even when it reads “=HYPERLINK(…)”)."""
    if isinstance(value, str):
        value = xml_safe(value)  # openpyxl refuses control characters a pasted name may hold
    cell = ws.cell(row, col, value)
    if literal and isinstance(value, str):
        cell.data_type = "s"
    cell.font = font or Font(name=BODY_FONT, size=11)
    cell.alignment = align
    if border:
        cell.border = BORDER
    if fmt:
        cell.number_format = fmt


def _merge(ws: Worksheet, r1: int, c1: int, r2: int, c2: int, value: object, *,
           font: Font | None = None, align: Alignment = CENTER, border: bool = True) -> None:
    """Merge a block, write its value, and border every cell so the grid prints whole."""
    for r in range(r1, r2 + 1):
        for c in range(c1, c2 + 1):
            _cell(ws, r, c, None, border=border)
    if (r1, c1) != (r2, c2):
        ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    _cell(ws, r1, c1, value, font=font, align=align, border=border)


def _head(size: int = 11) -> Font:
    return Font(name=HEAD_FONT, size=size, bold=True)


def _page(ws: Worksheet, title_rows: str, widths: tuple[float, ...]) -> None:
    """A4 landscape, one page wide, header rows (if any) repeated, page numbers in the footer."""
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.6
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.center.font = BODY_FONT
    ws.sheet_view.showGridLines = False


def _sample_header(ws: Worksheet, mark: str) -> None:
    """The sample mark in red at the right of every printed page's header."""
    ws.oddHeader.right.text = mark
    ws.oddHeader.right.color = "C00000"


def _save(wb: Workbook) -> bytes:
    # Every formula carries its computed value for previews; Excel and WPS compute again on opening.
    wb.calculation.fullCalcOnLoad = True
    explicit_fonts(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return cached(normalize_zip(buffer.getvalue()))


# ---------------------------------------------------------------- charts

CHART_ROWS = 11
"""Rows a chart covers; their height is fixed so the chart's printed page is known."""
CHART_ROW_PT = 20.0
CHART_COLUMNS = 10
"""The chart sheet's columns, of equal width, together as wide as the charts."""
SERIES_COLOURS = ("1F497D", "BFBFBF", "C0504D", "9BBB59")
"""Dark blue first, light grey second: they stay apart when printed in black and white."""


def _text_props(size: float, bold: bool = False) -> CharacterProperties:
    face = TypeFace(typeface=HEAD_FONT)
    return CharacterProperties(latin=face, ea=face, sz=round(size * 100), b=bold)


def _rich(size: float) -> RichText:
    """Chart text in the sheet's own font (a chart's default is the theme's, which WPS replaces)."""
    props = _text_props(size)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])


def _title(text: str, size: float = 12) -> Title:
    props = _text_props(size, bold=True)
    para = Paragraph(pPr=ParagraphProperties(defRPr=props), r=[RegularTextRun(rPr=props, t=text)])
    return Title(tx=Text(rich=RichText(p=[para])), overlay=False)


def column_chart(ws: Worksheet, title: str, unit: str, names: tuple[int, int, int],
                 series: Sequence[tuple[str, int]], fmt: str = "General") -> BarChart:
    """A clustered column chart over the sheet's own cells: names is (column, first row, last
    row) of the category names, each series a name and the column of its values in those rows,
    so the chart follows the table whenever a figure changes."""
    col, first, last = names
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "clustered", 0
    chart.title = _title(title)
    categories = Reference(ws, min_col=col, min_row=first, max_row=last)
    for index, (name, column) in enumerate(series):
        ser = Series(Reference(ws, min_col=column, min_row=first, max_row=last), title=name)
        ser.cat = AxDataSource(strRef=StrRef(f=str(categories)))
        ser.graphicalProperties.solidFill = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        ser.graphicalProperties.line.solidFill = "000000"
        chart.series.append(ser)
    chart.dataLabels = DataLabelList(showVal=True, showSerName=False, showCatName=False,
                                     showLegendKey=False, showPercent=False, txPr=_rich(8))
    chart.dataLabels.numFmt = fmt
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False
        axis.txPr = _rich(9)
    chart.y_axis.title = _title(unit, 9)
    chart.y_axis.number_format = fmt
    chart.y_axis.scaling.min = 0
    chart.legend.position = "b"
    chart.legend.txPr = _rich(9)
    return chart


def _column_cm(width: float) -> float:
    """A column of the given width in cm, as Excel lays it out (7 pixels a unit plus 5, 96 dpi)."""
    return (width * 7 + 5) / 96 * 2.54


def chart_sheet(wb: Workbook, title: str, charts: Sequence[BarChart], note: str, mark: str = "",
                width_cm: float = 25.0) -> None:
    """A sheet of its own (after the tables) holding the charts one under another between a
    heading and a note on where their figures come from, printed on one A4 landscape page."""
    ws = wb.create_sheet(CHARTS_SHEET)
    _merge(ws, 1, 1, 1, CHART_COLUMNS, title, font=_head(14), border=False)
    ws.row_dimensions[1].height = 28
    top = 2
    for chart in charts:
        chart.width = width_cm
        chart.height = CHART_ROWS * CHART_ROW_PT / 72 * 2.54 - 0.2
        chart.anchor = f"A{top}"
        ws.add_chart(chart)
        for r in range(top, top + CHART_ROWS):
            ws.row_dimensions[r].height = CHART_ROW_PT
        top += CHART_ROWS
    _merge(ws, top, 1, top, CHART_COLUMNS, note, align=LEFT, border=False)
    column = width_cm / CHART_COLUMNS * 96 / 2.54
    _page(ws, "1:1", tuple((column - 5) / 7 for _ in range(CHART_COLUMNS)))
    ws.page_setup.fitToHeight = 1
    if mark:
        _sample_header(ws, mark)


# ---------------------------------------------------------------- 年度实施计划表


Blocks = dict[int, tuple[int, int, int]]
"""Each year's first and last data row and its subtotal row."""


def _plan_sheet(ws: Worksheet, data: DataSet) -> tuple[int, int, Blocks, int]:
    """Write annex 1; return the first and last data rows, the year blocks and the total row."""
    ncol = len(PLAN_HEADERS)
    # 附件1 runs on into the empty cells beside it rather than wrapping in the narrow 序号 column.
    _cell(ws, 1, 1, ANNEX_MARK, font=Font(name=MARK_FONT, size=14),
          align=Alignment(horizontal="left", vertical="center"), border=False)
    _merge(ws, 2, 1, 2, ncol, PLAN_TITLE, font=_head(18), border=False)
    for col, text in enumerate(PLAN_HEADERS, start=1):
        _cell(ws, 3, col, text, font=_head())
    row, number = 4, 0
    blocks: Blocks = {}
    rows = data.active_communities()
    for year in data.programme.years:
        block = [c for c in rows if c.year == year]
        if not block:
            continue
        first = row
        for c in block:
            number += 1
            remarks = [c.remarks] if c.remarks else []
            if c.replaces:
                remarks.append(REPLACES_NOTE.format(name=data.communities[c.replaces].name))
            values = (number, c.name, c.district, c.built, c.location, c.households,
                      _number(c.investment_wan), None, "；".join(remarks) or None)
            for col, value in enumerate(values, start=1):
                _cell(ws, row, col, value, align=LEFT if col in (2, 5, 9) else CENTER,
                      literal=True)
            row += 1
        last = row - 1
        _merge(ws, first, 8, last, 8, YEAR_CELL.format(year=year, count=len(block)))
        _merge(ws, row, 1, row, 5, SUBTOTAL, font=_head())
        _cell(ws, row, 6, f"=SUM(F{first}:F{last})", font=_head())
        _cell(ws, row, 7, f"=SUM(G{first}:G{last})", font=_head())
        _cell(ws, row, 8, None)
        _cell(ws, row, 9, None)
        blocks[year] = (first, last, row)
        row += 1
    subtotals = [sub for _, _, sub in blocks.values()]
    _merge(ws, row, 1, row, 5, GRAND_TOTAL, font=_head())
    for index, letter in ((6, "F"), (7, "G")):
        cells = ",".join(f"{letter}{r}" for r in subtotals)
        _cell(ws, row, index, f"=SUM({cells})", font=_head())
    _cell(ws, row, 8, None)
    _cell(ws, row, 9, None)
    total = row
    _merge(ws, row + 1, 1, row + 1, ncol, PLAN_FOOTNOTE, align=LEFT, border=False)
    widths = dict(enumerate(PLAN_WIDTHS, start=1))
    _fit_rows(ws, range(3, row + 2), widths)
    ws.row_dimensions[2].height = 36
    # A year cell spans its rows: make sure those rows are tall enough for its two lines.
    for first, last, _ in blocks.values():
        need = 2 * LINE_HEIGHT + 5
        have = sum(ws.row_dimensions[r].height or 20 for r in range(first, last + 1))
        if have < need:
            ws.row_dimensions[first].height = (ws.row_dimensions[first].height or 20) + need - have
    _page(ws, "3:3", PLAN_WIDTHS)
    _page_per_year(ws, blocks)
    ws.freeze_panes = "A4"
    first_data = min(first for first, _, _ in blocks.values())
    return first_data, total - 1, blocks, total


def _page_per_year(ws: Worksheet, blocks: Blocks) -> None:
    """Start each year after the first on a new page, so no merged year cell is cut in two.

    Excel, WPS and LibreOffice scale a one-page-wide sheet differently, so where an automatic
    break would fall cannot be known here; a page a year prints the same everywhere.
    """
    for first, _, _ in list(blocks.values())[1:]:
        ws.row_breaks.append(Break(id=first - 1))


def _alert(ws: Worksheet, ref: str) -> None:
    """Show a non-zero difference in red."""
    ws.conditional_formatting.add(
        ref, CellIsRule(operator="notEqual", formula=["0"], font=ALERT_FONT, fill=ALERT_FILL))


def _group_header(ws: Worksheet, row: int, first: str, groups: tuple[str, ...]) -> None:
    _merge(ws, row, 1, row + 1, 1, "序号", font=_head())
    _merge(ws, row, 2, row + 1, 2, first, font=_head())
    for g, name in enumerate(groups):
        col = 3 + 3 * g
        _merge(ws, row, col, row, col + 2, name, font=_head())
        for k, field in enumerate(SUMMARY_FIELDS):
            _cell(ws, row + 1, col + k, field, font=_head())


def _summary_sheet(ws: Worksheet, data: DataSet, first: int, last: int,
                   blocks: Blocks, total: int) -> None:
    """Section 一's figures by district and by year, as formulas beside the stated ones."""
    stated = data.programme.stated
    pilot = data.programme.pilot
    sheet = f"'{PLAN_SHEET}'!"
    names = f"{sheet}$C${first}:$C${last}"
    homes = f"{sheet}$F${first}:$F${last}"
    money = f"{sheet}$G${first}:$G${last}"
    _merge(ws, 1, 1, 1, 11, SUMMARY_TITLE, font=_head(16), border=False)
    _merge(ws, 2, 1, 2, 11, SUMMARY_NOTE, align=LEFT, border=False)
    _group_header(ws, 3, "县(区)", SUMMARY_GROUPS)
    row = 5
    claims = {d.district: d for d in stated.districts}
    for number, name in enumerate(data.districts, start=1):
        claim = claims.get(name)
        values: list[object] = [
            number, name,
            f"=COUNTIFS({names},B{row})", f"=SUMIFS({homes},{names},B{row})",
            f"=SUMIFS({money},{names},B{row})",
        ]
        if claim is not None:
            values += [claim.communities, claim.households, _number(claim.investment_wan),
                       f"=C{row}-F{row}", f"=D{row}-G{row}", f"=E{row}-H{row}"]
        else:
            values += [NO_TARGET] * 6
        for col, value in enumerate(values, start=1):
            _cell(ws, row, col, value, literal=col == 2)
        row += 1
    end = row - 1
    _alert(ws, f"I5:K{end}")
    _merge(ws, row, 1, row, 2, SUBTOTAL, font=_head())
    yi = stated.investment_yi_approx
    for col, value in enumerate(
        [f"=SUM(C5:C{end})", f"=SUM(D5:D{end})", f"=SUM(E5:E{end})", stated.communities,
         stated.households, APPROX_YI.format(value=yi), f"=C{row}-F{row}", f"=D{row}-G{row}",
         f"=ROUND(E{row}/10000,{-yi.as_tuple().exponent})-{yi}"], start=3):  # type: ignore[operator]
        _cell(ws, row, col, value, font=_head(), fmt='0.00"亿元"' if col == 11 else None)
    _alert(ws, f"I{row}:K{row}")

    row += 2
    _merge(ws, row, 1, row, 11, SUMMARY_YEAR_TITLE, font=_head(12), align=LEFT, border=False)
    row += 1
    _group_header(ws, row, "年度", SUMMARY_YEAR_GROUPS)
    row += 2
    start = row
    for number, (year, (y_first, y_last, sub)) in enumerate(blocks.items(), start=1):
        label = PILOT_MARK if year == pilot.year else YEAR_LABEL
        values = [number, label.format(year=year), f"=COUNT({sheet}A{y_first}:A{y_last})",
                  f"={sheet}F{sub}", f"={sheet}G{sub}"]
        if year == pilot.year:
            values += [pilot.communities, pilot.households, _number(pilot.investment_wan),
                       f"=C{row}-F{row}", f"=D{row}-G{row}", f"=E{row}-H{row}"]
            _alert(ws, f"I{row}:K{row}")
        else:
            values += [NO_TARGET] * 6
        for col, value in enumerate(values, start=1):
            _cell(ws, row, col, value)
        row += 1
    _merge(ws, row, 1, row, 2, GRAND_TOTAL, font=_head())
    for col, value in enumerate([f"=SUM(C{start}:C{row - 1})", f"={sheet}F{total}",
                                 f"={sheet}G{total}"], start=3):
        _cell(ws, row, col, value, font=_head())
    for col in range(6, 12):
        _cell(ws, row, col, None)
    widths = (6, 16, 10, 10, 14, 10, 10, 14, 10, 10, 14)
    _fit_rows(ws, range(2, row + 1), dict(enumerate(widths, start=1)))
    ws.row_dimensions[1].height = 32
    _page(ws, "3:4", widths)
    charts = [column_chart(ws, title, unit, (2, 5, end),
                           [(SUMMARY_GROUPS[0], ours), (SUMMARY_GROUPS[1], stated_col)])
              for title, unit, ours, stated_col in PLAN_CHARTS]
    assert ws.parent is not None
    chart_sheet(ws.parent, PLAN_CHARTS_TITLE, charts, PLAN_CHARTS_NOTE)


def plan_workbook(data: DataSet) -> bytes:
    """The annual plan table regenerated from the plan rows, with its summary sheet."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = PLAN_SHEET
    first, last, blocks, total = _plan_sheet(ws, data)
    _summary_sheet(wb.create_sheet(SUMMARY_SHEET), data, first, last, blocks, total)
    return _save(wb)


# ---------------------------------------------------------------- 年度综合考评表


def is_sample(data: DataSet, year: int) -> bool:
    """True when any project of the year comes from illustrative data."""
    return any(r.illustrative for r in year_figures(data, year))


def assessment_layout() -> dict[str, list[str]]:
    """Column letters of each dimension: its count columns, then its rate and its score."""
    out: dict[str, list[str]] = {}
    col = 3
    for key in DIMENSIONS:
        span = len(DIMENSION_COLUMNS[key]) + 1
        out[key] = [get_column_letter(c) for c in range(col, col + span)]
        col += span
    return out


def assessment_workbook(data: DataSet, year: int) -> bytes:
    """One row per district: four dimensions scored weight × rate, total and rank, as formulas."""
    prog = data.programme
    layout = assessment_layout()
    last_col = 3 + sum(len(v) for v in layout.values()) + 1
    total_col = get_column_letter(last_col - 1)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = ASSESS_SHEET
    _merge(ws, 1, 1, 1, last_col, ASSESS_TITLE.format(year=year), font=_head(18), border=False)
    basis = ASSESS_BASIS.format(title=prog.title, number=prog.issuance.number, year=year)
    mark_cols = 6 if is_sample(data, year) else 0
    _merge(ws, 2, 1, 2, last_col - mark_cols, basis, align=LEFT, border=False)
    if mark_cols:
        _merge(ws, 2, last_col - mark_cols + 1, 2, last_col, SAMPLE_MARK, font=ALERT_FONT,
               align=Alignment(horizontal="right", vertical="center", wrap_text=True), border=False)
        _sample_header(ws, SAMPLE_MARK)
    # Weights sit in row 3 right above each score column, where the score formulas read them.
    _merge(ws, 3, 1, 3, 2, WEIGHT_LABEL, font=_head())
    w = weights(data)
    score_cells = []
    for key in DIMENSIONS:
        cols = layout[key]
        c1, c2 = column_index_from_string(cols[0]), column_index_from_string(cols[-2])
        _merge(ws, 3, c1, 3, c2, DIMENSION_NAMES[key], font=_head())
        _cell(ws, 3, c2 + 1, _number(w[key]), font=_head(), fmt="0")
        score_cells.append(f"{cols[-1]}3")
    _cell(ws, 3, last_col - 1, f"=SUM({','.join(score_cells)})", font=_head(), fmt="0")
    _cell(ws, 3, last_col, WEIGHT_TOTAL, font=_head())
    # Two header rows: the dimension over its columns, then each column.
    _merge(ws, 4, 1, 5, 1, "序号", font=_head())
    _merge(ws, 4, 2, 5, 2, "县(区)", font=_head())
    for key in DIMENSIONS:
        cols = layout[key]
        c1, c2 = column_index_from_string(cols[0]), column_index_from_string(cols[-1])
        _merge(ws, 4, c1, 4, c2, DIMENSION_NAMES[key], font=_head())
        for k, name in enumerate((*DIMENSION_COLUMNS[key], SCORE)):
            _cell(ws, 5, c1 + k, name, font=_head())
    _merge(ws, 4, last_col - 1, 5, last_col - 1, TOTAL_SCORE, font=_head())
    _merge(ws, 4, last_col, 5, last_col, RANK, font=_head())

    rows = assessment_rows(data, year)
    first = 6
    end = first + len(rows) - 1
    for index, item in enumerate(rows):
        r = first + index
        counts = {
            "households": (item.households, item.households_done),
            "content": (item.items_planned, item.items_delivered),
            "standards": (item.items_inspected, item.items_passed),
            "management": (item.projects, item.bodies, item.property_modes, item.funds),
        }
        _cell(ws, r, 1, index + 1)
        _cell(ws, r, 2, item.district, literal=True)
        for key in DIMENSIONS:
            _dimension(ws, r, key, layout[key], counts[key], score=bool(item.finished))
        if not item.finished:
            # Nothing done yet is no result: no score of zero and no rank among the others.
            for key in DIMENSIONS:
                for letter in layout[key][-2:]:
                    _cell(ws, r, column_index_from_string(letter), NO_DATA)
            _cell(ws, r, last_col - 1, NO_DATA)
            _cell(ws, r, last_col, NO_DATA)
            continue
        _cell(ws, r, last_col - 1, "=" + "+".join(f"{layout[k][-1]}{r}" for k in DIMENSIONS),
              fmt="0.00")
        _cell(ws, r, last_col, f"=RANK({total_col}{r},${total_col}${first}:${total_col}${end})")
    city = end + 1
    _merge(ws, city, 1, city, 2, CITY_ROW, font=_head())
    for key in DIMENSIONS:
        cols = layout[key]
        sums = [f"=SUM({c}{first}:{c}{end})" for c in cols[:-2]]
        _dimension(ws, city, key, cols, sums, score=False)
    _cell(ws, city, last_col - 1, None)
    _cell(ws, city, last_col, None)
    notes = city + 2
    for k, text in enumerate(ASSESS_NOTES):
        _merge(ws, notes + k, 1, notes + k, last_col, text, align=LEFT, border=False)
    sign = notes + len(ASSESS_NOTES) + 1
    third = last_col // 3
    for k, text in enumerate(ASSESS_SIGN):
        c1 = 1 + k * third
        c2 = last_col if k == len(ASSESS_SIGN) - 1 else c1 + third - 1
        _merge(ws, sign, c1, sign, c2, text.format(body=prog.report_recipient), align=LEFT,
               border=False)
    widths = (5, 11) + tuple(8.5 for _ in range(last_col - 4)) + (8, 6)
    ws_widths = dict(enumerate(widths, start=1))
    _fit_rows(ws, range(2, notes + len(ASSESS_NOTES)), ws_widths)
    ws.row_dimensions[sign].height = 36
    ws.row_dimensions[1].height = 32
    _page(ws, "4:5", widths)
    ws.freeze_panes = "C6"
    names = (2, first, end)
    score = column_chart(ws, SCORE_CHART, SCORE, names, [(TOTAL_SCORE, last_col - 1)], "0.00")
    score.y_axis.scaling.max = float(sum(w.values()))
    rates = column_chart(ws, RATE_CHART, RATE_AXIS, names,
                         [(DIMENSION_NAMES[k], column_index_from_string(layout[k][-2])) for k in DIMENSIONS],
                         "0%")
    rates.y_axis.scaling.max = 1
    rates.dataLabels = None  # four bars a district: the axis says enough
    chart_sheet(wb, ASSESS_CHARTS_TITLE.format(year=year), [score, rates], ASSESS_CHARTS_NOTE,
                SAMPLE_MARK if mark_cols else "")
    return _save(wb)


def _dimension(ws: Worksheet, r: int, key: str, cols: list[str], counts: Sequence[object], *,
               score: bool) -> None:
    """Write one dimension's counts, its rate formula and (for a district) its score formula."""
    for k, value in enumerate(counts):
        _cell(ws, r, column_index_from_string(cols[k]), value)
    if key == "management":
        num, den = f"({cols[1]}{r}+{cols[2]}{r}+{cols[3]}{r})", f"(3*{cols[0]}{r})"
    else:
        num, den = f"{cols[1]}{r}", f"{cols[0]}{r}"
    rate, points = cols[-2], cols[-1]
    _cell(ws, r, column_index_from_string(rate), f"=IF({cols[0]}{r}=0,0,{num}/{den})", fmt="0.0%")
    formula = f"=ROUND({points}$3*{rate}{r},2)" if score else None
    _cell(ws, r, column_index_from_string(points), formula, fmt="0.00")


def plan_inputs(data: DataSet) -> dict[str, Any]:
    """What the plan table is made from (the manifest's data hash covers it)."""
    prog = data.programme
    return {"rows": [c.model_dump() for c in data.active_communities()],
            "stated": prog.stated.model_dump(), "pilot": prog.pilot.model_dump()}


def assessment_inputs(data: DataSet, year: int) -> dict[str, Any]:
    """What a year's assessment is made from (the manifest's data hash covers it)."""
    from generator.documents.satisfaction import assessment_satisfaction

    return {"rows": [vars(r) for r in assessment_rows(data, year)],
            "weights": data.programme.assessment.model_dump(),
            # residents' satisfaction scores by community, for the assessment's 长效管理 and content marks
            "satisfaction": assessment_satisfaction(data, year)}


# ---------------------------------------------------------------- 进展统计月报

STATS_SHEET = "进展统计"
STATS_TITLE = "{year}年度{city}城镇老旧小区改造进展情况统计表"
STATS_BASIS = ("填报单位（盖章）：{body}　　　　统计截止时间：____年__月__日　　　　"
               "数据来源：各小区项目资料（开工以进入施工阶段计，完工以完工或已验收计）")
STATS_GROUPS = (("改造计划（{first}—{last}年）", ("小区数\n（个）", "户数\n（户）", "投资\n（万元）")),
                ("{year}年度计划", ("小区数\n（个）", "户数\n（户）", "投资\n（万元）")),
                ("新开工", ("小区数\n（个）", "户数\n（户）")),
                ("开工率", ("按小区", "按户数")),
                ("完工", ("小区数\n（个）", "户数\n（户）")),
                ("完工率", ("按小区", "按户数")),
                ("投资完成", ("完成额\n（万元）", "完成率")))
STATS_NOTES = (
    "说明：",
    "1. 开工率＝新开工小区数（户数）÷本年度计划小区数（户数）；完工率＝完工小区数÷本年度计划小区数，"
    "按户数为完成改造户数÷本年度计划户数。",
    "2. 投资完成率＝投资完成额÷本年度计划投资；分母为0时比率按0计。",
    "3. 完工户数为已完工小区项目资料“完成情况”中的完成户数；投资完成额为已完工小区各方实际到位资金，"
    "与年度试点工作报告（年度工作总结）中的数字一致。",
)
STATS_WIDTHS = (5, 11, 8, 9, 11, 8, 9, 11, 8, 9, 8, 8, 8, 9, 8, 8, 11, 8)


def statistics_workbook(data: DataSet, year: int) -> bytes:
    """Per district: the plan, 新开工, 开工率, 完工, 完工率 and 投资完成 of a year, the rates and sums as formulas."""
    from generator.documents.progress import stats

    prog = data.programme
    s = stats(data)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = STATS_SHEET
    ncol = len(STATS_WIDTHS)
    _merge(ws, 1, 1, 1, ncol, STATS_TITLE.format(year=year, city=prog.city), font=_head(18), border=False)
    mark_cols = 5 if is_sample(data, year) else 0
    _merge(ws, 2, 1, 2, ncol - mark_cols, STATS_BASIS.format(body=prog.report_recipient), align=LEFT,
           border=False)
    if mark_cols:  # made from illustrative projects: said on the sheet and on every printed page
        _merge(ws, 2, ncol - mark_cols + 1, 2, ncol, SAMPLE_MARK, font=ALERT_FONT,
               align=Alignment(horizontal="right", vertical="center", wrap_text=True), border=False)
        _sample_header(ws, SAMPLE_MARK)
    _merge(ws, 3, 1, 4, 1, "序号", font=_head())
    _merge(ws, 3, 2, 4, 2, "县(区)", font=_head())
    col = 3
    years = prog.years
    for title, fields in STATS_GROUPS:
        _merge(ws, 3, col, 3, col + len(fields) - 1,
               title.format(first=years[0], last=years[-1], year=year), font=_head())
        for k, name in enumerate(fields):
            _cell(ws, 4, col + k, name, font=_head())
        col += len(fields)
    first = 5
    for index, name in enumerate(data.districts):
        r = first + index
        whole, own = next(g for g in s.districts if g.district == name), s.cells[(year, name)]
        _cell(ws, r, 1, index + 1)
        _cell(ws, r, 2, name, literal=True)
        _stats_row(ws, r, [whole.communities, whole.households, _number(whole.investment_wan),
                           own.communities, own.households, _number(own.investment_wan),
                           own.started, own.started_households, own.finished, own.households_done,
                           own.paid_total])
    end = first + len(data.districts) - 1
    total = end + 1
    _merge(ws, total, 1, total, 2, CITY_ROW, font=_head())
    _stats_row(ws, total, [f"=SUM({get_column_letter(c)}{first}:{get_column_letter(c)}{end})"
                           for c in (3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 17)], font=_head())
    notes = total + 2
    for k, text in enumerate(STATS_NOTES):
        _merge(ws, notes + k, 1, notes + k, ncol, text, align=LEFT, border=False)
    _fit_rows(ws, range(2, notes + len(STATS_NOTES)), dict(enumerate(STATS_WIDTHS, start=1)))
    ws.row_dimensions[1].height = 32
    _page(ws, "3:4", STATS_WIDTHS)
    ws.freeze_panes = "C5"
    return _save(wb)


def _stats_row(ws: Worksheet, r: int, values: Sequence[object], font: Font | None = None) -> None:
    """A row's counts (C–J, M–N, Q) and its rate formulas (K, L, O, P, R)."""
    at = (3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 17)
    for c, value in zip(at, values, strict=True):
        _cell(ws, r, c, value, font=font, fmt="#,##0.00" if c in (5, 8, 17) else "0")
    for c, (num, den) in {11: ("I", "F"), 12: ("J", "G"), 15: ("M", "F"), 16: ("N", "G"),
                          18: ("Q", "H")}.items():
        _cell(ws, r, c, f"=IF({den}{r}=0,0,{num}{r}/{den}{r})", font=font, fmt="0.0%")


def statistics_inputs(data: DataSet, year: int) -> dict[str, Any]:
    """What a year's statistics are made from (the manifest's data hash covers it)."""
    from generator.documents.progress import as_dict, stats

    s = stats(data)
    return {"districts": [as_dict(g) for g in s.districts],
            "year": [as_dict(s.cells[(year, n)]) for n in data.districts],
            "sample": is_sample(data, year)}
