"""Consent rules as data: 90 % of households, 双过半, 民法典 第二百七十八条 per building."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.data.models import ConsentRule
from generator.data.roster import Household, Roster
from generator.errors import DataError
from generator.rules.checks import check_all, meets_support, survey_tally
from generator.rules.consent import describe, shortfall

BUNDLED = load(BUNDLED_DATA)
COMMUNITY = "dongqu-01"


Row = tuple[str, Any, str, Any]
"""One household: building, unit, floor area, answer."""


def with_rule(rule: dict[str, Any] | None, households: Sequence[Row]) -> DataSet:
    """The bundled data with a consent rule and a roster of (building, unit, area, answer)."""
    prog = BUNDLED.programme
    eligibility = prog.eligibility.model_copy(
        update={"consent": ConsentRule.model_validate(rule) if rule else None})
    people = tuple(Household(building=b, unit=u, room=str(100 + i), area=Decimal(a), answer=ans)
                   for i, (b, u, a, ans) in enumerate(households))
    roster = Roster(households=people, rows=tuple(range(3, 3 + len(people))))
    community = BUNDLED.communities[COMMUNITY].model_copy(update={"households": len(people)})
    return dataclasses.replace(
        BUNDLED, programme=prog.model_copy(update={"eligibility": eligibility}),
        rosters={**BUNDLED.rosters, COMMUNITY: roster},
        communities={**BUNDLED.communities, COMMUNITY: community})


def short(data: DataSet) -> str | None:
    project = data.projects[COMMUNITY]
    rule = data.programme.eligibility.consent
    assert rule is not None
    return shortfall(data, project, rule, survey_tally(data, project))  # type: ignore[arg-type]


DOUBLE_HALF = {"by": ["households", "area"], "approval": 50, "approval_of": "all", "more_than": True}
CIVIL_CODE = {"scope": "building", "by": ["households", "area"], "participation": "2/3",
              "approval": "3/4", "approval_of": "participants"}


def test_double_half_needs_more_than_half_of_the_owners_and_of_the_area() -> None:
    # 3 of 5 households agree, but they hold 150 of 350 ㎡: no majority of the area
    rows: list[Row] = [("1栋", None, "50", "同意")] * 3 + [("1栋", None, "100", "不同意")] * 2
    data = with_rule(DOUBLE_HALF, rows)
    assert short(data) == "同意的建筑面积占全部建筑面积的42.9%，未超过50%"
    assert not meets_support(data, data.projects[COMMUNITY])
    # exactly half is not more than half
    rows = [("1栋", None, "100", "同意")] * 2 + [("1栋", None, "100", "不同意")] * 2
    assert short(with_rule(DOUBLE_HALF, rows)) == "同意的户数占全部户数的50.0%，未超过50%"
    rows = [("1栋", None, "100", "同意")] * 3 + [("1栋", None, "100", None)] * 2
    assert short(with_rule(DOUBLE_HALF, rows)) is None


def test_the_civil_code_rule_counts_each_building_with_participation_and_approval() -> None:
    good: list[Row] = [("1栋", None, "90", "同意")] * 3 + [("1栋", None, "90", "不同意")]
    # 2栋: 2 of 4 take part: below 2/3, though both agree
    thin: list[Row] = [("2栋", None, "90", "同意")] * 2 + [("2栋", None, "90", "未表态")] * 2
    data = with_rule(CIVIL_CODE, good + thin)
    assert short(data) == "2栋：参与表决的户数占全部户数的50.0%，低于2/3"
    # 2栋: 3 of 4 take part, 2 of those 3 agree: 2/3 < 3/4
    split: list[Row] = [("2栋", None, "90", "同意")] * 2 + [("2栋", None, "90", "不同意"), ("2栋", None, "90", None)]
    assert short(with_rule(CIVIL_CODE, good + split)) == "2栋：同意的户数占参与表决户数的66.7%，低于3/4"
    fine: list[Row] = [("2栋", None, "90", "同意")] * 3 + [("2栋", None, "90", None)]
    assert short(with_rule(CIVIL_CODE, good + fine)) is None
    assert describe(ConsentRule.model_validate(CIVIL_CODE)) == (
        "按幢分别计票，参与表决的户数和建筑面积均不低于2/3，同意的户数和建筑面积均不低于参与表决户数和建筑面积的3/4")


def test_per_unit_and_area_missing_are_named() -> None:
    rule = {**CIVIL_CODE, "scope": "unit"}
    rows: list[Row] = [("1栋", "1", "90", "同意")] * 3 + [("1栋", "2", "90", "不同意")] * 3
    assert short(with_rule(rule, rows)) == "1栋2单元：同意的户数占参与表决户数的0.0%，低于3/4"
    data = with_rule(DOUBLE_HALF, [("1栋", None, "90", "同意")])
    roster = data.rosters[COMMUNITY]
    no_area = roster.model_copy(update={"households": (roster.households[0].model_copy(update={"area": None}),)})
    assert short(dataclasses.replace(data, rosters={**data.rosters, COMMUNITY: no_area})) == (
        "须按建筑面积计票，但住户名册未填全建筑面积")


def test_the_seeds_rule_is_unchanged_without_a_consent_section() -> None:
    assert BUNDLED.programme.eligibility.consent is None
    rows: list[Row] = [("1栋", None, "90", "同意")] * 9 + [("1栋", None, "90", "不同意")]
    assert meets_support(with_rule(None, rows), BUNDLED.projects[COMMUNITY])
    rows = [("1栋", None, "90", "同意")] * 8 + [("1栋", None, "90", "不同意")] * 2
    data = with_rule(None, rows)
    assert not meets_support(data, data.projects[COMMUNITY])
    assert any("居民支持率80.0%低于90%" in f.message for f in check_all(data)
               if f.rule == "ELIG-SUPPORT")


@pytest.mark.parametrize(("value", "problem"), [("2/0", "分数"), ("3/2", "分母"), (120, "不能超过100"),
                                               ("两成", "分数")])
def test_a_wrong_threshold_is_named_in_chinese_with_file_and_field(
        tmp_path: Path, value: Any, problem: str) -> None:
    import shutil

    root = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, root)
    text = (root / "programme.yaml").read_text(encoding="utf-8")
    written = f'"{value}"' if isinstance(value, str) else str(value)
    text = text.replace("  min_support_percent: 90\n", "  min_support_percent: 90\n  consent:\n"
                        f"    by: [households]\n    approval: {written}\n")
    (root / "programme.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as raised:
        load(root)
    message = str(raised.value)
    assert "programme.yaml" in message and "eligibility.consent.approval" in message, message
    assert problem in message, message
