"""Office files as text, for golden tests and for checks that no tag is left over."""

from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path

import openpyxl
from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree


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


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
LARGE = 2_000_000
"""Bytes of document.xml above which the body is read with lxml alone: python-docx takes a
minute over a thousand household forms."""


def _p_text(p: etree._Element) -> str:
    """A paragraph's text as python-docx gives it (runs' text, tabs and breaks)."""
    out = []
    for el in p.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr"):
        if el.tag == f"{W}t":
            out.append(el.text or "")
        elif el.tag == f"{W}tab":
            out.append("\t")
        else:
            out.append("\n")
    return "".join(out)


def _fast_body(xml: bytes) -> list[str]:
    """_block_text over every top-level paragraph and table, read with lxml."""
    body = etree.fromstring(xml).find(f"{W}body")
    lines: list[str] = []
    for block in body:
        if block.tag == f"{W}p":
            text = _p_text(block)
            if text.strip():
                lines.append(text)
        elif block.tag == f"{W}tbl":
            above: dict[int, str] = {}
            for tr in block.iter(f"{W}tr"):
                if tr.getparent() is not block:
                    continue
                cells: list[str] = []
                col = 0
                for tc in tr.findall(f"{W}tc"):
                    pr = tc.find(f"{W}tcPr")
                    span_el = pr.find(f"{W}gridSpan") if pr is not None else None
                    span = int(span_el.get(f"{W}val")) if span_el is not None else 1
                    merge = pr.find(f"{W}vMerge") if pr is not None else None
                    if merge is not None and merge.get(f"{W}val", "continue") == "continue":
                        text = above.get(col, "")
                    else:
                        text = "\n".join(_p_text(p) for p in tc.findall(f"{W}p")).replace("\n", " / ")
                    for c in range(col, col + span):
                        above[c] = text
                        if not cells or cells[-1] != text:
                            cells.append(text)
                    col += span
                lines.append("| " + " | ".join(cells) + " |")
    return lines


def docx_text(data: bytes | Path) -> str:
    """Paragraphs and table rows in order, then headers and footers."""
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with zipfile.ZipFile(source) as zf:
        xml = zf.read("word/document.xml")
    doc = Document(source)
    lines: list[str] = []
    if len(xml) > LARGE:
        lines.extend(_fast_body(xml))
    else:
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
    lines += _chart_lines(data)
    return "\n".join(lines) + "\n"


_CHART_PART = re.compile(r"^xl/charts/chart(\d+)\.xml$")
_CHART_TITLE = re.compile(r"<(?:a:)?t>([^<]*)</(?:a:)?t>")
_SERIES = re.compile(r"<(?:c:)?ser>.*?<(?:c:)?tx><(?:c:)?v>([^<]*)</.*?<(?:c:)?cat>.*?<(?:c:)?f>([^<]*)</"
                     r".*?<(?:c:)?val>.*?<(?:c:)?f>([^<]*)</", re.S)


def _chart_lines(data: bytes | Path) -> list[str]:
    """Each chart's title, then each series: its name, categories and values referenced."""
    with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as zf:
        charts = sorted((int(m[1]), zf.read(n).decode("utf-8"))
                        for n in zf.namelist() if (m := _CHART_PART.match(n)))
    lines = []
    for number, xml in charts:
        title = _CHART_TITLE.search(xml)
        lines.append(f"[图表{number}] {html.unescape(title[1]) if title else ''}")
        lines += [f"  {html.unescape(name)}: {html.unescape(cat)} → {html.unescape(val)}"
                  for name, cat, val in _SERIES.findall(xml)]
    return lines


_T = re.compile(r"<w:t(?: [^>]*)?>([^<]*)</w:t>")
_PART = re.compile(r"^word/(document|header\d*|footer\d*)\.xml$")


def xml_text(path: Path) -> str:
    """Every text run of a .docx, body then headers and footers, one a line: for documents too
    long to read paragraph by paragraph (a community's household forms)."""
    with zipfile.ZipFile(path) as zf:
        parts = [zf.read(n).decode("utf-8") for n in zf.namelist() if _PART.match(n)]
    return "\n".join(html.unescape(t) for part in parts for t in _T.findall(part)) + "\n"


def office_text(path: Path) -> str:
    """The text of a .docx or .xlsx file (a very long .docx: its text runs, one a line)."""
    if path.suffix == ".xlsx":
        return xlsx_text(path)
    with zipfile.ZipFile(path) as zf:
        large = zf.getinfo("word/document.xml").file_size > LARGE
    return xml_text(path) if large else docx_text(path)
