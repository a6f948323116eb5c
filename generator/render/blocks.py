"""What a kind hands the Excel renderer for its program-written rows: formulas, rows and styles.

Light on purpose (no openpyxl): the registry of kinds imports it on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
"""One program-written row: column letter → value, plus optional style, merge, height, bold,
format (of column H), percent (the column in percent style) and page_break (before the row)."""

Spans = dict[str, tuple[int, int]]
"""Each repeating row's expression (``items``) → the first and last sheet rows it became."""

Block = Callable[[dict[str, Any], Spans, int], list[Row]]
"""Rows to write in place of a ``{%tr name %}`` row: (context, spans so far, its sheet row)."""


class Formula(str):
    """A cell value to write as a formula (every other str is written as text)."""


def _no_style(letter: str, value: Any, row: Row) -> str:
    return ""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per kind
class Blocks:
    """The program-written rows an Excel kind plugs into its template, and the styles they use."""

    rows: Mapping[str, Block] = field(default_factory=dict)
    """Block name (as in ``{%tr name %}``) → the function that writes its rows."""
    styles: tuple[str, ...] = ()
    """Named cell styles the template must have when it uses a block."""
    number_formats: tuple[str, ...] = ()
    """Number formats a row may ask for on top of its style (``format``)."""
    cell_style: Callable[[str, Any, Row], str] = _no_style
    """The named style of a cell of a row that names none for the whole row."""


NO_BLOCKS = Blocks()
"""For a template with no program-written rows."""
