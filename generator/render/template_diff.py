"""What differs between the built-in kit and a city's own copies of its templates, in a clerk's words.

After an upgrade a city sees, template by template, the sentences the built-in version has that
its copy has not (and the other way round), the fields (tags) either one uses alone, and where
their layouts differ; it then carries over into its copies what it wants.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from generator.errors import TemplateError
from generator.render.layout import layout_problems, read_layout
from generator.render.templates import BUILTIN
from generator.render.word_tags import typed
from generator.render.ziputil import read_template

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARTS = re.compile(r"^word/(document|header\d*|footer\d*)\.xml$")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
SIMILAR = 0.5
"""How alike (difflib's ratio) two texts at the same place must be to count as one text changed."""
KIT = "内置模板"
OURS = "你的模板"


@dataclass
class TemplateDiff:
    """One of a city's templates against the built-in one of the same name."""

    rel: str
    city: Path
    builtin: Path | None
    only_builtin: list[str] = field(default_factory=list)
    only_city: list[str] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)
    """(built-in text, city text) of paragraphs or cells that stand at the same place."""
    tags_only_builtin: list[str] = field(default_factory=list)
    tags_only_city: list[str] = field(default_factory=list)
    layout: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return self.builtin is not None and not (self.only_builtin or self.only_city or self.changed or
                                                 self.tags_only_builtin or self.tags_only_city or self.layout)

    def lines(self) -> list[str]:
        """The differences as lines a clerk reads, in Chinese."""
        head = f"{self.rel}（{OURS}：{self.city}）"
        if self.builtin is None:
            return [head, f"  {KIT}中没有这个文件：这是你自己加的模板，不比较"]
        if self.same:
            return [head, f"  与{KIT}相同"]
        out = [head]
        if self.changed or self.only_builtin or self.only_city:
            out.append("  文字：")
            for old, new in self.changed:
                out += [f"    改动：{KIT}为“{old}”", f"          {OURS}为“{new}”"]
            out += [f"    {KIT}有、{OURS}没有：“{text}”" for text in self.only_builtin]
            out += [f"    {OURS}有、{KIT}没有：“{text}”" for text in self.only_city]
        if self.tags_only_builtin or self.tags_only_city:
            out.append("  字段：")
            out += [f"    {KIT}用到、{OURS}没有：{tag}" for tag in self.tags_only_builtin]
            out += [f"    {OURS}用到、{KIT}没有：{tag}" for tag in self.tags_only_city]
        if self.layout:
            out.append("  版式：")
            out += [f"    {problem}" for problem in self.layout]
        return out


def _clean(text: str) -> str:
    return _TAG.sub(lambda m: typed(m[0]), text).strip()


def word_paragraphs(parts: dict[str, bytes]) -> list[str]:
    """The text of every non-empty paragraph of a Word file (body, tables, headers, footers), tags
    as typed, so that a re-save by another office suite shows no difference."""
    texts: list[str] = []
    for name in sorted(n for n in parts if _PARTS.match(n)):
        root = etree.fromstring(parts[name])
        for p in root.iter(f"{W}p"):
            if p.find(f".//{W}p") is not None:  # a paragraph holding a text box: its inner ones count
                continue
            text = _clean(_visible(p))
            if text:
                texts.append(text)
    return texts


def _visible(p: etree._Element) -> str:
    """A paragraph's text with each field shown by its kind, not by the result the office suite
    last computed (LibreOffice saves the page number it laid out: 7 on a seven-page plan)."""
    out: list[str] = []
    in_result = False
    for el in p.iter(f"{W}t", f"{W}fldChar", f"{W}instrText", f"{W}fldSimple"):
        if el.tag == f"{W}fldSimple":
            out.append(_field_name(el.get(f"{W}instr", "")))
        elif el.tag == f"{W}instrText":
            out.append(_field_name(el.text or ""))
        elif el.tag == f"{W}fldChar":
            in_result = el.get(f"{W}fldCharType") == "separate"
        elif not in_result and next(el.iterancestors(f"{W}fldSimple"), None) is None:
            out.append(el.text or "")
    return "".join(out)


