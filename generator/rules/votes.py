"""Owners' votes counted against the programme's named rules, what is wrong in a vote's data, and
how an added elevator's cost is shared by floor.

The thresholds are the consent rule's (rules/consent.py: judge), compared as exact fractions:
exactly 2/3 of the area reaches 2/3. 弃权 takes part without agreeing; 未参加 (or no ballot) does
not take part.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from generator.data.loader import DataSet
from generator.data.models import ConsentRule, ElevatorShares
from generator.data.roster import Household, household_address, unit_name
from generator.data.votes import CHOICES, SIGNERS, Ballot, Vote, electorate, household_key
from generator.rules.consent import BASIS_NAMES, Measure, Verdict, judge

FEN = Decimal("0.01")


@dataclass
class Group:
    """One group's count: the vote's whole scope, or one building or unit of it."""

    name: str
    households: int = 0
    yes: int = 0
    no: int = 0
    abstain: int = 0
    area: Decimal = Decimal(0)
    area_yes: Decimal = Decimal(0)
    area_no: Decimal = Decimal(0)
    area_abstain: Decimal = Decimal(0)
    area_missing: int = 0
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    """By basis (households, area)."""

    @property
    def voted(self) -> int:
        return self.yes + self.no + self.abstain

    @property
    def absent(self) -> int:
        return self.households - self.voted

    @property
    def area_voted(self) -> Decimal:
        return self.area_yes + self.area_no + self.area_abstain

    def measure(self, basis: str) -> Measure:
        """The group's count on one basis, as the consent rule compares it."""
        if basis == "households":
            return Measure(basis, Decimal(self.households), Decimal(self.voted), Decimal(self.yes),
                           Decimal(self.voted))
        return Measure(basis, self.area, self.area_voted, self.area_yes, self.area_voted)


@dataclass
class Outcome:
    """A vote counted: each group's figures and verdicts, and whether the matter passed."""

    vote_id: str
    vote: Vote
    rule: ConsentRule | None
    groups: list[Group]
    passed: bool | None
    """None: it cannot be counted (no rule, no roster, areas missing)."""
    reason: str | None
    """Why it failed or cannot be counted; None when it passed."""
    answers: list[tuple[Household, Ballot | None]]
    """Every household of the scope with its ballot (None: 未参加), in roster order."""


def answers(data: DataSet, vote_id: str) -> list[tuple[Household, Ballot | None]]:
    """Each household of the vote's scope and its (first) ballot."""
    vote = data.votes[vote_id]
    roster = data.rosters.get(vote.community)
    if roster is None:
        return []
    ballots: dict[tuple[str, str, str], Ballot] = {}
    held = data.ballots.get(vote_id)
    for b in held.ballots if held else ():
        ballots.setdefault(b.key, b)
    return [(h, ballots.get(household_key(h))) for h in electorate(vote, roster)]


def _add(group: Group, h: Household, ballot: Ballot | None) -> None:
    group.households += 1
    choice = ballot.choice if ballot is not None else "未参加"
    if h.area is None:
        group.area_missing += 1
    area = h.area or Decimal(0)
    group.area += area
    if choice == "同意":
        group.yes += 1
        group.area_yes += area
    elif choice == "不同意":
        group.no += 1
        group.area_no += area
    elif choice == "弃权":
        group.abstain += 1
        group.area_abstain += area


def count(data: DataSet, vote_id: str) -> Outcome:
    """The vote counted by its rule, per community, building or unit as the rule says."""
    vote = data.votes[vote_id]
    rules = data.programme.votes.rules if data.programme.votes else {}
    rule = rules.get(vote.rule)
    pairs = answers(data, vote_id)
    households = [h for h, _ in pairs]
    # one group for the scope, or one per building or unit of it, in roster order
    split = rule.scope if rule is not None else "community"
    names = {id(h): vote.scope.name if split == "community" else _group_name(h, split) for h in households}
    groups: dict[str, Group] = {}
    for h, ballot in pairs:
        name = names[id(h)]
        _add(groups.setdefault(name, Group(name)), h, ballot)
    found = list(groups.values())
    if rule is None:
        return Outcome(vote_id, vote, None, found, None, f"表决规则“{vote.rule}”不在 programme.yaml 的 votes.rules 中",
                       pairs)
    if not pairs:
        return Outcome(vote_id, vote, rule, found, None, "表决范围内没有住户名册中的住户", pairs)
    reason = None
    passed = True
    for g in found:
        where = "" if len(found) == 1 else f"{g.name}："
        for basis in rule.by:
            if basis == "area" and g.area_missing:
                return Outcome(vote_id, vote, rule, found, None,
                               f"{where}按建筑面积计票，但有{g.area_missing}户住户名册未填建筑面积", pairs)
            verdict = judge(rule, g.measure(basis), where)
            g.verdicts[basis] = verdict
            if verdict.reason is not None and passed:
                passed, reason = False, verdict.reason
    return Outcome(vote_id, vote, rule, found, passed, reason, pairs)


