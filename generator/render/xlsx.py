"""Render .xlsx templates: Jinja text tags, a repeating row, and program-written formula blocks.

How a template is written (a clerk can edit one in Excel or WPS):

- Any cell may hold text with tags, as in Word templates: ``编制单位：{{ street_office }}``.
  The filters of generator/render/filters.py work: ``{{ funding.total|daxie }}``.
- A cell holding nothing but one tag, such as ``{{ line.quantity }}``, keeps the value's kind:
  a number stays a number that formulas can use; an empty value leaves the cell blank.
- The repeating row: a row whose FIRST cell starts with ``{%tr for line in items %}`` is
  written once for each element of ``items``, one row each, in order. The marker itself is
  dropped; the rest of that cell and the other cells of the row are filled for each element.
  Only that one row repeats: there is no ``endfor``. The rows below it move down, with their
  merged cells and heights. Formulas in the repeating row are copied as Excel fills down:
  ``=ROUND(E6*G6,2)`` becomes ``=ROUND(E7*G7,2)`` on the next line. Formulas in other rows
  are kept as written, so put no totals below the repeating row.
- A block row: a row whose first cell is just ``{%tr budget_summary %}`` is replaced by rows
  the program writes. The document kind names its blocks (``render.blocks.Blocks``): for the
  budget, the total, the category subtotals and the funding split, as live formulas over the
  repeating rows above it, in the template's named cell styles; restyle them by editing those styles.
- Text from the data is always written as text, even when it starts with = + - or @, and a
  tag in the data is never evaluated.
- Conditional formats, data validations and print areas stay where the template has them;
  array formulas are not supported (write an ordinary formula).

How it is rendered: as with Word templates, each template is read and prepared once per process
(``CompiledXlsx``): its cells are sorted into plain values, tags and formulas, the styles the
program-written rows need are added to its style sheet, and every part but the sheets is
compressed once. Each document then writes only its sheets' XML.

The budget template (templates/xlsx/budget.xlsx, an ordinary workbook edited in Excel or WPS)
keeps its line-item columns where ``documents.budget_sheet.BUDGET_COLUMNS`` says: the formulas rely on it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from jinja2 import Template, Undefined, meta
from jinja2 import TemplateError as JinjaError
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.formula.translate import Translator
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.properties import CalcProperties
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.worksheet.worksheet import Worksheet

from generator.errors import TemplateError
from generator.render.blocks import NO_BLOCKS, Blocks, Formula, Row, Spans
from generator.render.env import TEXT_ENV, render_budget, xml_safe
from generator.render.formulas import cached_or_areas
from generator.render.sheet_words import WORDING, take_wording
from generator.render.ziputil import Entry, deflate, fixed, normalize_zip, read_members, read_template, write_zip

FIXED_TIME = dt.datetime(2000, 1, 1)
"""Document created/modified time, so the same context always gives the same bytes."""

LOOP_ROW = re.compile(r"^\{%-?\s*tr\s+for\s+(\w+)\s+in\s+(.+?)\s*-?%\}")
BLOCK_ROW = re.compile(r"^\{%-?\s*tr\s+(\w+)\s*-?%\}\s*$")
_LONE_TAG = re.compile(r"^\s*\{\{(?:(?!\}\}|\{\{).)*\}\}\s*$", re.DOTALL)
_PATH = re.compile(r"^\s*([A-Za-z_]\w*)(?:\.[A-Za-z_]\w*)*\s*$")
_CONSTANTS = frozenset({"true", "false", "none", "True", "False", "None"})
_SHEET_DATA = re.compile(r"<sheetData\s*/>|<sheetData>.*</sheetData>", re.DOTALL)
_DIMENSION = re.compile(r"<dimension [^>]*/>")
_ELEMENT = re.compile(r"<(\w+)\b")

_AFTER_SHEET_DATA = (
    "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
    "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
    "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
    "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
    "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
    "controls", "webPublishItems", "tableParts", "extLst",
)
"""The elements that may follow sheetData, in the order the file format requires."""

Value = Formula | str | int | float | Decimal | bool | None
"""What a cell holds once rendered: a Formula, text, a number, a truth value or nothing."""


# ---------------------------------------------------------------- entry points


def save_workbook(wb: Workbook) -> bytes:
    """Save with fixed properties and zip entries, asking Excel to recalculate on opening."""
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.lastModifiedBy = None
    # Cached results are computed here (render/formulas.py), Excel's own come on opening.
    wb.calculation = CalcProperties(fullCalcOnLoad=True)
    explicit_fonts(wb)
    out = BytesIO()
    wb.save(out)
    return normalize_zip(out.getvalue())


def explicit_fonts(wb: Workbook) -> None:
    """Fonts by name only, never the theme's (scheme): WPS would put its own default in their place."""
    for font in wb._fonts:
        font.scheme = None


