"""The layout every Word template shares, read from one reference document, checked and applied.

The reference document (templates/reference.docx, or a city's own in its templates folder) is
an ordinary Word file: its page setup, document defaults, named paragraph styles, fonts and
page-number footers are the layout (GB/T 9704: A4, a 156 × 225 mm type area, 22 lines of 28
characters, styles by role). `restyle` copies that layout into a template the way pandoc uses a
reference document: styles are matched by name, so a template's text, tags and the style each
paragraph names stay as they are. Only parts a layout lives in are rewritten (styles, fonts,
settings, footers and the section properties of the document), each element as a string, so the
rest of a template keeps its bytes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from generator.errors import TemplateError
from generator.render.templates import BUILTIN
from generator.render.ziputil import deflate, fixed, read_template, write_zip

REFERENCE = BUILTIN / "reference.docx"
REFERENCE_NAME = "reference.docx"
"""A folder of templates may hold its own reference document under this name."""

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W = f"{{{W_NS}}}"
STYLES = "word/styles.xml"
DOCUMENT = "word/document.xml"
SETTINGS = "word/settings.xml"
FONTS = "word/fontTable.xml"
RELS = "word/_rels/document.xml.rels"
TYPES = "[Content_Types].xml"
FOOTER_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"
FOOTER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"

SIZE_NAMES = {42: "初号", 26: "一号", 22: "二号", 16: "三号", 15: "小三号", 14: "四号", 12: "小四号",
              10.5: "五号", 9: "小五号"}
TWIPS_PER_MM = 1440 / 25.4
DEFAULT_SIZE = 10.5
"""Word's size for text whose styles name none (half-points 21)."""

_SECT = re.compile(r"<w:sectPr\b[^>]*?(?:/>|>.*?</w:sectPr>)", re.DOTALL)
# Children of w:sectPr after each one, in the schema's order: where a missing one is inserted.
_SECT_ORDER = ("headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders "
               "lnNumType pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter "
               "docGrid printerSettings sectPrChange").split()
_AFTER_EVEN_ODD = ("bookFoldRevPrinting bookFoldPrinting bookFoldPrintingSheets drawingGridHorizontalSpacing "
                   "drawingGridVerticalSpacing displayHorizontalDrawingGridEvery displayVerticalDrawingGridEvery "
                   "doNotUseMarginsForDrawingGridOrigin drawingGridHorizontalOrigin drawingGridVerticalOrigin "
                   "doNotShadeFormData noPunctuationKerning characterSpacingControl printTwoOnOne "
                   "strictFirstAndLastChars noLineBreaksAfter noLineBreaksBefore savePreviewPicture "
                   "doNotValidateAgainstSchema saveInvalidXml ignoreMixedContent alwaysShowPlaceholderText "
                   "doNotDemarcateInvalidXml saveXmlDataOnly useXSLTWhenSaving saveThroughXslt showXMLTags "
                   "alwaysMergeEmptyNamespace updateFields hdrShapeDefaults footnotePr endnotePr compat docVars "
                   "rsids mathPr attachedSchema themeFontLang clrSchemeMapping doNotIncludeSubdocsInStats "
                   "doNotAutoCompressPictures forceUpgrade captions readModeInkLockDown smartTagType "
                   "schemaLibrary shapeDefaults doNotEmbedSmartTags decimalSymbol listSeparator").split()


# ---------------------------------------------------------------- reading a layout


@dataclass(frozen=True)
class Face:
    """What a style looks like where the GB/T 9704 roles differ: font, size, weight."""

    font: str | None
    size: float
    bold: bool

    def describe(self) -> str:
        """The face as a clerk names it, e.g. 三号黑体."""
        size = int(self.size) if self.size == int(self.size) else self.size
        name = SIZE_NAMES.get(size, f"{size}磅")
        return f"{name}{self.font or '（未指定字体）'}{'加粗' if self.bold else ''}"


