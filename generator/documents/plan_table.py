"""The annual plan table (annex 1) with its summary by district and year, laid into templates/xlsx/plan_table.xlsx.

The template holds every word (title, column headings, notes, the 合计/总计 labels, the year
cell, the chart titles) and the look; this module decides the rows and writes the formulas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from generator.data.loader import DataSet
from generator.documents.workbooks import (
    CHART_ROW_PT,
    CHART_ROWS,
    LINE_HEIGHT,
    alert,
    column_chart,
    fit_rows,
    plan_number,
    save,
)
from generator.errors import TemplateError
from generator.render.blocks import Formula
from generator.render.templates import find_template, search_dirs
from generator.render.xlsx_rows import ModelRow, SheetTemplate, Writer, open_template

TEMPLATE = "xlsx/plan_table.xlsx"
MODELS = {1: ("community", "subtotal", "total"),
          2: ("district", "district_unstated", "district_total", "year", "pilot_year", "year_total"),
          3: ("chart",)}
"""The model rows each sheet of the template must have (by the sheet's place)."""
CHART_WIDTH_CM = 25.0

Blocks = dict[int, tuple[int, int, int]]
"""Each year's first and last data row and its subtotal row."""


def plan_workbook(data: DataSet, dirs: list[Path] | None = None) -> bytes:
    """The annual plan table regenerated from the plan rows, with its summary sheet and charts."""
    path = find_template(TEMPLATE, dirs if dirs is not None else search_dirs(None, data.root))
    wb = open_template(path, str(path))
    if len(wb.worksheets) < 3:
        raise TemplateError(f"{path}：年度实施计划表模板应有3个工作表（计划表、分县（区）汇总、附图），"
                            f"现有{len(wb.worksheets)}个")
    plan, summary, charts = (SheetTemplate.read(ws, f"{path.name} {ws.title}") for ws in wb.worksheets[:3])
    for number, sheet in enumerate((plan, summary, charts), start=1):
        for name in MODELS[number]:
            sheet.model(name)
    blocks, total, fields = _plan_sheet(plan, data)
    series = _summary_sheet(summary, data, plan.ws.title, blocks, total, fields)
    _chart_sheet(charts, summary.ws, series)
    return save(wb)


def _row_of(data: DataSet, c: Any, number: int) -> dict[str, Any]:
    return {"number": number, "name": c.name, "district": c.district, "built": c.built,
            "location": c.location, "households": c.households, "investment_wan": plan_number(c.investment_wan),
            "remarks": c.remarks or "", "replaces": data.communities[c.replaces].name if c.replaces else ""}


def _plan_sheet(sheet: SheetTemplate, data: DataSet) -> tuple[Blocks, int, dict[str, str]]:
    """Write annex 1 one block a year; return the blocks, the total row and each field's column."""
    model = sheet.model("community")
    fields = model.columns("c")
    blocks: Blocks = {}

    def communities(out: Writer, row: ModelRow) -> None:
        number = 0
        rows = data.active_communities()
        for year in data.programme.years:
            block = [c for c in rows if c.year == year]
            if not block:
                continue
            first = out.row
            for c in block:
                number += 1
                out.write(row, {"c": _row_of(data, c, number), "year": year, "count": len(block)})
            last = out.row - 1
            # A cell naming nothing of the community (the year) is printed once over its block.
            for col in row.shared("c"):
                for r in range(first + 1, last + 1):
                    out.ws.cell(r, col).value = None
                if last > first:
                    out.ws.merge_cells(start_row=first, start_column=col, end_row=last, end_column=col)
            sums = {f: Formula(f"=SUM({col}{first}:{col}{last})") for f, col in fields.items()}
            blocks[year] = (first, last, out.write(sheet.model("subtotal"), {"sums": sums}))

    totals: list[int] = []

    def total(out: Writer, row: ModelRow) -> None:
        subs = [sub for _, _, sub in blocks.values()]
        sums = {f: Formula("=SUM(" + ",".join(f"{col}{r}" for r in subs) + ")") for f, col in fields.items()}
        totals.append(out.write(row, {"sums": sums}))

    out = sheet.fill({}, {"community": communities, "total": total})
    ws = out.ws
    widths = sheet.widths()
    fit_rows(ws, range(3, out.row), widths)
    # A year cell spans its rows: make sure those rows are tall enough for its two lines.
    for first, last, _ in blocks.values():
        need = 2 * LINE_HEIGHT + 5
        have = sum(ws.row_dimensions[r].height or 20 for r in range(first, last + 1))
        if have < need:
            ws.row_dimensions[first].height = (ws.row_dimensions[first].height or 20) + need - have
    _page_per_year(ws, blocks)
    return blocks, totals[0], fields


def _page_per_year(ws: Worksheet, blocks: Blocks) -> None:
    """Start each year after the first on a new page, so no merged year cell is cut in two.

    Excel, WPS and LibreOffice scale a one-page-wide sheet differently, so where an automatic
    break would fall cannot be known here; a page a year prints the same everywhere.
    """
    for first, _, _ in list(blocks.values())[1:]:
        ws.row_breaks.append(Break(id=first - 1))


def _summary_sheet(sheet: SheetTemplate, data: DataSet, plan_title: str, blocks: Blocks, total: int,
                   fields: dict[str, str]) -> tuple[int, int]:
    """Section 一's figures by district and by year, as formulas beside the stated ones; returns
    the district rows, which the charts show."""
    stated = data.programme.stated
    pilot = data.programme.pilot
    ref = "'" + plan_title.replace("'", "''") + "'!"
    first = min(f for f, _, _ in blocks.values())
    last = total - 1
    names = f"{ref}${fields['district']}${first}:${fields['district']}${last}"
    homes = f"{ref}${fields['households']}${first}:${fields['households']}${last}"
    money = f"{ref}${fields['investment_wan']}${first}:${fields['investment_wan']}${last}"
    claims = {d.district: d for d in stated.districts}
    ws = sheet.ws
    span: list[int] = []

    def districts(out: Writer, row: ModelRow) -> None:
        start = out.row
        for number, name in enumerate(data.districts, start=1):
            r = out.row
            counted = {3: Formula(f"=COUNTIFS({names},B{r})"), 4: Formula(f"=SUMIFS({homes},{names},B{r})"),
                       5: Formula(f"=SUMIFS({money},{names},B{r})")}
            claim = claims.get(name)
            if claim is None:
                out.write(sheet.model("district_unstated"), {"number": number, "name": name}, counted)
                continue
            counted |= _differences(r)
            out.write(row, {"number": number, "name": name,
                            "stated": {"communities": claim.communities, "households": claim.households,
                                       "investment_wan": plan_number(claim.investment_wan)}}, counted)
        span.extend((start, out.row - 1))
        alert(ws, f"I{start}:K{out.row - 1}")

    def district_total(out: Writer, row: ModelRow) -> None:
        start, end = span
        r = out.row
        yi = stated.investment_yi_approx
        digits = -yi.as_tuple().exponent  # type: ignore[operator]
        out.write(row, {"stated": {"communities": stated.communities, "households": stated.households,
                                   "investment_yi": yi}},
                  {3: Formula(f"=SUM(C{start}:C{end})"), 4: Formula(f"=SUM(D{start}:D{end})"),
                   5: Formula(f"=SUM(E{start}:E{end})"), 9: Formula(f"=C{r}-F{r}"), 10: Formula(f"=D{r}-G{r}"),
                   11: Formula(f"=ROUND(E{r}/10000,{digits})-{yi}")})
        alert(ws, f"I{r}:K{r}")

    year_rows: list[int] = []

    def years(out: Writer, row: ModelRow) -> None:
        year_rows.append(out.row)
        for number, (year, (y_first, y_last, sub)) in enumerate(blocks.items(), start=1):
            r = out.row
            values = {3: Formula(f"=COUNT({ref}{fields['number']}{y_first}:{fields['number']}{y_last})"),
                      4: Formula(f"={ref}{fields['households']}{sub}"),
                      5: Formula(f"={ref}{fields['investment_wan']}{sub}")}
            if year == pilot.year:
                out.write(sheet.model("pilot_year"),
                          {"number": number, "year": year,
                           "pilot": {"communities": pilot.communities, "households": pilot.households,
                                     "investment_wan": plan_number(pilot.investment_wan)}},
                          values | _differences(r))
                alert(ws, f"I{r}:K{r}")
            else:
                out.write(row, {"number": number, "year": year}, values)

    def year_total(out: Writer, row: ModelRow) -> None:
        r = out.row
        out.write(row, {}, {3: Formula(f"=SUM(C{year_rows[0]}:C{r - 1})"),
                            4: Formula(f"={ref}{fields['households']}{total}"),
                            5: Formula(f"={ref}{fields['investment_wan']}{total}")})

    out = sheet.fill({}, {"district": districts, "district_total": district_total, "year": years,
                          "year_total": year_total})
    fit_rows(ws, range(2, out.row), sheet.widths())
    return span[0], span[1]


def _differences(r: int) -> dict[int, Formula]:
    return {9: Formula(f"=C{r}-F{r}"), 10: Formula(f"=D{r}-G{r}"), 11: Formula(f"=E{r}-H{r}")}


def _chart_sheet(sheet: SheetTemplate, summary: Worksheet, rows: tuple[int, int]) -> None:
    """The charts, one a model row (its title, then its unit), each over the summary's figures:
    the first two groups' columns of the field in the order the chart rows come."""
    first, last = rows
    made = 0

    def chart(out: Writer, row: ModelRow) -> None:
        nonlocal made
        title, unit = (str(row.values.get(c) or "") for c in (1, 2))
        ours, stated = 4 + made, 7 + made  # D/G for households, E/H for investment
        made += 1
        series = [(str(summary.cell(3, 3).value), ours), (str(summary.cell(3, 6).value), stated)]
        place(out, column_chart(summary, title, unit, (2, first, last), series))

    def place(out: Writer, made_chart: Any) -> None:
        top = out.skip(CHART_ROWS, CHART_ROW_PT)
        made_chart.width = CHART_WIDTH_CM
        made_chart.height = CHART_ROWS * CHART_ROW_PT / 72 * 2.54 - 0.2
        made_chart.anchor = f"A{top}"
        out.ws.add_chart(made_chart)

    sheet.fill({}, {"chart": chart})



def plan_inputs(data: DataSet) -> dict[str, Any]:
    """What the plan table is made from (the manifest's data hash covers it)."""
    prog = data.programme
    return {"rows": [c.model_dump() for c in data.active_communities()],
            "stated": prog.stated.model_dump(), "pilot": prog.pilot.model_dump()}