def render_workbook(template: Path, context: dict[str, Any], blocks: Blocks = NO_BLOCKS) -> bytes:
    """Fill every sheet of an .xlsx template from a context and return repeatable bytes."""
    if not template.is_file():
        raise TemplateError(f"{template}：模板文件不存在")
    stat = template.stat()
    return _compiled(template, stat.st_mtime_ns, stat.st_size, blocks).render(context)


@lru_cache(maxsize=32)
def _compiled(template: Path, mtime_ns: int, size: int, blocks: Blocks) -> CompiledXlsx:
    return CompiledXlsx(template, blocks=blocks)


class CompiledXlsx:
    """One Excel template: read, checked and prepared once, rendered for each document."""

    def __init__(self, path: Path, label: str | None = None, blocks: Blocks = NO_BLOCKS):
        self.path = path
        self.label = label or str(path)
        self.blocks = blocks
        read_template(path, self.label)  # sizes and declarations, before openpyxl parses it
        try:
            wb = load_workbook(path)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise TemplateError(f"模板 {self.label} 无法打开（不是有效的 .xlsx 文件）：{exc}") from None
        self.wording = take_wording(wb)
        sheets = [_Sheet(ws, f"{path.name} {ws.title}", blocks) for ws in wb.worksheets]
        palette = _palette(wb, blocks) if any(s.block_rows for s in sheets) else {}
        # Saving after the palette is made puts every style a document can use in styles.xml.
        parts = read_members(save_workbook(wb))
        self.sheets = {ws.path[1:]: sheet for ws, sheet in zip(wb.worksheets, sheets, strict=True)}
        for name, blob in parts:
            if name in self.sheets:
                self.sheets[name].frame(blob.decode("utf-8"), palette)
        self.names = [name for name, _ in parts]
        # The parts no document changes are compressed once here, not once per document.
        self.static: dict[str, Entry] = {
            name: deflate(name, fixed(name, blob)) for name, blob in parts if name not in self.sheets
        }
        self.raw = {name: blob for name, blob in parts if name not in self.sheets}

    def render(self, context: dict[str, Any]) -> bytes:
        """Render every sheet and return the finished .xlsx as repeatable bytes.

        Every formula carries its computed value (render/formulas.py), so previews show figures.
        """
        if self.wording:
            context = {**context, WORDING: self.wording}
        with render_budget():
            parts = [(name, self.sheets[name].render(context).encode("utf-8")) if name in self.sheets
                     else (name, self.raw[name]) for name in self.names]
        # The cached values are worked out on the parts, not on a zip deflated and read back, and
        # the parts they leave as they were keep the template's deflated copy.
        return write_zip([self.static[name] if name in self.raw and blob is self.raw[name]
                          else deflate(name, fixed(name, blob)) for name, blob in cached_or_areas(parts)])


# ---------------------------------------------------------------- one sheet


@dataclass(frozen=True)
class _Cell:
    """One template cell, prepared: its column, its style and how its value is made."""

    column: int
    ref: str
    """Where the cell is in the template, for messages: D6."""
    style: int
    value: Value
    """The value as it is, when ``text`` is empty."""
    text: str = ""
    """Text with tags, rendered for each document."""
    names: frozenset[str] = frozenset()
    """The data fields the text uses: only these are handed to Jinja."""
    lone: str = ""
    """The expression of a cell that holds one tag and nothing else but spaces."""
    exact: bool = False
    """A lone tag without spaces around it: its value is the cell's."""
    wrap: bool = False
    size: float = 11.0
    width: float = 8.43


@dataclass(frozen=True)
class _Row:
    number: int
    cells: tuple[_Cell, ...]
    attrs: dict[str, str]
    height: float | None
    loop: tuple[str, str] | None = None
    """(name, expression) of a repeating row."""
    block: str | None = None
    """The name of a block row."""


