"""Office files as text, for golden tests and for checks that no tag is left over."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph


def _block_text(block: Paragraph | Table) -> list[str]:
    if isinstance(block, Paragraph):
        return [block.text] if block.text.strip() else []
    lines = []
    for row in block.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = cell.text.replace("\n", " / ")
            if not cells or cells[-1] != text:  # a merged cell repeats across the row
                cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def docx_text(data: bytes | Path) -> str:
    """Paragraphs and table rows in order, then headers and footers."""
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    doc = Document(source)
    lines: list[str] = []
    for block in doc.iter_inner_content():
        lines.extend(_block_text(block))
    for number, section in enumerate(doc.sections, start=1):
        for label, part in (("页眉", section.header), ("页脚", section.footer),
                            ("偶数页页眉", section.even_page_header),
                            ("偶数页页脚", section.even_page_footer)):
            if part.is_linked_to_previous:
                continue
            text = " ".join(p.text for p in part.paragraphs if p.text.strip())
            if text:
                lines.append(f"[{label}{number}] {text}")
    return "\n".join(lines) + "\n"


def xlsx_text(data: bytes | Path) -> str:
    """One line per non-empty cell, formulas as text."""
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    wb = openpyxl.load_workbook(source)
    lines = []
    for ws in wb.worksheets:
        lines.append(f"[{ws.title}]")
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None and cell.value != "":
                    lines.append(f"{cell.coordinate}: {cell.value}")
    return "\n".join(lines) + "\n"


def office_text(path: Path) -> str:
    """The text of a .docx or .xlsx file."""
    return xlsx_text(path) if path.suffix == ".xlsx" else docx_text(path)
