"""Who pays what: the 5:4:1 split, the before/after-meter pipeline split, other sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from generator.data.loader import DataSet
from generator.data.models import BudgetLine, Project
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
    ROUND(total * share / sum, 2), which is what the workbook's formulas compute too.
    """
    whole = sum(shares.values())
    parts = {
        name: (total * share / whole).quantize(CENT, rounding=ROUND_HALF_UP)
        for name, share in shares.items()
        if name != remainder_to
    }
    parts[remainder_to] = total - sum(parts.values(), Decimal(0))
    return {name: parts[name] for name in shares}


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
    prog = data.programme
    general = prog.general_split
    pipe = prog.pipeline_split
    by_party = {name: Decimal(0) for name in PARTIES}
    lines: list[LineFunding] = []
    general_total = Decimal(0)
    for line in project.items:
        rule = line_rule(data, project, line)
        lf = LineFunding(line=line, category=data.category_of(line.item), rule=rule)
        if rule == "pipeline":
            before = line.before_meter or Decimal(0)
            after = line.after_meter or Decimal(0)
            lf.parts = split(
                before,
                {"utility": pipe.utility_percent, "district": pipe.district_percent},
                pipe.remainder_to,
            )
            lf.parts["residents"] = after
            for name, amount in lf.parts.items():
                by_party[name] += amount
        else:
            general_total += line.amount
        lines.append(lf)
    other = project.other_funding
    by_party["maintenance_fund"] = other.maintenance_fund
    by_party["social_capital"] = other.social_capital
    base = general_total - other.maintenance_fund - other.social_capital
    shares = {
        "city": Decimal(general.city),
        "district": Decimal(general.district),
        "residents": Decimal(general.residents),
    }
    general_parts = split(base, shares, general.remainder_to)
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
