"""Opening a workbook that came from outside without trusting it.

Shared by every import of .xlsx files. Before openpyxl reads anything, the raw file is checked:
its size, what it really is (an .xls or an encrypted workbook both start as an OLE file), and
its zip: how many parts, how large they unpack (a zip bomb), how many rows a sheet declares,
links to other files and macros. Every refusal says, in Chinese, what the file is and what to do.
Formulas are never evaluated by anything here; openpyxl only reads what Excel saved.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.workbook.workbook import Workbook

from generator.errors import data_error


@dataclass(frozen=True)
class Limits:
    """How large a workbook may be; each import sets its own."""

    file_bytes: int = 20 * 1024 * 1024
    parts: int = 500
    """Zip members: a workbook of a dozen sheets has some 30."""
    unpacked_bytes: int = 100 * 1024 * 1024
    """All parts together, as declared in the zip's directory."""
    part_bytes: int = 40 * 1024 * 1024
    ratio: int = 200
    """Largest unpacked : packed ratio of a large part (text compresses some 10 to 30 times)."""
    rows: int = 100_000
    """Rows one sheet may have."""


SAVE_AS = "请用 Excel 或 WPS 打开，“另存为”Excel 工作簿（*.xlsx）后再导入"
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")
_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"')


def read_bytes(path: Path, limits: Limits) -> bytes:
    """The file's bytes, refusing a missing, unreadable or oversized file."""
    try:
        size = path.stat().st_size
        if size > limits.file_bytes:
            raise data_error(path, f"文件过大（{size / 1024 / 1024:.1f} MB），超过本工具导入的上限"
                                   f"（{limits.file_bytes // 1024 // 1024} MB）；请确认选对了文件")
        return path.read_bytes()
    except FileNotFoundError:
        raise data_error(path, "文件不存在") from None
    except IsADirectoryError:
        raise data_error(path, "应为 Excel 文件，现为文件夹") from None
    except OSError as exc:
        raise data_error(path, f"无法读取文件（{exc.strerror}）") from None


def what_it_is(path: Path, raw: bytes) -> str | None:
    """Why these bytes are not an .xlsx workbook, in a clerk's words; None when they may be one."""
    if not raw:
        return "文件是空的"
    if raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        if _ENCRYPTED in raw[:1024 * 1024] or b"EncryptedPackage" in raw[:1024 * 1024]:
            return ("工作簿设置了打开密码（已加密），本工具不能读取。请在 Excel 或 WPS 中打开，"
                    "取消打开密码（文件—信息—保护工作簿—用密码进行加密，清空密码）后保存，再导入")
        return f"这是旧版 Excel（.xls）或 WPS 表格（.et）格式的文件，只是扩展名为 .xlsx。{SAVE_AS}"
    if raw.startswith(b"PK"):
        return None
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")) or b"<table" in head:
        return f"这是网页（HTML/XML）文件，只是扩展名像 Excel 文件。{SAVE_AS}"
    return f"不是 Excel 工作簿（.xlsx）。{SAVE_AS}"


def check_zip(path: Path, raw: bytes, limits: Limits) -> None:
    """Refuse a zip that is damaged, unpacks too large, has too many rows, links or macros."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise data_error(path, f"文件已损坏，无法作为 Excel 工作簿打开。{SAVE_AS}") from None
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        other = "Word 文件" if "word/document.xml" in names else (
            "OpenDocument（.ods）文件" if "content.xml" in names else "其他格式的压缩文件")
        raise data_error(path, f"这是{other}，不是 Excel 工作簿（.xlsx）。{SAVE_AS}")
    if len(infos) > limits.parts:
        raise data_error(path, f"工作簿内部的部件过多（{len(infos)} 个，上限 {limits.parts} 个），"
                               "不像正常的填报表；请确认选对了文件")
    total = sum(info.file_size for info in infos)
    for info in infos:
        too_big = info.file_size > limits.part_bytes
        inflated = info.file_size > 1024 * 1024 and info.file_size > limits.ratio * max(info.compress_size, 1)
        if too_big or inflated or total > limits.unpacked_bytes:
            raise data_error(path, f"工作簿解压后过大（“{info.filename}”{info.file_size / 1024 / 1024:.0f} MB，"
                                   f"全部 {total / 1024 / 1024:.0f} MB），超过本工具导入的上限，"
                                   "可能是损坏或恶意构造的文件；请确认选对了文件")
    links = sorted(n for n in names if n.startswith("xl/externalLinks/") and n.endswith(".xml"))
    if links:
        raise data_error(path, f"工作簿含有指向其他文件的外部链接（{len(links)} 个），导入时不会读取其他文件；"
                               "请在 Excel 中“数据—编辑链接—断开链接”（WPS：“数据—编辑链接—断开”）"
                               "后保存，再导入")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise data_error(path, "工作簿含有宏（VBA），本工具不导入带宏的文件；"
                               "请另存为不含宏的 Excel 工作簿（*.xlsx）后再导入")
    for info in infos:
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            rows = _last_row(archive, info)
            if rows > limits.rows:
                raise data_error(path, f"工作簿中有工作表达到第 {rows} 行，超过本工具导入的上限"
                                       f"（{limits.rows} 行）；请删除多余的行，或确认选对了文件")


def _last_row(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """The highest row number a sheet part names, read in pieces (never unpacked whole)."""
    last = 0
    tail = b""
    try:
        with archive.open(info) as part:
            while chunk := part.read(1024 * 1024):
                block = tail + chunk
                for match in _ROW.finditer(block):
                    last = max(last, int(match.group(1)))
                tail = block[-200:]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
        return 0  # openpyxl reports the damage when it reads the part
    return last


def open_xlsx(path: Path, limits: Limits | None = None, data_only: bool = False) -> Workbook:
    """Open an .xlsx workbook from outside after the checks above; never evaluates a formula."""
    limits = limits or Limits()
    raw = read_bytes(path, limits)
    refusal = what_it_is(path, raw)
    if refusal:
        raise data_error(path, refusal)
    check_zip(path, raw, limits)
    try:
        with warnings.catch_warnings():  # openpyxl warns about extensions it skips
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(raw), data_only=data_only)
    except Exception:  # openpyxl raises many kinds for a damaged part
        raise data_error(path, f"文件已损坏，无法作为 Excel 工作簿读取。{SAVE_AS}") from None
