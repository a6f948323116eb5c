"""A workbook of text cells only, written straight as sheet XML and streamed into its zip: for exports of
hundreds of thousands of rows (the audit records), where openpyxl's cell objects cost seconds per
hundred thousand rows. Every cell is an inline string, so nothing in it is read as a number or a formula."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from xml.sax.saxutils import escape

from generator.render.env import xml_safe
from generator.render.ziputil import deflate, deflate_stream, write_zip

CELL_CHARS = 32000
"""Characters a cell keeps at most (Excel's limit is 32,767)."""
ROWS_PER_CHUNK = 2000
"""Rows joined into one piece of XML before it is compressed: few calls, little memory."""

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
    '</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    '</Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="宋体"/><charset val="134"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
"""What a cell's text needs escaped or dropped: most cells have none, and one search is cheaper than the fixes."""


def _cell(where: str, value: str) -> str:
    if not value:
        return ""
    if len(value) > CELL_CHARS:
        value = value[:CELL_CHARS]
    if _SPECIAL.search(value):
        value = escape(xml_safe(value))
    return f'<c r="{where}" t="inlineStr" s="1"><is><t xml:space="preserve">{value}</t></is></c>'


def _sheet(widths: Sequence[float], rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
    yield ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">'
           '<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
           f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>').encode()
    letters = [chr(65 + i) for i in range(len(widths))]  # A to Z: a text export has a few columns
    chunk: list[str] = []
    for number, row in enumerate(rows, 1):
        cells = "".join([_cell(f"{letter}{number}", value) for letter, value in zip(letters, row, strict=False)])
        chunk.append(f'<row r="{number}">{cells}</row>')
        if len(chunk) == ROWS_PER_CHUNK:
            yield "".join(chunk).encode("utf-8")
            chunk = []
    chunk.append('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
                 'footer="0.3"/></worksheet>')
    yield "".join(chunk).encode("utf-8")


def text_workbook(sheet: str, widths: Sequence[float], rows: Iterable[Sequence[str]]) -> bytes:
    """One sheet of text cells, one column per width (at most 26), rows written as they come (a generator is
    never held whole); the first two rows (a title and the headings) stay in view when scrolling."""
    if not 0 < len(widths) <= 26:
        raise ValueError("a text workbook has 1 to 26 columns")
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        f'<sheet name="{escape(sheet, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/></sheets></workbook>')
    return write_zip([
        deflate("[Content_Types].xml", _CONTENT_TYPES.encode("utf-8")),
        deflate("_rels/.rels", _ROOT_RELS.encode("utf-8")),
        deflate("xl/workbook.xml", workbook.encode("utf-8")),
        deflate("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.encode("utf-8")),
        deflate("xl/styles.xml", _STYLES.encode("utf-8")),
        # the fastest level: a sheet of text cells shrinks some 14 times anyway, and level 6 takes four times longer
        deflate_stream("xl/worksheets/sheet1.xml", _sheet(widths, rows), level=1),
    ])
