"""Who pays what: the programme's funding policy (splits by item category or the 5:4:1 general
split, contributions, the before/after-meter pipeline split, raised sources), computed in Python
and written as spreadsheet formulas from the same definition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import BudgetLine, Programme, Project
from generator.render.filters import CENT, q2

PARTIES = ("city", "district", "residents", "utility", "maintenance_fund", "social_capital")
"""The parties every programme names (programme.parties may add more and sets their order)."""
GENERAL_PARTIES = ("city", "district", "residents")
"""The parties of the general split (5:4:1); every paper shows them, even at zero."""


def number_text(value: Decimal | int) -> str:
    """A share or percentage as papers and formulas write it: 5, 80, 12.5 (no trailing zeros)."""
    return format(Decimal(value).normalize(), "f")


def general_ratio(shares: Sequence[Decimal | int]) -> str:
    """The general split as the programme writes it: 5：4：1."""
    return "：".join(number_text(v) for v in shares)


def pipeline_ratio(utility: Decimal | int, district: Decimal | int) -> str:
    """The before-meter split as the programme writes it: 80%：20%."""
    return f"{number_text(utility)}%：{number_text(district)}%"


@dataclass(frozen=True)
class Split:
    """One sharing rule: each party's share of a base, rounded to the 分; one party takes the rest.

    The one definition of a split: Python amounts (``apply``) and spreadsheet formulas
    (``formula``, ``formulas``) are both made here, so a workbook cannot compute otherwise.
    """

    shares: dict[str, Decimal]
    """Party key → share, in the order papers list them."""
    remainder_to: str

    @property
    def whole(self) -> Decimal:
        """The sum of the shares: 10 for 5:4:1, 100 for percentages."""
        return sum(self.shares.values(), Decimal(0))

    @property
    def others(self) -> list[str]:
        """The parties whose part is rounded, not taken as the remainder."""
        return [k for k in self.shares if k != self.remainder_to]

    def apply(self, total: Decimal) -> dict[str, Decimal]:
        """Each party's part of total, adding up to total exactly."""
        whole = self.whole
        parts = {name: (total * self.shares[name] / whole).quantize(CENT, rounding=ROUND_HALF_UP)
                 for name in self.others}
        parts[self.remainder_to] = total - sum(parts.values(), Decimal(0))
        return {name: parts[name] for name in self.shares}

    def formula(self, party: str, base: str) -> str:
        """A rounded party's part as a formula (no leading =): ROUND(base*5/10,2)."""
        return f"ROUND({base}*{number_text(self.shares[party])}/{number_text(self.whole)},2)"

    def formulas(self, base: str, cells: dict[str, str]) -> dict[str, str]:
        """Every party's part as a formula over base; the remainder party's is base less the
        cells that hold the others' parts."""
        out = {k: self.formula(k, base) for k in self.others}
        out[self.remainder_to] = "-".join([base, *(cells[k] for k in self.others)])
        return {k: out[k] for k in self.shares}

    def remainder_formula(self, base: str, cells: dict[str, str]) -> str:
        """The remainder party's formula alone: base less the others' cells."""
        return self.formulas(base, cells)[self.remainder_to]

    @property
    def ratio(self) -> str:
        """The shares as the programme writes them: 5：4：1."""
        return general_ratio(list(self.shares.values()))

    def fraction(self, party: str) -> str:
        """One party's share as papers print it: 5/10."""
        return f"{number_text(self.shares[party])}/{number_text(self.whole)}"


@dataclass(frozen=True)
class Contribution:
    """What one party pays before a group's split: fixed, per ㎡ or per household, capped."""

    party: str
    how: str
    """fixed, per_m2 or per_household."""
    rate: Decimal
    cap: Decimal | None = None

    def amount(self, floor_area: Decimal | None, households: int, left: Decimal) -> Decimal:
        """The contribution to the 分: rate × measure, at most the cap and what is left."""
        measure = {"fixed": Decimal(1), "per_m2": floor_area or Decimal(0),
                   "per_household": Decimal(households)}[self.how]
        amount = (self.rate * measure).quantize(CENT, rounding=ROUND_HALF_UP)
        if self.cap is not None:
            amount = min(amount, self.cap)
        return min(amount, max(left, Decimal(0)))


    def formula(self, measure: str, left: str) -> str:
        """The contribution as a formula (no leading =) over the cell of its measure (the floor
        area or the households; unused for a fixed sum) and the expression of what is left."""
        amount = number_text(self.rate) if self.how == "fixed" else \
            f"ROUND({measure}*{number_text(self.rate)},2)"
        capped = [amount, *([number_text(self.cap)] if self.cap is not None else []), f"MAX({left},0)"]
        return f"MIN({','.join(capped)})"

    @property
    def measure(self) -> str:
        """What the rate is multiplied by: floor_area, households or nothing (fixed)."""
        return {"fixed": "", "per_m2": "floor_area", "per_household": "households"}[self.how]


