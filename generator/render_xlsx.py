"""Render .xlsx templates: Jinja text tags, a repeating row, and program-written formula blocks.

How a template is written (a clerk can edit one in Excel or WPS):

- Any cell may hold text with tags, as in Word templates: ``编制单位：{{ street_office }}``.
  The filters of generator/filters.py work: ``{{ funding.total|daxie }}``.
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
  the program writes (``BLOCKS`` names them): for the budget, the total, the category
  subtotals and the funding split, as live formulas over the repeating rows above it, in the
  template's named cell styles (``STYLE_*``); restyle them by editing those styles.
- Text from the data is always written as text, even when it starts with = + - or @, and a
  tag in the data is never evaluated.

The budget template (templates/xlsx/budget.xlsx, built by tools/make_xlsx_templates.py)
keeps its line-item columns where ``BUDGET_COLUMNS`` says: the formulas rely on it.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import pickle
import re
import unicodedata
from collections.abc import Callable
from copy import copy
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import TemplateError as JinjaError
from jinja2 import Undefined
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.formula.translate import Translator
from openpyxl.utils import get_column_letter
from openpyxl.workbook.properties import CalcProperties
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from generator.contexts import RULE_NAMES
from generator.errors import TemplateError
from generator.jinja_env import TEXT_ENV, xml_safe
from generator.ziputil import normalize_zip

FIXED_TIME = dt.datetime(2000, 1, 1)
"""Document created/modified time, so the same context always gives the same bytes."""

_LOOP = re.compile(r"^\{%-?\s*tr\s+for\s+(\w+)\s+in\s+(.+?)\s*-?%\}")
_BLOCK = re.compile(r"^\{%-?\s*tr\s+(\w+)\s*-?%\}\s*$")
_LONE_TAG = re.compile(r"^\s*\{\{(?:(?!\}\}|\{\{).)*\}\}\s*$", re.DOTALL)

BUDGET_COLUMNS = {
    "no": "A", "category": "B", "item": "C", "description": "D", "quantity": "E", "unit": "F",
    "unit_price": "G", "amount": "H", "before_meter": "I", "after_meter": "J", "rule": "K",
}
"""Where the budget template keeps each line-item field; the formulas rely on it. Column K
shows ``line.rule_name``: the general items' total is a SUMIF on it."""

STYLE_TITLE = "表格标题"
STYLE_NOTE = "表外文字"
STYLE_SECTION = "小节标题"
STYLE_HEAD = "表头"
STYLE_TEXT = "表内文字"
STYLE_CENTER = "表内居中"
STYLE_MONEY = "表内金额"
STYLE_PERCENT = "表内比例"
STYLES = (STYLE_TITLE, STYLE_NOTE, STYLE_SECTION, STYLE_HEAD, STYLE_TEXT, STYLE_CENTER,
          STYLE_MONEY, STYLE_PERCENT)
"""Named cell styles of the budget template; a clerk restyles the summary by editing them."""

Row = dict[str, Any]
"""One program-written row: column letter → value, plus optional style, merge, height, bold."""

Spans = dict[str, tuple[int, int]]
"""Each repeating row's expression (``items``) → the first and last sheet rows it became."""


class Formula(str):
    """A cell value to write as a formula (every other str is written as text)."""


# ---------------------------------------------------------------- generic rendering


def render_workbook(template: Path, context: dict[str, Any]) -> bytes:
    """Fill every sheet of an .xlsx template from a context and return repeatable bytes."""
    wb = _load(template)
    for ws in wb.worksheets:
        fill_sheet(ws, context, template.name)
    return save_workbook(wb)


def save_workbook(wb: Workbook) -> bytes:
    """Save with fixed properties and zip entries, asking Excel to recalculate on opening."""
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.lastModifiedBy = None
    # No cached results are stored, so tell Excel to compute every formula when it opens.
    wb.calculation = CalcProperties(fullCalcOnLoad=True)
    out = io.BytesIO()
    wb.save(out)
    return normalize_zip(out.getvalue())


