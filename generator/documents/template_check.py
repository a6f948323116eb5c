"""Check templates before a batch goes wrong: unknown fields and filters, syntax errors, broken tags, layout."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from lxml import etree

from generator import ROOT
from generator.data.loader import DataSet
from generator.documents.kinds import KINDS, Kind
from generator.errors import TemplateError
from generator.render.docx import RENDERED_PARTS, jinja_source, paragraph_at
from generator.render.env import TEXT_ENV, XML_ENV, static_risks, syntax_explained
from generator.render.images import Picture
from generator.render.layout import REFERENCE_NAME, check_layout
from generator.render.pictures import PhotoTable
from generator.render.sheet_words import FORM_WORDS, WORDING_SHEET, check_sheet_names, unknown_word_keys
from generator.render.templates import BUILTIN
from generator.render.xlsx import BLOCK_ROW, LOOP_ROW
from generator.render.ziputil import read_template

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_UNKNOWN = object()
"""A value whose shape the example data cannot tell: nothing below it is checked."""

ContextFactory = Callable[[DataSet], dict[str, Any]]


@dataclass(frozen=True)
class TemplateFinding:
    template: str
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.template} {self.where}：{self.problem}"


# ---------------------------------------------------------------- example contexts


def context_factories() -> dict[str, tuple[str, ContextFactory]]:
    """Template path (e.g. docx/notice.docx) → (kind key, example context from the data), for
    every registered kind that fills a template."""
    def example(kind: Kind) -> ContextFactory:
        return lambda data: kind.context(data, kind.example(data))

    return {kind.template: (kind.key, example(kind)) for kind in KINDS.values() if kind.template is not None}


# ---------------------------------------------------------------- fields a template uses


class _Walker:
    """Follows names and attributes through a template's syntax tree against an example context."""

    def __init__(self, context: dict[str, Any], filters: set[str], tests: set[str]):
        self.context = context
        self.filters = filters
        self.tests = tests
        self.missing: list[str] = []
        self.bad_filters: list[str] = []

    def walk(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        if isinstance(node, nodes.For):
            self.walk(node.iter, scope)
            element = self._element(self.resolve(node.iter, scope))
            inner = {**scope, "loop": _UNKNOWN}
            for name in self._targets(node.target):
                inner[name] = element
            for child in [*node.body, *node.else_]:
                self.walk(child, inner)
            if node.test is not None:
                self.walk(node.test, inner)
            return
        if isinstance(node, nodes.AssignBlock):  # {% set x %}…{% endset %}: a block rendered once
            for child in node.body:
                self.walk(child, scope)
            for name in self._targets(node.target):
                scope[name] = _UNKNOWN
            return
        if isinstance(node, (nodes.Assign, nodes.With, nodes.Macro, nodes.CallBlock)):
            if isinstance(node, nodes.Assign):
                self.walk(node.node, scope)
                for name in self._targets(node.target):
                    scope[name] = _UNKNOWN
                return
            scope = {**scope}
            for child in node.iter_child_nodes():
                for name in self._targets(child) if isinstance(child, nodes.Name) else []:
                    scope[name] = _UNKNOWN
        if isinstance(node, nodes.Filter) and node.name not in self.filters:
            self.bad_filters.append(node.name)
        if isinstance(node, nodes.Test) and node.name not in self.tests:
            self.bad_filters.append(node.name)
        if isinstance(node, (nodes.Name, nodes.Getattr, nodes.Getitem)):
            self.resolve(node, scope)
            if isinstance(node, nodes.Getitem):
                self.walk(node.arg, scope)
            return
        for child in node.iter_child_nodes():
            self.walk(child, scope)

    @staticmethod
    def _targets(node: nodes.Node) -> list[str]:
        if isinstance(node, nodes.Name):
            return [node.name]
        if isinstance(node, nodes.Tuple):
            return [n.name for n in node.items if isinstance(n, nodes.Name)]
        return []

    @staticmethod
    def _element(value: Any) -> Any:
        if isinstance(value, list) and value:
            merged: dict[str, Any] = {}
            if all(isinstance(v, dict) for v in value):
                for v in value:  # keys any element has
                    merged.update({k: x for k, x in v.items() if merged.get(k) is None})
                return merged
            return value[0]
        if isinstance(value, dict):  # looping over a dict gives its keys
            return _UNKNOWN
        return _UNKNOWN

    def resolve(self, node: nodes.Node, scope: dict[str, Any]) -> Any:
        """The example value of an expression, recording fields the context lacks."""
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name]
            if node.name in self.context:
                return self.context[node.name]
            if node.name in XML_ENV.globals:  # range, dict, namespace …
                return _UNKNOWN
            self.missing.append(node.name)
            return _UNKNOWN
        if isinstance(node, (nodes.Getattr, nodes.Getitem)):
            base = self.resolve(node.node, scope)
            key = node.attr if isinstance(node, nodes.Getattr) else (
                node.arg.value if isinstance(node.arg, nodes.Const) else None)
            if key is None or base is _UNKNOWN or base is None:
                return _UNKNOWN
            if isinstance(base, dict):
                if key in base:
                    return base[key]
                self.missing.append(f"{_dotted(node.node)}.{key}")
                return _UNKNOWN
            if isinstance(base, list) and isinstance(key, int):
                return base[key] if -len(base) <= key < len(base) else _UNKNOWN
            return _UNKNOWN
        self.walk(node, scope)
        return _UNKNOWN


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_dotted(node.node)}[{node.arg.value!r}]"
    return "…"


