"""`gaizao roster export/import`: a community's household roster to and from an Excel workbook.

The workbook is what a clerk fills in at the street office: a title row, a heading row, one row
per household. On import the columns may stand in any order, a building's cells may be merged,
blank rows are skipped; every problem is named by sheet, row and column, and on any problem the
roster file stays as it was.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook

from generator.data import sealed
from generator.data.loader import BUNDLED_DATA, ROSTERS, DataSet, load
from generator.data.roster import (
    ANSWERS,
    COLUMNS,
    NO,
    PROPERTY_MODES,
    YES,
    Household,
    Roster,
    cells,
    issues,
    parse,
    read_headings,
    write_csv,
)
from generator.errors import DataError, Problem
from generator.intake import resident_files
from generator.intake.workbook_safety import open_workbook
from generator.output.writer import atomic_write
from generator.render.ziputil import normalize_zip

SHEET = "住户名册"
HEADING_ROW = 2
META_SHEET = "名册信息"
"""The hidden sheet naming the community a roster workbook was exported for."""
META_TITLE = "表单"
MAX_ROWS = 200_000
"""More rows than any community has households: a sheet this long is not a roster."""
_WIDTHS = {"building": 10, "unit": 6, "room": 8, "head": 10, "phone": 14, "area": 12, "tenure": 10,
           "answer": 8, "wants": 36, "pays": 8, "management": 16, "fund": 10, "date": 12, "remarks": 24}


@dataclass
class RosterFile:
    """What an export or import did."""

    path: Path
    households: int
    changed: bool = True
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    """What an import changed: (what, before, after), as `roster_changes` gives them."""


def roster_path(data: DataSet, community: str) -> Path:
    return data.root / ROSTERS / f"{community}.csv"


def _dataset(data_dir: Path | None, community: str) -> DataSet:
    from generator.data.loader import load_community

    # the plan and this community's project only: the other projects' files are not what is written
    data = load_community(data_dir or BUNDLED_DATA, community)
    if community not in data.communities:
        raise DataError([Problem("命令行参数", f"未知的小区编号“{community}”")])
    return data


def export_roster(data_dir: Path | None, community: str, out: Path | None = None) -> RosterFile:
    """Write the community's roster as a workbook (a blank one, a row per household, if it has none)."""
    data = _dataset(data_dir, community)
    payload, households = roster_workbook(data, community)
    target = out or Path(f"{community}-住户名册.xlsx")
    atomic_write(target, payload)
    return RosterFile(target, households)


