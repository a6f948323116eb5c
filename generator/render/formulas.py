"""Cached values for the formulas of a finished .xlsx, computed exactly, so previews show figures.

Phone, mail and WeChat previews do not calculate: they show the value stored beside each
formula. The program writes its workbooks' formulas (sums, splits, rates, scores, ranks) from a
small part of Excel's language; this module evaluates that part in Decimal arithmetic, rounding
as Excel does (half away from zero), and stores each result as the formula's cached value.
Excel, WPS and LibreOffice still recalculate on opening (fullCalcOnLoad).

Supported: numbers, text in double quotes, cell references and ranges (with $ and a sheet name),
+ - * / & and comparisons, and the functions SUM, SUMIF, SUMIFS, COUNT, COUNTIFS, IF, ROUND,
RANK, ABS, INT, MOD, MIN and MAX of single values, SUMPRODUCT of one expression over ranges of
one size, and TEXT with the 大写 format (daxie_formula). A formula outside that part raises
Unsupported: no value is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from generator.render.ziputil import deflate, fixed, read_members, write_zip

S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
CHART_PART = re.compile(r"^xl/charts/chart\d+\.xml$")
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
Value = Decimal | str | bool | None
"""A cell's value; an Excel error is an XlError (a str)."""
Grid = dict[str, dict[tuple[int, int], Value]]


class Unsupported(ValueError):
    """A formula this evaluator does not know."""


class XlError(str):
    """An Excel error value (#DIV/0!), which an IF may discard and anything else passes on."""


class _Failed(Exception):
    def __init__(self, error: XlError):
        self.error = error


# ---------------------------------------------------------------- tokens and references

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"]|"")*")
  | (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff.]*)!)?
            \$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?%?)
  | (?P<func>[A-Z][A-Z0-9.]*(?=\())
  | (?P<op><>|<=|>=|[-+*/&=<>(),^%])
""", re.VERBOSE)
_CELL = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


@lru_cache(maxsize=4096)
def _tokens(formula: str) -> tuple[tuple[str, str], ...]:
    out, pos = [], 0
    while pos < len(formula):
        m = _TOKEN.match(formula, pos)
        if m is None:
            raise Unsupported(formula)
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup or "", m.group()))
    return tuple(out)


class _Range:
    """A rectangle of cells on one sheet."""

    def __init__(self, sheet: str, r1: int, c1: int, r2: int, c2: int):
        self.sheet, self.r1, self.c1, self.r2, self.c2 = sheet, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)

    def cells(self) -> Iterator[tuple[str, int, int]]:
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                yield self.sheet, r, c


def _reference(text: str, sheet: str) -> _Range:
    """A1, $A$1:$B$9 or 'Sheet name'!A1:B9 as a range (on sheet when it names none)."""
    if "!" in text:
        name, text = text.rsplit("!", 1)
        sheet = name[1:-1].replace("''", "'") if name.startswith("'") else name
    ends = [(_col(m[1]), int(m[2])) for m in _CELL.finditer(text)]
    (c1, r1), (c2, r2) = ends[0], ends[-1]
    return _Range(sheet, r1, c1, r2, c2)


# ---------------------------------------------------------------- evaluation


class Workbook:
    """The cells of all sheets; formulas evaluated on demand, each once."""

    def __init__(self, values: Grid, formulas: dict[str, dict[tuple[int, int], str]]):
        self.values = values
        self.formulas = formulas
        self.done: dict[tuple[str, int, int], Value] = {}
        self.busy: set[tuple[str, int, int]] = set()

    def get(self, sheet: str, r: int, c: int) -> Value:
        key = (sheet, r, c)
        if key in self.done:
            return self.done[key]
        formula = self.formulas.get(sheet, {}).get((r, c))
        if formula is None:
            return self.values.get(sheet, {}).get((r, c))
        if key in self.busy:
            raise Unsupported(f"循环引用 {sheet}!{r},{c}")
        self.busy.add(key)
        value = _evaluate(self, sheet, formula)
        self.busy.discard(key)
        self.done[key] = value
        return value


def _num(v: Any) -> Decimal:
    if isinstance(v, XlError):
        raise _Failed(v)
    if isinstance(v, _Range):
        raise Unsupported("区域不能作为数值")
    if v is None or v == "":
        return Decimal(0)
    if isinstance(v, bool):
        return Decimal(int(v))
    if isinstance(v, Decimal):
        return v
    try:
        return Decimal(str(v))
    except InvalidOperation:
        raise Unsupported(f"文本不能参与计算：{v}") from None


def _round(x: Decimal, places: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _matches(value: Value, criterion: Value) -> bool:
    """Excel's criterion test of SUMIF/COUNTIFS: "<>text", ">=5", a number or a text."""
    if isinstance(criterion, str):
        m = re.match(r"^(<>|<=|>=|=|<|>)?(.*)$", criterion, re.S)
        op, target = (m.group(1) or "=", m.group(2)) if m else ("=", criterion)
        try:
            number: Decimal | None = Decimal(target)
        except InvalidOperation:
            number = None
        if number is not None and isinstance(value, Decimal):
            return {"=": value == number, "<>": value != number, "<": value < number,
                    ">": value > number, "<=": value <= number, ">=": value >= number}[op]
        text = "" if value is None else str(value)
        if op == "=":
            return text.lower() == target.lower()
        if op == "<>":
            return text.lower() != target.lower()
        return False
    if isinstance(criterion, Decimal):
        return isinstance(value, Decimal) and value == criterion
    return value == criterion


class _Eval:
    """One evaluation of a formula: the workbook it reads, and inside SUMPRODUCT the cell
    position its ranges stand for."""

    def __init__(self, book: Workbook, index: int | None = None):
        self.book = book
        self.index = index
        """Inside SUMPRODUCT: which cell of each range this evaluation stands for."""
        self.size: int | None = None

    def _scalar(self, v: Any) -> Value:
        if isinstance(v, _Range):
            if v.r1 == v.r2 and v.c1 == v.c2:
                return self.book.get(v.sheet, v.r1, v.c1)
            raise Unsupported("区域不能作为单个值")
        return v

    def _values(self, arg: Any) -> list[Value]:
        if isinstance(arg, _Range):
            return [self.book.get(*cell) for cell in arg.cells()]
        return [arg]

    def _indexed(self, found: _Range) -> _Range:
        """A range as it stands here: inside SUMPRODUCT, its index-th cell, row by row."""
        if self.index is None or (found.r1 == found.r2 and found.c1 == found.c2):
            return found
        cells = list(found.cells())
        if self.size is not None and len(cells) != self.size:
            raise Unsupported("SUMPRODUCT 中的区域大小不同")
        self.size = len(cells)
        sheet, r, c = cells[self.index]
        return _Range(sheet, r, c, r, c)


def _text(v: Value) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, Decimal):
        return _number_text(v)
    return v