@dataclass(frozen=True)
class Group:
    """The general items of one kind (all of them, or one catalogue category) and how they are
    paid: the project's raised sources first (one group takes them), then the contributions,
    the rest by the split."""

    key: str
    """The catalogue category, or "" for every general item the programme does not sort."""
    split: Split
    contributions: tuple[Contribution, ...] = ()
    takes_raised: bool = False

    @property
    def label(self) -> str:
        """How papers name the group: 一般项目, or the category's name."""
        return self.key or "一般项目"


@dataclass(frozen=True)
class Policy:
    """The programme's funding rules, which every amount and every formula is made from."""

    general: Split
    """The programme's general split (general_split), for general items no category rule takes."""
    pipeline: Split
    """Pipelines before the meter; after it the residents pay (``after_meter_party``)."""
    parties: dict[str, str]
    """Party key → the name papers print, in the programme's order."""
    groups: tuple[Group, ...] = ()
    """Category rules (programme.funding), in the programme's order; empty: one general group."""
    after_meter_party: str = "residents"
    raised: tuple[str, ...] = ("maintenance_fund", "social_capital")
    """Sources raised as written in the project file, taken off the general base first."""
    has_pipeline: bool = True
    """Whether pipelines have a rule of their own (pipeline_split); without one, a pipeline item is
    paid as a general item of its category, and ``pipeline`` splits nothing."""

    @property
    def order(self) -> tuple[str, ...]:
        """Every party key, in the order papers list them."""
        return tuple(self.parties)

    @property
    def by_category(self) -> bool:
        """Whether general items are paid by their catalogue category's rule."""
        return bool(self.groups)

    @cached_property
    def _by_key(self) -> dict[str, Group]:
        # asked once per budget line of every project: built once per policy
        return {"": Group("", self.general, takes_raised=not self.groups),
                **{g.key: g for g in self.groups}}

    def group_of(self, category: str) -> Group:
        """The group a general item of this catalogue category belongs to."""
        return self._by_key.get(category) or self._by_key[""]

    def groups_for(self, categories: list[str]) -> list[Group]:
        """The groups a project's general items fall in, in the programme's order; the one
        taking the raised sources always (it may have no items)."""
        keys = {self.group_of(c).key for c in categories}
        listed = [g for g in self.groups if g.key in keys or g.takes_raised]
        if "" in keys or not self.groups:
            listed.append(self.group_of(""))
        return listed

    @property
    def paying(self) -> list[str]:
        """Every party some rule of the policy makes pay, in the programme's order."""
        found = {*self.general.shares, *self.pipeline.shares, self.after_meter_party, *self.raised}
        for g in self.groups:
            found |= {*g.split.shares, *(c.party for c in g.contributions)}
        return [k for k in self.order if k in found]


def policy_from(parties: dict[str, str], general: dict[str, Any] | None,
                pipeline: dict[str, Any] | None, funding: dict[str, Any] | None = None) -> Policy:
    """The policy from the programme's plain values (the model's or a render context's). Without
    a general split the categories are the whole rule (the first one's split stands in, for a
    category the programme does not list, which FUND-CATEGORIES reports); without a pipeline
    split pipelines are general items."""
    groups: list[Group] = []
    if funding:
        categories = funding["categories"]
        raised_to = funding.get("raised_to") or categories[0]["category"]
        for cat in categories:
            contributions = tuple(
                Contribution(c["party"], how, Decimal(c[how]),
                             Decimal(c["cap"]) if c.get("cap") is not None else None)
                for c in cat.get("contributions", ())
                for how in ("fixed", "per_m2", "per_household") if c.get(how) is not None)
            groups.append(Group(cat["category"],
                                Split({k: Decimal(v) for k, v in cat["shares"].items()},
                                      cat["remainder_to"]),
                                contributions, takes_raised=cat["category"] == raised_to))
    if general is None and not groups:
        raise ValueError("a programme without funding categories needs general_split")
    return Policy(
        general=(Split({k: Decimal(general[k]) for k in GENERAL_PARTIES}, general["remainder_to"])
                 if general is not None else groups[0].split),
        pipeline=(Split({"utility": Decimal(pipeline["utility_percent"]),
                         "district": Decimal(pipeline["district_percent"])}, pipeline["remainder_to"])
                  if pipeline is not None else Split({}, "utility")),
        parties=dict(parties),
        groups=tuple(groups),
        has_pipeline=pipeline is not None,
    )


_POLICIES: dict[int, tuple[Programme, Policy]] = {}
"""Policies by programme object: every budget line of every project asks for it (records are frozen)."""


def policy(programme: Programme) -> Policy:
    """The programme's funding policy."""
    known = _POLICIES.get(id(programme))
    if known is not None and known[0] is programme:
        return known[1]
    g, p = programme.general_split, programme.pipeline_split
    made = policy_from(programme.parties.ordered(), g.model_dump() if g else None, p.model_dump() if p else None,
                       programme.funding.model_dump() if programme.funding else None)
    if len(_POLICIES) >= 32:  # a test or a server may load many programmes: keep a few
        _POLICIES.clear()
    _POLICIES[id(programme)] = (programme, made)
    return made


