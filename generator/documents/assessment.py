"""The annual assessment (综合考评) of the districts, laid into templates/xlsx/assessment.xlsx.

The template holds every word (title, basis, headings, 无数据, notes, signatures, chart titles)
and the look; this module decides the rows and writes the rate, score, total and rank formulas.
The columns of each dimension stand where ``assessment_layout`` says: the formulas rely on it.
A third sheet prints the residents' satisfaction by district, for the city and by community.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from generator.data.loader import DataSet
from generator.documents.figures import DIMENSIONS, assessment_rows, weights
from generator.documents.satisfaction import assessment_satisfaction
from generator.documents.workbooks import (
    CHART_ROW_PT,
    CHART_ROWS,
    column_chart,
    fit_rows,
    is_sample,
    plan_number,
    save,
)
from generator.errors import TemplateError
from generator.render.blocks import Formula
from generator.render.templates import find_template, search_dirs
from generator.render.xlsx_rows import ModelRow, SheetTemplate, Writer, open_template

TEMPLATE = "xlsx/assessment.xlsx"
MODELS = {1: ("district", "district_no_data", "city", "city_no_data"), 2: ("chart",),
          3: ("district", "district_no_data", "city", "city_no_data", "community", "community_no_data",
              "no_community")}
"""The model rows each sheet of the template must have (by the sheet's place)."""
COUNT_COLUMNS = {"households": 2, "content": 2, "standards": 2, "management": 4}
"""How many count columns each dimension has before its rate and its score."""
FIRST_ROW = 6
"""The first district row: the header rows above it are the template's, repeated on each page."""
CHART_WIDTH_CM = 25.0


def assessment_layout() -> dict[str, list[str]]:
    """Column letters of each dimension: its count columns, then its rate and its score."""
    out: dict[str, list[str]] = {}
    col = 3
    for key in DIMENSIONS:
        span = COUNT_COLUMNS[key] + 2
        out[key] = [get_column_letter(c) for c in range(col, col + span)]
        col += span
    return out


def assessment_workbook(data: DataSet, year: int, dirs: list[Path] | None = None,
                        inputs: dict[str, Any] | None = None) -> bytes:
    """One row per district: four dimensions scored weight × rate, total and rank, as formulas
    (inputs: assessment_inputs of the same year when the caller already made them)."""
    path = find_template(TEMPLATE, dirs if dirs is not None else search_dirs(None, data.root))
    wb = open_template(path, str(path))
    if len(wb.worksheets) < len(MODELS):
        raise TemplateError(f"{path}：年度综合考评表模板应有{len(MODELS)}个工作表（综合考评、附图、居民满意度），"
                            f"现有{len(wb.worksheets)}个")
    table, charts, residents = (SheetTemplate.read(ws, f"{path.name} {ws.title}")
                                for ws in wb.worksheets[:len(MODELS)])
    for number, sheet in enumerate((table, charts, residents), start=1):
        for name in MODELS[number]:
            sheet.model(name)
    prog = data.programme
    sample = is_sample(data, year)
    w = weights(data)
    layout = assessment_layout()
    last_col = 3 + sum(len(v) for v in layout.values()) + 1
    total_col = get_column_letter(last_col - 1)
    context = {"year": year, "title": prog.title, "number": prog.issuance.number, "sample": sample,
               "body": prog.report_recipient, "weights": {k: plan_number(v) for k, v in w.items()}}
    rows = assessment_rows(data, year)
    end = FIRST_ROW + len(rows) - 1

    def districts(out: Writer, row: ModelRow) -> None:
        if out.row != FIRST_ROW:
            raise TemplateError(f"{table.where}：{{%tr district %}} 行应在第{FIRST_ROW}行，现在第{row.number}行")
        for index, item in enumerate(rows):
            r = out.row
            if not item.finished:
                # Nothing done yet is no result: no score of zero and no rank among the others.
                out.write(table.model("district_no_data"), {"number": index + 1, "d": vars(item)})
                continue
            values: dict[int, Any] = {}
            for key in DIMENSIONS:
                values |= _dimension(r, layout[key], key, score=True)
            values[last_col - 1] = Formula("=" + "+".join(f"{layout[k][-1]}{r}" for k in DIMENSIONS))
            values[last_col] = Formula(f"=RANK({total_col}{r},${total_col}${FIRST_ROW}:${total_col}${end})")
            out.write(row, {"number": index + 1, "d": vars(item)}, values)

    def city(out: Writer, row: ModelRow) -> None:
        r = out.row
        values: dict[int, Any] = {}
        for key in DIMENSIONS:
            cols = layout[key]
            values |= {column_index_from_string(c): Formula(f"=SUM({c}{FIRST_ROW}:{c}{end})") for c in cols[:-2]}
        if any(item.finished for item in rows):
            for key in DIMENSIONS:
                values |= _dimension(r, layout[key], key, score=False)
            out.write(row, {}, values)
        else:  # no district has a result: the city's row prints no rate either
            out.write(table.model("city_no_data"), {}, values)

    table.fill(context, {"district": districts, "city": city})
    ws = table.ws
    if not sample:
        ws.oddHeader.right.text = None
    widths = table.widths()
    notes = _notes_end(table)
    fit_rows(ws, range(2, notes), widths)
    _charts(charts, ws, context, layout, last_col, end, sum(w.values()), sample)
    found = inputs["satisfaction"] if inputs is not None else _satisfaction_inputs(data, year)
    _satisfaction(residents, context, found, sample)
    return save(wb)


def _satisfaction(sheet: SheetTemplate, context: dict[str, Any], found: dict[str, Any], sample: bool) -> None:
    """Each district's, the city's and each surveyed community's satisfaction; 无数据 without answers."""

    def districts(out: Writer, row: ModelRow) -> None:
        for number, d in enumerate(found["districts"], start=1):
            model = row if d["figure"] else sheet.model("district_no_data")
            out.write(model, {"number": number, "d": d, "f": d["figure"]})

    def city(out: Writer, row: ModelRow) -> None:
        d = found["city"]
        out.write(row if d["figure"] else sheet.model("city_no_data"), {"d": d, "f": d["figure"]})

    notes = []

    def communities(out: Writer, row: ModelRow) -> None:
        for number, c in enumerate(found["communities"], start=1):
            out.write(row if c["score"] is not None else sheet.model("community_no_data"), {"number": number, "c": c})
        if not found["communities"]:
            out.write(sheet.model("no_community"), {})
        notes.append(out.row)

    sheet.fill(context, {"district": districts, "city": city, "community": communities})
    # the rows of figures keep the template's height: a rate's many digits are printed as 84.0%
    for rows in (range(2, 3), range(notes[0], sheet.ws.max_row + 1)):
        fit_rows(sheet.ws, rows, sheet.widths())
    if not sample:
        sheet.ws.oddHeader.right.text = None


def _notes_end(table: SheetTemplate) -> int:
    """The row after the last note: the sign row below it keeps the template's height."""
    return table.ws.max_row - 1


def _dimension(r: int, cols: list[str], key: str, *, score: bool) -> dict[int, Formula]:
    """One dimension's rate formula and (for a district) its score formula."""
    if key == "management":
        num, den = f"({cols[1]}{r}+{cols[2]}{r}+{cols[3]}{r})", f"(3*{cols[0]}{r})"
    else:
        num, den = f"{cols[1]}{r}", f"{cols[0]}{r}"
    rate, points = cols[-2], cols[-1]
    out = {column_index_from_string(rate): Formula(f"=IF({cols[0]}{r}=0,0,{num}/{den})")}
    if score:
        out[column_index_from_string(points)] = Formula(f"=ROUND({points}$3*{rate}{r},2)")
    return out


def _charts(sheet: SheetTemplate, table: Worksheet, context: dict[str, Any], layout: dict[str, list[str]],
            last_col: int, end: int, total_weight: Any, sample: bool) -> None:
    """The total-score chart and the rates chart over the table's cells (titles and units from the template)."""
    charts: list[tuple[str, str]] = []

    def chart(out: Writer, row: ModelRow) -> None:
        title, unit = (str(row.values.get(c) or "") for c in (1, 2))
        names = (2, FIRST_ROW, end)
        if not charts:
            made = column_chart(table, title, unit, names, [(_head(table, last_col - 1), last_col - 1)], "0.00")
            made.y_axis.scaling.max = float(total_weight)
        else:
            made = column_chart(table, title, unit, names,
                                [(_head(table, column_index_from_string(layout[k][0])),
                                  column_index_from_string(layout[k][-2])) for k in DIMENSIONS], "0%")
            made.y_axis.scaling.max = 1
            made.dataLabels = None  # four bars a district: the axis says enough
        charts.append((title, unit))
        top = out.skip(CHART_ROWS, CHART_ROW_PT)
        made.width = CHART_WIDTH_CM
        made.height = CHART_ROWS * CHART_ROW_PT / 72 * 2.54 - 0.2
        made.anchor = f"A{top}"
        out.ws.add_chart(made)

    sheet.fill(context, {"chart": chart})
    if not sample:
        sheet.ws.oddHeader.right.text = None


def _head(ws: Worksheet, col: int) -> str:
    """The heading over a column in the table's first header row."""
    return str(ws.cell(4, col).value or "")


def _satisfaction_inputs(data: DataSet, year: int) -> dict[str, Any]:
    """The 居民满意度 sheet's figures, by district, for the city and by community (as plain dicts)."""
    found = assessment_satisfaction(data, year)
    return {**found, "communities": [vars(c) for c in found["communities"]]}


def assessment_inputs(data: DataSet, year: int) -> dict[str, Any]:
    """What a year's assessment is made from (the manifest's data hash covers it)."""
    return {"rows": [vars(r) for r in assessment_rows(data, year)],
            "weights": data.programme.assessment.model_dump(),
            "satisfaction": _satisfaction_inputs(data, year)}