@dataclass(frozen=True)
class Layout:
    """The layout of one Word file, in twips (1/20 pt) as Word stores it."""

    page: tuple[int, int]
    margins: tuple[int, int, int, int]
    """top, right, bottom, left"""
    line_pitch: int | None
    char_spacing: int
    """Every character condensed (negative) or expanded by this many twips."""
    body: Face
    styles: dict[str, Face] = field(default_factory=dict)
    page_numbers: bool | None = None
    """Whether the footers hold a page-number field; None when the file has no footer."""

    @property
    def lines(self) -> int | None:
        """Lines a page holds on the document grid."""
        if not self.line_pitch:
            return None
        return (self.page[1] - self.margins[0] - self.margins[2]) // self.line_pitch

    @property
    def chars(self) -> int:
        """Characters of body text a line holds."""
        pitch = self.body.size * 20 + self.char_spacing
        return int((self.page[0] - self.margins[1] - self.margins[3]) // pitch) if pitch > 0 else 0


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(float(value)) if value is not None else default
    except ValueError:
        return default


def _name(style: etree._Element) -> str:
    name = style.find(f"{W}name")
    return name.get(f"{W}val", "") if name is not None else ""


def _faces(styles: etree._Element) -> tuple[Face, dict[str, Face]]:
    """The body face (document defaults and Normal) and each paragraph style's face by name."""
    defaults = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr")
    by_id = {s.get(f"{W}styleId"): s for s in styles.iter(f"{W}style")}

    def own(rpr: etree._Element | None, face: dict[str, object]) -> None:
        if rpr is None:
            return
        fonts = rpr.find(f"{W}rFonts")
        if fonts is not None and fonts.get(f"{W}eastAsia"):
            face["font"] = fonts.get(f"{W}eastAsia")
        size = rpr.find(f"{W}sz")
        if size is not None and size.get(f"{W}val"):
            face["size"] = _int(size.get(f"{W}val")) / 2
        bold = rpr.find(f"{W}b")
        if bold is not None:
            face["bold"] = bold.get(f"{W}val", "1") not in ("0", "false", "off")

    def resolve(style: etree._Element | None, seen: frozenset[str] = frozenset()) -> dict[str, object]:
        face: dict[str, object] = {"font": None, "size": DEFAULT_SIZE, "bold": False}
        if style is None:
            own(defaults, face)
            return face
        based = style.find(f"{W}basedOn")
        parent_id = based.get(f"{W}val") if based is not None else None
        parent = by_id.get(parent_id) if parent_id not in seen else None
        face = resolve(parent, seen | {style.get(f"{W}styleId", "")})
        own(style.find(f"{W}rPr"), face)
        return face

    def make(face: dict[str, object]) -> Face:
        return Face(face["font"], float(face["size"]), bool(face["bold"]))  # type: ignore[arg-type]

    normal = next((s for s in by_id.values() if s.get(f"{W}default") == "1" and s.get(f"{W}type") == "paragraph"),
                  None)
    # Only a file's own named styles are roles; Word's built-in ones (header, footer…) are not.
    faces = {_name(s): make(resolve(s)) for s in by_id.values()
             if s.get(f"{W}type") == "paragraph" and s.get(f"{W}customStyle") == "1"}
    return make(resolve(normal)), faces


def _first_section(document: bytes) -> etree._Element:
    sections = _SECT.findall(document.decode("utf-8"))
    if not sections:
        return etree.fromstring(f'<w:sectPr xmlns:w="{W_NS}"/>')
    return _fragment(sections[-1])  # the body's own section properties close the document


def _fragment(xml: str) -> etree._Element:
    """A sectPr (or other element) cut out of a part, parsed with the prefixes Word uses."""
    wrapped = f'<x xmlns:w="{W_NS}" xmlns:r="{R_NS}">{xml}</x>'
    return etree.fromstring(wrapped.encode("utf-8"))[0]


def _footer_parts(parts: dict[str, bytes]) -> list[str]:
    rels = parts.get(RELS, b"").decode("utf-8")
    return [f"word/{target}" for target in re.findall(r'Type="[^"]*/footer" Target="([^"]+)"', rels)] + [
        f"word/{target}" for target in re.findall(r'Target="([^"]+)"[^>]*Type="[^"]*/footer"', rels)]


def _has_page_field(xml: bytes) -> bool:
    return re.search(rb"(instr=\"\s*PAGE\b|<w:instrText[^>]*>\s*PAGE\b)", xml) is not None


def read_layout(parts: dict[str, bytes], label: str) -> Layout:
    """The layout of a Word file given as its parts."""
    try:
        styles = etree.fromstring(parts.get(STYLES) or f'<w:styles xmlns:w="{W_NS}"/>'.encode())
        section = _first_section(parts[DOCUMENT])
    except (KeyError, etree.XMLSyntaxError) as exc:
        raise TemplateError(f"模板 {label} 不是有效的 Word 文件，读不出版式：{exc}") from None
    size = section.find(f"{W}pgSz")
    margin = section.find(f"{W}pgMar")
    grid = section.find(f"{W}docGrid")
    pitch = None
    if grid is not None and grid.get(f"{W}type") in ("lines", "linesAndChars", "snapToChars"):
        pitch = _int(grid.get(f"{W}linePitch")) or None
    spacing = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}spacing")
    body, faces = _faces(styles)
    footers = [parts[name] for name in _footer_parts(parts) if name in parts]
    return Layout(
        page=(_int(size.get(f"{W}w") if size is not None else None, 12240),
              _int(size.get(f"{W}h") if size is not None else None, 15840)),
        margins=tuple(_int(margin.get(f"{W}{side}") if margin is not None else None, 1440)  # type: ignore[arg-type]
                      for side in ("top", "right", "bottom", "left")),
        line_pitch=pitch,
        char_spacing=_int(spacing.get(f"{W}val")) if spacing is not None else 0,
        body=body,
        styles=faces,
        page_numbers=any(_has_page_field(x) for x in footers) if footers else None,
    )


