"""Reading one spreadsheet cell the way every importer does: the values a clerk typed, with a
message in the clerk's words when a cell cannot be read.

The plan workbook (`plan_import`) and the returned 填报表 (`form_import`) both read number cells
through `number`; what each then asks of the number (a whole count, 元 to the 分, 万元 to six
places, an upper bound) stays with the importer.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any


class CellProblem(ValueError):
    """A cell whose value cannot be read; the message is for the clerk."""


def norm(text: str) -> str:
    """Compare-form of a text: full-width folded to half-width (NFKC), all whitespace removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def shown(value: Any) -> str:
    """A cell's value as the clerk sees it in the sheet: 750 not 750.0, a date as a date."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return f"日期 {value:%Y-%m-%d}"
    text = str(value)
    if len(text) > SHOWN_LIMIT:  # a message quotes enough to find the cell, not a pasted page
        text = f"{text[:SHOWN_LIMIT]}…（共 {len(text)} 个字符）"
    return f"“{text}”" if isinstance(value, str) else text


SHOWN_LIMIT = 60
"""How many characters of a cell a message quotes."""


_NUMBER_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


def number_in_text(text: str) -> Decimal | None:
    """The number a text cell seems to mean (full-width digits, thousands separators, a unit)."""
    bare = norm(text).replace(",", "")
    bare = re.sub(r"(户|万元|万)$", "", bare)
    return Decimal(bare) if _NUMBER_TEXT.match(bare) else None


def tidy(value: Decimal) -> Decimal:
    """750.0 → 750, 2387.50 → 2387.5: the same number, written as a clerk would."""
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


def plain(value: Decimal) -> str:
    return format(tidy(value), "f")


def text_number_hint(text: str) -> str:
    """For a number typed as text: what it seems to mean and how to type it; empty when it means none."""
    meant = number_in_text(text)
    if meant is None:
        return ""
    return (f"（这是文本，不是数字：Excel 求和时会漏掉文本。"
            f"如应为 {plain(meant)}，请改为数字格式并用半角数字输入）")


def number(value: Any, what: str = "数字") -> Decimal:
    """A number cell's value, finite and not negative; CellProblem otherwise.

    A number typed as text is refused (Excel's own SUM leaves it out, so the clerk's totals would
    already be wrong), with the number it seems to mean. `what` names what the cell should hold
    in the message: 数字, 数字（万元）.
    """
    if isinstance(value, str):
        text = value.strip()
        hint = text_number_hint(text)
        raise CellProblem(f"应为{what}，现为{'' if hint else '文本'}“{text}”{hint}")
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise CellProblem(f"应为{what}，现为{shown(value)}")
    try:
        result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise CellProblem(f"应为{what}，现为{shown(value)}") from None
    if not result.is_finite():
        raise CellProblem(f"应为有限的数字，现为{value}")
    if result < 0:
        raise CellProblem(f"不能为负数，现为{plain(result)}")
    return result


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def date(value: Any) -> dt.date:
    """A date cell, or a date typed as text (2018-06-01, 2018/6/1, 2018年6月1日); CellProblem otherwise."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise CellProblem(f"应为日期，现为带时刻的值 {value:%Y-%m-%d %H:%M}")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        match = _DATE_TEXT.match(value.strip())
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                raise CellProblem(f"日期不存在：“{value.strip()}”") from None
        raise CellProblem(f"应为日期，如 2018-06-01，现为{shown(value.strip())}")
    raise CellProblem(f"应为日期，如 2018-06-01，现为{shown(value)}（单元格不是日期格式）")


def text(value: Any) -> str:
    """A text cell's value as written (a number Excel stored as 750.0 gives “750”); a date or a
    yes/no where text belongs is refused, since Excel turned what was typed into something else."""
    if isinstance(value, (dt.date, dt.datetime)):
        raise CellProblem(f"应为文字，现为{shown(value)}"
                          "（Excel 把它识别成了日期，请把单元格设为文本后重新输入）")
    if isinstance(value, bool):
        raise CellProblem(f"应为文字，现为{value}")
    if isinstance(value, float):
        value = int(value) if value.is_integer() else repr(value)
    return str(value)
