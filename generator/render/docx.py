"""Word templates compiled once and rendered many times, with docxtpl's tag syntax."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import Template, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError

from generator.errors import TemplateError
from generator.render.env import XML_ENV, RenderLimit, render_bounded, render_budget, syntax_explained, template_line
from generator.render.images import add_media, collecting, placed_count
from generator.render.slots import MIN_ITEMS, Frame, compile_frame, fill, frame_context, shapes, split
from generator.render.word_tags import normalize
from generator.render.ziputil import Entry, deflate, deflate_stream, fixed, read_template, write_zip

RENDERED_PARTS = re.compile(r"^word/(document|header\d*|footer\d*|footnotes)\.xml$")
_TAG_TEXT = re.compile(r"<[^>]+>")
_LISTING = re.compile(r"<w:t(?: [^>]*)?>[^<]*[\t\n\a\f]")
"""A text element holding a tab, line break, paragraph mark (\\a) or page break (\\f)."""
_NOT_A_BREAK = re.compile(r"<w:t(?: [^>]*)?>[^<]*[\t\a\f]")
_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
"""What docxtpl makes of a line break in a text: the same run goes on after a Word break."""


def jinja_source(xml: str) -> str:
    """Word XML as Jinja source: tags as the clerk typed them (word_tags), then docxtpl's own
    clean-up ({%p %}, {%tr %}, tags split across runs)."""
    patched = DocxTemplate.patch_xml(None, normalize(xml))  # type: ignore[arg-type]
    # docxtpl's escapes for literal braces ({_{ prints {{) become string expressions here, in the
    # template; docxtpl replaces them in the rendered output, where it would change a clerk's
    # text “{_{” too.
    for escape, literal in (("{_{", "{{"), ("}_}", "}}"), ("{_%", "{%"), ("%_}", "%}")):
        patched = patched.replace(escape, f"{{{{ '{literal}' }}}}")
    # One paragraph a line, so a Jinja error's line number points at a paragraph.
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", patched)


def _unpatch(xml: str) -> str:
    # str.replace, not re.sub: a document of a thousand household forms is 25 MB of XML.
    # (Whitespace between elements means nothing in Word XML: one pass serves <w:p> and <w:p ...>.)
    xml = xml.replace("\n<w:p", "<w:p")
    # Tabs and line breaks inside values become Word tabs and breaks. docxtpl's pass runs
    # regular expressions over every paragraph and run, most of a document's render time; it
    # changes only text holding one of those characters, so a document with none skips it.
    if "\t" not in xml and "\a" not in xml and "\f" not in xml:
        return _line_breaks(xml) if "\n" in xml else xml
    if not _LISTING.search(xml):
        return xml
    if not _NOT_A_BREAK.search(xml):  # line breaks alone (a title over two lines)
        return _line_breaks(xml)
    return DocxTemplate.resolve_listing(None, xml)  # type: ignore[arg-type]


_TAGS = re.compile(r"<[^>]+>")
_COLUMN_LOOP = re.compile(r"\{%\s*tc\s")
"""A {%tc %} loop: table cells repeated, so the table's grid must follow (fit_grids)."""
_TABLE = re.compile(r"<w:tbl>.*?</w:tbl>", re.S)
_GRID = re.compile(r"<w:tblGrid>.*?</w:tblGrid>", re.S)
_GRID_COL = re.compile(r'<w:gridCol w:w="(\d+)"/>')
_ROW = re.compile(r"<w:tr[ >].*?</w:tr>", re.S)
_CELL_WIDTH = re.compile(r'<w:tcW w:type="dxa" w:w="(\d+)"/>')