def roster_workbook(data: DataSet, community: str) -> tuple[bytes, int]:
    """The roster workbook of a community and its number of rows; the same roster gives the same bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from generator.intake.page_setup import one_page_wide
    from generator.render.cells import put

    held = sealed.which(roster_path(data, community))
    c = data.communities[community]
    if held is not None:
        from generator.data.roster import read_csv

        roster = read_csv(held)
    else:
        project = data.projects.get(community)
        blank = [Household(building=b.name, room="?") for b in (project.buildings if project else [])
                 for _ in range(b.households)]
        roster = Roster(households=tuple(blank), rows=tuple(range(len(blank))))
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    title = f"{c.name}住户名册"
    if roster.illustrative:
        title += "（示例数据：姓名、电话均为编造，不是真实住户信息）"
    put(ws, 1, 1, title).font = Font(bold=True, size=14)
    for col, (name, heading) in enumerate(COLUMNS, start=1):
        cell = ws.cell(HEADING_ROW, col, heading)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = _WIDTHS.get(name, 10)
    index = {name: col for col, (name, _) in enumerate(COLUMNS, start=1)}
    for row, household in enumerate(roster.households, start=HEADING_ROW + 1):
        for (name, _), text in zip(COLUMNS, cells(household), strict=True):
            if text == "" or (name == "room" and text == "?"):
                continue
            value: Any = text
            if name == "area":
                value = float(text)
            elif name == "date":
                value = dt.date.fromisoformat(text)
            cell = put(ws, row, index[name], value)
            if name == "date":
                cell.number_format = "yyyy-mm-dd"
            elif name != "area":
                cell.number_format = "@"  # phone and room numbers stay text, never 1.38E+10
    last = HEADING_ROW + max(len(roster.households), 1)
    for name, choices in (("answer", ANSWERS), ("pays", (YES, NO)), ("fund", (YES, NO)),
                          ("management", PROPERTY_MODES)):
        letter = get_column_letter(index[name])
        check = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
        check.add(f"{letter}{HEADING_ROW + 1}:{letter}{last}")
        ws.add_data_validation(check)
    ws.freeze_panes = ws.cell(HEADING_ROW + 1, 1)
    # printed for the door-to-door round: landscape, all columns on one page width, headings on every page
    one_page_wide(ws, landscape=True)
    ws.print_title_rows = f"{HEADING_ROW}:{HEADING_ROW}"
    ws.row_dimensions[HEADING_ROW].height = 30
    meta = wb.create_sheet(META_SHEET)
    for row, (label, value) in enumerate(((META_TITLE, SHEET), ("城市", data.programme.city),
                                          ("小区编号", community), ("小区名称", c.name)), start=1):
        meta.cell(row, 1, label)
        put(meta, row, 2, value).number_format = "@"
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    buffer = io.BytesIO()
    wb.save(buffer)
    return normalize_zip(buffer.getvalue()), len(roster.households)


def _cell_value(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


@dataclass
class RosterBook:
    """What a roster workbook holds."""

    roster: Roster | None
    """None when its rows hold nothing but building names: a blank roster nobody filled in."""
    where: str
    """The workbook and sheet, as problems name them."""
    community: str | None = None
    """The community it was exported for (its hidden sheet), None for a roster made by hand."""
    city: str | None = None


def is_roster(wb: Workbook) -> bool:
    """A workbook this tool exported as a roster (it carries the hidden 名册信息 sheet)."""
    return META_SHEET in wb.sheetnames and wb[META_SHEET]["B1"].value == SHEET


def read_workbook(path: Path, wb: Workbook | None = None) -> RosterBook:
    """The roster in a workbook's first sheet with a 楼栋 and 房号 heading; DataError naming every bad cell."""
    wb = wb or open_workbook(path, max_rows=MAX_ROWS)
    meta: dict[str, str] = {}
    if is_roster(wb):
        meta = {str(k): str(v) for k, v in wb[META_SHEET].iter_rows(max_col=2, values_only=True)
                if k is not None and v is not None}
    for ws in wb.worksheets:
        if ws.title == META_SHEET:
            continue
        where = f"{path} 工作表“{ws.title}”"
        grid = [[_cell_value(v) for v in row] for row in ws.iter_rows(values_only=True)]
        live = {(c.row, c.column) for row in ws.iter_rows() for c in row if c.data_type == "f"}
        for merged in ws.merged_cells.ranges:
            top = grid[merged.min_row - 1][merged.min_col - 1]
            for r in range(merged.min_row, merged.max_row + 1):
                for col in range(merged.min_col, merged.max_col + 1):
                    grid[r - 1][col - 1] = top
        heading_at = next((i for i, row in enumerate(grid[:20])
                           if "楼栋" in [str(v).strip() for v in row if v is not None]
                           and "房号" in [str(v).strip() for v in row if v is not None]), None)
        if heading_at is None:
            continue
        fields, problems = read_headings(grid[heading_at], f"第{heading_at + 1}行")
        if problems:
            raise DataError([Problem(where, p) for p in problems])
        illustrative = any("示例" in str(v) for row in grid[:heading_at] for v in row if v is not None)
        rows = []
        formulas = []
        for number, row in enumerate(grid[heading_at + 1:], start=heading_at + 2):
            if ws.row_dimensions[number].hidden:
                formulas.append(Problem(where, "是隐藏行；请取消隐藏后核对，或删除该行", field=f"第{number}行"))
                continue
            values = {fields[i]: v for i, v in enumerate(row) if i in fields and v is not None}
            if not values or set(values) == {"building"} and _merged_only(ws, number):
                continue  # a blank row, or one only a merged building cell reaches
            for i, name in fields.items():
                if (number, i + 1) in live:  # text reading “=…” is a name like any other
                    title = dict(COLUMNS)[name]
                    formulas.append(Problem(where, f"是公式（{values.get(name)}），请改为数值",
                                            field=f"第{number}行“{title}”列"))
            rows.append((number, values))
        if formulas:
            raise DataError(formulas)
        book = RosterBook(None, where, meta.get("小区编号"), meta.get("城市"))
        if any(set(values) != {"building"} for _, values in rows):
            book.roster = parse(rows, where, illustrative)
        return book
    raise DataError([Problem(path, "没有找到住户名册：任何工作表的前20行中都没有含“楼栋”“房号”的列名行")])