def fill_sheet(ws: Worksheet, context: dict[str, Any], source: str = "") -> Spans:
    """Render a sheet's tags, repeating rows and block rows; return where the repeated rows went."""
    where = f"{source} {ws.title}"
    # Markers are found before anything is rendered, so a tag-like text in the data is inert.
    loops: dict[int, str] = {}
    blocks: list[tuple[int, str]] = []
    for cell in ws["A"]:
        if isinstance(cell.value, str) and (loop := _LOOP.match(cell.value)):
            loops[cell.row] = loop.group(2)
        elif isinstance(cell.value, str) and (block := _BLOCK.match(cell.value)):
            if block.group(1) not in BLOCKS:
                raise TemplateError(f"{where}!{cell.coordinate}：未知的程序生成行"
                                    f"“{block.group(1)}”，可用：{'、'.join(BLOCKS)}")
            blocks.append((cell.row, block.group(1)))
    markers = set(loops) | {row for row, _ in blocks}
    for row in ws.iter_rows():
        for cell in row:
            if cell.row not in markers and isinstance(cell.value, str) and cell.data_type == "s":
                _fill(cell, cell.value, context, f"{where}!{cell.coordinate}")
    counts = {r: 0 for r in loops}
    for row_no in reversed(loops):  # bottom-up, so the rows still to expand keep their numbers
        counts[row_no] = _expand(ws, row_no, context, where)

    def moved(row_no: int) -> int:
        """Where a template row ends up once the repeating rows above it are written."""
        return row_no + sum(counts[r] - 1 for r in loops if r < row_no)

    spans: Spans = {}
    for row_no, expr in loops.items():
        first = moved(row_no)
        spans[expr] = (first, first + counts[row_no] - 1)
    grown = 0
    for row_no, name in blocks:  # top-down: each block only refers to rows above it
        row = moved(row_no) + grown
        specs = BLOCKS[name](context, spans, row)
        grown += _replace_row(ws, row, specs)
    return spans


def _load(template: Path) -> Workbook:
    """A fresh copy of the template workbook; the file is read and parsed once per process."""
    if not template.is_file():
        raise TemplateError(f"{template}：模板文件不存在")
    stat = template.stat()
    wb: Workbook = pickle.loads(_parsed(template, stat.st_mtime_ns, stat.st_size))
    for ws in wb.worksheets:  # pickle drops the row/column dimension factories of a defaultdict
        ws.row_dimensions.default_factory = ws._add_row
        ws.column_dimensions.default_factory = ws._add_column
    return wb


@lru_cache(maxsize=32)
def _parsed(template: Path, mtime_ns: int, size: int) -> bytes:
    # Unpickling a parsed workbook is about twenty times faster than parsing the file again.
    return pickle.dumps(load_workbook(template))


def _expand(ws: Worksheet, row_no: int, context: dict[str, Any], where: str) -> int:
    """Write the repeating row once per element; return how many rows it became."""
    marker = ws.cell(row_no, 1)
    match = _LOOP.match(str(marker.value))
    assert match is not None
    name, expr = match.groups()
    items = _evaluate(expr, context, f"{where}!{marker.coordinate}")
    if not isinstance(items, (list, tuple)):
        raise TemplateError(f"{where}!{marker.coordinate}：{expr} 不是列表，不能逐行重复")
    source = [(c.column, c.value, c.data_type == "f", copy(c._style)) for c in ws[row_no]]
    source[0] = (1, str(marker.value)[match.end():], False, source[0][3])
    height = ws.row_dimensions[row_no].height
    merges = [r.coord for r in ws.merged_cells.ranges if r.min_row == r.max_row == row_no]
    for coord in merges:
        ws.unmerge_cells(coord)
    for col, *_ in source:
        ws.cell(row_no, col).value = None
    if not items:
        _shift_rows(ws, row_no + 1, -1)
        return 0
    _shift_rows(ws, row_no + 1, len(items) - 1)
    for index, item in enumerate(items):
        row = row_no + index
        scope = {**context, name: item}
        for col, value, is_formula, style in source:
            cell = ws.cell(row, col)
            cell._style = copy(style)
            origin = f"{get_column_letter(col)}{row_no}"
            if is_formula:
                cell.value = Translator(value, origin).translate_formula(cell.coordinate)
            elif isinstance(value, str):
                _fill(cell, value, scope, f"{where}!{origin}（第{index + 1}行数据）")
            else:
                cell.value = value
        ws.row_dimensions[row].height = _fitted_height(ws, row, height)
        for coord in merges:
            ws.merge_cells(re.sub(r"\d+", str(row), coord))
    return len(items)