class _Sheet:
    """One template sheet: its rows prepared, and the XML around its cells."""

    def __init__(self, ws: Worksheet, where: str, blocks: Blocks):
        self.where = where
        self.blocks = blocks
        self.columns = ws.max_column
        cells: dict[int, list[Cell]] = {}
        for (row, _), cell in sorted(ws._cells.items()):
            cells.setdefault(row, []).append(cell)
        numbers = sorted(set(cells) | {r for r, dim in ws.row_dimensions.items() if dict(dim)})
        self.rows = [self._row(ws, n, cells.get(n, [])) for n in numbers]
        self.block_rows = [row for row in self.rows if row.block]
        self.loop_rows = {row.number for row in self.rows if row.loop}
        self.merges = [(rng.min_row, rng.max_row, rng.min_col, rng.max_col)
                       for rng in ws.merged_cells.ranges]
        self.breaks = [brk.id for brk in ws.row_breaks.brk]
        if self.block_rows:
            missing = [name for name in blocks.styles if name not in ws.parent.named_styles]
            if missing:
                raise TemplateError(f"{ws.title}：模板缺少单元格样式 {'、'.join(missing)}")
        self.head = self.tail = ""
        self.tail_parts: list[tuple[str, str]] = []
        self.palette: dict[tuple[str, bool, str | None], int] = {}

    def _row(self, ws: Worksheet, number: int, cells: list[Cell]) -> _Row:
        dim = ws.row_dimensions.get(number)
        attrs = dict(dim) if dim is not None else {}
        first = cells[0].value if cells and cells[0].column == 1 else None
        loop = LOOP_ROW.match(first) if isinstance(first, str) else None
        block = BLOCK_ROW.match(first) if isinstance(first, str) else None
        where = f"{self.where}!A{number}"
        if block and block.group(1) not in self.blocks.rows:
            known = "、".join(self.blocks.rows) or "（无）"
            raise TemplateError(f"{where}：未知的程序生成行“{block.group(1)}”，可用：{known}")
        rest = first[loop.end():] if loop and isinstance(first, str) else None  # after the marker
        prepared = () if block else tuple(
            self._cell(ws, cell, rest if cell is cells[0] else None) for cell in cells
        )
        return _Row(number, prepared, attrs, dim.height if dim is not None else None,
                    loop=(loop.group(1), loop.group(2)) if loop else None,
                    block=block.group(1) if block else None)

    def _cell(self, ws: Worksheet, cell: Cell, text: str | None) -> _Cell:
        where = f"{self.where}!{cell.coordinate}"
        value = cell.value if text is None else text or None  # a loop marker alone leaves nothing
        style = cell.style_id if cell.has_style else 0
        if isinstance(value, (ArrayFormula, DataTableFormula)):
            raise TemplateError(f"{where}：不支持数组公式，请改用普通公式")
        if isinstance(value, str) and (cell.data_type == "f" and text is None):
            value = Formula(value)
        elif isinstance(value, (dt.datetime, dt.date, dt.time)):
            value = to_excel(value)
        if isinstance(value, str) and not isinstance(value, Formula) and ("{{" in value or "{%" in value):
            text_template(value, where)  # a syntax error is reported before any document is made
            column = ws.column_dimensions
            width = next((d.width for d in column.values() if d.min and d.max and d.min <= cell.column <= d.max
                          and d.width), 8.43)
            lone = value.strip()[2:-2] if _LONE_TAG.match(value) else ""
            return _Cell(cell.column, cell.coordinate, style, None, value,
                         frozenset(meta.find_undeclared_variables(TEXT_ENV.parse(value))),
                         lone, bool(lone) and value == value.strip(),
                         bool(cell.alignment.wrap_text), float(cell.font.sz or 11), max(width - 1, 1))
        return _Cell(cell.column, cell.coordinate, style, value)

    def frame(self, xml: str, palette: dict[tuple[str, bool, str | None], int]) -> None:
        """Keep the saved sheet's XML around the cells; merges and page breaks are made anew."""
        self.palette = palette
        data = _SHEET_DATA.search(xml)
        assert data is not None, "openpyxl always writes sheetData"
        self.head = xml[:data.start()]
        rest = xml[data.end():]
        end = rest.rindex("</worksheet>")
        self.tail_parts = [(tag, part) for tag, part in _elements(rest[:end])
                           if tag not in ("mergeCells", "rowBreaks")]
        self.tail = rest[end:]

    def render(self, context: dict[str, Any]) -> str:
        """The sheet's XML for one document."""
        out = _Out(self.palette, self.columns, self.blocks)
        spans: Spans = {}
        grown: list[tuple[int, int]] = []  # (template row, rows it became) of repeating and block rows
        shift = 0  # rows added (or, if negative, removed) above the current one
        for row in self.rows:
            first = row.number + shift
            if row.loop:
                count = self._repeat(out, row, first, context)
                spans[row.loop[1]] = (first, first + count - 1)
            elif row.block:
                specs = self.blocks.rows[row.block](context, spans, first)
                for offset, spec in enumerate(specs):
                    out.spec_row(first + offset, spec)
                count = len(specs)
            else:
                out.row(first, row.attrs, [(c, _value(c, context, {}, self.where)) for c in row.cells])
                continue
            grown.append((row.number, count))
            shift += count - 1
        moved = _Moved(grown)
        merges = self._merges(moved) + out.merges
        breaks = sorted({moved.last(r) for r in self.breaks} | set(out.breaks))
        extra = {"mergeCells": _merge_xml(merges), "rowBreaks": _breaks_xml(breaks)}
        head = _DIMENSION.sub(f'<dimension ref="A1:{get_column_letter(self.columns)}{max(out.last, 1)}"/>',
                              self.head, count=1)
        return "".join([head, "<sheetData>", *out.parts, "</sheetData>",
                        *_in_order(self.tail_parts, extra), self.tail])

    def _repeat(self, out: _Out, row: _Row, first: int, context: dict[str, Any]) -> int:
        """Write a repeating row once per element; return how many rows it became."""
        assert row.loop is not None
        name, expr = row.loop
        where = f"{self.where}!A{row.number}"
        items = evaluate(expr, context, where)
        if not isinstance(items, (list, tuple)):
            raise TemplateError(f"{where}：{expr} 不是列表，不能逐行重复")
        for index, item in enumerate(items):
            at = first + index
            values = [(c, _translated(c.value, row.number, at) if isinstance(c.value, Formula)
                       else _value(c, context, {name: item}, self.where, f"（第{index + 1}行数据）"))
                      for c in row.cells]
            attrs = dict(row.attrs)
            height = _fitted_height(values, row.height)
            if height is not None:
                attrs.update(ht=_number(height), customHeight="1")
            out.row(at, attrs, values)
        single = [m for m in self.merges if m[0] == m[1] == row.number]
        out.merges += [(at, at, lo, hi) for at in range(first, first + len(items)) for _, _, lo, hi in single]
        return len(items)

    def _merges(self, moved: _Moved) -> list[tuple[int, int, int, int]]:
        """The template's merged ranges where their rows went; those of block rows are dropped,
        those of a repeating row alone were repeated with it (_repeat)."""
        kept = []
        for top, bottom, left, right in self.merges:
            if any(top <= row.number <= bottom for row in self.block_rows):
                continue
            if top == bottom and top in self.loop_rows:
                continue
            first, last = moved.first(top), moved.last(bottom)
            if last > first or (last == first and left != right):
                kept.append((first, last, left, right))
        return kept