def _number_text(v: Decimal) -> str:
    text = format(v.normalize(), "f") if v == v.to_integral_value() else format(v, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _sum(p: _Eval, args: list[Any]) -> Value:
    total = Decimal(0)
    for arg in args:
        if isinstance(arg, _Range):
            total += sum((v for v in p._values(arg) if isinstance(v, Decimal)), Decimal(0))
        else:
            total += _num(p._scalar(arg))
    return total


def _pairs(p: _Eval, args: list[Any]) -> list[bool]:
    """Which cells meet every (range, criterion) pair."""
    ok: list[bool] | None = None
    for rng, crit in zip(args[::2], args[1::2], strict=True):
        hits = [_matches(v, p._scalar(crit)) for v in p._values(rng)]
        ok = hits if ok is None else [a and b for a, b in zip(ok, hits, strict=True)]
    return ok or []


def _sumif(p: _Eval, args: list[Any]) -> Value:
    target = args[2] if len(args) == 3 else args[0]
    ok = _pairs(p, args[:2])
    return sum((v for v, hit in zip(p._values(target), ok, strict=True)
                if hit and isinstance(v, Decimal)), Decimal(0))


def _sumifs(p: _Eval, args: list[Any]) -> Value:
    ok = _pairs(p, args[1:])
    return sum((v for v, hit in zip(p._values(args[0]), ok, strict=True)
                if hit and isinstance(v, Decimal)), Decimal(0))


def _countifs(p: _Eval, args: list[Any]) -> Value:
    return Decimal(sum(_pairs(p, args)))


def _count(p: _Eval, args: list[Any]) -> Value:
    return Decimal(sum(1 for a in args for v in p._values(a) if isinstance(v, Decimal)))


def _if(p: _Eval, args: list[Any]) -> Value:
    test = p._scalar(args[0])
    truth = bool(_num(test)) if not isinstance(test, (bool, str)) else bool(test)
    if truth:
        return p._scalar(args[1]) if len(args) > 1 else True
    return p._scalar(args[2]) if len(args) > 2 else False


def _round_fn(p: _Eval, args: list[Any]) -> Value:
    return _round(_num(p._scalar(args[0])), int(_num(p._scalar(args[1]))))


def _rank(p: _Eval, args: list[Any]) -> Value:
    x = _num(p._scalar(args[0]))
    values = [v for v in p._values(args[1]) if isinstance(v, Decimal)]
    ascending = len(args) > 2 and _num(p._scalar(args[2])) != 0
    # Excel compares the doubles; scores here have at most a few decimals, so Decimal agrees.
    return Decimal(1 + sum(1 for v in values if (v < x if ascending else v > x)))


AMOUNT = "#,##0.00"
"""TEXT's format for an amount in a sentence: 6,852,000.00."""
PERCENT = "0.0%"
"""TEXT's format for a share in a sentence: 44.7%."""
SHARE = "0.00%"
"""TEXT's format for a share as a table prints it to the hundredth of a percent: 44.72%."""
DBNUM2 = "[DBNum2][$-804]0"
"""Excel's number format for an integer in 大写 digits (1010101 → 壹佰零壹万零壹佰零壹)."""


def _text_fn(p: _Eval, args: list[Any]) -> Value:
    fmt = p._scalar(args[1])
    if fmt in (AMOUNT, PERCENT, SHARE):
        n = _num(p._scalar(args[0]))
        n = n.copy_abs() if n.is_zero() else n  # Decimal keeps a sign on zero (-0.01 × 0); a sheet has none
        if fmt != AMOUNT:
            places = Decimal("0.1") if fmt == PERCENT else Decimal("0.01")
            return f"{(n * 100).quantize(places, rounding=ROUND_HALF_UP)}%"
        return f"{n.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    if fmt != DBNUM2:
        raise Unsupported(f"TEXT 格式 {fmt}")
    n = _num(p._scalar(args[0]))
    if n != n.to_integral_value() or n < 0:
        raise Unsupported("TEXT [DBNum2] 只用于非负整数")
    from generator.render.filters import daxie

    return "零" if n == 0 else daxie(n)[:-2]  # 壹拾元整 → 壹拾


def _mod(p: _Eval, args: list[Any]) -> Value:
    a, b = _num(p._scalar(args[0])), _num(p._scalar(args[1]))
    if b == 0:
        return XlError("#DIV/0!")
    return a - b * (a / b).to_integral_value(rounding=ROUND_FLOOR)


def daxie_formula(ref: str) -> str:
    """An Excel formula spelling the amount in ref in 大写 as filters.daxie does (元角分, 零, 整).

    Whole cents are counted first, so no floating-point remainder reaches a digit.
    """
    cents = f"ROUND(ABS({ref})*100,0)"
    yuan, jiao, fen = f"INT({cents}/100)", f"INT(MOD({cents},100)/10)", f"MOD({cents},10)"
    digits = f'"{DBNUM2}"'
    return (f'IF({cents}=0,"零元整",IF({ref}<0,"负","")'
            f'&IF({yuan}=0,"",TEXT({yuan},{digits})&"元")'
            f'&IF({jiao}=0,IF({fen}=0,"整",IF({yuan}=0,"","零")),TEXT({jiao},{digits})&"角")'
            f'&IF({fen}=0,"",TEXT({fen},{digits})&"分"))')


_FUNCTIONS: dict[str, Callable[[_Eval, list[Any]], Value]] = {
    "TEXT": _text_fn, "MOD": _mod,
    "SUM": _sum, "SUMIF": _sumif, "SUMIFS": _sumifs, "COUNTIFS": _countifs, "COUNT": _count,
    "IF": _if, "ROUND": _round_fn, "RANK": _rank,
    "ABS": lambda p, a: abs(_num(p._scalar(a[0]))),
    "INT": lambda p, a: _num(p._scalar(a[0])).to_integral_value(rounding=ROUND_FLOOR),
    "MIN": lambda p, a: min(_num(p._scalar(x)) for x in a),
    "MAX": lambda p, a: max(_num(p._scalar(x)) for x in a),
}


# ---------------------------------------------------------------- formulas compiled once

Compiled = Callable[[_Eval], Any]
"""A formula turned into a function of one evaluation: parsed once, evaluated per workbook."""


class _Compiler:
    """Recursive descent over one formula, building a function of the workbook instead of a value,
    so a formula a template repeats in every workbook is read once. Operands are evaluated left to
    right, and an error value met on the left stops the evaluation before the right."""

    def __init__(self, sheet: str, tokens: tuple[tuple[str, str], ...]):
        self.sheet, self.tokens, self.pos = sheet, tokens, 0

    def _peek(self) -> str:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else ""

    def _take(self, text: str) -> None:
        if self._peek() != text:
            raise Unsupported(f"应为 {text}")
        self.pos += 1

    def whole(self) -> Compiled:
        body = self.compare()
        if self.pos != len(self.tokens):
            raise Unsupported(str(self.tokens[self.pos:]))
        return body

    def compare(self) -> Compiled:
        left = self.concat()
        while self._peek() in _COMPARE:
            test = _COMPARE[self._peek()]
            self.pos += 1
            left = _compared(left, self.concat(), test)
        return left

    def concat(self) -> Compiled:
        left = self.additive()
        while self._peek() == "&":
            self.pos += 1
            left = _joined(left, self.additive())
        return left

    def additive(self) -> Compiled:
        return self._arithmetic(self.term, {"+": _add, "-": _sub})

    def term(self) -> Compiled:
        return self._arithmetic(self.unary, {"*": _mul, "/": _div})

    def _arithmetic(self, operand: Callable[[], Compiled],
                    ops: dict[str, Callable[[Decimal, Decimal], Value]]) -> Compiled:
        """Operands joined left to right by the operators of one precedence."""
        left = operand()
        while self._peek() in ops:
            op = ops[self._peek()]
            self.pos += 1
            left = _arith(left, operand(), op)
        return left

    def unary(self) -> Compiled:
        if self._peek() == "-":
            self.pos += 1
            inner = self.unary()
            return lambda ev: -_num(ev._scalar(inner(ev)))
        if self._peek() == "+":
            self.pos += 1
            return self.unary()
        return self.primary()

    def primary(self) -> Compiled:
        if self.pos >= len(self.tokens):
            raise Unsupported("公式不完整")
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind in ("num", "str"):
            constant = (Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)) if kind == "num" \
                else text[1:-1].replace('""', '"')
            return lambda ev: constant
        if kind == "ref":
            found = _reference(text, self.sheet)
            return lambda ev: found if ev.index is None else ev._indexed(found)
        if kind == "func" and text == "SUMPRODUCT":
            self._take("(")
            inner = self.compare()
            if self._peek() == ",":
                raise Unsupported("SUMPRODUCT 只支持一个参数（写成区域的乘积）")
            self._take(")")
            return lambda ev: _sumproduct(ev, inner)
        if kind == "func":
            self._take("(")
            args: list[Compiled] = []
            if self._peek() != ")":
                args.append(self.compare())
                while self._peek() == ",":
                    self.pos += 1
                    args.append(self.compare())
            self._take(")")
            return _called(text, tuple(args))
        if text == "(":
            inner = self.compare()
            self._take(")")
            return inner
        raise Unsupported(text)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda x, y: x == y, "<>": lambda x, y: x != y, "<": lambda x, y: x < y,
    ">": lambda x, y: x > y, "<=": lambda x, y: x <= y, ">=": lambda x, y: x >= y,
}