def _field_findings(env: Any, source: str, context: dict[str, Any] | None,
                    scope: dict[str, Any]) -> tuple[list[str], list[str]]:
    tree = env.parse(source)
    walker = _Walker(context or {}, set(env.filters), set(env.tests))
    if context is None:
        walker.resolve = lambda node, scope: _UNKNOWN  # type: ignore[method-assign]
    walker.walk(tree, dict(scope))
    return sorted(set(walker.missing)), sorted(set(walker.bad_filters))


# ---------------------------------------------------------------- Word templates


def _paragraph_place(p: etree._Element) -> str:
    text = "".join(t.text or "" for t in p.iter(f"{W}t"))[:40]
    cell = next(p.iterancestors(f"{W}tc"), None)
    if cell is None:
        return f"段落“{text}”"
    row = cell.getparent()
    table = row.getparent()
    r = [x for x in table if x.tag == f"{W}tr"].index(row) + 1
    c = [x for x in row if x.tag == f"{W}tc"].index(cell) + 1
    return f"表格第{r}行第{c}列“{text}”"


def _cut_tags(part: str, xml: bytes) -> Iterator[tuple[str, str]]:
    """Tags broken across paragraphs or marked as revisions.

    A tag split over runs (spell-checking, a change of font, LibreOffice's or WPS's saving) is
    joined when the template is compiled (render.word_tags), so it is no problem.
    """
    root = etree.fromstring(xml)
    for p in root.iter(f"{W}p"):
        text = "".join(t.text or "" for t in p.iter(f"{W}t"))
        if "{" not in text and "}" not in text:
            continue
        place = _paragraph_place(p)
        if text.count("{{") != text.count("}}") or text.count("{%") != text.count("%}"):
            yield place, "标签不完整（缺少开头或结尾的括号，或被拆到了两个段落里）"
            continue
        if any(True for _ in p.iter(f"{W}ins", f"{W}del")) and _TAG.search(text):
            yield place, "含标签的段落有未接受的修订，请在 Word 中“接受所有修订”"