class _Moved:
    """Where template rows went once repeating and block rows became any number of rows."""

    def __init__(self, grown: list[tuple[int, int]]):
        self.grown = grown

    def count(self, row: int) -> int:
        return next((n for r, n in self.grown if r == row), 1)

    def first(self, row: int) -> int:
        return row + sum(n - 1 for r, n in self.grown if r < row)

    def last(self, row: int) -> int:
        return self.first(row) + self.count(row) - 1


class _Out:
    """The rows of one rendered sheet, as XML, with the merges and breaks they ask for."""

    def __init__(self, palette: dict[tuple[str, bool, str | None], int], columns: int, blocks: Blocks):
        self.palette = palette
        self.cell_style = blocks.cell_style
        self.letters = [_letter(column) for column in range(1, columns + 1)]
        self.parts: list[str] = []
        self.merges: list[tuple[int, int, int, int]] = []
        self.breaks: list[int] = []
        self.last = 0

    def row(self, number: int, attrs: dict[str, str], cells: list[tuple[_Cell, Value]]) -> None:
        self.last = number
        self.parts.append(_open_row(number, attrs))
        for cell, value in cells:
            self.parts.append(_cell_xml(f"{_letter(cell.column)}{number}", cell.style, value))
        self.parts.append("</row>")

    def spec_row(self, number: int, spec: Row) -> None:
        """One program-written row, in the template's named styles."""
        self.last = number
        attrs = {"ht": _number(spec["height"]), "customHeight": "1"} if "height" in spec else {}
        self.parts.append(_open_row(number, attrs))
        style, bold, fmt = spec.get("style"), bool(spec.get("bold")), spec.get("format")
        palette, parts, at = self.palette, self.parts, str(number)
        for letter in self.letters:  # about 500 cells a workbook: kept lean
            value = spec.get(letter)
            xf = palette[style or self.cell_style(letter, value, spec), bold, fmt if letter == "H" else None]
            parts.append(_cell_xml(letter + at, xf, None if value == "" else value))
        self.parts.append("</row>")
        for span in spec.get("merge", []):
            left, right = span.split(":")
            self.merges.append((number, number, _column(left), _column(right)))
        if spec.get("page_break"):
            self.breaks.append(number - 1)  # a break after the row above


