"""Figures of the city and district reports: planned against done, by project, district and year."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from generator.data.loader import DataSet, PackedProjects
from generator.data.models import Community
from generator.render.filters import CENT
from generator.rules.funding import PARTIES, policy

PARTY_KEYS = PARTIES
"""The parties every programme names; a group of no rows reports these (at zero)."""


def party_keys(data: DataSet) -> tuple[str, ...]:
    """Funding sources in the order the reports list them: the programme's parties."""
    return policy(data.programme).order


@dataclass(frozen=True)
class ProjectFigures:
    """One plan row and what its project file says was done.

    Figures, not the project record: a city report holds a year's rows at once, and ten
    thousand unpacked projects would take hundreds of megabytes.
    """

    community: Community
    stage: str | None
    """The project's stage; None when the row has no project file."""
    illustrative: bool
    finished: bool
    """Completed or accepted: the works are done."""
    accepted: bool
    households_done: int
    actual: dict[str, Decimal]
    """Money actually paid in, 元, by party key (zeros before completion)."""
    items_planned: int
    """Budget lines of the renovation plan."""
    items_delivered: int
    """Acceptance items passed, or every budget line of a completed project not yet accepted."""
    items_inspected: int
    items_passed: int
    has_body: bool
    has_property_mode: bool
    has_fund: bool

    @property
    def actual_total(self) -> Decimal:
        return sum(self.actual.values(), Decimal(0))


_KEPT: dict[int, dict[str, tuple[Any, Any, Any, ProjectFigures]]] = {}
"""Figures worked out, by data set (its id, the entry dropped when it goes) and community: a report
reads every project of a year for each district and each table, and each read unpacks the record."""


def _record(data: DataSet, community: str) -> Any:
    """What stays the same object as long as a project's record is unchanged (its packed form)."""
    projects = data.projects
    if isinstance(projects, PackedProjects):
        return projects.packed(community) if community in projects else None
    return projects.get(community)


def project_figures(data: DataSet, community: Community) -> ProjectFigures:
    """What the data says about one plan row's progress."""
    kept = _KEPT.get(id(data))
    if kept is None:
        kept = _KEPT[id(data)] = {}
        weakref.finalize(data, _KEPT.pop, id(data), None)
    record = _record(data, community.id)
    known = kept.get(community.id)
    if known is not None and known[0] is community and known[1] is record and known[2] is data.programme:
        return known[3]
    figures = _project_figures(data, community)
    kept[community.id] = (community, record, data.programme, figures)
    return figures


def _project_figures(data: DataSet, community: Community) -> ProjectFigures:
    project = data.projects.get(community.id)
    keys = party_keys(data)
    actual = {key: Decimal(0) for key in keys}
    if project is None:
        return ProjectFigures(community, None, False, False, False, 0, actual, 0, 0, 0, 0,
                              False, False, False)
    finished = project.at_least("completed")
    if project.completion is not None:
        paid = project.completion.actual
        actual = {key: getattr(paid, key, None) or Decimal(0) for key in keys}
    results = project.acceptance.results if project.acceptance else []
    passed = sum(1 for r in results if r.result == "合格")
    if project.acceptance is not None:
        delivered = passed
    elif finished:
        delivered = len(project.items)
    else:
        delivered = 0
    m = project.management
    return ProjectFigures(
        community=community,
        stage=project.stage,
        illustrative=project.illustrative,
        finished=finished,
        accepted=project.at_least("accepted") and (
            project.acceptance is None or project.acceptance.passed),
        households_done=project.completion.households_done if project.completion else 0,
        actual=actual,
        items_planned=len(project.items),
        items_delivered=delivered,
        items_inspected=len(results),
        items_passed=passed,
        has_body=m.body is not None,
        has_property_mode=m.property_mode is not None,
        has_fund=m.maintenance_fund,
    )


def year_figures(data: DataSet, year: int, district: str | None = None) -> list[ProjectFigures]:
    """Every plan row of a year (of one district, if given), in plan order."""
    return [
        project_figures(data, c)
        for c in data.active_communities()
        if c.year == year and (district is None or c.district == district)
    ]