def fit_grids(xml: str) -> str:
    """Each table whose first row has more or fewer cells than its grid has columns (a {%tc %}
    loop repeated some): the grid and every row's cell widths made the first row's, scaled to the
    table's width in the template, as Word and LibreOffice lay a fixed table out by its grid."""

    def fit(m: re.Match[str]) -> str:
        table = m[0]
        grid, rows = _GRID.search(table), _ROW.findall(table)
        if grid is None or not rows or "<w:tbl>" in table[5:]:  # nested tables: left alone
            return table
        old = [int(w) for w in _GRID_COL.findall(grid[0])]
        cells = [int(w) for w in _CELL_WIDTH.findall(rows[0])]
        if not old or not cells or len(cells) == len(old) or rows[0].count("<w:tc>") != len(cells):
            return table
        widths = [c * sum(old) // sum(cells) for c in cells]
        widths[-1] += sum(old) - sum(widths)
        new_grid = "<w:tblGrid>" + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>"

        def row_widths(r: re.Match[str]) -> str:
            row = r[0]
            if len(_CELL_WIDTH.findall(row)) != len(widths):
                return row
            it = iter(widths)
            return _CELL_WIDTH.sub(lambda _: f'<w:tcW w:type="dxa" w:w="{next(it)}"/>', row)

        return _ROW.sub(row_widths, table.replace(grid[0], new_grid, 1))

    return _TABLE.sub(fit, xml)


def _line_breaks(xml: str) -> str:
    """Each line break inside a run's text made a Word line break; one found at a time, not by a
    regular expression over every run (a community's forms repeat a two-line title a thousand times)."""
    out = []
    last = 0
    at = xml.find("\n")
    while at >= 0:
        if xml.startswith(("<w:t>", "<w:t "), xml.rfind("<", 0, at)) and xml.startswith("</w:t>", xml.find("<", at)):
            out += [xml[last:at], _BREAK]
            last = at + 1
        at = xml.find("\n", at + 1)
    out.append(xml[last:])
    return "".join(out)


KEPT_TABLE_ROWS = 2
"""The last rows of a table that keep with the picture right after it (a chart of the table's
figures): the chart never opens a page without its table, and the table may still break before
them (kept whole, a table and its chart left half a page blank when they did not fit together)."""
_ROW = re.compile(r"<w:tr[ >].*?</w:tr>", re.DOTALL)


def _table_start(xml: str, end: int) -> int:
    """Where the table whose end tag starts at `end` opens, nested tables skipped."""
    depth, at = 1, end
    while depth:
        opened = max(xml.rfind("<w:tbl>", 0, at), xml.rfind("<w:tbl ", 0, at))
        closed = xml.rfind("</w:tbl>", 0, at)
        if opened < 0:
            return -1
        if closed > opened:
            depth, at = depth + 1, closed
        else:
            depth, at = depth - 1, opened
    return at


def _keep_next(paragraph: str) -> str:
    head = paragraph.index(">") + 1
    if paragraph.startswith("<w:pPr/>", head):
        return paragraph[:head] + "<w:pPr><w:keepNext/></w:pPr>" + paragraph[head + len("<w:pPr/>"):]
    if not paragraph.startswith("<w:pPr>", head):
        return paragraph[:head] + "<w:pPr><w:keepNext/></w:pPr>" + paragraph[head:]
    if "<w:keepNext/>" in paragraph[head:paragraph.index("</w:pPr>", head)]:
        return paragraph
    head += len("<w:pPr>")
    style = _STYLE.match(paragraph, head)  # w:keepNext follows w:pStyle in the schema's order
    head = style.end() if style else head
    return paragraph[:head] + "<w:keepNext/>" + paragraph[head:]


_STYLE = re.compile(r"<w:pStyle [^>]*/>")
_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)


def _keep_tail(table: str) -> str:
    """The table with its last KEPT_TABLE_ROWS rows (not a heading row) kept with what follows and
    the rows before them free to end a page (a keep-with-next there chained the whole table to the
    picture, however little room was left)."""
    rows = list(_ROW.finditer(table))
    # heading rows stay as they are (an unmarked first row is a heading too): they keep with the rows under them
    first = 1 if rows and "<w:tblHeader/>" not in rows[0].group(0) else 0
    body = [m for m in rows[first:] if "<w:tblHeader/>" not in m.group(0)]
    tail = {m.start() for m in body[-KEPT_TABLE_ROWS:]}
    out, last = [], 0
    for m in body:
        if m.start() in tail:
            row = _PARAGRAPH.sub(lambda p: _keep_next(p.group(0)), m.group(0))
            row = re.sub(r"^<w:tr>(?!<w:trPr>)", "<w:tr><w:trPr><w:cantSplit/></w:trPr>", row)
        else:
            row = m.group(0).replace("<w:keepNext/>", "")
        out += [table[last:m.start()], row]
        last = m.end()
    out.append(table[last:])
    return "".join(out)


