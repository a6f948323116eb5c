"""Open a workbook someone sent without letting it hang the tool or exhaust the memory.

Every importer of .xlsx files goes through `open_workbook`: before openpyxl parses anything the
file is checked for what it is (.xls, an encrypted workbook, CSV, a web page), for the size of
what it would inflate to, for XML declarations no spreadsheet program writes (DOCTYPE, which
could define entities), and for the extent of every sheet (cell positions past Excel's grid,
merged areas of millions of cells, more rows or cells than a plan ever holds). Each refusal is a
DataError in a clerk's words; none takes more than a pass over the compressed file.
"""

from __future__ import annotations

import html
import io
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from openpyxl.utils.cell import column_index_from_string
from openpyxl.workbook.workbook import Workbook

from generator.data.yamlio import read_bytes
from generator.errors import data_error

MAX_FILE_BYTES = 64 * 1024 * 1024
"""A workbook file larger than this is refused unread (a 100,000-row plan is about 5 MB)."""

MAX_INFLATED_BYTES = 512 * 1024 * 1024
"""What all parts of a workbook may unpack to together."""

MAX_RATIO = 100
"""A part that unpacks to more than this many times its packed size, once past RATIO_FROM, is
a zip bomb: real sheets pack some 5 to 20 times."""
RATIO_FROM = 16 * 1024 * 1024

MAX_PARTS = 10_000
MAX_EXCEL_ROW = 1_048_576
MAX_EXCEL_COLUMN = 16_384
"""Excel's grid: a cell beyond it is a damaged or forged file."""

MAX_ROWS = 300_000
"""Rows a sheet may hold (a plan of 100,000 communities has about as many as that)."""
MAX_CELLS = 2_000_000
"""Cells a workbook may hold: openpyxl keeps each as an object of some hundred bytes."""
MAX_MERGED_CELLS = 1_000_000
"""Cells merged areas of one sheet may cover: openpyxl makes an object for each one."""

SAVE_AS = "请用 Excel 或 WPS 打开原表，“另存为”Excel 工作簿（*.xlsx）后再导入"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")
_CHUNK = 1024 * 1024
_TAIL = 512
"""Bytes of one chunk kept before the next, so a tag split across chunks is still seen."""

_DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY)")
_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')
_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="([A-Za-z]+)(\d+)"')
_SHEET_NAME = re.compile(r'<(?:\w+:)?sheet\b[^>]*?\sname="([^"]*)"')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\sref="([A-Za-z]+)(\d+)(?::([A-Za-z]+)(\d+))?"')


@dataclass
class SheetExtent:
    """What a sheet's XML says about its size, read before any parsing."""

    part: str
    rows: int = 0
    cells: int = 0
    max_row: int = 0
    max_column: int = 0
    merged_cells: int = 0