def check_docx(path: Path, label: str, context: dict[str, Any] | None) -> list[TemplateFinding]:
    """Every problem of one Word template."""
    found: list[TemplateFinding] = []
    try:
        parts = [(n, blob) for n, blob in read_template(path, label) if RENDERED_PARTS.match(n)]
    except TemplateError as exc:
        return [TemplateFinding(label, "文件", str(exc))]
    for name, xml in parts:
        try:
            source = jinja_source(xml.decode("utf-8"))
        except UnicodeDecodeError:
            found.append(TemplateFinding(label, _part_name(name), "不是 UTF-8 编码的 XML，文件可能已损坏"))
            continue
        for place, problem in _cut_tags(name, xml):
            found.append(TemplateFinding(label, place, problem))
        try:
            tree = XML_ENV.parse(source)
        except TemplateSyntaxError as exc:
            where = paragraph_at(source, exc.lineno)
            found.append(TemplateFinding(label, f"段落“{where}”", syntax_explained(source, exc.message or "")))
            continue
        for line, risk in static_risks(tree):
            found.append(TemplateFinding(label, f"段落“{paragraph_at(source, line)}”", risk))
        missing, filters = _field_findings(XML_ENV, source, context, {})
        found += [TemplateFinding(label, _part_name(name), f"数据中没有字段“{m}”") for m in missing]
        found += [TemplateFinding(label, _part_name(name), f"未知的过滤器“{f}”") for f in filters]
    return found


def _part_name(part: str) -> str:
    return {"word/document.xml": "正文"}.get(part, "页眉页脚")


# ---------------------------------------------------------------- Excel templates


def _open_xlsx(path: Path, label: str) -> Any:
    """An Excel template read with openpyxl, or the finding that says why it cannot be."""
    from openpyxl import load_workbook

    try:
        read_template(path, label)
        return load_workbook(path)
    except TemplateError as exc:
        return TemplateFinding(label, "文件", str(exc))
    except Exception:  # openpyxl raises many kinds for a broken file
        return TemplateFinding(label, "文件", "不是有效的 .xlsx 文件")


def _check_wording(ws: Any, label: str) -> list[TemplateFinding]:
    """The 程序用语 sheet: its words are filled by the program, so only their syntax is checked."""
    found = []
    for cell in ws["B"]:
        if isinstance(cell.value, str) and "{" in cell.value:
            try:
                TEXT_ENV.parse(cell.value)
            except TemplateSyntaxError as exc:
                found.append(TemplateFinding(label, f"工作表“{ws.title}” {cell.coordinate}",
                                             syntax_explained(cell.value, exc.message or "")))
    return found


def _check_form_keys(path: Path, ws: Any, label: str) -> list[TemplateFinding]:
    """The 填报表's 程序用语 sheet: a key the program does not know, and sheet names Excel refuses."""
    where = {str(c.value).strip(): c.coordinate for c in ws["A"][1:] if c.value is not None}
    found = [TemplateFinding(label, f"工作表“{ws.title}” {where[key]}", f"没有这个键“{key}”（请对照内置的 form.xlsx）")
             for key in unknown_word_keys(list(where))]
    try:
        check_sheet_names(path)
    except TemplateError as exc:
        found.append(TemplateFinding(label, f"工作表“{ws.title}”",
                                     str(exc).removeprefix(f"{path} 工作表“{WORDING_SHEET}” ")))
    return found


def check_xlsx(path: Path, label: str, context: dict[str, Any] | None) -> list[TemplateFinding]:
    """Every problem of one Excel template, by cell."""
    wb = _open_xlsx(path, label)
    if isinstance(wb, TemplateFinding):
        return [wb]
    found: list[TemplateFinding] = []
    for ws in wb.worksheets:
        if ws.title == WORDING_SHEET:
            found += _check_wording(ws, label)
            continue
        for row in ws.iter_rows():
            scope: dict[str, Any] = {}
            for cell in row:
                text = cell.value
                if not isinstance(text, str) or ("{" not in text and "}" not in text):
                    continue
                where = f"工作表“{ws.title}” {cell.coordinate}"
                if cell.column == 1 and BLOCK_ROW.match(text):
                    continue
                loop = LOOP_ROW.match(text) if cell.column == 1 else None
                if loop:
                    walker = _Walker(context or {}, set(TEXT_ENV.filters), set(TEXT_ENV.tests))
                    if context is not None:
                        output = TEXT_ENV.parse(f"{{{{ {loop.group(2)} }}}}").body[0]
                        assert isinstance(output, nodes.Output)
                        iterable = walker.resolve(output.nodes[0], {})
                        scope[loop.group(1)] = _Walker._element(iterable)
                        found += [TemplateFinding(label, where, f"数据中没有字段“{m}”")
                                  for m in sorted(set(walker.missing))]
                    else:
                        scope[loop.group(1)] = _UNKNOWN
                    text = text[loop.end():]
                try:
                    tree = TEXT_ENV.parse(text)
                except TemplateSyntaxError as exc:
                    found.append(TemplateFinding(label, where, syntax_explained(text, exc.message or "")))
                    continue
                found += [TemplateFinding(label, where, risk) for _, risk in static_risks(tree)]
                missing, filters = _field_findings(TEXT_ENV, text, context, scope)
                found += [TemplateFinding(label, where, f"数据中没有字段“{m}”") for m in missing]
                found += [TemplateFinding(label, where, f"未知的过滤器“{f}”") for f in filters]
    return found


