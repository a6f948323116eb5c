"""The household survey's papers: one 入户意见征询表 per household, and the 意见征询结果汇总表.

How much of a resident a paper may show is the kind's decision (Kind.residents): the forms the
community committee carries from door to door print names, phones and rooms in full; a paper
that is posted or leaves the community gets them masked, or not at all.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any, Literal

from generator.data.loader import DataSet
from generator.data.models import Project
from generator.data.roster import (
    PROPERTY_MODES,
    Household,
    Tally,
    by_building,
    household_address,
    mask_name,
    mask_phone,
    mask_room,
    tally,
)
from generator.documents.project import project_context
from generator.render.wording import wording
from generator.rules.checks import meets_support, survey_tally

Residents = Literal["none", "masked", "full"]
"""What a kind may print of a resident: nothing, masked (张*明, 138****1234, 3**), or in full."""


def _household(no: int, h: Household, residents: Residents) -> dict[str, Any]:
    masked = residents != "full"
    room = mask_room(h.room) if masked else h.room
    return {
        "no": no,
        "address": household_address(h.building, h.unit, room),
        "building": h.building, "unit": h.unit, "room": room,
        "head": mask_name(h.head) if masked else (h.head or ""),
        "phone": mask_phone(h.phone) if masked else (h.phone or ""),
        "area": h.area, "tenure": h.tenure,
    }


BLANK = {"building": "", "unit": None, "room": "", "head": "", "phone": "", "area": None, "tenure": None}
"""A blank form's household; its address line is the wording's survey.blank_address."""


def households(data: DataSet, project: Project, residents: Residents,
               blank: int | None = None) -> list[dict[str, Any]]:
    """The households a form is printed for: the roster's, or blank ones (as many as the community has)."""
    if residents == "none":
        return []
    roster = data.rosters.get(project.community)
    if roster is not None and blank is None:
        return [_household(no, h, residents) for no, h in enumerate(roster.households, start=1)]
    count = data.communities[project.community].households if blank is None else blank
    address = wording(data.root).say("survey.blank_address")
    return [{"no": no, "address": address, **BLANK} for no in range(1, count + 1)]


def survey_context(data: DataSet, project: Project, residents: Residents,
                   blank: int | None = None) -> dict[str, Any]:
    """The community's context and one entry per household form."""
    context = project_context(data, project)
    context["households"] = households(data, project, residents, blank)
    context["property_modes"] = list(PROPERTY_MODES)
    return context


def _rate(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return Decimal(part) / Decimal(whole) if whole else None


def _row(t: Tally) -> dict[str, Any]:
    return {
        "name": t.name, "households": t.households, "support": t.support, "oppose": t.oppose,
        "no_answer": t.no_answer, "not_asked": t.households - t.asked, "asked": t.asked,
        "rate": _rate(t.support, t.asked),
        "area": t.area if t.has_area else None,
        "area_support": t.area_support if t.has_area else None,
        "area_rate": _rate(t.area_support, t.area) if t.has_area else None,
    }


def tally_context(data: DataSet, project: Project, residents: Residents) -> dict[str, Any]:
    """The community's context and the survey's tally by building and in total, items ranked;
    without a roster's answers, the counts the committee recorded (in total only)."""
    context = project_context(data, project)
    roster = data.rosters.get(project.community)
    if roster is None or not roster.answered:
        return _recorded_tally(data, project, context)
    total = tally(roster.households)
    wanted: Counter[str] = Counter(item for h in roster.households for item in h.wants)
    order = list(data.items)
    ranked = sorted(wanted.items(), key=lambda kv: (-kv[1], order.index(kv[0])))
    agreeing = [h for h in roster.households if h.answer == "同意"]
    rules = data.programme.eligibility
    dates = [h.date for h in roster.households if h.date is not None]
    context["tally"] = {
        "buildings": [_row(t) for t in by_building(roster)],
        "total": _row(total),
        "has_area": total.has_area,
        "wanted": [{"no": no, "name": name, "count": count, "share": _rate(count, total.asked),
                   "standard": data.items[name].standard}
                  for no, (name, count) in enumerate(ranked, start=1)],
        "pays": sum(1 for h in roster.households if h.pays),
        "modes": [{"name": m, "count": sum(1 for h in roster.households if h.management == m)}
                  for m in PROPERTY_MODES],
        "fund": sum(1 for h in roster.households if h.fund),
        "agreeing": len(agreeing),
        "first_date": min(dates) if dates else None,
        "last_date": max(dates) if dates else None,
        "min_percent": rules.min_support_percent,
        "min_area_percent": rules.min_area_support_percent,
        "passed": meets_support(data, project),
        "from_roster": True,
    }
    context["households"] = households(data, project, residents)
    return context


def _recorded_tally(data: DataSet, project: Project, context: dict[str, Any]) -> dict[str, Any]:
    """The tally of a survey made without a roster: the recorded counts against the community's
    households; nothing by building, no wishes or choices (they are on the paper forms)."""
    counted = survey_tally(data, project)
    survey = project.survey
    assert counted is not None and survey is not None, "the kind's needs() admits no uncounted survey"
    households_total = data.communities[project.community].households
    # One row for the whole community, not a 合计 over building rows it does not have.
    whole = wording(data.root).say("survey.whole")
    total = counted.model_copy(update={"name": whole, "households": max(households_total, counted.asked),
                                       "area_missing": counted.asked})
    rules = data.programme.eligibility
    context["tally"] = {
        "buildings": [], "total": _row(total), "has_area": False, "wanted": [],
        "pays": None, "modes": [], "fund": None, "agreeing": total.support,
        "first_date": survey.date, "last_date": survey.date,
        "min_percent": rules.min_support_percent, "min_area_percent": rules.min_area_support_percent,
        "passed": meets_support(data, project), "from_roster": False,
    }
    context["households"] = []
    return context