def reference_parts(path: Path | None = None) -> dict[str, bytes]:
    """The parts of a reference document (the built-in one by default)."""
    path = path or REFERENCE
    return dict(read_template(path, str(path)))


def find_reference(folders: Iterable[Path]) -> Path:
    """The first folder's own reference document, or the built-in one."""
    for folder in folders:
        candidate = folder / REFERENCE_NAME
        if candidate.is_file():
            return candidate
    return REFERENCE


# ---------------------------------------------------------------- comparing


def _mm(twips: int) -> str:
    return f"{twips / TWIPS_PER_MM:.0f}"


def layout_problems(template: Layout, reference: Layout, want: str = "应为", now: str = "现为") -> list[str]:
    """What in a template's layout differs from the reference, in a clerk's words."""
    problems: list[str] = []
    if any(abs(a - b) > 30 for a, b in zip(template.page, reference.page, strict=True)):
        problems.append(f"纸张大小：{want}{_mm(reference.page[0])}×{_mm(reference.page[1])}毫米，"
                        f"{now}{_mm(template.page[0])}×{_mm(template.page[1])}毫米")
    if any(abs(a - b) > 30 for a, b in zip(template.margins, reference.margins, strict=True)):
        def sides(m: tuple[int, int, int, int]) -> str:
            return f"上{_mm(m[0])}、下{_mm(m[2])}、左{_mm(m[3])}、右{_mm(m[1])}毫米"
        problems.append(f"页边距：{want}{sides(reference.margins)}，{now}{sides(template.margins)}")
    if reference.lines is not None and template.lines != reference.lines:
        lines = f"{template.lines}行" if template.lines is not None else "未设置文档网格"
        problems.append(f"每页行数：{want}{reference.lines}行，{now}{lines}")
    if template.chars != reference.chars:
        problems.append(f"每行字数：{want}{reference.chars}字，{now}{template.chars}字")
    if template.body != reference.body:
        problems.append(f"正文字体：{want}{reference.body.describe()}，{now}{template.body.describe()}")
    for name, face in template.styles.items():
        wanted = reference.styles.get(name)
        if wanted is not None and face != wanted:
            problems.append(f"样式“{name}”的字体：{want}{wanted.describe()}，{now}{face.describe()}")
    if template.page_numbers is False and reference.page_numbers:
        problems.append("页码：页脚中没有页码域")
    return problems


def check_layout(path: Path, label: str, reference: Path | None = None) -> list[str]:
    """The layout problems of one Word template against a reference document."""
    ref = read_layout(reference_parts(reference), str(reference or REFERENCE))
    return layout_problems(read_layout(dict(read_template(path, label)), label), ref)


