"""The papers of owners' votes: the 表决票 per household, the 签到及表决情况登记表, the 表决结果公示 and,
for an elevator, the cost-sharing table by floor. Each is one document per community holding
every vote of that community, in vote order; the rules computed every figure (rules/votes.py).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import ConsentRule, Project, share_text
from generator.data.roster import Household, household_address, mask_name, mask_room, unit_name
from generator.data.votes import Ballot, Vote
from generator.documents.project import project_context
from generator.documents.survey import Residents
from generator.render.wording import wording
from generator.rules.consent import BASE_NAMES, describe
from generator.rules.votes import Group, basis_words, count, elevator_shares


def votes_of(data: DataSet, community: str) -> list[str]:
    """The community's votes by id, in id order."""
    return sorted(v for v, vote in data.votes.items() if vote.community == community)


def _place(vote: Vote, h: Household, room: str) -> str:
    """The household's address within the vote's scope: 301 in a unit, 2单元301 in a building."""
    if vote.scope.unit is not None:
        return room
    if vote.scope.building is not None:
        return f"{unit_name(h.unit)}{room}"
    return household_address(h.building, h.unit, room)


def _person(vote: Vote, h: Household, ballot: Ballot | None, no: int, residents: Residents,
            say: Callable[..., str]) -> dict[str, Any]:
    masked = residents != "full"
    room = mask_room(h.room) if masked else h.room
    proxy = ballot.proxy if ballot is not None else None
    day = ballot.date if ballot is not None else None
    return {
        "no": no, "address": household_address(h.building, h.unit, room), "room": room, "place": _place(vote, h, room),
        "day": say("vote.day", month=day.month, day=day.day) if day else "",
        "head": mask_name(h.head) if masked else (h.head or ""),
        "area": h.area,
        "choice": ballot.choice if ballot is not None else say("vote.absent"),
        "signer": (ballot.signer or say("vote.owner")) if ballot is not None else "",
        "proxy": (mask_name(proxy) if masked else proxy) or "",
        "authority": (ballot.authority or "") if ballot is not None and not masked else "",
        "date": ballot.date if ballot is not None else None,
    }