TABLE_NOTE = '<w:pStyle w:val="GwTableNote"/>'
"""The style of a note under a table (the 尾差 note), which stays with the table and its chart."""


def keep_tables_with_figures(xml: str) -> str:
    """A table followed at once by a paragraph holding a picture (a chart of its figures), or by its
    table note (表注, which keeps with the next paragraph) and then the picture: its last rows keep
    with the picture, so the two share a page however the table breaks."""
    if "</w:tbl><w:p" not in xml or "<w:drawing>" not in xml:
        return xml
    out, last, at = [], 0, xml.find("</w:tbl><w:p")
    while at >= 0:
        after = at + len("</w:tbl>")
        end = xml.find("</w:p>", after)
        following = xml[after:end]
        if TABLE_NOTE in following and "<w:drawing>" not in following:
            following = xml[end:xml.find("</w:p>", end + len("</w:p>"))]
        start = _table_start(xml, at) if "<w:drawing>" in following and "<w:tbl>" not in following else -1
        inner = xml[start + 1:at]
        if start >= last and "<w:tbl>" not in inner and "<w:tbl " not in inner:  # no nested table to misread
            out += [xml[last:start], _keep_tail(xml[start:at])]
            last = at
        at = xml.find("</w:tbl><w:p", after)
    out.append(xml[last:])
    return "".join(out)


SHORT_ROW_LINES = 10
"""A table row that may break across pages is kept whole when it is at most this many lines of
小四 (some 65 mm, under a third of the type area): broken, it left a stub of a line or two at the
foot of a page; kept whole, it moves on with at most that much space left behind."""
_SPLITTABLE = re.compile(r"<w:tr><w:trPr/>(.*?)</w:tr>", re.DOTALL)
_CELL = re.compile(r'<w:tc>.*?<w:tcW w:type="dxa" w:w="(\d+)"/>.*?</w:tc>|'
                   r'<w:tc>.*?<w:tcW w:w="(\d+)" w:type="dxa"/>.*?</w:tc>', re.DOTALL)
_TEXT = re.compile(r"<w:t(?: [^>]*)?>([^<]*)</w:t>")
CELL_MARGINS_PT = 2 * 5.4
"""Word's default left and right cell margins (108 twips each)."""
CELL_FONT_PT = 12.0


