"""`gaizao vote export/import`: a vote's ballots to and from an Excel workbook.

The export is one row per household of the vote's scope, pre-filled from the roster (address,
owner, floor area) and with any ballot already recorded; the clerk fills in 表决意见, 签署人 and,
for a proxy, 代理人姓名 and 授权委托书. On import a row without 表决意见 is a household that did
not take part; every problem is named by sheet, row and column, and on any problem the ballots
file stays as it was.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from generator.data import sealed
from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.data.roster import mask_name, mask_room
from generator.data.votes import (
    BALLOT_COLUMNS,
    CHOICES,
    SIGNERS,
    VOTES,
    Ballot,
    Ballots,
    household_key,
    parse_ballots,
    read_headings,
    write_ballots,
)
from generator.errors import DataError, Problem
from generator.intake import resident_files
from generator.intake.workbook_safety import open_workbook
from generator.output.writer import atomic_write
from generator.render.ziputil import normalize_zip
from generator.rules.votes import answers, issues

SHEET = "表决票"
META_SHEET = "表决信息"
HEADING_ROW = 2
MAX_ROWS = 200_000
MASKED_NOTE = "（已遮蔽住户姓名和房号，仅供查阅，不能导入）"
"""The title's note on a workbook made for anyone but the street office that collects the answers."""
SHOWN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("building", "楼栋"), ("unit", "单元"), ("room", "房号"), ("head", "户主姓名"), ("area", "建筑面积（㎡）"),
    *[(name, title) for name, title in BALLOT_COLUMNS if name not in ("building", "unit", "room")],
)
"""The workbook's columns: the roster's for reading, then the ballot's to fill in."""
_WIDTHS = {"building": 8, "unit": 6, "room": 8, "head": 10, "area": 12, "choice": 10, "signer": 8,
           "proxy": 12, "authority": 18, "date": 12, "remarks": 20}


@dataclass
class BallotFile:
    """What an export or import did."""

    path: Path
    rows: int
    changed: bool = True


def _vote(data: DataSet, vote_id: str) -> None:
    if vote_id not in data.votes:
        known = "、".join(data.votes) or "（数据文件夹 votes/ 中没有表决）"
        raise DataError([Problem("命令行参数", f"未知的表决编号“{vote_id}”；已有：{known}")])
    if data.votes[vote_id].community not in data.rosters:
        raise DataError([Problem("命令行参数", f"表决“{vote_id}”所在小区没有住户名册，无法按户列出表决票")])