def _compared(left: Compiled, right: Compiled, test: Callable[[Any, Any], bool]) -> Compiled:
    def run(ev: _Eval) -> bool:
        a = ev._scalar(left(ev))
        b = ev._scalar(right(ev))
        if isinstance(a, str) or isinstance(b, str):
            return test(str(a or ""), str(b or ""))
        return test(_num(a), _num(b))
    return run


def _joined(left: Compiled, right: Compiled) -> Compiled:
    def run(ev: _Eval) -> str:
        first = left(ev)
        second = ev._scalar(right(ev))
        return _text(ev._scalar(first)) + _text(second)
    return run


def _add(a: Decimal, b: Decimal) -> Value:
    return a + b


def _sub(a: Decimal, b: Decimal) -> Value:
    return a - b


def _mul(a: Decimal, b: Decimal) -> Value:
    return a * b


def _div(a: Decimal, b: Decimal) -> Value:
    return a / b if b != 0 else XlError("#DIV/0!")


def _arith(left: Compiled, right: Compiled, op: Callable[[Decimal, Decimal], Value]) -> Compiled:
    def run(ev: _Eval) -> Value:
        a = _num(ev._scalar(left(ev)))
        return op(a, _num(ev._scalar(right(ev))))
    return run


def _called(name: str, args: tuple[Compiled, ...]) -> Compiled:
    def run(ev: _Eval) -> Value:
        values = [arg(ev) for arg in args]
        fn = _FUNCTIONS.get(name)
        if fn is None:
            raise Unsupported(f"函数 {name}")
        return fn(ev, values)
    return run


def _sumproduct(ev: _Eval, inner: Compiled) -> Decimal:
    """SUMPRODUCT as the parser evaluates it: the expression once per cell position."""
    total, index, size = Decimal(0), 0, 1
    while index < size:
        part = _Eval(ev.book, index)
        try:
            value = part._scalar(inner(part))
        except _Failed as failed:
            value = failed.error
        if isinstance(value, XlError):
            raise _Failed(value)
        total += _num(value)
        size = part.size or 1
        index += 1
    return total


@lru_cache(maxsize=8192)
def _compiled(sheet: str, formula: str) -> Compiled:
    """The formula compiled (Unsupported where it is not in the part of Excel's language known here)."""
    return _Compiler(sheet, _tokens(formula.lstrip("="))).whole()


def _evaluate(book: Workbook, sheet: str, formula: str) -> Value:
    """A formula's value in book."""
    ev = _Eval(book)
    try:
        v = _compiled(sheet, formula)(ev)
    except _Failed as failed:
        return failed.error
    return ev._scalar(v)


# ---------------------------------------------------------------- the .xlsx file


def _q(tag: str) -> str:
    return f"{{{S}}}{tag}"


_C_TAG, _F_TAG, _V_TAG, _T_TAG = _q("c"), _q("f"), _q("v"), _q("t")


@lru_cache(maxsize=16384)
def _ref_xy(ref: str) -> tuple[int, int]:
    m = _CELL.match(ref)
    assert m is not None, ref
    return int(m[2]), _col(m[1])


def _format(value: Value) -> tuple[str, str]:
    """The cell type attribute and the <v> text of a cached value."""
    if isinstance(value, XlError):
        return "e", str(value)
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, Decimal):
        # Excel stores a double: 17 significant digits are more than it keeps.
        return "", _number_text(Decimal(format(float(value), ".17g")) if value != _round(value, 10)
                                else value)
    return "str", escape(value or "")


def with_cached_values(xlsx: bytes, values_too: bool = True) -> bytes:
    """The workbook with every formula's value stored beside it, and a print area on every sheet.

    Raises Unsupported if a formula is unknown; values_too=False sets the print areas only.
    """
    finished = cached_parts(read_members(xlsx), values_too)
    return write_zip([deflate(name, fixed(name, blob)) for name, blob in finished])


def cached_parts(members: list[tuple[str, bytes]], values_too: bool = True) -> list[tuple[str, bytes]]:
    """with_cached_values over a workbook's parts, in order; a part it leaves alone is returned as
    the same object, so a caller may reuse what it made of it (a template's part deflated once)."""
    parts = dict(members)
    shared: list[str] = []
    if "xl/sharedStrings.xml" in parts:
        for si in etree.fromstring(parts["xl/sharedStrings.xml"]).iter(_q("si")):
            shared.append("".join(t.text or "" for t in si.iter(_q("t"))))
    book = etree.fromstring(parts["xl/workbook.xml"])
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    sheets: dict[str, tuple[str, etree._Element]] = {}
    for sheet in book.iter(_q("sheet")):
        target = targets[sheet.get(f"{{{R}}}id")].lstrip("/")
        name = target if target.startswith("xl/") else f"xl/{target}"
        sheets[sheet.get("name", "")] = (name, etree.fromstring(parts[name]))
    values: Grid = {}
    formulas: dict[str, dict[tuple[int, int], str]] = {}
    cells: list[tuple[str, etree._Element]] = []
    for title, (_, root) in sheets.items():
        grid, found = values.setdefault(title, {}), formulas.setdefault(title, {})
        for c in root.iter(_C_TAG):
            xy = _ref_xy(c.get("r", ""))
            f = c.find(_F_TAG)
            if f is not None and f.text:
                found[xy] = f.text
                cells.append((title, c))
                continue
            kind, v = c.get("t"), c.findtext(_V_TAG)
            if kind == "s" and v is not None:
                grid[xy] = shared[int(v)]
            elif kind == "inlineStr":
                grid[xy] = "".join(t.text or "" for t in c.iter(_T_TAG))
            elif kind in ("str", "e"):
                grid[xy] = v
            elif kind == "b":
                grid[xy] = v == "1"
            elif v:
                grid[xy] = Decimal(v)
    _print_areas(book, sheets)
    parts["xl/workbook.xml"] = etree.tostring(book, xml_declaration=True, encoding="UTF-8",
                                              standalone=True)
    evaluator = Workbook(values, formulas)
    for title, c in cells if values_too else ():
        kind, text = _format(evaluator.get(title, *_ref_xy(c.get("r", ""))))
        v = c.find(_V_TAG)
        if v is None:
            v = etree.SubElement(c, _V_TAG)
        v.text = text if kind != "str" else None
        if kind == "str":
            v.text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        if kind:
            c.set("t", kind)
        elif "t" in c.attrib:
            del c.attrib["t"]
    for name, root in sheets.values():
        parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    for name in parts if values_too else ():
        if CHART_PART.match(name):
            root = etree.fromstring(parts[name])
            _chart_caches(root, evaluator)
            parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return [(name, parts[name]) for name, _ in members]