def _merged_only(ws: Any, row: int) -> bool:
    """True when every value in the row comes from a merged cell that starts above it."""
    return any(m.min_row < row <= m.max_row for m in ws.merged_cells.ranges)


def import_roster(workbook: Path, data_dir: Path | None, community: str | None = None) -> RosterFile:
    """Replace the community's roster by the workbook's, after checking every row; unchanged on error.

    The community is the one the workbook was exported for; `community` (--project) names it for
    a roster made by hand, and must agree with the workbook's when both are given.
    """
    data = load(data_dir or BUNDLED_DATA, rosters=False)
    return store_roster(data, read_workbook(workbook), community)


def store_roster(data: DataSet, book: RosterBook, community: str | None = None) -> RosterFile:
    """Check a roster read from a workbook against the data and write it; DataError, nothing written."""
    community, roster = checked(data, book, community)
    path = roster_path(data, community)
    payload = write_csv(roster)
    held = sealed.which(path)
    # a sealed roster that cannot be opened (no key, another key) stops here: never replaced unseen
    if held is not None and resident_files.current(path) == payload:
        return RosterFile(held, len(roster.households), changed=False)
    from generator.data.roster import read_csv

    try:
        before = read_csv(held) if held is not None else None
    except DataError:
        before = None  # a roster file that no longer reads: every household counts as new
    changes = roster_changes(before, roster)
    written = resident_files.store(path, payload)
    return RosterFile(written, len(roster.households), changes=changes)


def checked(data: DataSet, book: RosterBook, community: str | None = None) -> tuple[str, Roster]:
    """The community a roster workbook is for and its roster, after every check; DataError otherwise."""
    where = book.where
    if book.city is not None and book.city != data.programme.city:
        raise DataError([Problem(where, f"这是“{book.city}”的住户名册，而数据文件夹是“{data.programme.city}”的；"
                                        "请确认数据文件夹（--data）和文件是否选对")])
    if community is not None and community not in data.communities:
        raise DataError([Problem("命令行参数", f"未知的小区编号“{community}”")])
    if book.community is not None:
        if book.community not in data.communities:
            raise DataError([Problem(where, f"名册的小区编号“{book.community}”不在计划表（communities.yaml）中；"
                                            "可能是另一份计划或另一个城市的名册")])
        if community is not None and community != book.community:
            theirs, mine = data.communities[book.community], data.communities[community]
            raise DataError([Problem(where, f"这是{theirs.name}（{theirs.id}）的住户名册，"
                                            f"不是{mine.name}（{mine.id}）的；请确认文件是否选对")])
        community = book.community
    if community is None:
        raise DataError([Problem(where, "名册中没有小区编号（不是本工具导出的名册）；"
                                        "请用 gaizao roster import 文件 --project 小区编号 导入")])
    if book.roster is None:
        raise DataError([Problem(where, "名册还没有填写：各行只有楼栋，没有房号等住户信息")])
    roster = book.roster
    project = data.projects.get(community)
    buildings = {b.name: b.households for b in project.buildings} if project else {}
    problems = [Problem(where, message, field=f"第{row}行“{column}”列" if row else column)
                for row, column, message in issues(roster, buildings, set(data.items))]
    households = data.communities[community].households
    if len(roster.households) != households:
        problems.append(Problem(where, f"名册共{len(roster.households)}户，计划表中"
                                       f"{data.communities[community].name}为{households}户"))
    if problems:
        raise DataError(problems)
    return community, roster


NO_HOUSEHOLD = "（无此户）"


def roster_changes(before: Roster | None, after: Roster) -> list[tuple[str, str, str]]:
    """What a new roster changes, as (what, before, after): each cell of a household (matched by its
    address) that differs, each household added or taken out, in the new roster's order."""
    titles = dict(COLUMNS)
    old = {h.address: h for h in (before.households if before else ())}
    new = {h.address for h in after.households}
    out = []
    for household in after.households:
        was = old.get(household.address)
        if was is None:
            out.append((f"住户名册·{household.address}", NO_HOUSEHOLD, "新增"))
            continue
        for (name, _), a, b in zip(COLUMNS, cells(was), cells(household), strict=True):
            if a != b:
                out.append((f"住户名册·{household.address}·{titles[name]}", a or "空", b or "空"))
    out += [(f"住户名册·{address}", "有", NO_HOUSEHOLD) for address in old if address not in new]
    return out
