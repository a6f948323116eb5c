"""The formula evaluator (render/formulas.py): each formula compiled once, evaluated per workbook as Excel does."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from generator.render import formulas as F

D = Decimal
GRID: F.Grid = {
    "表": {(1, 1): D(10), (2, 1): D(0), (3, 1): D("2.5"), (4, 1): "甲", (1, 2): D(3), (2, 2): D(4),
          (3, 2): D(5), (4, 2): None, (5, 1): "甲", (5, 2): D(7)},
    "其他 表": {(1, 1): D(100)},
}
DIV0 = F.XlError("#DIV/0!")


@pytest.mark.parametrize(("formula", "expected"), [
    ("=A1+B1*2", D(16)), ("=-A1/4", D("-2.5")), ("=+A1", D(10)), ("=A1/A2", DIV0), ("=IF(A2=0,0,A1/A2)", D(0)),
    ('=A1&"元"', "10元"), ("=A4&A3", "甲2.5"), ("=ROUND(A3*3.333,2)", D("8.33")),
    ("=SUM(A1:B3)", D("24.5")), ("=SUM(A1:A3,5)", D("17.5")), ('=SUMIF(A4:A5,"甲",B4:B5)', D(7)),
    ('=SUMIFS(B1:B5,A1:A5,">=2.5")', D(8)), ('=COUNTIFS(A1:A5,"<>甲")', D(3)), ("=COUNT(A1:B5)", D(7)),
    ("=SUMPRODUCT(A1:A3*B1:B3)", D("42.5")), ("=SUMPRODUCT((A1:A3>1)*B1:B3)", D(8)),
    ("=SUMPRODUCT(A1:A3/A2)", DIV0), ("=RANK(A3,A1:A3)", D(2)), ("=RANK(A3,A1:A3,1)", D(2)),
    ("=MOD(A1,3)", D(1)), ("=MOD(A1,A2)", DIV0), ("=INT(-A3)", D(-3)), ("=ABS(-A1)", D(10)),
    ("=MIN(A1,B1)", D(3)), ("=MAX(A1,B1)", D(10)), ('=TEXT(A1*1234.5,"#,##0.00")', "12,345.00"),
    ('=TEXT(B1/7,"0.0%")', "42.9%"), ("=A1>B1", True), ('=A4="甲"', True), ("=A4<>A5", False),
    ("='其他 表'!A1/A1", D(10)), ("=(A1+B1)*(A2-B2)", D(-52)), ("=50%*A1", D(5)), ("=IF(A4,1,2)", D(1)),
    ("=A1/A2+FOO(1)", DIV0),  # the error on the left is met before the unknown function
    (F.daxie_formula("A1*1010.07"), "壹万零壹佰元柒角"),
])
def test_a_formula_gives_what_excel_gives(formula: str, expected: F.Value) -> None:
    value = F._evaluate(F.Workbook(GRID, {}), "表", formula)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("formula", "message"), [
    ("=SUMPRODUCT(A1:A2*B1:B3)", "区域大小不同"), ("=A1:A3", "区域不能作为单个值"), ("=1+", "公式不完整"),
    ("=SUM(A1", "应为 )"), ("=FOO(A1)", "函数 FOO"), ("=1 2", "'2'"), ("=SUMPRODUCT(A1:A2,B1:B2)", "只支持一个参数"),
    ("=A4*2", "文本不能参与计算"),
])
def test_a_formula_outside_the_known_part_is_refused(formula: str, message: str) -> None:
    with pytest.raises(F.Unsupported, match=re.escape(message)):
        F._evaluate(F.Workbook(GRID, {}), "表", formula)


def test_a_formula_is_parsed_once_for_every_workbook() -> None:
    F._compiled.cache_clear()
    for top in (D(1), D(2), D(3)):
        book = F.Workbook({"表": {**GRID["表"], (1, 1): top}}, {"表": {(9, 9): "=A1*B1+SUM(A2:A3)"}})
        assert book.get("表", 9, 9) == top * 3 + D("2.5")
    info = F._compiled.cache_info()
    assert (info.misses, info.hits) == (1, 2)
