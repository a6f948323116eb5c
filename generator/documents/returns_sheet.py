"""The monthly return's program-written rows: the city's totals as formulas over the districts' rows."""

from __future__ import annotations

from typing import Any

from generator.errors import TemplateError
from generator.render.blocks import Blocks, Formula, Row, Spans

STYLES = ("表外文字", "表头", "表内居中", "表内数字", "表内金额", "表内小数", "表内比例")
"""Named cell styles the return's template must have; a clerk restyles the totals by editing them."""

PROGRESS_SUMS = "CDEFGHIJKNOPQTU"
PROGRESS_RATES = {"L": ("J", "C"), "M": ("K", "D"), "R": ("P", "C"), "S": ("Q", "D"), "V": ("U", "G")}
"""进展情况: the columns summed over the districts, and each rate column's numerator and denominator."""
EFFECT_SUMS = "CDEFGHIJKLMNOPQ"

_STYLE_OF = {
    "progress": {**dict.fromkeys("FGTU", "表内金额"), **dict.fromkeys(PROGRESS_RATES, "表内比例")},
    "effects": {**dict.fromkeys("CDEFG", "表内小数"), "I": "表内金额", "P": "表内金额", "Q": "表内金额"},
}


def _span(context: dict[str, Any], spans: Spans) -> tuple[int, int]:
    if "districts" not in spans or not context.get("districts"):
        raise TemplateError("进展统计月报：全市合计行（{%tr progress_total %}、{%tr effects_total %}）之上须有 "
                            "{%tr for d in districts %} 行")
    return spans["districts"]


def _total(context: dict[str, Any], kind: str, sums: str, row: int, first: int, last: int) -> Row:
    spec: Row = {"kind": kind, "A": context["city_total"]["name"], "merge": ["A:B"], "bold": True}
    for letter in sums:
        spec[letter] = Formula(f"=SUM({letter}{first}:{letter}{last})")
    return spec


def progress_total(context: dict[str, Any], spans: Spans, row: int) -> list[Row]:
    """进展情况's city row: sums of the district rows, rates of those sums."""
    first, last = _span(context, spans)
    spec = _total(context, "progress", PROGRESS_SUMS, row, first, last)
    for letter, (num, den) in PROGRESS_RATES.items():
        spec[letter] = Formula(f"=IF({den}{row}=0,0,{num}{row}/{den}{row})")
    return [spec]


def effects_total(context: dict[str, Any], spans: Spans, row: int) -> list[Row]:
    """改造效果's city row: sums of the district rows."""
    first, last = _span(context, spans)
    return [_total(context, "effects", EFFECT_SUMS, row, first, last)]


def cell_style(letter: str, value: Any, row: Row) -> str:
    """The named style of a cell of a total row: by its sheet's column."""
    if letter in "AB":
        return "表内居中"
    return _STYLE_OF.get(row.get("kind", ""), {}).get(letter, "表内数字")


RETURN_BLOCKS = Blocks(rows={"progress_total": progress_total, "effects_total": effects_total},
                       styles=STYLES, cell_style=cell_style)
"""What the return plugs into the Excel renderer: the city rows and their styles."""