def read_capped(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; a device, a pipe or a folder is refused."""
    return read_bytes(path, MAX_FILE_BYTES, expected="Excel 文件", use="作为 Excel 工作簿导入", advice="")


def not_xlsx(path: Path, raw: bytes) -> str | None:
    """Why these bytes are not an .xlsx workbook, in a clerk's words; None when they may be one."""
    if not raw:
        return "文件是空的"
    if raw.startswith(_OLE):
        if _ENCRYPTED in raw[:1024 * 1024]:
            return "这个工作簿设置了打开密码，本工具无法读取。请在 Excel 或 WPS 中取消打开密码，保存后再导入"
        return ("这是旧版 Excel（.xls）或 WPS 表格（.et）格式的文件"
                "（也可能是设置了打开密码的工作簿），"
                f"本工具只能读取 .xlsx。{SAVE_AS}；如设有打开密码，请先取消密码")
    if raw.startswith(b"PK"):
        return None
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    markup = (b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")
    if head.startswith(markup) or b"<table" in head:
        return f"这是网页（HTML/XML）文件，只是扩展名像 Excel 文件，不是 .xlsx 工作簿。{SAVE_AS}"
    for encoding in ("utf-8-sig", "gbk"):
        try:
            raw[:4096].decode(encoding)
        except UnicodeDecodeError:
            continue
        csv = path.suffix.lower() == ".csv" or b"," in head
        kind = "CSV（逗号分隔的文本）" if csv else "纯文本"
        return (f"这是{kind}文件，不是 Excel 工作簿：文本文件不能保存合并单元格，"
                f"“改造年度计划”等合并的单元格会丢失。{SAVE_AS}")
    return f"不是 Excel 工作簿（.xlsx）。{SAVE_AS}"


def _damaged(path: Path) -> Exception:
    return data_error(path, "无法作为 Excel 工作簿（.xlsx）打开：文件可能已损坏，或是 .ods 等其他格式。"
                            "请用 Excel 或 WPS 打开后另存为 .xlsx 再导入")


def check_zip(path: Path, raw: bytes) -> list[SheetExtent]:
    """Refuse a workbook whose parts would inflate too far, declare a DOCTYPE, or whose sheets
    reach past what can be read in bounded time and memory; return each sheet's extent."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise _damaged(path) from None
    if len(infos) > MAX_PARTS:
        raise data_error(path, f"工作簿内部的文件数超过{MAX_PARTS}个，不是正常的 Excel 文件")
    _check_contents(path, {info.filename for info in infos})
    total = sum(info.file_size for info in infos)
    if total > MAX_INFLATED_BYTES:
        raise data_error(path, f"工作簿解压后达 {total / 1024 / 1024:.0f} MB，超过上限"
                               f"（{MAX_INFLATED_BYTES // 1024 // 1024} MB）；不是正常的计划表，未导入")
    for info in infos:
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise data_error(path, f"工作簿中的 {info.filename} 压缩比异常（{info.compress_size} 字节解压为"
                                   f"{info.file_size} 字节），可能是恶意构造的文件，未导入")
    extents = []
    cells = 0
    try:
        for info in infos:
            name = info.filename
            if not name.endswith((".xml", ".rels", ".vml")):
                continue
            sheet = SheetExtent(name) if re.fullmatch(r"xl/worksheets/[^/]+\.xml", name) else None
            with zf.open(info) as member:
                _scan(path, member, name, sheet)
            if sheet is not None:
                extents.append(sheet)
                cells += sheet.cells
                if cells > MAX_CELLS:
                    raise data_error(path, f"工作簿的单元格超过{MAX_CELLS // 10000}万个，超出本工具一次能导入的范围；"
                                           "请删去多余的行列或拆成几个文件")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError):
        raise _damaged(path) from None
    return extents


def _check_contents(path: Path, names: set[str]) -> None:
    """Refuse a zip that is another kind of document, links to other files, or carries macros."""
    if "xl/workbook.xml" not in names:
        other = "Word 文件" if "word/document.xml" in names else (
            "OpenDocument（.ods）文件" if "content.xml" in names else "其他格式的压缩文件")
        raise data_error(path, f"这是{other}，不是 Excel 工作簿（.xlsx）。{SAVE_AS}")
    links = sorted(n for n in names if n.startswith("xl/externalLinks/") and n.endswith(".xml"))
    if links:
        raise data_error(path, f"工作簿含有指向其他文件的外部链接（{len(links)} 个），导入时不会读取其他文件；"
                               "请在 Excel 中“数据—编辑链接—断开链接”（WPS：“数据—编辑链接—断开”）"
                               "后保存，再导入")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise data_error(path, "工作簿含有宏（VBA），本工具不导入带宏的文件；"
                               "请另存为不含宏的 Excel 工作簿（*.xlsx）后再导入")


def _scan(path: Path, member: IO[bytes], name: str, sheet: SheetExtent | None) -> None:
    """One pass over a part's XML in chunks: declarations, and for a sheet its rows, cells, merges.

    Each chunk's matches are taken up to _TAIL bytes before its end; the rest is read again with
    the next chunk, so a tag split between two chunks is seen once, whole.
    """
    carry = b""
    seen_rows: set[int] = set()
    while True:
        chunk = member.read(_CHUNK)
        text = carry + chunk
        end = len(text) if not chunk else max(len(text) - _TAIL, 0)
        if _DECLARATION.search(text):
            raise data_error(path, f"工作簿中的 {name} 含有 DOCTYPE/ENTITY 声明，Excel 和 WPS 不会写这种内容；"
                                   f"为安全起见未导入。{SAVE_AS}")
        if sheet is not None:
            _measure(path, text, end, sheet, seen_rows)
        if not chunk:
            return
        carry = text[end:]


def _measure(path: Path, text: bytes, end: int, sheet: SheetExtent, seen_rows: set[int]) -> None:
    for m in _ROW.finditer(text):
        if m.start() >= end:
            break
        row = int(m.group(1))
        _check_position(path, sheet, row, 1)
        if row not in seen_rows:
            seen_rows.add(row)
            sheet.rows += 1
            if sheet.rows > MAX_ROWS:
                raise data_error(path, f"工作表的行数超过{MAX_ROWS}行，超出本工具一次能导入的范围；"
                                       "请删去多余的行或拆成几个文件")
    for m in _CELL.finditer(text):
        if m.start() >= end:
            break
        sheet.cells += 1
        _check_position(path, sheet, int(m.group(2)), _column(path, m.group(1)))
    for m in _MERGE.finditer(text):
        if m.start() >= end:
            break
        first_col = _column(path, m.group(1))
        first_row = int(m.group(2))
        last_col = _column(path, m.group(3)) if m.group(3) else first_col
        last_row = int(m.group(4)) if m.group(4) else first_row
        for row, col in ((first_row, first_col), (last_row, last_col)):
            _check_position(path, sheet, row, col)
        area = (abs(last_row - first_row) + 1) * (abs(last_col - first_col) + 1)
        sheet.merged_cells += area
        if sheet.merged_cells > MAX_MERGED_CELLS:
            ref = (m.group(1) + m.group(2) + (b":" + m.group(3) + m.group(4) if m.group(3) else b"")).decode()
            raise data_error(path, f"合并单元格 {ref} 覆盖 {area} 个单元格（全表合并区域超过"
                                   f"{MAX_MERGED_CELLS // 10000}万个单元格），不是计划表应有的合并；"
                                   "请取消这一合并后再导入")


def _column(path: Path, letters: bytes) -> int:
    if len(letters) > 3:
        raise data_error(path, f"单元格列号“{letters.decode()}”超出 Excel 的范围，文件可能已损坏")
    return column_index_from_string(letters.upper().decode())


def _check_position(path: Path, sheet: SheetExtent, row: int, col: int) -> None:
    if not 1 <= row <= MAX_EXCEL_ROW or not 1 <= col <= MAX_EXCEL_COLUMN:
        raise data_error(path, f"{sheet.part} 中有位于第{row}行、第{col}列的单元格，超出 Excel 表格的范围"
                               f"（{MAX_EXCEL_ROW}行、{MAX_EXCEL_COLUMN}列），文件可能已损坏或被篡改；"
                               f"{SAVE_AS}")
    sheet.max_row = max(sheet.max_row, row)
    sheet.max_column = max(sheet.max_column, col)


def sheet_names(raw: bytes) -> list[str]:
    """The sheet names xl/workbook.xml lists, read without parsing the workbook (after check_zip)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        xml = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    return [html.unescape(name) for name in _SHEET_NAME.findall(xml)]


def open_workbook(path: Path, data_only: bool = False,
                  max_rows: int | Callable[[list[str]], int] | None = None) -> Workbook:
    """Open an .xlsx workbook safely, with a clear message for every kind of file that is not one.

    max_rows: the last row any sheet may reach, for an import whose workbooks are small (a form);
    or a function of the workbook's sheet names giving it, for an import that takes workbooks of
    more than one kind.
    """
    import openpyxl

    raw = read_capped(path)
    refusal = not_xlsx(path, raw)
    if refusal:
        raise data_error(path, refusal)
    extents = check_zip(path, raw)
    if callable(max_rows):
        max_rows = max_rows(sheet_names(raw))
    last = max((e.max_row for e in extents), default=0)
    if max_rows is not None and last > max_rows:
        raise data_error(path, f"工作簿中有工作表达到第 {last} 行，超过本工具导入的上限"
                               f"（{max_rows} 行）；请删除多余的行，或确认选对了文件")
    try:
        with warnings.catch_warnings():  # openpyxl warns about unsupported extensions it skips
            warnings.simplefilter("ignore")
            # a file object, not the path: openpyxl refuses a real .xlsx named .xls by its name
            return openpyxl.load_workbook(io.BytesIO(raw), data_only=data_only)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError, SyntaxError,
            IndexError, AttributeError):
        # SyntaxError: the XML parsers' errors (a sheet cut short, a stray byte) derive from it
        raise _damaged(path) from None
