"""Formulas compiled once (render/formulas.py) give what the parser gives, value for value and error for error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from generator.render import formulas as F

D = Decimal
GRID: F.Grid = {
    "表": {(1, 1): D(10), (2, 1): D(0), (3, 1): D("2.5"), (4, 1): "甲", (1, 2): D(3), (2, 2): D(4),
          (3, 2): D(5), (4, 2): None, (5, 1): "甲", (5, 2): D(7)},
    "其他 表": {(1, 1): D(100)},
}
FORMULAS = [
    "=A1+B1*2", "=-A1/4", "=+A1", "=A1/A2", "=IF(A2=0,0,A1/A2)", "=IF(A1/A2>1,1,2)", "=A1&\"元\"",
    "=A4&A3", "=ROUND(A3*3.333,2)", "=SUM(A1:B3)", "=SUM(A1:A3,5)", "=SUMIF(A4:A5,\"甲\",B4:B5)",
    "=SUMIFS(B1:B5,A1:A5,\">=2.5\")", "=COUNTIFS(A1:A5,\"<>甲\")", "=COUNT(A1:B5)", "=SUMPRODUCT(A1:A3*B1:B3)",
    "=SUMPRODUCT((A1:A3>1)*B1:B3)", "=SUMPRODUCT(A1:A2*B1:B3)", "=RANK(A3,A1:A3)", "=RANK(A3,A1:A3,1)",
    "=MOD(A1,3)", "=MOD(A1,A2)", "=INT(-A3)", "=ABS(-A1)", "=MIN(A1,B1)", "=MAX(A1,B1)",
    "=TEXT(A1*1234.5,\"#,##0.00\")", "=TEXT(B1/7,\"0.0%\")", "=A1>B1", "=A4=\"甲\"", "=A4<>A5",
    "='其他 表'!A1/A1", "=(A1+B1)*(A2-B2)", "=50%*A1", "=A1:A3", "=1+", "=SUM(A1", "=FOO(A1)",
    "=A1/A2+FOO(1)", "=1 2", "=SUMPRODUCT(A1:A2,B1:B2)", "=A1:A2+1", "=A4*2", "=IF(A4,1,2)",
    F.daxie_formula("A1*1010.07"),
]


def _outcome(fn):  # type: ignore[no-untyped-def]
    try:
        return "value", fn()
    except F._UNKNOWN as exc:
        return "error", type(exc), str(exc)


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_compiled_formula_gives_what_the_parser_gives(formula: str) -> None:
    parsed = _outcome(lambda: F._Parser(F.Workbook(GRID, {}), "表", formula).value())
    compiled = _outcome(lambda: F._evaluate(F.Workbook(GRID, {}), "表", formula))
    assert compiled == parsed


def test_a_formula_is_parsed_once_for_every_workbook() -> None:
    F._compiled.cache_clear()
    for top in (D(1), D(2), D(3)):
        book = F.Workbook({"表": {**GRID["表"], (1, 1): top}}, {"表": {(9, 9): "=A1*B1+SUM(A2:A3)"}})
        assert book.get("表", 9, 9) == top * 3 + D("2.5")
    info = F._compiled.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_a_formula_that_does_not_compile_is_left_to_the_parser() -> None:
    assert F._compiled("表", "=SUM(A1") is None
    assert F._compiled("表", "=1 2") is None
    # An error value met before the unknown part wins, as the parser evaluates as it goes.
    assert F._evaluate(F.Workbook(GRID, {}), "表", "=A1/A2+FOO(1)") == "#DIV/0!"
