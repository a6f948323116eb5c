"""The one Jinja environment every template renders in: sandboxed, strict, escaping, with shared filters."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from generator.render.filters import FILL_IN, FILTERS
from generator.render.images import picture
from generator.render.titles import masthead

# Characters XML 1.0 cannot hold (tab and newline are kept; renderers turn them into tabs and breaks).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """Drop characters an Office file cannot store."""
    return _XML_INVALID.sub("", text)


def _finalize(value: Any) -> Any:
    """Print a missing optional value as a line to fill in, never 'None'."""
    if value is None:
        return FILL_IN
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return xml_safe(value)
    return value


MAX_POWER_BITS = 4096
"""A result of ** may have at most this many bits (no document needs a number of 1,233 digits)."""
MAX_SEQUENCE = 1_000_000
"""Characters or items a text or list made in a template may have (*, +, widths of str methods)."""
MAX_RANGE = 100_000
"""Items range() may give in a template."""
MAX_OUTPUT = 64 * 1024 * 1024
"""Characters one rendered part (a Word document.xml) may have."""
SECONDS_PER_DOCUMENT = 20.0
"""Time one document may take to render; a document of the programme takes well under a second."""

_DEADLINE: ContextVar[float] = ContextVar("deadline", default=math.inf)
_WIDE = re.compile(r"%[-+ #0]*\d{6,}|\{[^{}]*:[^{}]*\d{6,}[^{}]*\}")
"""A % or format() width of a million or more: one short template text making a gigabyte."""


class RenderLimit(SecurityError):
    """A template that would take too long or make too much; the message is for the clerk."""


@contextmanager
def render_budget(seconds: float | None = None) -> Iterator[None]:
    """Bound the time of the rendering inside: one document's worth (SECONDS_PER_DOCUMENT)."""
    token = _DEADLINE.set(time.monotonic() + (SECONDS_PER_DOCUMENT if seconds is None else seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _tick() -> None:
    if time.monotonic() > _DEADLINE.get():
        raise RenderLimit(f"渲染一份文书超过{SECONDS_PER_DOCUMENT:g}秒（模板中可能有过多的循环）")


def _sized(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 0


def _bounded(value: Any) -> Any:
    """A value a template made, refused past MAX_SEQUENCE: a text doubled in a loop stops at the bound,
    having allocated at most a few times it, whichever operation (~, %, join, a method) made it."""
    if _sized(value) > MAX_SEQUENCE:
        raise RenderLimit(f"模板生成的文字或列表超过{MAX_SEQUENCE}个字符或项（模板中可能有反复加倍的内容）")
    return value


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's compiler, with the ~ operator's result bounded too (the sandbox cannot intercept it)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with bounds on arithmetic, text and list sizes, and time."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})
    code_generator_class = _BoundedCodeGenerator

    @staticmethod
    def bounded(value: Any) -> Any:
        """What the compiled ~ operator calls with its result."""
        return _bounded(value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 \
                and right > 0 and right * math.log2(abs(left)) > MAX_POWER_BITS:
            raise RenderLimit(f"幂运算 {left}**{right} 的结果过大（超过{MAX_POWER_BITS}位二进制数）")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if _sized(seq) and isinstance(n, int) and _sized(seq) * n > MAX_SEQUENCE:
                    raise RenderLimit(f"把文字或列表重复{n}次，结果超过{MAX_SEQUENCE}个字符或项")
        if operator == "+" and _sized(left) + _sized(right) > MAX_SEQUENCE:
            raise RenderLimit(f"拼接的文字或列表超过{MAX_SEQUENCE}个字符或项")
        if operator == "%" and isinstance(left, str) and _WIDE.search(left):
            raise RenderLimit("格式化的宽度过大（百万以上）")
        return _bounded(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, (str, list, tuple)):
            numbers = [a for a in (*args, *kwargs.values()) if isinstance(a, int)]
            texts = [a for a in (*args, *kwargs.values()) if isinstance(a, str)]
            if any(n > MAX_SEQUENCE for n in numbers):
                raise RenderLimit(f"{getattr(__obj, '__name__', '')} 的参数过大（超过{MAX_SEQUENCE}）")
            if isinstance(owner, str) and getattr(__obj, "__name__", "") in ("format", "format_map") \
                    and _WIDE.search(owner):
                raise RenderLimit("格式化的宽度过大（百万以上）")
            if isinstance(owner, str) and getattr(__obj, "__name__", "") == "replace" and len(texts) >= 2 \
                    and (owner.count(texts[0]) + 1) * len(texts[1]) > MAX_SEQUENCE:
                raise RenderLimit(f"替换后的文字超过{MAX_SEQUENCE}个字符")
        return _bounded(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        return super().getattr(obj, attribute)


def _range(*args: int) -> range:
    _tick()
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise RenderLimit(f"range 的长度为{len(r)}，超过上限{MAX_RANGE}")
    return r


def _bounded_filter(fn: Any, widths: bool) -> Any:
    """A filter whose result is bounded; with widths, also its width or count arguments (the built-in
    filters that could make a gigabyte from a line)."""

    def bounded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        if widths and any(isinstance(a, int) and a > MAX_SEQUENCE for a in (*args[1:], *kwargs.values())):
            raise RenderLimit(f"过滤器参数过大（超过{MAX_SEQUENCE}）")
        if args and isinstance(args[0], str) and _WIDE.search(args[0]):
            raise RenderLimit("格式化的宽度过大（百万以上）")
        return _bounded(fn(*args, **kwargs))

    for attribute in ("jinja_pass_arg",):
        if hasattr(fn, attribute):
            setattr(bounded, attribute, getattr(fn, attribute))
    return bounded


def render_bounded(template: Template, context: dict[str, Any]) -> str:
    """Render a template in pieces, refusing output past MAX_OUTPUT or the document's time."""
    pieces = []
    size = 0
    for piece in template.generate(context):
        size += len(piece)
        if size > MAX_OUTPUT:
            raise RenderLimit(f"渲染结果超过{MAX_OUTPUT // 1024 // 1024}M个字符")
        _tick()
        pieces.append(piece)
    return "".join(pieces)


def template_line(exc: BaseException) -> int | None:
    """The template line an exception raised while rendering comes from (Jinja's frames say)."""
    line = getattr(exc, "lineno", None)
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def static_risks(tree: nodes.Template) -> list[tuple[int, str]]:
    """What a template's syntax tree shows, before any rendering, would exceed the bounds."""
    risks = []
    for node in tree.find_all((nodes.Pow, nodes.Mul, nodes.Call)):
        if isinstance(node, nodes.Pow) and not (isinstance(node.right, nodes.Const) and
                                                isinstance(node.right.value, int) and node.right.value <= 64):
            risks.append((node.lineno, "幂运算“**”的指数不是64以内的常数，结果可能极大"))
        elif isinstance(node, nodes.Mul):
            for side in (node.left, node.right):
                if isinstance(side, nodes.Const) and isinstance(side.value, int) and side.value > 10_000:
                    risks.append((node.lineno, f"乘以{side.value}：重复文字或列表会得到极大的结果"))
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "range":
            if any(isinstance(a, nodes.Const) and isinstance(a.value, int) and a.value > MAX_RANGE for a in node.args):
                risks.append((node.lineno, f"range 的长度超过上限{MAX_RANGE}"))
    for loop in tree.find_all(nodes.For):
        if _constant_range(loop.iter) and any(_constant_range(inner.iter) for inner in loop.find_all(nodes.For)):
            risks.append((loop.lineno, "嵌套的 range 循环，渲染次数可能极多"))
    return sorted(set(risks))


def _constant_range(node: nodes.Node) -> bool:
    return (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "range"
            and any(isinstance(a, nodes.Const) and isinstance(a.value, int) and a.value > 1000 for a in node.args))


_WIDTH_FILTERS = frozenset({"center", "indent", "truncate", "wordwrap", "format", "batch", "slice", "replace"})
"""Built-in filters with a width or count argument."""


def make_env(autoescape: bool) -> ImmutableSandboxedEnvironment:
    """A sandboxed environment: no Python internals, no files, a missing field is an error."""
    env = BoundedSandbox(
        undefined=StrictUndefined,
        autoescape=autoescape,
        finalize=_finalize,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    for name, fn in env.filters.items():  # join, map, list…: every result bounded
        env.filters[name] = _bounded_filter(fn, widths=name in _WIDTH_FILTERS)
    env.globals["range"] = _range
    return env


XML_ENV = make_env(autoescape=True)
"""For Word XML: values are escaped, so & < > in a community's name print as written."""
XML_ENV.filters["picture"] = picture  # an image, in a Word run: {{r value|picture }}
XML_ENV.filters["masthead"] = masthead  # a 发文机关标志 kept on one line: {{r doc.masthead|masthead }}

TEXT_ENV = make_env(autoescape=False)
"""For spreadsheet cells, which openpyxl escapes itself."""

__all__ = ["XML_ENV", "TEXT_ENV", "xml_safe", "escape", "RenderLimit", "render_budget", "render_bounded",
           "template_line", "static_risks"]


_AT = re.compile(r" at (\d+)$")
_MARKUP = re.compile(r"<[^>]*>")


def _tag_at(source: str, offset: int) -> str:
    """The tag of source that holds offset, as the clerk sees it (without the XML around its pieces)."""
    start = max(source.rfind("{{", 0, offset + 1), source.rfind("{%", 0, offset + 1))
    if start < 0:
        return ""
    ends = [i + 2 for i in (source.find("}}", offset), source.find("%}", offset)) if i >= 0]
    end = min(ends) if ends else min(len(source), offset + 40)
    return _MARKUP.sub("", source[start:end])[:80]


def syntax_explained(source: str, message: str) -> str:
    """A Jinja syntax error in a clerk's words (语法错误：…), naming the tag it is in where it can tell."""
    return "语法错误：" + syntax_reason(source, message)


def syntax_reason(source: str, message: str) -> str:
    """What is wrong, in a clerk's words, without the 语法错误 before it."""
    at = _AT.search(message)
    tag = _tag_at(source, int(at[1])) if at else ""
    named = f"字段 {tag} " if tag else ""
    if message.startswith("unexpected char"):
        bad = message[len("unexpected char "):].rsplit(" at ", 1)[0][1:-1]
        if bad in ("'", '"'):
            return (f"{named}的引号没有配对：请检查是否少打或多打了一个引号（Word、WPS 的自动更正会把"
                    "引号改成弯引号，程序会还原；被删掉的引号需要补上）")
        return f"{named}中有不能用的字符“{bad}”：字段里的括号、逗号、竖线、引号等请用半角（英文）标点"
    if message.startswith("Unexpected end of template"):
        return "{% if %} 或 {% for %} 缺少对应的 {% endif %} 或 {% endfor %}"
    if message.startswith("unexpected '}'") or message.startswith("unexpected end of template"):
        return f"{named}花括号没有配对"
    if message.startswith("No filter named"):
        return f"没有这个过滤器：{message.split(chr(39))[1] if chr(39) in message else message}"
    if message.startswith("Encountered unknown tag"):
        name = message.split("'")[1] if "'" in message else ""
        return f"不认识的标记 {{% {name} %}}：请检查拼写，以及 {{% if %}}、{{% for %}} 是否成对"
    return f"{named}{message}"
