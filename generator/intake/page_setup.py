"""Print setup shared by the workbooks sent to clerks (the 填报表 and the household roster)."""

from __future__ import annotations

from openpyxl.worksheet.worksheet import Worksheet


def one_page_wide(ws: Worksheet, landscape: bool = False) -> None:
    """Print on A4, every column on one page width, as many pages down as it takes."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    if landscape:
        ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
