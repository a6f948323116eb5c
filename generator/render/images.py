"""Pictures in Word documents: a context value a template places with {{r value|picture }}.

A Picture is the image's bytes and its printed size. The `picture` filter writes an inline
drawing that points at a relationship named after the image's content; CompiledDocx.render
collects the pictures of one document and adds their media parts, relationships and content
types (add_media). Same bytes give the same part name, so a rebuilt document is byte-identical
and an image placed twice is stored once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from lxml import etree
from markupsafe import Markup, escape

EMU_PER_MM = 36000
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}
RELS = "word/_rels/document.xml.rels"
TYPES = "[Content_Types].xml"
DOC_PR_BASE = 10000
"""Drawing ids start here, clear of any drawing a clerk's template holds (ids must be unique)."""


@dataclass(frozen=True)
class Picture:
    """An image to print at width_mm × height_mm, with a description for screen readers."""

    data: bytes
    width_mm: float
    height_mm: float
    description: str = ""
    extension: str = "png"

    @property
    def key(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:16]

    @property
    def part(self) -> str:
        return f"word/media/gaizao-{self.key}.{self.extension}"

    @property
    def rid(self) -> str:
        return f"rIdGaizaoPic{self.key}"

    def __str__(self) -> str:
        # What a document's data hash sees (json default=str): the content, not 100 KB of repr.
        return f"Picture({self.key}, {self.width_mm}×{self.height_mm} mm)"


_PLACED: ContextVar[list[Picture] | None] = ContextVar("placed_pictures", default=None)


@contextmanager
def collecting() -> Iterator[list[Picture]]:
    """Collect the pictures the `picture` filter places while rendering one document."""
    placed: list[Picture] = []
    token = _PLACED.set(placed)
    try:
        yield placed
    finally:
        _PLACED.reset(token)


def placed_count() -> int:
    """How many pictures the document being rendered has placed so far (0 outside `collecting`)."""
    placed = _PLACED.get()
    return 0 if placed is None else len(placed)


def picture(value: Picture) -> Markup:
    """A Word run holding the picture inline (the filter behind {{r value|picture }})."""
    placed = _PLACED.get()
    if not isinstance(value, Picture) or placed is None:
        raise TypeError("picture 过滤器只能用于 Word 文书中的图片字段")
    placed.append(value)
    number = DOC_PR_BASE + len(placed)
    cx, cy = round(value.width_mm * EMU_PER_MM), round(value.height_mm * EMU_PER_MM)
    name = escape(value.description)
    return Markup(
        '<w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
        f'<wp:docPr id="{number}" name="图片 {number}" descr="{name}"/>'
        '<wp:cNvGraphicFramePr><a:graphicFrameLocks '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" noChangeAspect="1"/>'
        '</wp:cNvGraphicFramePr>'
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        f'<pic:nvPicPr><pic:cNvPr id="{number}" name="{value.key}.{value.extension}"/>'
        '<pic:cNvPicPr/></pic:nvPicPr>'
        f'<pic:blipFill><a:blip r:embed="{value.rid}"/><a:stretch><a:fillRect/></a:stretch>'
        '</pic:blipFill>'
        f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr>'
        '</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>'
    )


def add_media(parts: dict[str, bytes], placed: list[Picture]) -> dict[str, bytes]:
    """The parts a document needs for its placed pictures: media, relationships, content types.

    Returns only the parts that change or are new (the relationships and content types, and
    one media part per distinct picture, in the order first placed).
    """
    unique = list({p.key: p for p in placed}.values())
    rels = etree.fromstring(parts[RELS])
    types = etree.fromstring(parts[TYPES])
    for p in unique:
        etree.SubElement(rels, f"{{{PKG}}}Relationship", Id=p.rid, Type=IMAGE_REL,
                         Target=p.part.removeprefix("word/"))
    have = {d.get("Extension", "").lower() for d in types.iter(f"{{{CT}}}Default")}
    for extension in sorted({p.extension for p in unique} - have):
        default = etree.Element(f"{{{CT}}}Default", Extension=extension,
                                ContentType=CONTENT_TYPES[extension])
        types.insert(0, default)
    out = {RELS: etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True),
           TYPES: etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)}
    out.update({p.part: p.data for p in unique})
    return out
