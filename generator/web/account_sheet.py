"""Accounts made from a sheet: the blank template the 系统管理员 downloads, the filled one read back with every
problem named by sheet, row and column, and the workbook that hands each new account's first password over once."""

from __future__ import annotations

import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import DataError
from generator.web.accounts import ACCOUNT_NAME, ROLES, NewAccount, initial_password
from generator.web.units import Units

SHEET = "账户"
COLUMNS = ("账号", "姓名", "角色", "单位（街道办事处或县（区））", "手机")
WIDTHS = (18, 10, 28, 30, 14)
ROLE_WORDS: dict[str, str] = {
    # 全市资料管理 changes every community: such an account is made one at a time, not from a sheet
    **{label: key for key, label in ROLES.items() if key != "admin"}, **{key: key for key in ROLES if key != "admin"},
    "街道办事处": "street", "街道": "street", "乡镇": "street", "县（区）": "district", "县(区)": "district",
    "区县": "district", "县区": "district", "市": "city", "市级": "city",
}
"""What the 角色 column may say for each role: the list in the template, the role's key, or a short name."""
ROLE_CHOICES = ("街道办事处", "县（区）", "市")
MAX_ROWS = 5000
_PHONE = re.compile(r"^1\d{10}$")


class SheetProblems(Exception):
    """The sheet's problems, each naming its sheet, row and column; nothing was made."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Row:
    """One account of the sheet and the row it came from."""

    line: int
    account: NewAccount


def template() -> bytes:
    """The blank sheet: its headings, the 角色 list, and a second sheet saying how to fill it in."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from generator.render.cells import put

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    for col, (heading, width) in enumerate(zip(COLUMNS, WIDTHS, strict=True), 1):
        put(ws, 1, col, heading).font = Font(bold=True)
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = width
        for row in range(2, 502):
            ws.cell(row, col).number_format = "@"  # a phone number or an account of digits stays text
    roles = DataValidation(type="list", formula1='"' + ",".join(ROLE_CHOICES) + '"', allow_blank=True)
    roles.add("C2:C1000")
    ws.add_data_validation(roles)
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("填写说明")
    for row, text in enumerate((
        "每行一个账户，从第2行起填写；不要改动第1行的标题。",
        "账号：登录用的用户名，2至40个字母、数字、汉字或 . _ -，不能与已有账户相同。",
        "姓名：使用该账户的人。",
        "角色：街道办事处、县（区）或市（可从下拉列表选择）。",
        "单位：街道办事处的账户填街道办事处（乡镇）名称，须与项目资料或“街道分配”中的名称完全相同；"
        "县（区）的账户填县（区）名称；市的账户填市名。",
        "手机：11位手机号码，可不填。",
        "上传后，只要有一行有问题，就一个账户也不新增，并列出每个问题所在的行和列；改正后重新上传即可。",
        "全部无误时，系统为每个账户生成初始密码，并只提供一次下载；账户首次登录时须修改密码。",
    ), 1):
        put(notes, row, 1, text)
    notes.column_dimensions["A"].width = 110
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone typed into a number cell
    return " ".join(str(value).split())


def read(raw: bytes, units: Units, existing: set[str]) -> list[Row]:
    """The accounts of an uploaded sheet, each with a new first password; SheetProblems naming every bad cell.
    existing: the account names already taken."""
    from generator.intake.workbook_safety import not_xlsx, open_workbook

    why = not_xlsx(Path("账户表.xlsx"), raw)  # judged by content, whatever the name says
    if why:
        raise SheetProblems([why])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "账户表.xlsx"  # the client's file name is shown, never used as a path
        path.write_bytes(raw)
        try:
            wb = open_workbook(path, data_only=True, max_rows=MAX_ROWS)
        except DataError as exc:
            raise SheetProblems([p.problem for p in exc.problems]) from None
    if SHEET not in wb.sheetnames:
        raise SheetProblems([f"缺少工作表“{SHEET}”（可能被改名或删除）；请下载账户表模板填写后上传"])
    ws = wb[SHEET]
    where = f"工作表“{SHEET}”"
    headings = [_text(ws.cell(1, col).value) for col in range(1, len(COLUMNS) + 1)]
    if headings != list(COLUMNS):
        raise SheetProblems([f"{where} 第1行：标题应为“{'、'.join(COLUMNS)}”，请下载账户表模板填写后上传"])
    problems: list[str] = []
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for line, cells in enumerate(ws.iter_rows(min_row=2, max_col=len(COLUMNS), values_only=True), 2):
        name, person, role_word, unit, phone = (_text(v) for v in cells)
        if not any((name, person, role_word, unit, phone)):
            continue

        def bad(col: int, text: str, line: int = line) -> None:
            problems.append(f"{where} 第{line}行 {'ABCDE'[col]}列（{COLUMNS[col][:2]}）：{text}")

        if not name:
            bad(0, "未填写账号")
        elif not ACCOUNT_NAME.match(name):
            bad(0, f"账号“{name}”不合要求：2至40个字母、数字、汉字或 . _ -")
        elif name in existing:
            bad(0, f"账号“{name}”已有账户使用，请换一个")
        elif name in seen:
            bad(0, f"账号“{name}”与第{seen[name]}行重复")
        else:
            seen[name] = line
        if not person:
            bad(1, "未填写姓名")
        elif len(person) > 20:
            bad(1, "姓名过长（不超过20个字）")
        role = ROLE_WORDS.get(role_word, "")
        if not role_word:
            bad(2, f"未填写角色（{'、'.join(ROLE_CHOICES)}）")
        elif not role:
            bad(2, f"角色“{role_word}”无法识别，应为{'、'.join(ROLE_CHOICES)}之一")
        if not unit:
            bad(3, "未填写单位")
        elif role:
            why = units.problem(role, unit)
            if why:
                bad(3, why)
        if phone and not _PHONE.match(phone):
            bad(4, f"手机号码“{phone}”应为以1开头的11位数字")
        rows.append(Row(line, NewAccount(name, role, unit, initial_password(name), person=person, phone=phone)))
    if problems:
        raise SheetProblems(problems)
    if not rows:
        raise SheetProblems([f"{where}：从第2行起没有填写任何账户"])
    return rows


def passwords(rows: list[Row]) -> bytes:
    """The workbook that hands the first passwords over: one row per new account."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from generator.render.cells import put

    wb = Workbook()
    ws = wb.active
    ws.title = "初始密码"
    headings = ("账号", "姓名", "角色", "单位", "初始密码")
    for col, heading in enumerate(headings, 1):
        put(ws, 1, col, heading).font = Font(bold=True)
    for r, row in enumerate(rows, 2):
        a = row.account
        for col, value in enumerate((a.name, a.person, ROLES[a.role], a.unit, a.password), 1):
            put(ws, r, col, value).number_format = "@"
    for letter, width in zip("ABCDE", (18, 10, 28, 30, 20), strict=True):
        ws.column_dimensions[letter].width = width
    put(ws, len(rows) + 3, 1, "请将初始密码当面或以密封方式交给本人；账户首次登录时须修改密码。"
                              "本表用后请销毁，不要转发或存放在共享文件夹。")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