def _group_name(h: Household, scope: str) -> str:
    return h.building if scope == "building" else h.building + unit_name(h.unit)


# ---------------------------------------------------------------- what is wrong in a vote


Issue = tuple[str, int | None, str, str]
"""A vote problem: its rule id, its ballot row (None: the vote file), the column and the message."""


def issues(data: DataSet, vote_id: str) -> Iterator[Issue]:
    """What is wrong in a vote and its ballots, by rule id."""
    vote = data.votes[vote_id]
    rules = data.programme.votes.rules if data.programme.votes else {}
    rule = rules.get(vote.rule)
    if rule is None:
        named = "、".join(rules) or "（programme.yaml 未写 votes.rules）"
        yield "VOTE-RULE", None, "rule（表决规则）", f"“{vote.rule}”不是 programme.yaml 中的表决规则；可用：{named}"
    if vote.dates.end < vote.dates.start:
        yield "VOTE-RULE", None, "dates.end（表决截止日期）", "早于表决开始日期"
    if vote.scope.unit is not None and vote.scope.building is None:
        yield "VOTE-SCOPE", None, "scope.unit（单元）", "写了单元就须写楼栋"
    if vote.kind == "elevator":
        if vote.scope.building is None:
            yield "VOTE-SCOPE", None, "scope（表决范围）", "加装电梯须按幢或单元表决，请写明楼栋（和单元）"
        if vote.cost is not None and (data.programme.votes is None or data.programme.votes.elevator is None):
            yield "VOTE-COST", None, "cost（分摊金额）", "programme.yaml 未写 votes.elevator（各楼层分摊系数）"
    roster = data.rosters.get(vote.community)
    if roster is None:
        yield "VOTE-SCOPE", None, "community（小区编号）", "该小区没有住户名册（rosters/），无法确定表决户"
        return
    voters = electorate(vote, roster)
    if not voters:
        yield "VOTE-SCOPE", None, "scope（表决范围）", f"住户名册中没有{vote.scope.name}的住户"
        return
    if vote.totals is not None:
        counted = len(voters)
        area = sum((h.area for h in voters if h.area is not None), Decimal(0))
        if vote.totals.households is not None and vote.totals.households != counted:
            yield ("VOTE-TOTALS", None, "totals.households（户数）",
                   f"写为{vote.totals.households}户，住户名册中{vote.scope.name}为{counted}户")
        if vote.totals.area is not None and vote.totals.area != area:
            yield ("VOTE-TOTALS", None, "totals.area（建筑面积）",
                   f"写为{vote.totals.area}㎡，住户名册中{vote.scope.name}合计{area}㎡")
    if rule is not None and "area" in rule.by:
        missing = [h.address for h in voters if h.area is None]
        if missing:
            shown = "、".join(missing[:5]) + (f"等{len(missing)}户" if len(missing) > 5 else "")
            yield "VOTE-AREA", None, "建筑面积", f"规则“{vote.rule}”按建筑面积计票，住户名册中{shown}未填建筑面积"
    if vote.kind == "elevator" and vote.cost is not None:
        for h in voters:
            if floor_of(h.room) is None:
                yield "VOTE-COST", None, "房号", f"{h.address}：无法从房号判断楼层（应如 301、1203）"
    held = data.ballots.get(vote_id)
    if held is None:
        return
    everyone = {household_key(h) for h in roster.households}
    scope = {household_key(h) for h in voters}
    first: dict[tuple[str, str, str], int] = {}
    for b, row in zip(held.ballots, held.rows, strict=True):
        address = household_address(b.building, b.unit, b.room)
        if b.choice not in CHOICES:
            yield "VOTE-CHOICE", row, "表决意见", f"“{b.choice}”不是可选的意见，只能是：{'、'.join(CHOICES)}"
        if b.signer is not None and b.signer not in SIGNERS:
            yield "VOTE-PROXY", row, "签署人", f"“{b.signer}”只能是：{'、'.join(SIGNERS)}"
        if b.by_proxy and (b.proxy is None or b.authority is None):
            lack = "、".join(w for w, v in (("代理人姓名", b.proxy), ("授权委托书", b.authority)) if v is None)
            yield "VOTE-PROXY", row, "签署人", f"{address}由代理人签署，但没有记录{lack}"
        if b.key not in everyone:
            yield "VOTE-TOTALS", row, "房号", f"{address}不在住户名册中"
        elif b.key not in scope:
            yield "VOTE-SCOPE", row, "房号", f"{address}不在表决范围（{vote.scope.name}）内"
        if b.key in first:
            yield "VOTE-TWICE", row, "房号", f"{address}投了两次票（另见第{first[b.key]}行）"
        else:
            first[b.key] = row


