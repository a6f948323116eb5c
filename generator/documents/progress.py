"""Where the programme stands: the figures of the progress dashboard and the statistics workbook.

Every figure is made from the same functions the reports use (figures.year_figures, totals,
ratio, report.printed), so a figure on the dashboard is the figure in the reports: the plan's
communities, households and 万元, what is finished and paid in, rounded the way the reports
round. What the reports do not print (stages, 开工, the budgets' planned funding) is added here
in the same way: money is added up in 元 and each figure rounded plainly to 0.01万元 when shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import STAGE_NAMES, STAGES, Community
from generator.documents.figures import project_figures, ratio
from generator.documents.report import printed
from generator.render.filters import TEN_THOUSAND, wan_rounded
from generator.render.wording import wording
from generator.rules.checks import Finding
from generator.rules.funding import plan_funding

NO_PROJECT = "none"
"""The stage key of a plan row that has no project file yet."""
STARTED = "construction"
"""A project has started (开工) from this stage on."""
STAGE_KEYS = (NO_PROJECT, *STAGES)


def stage_labels(data_root: Path | None) -> dict[str, str]:
    """Each stage's name, with the wording's for a plan row without a project file."""
    return {NO_PROJECT: wording(data_root).say("progress.no_project"), **STAGE_NAMES}


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
    """Funding by source as the budgets split it (万元, each plain rounding of its 元), for the
    communities with a budget."""
    planned_yuan: Decimal
    """The budgets' total in 元, unrounded."""
    budgeted: int
    """Communities with a budget."""
    paid_wan: dict[str, Decimal]
    """Money paid in by source (万元) as the reports print it: finished projects only, each source
    plain rounding of its 元 (so the sources may differ from paid_total by a 尾差)."""
    paid_yuan: Decimal
    """The same money in 元, unrounded: what the reports' 投资完成率 divides."""
    errors: int = 0
    warnings: int = 0

    @property
    def planned_total(self) -> Decimal:
        return wan_rounded(self.planned_yuan)

    @property
    def paid_total(self) -> Decimal:
        return wan_rounded(self.paid_yuan)

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


def places(data: DataSet) -> dict[str, list[str]]:
    """How findings name plan rows (as concerns() reads them): place → the community ids so named."""
    out: dict[str, list[str]] = {}
    for c in data.communities.values():
        for place in (f"{c.id} {c.name}", f"序号{c.seq} {c.name}"):
            out.setdefault(place, []).append(c.id)
    return out


def _planned(data: DataSet, community: Community) -> dict[str, Decimal] | None:
    """A project's funding by source from its budget (元), or None without one."""
    project = data.projects.get(community.id)
    if project is None or not project.items:
        return None
    funding = plan_funding(data, project, community.households)
    return dict(funding.by_party)


@dataclass(frozen=True)
class Tally:
    """Sums over plan rows that add and subtract: a row's own figures, or a group's.

    A group's Progress is made from the sum of its rows' tallies, so a change of one row
    changes a group by that row's old tally taken away and its new one added.
    """

    communities: int = 0
    households: int = 0
    investment_wan: Decimal = Decimal(0)
    stage_communities: tuple[int, ...] = (0,) * len(STAGE_KEYS)
    stage_households: tuple[int, ...] = (0,) * len(STAGE_KEYS)
    stage_investment: tuple[Decimal, ...] = (Decimal(0),) * len(STAGE_KEYS)
    started: int = 0
    started_households: int = 0
    finished: int = 0
    finished_households: int = 0
    accepted: int = 0
    households_done: int = 0
    planned: Mapping[str, Decimal] = field(default_factory=dict)
    """By party (the programme's parties, in its order), 元, unrounded."""
    budgeted: int = 0
    paid: Mapping[str, Decimal] = field(default_factory=dict)
    """Each finished row's money in 元, unrounded, by party."""
    paid_yuan: Decimal = Decimal(0)
    errors: int = 0
    warnings: int = 0

    def _combine(self, other: Tally, sign: int) -> Tally:
        # Field by field through the instances' dicts, the kinds known once (_KINDS): a first start
        # at 10,000 communities adds ten thousand rows into the plan's cells.
        mine, theirs = self.__dict__, other.__dict__
        values: dict[str, Any] = {}
        for name, kind in _KINDS:
            a, b = mine[name], theirs[name]
            if kind is tuple:
                values[name] = tuple([x + y for x, y in zip(a, b, strict=True)] if sign > 0
                                     else [x - y for x, y in zip(a, b, strict=True)])
            elif kind is Mapping:  # parties: a programme may add its own (中央, 省级 …)
                zero = Decimal(0)
                values[name] = ({k: a.get(k, zero) + b.get(k, zero) for k in {**a, **b}} if sign > 0
                                else {k: a.get(k, zero) - b.get(k, zero) for k in {**a, **b}})
            else:
                values[name] = a + b if sign > 0 else a - b
        return Tally(**values)

    def __add__(self, other: Tally) -> Tally:
        return self._combine(other, 1)

    def __sub__(self, other: Tally) -> Tally:
        return self._combine(other, -1)


