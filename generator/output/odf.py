"""Pieces of a long Word file handed to LibreOffice as flat ODF text (.fodt) instead of .docx.

LibreOffice reads its own format about twice as fast as Word's (bench/RESULTS.md). A district's
bound household forms are thousands of sections with the same markup and different words: one
section of each shape is converted to .fodt by LibreOffice itself, with every run of text replaced
by a numbered marker and its bookmarks left out, and each section of that shape is then filled in
by putting its own words where the markers are and its bookmarks where its first paragraph starts.
LibreOffice thus lays the Word file's own layout out, as it read it once; what cannot be filled
that way stays a .docx.
"""

from __future__ import annotations

import hashlib
import html
import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from generator.output import binding, office

_TEXT = re.compile(rb"(<w:t(?:\s[^>]*)?>)([^<]*)(</w:t>)")
_EMPTY_TEXT = re.compile(rb"<w:t(?:\s[^>]*)?/>")
_BOOKMARK = re.compile(rb'<w:bookmarkStart\b[^>]*?w:name="([^"]*)"[^>]*/>')
_BOOKMARK_TAGS = re.compile(rb"<w:bookmark(?:Start|End)\b[^>]*/>")
_FIRST_RUN = re.compile(rb"<w:r[\s>]")
_CONTROL = re.compile(rb"<w:t(?:\s[^>]*)?>[^<]*[\t\r\n]")
"""Tabs and line ends written into a run's text, which Word and LibreOffice read their own ways."""
_FIELDS = re.compile(rb"<w:fldSimple|<w:fldChar|<w:instrText|<w:sym\b|<w:pict|<w:drawing|<mc:|<w:object")
"""What a marker cannot stand for: fields (their result is laid out, not read), symbols, pictures
and alternate content."""
_MARK = "\ue000{}\ue001"
"""A marker: private-use characters that no text of ours holds."""
_MARKED = re.compile("\ue000(\\d+)\ue001")
_OFFICE_TEXT = re.compile(r"<office:text\b[^>]*>")
_FIRST_PARAGRAPH = re.compile(r"<text:[ph]\b[^>]*(?<!/)>")
_SHOWN = re.compile(r"<(?:table:|text:(?:[ph]|list|section|soft-page-break)\b|draw:)")
CANNOT_CONVERT = (OSError, subprocess.SubprocessError, ValueError, UnicodeDecodeError)


def shape(document: bytes) -> bytes | None:
    """A section's markup without its words and bookmarks (sections of the same shape differ only
    in those), or None when it holds what a marker cannot stand for or a bookmark elsewhere than
    before the first run (where the start marks of binding and printing are)."""
    if _FIELDS.search(document) or _EMPTY_TEXT.search(document) or _CONTROL.search(document):
        return None
    run, end = _FIRST_RUN.search(document), document.find(b"</w:p>")
    if any(run is None or m.start() > min(run.start(), end) for m in _BOOKMARK_TAGS.finditer(document)):
        return None
    return _TEXT.sub(rb"\1\3", _BOOKMARK_TAGS.sub(b"", document))


def words(document: bytes) -> tuple[list[str], list[str]]:
    """The texts of a section's runs and its bookmark names, in document order."""
    texts = [html.unescape(m[2].decode("utf-8")) for m in _TEXT.finditer(document)]
    names = [html.unescape(m[1].decode("utf-8")) for m in _BOOKMARK.finditer(document)]
    return texts, names


def marked(document: bytes) -> bytes:
    """The section without bookmarks and with every run's text replaced by a numbered marker."""
    count = iter(range(1 << 30))
    return _TEXT.sub(lambda m: m[1] + _MARK.format(next(count)).encode() + m[3],
                     _BOOKMARK_TAGS.sub(b"", document))


class Template:
    """The .fodt of one shape of section: its head, its body with markers, its tail."""

    def __init__(self, fodt: str, markers: int):
        start = _OFFICE_TEXT.search(fodt)
        if start is None:
            raise ValueError("no office:text")
        first = _FIRST_PARAGRAPH.search(fodt, start.end())
        # Before the first paragraph: the document's declarations (forms, sequences), nothing shown.
        if first is None or _SHOWN.search(fodt, start.end(), first.start()):
            raise ValueError("the section does not begin with a paragraph")
        end = fodt.rindex("</office:text>")
        self.head, self.opening, body, self.tail = (fodt[:first.start()], first[0], fodt[first.end():end],
                                                    fodt[end:])
        self.parts = _MARKED.split(body)  # text, number, text, number, …
        numbers = [int(n) for n in self.parts[1::2]]
        if set(numbers) != set(range(markers)) or _MARKED.search(self.head + self.tail):
            raise ValueError("markers lost")  # LibreOffice dropped, moved or merged some

    def body(self, texts: Sequence[str], names: Sequence[str]) -> str:
        """The body filled with one section's words, its bookmarks where its first paragraph starts."""
        out = [self.opening, *(f'<text:bookmark text:name="{html.escape(n)}"/>' for n in names)]
        for index, part in enumerate(self.parts):
            out.append(part if index % 2 == 0 else _spaces(html.escape(texts[int(part)], quote=False)))
        return "".join(out)


def _spaces(text: str) -> str:
    """A run's spaces as ODF keeps them: plain spaces there would be collapsed."""
    return text.replace(" ", "<text:s/>")


def to_fodt(command: str, docx: bytes, folder: Path) -> str:
    """The .fodt LibreOffice makes of a .docx (its own profile, our fonts), as text."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "shape.docx"
    source.write_bytes(docx)
    proc = office.convert(command, office.profile(folder / "profile", False), "fodt", folder / "out", [source])
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        raise OSError("LibreOffice 无响应") from None
    finally:
        office.kill(proc)
    return (folder / "out" / "shape.fodt").read_text(encoding="utf-8")


class Filler:
    """Turns pieces of a long Word file into .fodt files, converting each new shape once."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.templates: dict[str, Template | None] = {}

    def piece(self, documents: Sequence[bytes], package: dict[str, bytes]) -> bytes | None:
        """The .fodt of a piece of a long file, given as the document.xml of each of its sections
        alone (pdf.sections) and its package, or None when its sections are not all of one shape
        that converts with its markers intact."""
        shapes = {shape(d) for d in documents}
        if len(shapes) != 1 or None in shapes:
            return None
        digest = hashlib.sha256(next(iter(shapes)) or b"")
        for name in sorted(package):
            if name != "word/document.xml":
                digest.update(name.encode() + b"\0" + package[name])
        key = digest.hexdigest()
        if key not in self.templates:
            self.templates[key] = self._template(documents[0], package)
        template = self.templates[key]
        if template is None:
            return None
        bodies = [template.body(*words(d)) for d in documents]
        return (template.head + "".join(bodies) + template.tail).encode("utf-8")

    def _template(self, section: bytes, package: dict[str, bytes]) -> Template | None:
        texts, _ = words(section)
        try:
            with tempfile.TemporaryDirectory(prefix="gaizao-odf-") as tmp:
                fodt = to_fodt(self.command, binding.word_file(package, marked(section)), Path(tmp))
            return Template(fodt, len(texts))
        except CANNOT_CONVERT:
            return None