# ---------------------------------------------------------------- a whole folder


def check_layout_of(path: Path, label: str, reference: Path) -> list[TemplateFinding]:
    """A Word template's layout against a reference document, one finding per thing that is off."""
    try:
        return [TemplateFinding(label, "版式", problem) for problem in check_layout(path, label, reference)]
    except TemplateError as exc:
        return [TemplateFinding(label, "文件", str(exc))]


def check_folder(root: Path, data: DataSet, reference: Path | None = None) -> tuple[list[TemplateFinding], list[str]]:
    """Check every template under a folder; return the findings and the templates checked.

    Given a reference document, each Word template's layout is checked against it too.
    """
    factories = context_factories()
    contexts: dict[str, dict[str, Any]] = {}
    findings: list[TemplateFinding] = []
    checked: list[str] = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".docx", ".xlsx") or path.name.startswith(("~$", ".")):
            continue
        if path.parent == root and path.name == REFERENCE_NAME:  # the layout itself, not a kind's template
            continue
        rel = path.relative_to(root).as_posix()
        label = str(path)
        kind_key = "/".join(rel.split("/")[-2:])
        context = None
        rows = row_templates()
        if kind_key == FORM_WORDS:  # words only, filled by the program
            wb = _open_xlsx(path, label)
            found = [wb] if isinstance(wb, TemplateFinding) else (
                _check_wording(wb[WORDING_SHEET], label) + _check_form_keys(path, wb[WORDING_SHEET], label)
                if WORDING_SHEET in wb.sheetnames
                else [TemplateFinding(label, "文件", f"缺少工作表“{WORDING_SHEET}”")])
            findings += found
            checked.append(label)
            continue
        if kind_key in rows:
            findings += check_row_template(path, label, rows[kind_key])
            checked.append(label)
            continue
        if kind_key in factories:
            if kind_key not in contexts:
                contexts[kind_key] = factories[kind_key][1](data)
            context = contexts[kind_key]
        else:
            findings.append(TemplateFinding(label, "文件", "不是任何文书种类的模板（文件名或文件夹不对），"
                                                         "只检查了语法"))
        check = check_xlsx if path.suffix == ".xlsx" else check_docx
        findings += check(path, label, context)
        if reference is not None and path.suffix == ".docx":
            findings += check_layout_of(path, label, reference)
        checked.append(label)
    wording_file = root / "wording.yaml"
    # a city's sentences beside its templates (the built-in file is what they are checked against)
    if wording_file.is_file() and root.resolve() != BUILTIN.resolve():
        from generator.render.wording import folder_problems

        findings += [TemplateFinding(str(wording_file), p.field or "文件", p.problem)
                     for p in folder_problems(wording_file)]
        checked.append(str(wording_file))
    return findings, checked


def row_templates() -> dict[str, dict[int, tuple[str, ...]]]:
    """Template path → the model rows each of its sheets must have, for the kinds laid out in
    code into a row template (render/xlsx_rows.py)."""
    from generator.documents import assessment, plan_table

    models = {plan_table.TEMPLATE: plan_table.MODELS, assessment.TEMPLATE: assessment.MODELS}
    return {kind.row_template: models[kind.row_template] for kind in KINDS.values()
            if kind.row_template is not None and kind.row_template in models}


