"""Show rule findings as a table a clerk can read in a terminal."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from generator.data.loader import DataSet
from generator.rules.checks import RULES, Finding

SEVERITY = {"error": "错误", "warning": "警告"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _printable(text: str) -> str:
    """Control characters from the data (a line break in a name, an escape sequence that would
    clear the terminal) shown as a visible mark, so every finding stays on its own line."""
    return "".join("�" if unicodedata.category(ch) == "Cc" else ch for ch in text)


def render_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows of text, one a line, every column but the last aligned for CJK text."""
    rows = [[_printable(cell) for cell in row] for row in rows]
    last = len(header) - 1
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(last)]
    return "\n".join("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row[:last])) + "  " + row[last]
                     for row in [header, *rows])


def render_table(findings: list[Finding]) -> str:
    """Rule, severity, where and message, one finding a line, columns aligned for CJK text."""
    return render_rows(("规则", "级别", "位置", "说明"),
                       [(f.rule, SEVERITY[f.severity], f"{f.file} {f.where} {f.field}".strip(), f.message)
                        for f in findings])


def summary(data: DataSet, findings: list[Finding]) -> str:
    """One closing line: what was checked and how many errors and warnings."""
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    return (f"已按 {len(RULES)} 条规则检查 {len(data.communities)} 个小区、{len(data.projects)} 份项目资料："
            f"错误 {errors} 条，警告 {warnings} 条。")
