"""Word documents of one template bound into one file for a single PDF conversion, and that PDF
split back into one PDF per document.

LibreOffice spends most of a small document's conversion on what every document repeats
(loading the styles, laying out the fonts, embedding them in the PDF); bound together, that is
paid once. Only documents that differ in nothing but their body text are bound, and only those
whose layout cannot depend on their neighbours: one section, no page-count fields. A mark at each
document's first and last paragraph becomes a named destination in the PDF, which gives each
document's pages exactly; blank pages LibreOffice inserts between documents fall outside them.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

from lxml import etree
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DOCUMENT = "word/document.xml"
MARK = "gaizaoPdf"
"""Bookmark names of the marks: MARK + document number + a (first paragraph) or z (last)."""
_METADATA = frozenset({"docProps/core.xml", "docProps/app.xml"})
"""Parts that may differ between documents bound together: they do not change the layout."""
PAGE_COUNT = re.compile(rb"NUMPAGES|SECTIONPAGES|SECTIONS\b")
"""Fields whose value would be the bound file's, not the document's."""
_SECT_ORDER = (
    "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders "
    "lnNumType pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter "
    "docGrid printerSettings sectPrChange"
).split()


CANNOT_BIND = (etree.XMLSyntaxError, zipfile.BadZipFile, KeyError, ValueError, IndexError, TypeError,
               StopIteration, AttributeError, OSError)
"""What bind() raises on a document it cannot take apart: the documents are converted one by one."""
CANNOT_SPLIT = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError)
"""What split() raises on a PDF it cannot read: its documents are converted one by one."""


def w(tag: str) -> str:
    """A WordprocessingML tag name as lxml spells it."""
    return f"{{{W}}}{tag}"


def shell(path: Path) -> str | None:
    """What a document shares with the others it may be bound with (a hash of every part but its
    body text); None when it must be converted on its own."""
    if path.suffix.lower() != ".docx":
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            digest = hashlib.sha256()
            document = b""
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                data = zf.read(info)
                if info.filename == DOCUMENT:
                    document = data
                    continue
                if PAGE_COUNT.search(data) and info.filename.startswith("word/"):
                    return None
                if info.filename not in _METADATA:
                    digest.update(info.filename.encode() + b"\0" + hashlib.sha256(data).digest())
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return None
    start = document.find(b"<w:body>")
    if start < 0 or PAGE_COUNT.search(document) or document.count(b"<w:sectPr") != 1:
        return None  # several sections may start on odd pages: blank pages of their own
    # The root element declares the namespaces; documents bound together must agree on them.
    digest.update(document[:start])
    return digest.hexdigest()


def set_sect_child(sect: etree._Element, tag: str, keep: bool = True, **attrs: str) -> None:
    """Set w:<tag> in a sectPr at its schema position; keep: attributes it already has stay."""
    child = sect.find(w(tag))
    if child is None:
        child = etree.Element(w(tag))
        later = {w(t) for t in _SECT_ORDER[_SECT_ORDER.index(tag) + 1:]}
        at = next((i for i, c in enumerate(sect) if c.tag in later), len(sect))
        sect.insert(at, child)
    for key, value in attrs.items():
        if not keep or child.get(w(key)) is None:
            child.set(w(key), value)


def _bookmark(paragraph: etree._Element, name: str, ident: int, at_end: bool) -> None:
    start = etree.Element(w("bookmarkStart"))
    start.set(w("id"), str(ident))
    start.set(w("name"), name)
    end = etree.Element(w("bookmarkEnd"))
    end.set(w("id"), str(ident))
    if at_end:
        paragraph.extend((start, end))
    else:
        at = 1 if len(paragraph) and paragraph[0].tag == w("pPr") else 0
        paragraph.insert(at, end)
        paragraph.insert(at, start)


def bind(paths: Sequence[Path]) -> bytes:
    """One .docx holding the documents in order, each on new pages numbered from 1, marked for split().

    The documents must have the same shell().
    """
    root: etree._Element | None = None
    content: list[etree._Element] = []
    final: etree._Element | None = None
    for number, path in enumerate(paths):
        with zipfile.ZipFile(path) as zf:
            doc = etree.fromstring(zf.read(DOCUMENT))
        body = doc.find(w("body"))
        sect = body[-1]
        body.remove(sect)
        if not len(body) or body[-1].tag != w("p"):
            # A table cannot carry the section break; LibreOffice ends such a document with an
            # empty paragraph of its own all the same.
            etree.SubElement(body, w("p"))
        first = next(body.iter(w("p")))
        last = body[-1]
        _bookmark(first, f"{MARK}{number:06d}a", 2 * number + 1_000_000, at_end=False)
        _bookmark(last, f"{MARK}{number:06d}z", 2 * number + 1_000_001, at_end=True)
        set_sect_child(sect, "type", val="nextPage")
        set_sect_child(sect, "pgNumType", start="1")
        if number < len(paths) - 1:
            ppr = last.find(w("pPr"))
            if ppr is None:
                ppr = etree.Element(w("pPr"))
                last.insert(0, ppr)
            change = ppr.find(w("pPrChange"))
            (change.addprevious if change is not None else ppr.append)(sect)
        else:
            final = sect
        content.extend(body)
        if root is None:
            root = doc
    assert root is not None and final is not None, "nothing to bind"
    body = root.find(w("body"))
    body[:] = [*content, final]
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    out = io.BytesIO()
    with zipfile.ZipFile(paths[0]) as zf, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in zf.infolist():
            target.writestr(info.filename, data if info.filename == DOCUMENT else zf.read(info))
    return out.getvalue()


PARAGRAPH_TAG = r"<w:p(?=[\s>/])[^>]*?(/?)>|</w:p>"
"""A paragraph's opening tag (group 1 is "/" when it is empty, <w:p/>) or its closing tag: what
code that cuts Word XML as text counts to find where a paragraph ends."""


def destinations(reader: PdfReader, prefix: str) -> dict[str, int]:
    """The page index of each named destination whose name starts with prefix."""
    pages: dict[str, int] = {}
    for name, destination in reader.named_destinations.items():
        name = name.lstrip("/")  # a PDF name object keeps its slash
        if name.startswith(prefix):
            page = reader.get_destination_page_number(destination)
            if page is not None:
                pages[name] = page
    return pages


def split(pdf: bytes, count: int) -> list[bytes] | None:
    """The PDFs of the `count` documents bound into `pdf`, by their marks; None if a mark is missing."""
    reader = PdfReader(io.BytesIO(pdf))
    pages = destinations(reader, MARK)
    out = []
    for number in range(count):
        first, last = pages.get(f"{MARK}{number:06d}a"), pages.get(f"{MARK}{number:06d}z")
        if first is None or last is None or last < first:
            return None
        writer = PdfWriter()
        for index in range(first, last + 1):
            writer.add_page(reader.pages[index])
        if reader.metadata:
            writer.add_metadata({k: v for k, v in reader.metadata.items() if k != "/Title"})
        buffer = io.BytesIO()
        writer.write(buffer)
        out.append(buffer.getvalue())
    return out


def title(path: Path) -> str | None:
    """The document's title from its properties, for its PDF's."""
    try:
        with zipfile.ZipFile(path) as zf:
            core = etree.fromstring(zf.read("docProps/core.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return None
    found = core.find("{http://purl.org/dc/elements/1.1/}title")
    return found.text if found is not None and found.text else None


def word_file(parts: dict[str, bytes], xml: bytes) -> bytes:
    """The Word file of these parts with xml as its document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            # LibreOffice reads it once, from a temporary folder: deflated little and fast
            zf.writestr(info, xml if name == DOCUMENT else data, compresslevel=1)
    return buffer.getvalue()
