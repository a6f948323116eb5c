"""Batch printing: one print-ready .docx per district and kind, a section for each document."""

from __future__ import annotations

import copy
import hashlib
import io
import re
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from generator.data.loader import DataSet
from generator.documents.kinds import KINDS, Kind
from generator.documents.paths import safe_name
from generator.errors import DataError, Problem
from generator.output.binding import PARAGRAPH_TAG, destinations, set_sect_child, w
from generator.output.pdf import NoLibreOffice, convert, reusing_pieces, soffice
from generator.output.pipeline import (
    Job,
    Renderers,
    Result,
    Selection,
    Skip,
    Then,
    data_hash,
    plan_jobs,
    refuse_on_errors,
    write_all,
)
from generator.output.writer import Entry, sha256
from generator.render.docx import CompiledDocx
from generator.render.images import Picture, add_media, collecting
from generator.render.naming import PRINT_KEY
from generator.render.titles import break_title
from generator.render.wording import wording
from generator.render.ziputil import deflate, deflate_stream, fixed, write_zip

R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
DOCUMENT = "word/document.xml"
PRINT_FOLDER = "打印"
_SIDE = re.compile(r"^word/(header|footer)\d*\.xml$")
_MARK = "<!--gaizao-section-->"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
BLANK_SIDES = {"header": ("rIdGaizaoBlankHeader", "gaizaoBlankHeader.xml"),
               "footer": ("rIdGaizaoBlankFooter", "gaizaoBlankFooter.xml")}
"""The empty header and footer of a blank verso: relationship id and part name."""
_DOC_PR_ID = re.compile(r'(<wp:docPr\b[^>]*?\bid=")\d+(")')
START = "gaizaoStart"
"""Bookmark names at each bound document's first paragraph (+ its number): LibreOffice exports
them as named destinations, which give the page each document starts on. (Not "_gaizao…", which
Word would hide: LibreOffice spells such a name's underscore as "5F".)"""


_P_TAG = re.compile(PARAGRAPH_TAG)
_PPR = re.compile(r"<w:pPr\b[^>]*?(/?)>")


def _without_final_section(document: str) -> str:
    """The body of a rendered document without the section properties that close it."""
    start = document.index("<w:body>") + len("<w:body>")
    end = document.rindex("</w:body>")
    sect = document.rfind("<w:sectPr", start, end)
    if sect >= 0:
        close = document.find("</w:sectPr>", sect, end)
        after = close + len("</w:sectPr>") if close >= 0 else document.index(">", sect) + 1
        if not document[after:end].strip():
            return document[start:sect]
    return document[start:end]


def _into_properties(paragraph: str, mark: str) -> str:
    """A paragraph (its XML) with mark at the end of its properties, before any recorded change."""
    opening = re.match(r"<w:p\b[^>]*>", paragraph)
    assert opening is not None
    at = opening.end()
    ppr = _PPR.match(paragraph, at)
    if ppr is None:
        return f"{paragraph[:at]}<w:pPr>{mark}</w:pPr>{paragraph[at:]}"
    if ppr[1]:  # <w:pPr/>
        return f"{paragraph[:at]}<w:pPr>{mark}</w:pPr>{paragraph[ppr.end():]}"
    close = paragraph.index("</w:pPr>", ppr.end())
    change = paragraph.find("<w:pPrChange", ppr.end(), close)
    where = change if change >= 0 else close
    return paragraph[:where] + mark + paragraph[where:]


def _with_start_mark(body: str, number: int) -> str:
    """A bookmark at the document's first paragraph (in its first table cell if it opens with
    one), named START + its number: where it starts in the PDF (see paginate)."""
    ident = 3_000_000 + number
    mark = f'<w:bookmarkStart w:id="{ident}" w:name="{START}{number:06d}"/><w:bookmarkEnd w:id="{ident}"/>'
    first = _P_TAG.search(body)
    if first is None or first[0].startswith("</"):
        return f"<w:p>{mark}</w:p>{body}"
    if first[1]:  # <w:p/>
        return f"{body[:first.start()]}<w:p>{mark}</w:p>{body[first.end():]}"
    at = first.end()
    ppr = _PPR.match(body, at)
    if ppr is not None:
        at = ppr.end() if ppr[1] else body.index("</w:pPr>", at) + len("</w:pPr>")
    return body[:at] + mark + body[at:]


