"""Writing one cell of a workbook made with openpyxl: text from the data always stays text."""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from generator.render.env import xml_safe


def put(ws: Worksheet, row: int, col: int, value: Any) -> Cell:
    """Write a value; text stays text even when it reads “=HYPERLINK(…)”, “=cmd|…”, “+1+1” or
    “@SUM(1)” (never a live formula), without the control characters a workbook cannot hold."""
    if isinstance(value, str):
        value = xml_safe(value)
    cell = ws.cell(row, col, value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell
