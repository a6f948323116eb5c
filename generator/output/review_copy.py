"""A paper's review copy as a PDF: the paper as it prints, with a line in its top margin and a large light mark
behind its text saying it is a 审核稿. The mark is a page of its own laid under each page of the paper, so the
paper's layout is the one that prints."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor

FONT = "SimHei"
"""A CJK face LibreOffice maps to the installed one (黑体 or its substitute)."""


def page_size(docx: bytes) -> tuple[int, int]:
    """The first section's page width and height in EMU."""
    section = Document(io.BytesIO(docx)).sections[0]
    return int(section.page_width or Mm(210)), int(section.page_height or Mm(297))


def stamp(line: str, mark: str, width: int, height: int) -> bytes:
    """A page of the paper's size holding only the margin line and the light mark (a .docx to convert)."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Emu(width), Emu(height)
    section.top_margin = section.bottom_margin = Mm(8)
    section.left_margin = section.right_margin = Mm(15)
    top = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
    top.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(top, line, Pt(9), RGBColor(0x80, 0x80, 0x80))
    middle = doc.add_paragraph()
    middle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    middle.paragraph_format.space_before = Emu(max(0, height // 2 - int(Mm(40))))
    _run(middle, mark, Pt(96), RGBColor(0xE6, 0xE6, 0xE6))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _run(paragraph: object, text: str, size: Pt, color: RGBColor) -> None:
    run = paragraph.add_run(text)  # type: ignore[attr-defined]
    run.font.size = size
    run.font.color.rgb = color
    run.font.name = FONT
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), FONT)


def marked(paper: bytes, mark_page: bytes) -> bytes:
    """Each page of the paper with the mark page laid under it (scaled to a page of another size)."""
    from pypdf import PdfReader, PdfWriter, Transformation

    under = PdfReader(io.BytesIO(mark_page)).pages[0]
    uw, uh = float(under.mediabox.width), float(under.mediabox.height)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(paper)))
    for page in writer.pages:
        pw, ph = float(page.mediabox.width), float(page.mediabox.height)
        scale = min(pw / uw, ph / uh)
        ctm = Transformation().scale(scale, scale).translate(float(page.mediabox.left), float(page.mediabox.bottom))
        page.merge_transformed_page(under, ctm, over=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