def _fitted_height(ws: Worksheet, row: int, height: float | None) -> float | None:
    """A row height that shows all its wrapped text: LibreOffice and Excel do not reliably
    grow a row to fit when they open a file, so the file says how tall the row is."""
    lines, size = 1, 11.0
    for cell in ws[row]:
        if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
            continue
        font = float(cell.font.sz or 11)
        # A width counts the default font's digits; a CJK character is about two of them.
        width = max((ws.column_dimensions[cell.column_letter].width or 8.43) - 1, 1)
        needed = sum(
            max(1, math.ceil(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1
                                 for ch in part) * font / 11 / width))
            for part in cell.value.split("\n")
        )
        if needed > lines:
            lines, size = needed, font
    if lines == 1:
        return height
    return max(height or 0, round(lines * size * 1.25 + 4, 1))


def _shift_rows(ws: Worksheet, first: int, delta: int) -> None:
    """Move rows from `first` down by delta (up if negative), with their merges and heights."""
    last = ws.max_row
    if not delta or first > last:
        return
    ws.move_range(f"A{first}:{get_column_letter(ws.max_column)}{last}", rows=delta)
    # The merged ranges live in a set: take them out before moving them, or they are lost in it.
    below = [rng for rng in ws.merged_cells.ranges if rng.min_row >= first]
    for rng in below:
        ws.merged_cells.remove(rng)
    for rng in below:
        rng.shift(row_shift=delta)
        ws.merged_cells.add(rng)
    rows = range(last, first - 1, -1) if delta > 0 else range(first, last + 1)
    for r in rows:
        ws.row_dimensions[r + delta].height = ws.row_dimensions[r].height
        ws.row_dimensions[r].height = None


@lru_cache(maxsize=4096)
def _expression(expr: str) -> Any:
    """Compiled once per process: the same cells recur in every workbook of a batch."""
    return TEXT_ENV.compile_expression(expr, undefined_to_none=False)


@lru_cache(maxsize=4096)
def _text_template(text: str) -> Any:
    return TEXT_ENV.from_string(text)


def _evaluate(expr: str, context: dict[str, Any], where: str) -> Any:
    try:
        value = _expression(expr)(**context)
        if isinstance(value, Undefined):
            str(value)  # StrictUndefined raises here, naming the missing field
        return value
    except JinjaError as exc:
        raise TemplateError(f"{where}：{exc}") from None


def _fill(cell: Cell, text: str, context: dict[str, Any], where: str) -> None:
    """Render one cell's tags; a lone tag keeps a number a number."""
    if "{{" not in text and "{%" not in text:
        return
    if _LONE_TAG.match(text):
        value = _evaluate(text.strip()[2:-2], context, where)
        if value is None:
            cell.value = None
            return
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            put(cell, value)
            return
    try:
        rendered = _text_template(text).render(context)
    except JinjaError as exc:
        raise TemplateError(f"{where}：{exc}") from None
    put(cell, rendered or None)


def put(cell: Cell, value: Any) -> None:
    """Write a value: Formula as a formula, Decimal as a number, any other str always as text."""
    if isinstance(value, Formula):
        cell.value = str(value)
    elif isinstance(value, str):
        cell.value = xml_safe(value)
        cell.data_type = "s"  # openpyxl would turn "=..." into a formula
    elif isinstance(value, Decimal):
        cell.value = float(value)  # ≤ 2 decimals: exact enough, and Excel's formulas do the rest
    else:
        cell.value = value


def _replace_row(ws: Worksheet, row: int, specs: list[Row]) -> int:
    """Put program-written rows where a block row was; return how many rows the sheet grew."""
    missing = [name for name in STYLES if name not in ws.parent.named_styles]
    if missing:
        raise TemplateError(f"{ws.title}：模板缺少单元格样式 {'、'.join(missing)}")
    for rng in [r.coord for r in ws.merged_cells.ranges if r.min_row <= row <= r.max_row]:
        ws.unmerge_cells(rng)
    for cell in ws[row]:
        cell.value = None
    if not specs:
        _shift_rows(ws, row + 1, -1)
        return -1
    _shift_rows(ws, row + 1, len(specs) - 1)
    for offset, spec in enumerate(specs):
        _write_row(ws, row + offset, spec)
    return len(specs) - 1


