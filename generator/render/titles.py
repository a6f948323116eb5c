"""Breaking a long 公文 title into balanced lines at word boundaries (GB/T 9704-2012, 7.3.1).

A title that does not fit one line is broken where the program chooses, never inside a word:
a name from the data (a community, a street office, a district) is one word, and the fixed
wording is cut into the words of a small 公文 vocabulary. Among the breaks that give the fewest
lines, the one whose lines differ least in length wins, so the title stands as a trapezoid or
a diamond rather than one full line over a stub.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

TITLE_CHARS = 20
"""Characters of 2号小标宋 (22 pt, condensed to the 28-character body pitch) on a 156 mm line."""
LINE_POINTS = 156 / 25.4 * 72
"""The type area's width in points (GB/T 9704: 156 mm)."""
CONDENSED = 0.5
"""Points every character is condensed by (the reference layout's character spacing, -10 twips)."""
MASTHEAD_POINTS = 26
"""The 发文机关标志's largest size: 一号."""

VOCABULARY = frozenset("""
关于 申请 实施 老旧小区 老旧 小区 改造 整治 提升 方案 公示 公告 通知 请示 报告 批复 意见 居民 征询 征询表
竣工 验收 验收表 工程 预算 资金 筹集 筹集表 试点 工作 年度 总结 汇总 综合 考评 考评表 实施计划 计划 计划表
项目 住户 登记 登记表 结果 情况 对 的 和 及 与 街道 社区 办事处 居民委员会 委员会 工作报告
加装电梯 加装 电梯 业主 签到 表决 表决票 满意度 调查 问卷 统计
""".split())
"""Words of fixed title wording; a run outside it and outside the data's names stays whole."""

_OPEN, _CLOSE = "（(《“", "）)》”"


def _names(values: Iterable[Any], depth: int = 0) -> Iterable[str]:
    """The short texts of a render context (names, titles of things): each is one word."""
    for value in values:
        if isinstance(value, str):
            if 1 < len(value) <= 40:
                yield value.strip()
        elif depth < 2 and isinstance(value, Mapping):
            yield from _names(value.values(), depth + 1)


def words(text: str, names: Iterable[str] = ()) -> list[str]:
    """Cut text into unbreakable words: data names first, then the vocabulary, longest first.

    Characters that belong to neither stay joined to the word before them, and a bracketed
    part (（汇总）, 《…》) is one word, so no break falls where no word boundary is known.
    """
    ordered = sorted({n for n in names if n and n in text}, key=len, reverse=True)
    out: list[str] = []
    known: list[bool] = []
    i = 0
    while i < len(text):
        if text[i] in _OPEN:
            end = min((text.find(c, i + 1) for c in _CLOSE if text.find(c, i + 1) > 0), default=-1)
            if end > 0:
                out.append(text[i:end + 1])
                known.append(True)
                i = end + 1
                continue
        hit = next((n for n in ordered if text.startswith(n, i)), None)
        if hit is None:
            hit = next((text[i:i + k] for k in range(6, 0, -1) if text[i:i + k] in VOCABULARY), None)
        if hit is not None:
            out.append(hit)
            known.append(True)
            i += len(hit)
            continue
        # An unknown character: glued to an unknown run before it (digits, a year, a name).
        if out and not known[-1]:
            out[-1] += text[i]
        else:
            out.append(text[i])
            known.append(False)
        i += 1
    # A closing punctuation mark never starts a line.
    merged: list[str] = []
    for word in out:
        if merged and word[0] in "，、。：；）》”":
            merged[-1] += word
        else:
            merged.append(word)
    return merged


AUTOSPACE = 0.25
"""Characters Word and LibreOffice add where a digit or Latin letter meets a CJK character (the
paragraph's autoSpaceDN/autoSpaceDE): "1栋2单元" is a character wider than its glyphs."""


def _width(text: str) -> float:
    """Width in characters: ASCII letters and digits take half a CJK character, and each place
    where they meet CJK text takes AUTOSPACE more."""
    width, before, prior = 0.0, None, ""
    for c in text:
        latin = ord(c) < 0x80
        width += 0.5 if latin else 1.0
        if before is not None and latin != before and c.isalnum() and prior.isalnum():
            width += AUTOSPACE
        before, prior = latin, c
    return width


def break_title(text: str, names: Iterable[str] = (), width: int = TITLE_CHARS) -> list[str]:
    """The title's lines: fewest lines within width, then the most balanced, breaking between words."""
    if _width(text) <= width:
        return [text]
    parts = words(text, names)
    sizes = [_width(part) for part in parts]  # a line's width is its words' widths added up
    best: tuple[int, float, list[str]] | None = None

    def split(start: int, lines: list[str], widths: list[float]) -> None:
        nonlocal best
        if start == len(parts):
            key = (len(lines), max(widths) - min(widths))
            if best is None or key < best[:2]:
                best = (*key, list(lines))
            return
        if best is not None and len(lines) >= best[0]:
            return
        line, size = "", 0.0
        for end in range(start, len(parts)):
            line += parts[end]
            size += sizes[end]
            if size > width and end > start:
                break
            split(end + 1, [*lines, line], [*widths, size])

    split(0, [], [])
    return best[2] if best else [text]


@lru_cache(maxsize=4096)
def _broken(text: str, names: tuple[str, ...]) -> tuple[str, ...]:
    # A community's household forms print the same title a thousand times: broken once.
    return tuple(break_title(text, names))


_last: tuple[Any, Any, int, frozenset[str]] = (None, None, 0, frozenset())
"""The names of the last context seen: the forms of one community share their context."""


def _context_names(context: Context) -> frozenset[str]:
    global _last
    parent, own, count, names = _last
    if parent is context.parent and own is context.vars and count == len(context.vars):
        return names
    names = frozenset(_names(context.get_all().values()))
    _last = (context.parent, context.vars, len(context.vars), names)
    return names


@pass_context
def title_lines(context: Context, text: str) -> str:
    """Template filter: the title with line breaks (\\n, a Word line break) at the chosen places."""
    markup = isinstance(text, Markup)
    plain = html.unescape(str(text)) if markup else str(text)
    names = _context_names(context)
    # A break the data already makes (sender over title) stays; each line is broken on its own.
    lines = [line for given in plain.split("\n")
             for line in _broken(given, tuple(sorted(n for n in names if n and n in given)))]
    if markup:
        return Markup("\n".join(str(escape(line)) for line in lines))
    return "\n".join(lines)


def masthead_points(text: str, largest: float = MASTHEAD_POINTS) -> float | None:
    """The size in whole points that keeps a 发文机关标志 on one line, or None when `largest` does."""
    width = _width(text)
    if not width or width * (largest - CONDENSED) <= LINE_POINTS:
        return None
    return float(int(LINE_POINTS / width + CONDENSED))


def masthead(text: str, largest: float = MASTHEAD_POINTS) -> Markup:
    """Template filter: the 发文机关标志 as a Word run ({{r doc.masthead|masthead }}), set smaller
    than its style where a long name would otherwise break over two lines (GB/T 9704-2012, 7.2.3:
    the masthead stands on one line; a long name takes a smaller size rather than a second line)."""
    plain = html.unescape(str(text)) if isinstance(text, Markup) else str(text)
    points = masthead_points(plain, largest)
    size = f'<w:rPr><w:sz w:val="{int(points * 2)}"/><w:szCs w:val="{int(points * 2)}"/></w:rPr>' if points else ""
    return Markup(f'<w:r>{size}<w:t xml:space="preserve">{escape(plain)}</w:t></w:r>')