def check_row_template(path: Path, label: str, models: dict[int, tuple[str, ...]]) -> list[TemplateFinding]:
    """A row template's sheets, its model rows ({%tr name %}) and the syntax of its tags."""
    from generator.render.xlsx_rows import MARK

    wb = _open_xlsx(path, label)
    if isinstance(wb, TemplateFinding):
        return [wb]
    found: list[TemplateFinding] = []
    if len(wb.worksheets) < len(models):
        found.append(TemplateFinding(label, "工作表", f"应有{len(models)}个工作表，现有{len(wb.worksheets)}个"))
    for number, ws in enumerate(wb.worksheets, start=1):
        names = set()
        for row in ws.iter_rows():
            for cell in row:
                text = cell.value
                if not isinstance(text, str) or cell.data_type == "f":
                    continue
                mark = MARK.match(text) if cell.column == 1 else None
                if mark:
                    names.add(mark.group(1))
                    text = text[mark.end():]
                if "{" not in text and "}" not in text:
                    continue
                try:
                    TEXT_ENV.parse(text)
                except TemplateSyntaxError as exc:
                    found.append(TemplateFinding(label, f"工作表“{ws.title}” {cell.coordinate}",
                                                 syntax_explained(text, exc.message or "")))
        for name in models.get(number, ()):
            if name not in names:
                found.append(TemplateFinding(
                    label, f"工作表“{ws.title}”",
                    f"缺少以 {{%tr {name} %}} 开头的行（程序按这一行的格式逐行填写数据，请从内置模板复制）"))
    return found


# ---------------------------------------------------------------- the fields a kind provides


def _type_name(value: Any) -> str:
    if value is None:
        return "可为空"
    if isinstance(value, bool):
        return "是/否"
    if isinstance(value, int):
        return "整数"
    if isinstance(value, Decimal):
        return "数值"
    if isinstance(value, dt.date):
        return "日期"
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "一组字段"
    if isinstance(value, Picture):
        return "图片"
    if isinstance(value, PhotoTable):
        return "照片表（段落标签 {{p … }}）"
    return "文本"


def field_rows(context: dict[str, Any], prefix: str = "") -> list[tuple[str, str, str]]:
    """Every field of a context: path, type and an example value."""
    rows: list[tuple[str, str, str]] = []
    for key, value in context.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.append((path, "一组字段", ""))
            rows += field_rows(value, path + ".")
        elif isinstance(value, list):
            element = _Walker._element(value)
            rows.append((path, "列表", f"{len(value)} 项"))
            if isinstance(element, dict):
                rows += field_rows(element, path + "[].")
            elif value:
                rows.append((f"{path}[]", _type_name(value[0]), _example(value[0])))
        elif isinstance(value, PhotoTable):
            rows.append((path, _type_name(value), f"{value.count} 张"))
        else:
            rows.append((path, _type_name(value), _example(value)))
    return rows


def _example(value: Any) -> str:
    if value is None:
        return "（空）"
    text = str(value).replace("\n", " ").replace("|", "／")
    return text if len(text) <= 40 else text[:39] + "…"


def fields_doc(data: DataSet) -> str:
    """docs/template-fields.md: the fields each kind's templates can use."""
    lines = [
        "# 模板可用的字段",
        "",
        "本文件由 `python -m generator.documents.template_check` 生成，请勿手工修改；",
        "`gaizao templates fields 种类` 在屏幕上列出同样的内容；",
        "怎样把模板改成本市自己的，见 [templates.md](templates.md)。",
        "示例值取自随附数据中进度最靠后的项目。在模板中写 `{{ 字段 }}`，列表用",
        "`{%tr for it in items %}` … `{%tr endfor %}`（表格行）或 `{%p for … %}`（段落）逐项输出。",
        "",
    ]
    for template, (key, factory) in context_factories().items():
        lines += [f"## {key}（{template}）", "", "| 字段 | 类型 | 示例 |", "|---|---|---|"]
        for path, kind, example in field_rows(factory(data)):
            lines.append(f"| `{path}` | {kind} | {example} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m generator.documents.template_check: rewrite docs/template-fields.md
    from generator.data.loader import load

    target = ROOT / "docs" / "template-fields.md"
    target.write_text(fields_doc(load()), encoding="utf-8")
    print(target)