def _with_section_mark(body: str) -> str:
    """The body with _MARK where its section break goes: in its last paragraph's properties, or
    in a paragraph of its own after a closing table (which cannot carry one)."""
    content = body.rstrip()
    if content.endswith("</w:p>"):
        opened: list[int] = []
        start = None
        for tag in _P_TAG.finditer(content):
            if tag[0].startswith("</"):
                begin = opened.pop()
                if not opened:
                    start = begin
            elif not tag[1]:
                opened.append(tag.start())
        if start is not None:
            return content[:start] + _into_properties(content[start:], _MARK)
    elif content.endswith("/>"):
        last = content.rfind("<w:p")
        empty = _P_TAG.match(content, last)
        if empty is not None and empty[1] and empty.end() == len(content):
            return f"{content[:last]}<w:p><w:pPr>{_MARK}</w:pPr></w:p>"
    return f"{content}<w:p><w:pPr>{_MARK}</w:pPr></w:p>"


class Binder:
    """Documents rendered from one compiled template, bound into one .docx after a contents page."""

    def __init__(self, compiled: CompiledDocx):
        self.compiled = compiled
        self.raw = dict(compiled.parts)
        self.side = [n for n in compiled.compiled if _SIDE.match(n)]
        self.numbered = any("PAGE" in compiled.sources[n] for n in self.side if "footer" in n)
        """Whether the pages carry numbers (the household forms have none)."""
        source = self.raw[DOCUMENT].decode("utf-8")
        self.head = source[: source.index("<w:body>") + len("<w:body>")]
        root = etree.fromstring(self.raw[DOCUMENT])
        self.sect = root.find(w("body")).find(w("sectPr"))
        if self.sect is None:
            self.sect = etree.SubElement(root.find(w("body")), w("sectPr"))
        self.bodies: list[tuple[bytes, int]] = []
        """Each document's body XML (a marker where its section break goes), deflated, and its
        header variant: a district's household forms are some 150 MB of XML, 15 MB deflated."""
        self.variants: dict[tuple[str, ...], int] = {}
        """Rendered headers and footers; documents whose differ (the 示例 mark) get their own."""
        self.first: dict[str, Any] | None = None
        self.pictures: dict[str, Picture] = {}
        """The pictures of every document added, by their content's key (each stored once)."""

    def add(self, context: dict[str, Any]) -> None:
        """Render one document and keep its body."""
        self.first = self.first or context
        with collecting() as placed:
            sides = tuple(self.compiled.render_part(n, context) for n in self.side)
            variant = self.variants.setdefault(sides, len(self.variants))
            text = self.compiled.render_part(DOCUMENT, context)
        for picture in placed:
            self.pictures.setdefault(picture.key, picture)
        # Cut as text, not parsed: a community's household forms are some 50 MB of XML, whose
        # tree would take ten times that.
        body = _without_final_section(text)
        del text  # freed before the marks copy the body: each copy is the size of the document
        body = _with_section_mark(_with_start_mark(body, len(self.bodies)))
        self.bodies.append((zlib.compress(body.encode("utf-8"), 1), variant))

    def _section(self, rids: dict[str, str] | None) -> str:
        """The template's page setup on a new page, numbered from 1; rids None: no page number."""
        sect = copy.deepcopy(self.sect)
        for ref in sect.findall(w("headerReference")) + sect.findall(w("footerReference")):
            if rids is None:
                sect.remove(ref)  # the contents page has no page number
            else:
                rid = ref.get(f"{{{R}}}id", "")
                ref.set(f"{{{R}}}id", rids.get(rid, rid))
        # A document starts on an odd page; pages as laid out (see paginate) make that hold where
        # page numbers restart, which is how Word and LibreOffice tell odd from even.
        set_sect_child(sect, "type", val="nextPage" if rids is None else "oddPage", keep=False)
        if rids is not None:
            set_sect_child(sect, "pgNumType", start="1", keep=False)
        xml = etree.tostring(sect, encoding="unicode")
        # A lone element repeats the namespace declarations the document root already makes.
        return re.sub(r'\s+xmlns:\w+="[^"]*"', "", xml)

    def _blank_section(self) -> str:
        """The template's page setup for a blank verso: on a new page, its headers and footers the
        empty parts BLANK_SIDES adds, so the page carries no running head and no number."""
        sect = copy.deepcopy(self.sect)
        for ref in sect.findall(w("headerReference")) + sect.findall(w("footerReference")):
            kind = "header" if ref.tag == w("headerReference") else "footer"
            ref.set(f"{{{R}}}id", BLANK_SIDES[kind][0])
        set_sect_child(sect, "type", val="nextPage", keep=False)
        number = sect.find(w("pgNumType"))
        if number is not None:
            sect.remove(number)
        xml = etree.tostring(sect, encoding="unicode")
        return re.sub(r'\s+xmlns:\w+="[^"]*"', "", xml)

    def _type_width(self) -> int:
        size, margin = self.sect.find(w("pgSz")), self.sect.find(w("pgMar"))
        try:
            return int(size.get(w("w"))) - int(margin.get(w("left"))) - int(margin.get(w("right")))
        except (AttributeError, TypeError, ValueError):
            return 8845  # GB/T 9704's 156 mm

    def finish(self, heading: str, rows: Sequence[Sequence[str]], summary: str,
               pages: Sequence[int] | None = None) -> bytes:
        """The bound .docx: the contents page, then every document added, in order.

        pages: the laid-out page count of the contents and of each document (see paginate);
        with it, a blank page follows each part of an odd count, so that every document starts
        on a right-hand page and the sheets come apart after double-sided printing.
        """
        assert self.bodies, "nothing to bind"
        pad = [n % 2 == 1 for n in pages] if pages else [False] * (len(self.bodies) + 1)
        parts = dict(self.raw)
        rels = etree.fromstring(parts["word/_rels/document.xml.rels"])
        types = etree.fromstring(parts["[Content_Types].xml"])
        by_target = {f"word/{r.get('Target')}": r.get("Id", "") for r in rels}
        sections = []
        for sides, variant in self.variants.items():
            rids: dict[str, str] = {}
            for index, (name, xml) in enumerate(zip(self.side, sides, strict=True)):
                target = name if variant == 0 else name.replace(".xml", f"_{variant}.xml")
                parts[target] = xml.encode("utf-8")
                if variant and name in by_target:
                    rid = f"rIdGaizaoPrint{variant}_{index}"
                    rids[by_target[name]] = rid
                    kind = "header" if "header" in name else "footer"
                    etree.SubElement(rels, f"{{{PKG}}}Relationship", Id=rid, Target=target[5:],
                                     Type=f"{R}/{kind}")
                    etree.SubElement(types, f"{{{CT}}}Override", PartName=f"/{target}",
                                     ContentType=f"application/vnd.openxmlformats-officedocument."
                                                 f"wordprocessingml.{kind}+xml")
                    own = name.replace("word/", "word/_rels/") + ".rels"
                    if own in parts:
                        parts[target.replace("word/", "word/_rels/") + ".rels"] = parts[own]
            sections.append(self._section(rids))
        for name in self.compiled.compiled:
            if name != DOCUMENT and name not in self.side:
                # Footnotes cannot differ per document in one file: the first document's stand.
                parts[name] = self.compiled.render_part(name, self.first or {}).encode("utf-8")
        parts["word/_rels/document.xml.rels"] = etree.tostring(rels, xml_declaration=True,
                                                               encoding="UTF-8", standalone=True)
        parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8",
                                                      standalone=True)
        if self.pictures:
            parts.update(add_media(parts, list(self.pictures.values())))
        blank = ""
        sides = self.sect.findall(w("headerReference")) + self.sect.findall(w("footerReference"))
        if any(pad[1:]) and sides:
            # A blank verso is a section of its own with empty headers and footers: GB/T 9704 puts no
            # page number on a blank page, and a running head over nothing is noise.
            for kind, (rid, target) in BLANK_SIDES.items():
                tag = "hdr" if kind == "header" else "ftr"
                parts[f"word/{target}"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                                           f'<w:{tag} xmlns:w="{W_NS}"><w:p/></w:{tag}>').encode()
                etree.SubElement(rels, f"{{{PKG}}}Relationship", Id=rid, Target=target, Type=f"{R}/{kind}")
                etree.SubElement(types, f"{{{CT}}}Override", PartName=f"/word/{target}",
                                 ContentType=f"application/vnd.openxmlformats-officedocument."
                                             f"wordprocessingml.{kind}+xml")
            parts["word/_rels/document.xml.rels"] = etree.tostring(rels, xml_declaration=True,
                                                                   encoding="UTF-8", standalone=True)
            parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8",
                                                          standalone=True)
            blank = self._blank_section()
        counter = iter(range(1, 1 << 30))

        def chunks() -> Iterator[str]:
            yield self.head + self._contents(heading, rows, summary, pad[0])
            for i, (deflated, variant) in enumerate(self.bodies):
                body = zlib.decompress(deflated).decode("utf-8")
                last = i == len(self.bodies) - 1
                if pad[i + 1] and blank:  # the last one too: the file ends on a verso, ready for the next
                    yield body.replace(_MARK, sections[variant]) + _blank_section_page("" if last else blank)
                elif pad[i + 1]:
                    yield body.replace(_MARK, "") + _blank_page("" if last else sections[variant])
                else:
                    yield body.replace(_MARK, "" if last else sections[variant])
            closing = blank if pad[-1] and blank else sections[self.bodies[-1][1]]
            yield closing + "</w:body></w:document>"

        # Drawings must have unique ids across the whole file, or Word reports it damaged.
        document = deflate_stream(DOCUMENT, (_DOC_PR_ID.sub(lambda m: f"{m[1]}{next(counter)}{m[2]}", chunk)
                                             .encode("utf-8") for chunk in chunks()))
        entries = []
        for name, _ in self.compiled.parts:
            entries.append(document if name == DOCUMENT else deflate(name, fixed(name, parts.pop(name))))
        parts.pop(DOCUMENT, None)
        entries += [deflate(name, blob) for name, blob in parts.items()]
        return write_zip(entries)

    def _style(self, name: str) -> str:
        """The template's own paragraph style for a style name, so the contents page matches."""
        styles = self.raw.get("word/styles.xml")
        if styles is None:
            return ""
        for style in etree.fromstring(styles).iter(w("style")):
            label = style.find(w("name"))
            if label is not None and label.get(w("val")) == name:
                return f'<w:pStyle w:val="{escape(style.get(w("styleId"), ""))}"/>'
        return ""

    def _contents(self, heading: str, rows: Sequence[Sequence[str]], summary: str,
                  pad: bool = False) -> str:
        """A contents page in the template's styles: heading, count, a table of the documents."""
        title, body = self._style("公文标题"), self._style("公文正文")
        head = self._style("表头") or body
        cell = self._style("表格文字") or body
        width = self._type_width()
        shares = (10, 48, 18, 12, 12)
        widths = [width * s // 100 for s in shares]
        grid = "".join(f'<w:gridCol w:w="{wd}"/>' for wd in widths)

        def para(style: str, text: str, jc: str = "") -> str:
            align = f'<w:jc w:val="{jc}"/>' if jc else ""
            runs = "<w:br/>".join(f"<w:t>{escape(line)}</w:t>" for line in text.split("\n"))
            return f"<w:p><w:pPr>{style}{align}</w:pPr><w:r>{runs}</w:r></w:p>"

        def row(texts: Sequence[str], style: str, header: bool = False) -> str:
            repeat = "<w:tblHeader/>" if header else ""  # the heading row repeats on every page
            props = f"<w:trPr><w:cantSplit/>{repeat}</w:trPr>"
            cells = "".join(
                f'<w:tc><w:tcPr><w:tcW w:w="{wd}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
                f"{para(style, t, 'center' if i != 1 else '')}</w:tc>"
                for i, (t, wd) in enumerate(zip(texts, widths, strict=True))
            )
            return f"<w:tr>{props}{cells}</w:tr>"

        border = "".join(f'<w:{e} w:val="single" w:sz="6" w:space="0" w:color="000000"/>'
                         for e in ("top", "left", "bottom", "right", "insideH", "insideV"))
        table = (
            f'<w:tbl><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:jc w:val="center"/>'
            f'<w:tblBorders>{border}</w:tblBorders><w:tblLayout w:type="fixed"/></w:tblPr>'
            f"<w:tblGrid>{grid}</w:tblGrid>"
            + row(("序号", "小区名称", "县（区）", "年度", "张数"), head, header=True)
            + "".join(row(r, cell) for r in rows)
            + "</w:tbl>"
        )
        if pad:
            closing = f"<w:p><w:pPr>{body}</w:pPr></w:p>" + _blank_page(self._section(None), body)
        else:
            closing = f"<w:p><w:pPr>{body}{self._section(None)}</w:pPr></w:p>"
        return para(title, heading, "center") + para(body, summary) + table + closing


def _blank_section_page(section: str) -> str:
    """A blank verso as a section of its own (section: its properties; "" when the body's final
    ones close it). The no-break space keeps LibreOffice from dropping the empty page."""
    return f"<w:p><w:pPr>{section}</w:pPr><w:r><w:t>\u00a0</w:t></w:r></w:p>" if section else \
        "<w:p><w:r><w:t>\u00a0</w:t></w:r></w:p>"


def _blank_page(section: str, style: str = "") -> str:
    """A page break, a no-break space, then the section break: one blank verso.

    LibreOffice drops a page break with nothing after it before a section break; the space keeps it.
    """
    return (f'<w:p><w:pPr>{style}</w:pPr><w:r><w:br w:type="page"/><w:t>\u00a0</w:t></w:r></w:p>'
            f"<w:p><w:pPr>{style}{section}</w:pPr></w:p>")


def starts(pdfs: Sequence[bytes]) -> tuple[dict[int, int], int]:
    """The page index each marked document starts on, by its number, in the PDFs read one after
    the other; and their pages in all."""
    found, offset = {}, 0
    for pdf in pdfs:
        reader = PdfReader(io.BytesIO(pdf))
        for name, page in destinations(reader, START).items():
            if name[len(START):].isdigit():
                found[int(name[len(START):])] = offset + page
        offset += len(reader.pages)
    return found, offset


def paginate(docx: bytes, documents: int, workers: int = 1) -> list[int] | None:
    """Lay the bound file out once with LibreOffice: the contents' and each document's pages.

    None when LibreOffice is missing or the layout does not show every document's start. Within
    pdf.reusing_pieces, the PDF step converts again only the pieces this pass did not see; the
    pieces of this pass are read as they are, not joined.
    """
    if soffice() is None:
        return None
    with tempfile.TemporaryDirectory(prefix="gaizao-pages-") as tmp:
        source = Path(tmp) / "bound.docx"
        source.write_bytes(docx)
        made: list[bytes] = []
        try:
            done = convert([source], lambda _, data: made.append(data), workers=workers,
                           unjoined=lambda _, parts: made.extend(parts))
        except NoLibreOffice:
            return None
    if done.failed or not made:
        return None
    try:
        found, total = starts(made)
    except (PyPdfError, ValueError, KeyError, TypeError):
        return None
    if sorted(found) != list(range(documents)):
        return None
    firsts = [found[n] for n in range(documents)]
    if firsts[0] == 0 or firsts != sorted(set(firsts)):
        return None
    ends = [*firsts[1:], total]
    return [firsts[0], *(end - start for start, end in zip(firsts, ends, strict=True))]


@dataclass
class PrintFile:
    """One print file: every document of one kind for one district (and year)."""

    kind: Kind
    district: str
    year: int | None
    jobs: list[Job]
    street_office: str | None = None
    """Only this street office's communities of the district."""
    data: DataSet | None = None
    """Whose wording names the file (file.print); the built-in names without it."""

    @property
    def unit(self) -> str:
        """Whose documents the file holds: the district, or the district and one street office."""
        return f"{self.district}{self.street_office}" if self.street_office else self.district

    @property
    def path(self) -> str:
        fields = {"year": self.year or "", "district": safe_name(self.district),
                  "street_office": safe_name(self.street_office) if self.street_office else "",
                  "kind": safe_name(self.kind.name)}
        name = f"{wording(self.data.root if self.data else None).file_name(PRINT_KEY, fields)}.docx"
        return f"{PRINT_FOLDER}/{self.year}/{name}" if self.year else f"{PRINT_FOLDER}/{name}"

    @property
    def heading(self) -> str:
        """The contents page's title, broken between words where it needs two lines."""
        names = [self.unit, self.district, self.street_office or "", self.kind.name]
        title = wording(self.data.root if self.data else None).say("print.title", unit=self.unit, kind=self.kind.name)
        return "\n".join(break_title(title, names))


def plan_prints(data: DataSet, kind: str, district: str | None = None, year: int | None = None,
                street_office: str | None = None,
                withheld: Mapping[str, str] | None = None,
                blank_forms: int | None = None, all_forms: bool = False) -> tuple[list[PrintFile], list[Skip]]:
    """The print files a selection gives, one per district that has documents, in plan order.

    street_office: only the communities whose project names it. withheld: communities left out
    of this print, each with the reason (the web app's review gate). blank_forms: that many
    blank household forms per community instead of the roster's; all_forms: forms for every community.
    """
    sel = Selection(kinds=(kind,), district=district, year=year, blank_forms=blank_forms, all_forms=all_forms)
    sel.check(data)
    if KINDS[kind].suffix != ".docx":
        name = KINDS[kind].name
        raise DataError([Problem("命令行参数", f"“{name}”不是 Word 文书，不能合并打印")])
    offices = {p.street_office for p in data.projects.values()}
    if street_office is not None and street_office not in offices:
        raise DataError([Problem("命令行参数", f"没有街道办事处为“{street_office}”的项目资料")])
    jobs, skips = plan_jobs(data, sel)
    files = {d: PrintFile(KINDS[kind], d, year, [], street_office, data) for d in data.districts}
    held = withheld or {}
    for job in jobs:
        c = job.community
        if street_office is not None and data.projects[c.id].street_office != street_office:
            continue
        if c.id in held:
            skips.append(Skip(job.kind, job.target, held[c.id]))
            continue
        files[c.district].jobs.append(job)
    if street_office is not None:
        skips = [s for s in skips if s.target.community is not None and s.target.community.id in data.projects
                 and data.projects[s.target.community.id].street_office == street_office]
    return [f for f in files.values() if f.jobs], skips


def print_documents(
    data: DataSet,
    out: Path,
    kind: str,
    *,
    district: str | None = None,
    year: int | None = None,
    street_office: str | None = None,
    withheld: Mapping[str, str] | None = None,
    force: bool = False,
    templates_dir: Path | None = None,
    progress: Callable[[list[Job]], Iterable[Job]] = lambda jobs: jobs,
    then: Then | None = None,
    layout: bool = False,
    workers: int = 1,
    blank_forms: int | None = None,
    all_forms: bool = False,
    masked: bool = False,
) -> Result:
    """Write one bound print file per district into out/打印/; nothing when the data has errors.

    layout: lay each file out once with LibreOffice (paginate, with `workers` LibreOffice
    processes), so that every document starts on an odd page and the contents page says how
    many sheets each takes; the PDF step (then) reuses what that pass converted.
    masked: residents masked on papers that print them in full (the web's print for a district
    or the city, who did not collect the roster).
    """
    files, skips = plan_prints(data, kind, district, year, street_office, withheld, blank_forms, all_forms)
    refuse_on_errors(data)
    renderers = Renderers(data, templates_dir)
    templates = {f.district: renderers.locate(f.kind, f.district) for f in files}
    binders = {d: Binder(renderers.docx(t)) for d, t in templates.items()}
    # A running hash rather than a list of contexts: keeping hundreds alive slows the whole run.
    hashes = {f.district: hashlib.sha256() for f in files}
    for job in progress([job for f in files for job in f.jobs]):
        context = job.kind.context(data, replace(job.target, masked=True) if masked else job.target)
        binders[job.community.district].add(context)
        hashes[job.community.district].update(data_hash(context).encode("ascii"))

    say = wording(data.root).say

    def produced() -> Iterator[tuple[Entry, bytes]]:
        for f in files:
            binder = binders[f.district]
            rows = [(str(i), j.community.name, j.community.district, str(j.community.year), "")
                    for i, j in enumerate(f.jobs, start=1)]
            head = say("print.head", unit=f.unit, year=f.year or "", kind=f.kind.name, count=len(f.jobs))
            numbered = binder.numbered  # the household forms have no page numbers
            plain = say("print.plain", head=head, numbered=numbered)
            if not layout:
                payload = binder.finish(f.heading, rows, plain)
            else:
                def laid_out(total: str, head: str = head, numbered: bool = numbered) -> str:
                    return say("print.laid_out", head=head, sheets=total, numbered=numbered)

                # The first pass has the second's wording, so the contents take the same pages.
                payload = binder.finish(f.heading, rows, laid_out("—" * len(str(3 * len(f.jobs)))))
                pages = paginate(payload, len(binder.bodies), workers)
                if pages:
                    sheets = [(n + 1) // 2 for n in pages[1:]]
                    rows = [(*r[:4], str(n)) for r, n in zip(rows, sheets, strict=True)]
                    payload = binder.finish(f.heading, rows, laid_out(str(sum(sheets))), pages)
                else:  # no LibreOffice to lay it out: documents start on a new page, as before
                    payload = binder.finish(f.heading, rows, plain)
            yield Entry(
                path=f.path, kind=f"print-{f.kind.key}", kind_name=f"{f.kind.name}打印本",
                community="", district=f.district, year=f.year,
                template=renderers.label(templates[f.district]), sha256=sha256(payload),
                data_hash=hashes[f.district].hexdigest(),
            ), payload

    with reusing_pieces():
        result = write_all(out, force, produced(), skips, then)
    result.bound = {f.path: len(f.jobs) for f in files}
    return result
