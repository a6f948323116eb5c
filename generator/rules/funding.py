"""Who pays what: the 5:4:1 split, the before/after-meter pipeline split, other sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import BudgetLine, Programme, Project
from generator.render.filters import CENT, q2

PARTIES = ("city", "district", "residents", "utility", "maintenance_fund", "social_capital")
"""Every paying party, in the order papers list them; programme.parties names each."""
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


def split(total: Decimal, shares: dict[str, Decimal], remainder_to: str) -> dict[str, Decimal]:
    """Split total by shares, each part rounded half up to the 分; the remainder goes to one party.

    The parts always add up to the total exactly. Every part but the remainder party's is
    ROUND(total * share / sum, 2), which is what the workbooks' formulas compute too.
    """
    return Split(shares, remainder_to).apply(total)


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
class Policy:
    """The programme's funding rules, which every amount and every formula is made from."""

    general: Split
    """Items under the general rule, less the other sources."""
    pipeline: Split
    """Pipelines before the meter; after it the residents pay (``after_meter_party``)."""
    parties: dict[str, str]
    """Party key → the name papers print, in the programme's order."""
    after_meter_party: str = "residents"
    raised: tuple[str, ...] = ("maintenance_fund", "social_capital")
    """Sources raised as written in the project file, taken off the general base first."""

    @property
    def order(self) -> tuple[str, ...]:
        """Every party key, in the order papers list them."""
        return tuple(self.parties)


def policy_from(parties: dict[str, str], general: dict[str, Any],
                pipeline: dict[str, Any]) -> Policy:
    """The policy from the programme's plain values (the model's or a render context's)."""
    return Policy(
        general=Split({k: Decimal(general[k]) for k in GENERAL_PARTIES}, general["remainder_to"]),
        pipeline=Split({"utility": Decimal(pipeline["utility_percent"]),
                        "district": Decimal(pipeline["district_percent"])},
                       pipeline["remainder_to"]),
        parties=dict(parties),
    )


def policy(programme: Programme) -> Policy:
    """The programme's funding policy."""
    return policy_from(programme.parties.ordered(), programme.general_split.model_dump(),
                       programme.pipeline_split.model_dump())


@dataclass
class LineFunding:
    """One budget line and how it is paid."""

    line: BudgetLine
    category: str
    rule: str
    """general, pipeline or public_service; a gas line in the excluded area counts as general."""
    parts: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Funding:
    """A project's whole funding plan."""

    lines: list[LineFunding]
    total: Decimal
    general_base: Decimal
    """Items under the general rule, less the other sources, split 5:4:1."""
    by_party: dict[str, Decimal]
    per_household_residents: Decimal
    general_parts: dict[str, Decimal] = field(default_factory=dict)
    """The general split of general_base alone, by party (city, district, residents)."""

    @property
    def by_category(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for lf in self.lines:
            out[lf.category] = out.get(lf.category, Decimal(0)) + lf.line.amount
        return out


def line_rule(data: DataSet, project: Project, line: BudgetLine) -> str:
    """Which funding rule one budget line falls under."""
    item = data.items[line.item]
    if item.funding == "pipeline" and item.utility == "gas" and project.in_gas_company_area:
        return "general"
    return item.funding


def plan_funding(data: DataSet, project: Project, households: int) -> Funding:
    """Compute the funding plan of a project from its budget lines and the programme's rules."""
    rules = policy(data.programme)
    by_party = {name: Decimal(0) for name in rules.order}
    lines: list[LineFunding] = []
    general_total = Decimal(0)
    for line in project.items:
        rule = line_rule(data, project, line)
        lf = LineFunding(line=line, category=data.category_of(line.item), rule=rule)
        if rule == "pipeline":
            lf.parts = rules.pipeline.apply(line.before_meter or Decimal(0))
            lf.parts[rules.after_meter_party] = line.after_meter or Decimal(0)
            for name, amount in lf.parts.items():
                by_party[name] += amount
        else:
            general_total += line.amount
        lines.append(lf)
    other = project.other_funding
    raised = {key: getattr(other, key) for key in rules.raised}
    by_party.update(raised)
    base = general_total - sum(raised.values(), Decimal(0))
    general_parts = rules.general.apply(base)
    for name, amount in general_parts.items():
        by_party[name] += amount
    total = sum((line.amount for line in project.items), Decimal(0))
    return Funding(
        lines=lines,
        total=total,
        general_base=base,
        by_party=by_party,
        per_household_residents=q2(by_party["residents"] / households) if households else Decimal(0),
        general_parts=general_parts,
    )