# ---------------------------------------------------------------- applying


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _restyle_styles(template: bytes, reference: bytes) -> tuple[bytes, dict[str, str]]:
    """The template's styles with every reference style by name put in; returns reference id → template id."""
    ours = etree.fromstring(template)
    theirs = etree.fromstring(reference)
    wanted = [s for s in theirs.iter(f"{W}style")
              if s.get(f"{W}customStyle") == "1" or s.get(f"{W}default") == "1"
              or _name(s).lower() in ("header", "footer")]
    by_name = {_name(s).lower(): s for s in ours.iter(f"{W}style")}
    ids = {s.get(f"{W}styleId") for s in ours.iter(f"{W}style")}
    mapping: dict[str, str] = {}
    for style in wanted:
        ref_id = style.get(f"{W}styleId", "")
        mine = by_name.get(_name(style).lower())
        if style.get(f"{W}default") == "1":  # the default paragraph style, whatever its name
            mine = next((s for s in ours.iter(f"{W}style") if s.get(f"{W}default") == "1"
                         and s.get(f"{W}type") == style.get(f"{W}type")), mine)
        if mine is not None:
            mapping[ref_id] = mine.get(f"{W}styleId", ref_id)
        else:
            new_id = ref_id
            while new_id in ids:
                new_id += "1"
            mapping[ref_id] = new_id
            ids.add(new_id)
    for style in wanted:
        new = copy.deepcopy(style)
        new.set(f"{W}styleId", mapping[style.get(f"{W}styleId", "")])
        for link in ("basedOn", "next", "link"):
            el = new.find(f"{W}{link}")
            if el is not None:
                target = mapping.get(el.get(f"{W}val", ""), el.get(f"{W}val", ""))
                if target in ids:
                    el.set(f"{W}val", target)
                else:
                    new.remove(el)
        mine = next((s for s in ours.iter(f"{W}style") if s.get(f"{W}styleId") == new.get(f"{W}styleId")), None)
        if mine is not None:
            mine.getparent().replace(mine, new)
        else:
            ours.append(new)
    defaults, ref_defaults = ours.find(f"{W}docDefaults"), theirs.find(f"{W}docDefaults")
    if ref_defaults is not None:
        if defaults is not None:
            ours.replace(defaults, copy.deepcopy(ref_defaults))
        else:
            ours.insert(0, copy.deepcopy(ref_defaults))
    return _xml(ours), mapping


def _set_child(section: str, tag: str, element: str | None) -> str:
    """A sectPr string with its child w:<tag> replaced by element (added at its place, or removed)."""
    current = re.search(rf"<w:{tag}\b[^>]*?(?:/>|>.*?</w:{tag}>)", section, re.DOTALL)
    if current:
        return section[:current.start()] + (element or "") + section[current.end():]
    if element is None:
        return section
    later = _SECT_ORDER[_SECT_ORDER.index(tag) + 1:]
    for name in later:
        found = re.search(rf"<w:{name}\b", section)
        if found:
            return section[:found.start()] + element + section[found.start():]
    if section.endswith("/>"):
        return section[:-2] + ">" + element + "</w:sectPr>"
    return section[: -len("</w:sectPr>")] + element + "</w:sectPr>"


def _element_text(section: etree._Element, tag: str) -> str | None:
    el = section.find(f"{W}{tag}")
    if el is None:
        return None
    attrs = "".join(f' w:{etree.QName(k).localname}="{v}"' for k, v in el.attrib.items()
                    if etree.QName(k).namespace == W_NS)
    return f"<w:{tag}{attrs}/>"


class _Package:
    """The parts of a Word file being restyled, with new footers added where the reference has more."""

    def __init__(self, parts: list[tuple[str, bytes]]):
        self.order = [name for name, _ in parts]
        self.parts = dict(parts)

    def add_footer(self, xml: bytes) -> str:
        """A new footer part with its relationship and content type; returns its relationship id."""
        n = 1
        while f"word/footer{n}.xml" in self.parts:
            n += 1
        name = f"word/footer{n}.xml"
        self.parts[name] = xml
        self.order.append(name)
        rels = self.parts[RELS].decode("utf-8")
        rid = "rIdLayout1"
        while f'Id="{rid}"' in rels:
            rid = "rIdLayout" + str(int(rid[9:]) + 1)
        rels = rels.replace("</Relationships>",
                            f'<Relationship Id="{rid}" Type="{FOOTER_REL}" Target="footer{n}.xml"/></Relationships>')
        self.parts[RELS] = rels.encode("utf-8")
        types = self.parts[TYPES].decode("utf-8")
        types = types.replace("</Types>", f'<Override PartName="/{name}" ContentType="{FOOTER_TYPE}"/></Types>')
        self.parts[TYPES] = types.encode("utf-8")
        return rid

    def target(self, rid: str) -> str | None:
        rels = self.parts.get(RELS, b"").decode("utf-8")
        for rel in re.findall(r"<Relationship\b[^>]*>", rels):
            if f'Id="{rid}"' in rel:
                found = re.search(r'Target="([^"]+)"', rel)
                return f"word/{found.group(1)}" if found else None
        return None

    def members(self) -> list[tuple[str, bytes]]:
        return [(name, self.parts[name]) for name in self.order]


