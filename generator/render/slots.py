"""A template's repeated block (one form per household) compiled once per document and filled by
substitution.

A community's household forms are one loop in the template, `{% for h in households %}`, whose
body is some 30 KB of Word XML in which only a few values change from household to household:
the address, the head's name, the phone, the form number. Rendering that body through Jinja for
every household cost about as much as deflating it. Here the body is rendered once per document
for each *shape* a household can take (which `{% if %}` tests hold, whether it is the last form)
with a marker in place of every household value; each household's form is then the shape's text
with the markers replaced by the household's values, escaped as Jinja escapes them.

Only what can be filled this way is: the loop's variable may appear in `{{ }}` outputs (a field,
a field `or` a constant, `'%04d'|format(field)`) and in `{% if %}` tests, nowhere else (not in a
filter block, a `set`, a nested loop or a macro, whose result could depend on a value's length).
Any other template renders through Jinja as before. Before a document is filled, one household
of each shape is rendered both ways and compared; if they differ, Jinja renders the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Template, nodes
from markupsafe import Markup, escape

from generator.render.env import MAX_OUTPUT, XML_ENV, RenderLimit

_MARK = "\ue0f0{}\ue0f1"
"""Where a shape's body starts in the frame render (private-use characters no template holds)."""
_END = "\ue0f2"
_SLOT = "\ue0f3{}\ue0f4"
_SLOT_SPLIT = re.compile("\ue0f3(\\d+)\ue0f4")
_PIECES = re.compile("\ue0f0(\\d+)\ue0f1(.*?)\ue0f2", re.DOTALL)
_SPECIAL = re.compile("[\ue0f0-\ue0f4]")
_LOOP_FIELDS = frozenset({"index", "index0", "first", "last", "length", "revindex", "revindex0"})
_UNSAFE = re.compile("[\t\n\a\f]")
"""Characters the finishing passes turn into Word tabs and breaks: a value holding one is not filled."""
MIN_ITEMS = 4
"""Below this many households the document renders through Jinja: nothing to gain."""

Value = Callable[[dict[str, Any], int, int], Any]
"""A compiled expression: (household, index from 0, count) to its value."""


class Unsupported(Exception):
    """The template's loop cannot be filled by substitution."""


def _loop_value(field: str) -> Value:
    table: dict[str, Value] = {
        "index": lambda h, i, n: i + 1, "index0": lambda h, i, n: i, "first": lambda h, i, n: i == 0,
        "last": lambda h, i, n: i == n - 1, "length": lambda h, i, n: n,
        "revindex": lambda h, i, n: n - i, "revindex0": lambda h, i, n: n - i - 1,
    }
    return table[field]


def _field(key: str) -> Value:
    if not isinstance(key, str) or hasattr(dict, key):
        raise Unsupported(key)  # h.items is dict.items in Jinja, not the field

    def get(h: dict[str, Any], i: int, n: int) -> Any:
        return h[key]  # a missing field or a household that is no dict: KeyError/TypeError, Jinja decides

    return get


class _Compiler:
    """Expressions over the loop's variable made into Python functions."""

    def __init__(self, target: str):
        self.target = target

    def depends(self, node: nodes.Node) -> bool:
        """Whether the expression reads the loop's variable or `loop`."""
        return any(n.name in (self.target, "loop") for n in node.find_all(nodes.Name)) or (
            isinstance(node, nodes.Name) and node.name in (self.target, "loop"))

    def value(self, node: nodes.Node) -> Value:
        """The expression as a function, or Unsupported."""
        if isinstance(node, nodes.Const):
            constant = node.value
            return lambda h, i, n: constant
        if isinstance(node, (nodes.Getattr, nodes.Getitem)) and isinstance(node.node, nodes.Name):
            key = node.attr if isinstance(node, nodes.Getattr) else (
                node.arg.value if isinstance(node.arg, nodes.Const) else None)
            if node.node.name == self.target and isinstance(key, str):
                return _field(key)
            if node.node.name == "loop" and isinstance(node, nodes.Getattr) and key in _LOOP_FIELDS:
                return _loop_value(key)
        if isinstance(node, nodes.Or):
            left, right = self.value(node.left), self.value(node.right)
            return lambda h, i, n: left(h, i, n) or right(h, i, n)
        if isinstance(node, nodes.And):
            left, right = self.value(node.left), self.value(node.right)
            return lambda h, i, n: left(h, i, n) and right(h, i, n)
        if isinstance(node, nodes.Not):
            inner = self.value(node.node)
            return lambda h, i, n: not inner(h, i, n)
        if isinstance(node, nodes.Compare) and len(node.ops) == 1 and node.ops[0].op in ("eq", "ne"):
            left, right = self.value(node.expr), self.value(node.ops[0].expr)
            if node.ops[0].op == "eq":
                return lambda h, i, n: left(h, i, n) == right(h, i, n)
            return lambda h, i, n: left(h, i, n) != right(h, i, n)
        if isinstance(node, nodes.Filter) and node.name == "format" and node.node is not None \
                and isinstance(node.node, nodes.Const) and isinstance(node.node.value, str) \
                and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None:
            pattern, args = node.node.value, [self.value(a) for a in node.args]
            return lambda h, i, n: pattern % tuple(a(h, i, n) for a in args)
        raise Unsupported(type(node).__name__)


def _text(value: Any) -> str:
    """A value as the XML environment prints it: finalized (None as a blank to fill in), escaped."""
    value = XML_ENV.finalize(value)  # type: ignore[misc]
    return str(value) if isinstance(value, Markup) else str(escape(value))


@dataclass
class Frame:
    """The loop's template rewritten: rendered once per document over the shapes."""

    template: Template
    items: str
    """The context's list the loop runs over."""
    slots: list[Value]
    tests: list[Value]


def _rewrite(body: Sequence[nodes.Node], compiler: _Compiler, slots: list[Value], tests: list[Value]) -> None:
    """Outputs and tests that read the loop's variable replaced by the shape's markers and flags."""
    for node in body:
        if isinstance(node, nodes.Output):
            for at, expr in enumerate(node.nodes):
                if compiler.depends(expr):
                    slots.append(compiler.value(expr))
                    node.nodes[at] = nodes.Getitem(nodes.Name(compiler.target, "load"),
                                                   nodes.Const(f"s{len(slots) - 1}"), "load")
        elif isinstance(node, nodes.If):
            if compiler.depends(node.test):
                tests.append(compiler.value(node.test))
                node.test = nodes.Getitem(nodes.Name(compiler.target, "load"), nodes.Const(f"t{len(tests) - 1}"),
                                          "load")
            _rewrite(node.body, compiler, slots, tests)
            _rewrite(node.elif_, compiler, slots, tests)
            _rewrite(node.else_, compiler, slots, tests)
        elif compiler.depends(node) or any(isinstance(n, nodes.Name) and n.ctx == "store"
                                           and n.name in (compiler.target, "loop")
                                           for n in node.find_all(nodes.Name)):
            raise Unsupported(type(node).__name__)


def compile_frame(source: str) -> Frame | None:
    """The template's one top-level loop over a context list, rewritten to render each shape once,
    or None when it has no such loop or uses its variable in a way substitution cannot follow."""
    tree = XML_ENV.parse(source)
    loops = [n for n in tree.body if isinstance(n, nodes.For)]
    if len(loops) != 1:
        return None
    loop = loops[0]
    if not (isinstance(loop.target, nodes.Name) and isinstance(loop.iter, nodes.Name)) or loop.else_ \
            or loop.test is not None or loop.recursive:
        return None
    compiler = _Compiler(loop.target.name)
    slots: list[Value] = []
    tests: list[Value] = []
    try:
        _rewrite(loop.body, compiler, slots, tests)
    except Unsupported:
        return None
    items = loop.iter.name
    if not slots:
        return None
    marker = nodes.Getitem(nodes.Name(loop.target.name, "load"), nodes.Const("m"), "load")
    end = nodes.Getitem(nodes.Name(loop.target.name, "load"), nodes.Const("e"), "load")
    loop.body = [nodes.Output([marker]), *loop.body, nodes.Output([end])]
    loop.iter = nodes.Name("gz_shapes_", "load")
    return Frame(XML_ENV.from_string(tree), items, slots, tests)


def shapes(frame: Frame, items: list[Any]) -> tuple[list[tuple[bool, ...]], list[int]]:
    """The distinct shapes in order of first appearance, and each item's shape."""
    n = len(items)
    index: dict[tuple[bool, ...], int] = {}
    of = []
    for i, h in enumerate(items):
        key = tuple(bool(t(h, i, n)) for t in frame.tests)
        of.append(index.setdefault(key, len(index)))
    return list(index), of


def frame_context(frame: Frame, context: dict[str, Any], keys: list[tuple[bool, ...]]) -> dict[str, Any]:
    """The context with the shapes to render in place of the list's items."""
    marks = [{"m": Markup(_MARK.format(s)), "e": Markup(_END),
              **{f"s{k}": Markup(_SLOT.format(k)) for k in range(len(frame.slots))},
              **{f"t{k}": flag for k, flag in enumerate(key)}} for s, key in enumerate(keys)]
    return {**context, "gz_shapes_": marks}


def split(rendered: str, count: int) -> tuple[str, list[tuple[list[str], list[int]]], str] | None:
    """The finished frame cut into the text before the forms, each shape's pieces and slots, and the
    text after; None when the markers are not where the frame put them."""
    found = list(_PIECES.finditer(rendered))
    if [int(m[1]) for m in found] != list(range(count)):
        return None
    head, tail = rendered[:found[0].start()], rendered[found[-1].end():]
    between = [rendered[a.end():b.start()] for a, b in zip(found, found[1:], strict=False)]
    if any(between) or _SPECIAL.search(head) or _SPECIAL.search(tail):
        return None
    bodies = []
    for m in found:
        parts = _SLOT_SPLIT.split(m[2])
        if _SPECIAL.search("".join(parts[0::2])):
            return None
        bodies.append((parts[0::2], [int(k) for k in parts[1::2]]))
    return head, bodies, tail


def fill(frame: Frame, bodies: list[tuple[list[str], list[int]]], items: list[Any],
         of: list[int]) -> list[bytes] | None:
    """Each item's form as UTF-8 text; None when a value holds a tab or line break (Jinja then
    renders the document, so the finishing passes see it as always)."""
    # The shapes' text is encoded once here, only the values per item: most of a form is fixed.
    encoded = [([t.encode("utf-8") for t in texts], order, sum(map(len, texts))) for texts, order in bodies]
    n = len(items)
    forms = []
    size = 0
    for i, h in enumerate(items):
        texts, order, fixed_size = encoded[of[i]]
        try:
            values = [_text(frame.slots[k](h, i, n)) for k in order]
        except (KeyError, TypeError, ValueError):
            return None  # Jinja renders it and says what is wrong, as it always has
        if any(_UNSAFE.search(v) for v in values):
            return None
        out = [texts[0]]
        for value, text in zip(values, texts[1:], strict=True):
            out += [value.encode("utf-8"), text]
        forms.append(b"".join(out))
        size += fixed_size + sum(map(len, values))  # characters, as render_bounded counts them
        if size > MAX_OUTPUT:
            raise RenderLimit(f"渲染结果超过{MAX_OUTPUT // 1024 // 1024}M个字符")
    return forms