def _group(g: Group) -> dict[str, Any]:
    def rate(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
        return Decimal(part) / Decimal(whole) if whole else None

    return {
        "name": g.name, "households": g.households, "voted": g.voted, "yes": g.yes, "no": g.no,
        "abstain": g.abstain, "absent": g.absent,
        "voted_rate": rate(g.voted, g.households), "yes_rate": rate(g.yes, g.voted),
        "yes_rate_all": rate(g.yes, g.households),
        "area": g.area, "area_voted": g.area_voted, "area_yes": g.area_yes, "area_no": g.area_no,
        "area_abstain": g.area_abstain, "area_absent": g.area - g.area_voted,
        "area_voted_rate": rate(g.area_voted, g.area), "area_yes_rate": rate(g.area_yes, g.area_voted),
        "area_yes_rate_all": rate(g.area_yes, g.area),
        "verdicts": {basis: {"participation": v.participation, "approval": v.approval, "reason": v.reason}
                     for basis, v in g.verdicts.items()},
    }


def _vote(data: DataSet, vote_id: str, residents: Residents) -> dict[str, Any]:
    vote: Vote = data.votes[vote_id]
    outcome = count(data, vote_id)
    rule = outcome.rule
    say = wording(data.root).say
    people = [_person(vote, h, b, no, residents, say) for no, (h, b) in enumerate(outcome.answers, start=1)]
    counted = outcome.passed is not None
    return {
        "id": vote_id, "matter": vote.matter, "kind": vote.kind, "kind_name": say(f"vote.kind.{vote.kind}"),
        "scope": vote.scope.name, "rule_name": vote.rule,
        "rule_text": rule_text(vote, rule) if rule else "",
        "basis": basis_words(rule) if rule else "",
        "participation": share_text(rule.participation) if rule and rule.participation is not None else None,
        "approval": share_text(rule.approval) if rule else None,
        "approval_of": BASE_NAMES[rule.approval_of] if rule else None,
        "more_than": rule.more_than if rule else False,
        "by_households": bool(rule and "households" in rule.by),
        "by_area": bool(rule and "area" in rule.by),
        "dates": vote.dates.model_dump(), "organizer": vote.organizer or "",
        "illustrative": vote.illustrative,
        "households": people,
        "returned": vote_id in data.ballots,
        "groups": [_group(g) for g in outcome.groups] if counted else [],
        "passed": outcome.passed, "reason": outcome.reason or "",
        "cost": vote.cost,
    }


def rule_text(vote: Vote, rule: ConsentRule) -> str:
    """The rule in one sentence for this vote: counted over its scope, or per building or unit of it."""
    text = describe(rule)
    if rule.scope == "community":
        return f"按{vote.scope.name}计票" + text.removeprefix("按小区计票")
    return text


def _context(data: DataSet, project: Project, residents: Residents) -> dict[str, Any]:
    context = project_context(data, project)
    context["votes"] = [_vote(data, v, residents) for v in votes_of(data, project.community)]
    context["illustrative"] = context.get("illustrative", False) or any(v["illustrative"]
                                                                      for v in context["votes"])
    return context


def ballot_context(data: DataSet, project: Project, residents: Residents = "full") -> dict[str, Any]:
    """The community's votes with every household of each, printed in full on its own ballot (masked
    in a copy for anyone but the street office)."""
    return _context(data, project, residents)


def register_context(data: DataSet, project: Project, residents: Residents = "full") -> dict[str, Any]:
    """The community's votes with every household's ballot, as the committee's record keeps them."""
    return _context(data, project, residents)


def result_context(data: DataSet, project: Project) -> dict[str, Any]:
    """The community's counted votes, households masked as on any posted paper."""
    context = _context(data, project, "masked")
    context["votes"] = [v for v in context["votes"] if v["returned"]]
    return context


def costs_context(data: DataSet, project: Project) -> dict[str, Any]:
    """The elevator votes with a cost, each household's share by floor (masked: the table is posted)."""
    context = project_context(data, project)
    rules = data.programme.votes.elevator if data.programme.votes else None
    tables = []
    for vote_id in votes_of(data, project.community):
        vote = data.votes[vote_id]
        if vote.kind != "elevator" or vote.cost is None:
            continue
        shares = elevator_shares(data, vote_id)
        if isinstance(shares, str):
            continue  # VOTE-COST names it; the table is made once it can be
        taker = next(s for s in shares if s.remainder or s is shares[-1])
        tables.append({
            "matter": vote.matter, "scope": vote.scope.name, "cost": vote.cost,
            "organizer": vote.organizer or "", "illustrative": vote.illustrative,
            "dates": vote.dates.model_dump(),
            "rows": [{"no": no, "place": _place(vote, s.household, mask_room(s.household.room)),
                      "head": mask_name(s.household.head), "floor": s.floor, "coefficient": s.coefficient,
                      "area": s.household.area, "weight": s.weight, "amount": s.amount,
                      "remainder": s.remainder}
                     for no, s in enumerate(shares, start=1)],
            "total": sum((s.amount for s in shares), Decimal(0)),
            "weight_total": sum((s.weight for s in shares), Decimal(0)),
            "remainder": taker.remainder,
            "remainder_place": _place(vote, taker.household, mask_room(taker.household.room)),
        })
    context["elevators"] = tables
    assert rules is not None or not tables
    context["coefficients"] = ([{"floor": f, "coefficient": k} for f, k in sorted(rules.coefficients.items())]
                               if rules else [])
    context["by_area"] = bool(rules and rules.by_area)
    context["remainder_to"] = rules.remainder_to if rules else "top"
    context["illustrative"] = context.get("illustrative", False) or any(t["illustrative"] for t in tables)
    return context


def needs_votes(data: DataSet, community: str) -> str | None:
    """Why the community has no vote papers yet, or None."""
    for vote_id in votes_of(data, community):
        if data.votes[vote_id].community in data.rosters:
            return None
    return "没有业主表决（votes/），或表决所在小区没有住户名册"


def needs_ballots(data: DataSet, community: str) -> str | None:
    """Why no vote of the community can be announced yet, or None."""
    if any(v in data.ballots and count(data, v).passed is not None for v in votes_of(data, community)):
        return None
    return "没有已收回并能计票的业主表决票（votes/表决编号.csv）"


def needs_elevator(data: DataSet, community: str) -> str | None:
    """Why the community has no elevator vote at all, or None."""
    if any(data.votes[v].kind == "elevator" for v in votes_of(data, community)):
        return None
    return "没有加装电梯的业主表决"


def needs_costs(data: DataSet, community: str) -> str | None:
    """Why the community has no elevator cost table, or None."""
    for vote_id in votes_of(data, community):
        vote = data.votes[vote_id]
        if vote.kind == "elevator" and vote.cost is not None and not isinstance(elevator_shares(data, vote_id), str):
            return None
    return "没有写明分摊金额（cost）且能按楼层分摊的加装电梯表决"