# ---------------------------------------------------------------- the budget sheet


def budget_summary(context: dict[str, Any], spans: Spans, row: int) -> list[Row]:
    """The budget's total, category subtotals and funding split, as formulas over the items."""
    if "items" not in spans or not context.get("items"):
        raise TemplateError("工程预算及资金筹集表：{%tr budget_summary %} 之上须有 "
                            "{%tr for line in items %} 行，且项目须有预算项目")
    first, last = spans["items"]
    rows = _Rows(first, last, row)
    _budget_summary(rows, context, _split_rules(context["programme"]))
    return rows.specs


BLOCKS: dict[str, Callable[[dict[str, Any], Spans, int], list[Row]]] = {
    "budget_summary": budget_summary,
}
"""Rows the program writes in place of a ``{%tr name %}`` row, by name."""


def _split_rules(programme: dict[str, Any]) -> dict[str, tuple[dict[str, Decimal], str]]:
    """The programme's shares and remainder party per rule, which the formulas are built from."""
    missing = [k for k in ("general_split", "pipeline_split")
               if not isinstance(programme.get(k), dict)]
    if missing:
        fields = "、".join(f"programme.{k}" for k in missing)
        raise TemplateError(f"渲染数据缺少 {fields}（分担比例与尾差承担方）")
    g, p = programme["general_split"], programme["pipeline_split"]
    return {
        "general": ({k: Decimal(g[k]) for k in ("city", "district", "residents")},
                    g["remainder_to"]),
        "pipeline": ({"utility": Decimal(p["utility_percent"]),
                      "district": Decimal(p["district_percent"])}, p["remainder_to"]),
    }


class _Rows:
    """The summary rows being built under the line items, which know their own row numbers."""

    def __init__(self, first: int, last: int, start: int) -> None:
        self.first, self.last, self.start = first, last, start
        self.specs: list[Row] = []
        self.sections = iter("二三四五六七")

    @property
    def next(self) -> int:
        """The sheet row the next appended row will land on."""
        return self.start + len(self.specs)

    def add(self, spec: Row) -> int:
        """Append a row; return its sheet row number."""
        row = self.next
        self.specs.append(spec)
        return row

    def heading(self, text: str) -> None:
        self.add({"A": f"{next(self.sections)}、{text}", "merge": ["A:K"],
                  "style": STYLE_SECTION, "height": 20})

    def col(self, key: str) -> str:
        """The line items' range of one column, absolute: $H$6:$H$10."""
        letter = BUDGET_COLUMNS[key]
        return f"${letter}${self.first}:${letter}${self.last}"


def _budget_summary(
    rows: _Rows, ctx: dict[str, Any], splits: dict[str, tuple[dict[str, Decimal], str]]
) -> None:
    """Total, category subtotals, pipeline split, general split, totals by party."""
    names = ctx["programme"]["parties"]
    total_row = rows.add({"A": "合计", "H": Formula(f"=SUM({rows.col('amount')})"),
                          "I": Formula(f"=SUM({rows.col('before_meter')})"),
                          "J": Formula(f"=SUM({rows.col('after_meter')})"),
                          "merge": ["A:G"], "bold": True})
    total = f"$H${total_row}"

    # SUMIF on the category column, so a line moved to another category moves its amount too.
    rows.heading("分类汇总")
    rows.add(_header("类别", "金额（元）", "金额（万元）", "占预算比例"))
    for no, cat in enumerate(ctx["categories"], start=1):
        r = rows.next
        rows.add(_money_row(r, no, cat["name"], Formula(
            f"=SUMIF({rows.col('category')},B{r},{rows.col('amount')})"), total))

    # The funding plan starts a page of its own, the one that is signed.
    funding_first = len(rows.specs)
    parts: dict[str, list[str]] = {k: [] for k in ("city", "district", "residents", "utility")}
    for key, cell in _pipeline_split(rows, ctx, splits["pipeline"]).items():
        parts[key].append(cell)
    general, other = _general_split(rows, ctx, splits["general"])
    for key, cell in general.items():
        parts[key].append(cell)
    rows.specs[funding_first]["page_break"] = True

    # Every party's total is a sum of the cells above, so any change flows through.
    rows.heading("资金来源汇总")
    rows.add(_header("出资方", "金额（元）", "金额（万元）", "占预算比例"))
    sums = {**{k: "+".join(v) or "0" for k, v in parts.items()}, **other}
    party_rows = {}
    for no, key in enumerate(sums, start=1):
        party_rows[key] = rows.add(_money_row(rows.next, no, names[key],
                                              Formula(f"={sums[key]}"), total))
    first_party, last_party = min(party_rows.values()), max(party_rows.values())
    all_rows = rows.next
    rows.add(_money_row(all_rows, "", "合计", Formula(f"=SUM(H{first_party}:H{last_party})"),
                        total, bold=True))
    rows.add(_note_row("", "校核：各方合计减工程预算总额（应为0.00）",
                       Formula(f"=H{all_rows}-{total}"), ""))
    households = rows.add(_note_row("", "小区户数（户）", ctx["community"]["households"], "",
                                    number_format="0_ "))
    residents = f"H{party_rows['residents']}"
    rows.add(_note_row("", f"{names['residents']}户均分担（元/户）",
                       Formula(f"=IF(H{households}=0,0,ROUND({residents}/H{households},2))"),
                       f"{names['residents']}合计÷户数，四舍五入到分"))