def _chart_caches(chart: etree._Element, book: Workbook) -> None:
    """Each chart series' points stored beside its cell references, as a formula's value is:
    previews draw the chart from them. A text or empty cell in a number series is no point."""
    for kind, cache_tag in (("numRef", "numCache"), ("strRef", "strCache")):
        for ref in chart.iter(f"{{{C}}}{kind}"):
            for old in ref.findall(f"{{{C}}}{cache_tag}"):
                ref.remove(old)
            cells = list(_reference(ref.findtext(f"{{{C}}}f") or "", "").cells())
            cache = etree.Element(f"{{{C}}}{cache_tag}")
            ref.find(f"{{{C}}}f").addnext(cache)
            if kind == "numRef":
                etree.SubElement(cache, f"{{{C}}}formatCode").text = "General"
            etree.SubElement(cache, f"{{{C}}}ptCount", val=str(len(cells)))
            for index, cell in enumerate(cells):
                value = book.get(*cell)
                if kind == "numRef" and not (isinstance(value, Decimal) and not isinstance(value, bool)):
                    continue
                text = _format(value)[1] if kind == "numRef" else _text(value)
                point = etree.SubElement(cache, f"{{{C}}}pt", idx=str(index))
                etree.SubElement(point, f"{{{C}}}v").text = text


_UNKNOWN = (Unsupported, InvalidOperation, KeyError, IndexError)
"""What a formula the evaluator does not know raises."""


def cached(xlsx: bytes) -> bytes:
    """with_cached_values where every formula is known; otherwise print areas only.

    A clerk's own template may use any Excel function: those workbooks keep empty caches, and
    Excel, WPS and LibreOffice compute them on opening as before.
    """
    try:
        return with_cached_values(xlsx)
    except _UNKNOWN:
        return with_cached_values(xlsx, values_too=False)


def cached_or_areas(members: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """cached over a workbook's parts (see cached_parts)."""
    try:
        return cached_parts(members)
    except _UNKNOWN:
        return cached_parts(members, values_too=False)



def _print_areas(book: etree._Element, sheets: dict[str, tuple[str, etree._Element]]) -> None:
    """A print area over each sheet's used rows: one where the sheet has none, and a template's
    whole-column area (e.g. A:K) cut at the last used row, so nothing outside prints."""
    names = book.find(_q("definedNames"))
    if names is None:
        names = etree.Element(_q("definedNames"))
        book.find(_q("sheets")).addnext(names)
    have = {n.get("localSheetId"): n for n in names if n.get("name") == "_xlnm.Print_Area"}
    for index, (title, (_, root)) in enumerate(sheets.items()):
        dimension = root.find(_q("dimension"))
        ref = dimension.get("ref", "") if dimension is not None else ""
        if ":" not in ref:
            continue
        first, last = (_CELL.match(end) for end in ref.split(":"))
        if first is None or last is None:
            continue
        area = have.get(str(index))
        if area is not None:
            if (area.text or "").endswith("$1048576"):
                area.text = (area.text or "")[:-len("1048576")] + last[2]
            continue
        area = etree.SubElement(names, _q("definedName"), name="_xlnm.Print_Area",
                                localSheetId=str(index))
        quoted = title.replace("'", "''")
        area.text = f"'{quoted}'!${first[1]}${first[2]}:${last[1]}${last[2]}"
