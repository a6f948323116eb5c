"""Print setup and text cells shared by the workbooks sent to clerks (the 填报表 and the household roster)."""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from generator.render.env import xml_safe


def one_page_wide(ws: Worksheet, landscape: bool = False) -> None:
    """Print on A4, every column on one page width, as many pages down as it takes."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    if landscape:
        ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def put(ws: Worksheet, row: int, col: int, value: Any) -> Cell:
    """Write a value; text stays text even when it reads “=HYPERLINK(…)” or “=cmd|…” (never a live formula),
    without the control characters a workbook cannot hold."""
    if isinstance(value, str):
        value = xml_safe(value)
    cell = ws.cell(row, col, value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell
