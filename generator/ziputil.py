"""Byte-for-byte repeatable Office files: fixed entry order, timestamps and document properties."""

from __future__ import annotations

import io
import re
import zipfile

FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_CORE = "docProps/core.xml"
_W3CDTF = re.compile(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def fix_core_dates(xml: bytes, stamp: str) -> bytes:
    """Set created/modified in docProps/core.xml to a fixed W3CDTF stamp such as 2018-05-04T00:00:00Z."""
    text = xml.decode("utf-8")
    text = _W3CDTF.sub(lambda m: f"{m.group(1)}{stamp}{m.group(3)}", text)
    return text.encode("utf-8")


def normalize_zip(data: bytes, stamp: str = "2000-01-01T00:00:00Z") -> bytes:
    """Rewrite an Office zip so that the same content always gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            payload = source.read(info.filename)
            if info.filename == _CORE:
                payload = fix_core_dates(payload, stamp)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, payload, compresslevel=6)
    return out.getvalue()