def _footer_xml(template_footer: bytes | None, reference_footer: bytes, mapping: dict[str, str]) -> bytes:
    """The reference footer's paragraphs in the template footer's root element, styles renamed."""
    body = re.search(rb"<w:ftr\b[^>]*>(.*)</w:ftr>", reference_footer, re.DOTALL)
    inner = body.group(1) if body else b""
    inner = re.sub(rb'(<w:[pr]Style w:val=")([^"]*)(")',
                   lambda m: m[1] + mapping.get(m[2].decode(), m[2].decode()).encode() + m[3], inner)
    source = template_footer or reference_footer
    head = re.search(rb"^(.*?<w:ftr\b[^>]*>)", source, re.DOTALL)
    return (head.group(1) if head else b"") + inner + b"</w:ftr>"


def _references(section: str) -> dict[str, str]:
    return {m[1]: m[2] for m in re.finditer(r'<w:footerReference w:type="(\w+)" r:id="([^"]+)"/>', section)}


def restyle(parts: list[tuple[str, bytes]], reference: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """A Word file's parts with the reference's page setup, styles, fonts and page-number footers.

    Paragraphs, tables, tags and headers are left as they are; a template with no footer at all
    (a one-sheet form) is given none.
    """
    package = _Package(parts)
    if STYLES in package.parts and STYLES in reference:
        package.parts[STYLES], mapping = _restyle_styles(package.parts[STYLES], reference[STYLES])
    else:
        mapping = {}
    ref_text = _SECT.findall(reference[DOCUMENT].decode("utf-8"))[-1]
    ref_section = _fragment(ref_text)
    ref_refs = _references(ref_text)
    ref_package = _Package(list(reference.items()))
    ref_footers = {kind: reference.get(ref_package.target(rid) or "", b"") for kind, rid in ref_refs.items()}
    added: dict[str, str] = {}

    def section(match: re.Match[str]) -> str:
        text = match.group(0)
        for tag in ("pgSz", "pgMar", "docGrid"):
            element = _element_text(ref_section, tag)
            if element is not None:
                text = _set_child(text, tag, element)
        ours = _references(text)
        if not ours:
            return text
        for kind, xml in ref_footers.items():
            if not xml:
                continue
            if kind in ours:
                name = package.target(ours[kind])
                if name and name in package.parts:
                    package.parts[name] = _footer_xml(package.parts[name], xml, mapping)
                continue
            if kind not in added:
                model = package.parts.get(package.target(next(iter(ours.values()))) or "")
                added[kind] = package.add_footer(_footer_xml(model, xml, mapping))
            reference_tag = f'<w:footerReference w:type="{kind}" r:id="{added[kind]}"/>'
            opening = re.match(r"<w:sectPr\b[^>]*>", text)
            assert opening is not None
            text = text[:opening.end()] + reference_tag + text[opening.end():]
        return text

    document = package.parts[DOCUMENT].decode("utf-8")
    package.parts[DOCUMENT] = _SECT.sub(section, document).encode("utf-8")
    has_footers = "<w:footerReference" in package.parts[DOCUMENT].decode("utf-8")
    if has_footers and SETTINGS in package.parts and b"<w:evenAndOddHeaders" in reference.get(SETTINGS, b""):
        package.parts[SETTINGS] = _even_and_odd(package.parts[SETTINGS])
    if FONTS in package.parts and FONTS in reference:
        package.parts[FONTS] = _fonts(package.parts[FONTS], reference[FONTS])
    return package.members()


def _even_and_odd(settings: bytes) -> bytes:
    text = settings.decode("utf-8")
    if "<w:evenAndOddHeaders" in text:
        return settings
    for name in _AFTER_EVEN_ODD:
        found = re.search(rf"<w:{name}\b", text)
        if found:
            return (text[:found.start()] + "<w:evenAndOddHeaders/>" + text[found.start():]).encode("utf-8")
    return text.replace("</w:settings>", "<w:evenAndOddHeaders/></w:settings>").encode("utf-8")


def _fonts(template: bytes, reference: bytes) -> bytes:
    """The template's font table with the reference's fonts (and their substitutes) added."""
    text = template.decode("utf-8")
    have = set(re.findall(r'<w:font w:name="([^"]+)"', text))
    extra = [m[0] for m in re.finditer(r'<w:font w:name="([^"]+)".*?</w:font>', reference.decode("utf-8"), re.DOTALL)
             if m[1] not in have]
    if not extra:
        return template
    return text.replace("</w:fonts>", "".join(extra) + "</w:fonts>").encode("utf-8")


def restyled_bytes(path: Path, label: str, reference: dict[str, bytes]) -> bytes:
    """A template file restyled, as the bytes of a new .docx."""
    parts = restyle(read_template(path, label), reference)
    return write_zip([deflate(name, fixed(name, blob)) for name, blob in parts])
