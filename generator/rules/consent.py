"""Whether the residents agreed, by the programme's consent rule (households and/or floor area,
per community, building or unit, a participation and an approval threshold)."""

from __future__ import annotations

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


def shortfall(data: DataSet, project: Project, rule: ConsentRule, counted: Tally) -> str | None:
    """Why the counts miss the consent rule (the first group and basis that does), or None."""
    groups = _groups(data, project, rule, counted)
    if isinstance(groups, str):
        return groups
    households = data.communities[project.community].households
    for group in groups:
        where = "" if rule.scope == "community" else f"{group.name}："
        for basis in rule.by:
            word = BASIS_NAMES[basis]
            if basis == "households":
                # the whole community counts its plan row's households, asked or not
                whole = Decimal(max(households, group.households) if rule.scope == "community"
                                else group.households)
                voted = Decimal(group.support + group.oppose)
                yes, asked = Decimal(group.support), Decimal(group.asked)
            else:
                if not group.has_area:
                    return f"{where}须按建筑面积计票，但住户名册未填全建筑面积"
                whole = asked = group.area
                voted, yes = group.area_support + group.area_oppose, group.area_support
            if rule.participation is not None and not _reaches(voted, whole, rule.participation, False):
                return (f"{where}参与表决的{word}占全部{word}的{_percent(voted, whole)}，"
                        f"低于{share_text(rule.participation)}")
            base = {"asked": asked, "participants": voted, "all": whole}[rule.approval_of]
            if not base or not _reaches(yes, base, rule.approval, rule.more_than):
                words = "未超过" if rule.more_than else "低于"
                return (f"{where}同意的{word}占{BASE_NAMES[rule.approval_of]}{word}的{_percent(yes, base)}，"
                        f"{words}{share_text(rule.approval)}")
    return None


def describe(rule: ConsentRule, words: Wording | None = None) -> str:
    """The rule in one sentence, as a paper says it (the wording's ``consent.rule``)."""
    return (words or wording(None)).say(
        "consent.rule", scope=rule.scope, basis="和".join(BASIS_NAMES[b] for b in rule.by),
        participation=share_text(rule.participation) if rule.participation else "",
        approval=share_text(rule.approval), approval_of=BASE_NAMES[rule.approval_of],
        more_than=rule.more_than)
