"""The words the program writes in the rows it lays into an Excel template, read from the
template's own 程序用语 sheet, so a city changes them in Excel like every other word.

Light on purpose (openpyxl only when a file is read): the registry of kinds imports it on every run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Template
from jinja2 import TemplateError as JinjaError
from openpyxl import load_workbook

from generator.errors import TemplateError
from generator.render.env import TEXT_ENV
from generator.render.templates import BUILTIN

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


# ---------------------------------------------------------------- the 填报表's words (intake.form fills them)


META_SHEET = "表单信息"
"""The hidden sheet the import reads first: its name and row labels are keys, not words."""
SHEETS = ("basic", "survey", "items", "other", "units", "acceptance", "management", "completion",
          "instructions")
"""The visible sheets by key, in the order of the work; their names are words (sheet.<key>), and the
import refuses a workbook missing one under either its built-in or its city name."""
LISTS_KEY = "lists"
"""The hidden sheet of drop-down lists (its name is the word sheet.lists)."""
_SHEET_NAME = re.compile(r"[^\\/?*:\[\]']{1,31}")
"""What Excel accepts as a sheet's name (no quote either: formulas refer to the sheets by name)."""


def builtin_words() -> dict[str, str]:
    """The built-in template's words by key."""
    path = BUILTIN / FORM_WORDS
    stat = path.stat()
    return words_at(path, stat.st_mtime_ns, stat.st_size)


def form_words_of(path: Path) -> dict[str, str]:
    builtin = builtin_words()
    stat = path.stat()
    by_text: dict[str, list[str]] = {}
    for key, text in builtin.items():
        if not key.startswith("sheet."):  # older copies did not name sheets
            by_text.setdefault(text, []).append(key)
    words = dict(builtin)
    for key, text in words_at(path, stat.st_mtime_ns, stat.st_size).items():
        if key in builtin or key.startswith("instructions."):
            words[key] = text
        else:  # an older copy, keyed by the built-in text: the text stands for every key saying it
            words.update((known, text) for known in by_text.get(key, ()))
    return words


def check_sheet_names(path: Path) -> None:
    """Raise TemplateError when a copy of form.xlsx names a sheet in a way Excel refuses."""
    check_sheet_words(path, form_words_of(path))


def unknown_word_keys(keys: list[str]) -> list[str]:
    """The keys of a city's 程序用语 sheet that are neither a word's key nor (in an older copy) a
    built-in text: a misspelt key would silently change nothing."""
    builtin = builtin_words()
    texts = set(builtin.values())
    return [k for k in keys if k not in builtin and k not in texts
            and not re.fullmatch(r"instructions\.\d+", k)]


def check_sheet_words(path: Path, words: Mapping[str, str]) -> None:
    """Raise TemplateError when the words name a sheet in a way Excel refuses, or two sheets alike."""
    names = [words[f"sheet.{key}"] for key in (*SHEETS, LISTS_KEY)]
    for key, name in zip((*SHEETS, LISTS_KEY), names, strict=True):
        if not _SHEET_NAME.fullmatch(name) or name == META_SHEET:
            raise TemplateError(f"{path} 工作表“{WORDING_SHEET}” sheet.{key}：“{name}”不能作工作表名称"
                                "（1至31个字符，不能有 \\ / ? * : [ ] 和单引号，不能叫“表单信息”）")
        if names.count(name) > 1:
            raise TemplateError(f"{path} 工作表“{WORDING_SHEET}” sheet.{key}：工作表名称“{name}”重复")


@lru_cache(maxsize=8)
def words_at(path: Path, mtime_ns: int, size: int) -> dict[str, str]:
    """Read once per process and version of the file: an import reads hundreds of forms."""
    return take_wording(load_workbook(path))