# ---------------------------------------------------------------- elevator cost by floor


_ROOM = re.compile(r"^(\d{1,2})(\d{2})$")


def floor_of(room: str) -> int | None:
    """The floor a room number says: 301 → 3, 1203 → 12; None for any other form."""
    match = _ROOM.match(room.strip())
    return int(match.group(1)) if match else None


def coefficient(rules: ElevatorShares, floor: int) -> Decimal:
    """The floor's coefficient; floors above the highest listed take the highest listed one's."""
    if floor in rules.coefficients:
        return Decimal(rules.coefficients[floor])
    listed = [f for f in rules.coefficients if f <= floor]
    return Decimal(rules.coefficients[max(listed)]) if listed else Decimal(0)


@dataclass(frozen=True)
class Share:
    household: Household
    floor: int
    coefficient: Decimal
    weight: Decimal
    amount: Decimal
    remainder: Decimal
    """The 分 of the rounding remainder this household takes (zero for all but one)."""


def elevator_shares(data: DataSet, vote_id: str) -> list[Share] | str:
    """Each household's share of the elevator's cost, adding exactly to it; or why there are none."""
    vote = data.votes[vote_id]
    rules = data.programme.votes.elevator if data.programme.votes else None
    if vote.cost is None:
        return "表决资料未写分摊金额（cost）"
    if rules is None:
        return "programme.yaml 未写加装电梯各楼层分摊系数（votes.elevator）"
    rows = []
    for h, _ in answers(data, vote_id):
        floor = floor_of(h.room)
        if floor is None:
            return f"{h.address}：无法从房号判断楼层"
        k = coefficient(rules, floor)
        if rules.by_area and h.area is None:
            return f"{h.address}：未填建筑面积"
        rows.append((h, floor, k, k * (h.area or Decimal(1)) if rules.by_area else k))
    total = sum((w for *_, w in rows), Decimal(0))
    if not total:
        return "表决范围内各户的分摊系数合计为0"
    amounts = [(vote.cost * w / total).quantize(FEN, rounding=ROUND_DOWN) for *_, w in rows]
    left = vote.cost - sum(amounts, Decimal(0))
    payers = [i for i, (*_, w) in enumerate(rows) if w]
    if rules.remainder_to == "top":
        top = max(rows[i][1] for i in payers)
        taker = next(i for i in payers if rows[i][1] == top)
    else:
        low = min(rows[i][1] for i in payers)
        taker = next(i for i in payers if rows[i][1] == low)
    return [Share(h, floor, k, w, amounts[i] + (left if i == taker else 0), left if i == taker else Decimal(0))
            for i, (h, floor, k, w) in enumerate(rows)]


def basis_words(rule: ConsentRule) -> str:
    """户数和建筑面积 as the rule counts them."""
    return "和".join(BASIS_NAMES[b] for b in rule.by)
