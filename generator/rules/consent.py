"""Whether the residents agreed, by the programme's consent rule (households and/or floor area,
per community, building or unit, a participation and an approval threshold)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from generator.data.loader import DataSet
from generator.data.models import ConsentRule, Project, share_fraction, share_text
from generator.data.roster import Tally, by_building, by_unit
from generator.render.wording import Wording, wording

SCOPE_NAMES = {"community": "小区", "building": "幢", "unit": "单元"}
BASIS_NAMES = {"households": "户数", "area": "建筑面积"}
BASE_NAMES = {"asked": "已征询", "participants": "参与表决", "all": "全部"}


def _reaches(part: Decimal, whole: Decimal, threshold: int | Decimal | str, more_than: bool) -> bool:
    """part / whole against the threshold, compared exactly (no division)."""
    top, bottom = share_fraction(threshold)
    return part * bottom > top * whole if more_than else part * bottom >= top * whole


def _percent(part: Decimal, whole: Decimal) -> str:
    if not whole:
        return "0%"
    return f"{(part * 100 / whole).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _groups(data: DataSet, project: Project, rule: ConsentRule, counted: Tally) -> list[Tally] | str:
    """The tallies the rule counts separately, or why they cannot be made."""
    if rule.scope == "community":
        return [counted]
    roster = data.rosters.get(project.community)
    if roster is None:
        return f"须按{SCOPE_NAMES[rule.scope]}计票，但没有住户名册"
    return by_building(roster) if rule.scope == "building" else by_unit(roster)


@dataclass(frozen=True, slots=True)
class Measure:
    """One group's count on one basis (户数 or 建筑面积), as a rule compares it."""

    basis: str
    """households or area."""
    whole: Decimal
    """Everyone of the group: its households, or their floor area."""
    voted: Decimal
    """Those who took part."""
    yes: Decimal
    asked: Decimal
    """Those asked (the survey's base for approval_of: asked)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A measure against a rule: whether each threshold is met, and why not."""

    participation: bool | None
    """None: the rule sets no participation threshold."""
    approval: bool
    base: Decimal
    """What approval is a share of."""
    reason: str | None


def judge(rule: ConsentRule, m: Measure, where: str = "") -> Verdict:
    """A measure against the rule's participation and approval thresholds, compared exactly."""
    word = BASIS_NAMES[m.basis]
    took_part = None
    if rule.participation is not None:
        took_part = _reaches(m.voted, m.whole, rule.participation, False)
    base = {"asked": m.asked, "participants": m.voted, "all": m.whole}[rule.approval_of]
    approved = bool(base) and _reaches(m.yes, base, rule.approval, rule.more_than)
    reason = None
    if took_part is False:
        assert rule.participation is not None
        reason = (f"{where}参与表决的{word}占全部{word}的{_percent(m.voted, m.whole)}，"
                  f"低于{share_text(rule.participation)}")
    elif not approved:
        words = "未超过" if rule.more_than else "低于"
        reason = (f"{where}同意的{word}占{BASE_NAMES[rule.approval_of]}{word}的{_percent(m.yes, base)}，"
                  f"{words}{share_text(rule.approval)}")
    return Verdict(took_part, approved, base, reason)


def shortfall(data: DataSet, project: Project, rule: ConsentRule, counted: Tally) -> str | None:
    """Why the counts miss the consent rule (the first group and basis that does), or None."""
    groups = _groups(data, project, rule, counted)
    if isinstance(groups, str):
        return groups
    households = data.communities[project.community].households
    for group in groups:
        where = "" if rule.scope == "community" else f"{group.name}："
        for basis in rule.by:
            if basis == "households":
                # the whole community counts its plan row's households, asked or not
                whole = Decimal(max(households, group.households) if rule.scope == "community"
                                else group.households)
                m = Measure(basis, whole, Decimal(group.support + group.oppose), Decimal(group.support),
                            Decimal(group.asked))
            else:
                if not group.has_area:
                    return f"{where}须按建筑面积计票，但住户名册未填全建筑面积"
                m = Measure(basis, group.area, group.area_support + group.area_oppose, group.area_support,
                            group.area)
            reason = judge(rule, m, where).reason
            if reason is not None:
                return reason
    return None


def describe(rule: ConsentRule, words: Wording | None = None) -> str:
    """The rule in one sentence, as a paper says it (the wording's ``consent.rule``)."""
    return (words or wording(None)).say(
        "consent.rule", scope=rule.scope, basis="和".join(BASIS_NAMES[b] for b in rule.by),
        participation=share_text(rule.participation) if rule.participation else "",
        approval=share_text(rule.approval), approval_of=BASE_NAMES[rule.approval_of],
        more_than=rule.more_than)
