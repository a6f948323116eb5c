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
from dataclasses import dataclass

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
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = packer.compress(payload) + packer.flush()
    return Entry(name.encode("utf-8"), zlib.crc32(payload), len(payload), data)


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
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, 8, _DOS_TIME,
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
        if name == _CORE:
            payload = fix_core_dates(payload, stamp)
        entries.append(deflate(name, payload))
    return write_zip(entries)
