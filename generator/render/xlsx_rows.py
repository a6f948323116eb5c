"""Workbooks whose rows the program lays out from an .xlsx template (the plan table, the assessment).

How such a template is written (a clerk edits it in Excel, WPS or LibreOffice like any other):

- Rows without a marker are printed as they stand, in order: titles, column headings, notes,
  signatures. Their text may hold tags, as in every template: ``{{ year }}年度…``.
- A row whose first cell starts with ``{%tr name %}`` is a model row: the program writes as many
  rows as the data gives in its look (fonts, borders, number formats, merged cells of the row),
  filling the tags of each cell for each row. The document kind says which model rows it needs;
  ``gaizao templates check`` names any that is missing. The marker is not printed.
- Column widths, print setup (paper, orientation, rows repeated on each page, fit to width),
  header and footer, frozen panes and sheet names are the template's.

Formulas are the program's (sums, rates, scores): it writes them where its model rows leave
them, so the printed sums always add up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import TemplateError as JinjaError
from jinja2 import meta
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from generator.errors import TemplateError
from generator.render.blocks import Formula
from generator.render.cells import put
from generator.render.env import TEXT_ENV, xml_safe
from generator.render.xlsx import evaluate, fits, text_template
from generator.render.ziputil import read_template

MARK = re.compile(r"^\{%-?\s*tr\s+(\w+)\s*-?%\}")
_LONE = re.compile(r"^\{\{\s*((?:(?!\}\}|\{\{).)*?)\s*\}\}$", re.DOTALL)


def open_template(path: Path, label: str) -> Workbook:
    """Read an .xlsx template the program lays rows into; a clear message when it is not one."""
    if not path.is_file():
        raise TemplateError(f"{label}：模板文件不存在")
    read_template(path, label)  # sizes and declarations, before openpyxl parses it
    try:
        return load_workbook(path)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise TemplateError(f"模板 {label} 无法打开（不是有效的 .xlsx 文件）：{exc}") from None


@dataclass
class ModelRow:
    """One template row: its cells (column → value, style), height and merges starting on it."""

    number: int
    values: dict[int, Any]
    styles: dict[int, Any]
    height: float | None
    merges: list[tuple[int, int, int, int]]
    """(first row, last row, first column, last column), rows relative to this row."""
    name: str = ""
    """The model row's name; empty for a row printed as it stands."""

    def columns(self, prefix: str) -> dict[str, str]:
        """Field → column letter of the cells holding one tag ``{{ prefix.field }}``."""
        found = {}
        for col, value in self.values.items():
            lone = _LONE.match(value) if isinstance(value, str) else None
            if lone and lone.group(1).startswith(prefix + "."):
                found[lone.group(1)[len(prefix) + 1:]] = get_column_letter(col)
        return found

    def shared(self, name: str) -> list[int]:
        """Columns whose text has tags but names no field of ``name``: alike for a whole block of rows."""
        cols = []
        for col, value in self.values.items():
            if isinstance(value, str) and "{{" in value:
                used = meta.find_undeclared_variables(TEXT_ENV.parse(value))
                if name not in used:
                    cols.append(col)
        return cols


