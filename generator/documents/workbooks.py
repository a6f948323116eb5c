"""What the city workbooks share (row heights, charts, alerts, saving), and the monthly statistics.

The plan table is documents/plan_table.py, the assessment documents/assessment.py.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference, Series
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.drawing.text import Font as TypeFace
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from generator.data.loader import DataSet
from generator.documents.figures import year_figures
from generator.render.formulas import cached
from generator.render.xlsx import explicit_fonts
from generator.render.ziputil import normalize_zip

# ---------------------------------------------------------------- styles

BODY_FONT = "仿宋"
HEAD_FONT = "宋体"
ALERT_FONT = Font(name=BODY_FONT, size=11, bold=True, color="C00000")
ALERT_FILL = PatternFill("solid", fgColor="FFE1E1")
LINE_HEIGHT = 15.0
"""Points per line of 11 pt text: rows get explicit heights, so every spreadsheet wraps alike."""


def plan_number(value: Decimal | int) -> Decimal | int:
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


def fit_rows(ws: Worksheet, rows: range, widths: Mapping[int, float]) -> None:
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


def save(wb: Workbook) -> bytes:
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


def alert(ws: Worksheet, ref: str) -> None:
    """Show a non-zero difference in red."""
    ws.conditional_formatting.add(
        ref, CellIsRule(operator="notEqual", formula=["0"], font=ALERT_FONT, fill=ALERT_FILL))


def is_sample(data: DataSet, year: int) -> bool:
    """True when any project of the year comes from illustrative data."""
    return any(r.illustrative for r in year_figures(data, year))


_fit_rows, _number, _save = fit_rows, plan_number, save