_KINDS = tuple((f.name, tuple if isinstance(f.default, tuple) else Mapping if f.default is MISSING else None)
               for f in fields(Tally))
"""Each field of a Tally, and whether it adds up as a tuple, a mapping by party or a number."""


def row_tally(data: DataSet, community: Community, errors: int = 0, warnings: int = 0) -> Tally:
    """One plan row's own figures (with the counts of the findings on it), as the reports add them up."""
    figures = project_figures(data, community)
    planned = _planned(data, community)
    _, sums = printed([figures])
    households, investment = community.households, community.investment_wan
    at = STAGE_KEYS.index(figures.stage or NO_PROJECT)
    started = is_started(figures.stage)
    return Tally(
        communities=1, households=households, investment_wan=investment,
        stage_communities=tuple(int(i == at) for i in range(len(STAGE_KEYS))),
        stage_households=tuple(households if i == at else 0 for i in range(len(STAGE_KEYS))),
        stage_investment=tuple(investment if i == at else Decimal(0) for i in range(len(STAGE_KEYS))),
        started=int(started), started_households=households if started else 0,
        finished=int(figures.finished), finished_households=households if figures.finished else 0,
        accepted=int(figures.accepted), households_done=figures.households_done,
        planned=planned if planned is not None else {k: Decimal(0) for k in sums.parts},
        budgeted=int(planned is not None),
        paid=dict(figures.actual) if figures.finished else {k: Decimal(0) for k in sums.parts},
        paid_yuan=figures.actual_total,
        errors=errors, warnings=warnings,
    )


def progress(label: str, t: Tally, labels: dict[str, str], year: int | None = None,
             district: str | None = None) -> Progress:
    """A group's figures from the sum of its rows' tallies; labels: each stage's name."""
    stages = [StageRow(key, labels[key], t.stage_communities[i], t.stage_households[i],
                       t.stage_investment[i]) for i, key in enumerate(STAGE_KEYS)]
    return Progress(
        label=label, year=year, district=district,
        communities=t.communities, households=t.households, investment_wan=t.investment_wan,
        stages=stages,
        started=t.started, started_households=t.started_households,
        finished=t.finished, finished_households=t.finished_households,
        accepted=t.accepted, households_done=t.households_done,
        planned_wan={k: wan_rounded(v) for k, v in t.planned.items()},
        planned_yuan=sum(t.planned.values(), Decimal(0)),
        budgeted=t.budgeted,
        paid_wan={k: wan_rounded(v) for k, v in t.paid.items()},
        paid_yuan=t.paid_yuan,
        errors=t.errors, warnings=t.warnings,
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
    counts: dict[str, list[int]] = {}
    where = places(data)
    general = []
    for f in found:
        ids = where.get(f.where)
        if ids is None:
            general.append(f)
        for cid in ids or ():
            counts.setdefault(cid, [0, 0])[f.severity != "error"] += 1
    cells: dict[tuple[int, str], Tally] = {}
    for c in data.active_communities():
        if c.district in names:
            key = (c.year, c.district)
            cells[key] = cells.get(key, Tally()) + row_tally(data, c, *counts.get(c.id, (0, 0)))
    return assemble(data, cells, names, general if len(names) == len(data.districts) else [])


def assemble(data: DataSet, cells: dict[tuple[int, str], Tally], names: list[str],
             general: list[Finding]) -> Stats:
    """The dashboard of these districts from the tallies of each (year, district) of plan rows.

    general: the findings about the programme rather than a plan row (shown with the whole programme).
    """
    years = data.programme.years
    whole = len(names) == len(data.districts)

    def total(keys: Iterable[tuple[int, str]]) -> Tally:
        out = Tally()
        for key in keys:
            if key in cells:
                out = out + cells[key]
        return out

    everything = [(y, n) for y in years for n in names]
    say, labels = wording(data.root).say, stage_labels(data.root)
    listed = "" if whole else say("join.list").join(names)
    programme = progress(say("progress.all", districts=listed), total(everything), labels)
    by_year = [progress(say("progress.year", year=y), total((y, n) for n in names), labels, year=y) for y in years]
    by_district = [progress(n, total((y, n) for y in years), labels, district=n) for n in names]
    by_cell = {(y, n): progress(say("progress.district_year", district=n, year=y), total([(y, n)]), labels, y, n)
               for y in years for n in names}
    p = data.programme.pilot
    pilot: list[PilotRow] = []
    done = next((g for g in by_year if g.year == p.year), None)
    if whole and done is not None:
        pilot = [
            PilotRow(say("progress.target_communities"), p.communities, done.finished,
                     ratio(done.finished, p.communities)),
            PilotRow(say("progress.target_households"), p.households, done.households_done,
                     ratio(done.households_done, p.households)),
            PilotRow(say("progress.target_investment"), p.investment_wan, done.paid_total,
                     ratio(done.paid_yuan, p.investment_wan * TEN_THOUSAND)),
        ]
    return Stats(programme, by_year, by_district, by_cell, p.year, pilot, general)


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