# ---------------------------------------------------------------- values


def _value(cell: _Cell, context: dict[str, Any], local: dict[str, Any], where: str,
           note: str = "") -> Value:
    """A cell's value for one document: its tags rendered; a lone tag keeps a number a number.
    ``local`` holds the repeating row's element, which hides a field of the same name."""
    if not cell.text:
        return cell.value
    here = f"{where}!{cell.ref}{note}"
    # Jinja copies what it is given for every call: the fields the cell uses, not the whole context.
    scope = {k: local[k] if k in local else context[k]
             for k in cell.names if k in local or k in context}
    if cell.lone:
        value = evaluate(cell.lone, scope, here)
        if value is None:
            return None
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return value
        if cell.exact:  # what rendering {{ expr }} would print, without rendering it again
            return fits(xml_safe(str(TEXT_ENV.finalize(value))), here) or None  # type: ignore[misc]
    try:
        rendered = text_template(cell.text, here).render(scope)
    except JinjaError as exc:
        raise TemplateError(f"{here}：{exc}") from None
    return fits(xml_safe(rendered), here) or None


EXCEL_CELL_CHARS = 32_767
"""Excel keeps at most this many characters in a cell and cuts (or refuses to open) the rest."""


def fits(text: str, where: str) -> str:
    if len(text) > EXCEL_CELL_CHARS:
        raise TemplateError(f"{where}：填入的内容有{len(text)}个字符，超过 Excel 单元格的上限"
                            f"（{EXCEL_CELL_CHARS}个字符）；请缩短数据中的这段文字，或把它拆到几个单元格")
    return text


@lru_cache(maxsize=4096)
def _expression(expr: str) -> Any:
    """Compiled once per process: the same cells recur in every workbook of a batch."""
    return TEXT_ENV.compile_expression(expr, undefined_to_none=False)


@lru_cache(maxsize=4096)
def _compiled_text(text: str) -> Template:
    return TEXT_ENV.from_string(text)


def text_template(text: str, where: str) -> Template:
    try:
        return _compiled_text(text)
    except JinjaError as exc:
        raise TemplateError(f"{where}：{exc}") from None


@lru_cache(maxsize=4096)
def _field_path(expr: str) -> tuple[str, ...] | None:
    """line.unit_price as ("line", "unit_price"); None for anything but a plain field path."""
    match = _PATH.match(expr)
    if not match or match.group(1) in _CONSTANTS:
        return None
    return tuple(match.group(0).strip().split("."))


def evaluate(expr: str, context: dict[str, Any], where: str) -> Any:
    try:
        path = _field_path(expr)
        if path is None or path[0] not in context:
            value = _expression(expr)(**context)
        else:
            # A plain field path is looked up as Jinja would, by the sandbox's own getattr, without
            # setting up a render: most cells of a workbook are one field.
            value = context[path[0]]
            for name in path[1:]:
                if isinstance(value, Undefined):
                    break
                value = TEXT_ENV.getattr(value, name)
        if isinstance(value, Undefined):
            str(value)  # StrictUndefined raises here, naming the missing field
        return value
    except JinjaError as exc:
        raise TemplateError(f"{where}：{exc}") from None


@lru_cache(maxsize=4096)
def _translated(formula: Formula, origin_row: int, row: int) -> Formula:
    """A repeating row's formula as Excel fills it down: =ROUND(E6*G6,2) → =ROUND(E7*G7,2)."""
    return Formula(Translator(formula, f"A{origin_row}").translate_formula(f"A{row}"))