def _pipeline_split(
    rows: _Rows, ctx: dict[str, Any], rule: tuple[dict[str, Decimal], str]
) -> dict[str, str]:
    """Per pipeline line: before the meter split by percent, after it the residents'; totals."""
    shares, remainder_to = rule
    names = ctx["programme"]["parties"]
    lines = [(rows.first + i, line) for i, line in enumerate(ctx["items"])
             if line["rule"] == "pipeline"]
    if not lines:
        return {}
    ratio = "、".join(f"{names[k]}{_num(v)}%" for k, v in shares.items())
    rows.heading(f"管线项目分担（表（箱）前段：{ratio}，尾差由{names[remainder_to]}承担；"
                 f"表（箱）后段由{names['residents']}承担）")
    rows.add(_header("改造项目", "表（箱）前\n金额", names["utility"], names["district"],
                     f"表（箱）后\n（{names['residents']}）"))
    before, after = BUDGET_COLUMNS["before_meter"], BUDGET_COLUMNS["after_meter"]
    first = rows.next
    for no, (item_row, ln) in enumerate(lines, start=1):
        r = rows.next  # the split refers to cells of its own row
        split = _split_formulas(f"H{r}", shares, remainder_to,
                                {"utility": f"I{r}", "district": f"J{r}"})
        rows.add({"A": no, "B": f"{ln['item']}（第{ln['no']}项）",
                  "H": Formula(f"={before}{item_row}"), "I": split["utility"],
                  "J": split["district"], "K": Formula(f"={after}{item_row}"), "merge": ["B:G"]})
    r = rows.add({"B": "合计", "merge": ["B:G"], "bold": True,
                  **{k: Formula(f"=SUM({k}{first}:{k}{rows.next - 1})") for k in "HIJK"}})
    return {"utility": f"I{r}", "district": f"J{r}", "residents": f"K{r}"}


