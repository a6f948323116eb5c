"""The words the program writes in the rows it lays into an Excel template, read from the
template's own 程序用语 sheet, so a city changes them in Excel like every other word.

Light on purpose (openpyxl only when a file is read): the registry of kinds imports it on every run.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Template
from jinja2 import TemplateError as JinjaError

from generator.errors import TemplateError
from generator.render.env import TEXT_ENV

WORDING_SHEET = "程序用语"
"""A template's sheet of the words the program writes in its rows (key in column A, text in
column B, where it shows in column C); read by the program, never printed."""
FORM_WORDS = "xlsx/form.xlsx"
"""The template holding only the 填报表's words: its 程序用语 sheet maps a stable key (column A) to
the city's words (column B)."""
WORDING = "wording"
"""The context key under which program-written rows find that sheet's words."""


def take_wording(wb: Any) -> dict[str, str]:
    """A workbook's 程序用语 sheet as key → text, taken out of the workbook (it is not printed)."""
    if WORDING_SHEET not in wb.sheetnames:
        return {}
    ws = wb[WORDING_SHEET]
    words = {str(key).strip(): str(text)
             for key, text, *_ in ws.iter_rows(min_row=2, max_col=3, values_only=True)
             if key is not None and text is not None}
    wb.remove(ws)
    return words


@lru_cache(maxsize=8)
def wording_of(path: Path) -> dict[str, str]:
    """The 程序用语 of a template file (the built-in one, for words a city's older copy lacks)."""
    from openpyxl import load_workbook

    return take_wording(load_workbook(path))


@lru_cache(maxsize=512)
def _compiled(text: str) -> Template:
    return TEXT_ENV.from_string(text)


def say(context: dict[str, Any], key: str, fallback: Path, **values: Any) -> str:
    """One of the program's words from the template's 程序用语 sheet (or the built-in
    template's, when a city's copy predates the word), its tags filled from values."""
    text = context.get(WORDING, {}).get(key)
    if text is None:
        text = wording_of(fallback).get(key)
    if text is None:
        raise TemplateError(f"{fallback.name}：工作表“{WORDING_SHEET}”缺少“{key}”一行")
    if "{" not in text:
        return text
    try:
        return _compiled(text).render(**values)
    except JinjaError as exc:
        raise TemplateError(f"{fallback.name} 工作表“{WORDING_SHEET}” {key}：{exc}") from None