@dataclass(frozen=True)
class Totals:
    """Sums over a group of plan rows."""

    communities: int = 0
    finished: int = 0
    accepted: int = 0
    households: int = 0
    households_done: int = 0
    investment_wan: Decimal = Decimal(0)
    actual: dict[str, Decimal] = field(default_factory=lambda: {k: Decimal(0) for k in PARTY_KEYS})
    """By party, in the programme's order."""

    @property
    def actual_total(self) -> Decimal:
        return sum(self.actual.values(), Decimal(0))


def row_keys(rows: list[ProjectFigures]) -> tuple[str, ...]:
    """The parties of a group of rows (the programme's, as each row has them)."""
    return tuple(rows[0].actual) if rows else PARTY_KEYS


def totals(rows: Iterable[ProjectFigures]) -> Totals:
    """Add up plan and progress figures."""
    rows = list(rows)
    return Totals(
        communities=len(rows),
        finished=sum(1 for r in rows if r.finished),
        accepted=sum(1 for r in rows if r.accepted),
        households=sum(r.community.households for r in rows),
        households_done=sum(r.households_done for r in rows),
        investment_wan=sum((r.community.investment_wan for r in rows), Decimal(0)),
        actual={k: sum((r.actual[k] for r in rows), Decimal(0)) for k in row_keys(rows)},
    )


def ratio(done: Decimal | int, planned: Decimal | int) -> Decimal | None:
    """done / planned, or None when nothing was planned."""
    if not planned:
        return None
    return Decimal(done) / Decimal(planned)


# ---------------------------------------------------------------- annual assessment (方案九（四）)

DIMENSIONS = ("households", "content", "standards", "management")
"""The four dimensions, keyed as in programme.assessment."""


@dataclass(frozen=True)
class AssessmentRow:
    """One district's counts for one year; a rate with nothing due counts as 0."""

    district: str
    projects: int
    households: int
    households_done: int
    items_planned: int
    items_delivered: int
    items_inspected: int
    items_passed: int
    bodies: int
    property_modes: int
    funds: int
    finished: int = 0
    """Projects done (completed or accepted): without one there is nothing yet to assess."""

    def fraction(self, dimension: str) -> tuple[int, int]:
        """The numerator and denominator of a dimension's rate."""
        return {
            "households": (self.households_done, self.households),
            "content": (self.items_delivered, self.items_planned),
            "standards": (self.items_passed, self.items_inspected),
            # three marks a project: a self-governance body, a management mode, a maintenance fund
            "management": (self.bodies + self.property_modes + self.funds, 3 * self.projects),
        }[dimension]

    def rate(self, dimension: str) -> Decimal:
        return ratio(*self.fraction(dimension)) or Decimal(0)

    def score(self, dimension: str, weight: Decimal) -> Decimal:
        """weight × rate rounded half up to 0.01, as the sheet's ROUND() does."""
        return (weight * self.rate(dimension)).quantize(CENT, rounding=ROUND_HALF_UP)


def assessment_rows(data: DataSet, year: int) -> list[AssessmentRow]:
    """One row per district (in districts.yaml order) for the year's plan rows."""
    out = []
    for name in data.districts:
        rows = year_figures(data, year, name)
        out.append(AssessmentRow(
            district=name,
            projects=len(rows),
            households=sum(r.community.households for r in rows),
            households_done=sum(r.households_done for r in rows),
            items_planned=sum(r.items_planned for r in rows),
            items_delivered=sum(r.items_delivered for r in rows),
            items_inspected=sum(r.items_inspected for r in rows),
            items_passed=sum(r.items_passed for r in rows),
            bodies=sum(r.has_body for r in rows),
            property_modes=sum(r.has_property_mode for r in rows),
            funds=sum(r.has_fund for r in rows),
            finished=sum(r.finished for r in rows),
        ))
    return out


def weights(data: DataSet) -> dict[str, Decimal]:
    """The dimension weights from programme.assessment."""
    w = data.programme.assessment
    return {key: Decimal(getattr(w, key)) for key in DIMENSIONS}


def total_score(data: DataSet, row: AssessmentRow) -> Decimal:
    """The sum of the four rounded dimension scores."""
    return sum((row.score(k, w) for k, w in weights(data).items()), Decimal(0))


def ranks(scores: list[Decimal]) -> list[int]:
    """Competition ranking, highest first, ties share a rank (what RANK() gives)."""
    return [1 + sum(1 for other in scores if other > s) for s in scores]