def _general_split(
    rows: _Rows, ctx: dict[str, Any], rule: tuple[dict[str, Decimal], str]
) -> tuple[dict[str, str], dict[str, str]]:
    """General items less the other sources, split by shares; return the cells of each part."""
    shares, remainder_to = rule
    names = ctx["programme"]["parties"]
    funding = ctx["funding"]
    whole = _num(sum(shares.values()))
    ratio = "：".join(_num(v) for v in shares.values())
    rows.heading(f"一般项目分担（{'：'.join(names[k] for k in shares)}＝{ratio}，"
                 f"尾差由{names[remainder_to]}承担）")
    rows.add(_header("项目", "金额（元）", "计算方法"))
    pipeline = RULE_NAMES["pipeline"]  # what the 资金渠道 column shows for a pipeline line
    items = rows.add(_note_row(
        1, "一般项目及公共服务设施金额",
        Formula(f'=SUMIF({rows.col("rule")},"<>{pipeline}",{rows.col("amount")})'),
        f"资金渠道不是“{pipeline}”的各项金额之和"))
    fund = rows.add(_note_row(2, f"减：{names['maintenance_fund']}", funding["maintenance_fund"],
                              "按筹集数填写"))
    social = rows.add(_note_row(3, f"减：{names['social_capital']}", funding["social_capital"],
                                "按筹集数填写"))
    base = rows.add(_note_row(4, "按比例分担的金额", Formula(f"=H{items}-H{fund}-H{social}"),
                              "第1项减第2、3项"))
    cells = {k: f"H{base + 1 + i}" for i, k in enumerate(shares)}
    split = _split_formulas(f"H{base}", shares, remainder_to, cells)
    for no, (k, share) in enumerate(shares.items(), start=5):
        how = (f"第4项减其他{len(shares) - 1}方，承担尾差" if k == remainder_to
               else f"第4项×{_num(share)}/{whole}，四舍五入到分")
        rows.add(_note_row(no, f"{names[k]}（{_num(share)}/{whole}）", split[k], how))
    return cells, {"maintenance_fund": f"H{fund}", "social_capital": f"H{social}"}


def _split_formulas(
    base: str, shares: dict[str, Decimal], remainder_to: str, cells: dict[str, str]
) -> dict[str, Formula]:
    """funding.split as formulas: ROUND(base*share/sum,2), and the remainder party base − others."""
    whole = _num(sum(shares.values()))
    out = {k: Formula(f"=ROUND({base}*{_num(v)}/{whole},2)") for k, v in shares.items()
           if k != remainder_to}
    others = "-".join(cells[k] for k in shares if k != remainder_to)
    out[remainder_to] = Formula(f"={base}-{others}")
    return out


def _num(value: Decimal | int) -> str:
    return format(Decimal(value).normalize(), "f")


def _header(label: str, *heads: str) -> Row:
    # A fixed height: Excel does not grow a row to fit wrapped text when it opens a file.
    row: Row = {"A": "序号", "B": label, "style": STYLE_HEAD, "merge": ["B:G"], "height": 30}
    row.update(zip("HIJK", heads, strict=False))
    if len(heads) < 4:  # the last heading spans to column K
        row["merge"].append(f"{'HIJK'[len(heads) - 1]}:K")
    return row


def _money_row(
    r: int, no: int | str, label: str, amount: Any, total: str, bold: bool = False
) -> Row:
    return {"A": no, "B": label, "H": amount, "I": Formula(f"=H{r}/10000"),
            "J": Formula(f"=IF({total}=0,0,H{r}/{total})"), "merge": ["B:G", "J:K"],
            "bold": bold, "percent": "J"}


def _note_row(no: int | str, label: str, amount: Any, note: str, number_format: str = "") -> Row:
    row: Row = {"A": no, "B": label, "H": amount, "I": note, "merge": ["B:G", "I:K"]}
    if number_format:
        row["format"] = number_format
    return row


def _write_row(ws: Worksheet, r: int, spec: Row) -> None:
    """Write one summary row in the template's named styles, then merge its ranges."""
    for index in range(1, len(BUDGET_COLUMNS) + 1):
        letter = get_column_letter(index)
        cell = ws.cell(r, index)
        value = spec.get(letter)
        cell.style = spec.get("style") or _body_style(letter, value, spec)
        if value is not None and value != "":
            put(cell, value)
        if spec.get("bold"):
            font = copy(cell.font)
            font.b = True
            cell.font = font
        if letter == "H" and "format" in spec:
            cell.number_format = spec["format"]
    for span in spec.get("merge", []):
        a, b = span.split(":")
        # Every cell of the row already has its style and no value: skip openpyxl's slow clean-up.
        ws.merged_cells.add(CellRange(f"{a}{r}:{b}{r}"))
    if "height" in spec:
        ws.row_dimensions[r].height = spec["height"]
    if spec.get("page_break"):
        ws.row_breaks.append(Break(id=r - 1))  # a break after the row above


def _body_style(letter: str, value: Any, spec: Row) -> str:
    if letter == "A":
        return STYLE_CENTER
    if letter == spec.get("percent"):
        return STYLE_PERCENT
    if isinstance(value, (Formula, int, Decimal)) and not isinstance(value, bool):
        return STYLE_MONEY
    return STYLE_TEXT
