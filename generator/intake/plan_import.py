"""Import a plan workbook shaped like annex 1 (年度实施计划表, .xlsx) into communities.yaml.

Design choices (see also docs in the command's help):
- Formulas: a formula in a community row is refused, naming the cell and the formula, because the
  plan table is the record and a formula's saved result can be missing or stale. In 合计/总计 rows
  formulas are normal; their saved (cached) result is read and checked, and when the file was never
  recalculated by Excel/WPS (no saved result) that one check is skipped.
- Numbers typed as text (“１２３”, “1,130”, “300户”) are refused with the number they seem to mean:
  Excel's own SUM leaves text out, so the clerk's totals would already be wrong.
- Hidden rows (and hidden columns or sheets holding the table) are reported: they are easy to miss.
- Ids: an existing community (same name and 县(区), compared ignoring spaces and full/half-width
  forms) keeps its id; a new one gets `<slug>-<序号:02d>`, slug being the district's `slug` in
  districts.yaml if it has one, else `d<its 1-based position in districts.yaml>`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError

from generator.data.cells import (
    CellProblem,
    norm,
    number,
    number_in_text,
    plain,
    shown,
    text,
    text_number_hint,
    tidy,
)
from generator.data.loader import BUNDLED_DATA, describe_error, load
from generator.data.models import MAX_COUNT, MAX_WAN, Community
from generator.data.yamlio import dump_yaml, load_yaml
from generator.errors import DataError, OutputError, Problem, data_error
from generator.intake import workbook_safety
from generator.output.writer import atomic_write, os_reason

HEADER_SCAN_ROWS = 30
"""How far down a sheet the header row is looked for (title rows come above it)."""


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    """The column name as annex 1 writes it; used in messages."""
    required: bool
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("seq", "序号", True),
    Column("name", "老旧小区名称", True, ("小区名称",)),
    Column("district", "县(区)", True, ("县区", "区县", "县(市、区)", "县(市区)",
                                      # a county-level city's plan lists its towns and sub-districts
                                      "镇(街道)", "乡镇(街道)", "街道(镇)", "乡镇(街道、园区)")),
    Column("built", "建成时间", False, ("建成年代", "建成年份")),
    Column("location", "小区位置", False),
    Column("households", "户数", True, ("户数(户)",)),
    Column("investment_wan", "预计投资(万元)", True, ("投资(万元)", "计划投资(万元)")),
    Column("year", "改造年度计划", True, ("改造年度", "计划年度", "年度计划")),
    Column("remarks", "备注", False),
)
_BY_KEY = {c.key: c for c in COLUMNS}
SPREAD = {"district", "built", "location", "remarks", "year"}
"""Columns where a cell merged down over several rows applies to each of them."""


_HEADER_NAMES = {norm(name): c.key for c in COLUMNS for name in (c.title, *c.aliases)}

_SUBTOTAL = re.compile(r"^(?:\d{4}年度?|[^\d]{0,12})(合计|小计)$")  # 合计, 2018年合计, 东区小计
_TOTAL = re.compile(r"^(总计|总合计|全市合计|合计总计)$")
_FOOTNOTE = ("备注", "注:", "说明", "填表说明", "附注")
_YEAR = re.compile(r"^(\d{4})(?:年度?)?(?:\(?共(\d+)个(?:小区|项目)?\)?)?$")
NEW_CITY_HINT = ("（新城市的计划表：可用 gaizao init 新文件夹 --city 城市 --plan 计划表.xlsx，"
                 "按计划表建立县（区）和计划年度）")


# ---------------------------------------------------------------- result rows


@dataclass(frozen=True)
class PlanRow:
    """One community row read from the workbook, with where it was."""

    file: str
    """The workbook and sheet, as problems name them: 计划表.xlsx 工作表“Sheet1”."""
    row: int
    seq: int
    name: str
    district: str
    built: str | None
    location: str | None
    households: int
    investment_wan: Decimal
    year: int
    remarks: str | None
    places: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Each column's place for messages, e.g. {'households': 'F列（户数）'}."""

    def where(self, key: str) -> str:
        return self.places.get(key, _BY_KEY[key].title)


# ---------------------------------------------------------------- opening the file