def ballot_workbook(data: DataSet, vote_id: str, masked: bool = False) -> tuple[bytes, int]:
    """The vote's ballot workbook and its number of rows (owners' names and rooms masked if asked); the same data
    gives the same bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from generator.intake.page_setup import one_page_wide
    from generator.render.cells import put

    vote = data.votes[vote_id]
    c = data.communities[vote.community]
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    title = f"{c.name}{vote.matter}表决票登记（表决编号 {vote_id}）"
    if vote.illustrative:
        title += "（示例数据）"
    if masked:
        title += MASKED_NOTE
    put(ws, 1, 1, title).font = Font(bold=True, size=14)
    for col, (name, heading) in enumerate(SHOWN_COLUMNS, start=1):
        put(ws, HEADING_ROW, col, heading).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(col)].width = _WIDTHS.get(name, 10)
    pairs = answers(data, vote_id)
    for row, (h, ballot) in enumerate(pairs, start=HEADING_ROW + 1):
        values: dict[str, Any] = {"building": h.building, "unit": h.unit, "room": h.room, "head": h.head,
                                  "area": float(h.area) if h.area is not None else None}
        if ballot is not None:
            values.update({name: getattr(ballot, name) for name, _ in BALLOT_COLUMNS
                           if name not in ("building", "unit", "room")})
        if masked:
            values.update(room=mask_room(h.room), head=mask_name(h.head), proxy=mask_name(values.get("proxy")) or None)
        for col, (name, _) in enumerate(SHOWN_COLUMNS, start=1):
            value = values.get(name)
            if value is None:
                ws.cell(row, col).number_format = "@" if name != "date" else "yyyy-mm-dd"
                continue
            cell = put(ws, row, col, value)
            # what a clerk types stays text: a room 0301 or an authority number never becomes a number
            cell.number_format = "yyyy-mm-dd" if name == "date" else ("0.00" if name == "area" else "@")
    last = HEADING_ROW + max(len(pairs), 1)
    index = {name: col for col, (name, _) in enumerate(SHOWN_COLUMNS, start=1)}
    for name, choices in (("choice", CHOICES), ("signer", SIGNERS)):
        letter = get_column_letter(index[name])
        check = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
        check.add(f"{letter}{HEADING_ROW + 1}:{letter}{last}")
        ws.add_data_validation(check)
    ws.freeze_panes = ws.cell(HEADING_ROW + 1, 1)
    one_page_wide(ws, landscape=True)
    ws.print_title_rows = f"{HEADING_ROW}:{HEADING_ROW}"
    return finished(wb, META_SHEET, (("表单", SHEET), ("城市", data.programme.city), ("表决编号", vote_id),
                                     ("小区编号", vote.community))), len(pairs)


def finished(wb: Any, sheet: str, entries: tuple[tuple[str, str], ...]) -> bytes:
    """The workbook's bytes with a hidden, protected sheet of label → value entries naming what it was
    exported for (read back by hidden_entries); the same workbook gives the same bytes."""
    from generator.render.cells import put

    meta = wb.create_sheet(sheet)
    for row, (label, value) in enumerate(entries, start=1):
        meta.cell(row, 1, label)
        put(meta, row, 2, value).number_format = "@"
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    buffer = io.BytesIO()
    wb.save(buffer)
    return normalize_zip(buffer.getvalue())


def export_ballots(data_dir: Path | None, vote_id: str, out: Path | None = None) -> BallotFile:
    """Write the vote's ballot workbook, one row per household of its scope."""
    return export(data_dir, vote_id, out or Path(f"{vote_id}-表决票.xlsx"), _vote, ballot_workbook)


def export(data_dir: Path | None, key: str, target: Path, known: Callable[[DataSet, str], None],
           make: Callable[[DataSet, str], tuple[bytes, int]]) -> BallotFile:
    """Load the data, check the vote or survey is known, write its workbook."""
    data = load(data_dir or BUNDLED_DATA)
    known(data, key)
    payload, rows = make(data, key)
    atomic_write(target, payload)
    return BallotFile(target, rows)


def hidden_entries(wb: Any, sheet: str) -> dict[str, str]:
    """The label → value entries of an exported workbook's hidden sheet ({} for a workbook made by hand)."""
    if sheet not in wb.sheetnames:
        return {}
    return {str(k): str(v) for k, v in wb[sheet].iter_rows(max_col=2, values_only=True)
            if k is not None and v is not None}


def read_ballot_workbook(path: Path, wb: Any = None) -> tuple[Ballots, str, dict[str, str]]:
    """The ballots of a workbook's first sheet with 楼栋, 房号 and 表决意见 headings, the sheet as
    problems name it, and its hidden sheet's entries; DataError naming every bad cell."""
    wb = wb or open_workbook(path, max_rows=MAX_ROWS)
    for ws in wb.worksheets:
        if ws.title == META_SHEET:
            continue
        where = f"{path} 工作表“{ws.title}”"
        grid = [list(row) for row in ws.iter_rows(values_only=True)]
        heading_at = next((i for i, row in enumerate(grid[:20])
                           if {"楼栋", "房号", "表决意见"} <= {str(v).strip() for v in row if v is not None}),
                          None)
        if heading_at is None:
            continue
        fields, problems = read_headings(grid[heading_at], f"第{heading_at + 1}行")
        if problems:
            raise DataError([Problem(where, p) for p in problems])
        titles = dict(BALLOT_COLUMNS)
        refused: list[Problem] = []
        rows = []
        for number, row in enumerate(grid[heading_at + 1:], start=heading_at + 2):
            values = {fields[i]: v for i, v in enumerate(row) if i in fields and v is not None
                      and not (isinstance(v, str) and not v.strip())}
            if ws.row_dimensions[number].hidden and values:
                refused.append(Problem(where, "是隐藏行；请取消隐藏后核对，或删除该行", field=f"第{number}行"))
                continue
            for i, name in fields.items():
                if ws.cell(number, i + 1).data_type == "f":
                    refused.append(Problem(where, "是公式，请改为数值", field=f"第{number}行“{titles[name]}”列"))
            if "choice" not in values:
                extra = set(values) - {"building", "unit", "room"}
                if extra:  # a signer or proxy written without the answer: not a household that stayed away
                    refused.append(Problem(where, "填了签署人或代理人，但没有填表决意见",
                                           field=f"第{number}行“表决意见”列"))
                continue  # no answer: the household did not take part
            rows.append((number, values))
        if refused:
            raise DataError(refused)
        return parse_ballots(rows, where), where, hidden_entries(wb, META_SHEET)
    raise DataError([Problem(path, "没有找到表决票：任何工作表的前20行中都没有含“楼栋”“房号”“表决意见”的列名行")])