@dataclass
class SheetTemplate:
    """One sheet of a template: its rows read, the sheet emptied for the program to fill."""

    ws: Worksheet
    where: str
    rows: list[ModelRow] = field(default_factory=list)

    @classmethod
    def read(cls, ws: Worksheet, where: str) -> SheetTemplate:
        merges: dict[int, list[tuple[int, int, int, int]]] = {}
        for rng in ws.merged_cells.ranges:
            merges.setdefault(rng.min_row, []).append((0, rng.max_row - rng.min_row, rng.min_col, rng.max_col))
        rows = []
        for number in range(1, ws.max_row + 1):
            values = {c: Formula(cell.value) if cell.data_type == "f" else cell.value
                      for c in range(1, ws.max_column + 1)
                      if (cell := ws._cells.get((number, c))) is not None}
            styles = {c: copy(ws._cells[(number, c)]._style) for c in values}
            first = values.get(1)
            mark = MARK.match(first) if isinstance(first, str) else None
            if mark and isinstance(first, str):
                values[1] = first[mark.end():] or None
            dim = ws.row_dimensions.get(number)
            rows.append(ModelRow(number, values, styles, dim.height if dim is not None else None,
                             merges.get(number, []), mark.group(1) if mark else ""))
        ws._cells.clear()
        ws.merged_cells = MultiCellRange()
        ws.row_dimensions.clear()
        ws.conditional_formatting._cf_rules.clear()
        return cls(ws, where, rows)

    def model(self, name: str) -> ModelRow:
        """The model row of this name (the first, when there are several)."""
        for row in self.rows:
            if row.name == name:
                return row
        raise TemplateError(f"{self.where}：缺少以 {{%tr {name} %}} 开头的行")

    def widths(self) -> dict[int, float]:
        """Each used column's width in the template (Excel's default where none is set)."""
        columns = max((max(r.values, default=0) for r in self.rows), default=0)
        return {c: self.ws.column_dimensions[get_column_letter(c)].width or 8.43
                for c in range(1, columns + 1)}

    def fill(self, context: Mapping[str, Any], blocks: Mapping[str, Callable[[Writer, ModelRow], None]]) -> Writer:
        """Write the fixed rows in order, and each model row named in blocks by its function;
        model rows named nowhere are the looks those functions use."""
        out = Writer(self, context)
        for row in self.rows:
            if not row.name:
                out.write(row, {})
            elif row.name in blocks:
                blocks[row.name](out, row)
        return out


class Writer:
    """The sheet being written, row after row."""

    def __init__(self, sheet: SheetTemplate, context: Mapping[str, Any]):
        self.sheet = sheet
        self.ws = sheet.ws
        self.context = dict(context)
        self.row = 1

    def write(self, model: ModelRow, local: Mapping[str, Any], values: Mapping[int, Any] | None = None,
              height: float | None = None) -> int:
        """Write one row in the look of model, its tags filled from local and the context; values
        (column → value, formulas as Formula) are the program's. Returns the row written."""
        at = self.row
        scope = {**self.context, **local}
        for col, raw in model.values.items():
            value = values[col] if values and col in values else _filled(
                raw, scope, f"{self.sheet.where}!{get_column_letter(col)}{model.number}")
            self.cell(at, col, value)
            self.ws._cells[(at, col)]._style = copy(model.styles[col])
        for col in (values or {}):
            if col not in model.values:
                self.cell(at, col, values[col])  # type: ignore[index]
        for top, bottom, left, right in model.merges:
            self.ws.merge_cells(start_row=at + top, start_column=left, end_row=at + bottom, end_column=right)
        if height or model.height:
            self.ws.row_dimensions[at].height = height or model.height
        self.row += 1
        return at

    def cell(self, row: int, col: int, value: Any) -> None:
        """A Formula as a formula; any other text as text, whatever it starts with."""
        if isinstance(value, Formula):
            self.ws.cell(row, col, str(value))
        elif isinstance(value, Decimal) and value == value.to_integral_value():
            self.ws.cell(row, col, int(value))
        else:
            put(self.ws, row, col, value)

    def skip(self, count: int, height: float | None = None) -> int:
        """Leave rows empty (a chart's place); returns the first of them."""
        first = self.row
        for r in range(first, first + count):
            if height:
                self.ws.row_dimensions[r].height = height
        self.row += count
        return first


def _filled(raw: Any, scope: Mapping[str, Any], where: str) -> Any:
    """A template cell's value for one row: a lone tag keeps its value's kind (a number, a
    formula, nothing); other text with tags is rendered; anything else is kept."""
    if not isinstance(raw, str) or ("{{" not in raw and "{%" not in raw):
        return raw
    lone = _LONE.match(raw)
    if lone:
        value = evaluate(lone.group(1), dict(scope), where)
        if value is None or isinstance(value, (int, Decimal, Formula)) and not isinstance(value, bool):
            return value
        return fits(xml_safe(str(TEXT_ENV.finalize(value))), where) or None  # type: ignore[misc]
    try:
        rendered = text_template(raw, where).render(**scope)
    except JinjaError as exc:
        raise TemplateError(f"{where}：{exc}") from None
    return fits(xml_safe(rendered), where) or None
