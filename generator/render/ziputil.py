"""Byte-for-byte repeatable Office files: fixed entry order, timestamps and document properties.

Parts that never change between documents (styles, fonts, settings) are compressed once per
template and copied as they are into every document; only the rendered parts are deflated anew.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from generator.errors import TemplateError

FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_DOS_DATE = ((2000 - 1980) << 9) | (1 << 5) | 1
_DOS_TIME = 0
_CORE = "docProps/core.xml"
_W3CDTF = re.compile(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")
STAMP = "2000-01-01T00:00:00Z"


def fix_core_dates(xml: bytes, stamp: str = STAMP) -> bytes:
    """Set created/modified in docProps/core.xml to a fixed W3CDTF stamp such as 2018-05-04T00:00:00Z."""
    text = xml.decode("utf-8")
    text = _W3CDTF.sub(lambda m: f"{m.group(1)}{stamp}{m.group(3)}", text)
    return text.encode("utf-8")


@dataclass(frozen=True)
class Entry:
    """One zip member, already deflated."""

    name: bytes
    crc: int
    size: int
    data: bytes


def deflate(name: str, payload: bytes) -> Entry:
    """Compress one member (raw deflate, level 6, as zipfile does)."""
    return deflate_stream(name, (payload,))


def deflate_stream(name: str, chunks: Iterable[bytes], level: int = 6) -> Entry:
    """A member compressed from the chunks joined, never holding them joined (a bound file's document)."""
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    out, crc, size = [], 0, 0
    for chunk in chunks:
        out.append(packer.compress(chunk))
        crc, size = zlib.crc32(chunk, crc), size + len(chunk)
    out.append(packer.flush())
    return Entry(name.encode("utf-8"), crc, size, b"".join(out))


def fixed(name: str, payload: bytes, stamp: str = STAMP) -> bytes:
    """A member as normalize_zip keeps it: the document properties' dates fixed."""
    return fix_core_dates(payload, stamp) if name == _CORE else payload


MADE_BY_UNIX = 3 << 8 | 20
"""The central directory's "version made by": host Unix, spec 2.0."""


def write_zip(entries: list[Entry]) -> bytes:
    """Assemble a zip from deflated members, with fixed dates and attributes."""
    out = io.BytesIO()
    central = io.BytesIO()
    for e in entries:
        offset = out.tell()
        flags = 0x800 if any(b > 0x7F for b in e.name) else 0  # UTF-8 names
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 8, _DOS_TIME, _DOS_DATE,
                              e.crc, len(e.data), e.size, len(e.name), 0))
        out.write(e.name)
        out.write(e.data)
        # "Made by" Unix (3) rather than MS-DOS (0): Info-ZIP's unzip converts the names of a DOS-made
        # entry from the OEM code page even when the UTF-8 flag is set, which garbles Chinese names.
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, MADE_BY_UNIX, 20, flags, 8, _DOS_TIME,
                                  _DOS_DATE, e.crc, len(e.data), e.size, len(e.name), 0, 0, 0, 0,
                                  0o600 << 16, offset))
        central.write(e.name)
    start = out.tell()
    directory = central.getvalue()
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                          len(directory), start, 0))
    return out.getvalue()


def read_members(data: bytes) -> list[tuple[str, bytes]]:
    """The members of a zip, in order."""
    source = zipfile.ZipFile(io.BytesIO(data))
    return [(info.filename, source.read(info.filename)) for info in source.infolist()]


def normalize_zip(data: bytes, stamp: str = STAMP) -> bytes:
    """Rewrite an Office zip so that the same content always gives the same bytes."""
    entries = []
    for name, payload in read_members(data):
        entries.append(deflate(name, fixed(name, payload, stamp)))
    return write_zip(entries)


MAX_TEMPLATE_BYTES = 64 * 1024 * 1024
"""A template file larger than this is not read (the largest built-in one is some 100 KB)."""
MAX_TEMPLATE_PART = 64 * 1024 * 1024
"""What one part of a template may unpack to: a document.xml of a thousand pages is less."""
MAX_TEMPLATE_TOTAL = 256 * 1024 * 1024
MAX_TEMPLATE_RATIO = 200
_DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY)")


def read_template(path: Path, label: str) -> list[tuple[str, bytes]]:
    """A template's parts, refused before unpacking when they would inflate too far, and refused
    when one declares a DOCTYPE (Word will not open a document that carries one on)."""
    try:
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise TemplateError(f"模板 {label} 过大（{size / 1024 / 1024:.1f} MB），不是正常的模板文件")
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_TEMPLATE_TOTAL:
                raise TemplateError(f"模板 {label} 解压后达 {total // 1024 // 1024} MB，不是正常的模板文件，已拒绝")
            for info in infos:
                if info.file_size > MAX_TEMPLATE_PART or (
                        info.file_size > 1024 * 1024
                        and info.file_size > MAX_TEMPLATE_RATIO * max(info.compress_size, 1)):
                    raise TemplateError(f"模板 {label} 中的 {info.filename} 解压后达 {info.file_size} 字节"
                                        f"（压缩时 {info.compress_size} 字节），不是正常的模板文件，已拒绝")
            parts = [(info.filename, zf.read(info.filename)) for info in infos]
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise TemplateError(f"模板 {label} 无法打开（不是有效的 Office 文件）：{exc}") from None
    for name, blob in parts:
        if name.endswith((".xml", ".rels")) and _DECLARATION.search(blob):
            raise TemplateError(f"模板 {label} 的 {name} 含有 DOCTYPE/ENTITY 声明；Word 和 Excel 不会写这种内容，"
                                "带着它生成的文书 Word 会拒绝打开。请用 Word 或 Excel 打开模板后另存一份再用")
    return parts