@dataclass
class LineFunding:
    """One budget line and how it is paid."""

    line: BudgetLine
    category: str
    rule: str
    """general, pipeline or public_service; a gas line in the excluded area counts as general."""
    parts: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class GroupFunding:
    """One group of general items and how it is paid."""

    group: Group
    items: Decimal
    """The group's general (and public service) items."""
    raised: dict[str, Decimal]
    """The project's raised sources taken off this group (only the group that takes them)."""
    contributions: list[tuple[Contribution, Decimal]]
    base: Decimal
    """What is left after the raised sources and contributions: split by the group's shares."""
    parts: dict[str, Decimal]


@dataclass
class Funding:
    """A project's whole funding plan."""

    lines: list[LineFunding]
    total: Decimal
    general_base: Decimal
    """Items under the general rule, less the other sources and contributions, split by shares."""
    by_party: dict[str, Decimal]
    per_household_residents: Decimal
    general_parts: dict[str, Decimal] = field(default_factory=dict)
    """The splits of the general base alone, by party."""
    groups: list[GroupFunding] = field(default_factory=list)
    raised: dict[str, Decimal] = field(default_factory=dict)
    """The project's raised sources as written (maintenance fund, social capital)."""

    @property
    def by_category(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for lf in self.lines:
            out[lf.category] = out.get(lf.category, Decimal(0)) + lf.line.amount
        return out


def line_rule(data: DataSet, project: Project, line: BudgetLine) -> str:
    """Which funding rule one budget line falls under."""
    item = data.items[line.item]
    if item.funding == "pipeline" and (data.programme.pipeline_split is None
                                       or (item.utility == "gas" and project.in_gas_company_area)):
        return "general"
    return item.funding


def gas_in_company_area(data: DataSet, rule: str, item: str) -> bool:
    """Whether a line is gas in the gas company's area, paid as a general item by the pipeline
    rule's own exception (not merely a pipeline of a programme with no pipeline rule)."""
    return rule == "general" and data.items[item].funding == "pipeline" and data.programme.pipeline_split is not None


_LAST: list[tuple[Project, Programme, object, int, Funding]] = []
"""The last funding plan computed: the rules and the dashboard's sums ask for the same project's
one after the other (its record, programme and catalogue the same objects)."""


def plan_funding(data: DataSet, project: Project, households: int) -> Funding:
    """Compute the funding plan of a project from its budget lines and the programme's rules
    (read only: the same plan may be handed to the next caller that asks for it)."""
    last = _LAST[0] if _LAST else None
    if last is not None and last[0] is project and last[1] is data.programme and last[2] is data.catalogue \
            and last[3] == households:
        return last[4]
    made = _plan_funding(data, project, households)
    _LAST[:] = [(project, data.programme, data.catalogue, households, made)]
    return made


def _plan_funding(data: DataSet, project: Project, households: int) -> Funding:
    rules = policy(data.programme)
    by_party = {name: Decimal(0) for name in rules.order}
    lines: list[LineFunding] = []
    general: dict[str, Decimal] = {}
    for line in project.items:
        rule = line_rule(data, project, line)
        lf = LineFunding(line=line, category=data.category_of(line.item), rule=rule)
        if rule == "pipeline":
            lf.parts = rules.pipeline.apply(line.before_meter or Decimal(0))
            lf.parts[rules.after_meter_party] = line.after_meter or Decimal(0)
            for name, amount in lf.parts.items():
                by_party[name] += amount
        else:
            key = rules.group_of(lf.category).key
            general[key] = general.get(key, Decimal(0)) + line.amount
        lines.append(lf)
    other = project.other_funding
    raised = {key: getattr(other, key) for key in rules.raised}
    by_party.update(raised)
    groups = []
    general_parts: dict[str, Decimal] = {}
    for group in rules.groups_for([lf.category for lf in lines if lf.rule != "pipeline"]):
        items = general.get(group.key, Decimal(0))
        taken = raised if group.takes_raised else {}
        left = items - sum(taken.values(), Decimal(0))
        paid = []
        for c in group.contributions:
            amount = c.amount(project.floor_area, households, left)
            paid.append((c, amount))
            by_party[c.party] += amount
            left -= amount
        parts = group.split.apply(left)
        for name, amount in parts.items():
            by_party[name] += amount
            general_parts[name] = general_parts.get(name, Decimal(0)) + amount
        groups.append(GroupFunding(group, items, dict(taken), paid, left, parts))
    total = sum((line.amount for line in project.items), Decimal(0))
    return Funding(
        lines=lines,
        total=total,
        general_base=sum((g.base for g in groups), Decimal(0)),
        by_party=by_party,
        per_household_residents=q2(by_party[rules.after_meter_party] / households) if households else Decimal(0),
        general_parts=general_parts,
        groups=groups,
        raised=raised,
    )