def open_workbook(path: Path, data_only: bool = False) -> Workbook:
    """Open an .xlsx workbook, with a clear message for CSV, .xls, HTML, damaged and hostile files."""
    return workbook_safety.open_workbook(path, data_only=data_only)


# ---------------------------------------------------------------- reading cells


def _digits(value: int | Decimal) -> str:
    """A number too large to print whole (1e308 has 309 digits), shown by its size."""
    digits = len(str(int(value)))
    return str(value) if digits <= 15 else f"{str(int(value))[:4]}…（共{digits}位数）"


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or isinstance(value, (dt.date, dt.datetime)):
        raise CellProblem(f"应为正整数，现为{shown(value)}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if value <= 0:
            raise CellProblem(f"应为正整数，现为{value}")
        if value > MAX_COUNT:
            raise CellProblem(f"超过上限（{MAX_COUNT}），请检查是否多写了零，现为{_digits(value)}")
        return value
    if isinstance(value, str):
        raise CellProblem(f"应为正整数，现为{shown(value)}{text_number_hint(value)}")
    raise CellProblem(f"应为正整数，现为{shown(value)}")


def _lenient_int(value: Any) -> int:
    """序号 and 年度 are never summed, so a number typed as text is read as the number."""
    if isinstance(value, str):
        meant = number_in_text(value)
        if meant is not None and meant == meant.to_integral_value() and meant > 0:
            return int(meant)
    return _positive_int(value)


def _wan(value: Any) -> Decimal:
    amount = number(value, "数字（万元）")
    if amount > MAX_WAN:  # before _tidy, which would write 1e308 out in 309 digits
        raise CellProblem(f"超过上限（{plain(MAX_WAN)}万元，即1万亿元），请检查是否多写了零或单位有误，"
                           f"现为{_digits(amount)}")
    amount = tidy(amount)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > 6:
        raise CellProblem(f"最多保留6位小数，现为{amount}")
    return amount


def _total_number(value: Any) -> Decimal:
    """A 合计/总计 figure: only compared, so text numbers are read as meant."""
    if isinstance(value, str):
        meant = number_in_text(value)
        if meant is None:
            raise CellProblem(f"合计应为数字，现为{shown(value)}")
        return meant
    return _wan(value)


def _year(value: Any) -> tuple[int, int | None]:
    """改造年度计划: 2018, “2018年”, “2018年（共9个）” → (2018, 9)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = norm(value)
    else:
        raise CellProblem(f"应为年度，如“2018年”，现为{shown(value)}")
    match = _YEAR.match(text)
    year = int(match.group(1)) if match else 0
    if not match or not 1900 <= year <= 2100:
        raise CellProblem(f"应为年度，如“2018年”或“2018年（共9个）”，现为{shown(value)}")
    return year, int(match.group(2)) if match.group(2) else None


def _clean_text(value: Any) -> str | None:
    """A text cell as the data keeps it: line breaks and layout spaces in Chinese text removed."""
    if value is None:
        return None
    cleaned = re.sub(r"\s+", " ", text(value).replace("\u3000", " ")).strip()
    # spaces next to a Chinese character are left over from line wrapping in the source table
    cleaned = re.sub(r" (?=[^\x00-\x7f])|(?<=[^\x00-\x7f]) ", "", cleaned)
    return cleaned or None


# ---------------------------------------------------------------- reading a sheet


@dataclass
class _YearNote:
    file: str
    row: int
    col: int
    year: int
    count: int


@dataclass
class _SheetRead:
    rows: list[PlanRow] = field(default_factory=list)
    year_notes: list[_YearNote] = field(default_factory=list)
    unreadable: int = 0
    """Community rows with a problem: sums over them would only repeat it as a false mismatch."""


class _Sheet:
    """One worksheet holding an annex-1 table: its header, merged cells and hidden rows."""

    def __init__(self, ws: Worksheet, file: str, header_row: int, columns: dict[str, int],
                 cached: Any, values: dict[int, dict[int, Any]] | None = None) -> None:
        self.ws = ws
        self.values = values if values is not None else values_by_row(ws)
        self.file = file
        self.header_row = header_row
        self.columns = columns
        self._cached = cached
        self.problems: list[Problem] = []
        self.merged: dict[tuple[int, int], Any] = {}
        for rng in ws.merged_cells.ranges:
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    self.merged[(r, c)] = rng
        self.hidden_rows = {r for r, d in ws.row_dimensions.items() if d.hidden}

    def where(self, col: int, key: str | None = None) -> str:
        title = _BY_KEY[key].title if key else str(self.ws.cell(self.header_row, col).value or "")
        return f"{get_column_letter(col)}列（{title}）" if title else f"{get_column_letter(col)}列"

    def add(self, row: int, problem: str, key: str | None = None, col: int | None = None) -> None:
        col = col if col is not None else (self.columns[key] if key else None)
        place = self.where(col, key) if col is not None else ""
        found = Problem(self.file, problem, field=place, line=row)
        if found not in self.problems:  # a merged cell is read once per row it spans
            self.problems.append(found)

    def own(self, row: int, col: int) -> Any:
        return self.ws.cell(row, col).value

    def is_formula(self, row: int, col: int) -> bool:
        return self.ws.cell(row, col).data_type == "f"

    def cached(self, row: int, col: int) -> Any:
        return self._cached()[self.ws.title].cell(row, col).value

    def row_texts(self, row: int) -> list[str]:
        return [norm(v) for v in self.values.get(row, {}).values() if isinstance(v, str) and v.strip()]

    def is_empty(self, row: int) -> bool:
        return row not in self.values

    def value(self, row: int, key: str) -> tuple[Any, int] | None:
        """A column's value in a row and the row of the cell holding it; None if unreadable."""
        col = self.columns[key]
        rng = self.merged.get((row, col))
        if rng is None or (rng.min_row, rng.min_col) == (row, col):
            origin = row
        elif key in SPREAD and rng.min_col == col == rng.max_col and rng.min_row > self.header_row:
            origin = rng.min_row
        else:
            top = f"{get_column_letter(rng.min_col)}{rng.min_row}"
            self.add(row, f"与单元格 {top} 合并在一起，无法确定本行的值；"
                          "请取消合并，每行分别填写", key)
            return None
        if self.is_formula(origin, col):
            formula = self.own(origin, col)
            text = formula if isinstance(formula, str) else "数组公式"
            self.add(origin, f"是公式“{text}”。计划表的小区行应填写数值或文字，"
                             "不能用公式（公式保存的结果可能缺失或过时）；"
                             "请选中后“复制—选择性粘贴—数值”再导入", key)
            return None
        if self.ws.cell(origin, col).data_type == "e":
            self.add(origin, f"单元格显示错误值 {self.own(origin, col)}，请改正", key)
            return None
        return self.own(origin, col), origin


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def values_by_row(ws: Worksheet) -> dict[int, dict[int, Any]]:
    """Every non-blank value of a sheet, by row and then column, both in order.

    Loops run over these rather than over the sheet's extent: one stray cell at XFD1048576 makes
    that seventeen billion cells, and openpyxl's max_row and max_column scan every cell per call.
    """
    rows: dict[int, dict[int, Any]] = {}
    for (r, c), cell in ws._cells.items():  # noqa: SLF001 - openpyxl keeps no public sparse view
        if not _blank(cell.value):
            rows.setdefault(r, {})[c] = cell.value
    return {r: dict(sorted(rows[r].items())) for r in sorted(rows)}


def _find_header(values: dict[int, dict[int, Any]]) -> tuple[int, dict[str, int], list[str]] | None:
    """The first row naming at least four annex-1 columns: (row, column per key, duplicates)."""
    for row in (r for r in values if r <= HEADER_SCAN_ROWS):
        found: dict[str, int] = {}
        duplicates: list[str] = []
        for col, value in values[row].items():
            key = _HEADER_NAMES.get(norm(value)) if isinstance(value, str) else None
            if key is None:
                continue
            if key in found:
                duplicates.append(f"{get_column_letter(col)}列")
            else:
                found[key] = col
        if len(found) >= 4:
            return row, found, duplicates
    return None


def _read_sheet(sheet: _Sheet) -> _SheetRead:
    """Community rows of one sheet; 合计/总计 rows are checked against the rows above them."""
    out = _SheetRead()
    # rows since the last 小计 (e.g. per district) and since the last 合计 (per year)
    blocks: dict[str, list[PlanRow]] = {"小计": [], "合计": []}
    unreadable = {"小计": 0, "合计": 0}
    hidden_cols = _hidden_columns(sheet.ws)
    for key, col in sheet.columns.items():
        if col in hidden_cols:
            sheet.add(sheet.header_row, "该列被隐藏，容易漏看；请取消隐藏并核对后再导入", key)
    header_texts = sheet.row_texts(sheet.header_row)
    for row in sheet.values:
        if row <= sheet.header_row:
            continue
        if row in sheet.hidden_rows:
            sheet.add(row, "该行被隐藏：隐藏的行在 Excel 中看不到，容易漏看或误删；"
                           "请取消隐藏并核对后再导入（不需要的行请删除）")
            continue
        table = set(sheet.columns.values())
        if not table & set(sheet.values[row]):
            col, value = next(iter(sheet.values[row].items()))
            sheet.add(row, f"只在计划表的列以外有内容（单元格 {get_column_letter(col)}{row}：{shown(value)}），"
                           "可能是误输入；请删除该单元格后再导入", col=col)
            continue
        texts = sheet.row_texts(row)
        if texts == header_texts:  # the header repeated, e.g. on a new printed page
            continue
        if texts and texts[0].startswith(_FOOTNOTE) and not _has_numbers(sheet, row):
            continue
        label = next((m.group(1) for t in texts if (m := _SUBTOTAL.match(t))), None)
        if label is None and any(_TOTAL.match(t) for t in texts):
            label = "总计"
        if label is not None:
            if not (out.unreadable if label == "总计" else unreadable[label]):
                _check_total(sheet, row, out.rows if label == "总计" else blocks[label], label)
            for name in ("小计",) if label == "小计" else ("小计", "合计"):
                blocks[name], unreadable[name] = [], 0
            continue
        plan_row = _read_row(sheet, row, out)
        for name in blocks:
            if plan_row is None:
                unreadable[name] += 1
            else:
                blocks[name].append(plan_row)
        if plan_row is None:
            out.unreadable += 1
        else:
            out.rows.append(plan_row)
    return out


def _has_numbers(sheet: _Sheet, row: int) -> bool:
    return any(sheet.own(row, sheet.columns[k]) not in (None, "")
               for k in ("households", "investment_wan") if k in sheet.columns)


def _hidden_columns(ws: Worksheet) -> set[int]:
    hidden: set[int] = set()
    for letter, dim in ws.column_dimensions.items():
        if dim.hidden:
            first = dim.min or column_index_from_string(letter)
            hidden.update(range(first, (dim.max or first) + 1))
    return hidden


def _read_row(sheet: _Sheet, row: int, out: _SheetRead) -> PlanRow | None:
    values: dict[str, Any] = {}
    ok = True
    for column in COLUMNS:
        if column.key not in sheet.columns:
            values[column.key] = None
            continue
        got = sheet.value(row, column.key)
        if got is None:
            ok = False
            continue
        raw, origin = got
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if column.required:
                hint = ("（若该年度应覆盖多行，请把这些行的年度单元格合并）"
                        if column.key == "year" else "")
                sheet.add(row, f"必须填写，现为空{hint}", column.key)
                ok = False
            values[column.key] = None
            continue
        try:
            values[column.key] = _parse(column.key, raw)
        except CellProblem as exc:
            sheet.add(origin, str(exc), column.key)
            ok = False
            continue
        if column.key == "year":
            year, count = values["year"]
            values["year"] = year
            if count is not None and origin == row:
                note = _YearNote(sheet.file, row, sheet.columns["year"], year, count)
                out.year_notes.append(note)
    if not ok:
        return None
    return PlanRow(file=sheet.file, row=row, seq=values["seq"], name=values["name"],
                   district=values["district"], built=values["built"], location=values["location"],
                   households=values["households"], investment_wan=values["investment_wan"],
                   year=values["year"], remarks=values["remarks"],
                   places={k: sheet.where(c, k) for k, c in sheet.columns.items()})


def _parse(key: str, raw: Any) -> Any:
    if key == "seq":
        return _lenient_int(raw)
    if key == "households":
        return _positive_int(raw)
    if key == "investment_wan":
        return _wan(raw)
    if key == "year":
        return _year(raw)
    text = _clean_text(raw)
    if text is None:
        raise CellProblem("必须填写，现为空")
    if key == "district":
        return re.sub(r"\s+", "", text)
    return text


def _check_total(sheet: _Sheet, row: int, rows: list[PlanRow], label: str) -> None:
    """A 合计 or 总计 row against the sum of its rows (households and investment)."""
    if rows:
        first, last = rows[0].row, rows[-1].row
        span = f"第{first}行" if first == last else f"第{first}—{last}行"
        which = (f"上方{span}（{len(rows)}个小区）逐行相加" if label != "总计"
                 else "本表各小区行相加")
    else:
        which = "上方没有小区行，应"
    for key in ("households", "investment_wan"):
        col = sheet.columns.get(key)
        if col is None:
            continue
        raw = sheet.own(row, col)
        if sheet.is_formula(row, col):
            raw = sheet.cached(row, col)  # None when never recalculated by Excel/WPS: not checked
        if _blank(raw):
            continue
        try:
            stated = _total_number(raw)
        except CellProblem as exc:
            sheet.add(row, str(exc), key)
            continue
        summed = sum((Decimal(r.households) if key == "households" else r.investment_wan
                      for r in rows), Decimal(0))
        if stated != summed:
            sheet.add(row, f"{label}为{plain(stated)}，{which}为{plain(summed)}，两者不一致", key)


# ---------------------------------------------------------------- the whole workbook


def read_workbook(path: Path, districts: Iterable[str] | None = None,
                  years: Iterable[int] | None = None) -> list[PlanRow]:
    """Every community row of the workbook's plan sheets; raise DataError listing every problem."""
    wb = open_workbook(path)
    cache: dict[str, Workbook] = {}

    def cached() -> Workbook:
        if "wb" not in cache:  # opened only when a 合计 cell holds a formula
            cache["wb"] = open_workbook(path, data_only=True)
        return cache["wb"]

    problems: list[Problem] = []
    rows: list[PlanRow] = []
    notes: list[_YearNote] = []
    unreadable = 0
    found = False
    for ws in wb.worksheets:
        file = f"{path} 工作表“{ws.title}”"
        values = values_by_row(ws)
        header = _find_header(values)
        if header is None:
            continue
        found = True
        header_row, columns, duplicates = header
        if ws.sheet_state != "visible":
            problems.append(Problem(file, "该工作表被隐藏，其中的计划表容易被漏看；"
                                          "请取消隐藏后核对（不需要的工作表请删除）"))
            continue
        for dup in duplicates:
            problems.append(Problem(file, "表头中这一列的列名与前面的列重复",
                                    field=dup, line=header_row))
        missing = [c.title for c in COLUMNS if c.required and c.key not in columns]
        if missing:
            present = "、".join(str(v) for v in values[header_row].values())
            problems.append(Problem(file, f"表头缺少列：{'、'.join(missing)}（现有列：{present}）",
                                    line=header_row))
            continue
        sheet = _Sheet(ws, file, header_row, columns, cached, values)
        read = _read_sheet(sheet)
        problems.extend(sheet.problems)
        rows.extend(read.rows)
        notes.extend(read.year_notes)
        unreadable += read.unreadable
    if not found:
        names = "、".join(ws.title for ws in wb.worksheets)
        wanted = "、".join(c.title for c in COLUMNS)
        raise data_error(path, f"没有找到计划表的表头行：应有一行写着“{wanted}”等列名"
                               f"（已查看工作表 {names} 的前{HEADER_SCAN_ROWS}行）")
    problems.extend(_cross_checks(rows, [] if unreadable else notes, districts, years))
    if not problems and not rows:
        problems.append(Problem(str(path), "表头下面没有读到任何小区行"))
    if problems:
        raise DataError(problems)
    return [_canonical_district(r, districts) for r in rows]


def _canonical_district(row: PlanRow, districts: Iterable[str] | None) -> PlanRow:
    for name in districts or ():
        if norm(name) == norm(row.district) and name != row.district:
            return dataclasses.replace(row, district=name)
    return row


def _cross_checks(rows: list[PlanRow], notes: list[_YearNote], districts: Iterable[str] | None,
                  years: Iterable[int] | None) -> list[Problem]:
    problems: list[Problem] = []

    def at(row: PlanRow, key: str, message: str) -> None:
        problems.append(Problem(row.file, message, field=row.where(key), line=row.row))

    known = {norm(d): d for d in districts} if districts is not None else None
    allowed = sorted(years) if years is not None else None
    seen_names: dict[tuple[str, str], PlanRow] = {}
    seen_seqs: dict[tuple[int, int], PlanRow] = {}
    unknown: dict[str, list[PlanRow]] = {}
    hinted = False
    for row in rows:
        if known is not None and norm(row.district) not in known:
            unknown.setdefault(row.district, []).append(row)
        if allowed is not None and row.year not in allowed:
            hint = "" if hinted else NEW_CITY_HINT  # once: a new city's table has many such rows
            hinted = True
            at(row, "year", f"改造年度 {row.year} 不在 programme.yaml 的计划年度 {allowed} 内{hint}")
        key = (norm(row.name), norm(row.district))
        if key in seen_names:
            other = seen_names[key]
            at(row, "name", f"与{_place(other, row)}的小区重名（同一县（区）中名称相同）")
        seen_names.setdefault(key, row)
        if (row.year, row.seq) in seen_seqs:
            other = seen_seqs[(row.year, row.seq)]
            at(row, "seq", f"{row.year}年度的序号 {row.seq} 与{_place(other, row)}重复")
        seen_seqs.setdefault((row.year, row.seq), row)
    for district, where in unknown.items():  # once per name: a new city's table has many rows each
        names = "、".join(known.values()) if known else "（空）"
        also = f"（另见第{'、'.join(str(r.row) for r in where[1:])}行）" if len(where) > 1 else ""
        at(where[0], "district", f"未知的县（区）“{district}”{also}：districts.yaml 中只有{names}；"
                                 f"请核对写法，或先在 districts.yaml 中添加{'' if hinted else NEW_CITY_HINT}")
        hinted = True
    per_year = Counter(r.year for r in rows)
    for note in notes:
        if note.count != per_year[note.year]:
            message = (f"写明“共{note.count}个”，而表中{note.year}年度的小区行有"
                       f"{per_year[note.year]}行")
            problems.append(Problem(note.file, message, line=note.row,
                                    field=f"{get_column_letter(note.col)}列（改造年度计划）"))
    return problems


def _place(other: PlanRow, this: PlanRow) -> str:
    if other.file == this.file:
        return f"第{other.row}行"
    return f"{other.file} 第{other.row}行"


# ---------------------------------------------------------------- into a data folder


@dataclass
class ImportResult:
    """What an import read and what it did to the target file."""

    target: Path
    rows: list[PlanRow]
    kept_ids: int
    new_ids: int
    carried: int
    """Withdrawn communities of the existing data kept although the workbook does not list them."""
    added: int = 0
    changed: int = 0
    removed: int = 0
    reordered: bool = False
    existed: bool = False
    written: bool = False

    @property
    def by_year(self) -> dict[int, int]:
        return dict(sorted(Counter(r.year for r in self.rows).items()))


def _key(name: Any, district: Any) -> tuple[str, str]:
    return norm(str(name)), norm(str(district))


def district_slugs(root: Path) -> dict[str, str]:
    """Each district's id prefix: its `slug` in districts.yaml, else d<1-based position>."""
    data, _ = load_yaml(root / "districts.yaml")
    entries = data.get("districts") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise data_error(root / "districts.yaml", "文件顶层应有“districts:”列表")
    slugs: dict[str, str] = {}
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        slug = entry.get("slug")
        ok = isinstance(slug, str) and re.fullmatch(r"[A-Za-z0-9_-]+", slug)
        slugs[entry["name"]] = slug if ok else f"d{index}"  # type: ignore[assignment]
    return slugs


def _programme_years(root: Path) -> list[int] | None:
    try:
        data, _ = load_yaml(root / "programme.yaml")
    except DataError:
        return None  # the loader reports it when the result is checked
    years = data.get("years") if isinstance(data, dict) else None
    if isinstance(years, list) and all(isinstance(y, int) for y in years):
        return years
    return None


def _existing_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data, _ = load_yaml(path)
    rows = data.get("communities") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise data_error(path, "文件顶层应有“communities:”列表（无法据此保留原有编号）")
    return [r for r in rows if isinstance(r, dict)]


def assign_ids(rows: list[PlanRow], existing: list[dict[str, Any]],
               slugs: dict[str, str]) -> tuple[list[str], int]:
    """An id per row: the existing one for the same name and district, else <slug>-<seq:02d>."""
    by_key: dict[tuple[str, str], str] = {}
    for old in existing:
        if isinstance(old.get("id"), str):
            by_key.setdefault(_key(old.get("name"), old.get("district")), old["id"])
    ids: list[str | None] = [by_key.pop(_key(r.name, r.district), None) for r in rows]
    kept = sum(1 for i in ids if i is not None)
    used = {i for i in ids if i is not None}
    # An id leaving the plan is never given to another community: its project file would follow it.
    used |= {str(o["id"]) for o in existing if "id" in o}
    for index, row in enumerate(rows):
        if ids[index] is not None:
            continue
        slug = slugs.get(row.district, "d0")
        candidate = f"{slug}-{row.seq:02d}"
        if candidate in used:  # 序号 restarting each year
            candidate = f"{slug}-{row.year}-{row.seq:02d}"
        base, n = candidate, 2
        while candidate in used:
            candidate, n = f"{base}-{n}", n + 1
        used.add(candidate)
        ids[index] = candidate
    return [i for i in ids if i is not None], kept


def _community(row: PlanRow, id_: str, old: dict[str, Any] | None) -> Community:
    values: dict[str, Any] = {
        "id": id_, "seq": row.seq, "name": row.name, "district": row.district, "built": row.built,
        "location": row.location, "households": row.households,
        "investment_wan": row.investment_wan, "year": row.year, "remarks": row.remarks,
    }
    if old:  # the workbook has no column for these: a swap recorded in the data is kept
        for key in ("status", "replaces"):
            if key in old:
                values[key] = old[key]
    try:
        return Community.model_validate(values)
    except ValidationError as exc:
        # in the loader's words, at the cell's column: “F列（户数）：超过上限…”, never pydantic's English
        problems = [Problem(row.file, describe_error(e), line=row.row,
                            field=row.where(str(e["loc"][0])) if e["loc"] and e["loc"][0] in _BY_KEY
                            else ".".join(str(p) for p in e["loc"]))
                    for e in exc.errors()]
        raise DataError(problems) from None


def plan_yaml(communities: list[Community], header: str) -> str:
    """communities.yaml text: the header comment, then one mapping per community."""
    rows = []
    for c in communities:
        values = c.model_dump(exclude_defaults=True)
        values["investment_wan"] = tidy(c.investment_wan)
        rows.append(values)
    return header + dump_yaml({"communities": rows})


def _header(existing_text: str | None, workbook: Path) -> str:
    """The leading comment of the file being replaced, else one saying where the rows came from."""
    if existing_text:
        lines = []
        for line in existing_text.splitlines():
            if not line.startswith("#"):
                break
            lines.append(line)
        if lines:
            return "\n".join(lines) + "\n"
    return (f"# 附件1 老旧小区改造年度实施计划表，由 gaizao import 从“{workbook.name}”导入。\n"
            "# 每行一个小区，字段说明见 docs/data.md。\n"
            "# 重新导入时，名称和县（区）相同的小区保留原编号（id）。\n")


def _diff(old: list[Community] | None, new: list[Community]) -> tuple[int, int, int, bool]:
    if old is None:
        return len(new), 0, 0, False
    before = {c.id: c for c in old}
    after = {c.id: c for c in new}
    added = sum(1 for i in after if i not in before)
    removed = sum(1 for i in before if i not in after)
    changed = sum(1 for i in after if i in before and after[i] != before[i])
    return added, changed, removed, not (added or removed or changed) and old != new


def plan_changes(old: list[Community], new: list[Community]) -> list[str]:
    """Each community an import adds, changes (field by field) or removes, in words a clerk reads."""
    from generator.intake.project_yaml import shown

    before = {c.id: c for c in old}
    after = {c.id: c for c in new}
    out = []
    for c in new:
        o = before.get(c.id)
        if o is None:
            out.append(f"新增：{c.district} {c.name}（{c.year}年，{c.households}户，"
                       f"{shown(c.investment_wan)}万元）")
        elif o != c:
            fields = [f"{info.title}：{shown(getattr(o, key))} → {shown(getattr(c, key))}"
                      for key, info in Community.model_fields.items() if getattr(o, key) != getattr(c, key)]
            out.append(f"修改：{c.district} {c.name}：" + "；".join(fields))
    out += [f"删除：{o.district} {o.name}（{o.year}年）" for o in old if o.id not in after]
    return out


def read_plan(path: Path) -> list[Community] | None:
    """The communities of a communities.yaml, or None when it does not hold a readable plan."""
    return _parse_target(path)


def _parse_target(path: Path) -> list[Community] | None:
    """The communities of an existing output file, or None when it does not hold a readable plan."""
    try:
        rows = _existing_rows(path)
        return [Community.model_validate(r) for r in rows]
    except (DataError, ValidationError):
        return None


def prove_loads(root: Path, text: str, target: Path) -> None:
    """Load the data folder with the new communities.yaml in a scratch copy; raise what fails."""
    with tempfile.TemporaryDirectory(prefix="gaizao-import-") as tmp:
        scratch = Path(tmp)
        for name in ("programme.yaml", "districts.yaml", "catalogue.yaml"):
            if (root / name).is_file():
                shutil.copyfile(root / name, scratch / name)
        for sub in ("projects", "reports"):
            if (root / sub).is_dir():
                shutil.copytree(root / sub, scratch / sub)
        (scratch / "communities.yaml").write_text(text, encoding="utf-8")
        try:
            load(scratch)
        except DataError as exc:
            prefixes = sorted({str(scratch.resolve()), str(scratch)}, key=len, reverse=True)

            def real(file: Path | str) -> str:
                name = str(file)
                for prefix in prefixes:
                    if name.startswith(prefix):
                        rel = name[len(prefix):].lstrip("/\\")
                        return str(target) if rel == "communities.yaml" else str(root / rel)
                return name

            lead = Problem(target, "导入结果不能通过数据检查，没有写入任何文件。问题如下")
            raise DataError([lead] + [Problem(real(p.file), p.problem, p.field, p.line)
                                      for p in exc.problems]) from None


def import_workbook(workbook: Path, data_dir: Path | None = None, out: Path | None = None,
                    force: bool = False) -> ImportResult:
    """Read a plan workbook into the data folder's communities.yaml (or out), safely."""
    root = data_dir if data_dir is not None else BUNDLED_DATA
    if not root.is_dir():
        raise data_error(root, "数据文件夹不存在（可先用 gaizao init 新建）")
    slugs = district_slugs(root)
    rows = read_workbook(workbook, districts=list(slugs), years=_programme_years(root))
    existing = _existing_rows(root / "communities.yaml")
    ids, kept = assign_ids(rows, existing, slugs)
    old_by_id = {o.get("id"): o for o in existing}
    communities = [_community(r, i, old_by_id.get(i)) for r, i in zip(rows, ids, strict=True)]
    taken = set(ids)
    carried = [Community.model_validate(o) for o in existing
               if o.get("status") == "withdrawn" and o.get("id") not in taken]
    communities += carried

    target = out if out is not None else root / "communities.yaml"
    existed = target.exists()
    existing_text = target.read_text(encoding="utf-8-sig", errors="replace") if existed else None
    text = plan_yaml(communities, _header(existing_text, workbook))
    prove_loads(root, text, target)

    old = _parse_target(target) if existed else []
    added, changed, removed, reordered = _diff(old, communities)
    result = ImportResult(target=target, rows=rows, kept_ids=kept, new_ids=len(rows) - kept,
                          carried=len(carried), added=added, changed=changed, removed=removed,
                          reordered=reordered, existed=existed)
    if existed and old == communities:
        return result  # same data: the file (and its comments) stays as it is
    if existed and old != [] and not force:  # an empty plan, as init makes it, has nothing to lose
        what = ("现有文件无法读取为计划表" if old is None else
                f"新增 {added} 个、修改 {changed} 个、删除 {removed} 个小区"
                + ("，顺序不同" if reordered else ""))
        raise OutputError(f"{target} 已存在且内容不同（{what}）。"
                          "未写入任何文件；确认要覆盖请加 --force")
    try:
        atomic_write(target, text.encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"无法写入 {target}：{os_reason(exc, target)}；原文件未改动") from None
    result.written = True
    return result
