"""Where the programme stands: the figures of the progress dashboard and the statistics workbook.

Every figure is made from the same functions the reports use (figures.year_figures, totals,
ratio, report.printed), so a figure on the dashboard is the figure in the reports: the plan's
communities, households and 万元, what is finished and paid in, rounded the way the reports
round. What the reports do not print (stages, 开工, the budgets' planned funding) is added here
in the same way: a project's 万元 rounded once, a group's the sum of its projects'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import STAGE_NAMES, STAGES, Community
from generator.documents.figures import ProjectFigures, project_figures, ratio, row_keys, totals
from generator.documents.report import printed
from generator.render.filters import TEN_THOUSAND, wan_parts
from generator.rules.checks import Finding
from generator.rules.funding import plan_funding

NO_PROJECT = "none"
"""The stage key of a plan row that has no project file yet."""
NO_PROJECT_NAME = "尚无项目资料"
STARTED = "construction"
"""A project has started (开工) from this stage on."""
STAGE_KEYS = (NO_PROJECT, *STAGES)
STAGE_LABELS = {NO_PROJECT: NO_PROJECT_NAME, **STAGE_NAMES}
PROGRAMME_LABEL = "全部计划"


@dataclass(frozen=True)
class StageRow:
    """The plan rows at one stage."""

    stage: str
    name: str
    communities: int
    households: int
    investment_wan: Decimal


@dataclass(frozen=True)
class Progress:
    """The figures of one group of plan rows: the programme, a year, a district or a district's year."""

    label: str
    year: int | None
    district: str | None
    communities: int
    households: int
    investment_wan: Decimal
    """Planned, as the plan rows give it (the plan table's and the reports' 预计投资)."""
    stages: list[StageRow]
    started: int
    started_households: int
    finished: int
    finished_households: int
    """Households of the finished communities (their plan figure)."""
    accepted: int
    households_done: int
    """Households the finished projects report done (the reports' 完成改造户数)."""
    planned_wan: dict[str, Decimal]
    """Funding by source as the budgets split it (万元), for the communities with a budget."""
    budgeted: int
    """Communities with a budget."""
    paid_wan: dict[str, Decimal]
    """Money paid in by source (万元) as the reports print it: finished projects only."""
    paid_yuan: Decimal
    """The same money in 元, unrounded: what the reports' 投资完成率 divides."""
    errors: int = 0
    warnings: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def planned_total(self) -> Decimal:
        return sum(self.planned_wan.values(), Decimal(0))

    @property
    def paid_total(self) -> Decimal:
        return sum(self.paid_wan.values(), Decimal(0))

    def rates(self) -> dict[str, Decimal | None]:
        """开工率 and 完工率 by communities and by households; None where nothing is planned."""
        return {
            "started": ratio(self.started, self.communities),
            "started_households": ratio(self.started_households, self.households),
            "finished": ratio(self.finished, self.communities),
            "finished_households": ratio(self.households_done, self.households),
            "investment": ratio(self.paid_yuan, self.investment_wan * TEN_THOUSAND),
        }


def is_started(stage: str | None) -> bool:
    return stage is not None and STAGES.index(stage) >= STAGES.index(STARTED)


def concerns(finding: Finding, community: Community) -> bool:
    """Whether a rule finding is about this plan row (as `gaizao validate` names the place)."""
    return finding.where in (f"{community.id} {community.name}", f"序号{community.seq} {community.name}")


def _planned(data: DataSet, community: Community) -> dict[str, Decimal] | None:
    """A project's funding by source from its budget (万元, rounded once), or None without one."""
    project = data.projects.get(community.id)
    if project is None or not project.items:
        return None
    funding = plan_funding(data, project, community.households)
    return dict(zip(funding.by_party, wan_parts(list(funding.by_party.values())), strict=True))


@dataclass(frozen=True)
class _Row:
    figures: ProjectFigures
    planned: dict[str, Decimal] | None
    findings: list[Finding]


def progress(label: str, rows: list[_Row], year: int | None = None, district: str | None = None) -> Progress:
    """Add up a group of plan rows the way the reports do."""
    figs = [r.figures for r in rows]
    t = totals(figs)
    _, sums = printed(figs)
    stages = []
    for key in STAGE_KEYS:
        own = [f for f in figs if (f.stage or NO_PROJECT) == key]
        stages.append(StageRow(key, STAGE_LABELS[key], len(own), sum(f.community.households for f in own),
                               sum((f.community.investment_wan for f in own), Decimal(0))))
    started = [f for f in figs if is_started(f.stage)]
    finished = [f for f in figs if f.finished]
    budgets = [r.planned for r in rows if r.planned is not None]
    found = [f for r in rows for f in r.findings]
    return Progress(
        label=label, year=year, district=district,
        communities=t.communities, households=t.households, investment_wan=t.investment_wan,
        stages=stages,
        started=len(started), started_households=sum(f.community.households for f in started),
        finished=t.finished, finished_households=sum(f.community.households for f in finished),
        accepted=t.accepted, households_done=t.households_done,
        planned_wan={k: sum((b.get(k, Decimal(0)) for b in budgets), Decimal(0)) for k in row_keys(figs)},
        budgeted=len(budgets),
        paid_wan=dict(sums.parts),
        paid_yuan=t.actual_total,
        errors=sum(1 for f in found if f.severity == "error"),
        warnings=sum(1 for f in found if f.severity != "error"),
        findings=found,
    )