def _field_name(instruction: str) -> str:
    words = instruction.split()
    if not words:
        return ""
    return {"PAGE": "〔页码〕", "NUMPAGES": "〔总页数〕"}.get(words[0].upper(), f"〔{words[0]}〕")


def workbook_cells(path: Path) -> dict[str, str]:
    """Every non-empty cell of a workbook: `工作表!A1` → its text."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path)
    except Exception:  # openpyxl raises many kinds for a broken file
        raise TemplateError(f"{path} 不是有效的 .xlsx 文件") from None
    return {f"{ws.title}!{cell.coordinate}": _clean(str(cell.value))
            for ws in book.worksheets for row in ws.iter_rows() for cell in row
            if cell.value is not None and str(cell.value).strip()}


def _tags(texts: list[str]) -> list[str]:
    return [tag for text in texts for tag in _TAG.findall(text)]


def _builtin_for(rel: str) -> Path | None:
    """The built-in template a city's file stands for: the same path, a district's folder dropped."""
    parts = rel.split("/")
    for candidate in (rel, "/".join(parts[1:])):
        if candidate and (BUILTIN / candidate).is_file():
            return BUILTIN / candidate
    return None


def diff_template(city: Path, rel: str) -> TemplateDiff:
    """One city template against the built-in one of the same name."""
    builtin = _builtin_for(rel)
    result = TemplateDiff(rel, city, builtin)
    if builtin is None:
        return result
    if city.suffix == ".xlsx":
        # Cells are compared by place: a workbook's cells do not move the way paragraphs do.
        our_cells, kit_cells = workbook_cells(city), workbook_cells(builtin)
        result.changed = [(f"{at}：{text}", f"{at}：{our_cells[at]}") for at, text in kit_cells.items()
                          if at in our_cells and our_cells[at] != text]
        result.only_builtin = [f"{at}：{text}" for at, text in kit_cells.items() if at not in our_cells]
        result.only_city = [f"{at}：{text}" for at, text in our_cells.items() if at not in kit_cells]
        _tag_changes(result, list(kit_cells.values()), list(our_cells.values()))
        return result
    city_parts = dict(read_template(city, str(city)))
    kit_parts = dict(read_template(builtin, str(builtin)))
    ours, kit = word_paragraphs(city_parts), word_paragraphs(kit_parts)
    result.layout = layout_problems(read_layout(city_parts, str(city)), read_layout(kit_parts, str(builtin)),
                                    want=f"{KIT}为", now=f"{OURS}为")
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, kit, ours, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        paired = min(a2 - a1, b2 - b1) if op == "replace" else 0
        for old, new in zip(kit[a1:a1 + paired], ours[b1:b1 + paired], strict=True):
            # Two texts at the same place are one text changed only when they are mostly alike.
            if difflib.SequenceMatcher(None, old, new, autojunk=False).ratio() >= SIMILAR:
                result.changed.append((old, new))
            else:
                result.only_builtin.append(old)
                result.only_city.append(new)
        result.only_builtin += kit[a1 + paired:a2]
        result.only_city += ours[b1 + paired:b2]
    _tag_changes(result, kit, ours)
    return result


def _tag_changes(result: TemplateDiff, kit: list[str], ours: list[str]) -> None:
    kit_tags, our_tags = _tags(kit), _tags(ours)
    result.tags_only_builtin = sorted(set(kit_tags) - set(our_tags), key=kit_tags.index)
    result.tags_only_city = sorted(set(our_tags) - set(kit_tags), key=our_tags.index)


def diff_folder(folder: Path) -> list[TemplateDiff]:
    """Every template of a city's folder against the built-in kit."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".docx", ".xlsx") or path.name.startswith(("~$", ".")) or not path.is_file():
            continue
        found.append(diff_template(path, path.relative_to(folder).as_posix()))
    return found
