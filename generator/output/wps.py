"""A checker for what WPS Office shows differently from Word and Excel (docs/wps.md).

Every generated .docx and .xlsx must pass it; the tests run it over a full build.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
THEME_ATTRIBUTES = ("asciiTheme", "eastAsiaTheme", "hAnsiTheme", "cstheme")
MAX_INLINE_LIST = 255
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass(frozen=True)
class Finding:
    """One pitfall: the rule, the part of the file and what is wrong there."""

    rule: str
    part: str
    message: str

    def __str__(self) -> str:
        return f"{self.part}：{self.message}（{self.rule}）"


Check = Callable[[str, etree._Element], Iterator[Finding]]


def _text_parts(name: str) -> bool:
    """The Word parts that hold text a reader sees: body, headers, footers, notes."""
    return re.fullmatch(r"word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml", name) is not None


def _simple_fields(part: str, root: etree._Element) -> Iterator[Finding]:
    for field in root.iter(f"{W}fldSimple"):
        yield Finding("simple-field", part, f"简单域“{(field.get(f'{W}instr') or '').strip()}”，"
                                            "WPS 可能显示为文字或不更新，应写成复合域")


def _unbalanced_fields(part: str, root: etree._Element) -> Iterator[Finding]:
    kinds = [c.get(f"{W}fldCharType") for c in root.iter(f"{W}fldChar")]
    if kinds.count("begin") != kinds.count("end"):
        yield Finding("field-unbalanced", part, f"复合域开始{kinds.count('begin')}处、"
                                                f"结束{kinds.count('end')}处，不成对")


def _span(cell: etree._Element) -> int:
    span = cell.find(f"{W}tcPr/{W}gridSpan")
    try:
        return int(span.get(f"{W}val", "1")) if span is not None else 1
    except ValueError:
        return 1


def _table_grids(part: str, root: etree._Element) -> Iterator[Finding]:
    for n, table in enumerate(root.iter(f"{W}tbl"), start=1):
        cols = table.findall(f"{W}tblGrid/{W}gridCol")
        widest = max((sum(_span(c) for c in row.iter(f"{W}tc") if c.getparent() is row)
                      for row in table.findall(f"{W}tr")), default=0)
        if table.find(f"{W}tblGrid") is None:
            yield Finding("table-grid", part, f"第{n}个表格没有列宽定义（w:tblGrid）")
        elif len(cols) < widest:
            yield Finding("table-grid", part, f"第{n}个表格定义了{len(cols)}列，最宽一行有{widest}列")


def _theme_fonts(part: str, root: etree._Element) -> Iterator[Finding]:
    for fonts in root.iter(f"{W}rFonts"):
        themed = [a for a in THEME_ATTRIBUTES if fonts.get(f"{W}{a}") is not None]
        if themed:
            yield Finding("theme-font", part, f"字体引用主题字体（{'、'.join(themed)}），"
                                              "WPS 打开时可能提示缺少字体")
            return


def _east_asia_default(part: str, root: etree._Element) -> Iterator[Finding]:
    fonts = root.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}rFonts")
    if fonts is None or not fonts.get(f"{W}eastAsia"):
        yield Finding("east-asia-font", part, "文档默认字体没有写明中文字体（w:eastAsia）")


def _xlsx_theme_fonts(part: str, root: etree._Element) -> Iterator[Finding]:
    for n, font in enumerate(root.iter(f"{S}font"), start=1):
        if font.find(f"{S}scheme") is not None:
            yield Finding("xlsx-theme-font", part, f"第{n}种字体是主题字体，WPS 会换用自身默认字体")
            return


def _list_validations(part: str, root: etree._Element) -> Iterator[Finding]:
    for rule in root.iter(f"{S}dataValidation"):
        if rule.get("type") != "list":
            continue
        formula = (rule.findtext(f"{S}formula1") or "").strip()
        if formula.startswith('"') and len(formula) - 2 > MAX_INLINE_LIST:
            yield Finding("list-validation", part, f"单元格 {rule.get('sqref')} 的下拉序列写在规则内，"
                                                   f"长{len(formula) - 2}个字符，超过{MAX_INLINE_LIST}个；"
                                                   "应引用单元格区域")


def _formula_caches(part: str, root: etree._Element) -> Iterator[Finding]:
    for cell in root.iter(f"{S}c"):
        if cell.find(f"{S}f") is not None and cell.find(f"{S}v") is None:
            yield Finding("formula-cache", part, f"单元格 {cell.get('r')} 的公式没有计算结果，"
                                                 "预览时显示为空白")


def _chart_caches(part: str, root: etree._Element) -> Iterator[Finding]:
    for kind, cache in (("numRef", "numCache"), ("strRef", "strCache")):
        for ref in root.iter(f"{C}{kind}"):
            if ref.find(f"{C}{cache}") is None:
                yield Finding("chart-cache", part, f"图表引用 {ref.findtext(f'{C}f')} 没有缓存数据，"
                                                   "预览时图表显示为空")


DOCX_RULES: dict[str, tuple[Callable[[str], bool], Check]] = {
    "simple-field": (_text_parts, _simple_fields),
    "field-unbalanced": (_text_parts, _unbalanced_fields),
    "table-grid": (_text_parts, _table_grids),
    "theme-font": (lambda n: n == "word/styles.xml" or _text_parts(n), _theme_fonts),
    "east-asia-font": (lambda n: n == "word/styles.xml", _east_asia_default),
}
XLSX_RULES: dict[str, tuple[Callable[[str], bool], Check]] = {
    "xlsx-theme-font": (lambda n: n == "xl/styles.xml", _xlsx_theme_fonts),
    "list-validation": (lambda n: n.startswith("xl/worksheets/") and n.endswith(".xml"), _list_validations),
    "formula-cache": (lambda n: n.startswith("xl/worksheets/") and n.endswith(".xml"), _formula_caches),
    "chart-cache": (lambda n: re.fullmatch(r"xl/charts/chart\d+\.xml", n) is not None, _chart_caches),
}
RULES = (*DOCX_RULES, *XLSX_RULES)
"""The names of every check, as docs/wps.md lists them."""


def check_file(path: Path) -> list[Finding]:
    """Every pitfall found in one .docx or .xlsx (an empty list when it is clean)."""
    rules = DOCX_RULES if path.suffix.lower() == ".docx" else XLSX_RULES
    found: list[Finding] = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            checks = [check for wanted, check in rules.values() if wanted(name)]
            if not checks:
                continue
            root = etree.fromstring(zf.read(name), PARSER)
            for check in checks:
                found.extend(check(name, root))
    return found


def check_files(paths: Iterable[Path]) -> dict[Path, list[Finding]]:
    """The pitfalls of each .docx/.xlsx among paths; files without any are left out."""
    found: dict[Path, list[Finding]] = {}
    for path in paths:
        if path.suffix.lower() in (".docx", ".xlsx"):
            problems = check_file(path)
            if problems:
                found[path] = problems
    return found