def _fitted_height(values: list[tuple[_Cell, Value]], height: float | None) -> float | None:
    """A row height that shows all its wrapped text: LibreOffice and Excel do not reliably
    grow a row to fit when they open a file, so the file says how tall the row is."""
    lines, size = 1, 11.0
    for cell, value in values:
        if isinstance(value, str) and not isinstance(value, Formula) and cell.wrap:
            needed = _lines(value, cell.size, cell.width)
            if needed > lines:
                lines, size = needed, cell.size
    if lines == 1:
        return height
    return max(height or 0, round(lines * size * 1.25 + 4, 1))


@lru_cache(maxsize=4096)
def _lines(text: str, size: float, width: float) -> int:
    """Lines a wrapped text takes in a column: a CJK character is about two of the width's digits."""
    return sum(
        max(1, math.ceil(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in part)
                         * size / 11 / width))
        for part in text.split("\n")
    )


# ---------------------------------------------------------------- XML


def _cell_xml(ref: str, style: int, value: Value) -> str:
    """One <c> element: a Formula as a formula, any other str always as text, numbers as numbers."""
    s = f' s="{style}"' if style else ""
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, Formula):
        return f'<c r="{ref}"{s}><f>{escape(value[1:])}</f><v></v></c>'
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, Decimal):  # exact: the digits the data gave
        return f'<c r="{ref}"{s}><v>{format(value, "f")}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{s}><v>{_number(value)}</v></c>'
    return f'<c r="{ref}"{s} t="e"><v>{escape(str(value))}</v></c>'


def _open_row(number: int, attrs: dict[str, str]) -> str:
    return "".join([f'<row r="{number}"', *(f' {k}="{v}"' for k, v in attrs.items()), ">"])


def _number(value: float | int) -> str:
    return f"{value:.16g}"


def _merge_xml(merges: list[tuple[int, int, int, int]]) -> str:
    if not merges:
        return ""
    refs = "".join(f'<mergeCell ref="{_letter(left)}{top}:{_letter(right)}{bottom}"/>'
                   for top, bottom, left, right in sorted(merges))
    return f'<mergeCells count="{len(merges)}">{refs}</mergeCells>'


def _breaks_xml(rows: list[int]) -> str:
    if not rows:
        return ""
    brks = "".join(f'<brk id="{r}" max="16383" man="1"/>' for r in rows)
    return f'<rowBreaks count="{len(rows)}" manualBreakCount="{len(rows)}">{brks}</rowBreaks>'


def _elements(xml: str) -> list[tuple[str, str]]:
    """The top-level elements of a run of sheet XML, as (tag, text)."""
    found = []
    at = 0
    while (start := _ELEMENT.search(xml, at)) is not None:
        tag = start.group(1)
        close = xml.find(">", start.end())
        if xml[close - 1] == "/":
            end = close + 1
        else:
            end = xml.index(f"</{tag}>", close) + len(tag) + 3
        found.append((tag, xml[start.start():end]))
        at = end
    return found


def _in_order(parts: list[tuple[str, str]], extra: dict[str, str]) -> list[str]:
    """The kept elements with the new ones put where the file format wants them."""
    rank = {tag: i for i, tag in enumerate(_AFTER_SHEET_DATA)}
    tagged = parts + [(tag, xml) for tag, xml in extra.items() if xml]
    return [xml for _, xml in sorted(tagged, key=lambda p: rank.get(p[0], len(rank)))]


@lru_cache(maxsize=256)
def _letter(column: int) -> str:
    return get_column_letter(column)


def _column(letter: str) -> int:
    return column_index_from_string(letter)


def _palette(wb: Workbook, blocks: Blocks) -> dict[tuple[str, bool, str | None], int]:
    """The style index of every look a program-written row can ask for: a named style, bold or
    not, with or without one of the blocks' number formats. Registering them adds them to styles.xml."""
    ws = wb.worksheets[0]
    palette = {}
    for name in blocks.styles:
        for bold in (False, True):
            for fmt in (None, *blocks.number_formats):
                cell = Cell(ws, row=1, column=1)  # not put in the sheet: only its style is wanted
                cell.style = name
                if bold:
                    font = copy(cell.font)
                    font.b = True
                    cell.font = font
                if fmt:
                    cell.number_format = fmt
                palette[(name, bold, fmt)] = cell.style_id
    return palette