@dataclass(frozen=True)
class PilotRow:
    """One of the pilot targets against what was done (the pilot report's first table)."""

    name: str
    target: Decimal | int
    done: Decimal | int
    rate: Decimal | None


@dataclass(frozen=True)
class Stats:
    """The dashboard: the programme, each year, each district, each district's year, the pilot."""

    programme: Progress
    years: list[Progress]
    districts: list[Progress]
    cells: dict[tuple[int, str], Progress]
    """(year, district) → that district's plan rows of that year."""
    pilot_year: int
    pilot: list[PilotRow]
    """Empty for an account that sees one district: the targets are the city's."""
    general: list[Finding] = field(default_factory=list)
    """Findings about the programme rather than a plan row (the whole programme's view only)."""


def stats(data: DataSet, findings: Iterable[Finding] = (), districts: Iterable[str] | None = None) -> Stats:
    """The figures of the plan rows of these districts (all by default), with the findings on them."""
    names = [d for d in data.districts if districts is None or d in set(districts)]
    found = list(findings)
    rows = [
        _Row(project_figures(data, c), _planned(data, c), [f for f in found if concerns(f, c)])
        for c in data.active_communities() if c.district in names
    ]
    years = data.programme.years
    whole = len(names) == len(data.districts)
    programme = progress(PROGRAMME_LABEL if whole else f"{PROGRAMME_LABEL}（{'、'.join(names)}）", rows)
    by_year = [progress(f"{y}年", [r for r in rows if r.figures.community.year == y], year=y) for y in years]
    by_district = [progress(n, [r for r in rows if r.figures.community.district == n], district=n)
                   for n in names]
    cells = {(y, n): progress(f"{n}{y}年", [r for r in rows if r.figures.community.year == y
                                            and r.figures.community.district == n], y, n)
             for y in years for n in names}
    p = data.programme.pilot
    pilot: list[PilotRow] = []
    done = next((g for g in by_year if g.year == p.year), None)
    if whole and done is not None:
        pilot = [
            PilotRow("小区个数（个）", p.communities, done.finished, ratio(done.finished, p.communities)),
            PilotRow("改造户数（户）", p.households, done.households_done, ratio(done.households_done, p.households)),
            PilotRow("投资（万元）", p.investment_wan, done.paid_total,
                     ratio(done.paid_yuan, p.investment_wan * TEN_THOUSAND)),
        ]
    general = [f for f in found if not any(concerns(f, c) for c in data.communities.values())] if whole else []
    return Stats(programme, by_year, by_district, cells, p.year, pilot, general)


# ---------------------------------------------------------------- as plain values (JSON, tests)


def _num(value: Decimal | int | None) -> Any:
    if value is None:
        return None
    return format(value, "f") if isinstance(value, Decimal) else value


def as_dict(group: Progress) -> dict[str, Any]:
    """A group's figures as plain values: counts as numbers, money and rates as exact decimal strings."""
    return {
        "label": group.label, "year": group.year, "district": group.district,
        "communities": group.communities, "households": group.households,
        "investment_wan": _num(group.investment_wan),
        "stages": [{"stage": s.stage, "name": s.name, "communities": s.communities,
                    "households": s.households, "investment_wan": _num(s.investment_wan)}
                   for s in group.stages],
        "started": group.started, "started_households": group.started_households,
        "finished": group.finished, "finished_households": group.finished_households,
        "accepted": group.accepted, "households_done": group.households_done,
        "rates": {k: _num(v) for k, v in group.rates().items()},
        "funds": {k: {"planned_wan": _num(group.planned_wan.get(k, Decimal(0))),
                      "paid_wan": _num(group.paid_wan.get(k, Decimal(0)))}
                  for k in {**group.planned_wan, **group.paid_wan}},
        "planned_total_wan": _num(group.planned_total), "paid_total_wan": _num(group.paid_total),
        "paid_total_yuan": _num(group.paid_yuan),
        "budgeted": group.budgeted,
        "findings": {"errors": group.errors, "warnings": group.warnings},
    }


def stats_dict(s: Stats) -> dict[str, Any]:
    """The whole dashboard as plain values (what GET /api/stats answers)."""
    return {
        "programme": as_dict(s.programme),
        "years": [as_dict(g) for g in s.years],
        "districts": [as_dict(g) for g in s.districts],
        "cells": [as_dict(g) for g in s.cells.values()],
        "pilot": {"year": s.pilot_year,
                  "targets": [{"name": r.name, "target": _num(r.target), "done": _num(r.done),
                               "rate": _num(r.rate)} for r in s.pilot]},
        "general_findings": [f.as_dict() for f in s.general],
    }