def import_ballots(workbook: Path, data_dir: Path | None, vote_id: str | None = None) -> BallotFile:
    """Replace the vote's ballots by the workbook's, after every check; unchanged on any problem."""
    data = load(data_dir or BUNDLED_DATA)
    ballots, where, meta = read_ballot_workbook(workbook)
    return store_ballots(data, ballots, where, meta, vote_id)


def store_ballots(data: DataSet, ballots: Ballots, where: str, meta: dict[str, str],
                  vote_id: str | None = None) -> BallotFile:
    """Check ballots read from a workbook against the vote and the roster and write them; DataError, nothing written."""
    city, theirs = meta.get("城市"), meta.get("表决编号")
    if city is not None and city != data.programme.city:
        raise DataError([Problem(where, f"这是“{city}”的表决票，而数据文件夹是“{data.programme.city}”的")])
    if theirs is not None and vote_id is not None and theirs != vote_id:
        raise DataError([Problem(where, f"这是表决“{theirs}”的表决票，不是“{vote_id}”的；请确认文件是否选对")])
    vote_id = vote_id or theirs
    if vote_id is None:
        raise DataError([Problem(where, "表决票中没有表决编号（不是本工具导出的）；请用 --vote 表决编号 指明")])
    _vote(data, vote_id)
    trial = replace(data, ballots={**data.ballots, vote_id: ballots})
    problems = [Problem(where, message, field=f"第{row}行“{column}”列")
                for _, row, column, message in issues(trial, vote_id) if row is not None]
    if problems:
        raise DataError(problems)
    return store_answers_file(data.root / VOTES / f"{vote_id}.csv",
                              write_ballots(_in_roster_order(data, vote_id, ballots.ballots)), len(ballots.ballots))


def store_answers_file(path: Path, payload: bytes, count: int) -> BallotFile:
    """Write a ballots or answers file (path: its plain name) in the form its folder keeps, with the old one's
    comment lines; unchanged when its bytes would be the same."""
    old = resident_files.current(path)
    payload = keep_comments(old, payload)
    if old == payload:
        return BallotFile(sealed.which(path) or path, count, changed=False)
    return BallotFile(resident_files.store(path, payload), count)


def _in_roster_order(data: DataSet, vote_id: str, ballots: tuple[Ballot, ...]) -> list[Ballot]:
    order = {household_key(h): i for i, (h, _) in enumerate(answers(data, vote_id))}
    return sorted(ballots, key=lambda b: order.get(b.key, len(order)))


def keep_comments(old: bytes | None, payload: bytes) -> bytes:
    """The new file keeps the old one's comment lines (the 示例 note) above its headings."""
    if old is None:
        return payload
    kept = [line for line in old.decode("utf-8-sig").splitlines() if line.startswith("#")]
    if not kept:
        return payload
    return ("\ufeff" + "".join(f"{line}\r\n" for line in kept)).encode("utf-8") + payload.removeprefix(
        "\ufeff".encode())