def _cell_lines(cell: str, width_twips: int) -> int:
    usable = max(width_twips / 20 - CELL_MARGINS_PT, CELL_FONT_PT)
    lines = 0
    for paragraph in cell.split("</w:p>")[:-1]:
        text = "".join(_TEXT.findall(paragraph))
        ems = sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)
        lines += max(1, -int(-ems * CELL_FONT_PT // usable))
    return lines


def _row_kept(match: re.Match[str]) -> str:
    row = match.group(1)
    if "<w:tbl>" in row:
        return match.group(0)  # a nested table: not measured
    cells = [(m.group(0), int(m.group(1) or m.group(2))) for m in _CELL.finditer(row)]
    if not cells or max(_cell_lines(cell, width) for cell, width in cells) > SHORT_ROW_LINES:
        return match.group(0)
    return f"<w:tr><w:trPr><w:cantSplit/></w:trPr>{row}</w:tr>"


def keep_short_rows_whole(xml: str) -> str:
    """Rows a template lets break across pages (an empty w:trPr) kept whole when they are short."""
    if "<w:tr><w:trPr/>" not in xml:
        return xml
    return _SPLITTABLE.sub(_row_kept, xml)


def paragraph_at(source: str, lineno: int | None) -> str:
    """The visible text of the paragraph a Jinja error points at."""
    if not lineno:
        return ""
    lines = source.splitlines()
    if 0 < lineno <= len(lines):
        return _TAG_TEXT.sub("", lines[lineno - 1]).strip()[:80]
    return ""


_ABSENT = object()
_PLAIN = (str, int, float, Decimal, type(None))
_KEPT = 256
"""Renderings of few-valued parts kept per template."""
_FEW = 4
"""A part using at most this many fields may be kept (headers and footers); a body is rendered each time."""


class CompiledDocx:
    """One Word template: its parts read and compiled once, rendered for each document."""

    def __init__(self, path: Path, label: str | None = None):
        self.path = path
        self.label = label or str(path)
        self.parts = read_template(path, self.label)
        self.sources: dict[str, str] = {}
        self.compiled: dict[str, Template] = {}
        self.column_loops: set[str] = set()
        for name, blob in self.parts:
            if not RENDERED_PARTS.match(name):
                continue
            try:
                if _COLUMN_LOOP.search(_TAGS.sub("", blob.decode("utf-8"))):
                    self.column_loops.add(name)
                source = jinja_source(blob.decode("utf-8"))
            except UnicodeDecodeError:
                raise TemplateError(f"模板 {self.label} 的 {name} 不是 UTF-8 编码的 XML，文件可能已损坏") from None
            self.sources[name] = source
            try:
                self.compiled[name] = XML_ENV.from_string(source)
            except TemplateSyntaxError as exc:
                where = paragraph_at(source, exc.lineno)
                raise TemplateError(
                    f"模板 {self.label} {syntax_explained(source, exc.message or '')}（所在段落：“{where}”）"
                ) from None
        self.splittable = {name for name, source in self.sources.items() if "<w:trPr/>" in source}
        """Parts with rows the template lets break across pages (see keep_short_rows_whole)."""
        # A part whose finishing passes measure or count what is rendered (rows kept whole by their
        # length, grids fitted, pictures numbered) is rendered whole through Jinja.
        self.frames: dict[str, Frame] = {}
        """Parts whose one loop (a household form each) is filled by substitution (see slots)."""
        for name, source in self.sources.items():
            if name in self.splittable or name in self.column_loops or "picture" in source:
                continue
            try:
                frame = compile_frame(source)
            except Exception:  # noqa: BLE001 - a loop the rewriting cannot compile renders through Jinja
                frame = None
            if frame is not None:
                self.frames[name] = frame
        self.few: dict[str, tuple[str, ...]] = {
            name: tuple(sorted(names)) for name, source in self.sources.items()
            if name not in self.frames and "picture" not in source
            and len(names := meta.find_undeclared_variables(XML_ENV.parse(source))) <= _FEW
        }
        """Parts that are rendered from a few plain values (a header showing 示例 or not): each
        rendering of them is kept, compressed, for the next document with the same values."""
        self.kept: dict[tuple[str, tuple[Any, ...]], Entry] = {}
        # The parts no tag touches are compressed once here, not once per document.
        self.static = {
            name: deflate(name, fixed(name, blob))
            for name, blob in self.parts if name not in self.compiled
        }

    def render(self, context: dict[str, Any]) -> bytes:
        """Render every templated part and return the finished .docx as repeatable bytes."""
        keys = {name: key for name in self.compiled if (key := self._kept_key(name, context)) is not None}
        reused = {name: self.kept[key] for name, key in keys.items() if key in self.kept}
        with render_budget(), collecting() as placed:
            rendered = {name: self.render_pieces(name, context) for name in self.compiled if name not in reused}
        media = add_media(dict(self.parts), placed) if placed else {}
        entries = [
            deflate(name, media[name]) if name in media
            else self._entry(name, rendered[name], keys.get(name) if not placed else None) if name in rendered
            else reused[name] if name in reused
            else self.static[name]
            for name, _ in self.parts
        ]
        known = {name for name, _ in self.parts}
        entries += [_media_entry(name, blob) for name, blob in media.items() if name not in known]
        return write_zip(entries)

    def _kept_key(self, name: str, context: dict[str, Any]) -> tuple[str, tuple[Any, ...]] | None:
        """What a part of a few plain values is rendered from, or None: it is rendered each time."""
        names = self.few.get(name)
        if names is None:
            return None
        values = tuple(context.get(n, _ABSENT) for n in names)
        if any(v is _ABSENT or not isinstance(v, _PLAIN) for v in values):
            return None
        return name, tuple(map(repr, values))  # equal values may print apart: True and 1, 1.0 and 1.00

    def _entry(self, name: str, pieces: list[bytes], key: tuple[str, tuple[Any, ...]] | None) -> Entry:
        entry = deflate_stream(name, pieces)
        if key is not None:
            if len(self.kept) >= _KEPT:
                self.kept.clear()
            self.kept[key] = entry
        return entry

    def render_part(self, name: str, context: dict[str, Any]) -> str:
        """One templated part (e.g. word/document.xml) rendered to finished Word XML."""
        filled = self._filled(name, context)
        return b"".join(filled).decode("utf-8") if filled is not None else self._rendered(name, context)

    def render_pieces(self, name: str, context: dict[str, Any]) -> list[bytes]:
        """One templated part as UTF-8 pieces to join: its repeated forms filled by substitution where
        the template allows (slots), else the whole part rendered through Jinja."""
        filled = self._filled(name, context)
        return filled if filled is not None else [self._rendered(name, context).encode("utf-8")]

    def _filled(self, name: str, context: dict[str, Any]) -> list[bytes] | None:
        frame = self.frames.get(name)
        items = context.get(frame.items) if frame is not None else None
        if frame is None or not isinstance(items, list) or len(items) < MIN_ITEMS:
            return None
        try:
            keys, of = shapes(frame, items)
            rendered = render_bounded(frame.template, frame_context(frame, context, keys))
        except Exception:  # noqa: BLE001 - Jinja renders the document and reports what is wrong
            return None
        if "\t" in rendered or "\a" in rendered or "\f" in rendered:
            return None
        pieces = split(_unpatch(rendered), len(keys))
        if pieces is None:
            return None
        head, bodies, tail = pieces
        try:
            forms = fill(frame, bodies, items, of)
        except RenderLimit as exc:
            raise TemplateError(f"模板 {self.label} 超出渲染限制：{exc}") from None
        # One household of each shape rendered through Jinja as well: the substitution must give
        # the same text, or Jinja renders the document.
        firsts = [of.index(k) for k in range(len(keys))]
        sample = [items[i] for i in firsts]
        sample_keys, sample_of = shapes(frame, sample)
        if forms is None or any(k not in keys for k in sample_keys):
            return None
        checked = fill(frame, [bodies[keys.index(k)] for k in sample_keys], sample, sample_of)
        expected = self._rendered(name, {**context, frame.items: sample})
        if checked is None or b"".join([head.encode("utf-8"), *checked, tail.encode("utf-8")]) != expected.encode():
            return None
        return [head.encode("utf-8"), *forms, tail.encode("utf-8")]

    def _rendered(self, name: str, context: dict[str, Any]) -> str:
        # Each pass only where it can change something: a search through the 25 MB of a
        # community's household forms takes some 100 ms.
        before = placed_count()
        xml = _unpatch(self._render_part(name, self.compiled[name], context))
        if name in self.column_loops:
            xml = fit_grids(xml)
        if placed_count() > before:
            xml = keep_tables_with_figures(xml)
        if name in self.splittable:
            xml = keep_short_rows_whole(xml)
        return xml

    def _render_part(self, name: str, template: Template, context: dict[str, Any]) -> str:
        try:
            return render_bounded(template, context)
        except RenderLimit as exc:
            where = paragraph_at(self.sources[name], template_line(exc))
            hint = f"（所在段落：“{where}”）" if where else ""
            raise TemplateError(f"模板 {self.label} 超出渲染限制：{exc}{hint}") from None
        except UndefinedError as exc:
            raise TemplateError(f"模板 {self.label} 使用了数据中没有的字段：{exc.message}") from None
        except SecurityError as exc:
            raise TemplateError(f"模板 {self.label} 试图访问不允许的内容：{exc}") from None
        except Exception as exc:
            line = getattr(exc, "lineno", None)
            where = paragraph_at(self.sources[name], line)
            hint = f"（所在段落：“{where}”）" if where else ""
            raise TemplateError(f"模板 {self.label} 渲染出错：{exc}{hint}") from None


@lru_cache(maxsize=256)
def _media_entry(name: str, blob: bytes) -> Entry:
    """A photo's zip member, compressed once however many documents carry it."""
    return deflate(name, blob)
