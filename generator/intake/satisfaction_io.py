"""`gaizao satisfaction export/import`: a satisfaction survey's answers to and from an Excel workbook.

The export has one row per roster household (address pre-filled) and a column per question, each
cell a choice of the survey's answers; questionnaires returned without an address go in rows
added at the bottom. On import a row with no answer is a questionnaire not returned; every
problem is named by sheet, row and column, and on any problem the answers file stays as it was.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.data.roster import mask_name, mask_room
from generator.data.satisfaction import ADDRESS, SATISFACTION, Responses, heading, parse_rows, write_responses
from generator.errors import DataError, Problem
from generator.intake.ballots_io import MASKED_NOTE, BallotFile, export, finished, hidden_entries, store_answers_file
from generator.intake.workbook_safety import open_workbook
from generator.rules.satisfaction import issues

SHEET = "满意度调查"
META_SHEET = "调查信息"
HEADING_ROW = 2
EXTRA_ROWS = 20
"""Rows left blank at the bottom for questionnaires returned without an address."""


def _survey(data: DataSet, survey_id: str) -> None:
    if survey_id not in data.satisfaction:
        known = "、".join(data.satisfaction) or "（数据文件夹 satisfaction/ 中没有调查）"
        raise DataError([Problem("命令行参数", f"未知的调查编号“{survey_id}”；已有：{known}")])


def answers_workbook(data: DataSet, survey_id: str, masked: bool = False) -> tuple[bytes, int]:
    """The survey's answers workbook and its number of household rows (names and rooms masked if asked); the same
    data gives the same bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from generator.intake.page_setup import one_page_wide
    from generator.render.cells import put

    survey = data.satisfaction[survey_id]
    c = data.communities[survey.community]
    count = len(survey.numbered())
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    title = f"{c.name}居民满意度调查答卷登记（调查编号 {survey_id}；每题填选项，未答的留空）"
    title += ("（示例数据）" if survey.illustrative else "") + (MASKED_NOTE if masked else "")
    put(ws, 1, 1, title).font = Font(bold=True, size=14)
    headings = [t for _, t in ADDRESS] + ["户主姓名"] + [f"第{n}题" for n in range(1, count + 1)]
    for col, text in enumerate(headings, start=1):
        put(ws, HEADING_ROW, col, text).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(col)].width = 10
    roster = data.rosters.get(survey.community)
    held = data.responses.get(survey_id)
    given = {r.key: r for r in (held.returned if held else ()) if r.key is not None}
    rows: list[list[Any]] = []
    for h in roster.households if roster else ():
        r = given.get((h.building, h.unit or "", h.room))
        room, head = (mask_room(h.room), mask_name(h.head)) if masked else (h.room, h.head)
        rows.append([h.building, h.unit, room, head] + [r.answers.get(n) if r else None
                                                            for n in range(1, count + 1)])
    for r in held.returned if held else ():
        if r.key is None or roster is None:
            rows.append([r.building, r.unit, mask_room(r.room) if masked and r.room else r.room, None]
                        + [r.answers.get(n) for n in range(1, count + 1)])
    for row, values in enumerate(rows, start=HEADING_ROW + 1):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row, col) if value is None else put(ws, row, col, value)
            cell.number_format = "@"  # rooms and answers stay text
    last = HEADING_ROW + len(rows) + EXTRA_ROWS
    choices = DataValidation(type="list", formula1='"' + ",".join(a.text for a in survey.scale) + '"',
                             allow_blank=True)
    choices.add(f"{get_column_letter(len(ADDRESS) + 2)}{HEADING_ROW + 1}:"
                f"{get_column_letter(len(headings))}{last}")
    ws.add_data_validation(choices)
    ws.freeze_panes = ws.cell(HEADING_ROW + 1, len(ADDRESS) + 2)
    one_page_wide(ws, landscape=True)
    return finished(wb, META_SHEET, (("表单", SHEET), ("城市", data.programme.city), ("调查编号", survey_id))), \
        len(rows)


def export_answers(data_dir: Path | None, survey_id: str, out: Path | None = None) -> BallotFile:
    """Write the survey's answers workbook."""
    return export(data_dir, survey_id, out or Path(f"{survey_id}-满意度调查.xlsx"), _survey, answers_workbook)


def read_answers_workbook(path: Path, data: DataSet, survey_id: str | None) -> tuple[str, Responses, str]:
    """The survey a workbook is for, its answers and the sheet as problems name it; DataError naming every bad cell."""
    wb = open_workbook(path, max_rows=200_000)
    meta = hidden_entries(wb, META_SHEET)
    theirs = meta.get("调查编号")
    if theirs is not None and survey_id is not None and theirs != survey_id:
        raise DataError([Problem(path, f"这是调查“{theirs}”的答卷，不是“{survey_id}”的；请确认文件是否选对")])
    if meta.get("城市", data.programme.city) != data.programme.city:
        raise DataError([Problem(path, f"这是“{meta['城市']}”的答卷，而数据文件夹是“{data.programme.city}”的")])
    survey_id = survey_id or theirs
    if survey_id is None:
        raise DataError([Problem(path, "答卷中没有调查编号（不是本工具导出的）；请用 --survey 调查编号 指明")])
    _survey(data, survey_id)
    count = len(data.satisfaction[survey_id].numbered())
    for ws in wb.worksheets:
        if ws.title == META_SHEET:
            continue
        grid = [list(r) for r in ws.iter_rows(values_only=True)]
        at = next((i for i, r in enumerate(grid[:20]) if "1" in {heading(v) for v in r}), None)
        if at is None:
            continue
        where = f"{path} 工作表“{ws.title}”"
        fields = {i: h for i, v in enumerate(grid[at]) if (h := heading(v)) is not None}
        names = {h: str(grid[at][i]) for i, h in fields.items()}
        rows, refused = [], []
        for number, row in enumerate(grid[at + 1:], start=at + 2):
            cells = {fields[i]: v for i, v in enumerate(row) if i in fields and v is not None}
            for i in fields:
                if ws.cell(number, i + 1).data_type == "f":
                    refused.append(Problem(where, "是公式，请改为选项", field=f"第{number}行“{names[fields[i]]}”列"))
            if any(h.isdigit() and str(v).strip() for h, v in cells.items()):
                rows.append((number, cells))  # an address without answers: a questionnaire not returned
        if refused:
            raise DataError(refused)
        return survey_id, parse_rows(rows, count, where), where
    raise DataError([Problem(path, "没有找到答卷：任何工作表的前20行中都没有“第1题”列")])


def import_answers(workbook: Path, data_dir: Path | None, survey_id: str | None = None) -> BallotFile:
    """Replace the survey's answers by the workbook's, after every check; unchanged on any problem."""
    data = load(data_dir or BUNDLED_DATA)
    survey_id, responses, where = read_answers_workbook(workbook, data, survey_id)
    return store_answers(data, survey_id, responses, where)


def store_answers(data: DataSet, survey_id: str, responses: Responses, where: str) -> BallotFile:
    """Check answers read from a workbook against the survey and the roster and write them; on a problem DataError."""
    trial = replace(data, responses={**data.responses, survey_id: responses})
    problems = [Problem(where, message, field=f"第{row}行“{column}”列")
                for _, row, column, message in issues(trial, survey_id)]
    if problems:
        raise DataError(problems)
    payload = write_responses(data.satisfaction[survey_id], responses.returned)
    return store_answers_file(data.root / SATISFACTION / f"{survey_id}.csv", payload, len(responses.returned))
