"""What the papers say: figures that add up as printed, agree across papers, and cite only what existed."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from docx import Document

from generator.output.pipeline import Result

TOTAL_LABELS = ("合计", "总计")
_NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?%?$")


def _number(text: str) -> Decimal | None:
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    return Decimal(text.rstrip("%").replace(",", ""))


def _tables(path: Path) -> list[list[list[str]]]:
    """Each table of a Word file as rows of cell texts (a merged cell repeats, grid-aligned)."""
    return [[[c.text.strip() for c in row.cells] for row in t.rows] for t in Document(str(path)).tables]


def _sum_problems(name: str, rows: list[list[str]]) -> list[str]:
    """Where a printed 合计/总计 row or column is not the sum of the printed cells."""
    out: list[str] = []
    head = rows[0]
    totals = [i for i, r in enumerate(rows) if r[0] in TOTAL_LABELS]
    body = [r for i, r in enumerate(rows[1:], start=1) if i not in totals]
    for t in totals:
        for col, text in enumerate(rows[t]):
            total = _number(text)
            if total is None or "率" in head[col] or head[col] == "序号":
                continue
            cells = [_number(r[col]) for r in body]
            if any(v is None and r[col] not in ("—", "") for v, r in zip(cells, body, strict=True)):
                continue  # a text column
            got = sum((v or Decimal(0) for v in cells), Decimal(0))
            if got != total:
                out.append(f"{name}：“{head[col]}”列各行相加{got}，合计印{total}")
    if head[-1] in TOTAL_LABELS:
        for r in rows[1:]:
            values = [_number(x) for x in r[1:-1]]
            if _number(r[-1]) is None:
                continue
            got = sum((v for v in values[1:] if v is not None), Decimal(0))  # values[0]: the name
            if got != _number(r[-1]):
                out.append(f"{name}：“{r[1]}”行各列相加{got}，合计印{r[-1]}")
    return out


def _documents(*results: Result) -> list[Path]:
    return sorted(p for r in results for p in r.out.rglob("*.docx"))


def test_every_printed_total_is_the_sum_of_the_printed_cells(
        full_build: Result, reports_build: Result) -> None:
    problems: list[str] = []
    checked = 0
    for path in _documents(full_build, reports_build):
        for n, rows in enumerate(_tables(path), start=1):
            if any(r[0] in TOTAL_LABELS for r in rows) or rows[0][-1] in TOTAL_LABELS:
                checked += 1
                problems += _sum_problems(f"{path.name} 表{n}", rows)
    assert checked > 60
    assert problems == []
