"""The satisfaction survey's papers (the questionnaire per household and blank, the tally with its
charts) and its figures for the district report and the annual assessment."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import Project
from generator.data.roster import household_address, mask_name, mask_room
from generator.data.satisfaction import SatisfactionSurvey, full_mark
from generator.documents.charts import source_chart
from generator.documents.project import project_context
from generator.documents.survey import Residents
from generator.render.filters import percent
from generator.render.wording import Wording, wording
from generator.rules.satisfaction import CENT, Score, tally


def surveys_of(data: DataSet, community: str) -> list[str]:
    """The community's satisfaction surveys by id, oldest first."""
    return [sid for _, sid in sorted((s.date, sid) for sid, s in data.satisfaction.items()
                                     if s.community == community)]


def _questionnaire(data: DataSet, survey_id: str) -> dict[str, Any]:
    s: SatisfactionSurvey = data.satisfaction[survey_id]
    c = data.communities[s.community]
    said = wording(data.root)
    return {
        "id": survey_id, "title": s.title or said.say("satisfaction.title", community=c.name),
        "date": s.date, "organizer": s.organizer or "", "illustrative": s.illustrative,
        "scale": [{"text": a.text, "score": a.score, "satisfied": a.satisfied} for a in s.scale],
        "choices": said.join((said.say("satisfaction.choice", answer=a.text) for a in s.scale), "choices"),
        "groups": [{"no": gi, "name": g.name, "questions": [{"no": no, "text": q.text}
                                                              for no, grp, q in s.numbered() if grp is g]}
                   for gi, g in enumerate(s.groups, start=1)],
        "count": len(s.numbered()),
    }


def form_context(data: DataSet, project: Project, blank: int | None = None,
                 residents: Residents = "full") -> dict[str, Any]:
    """The questionnaires: one per roster household (pre-filled), then blank ones (one, or `blank`);
    residents masked in a copy for anyone but the street office."""
    context = project_context(data, project)
    roster = data.rosters.get(project.community)
    forms: list[dict[str, Any]] = []
    if roster is not None and blank is None:
        full = residents == "full"
        forms = [{"address": h.address if full else household_address(h.building, h.unit or "", mask_room(h.room)),
                  "head": (h.head or "") if full else mask_name(h.head), "blank": False} for h in roster.households]
    forms += [{"address": "", "head": "", "blank": True}] * (blank or 1)
    context["surveys"] = [{**_questionnaire(data, sid), "forms": [{"no": no, **f} for no, f in
                                                                  enumerate(forms, start=1)]}
                          for sid in surveys_of(data, project.community)]
    return context


def _score(s: Score, order: list[str], said: Wording) -> dict[str, Any]:
    return {"name": s.name, "answered": s.answered, "score": s.score, "rate": s.rate,
            "counts": said.join(said.say("satisfaction.count", answer=t, count=s.counts[t]) for t in order)}


def tally_context(data: DataSet, project: Project) -> dict[str, Any]:
    """Each answered survey's tally by question and by group, with a chart of each."""
    context = project_context(data, project)
    said = wording(data.root)
    say = said.say
    out = []
    for sid in surveys_of(data, project.community):
        if sid not in data.responses:
            continue
        t = tally(data, sid)
        order = [a.text for a in data.satisfaction[sid].scale]
        q = _questionnaire(data, sid)
        groups = [_score(g, order, said) for g in t.groups]
        scored = [g for g in t.groups if g.score is not None]
        names = [g.name for g in scored] + [say("satisfaction.overall")] * (t.overall.score is not None)
        values = [g.score for g in scored] + ([t.overall.score] if t.overall.score is not None else [])
        stem = q["title"].removesuffix(say("satisfaction.form_suffix"))
        caption = say("satisfaction.groups_caption", title=stem)
        full = full_mark(data.satisfaction[sid])  # a bar's length is its share of the full mark
        chart = source_chart(names, [v for v in values if v is not None],
                             [say("satisfaction.points", score=v) for v in values], caption, full) if values else None
        questions = [{"no": no, "group": g, **_score(s, order, said)} for no, g, s in t.questions]
        scored_q = [x for x in questions if x["score"] is not None]
        q_caption = say("satisfaction.questions_caption", title=stem)
        q_chart = source_chart([say("satisfaction.question", number=x["no"]) for x in scored_q],
                               [x["score"] for x in scored_q],
                               [say("satisfaction.points", score=x["score"]) for x in scored_q], q_caption,
                               full) if scored_q else None
        out.append({**q, "returned": t.returned, "households": data.communities[project.community].households,
                    "questions": questions, "groups": groups, "overall": _score(t.overall, order, said),
                    "charts": {"groups": {"picture": chart, "caption": caption} if chart else None,
                               "questions": {"picture": q_chart, "caption": q_caption} if q_chart else None}})
    context["surveys"] = out
    return context


def needs_questionnaire(data: DataSet, community: str) -> str | None:
    """Why the community has no questionnaire to print, or None."""
    return None if surveys_of(data, community) else "没有居民满意度调查（satisfaction/）"


def needs_answers(data: DataSet, community: str) -> str | None:
    """Why the community has no satisfaction tally yet, or None."""
    from generator.documents.charts import missing_font

    if not any(sid in data.responses for sid in surveys_of(data, community)):
        return "没有收回的满意度调查问卷（satisfaction/调查编号.csv）"
    return missing_font()


@dataclass(frozen=True)
class CommunitySurvey:
    """A community's satisfaction figure as the assessment prints it: its latest answered survey,
    or its latest survey when none has answers (then no score)."""

    community: str
    district: str
    name: str
    households: int
    survey: str
    date: dt.date
    returned: int
    answered: int
    score: Decimal | None
    rate: Decimal | None
    mean: Decimal | None
    """The unrounded mean score, which the district's mean is made from."""
    satisfied: int


def community_surveys(data: DataSet, year: int, district: str | None = None) -> list[CommunitySurvey]:
    """Each community of the year (and district) with a satisfaction survey, in the communities' order."""
    latest: dict[str, tuple[bool, dt.date, str]] = {}
    for sid, s in data.satisfaction.items():
        c = data.communities[s.community]
        if c.year != year or district is not None and c.district != district:
            continue
        key = (sid in data.responses, s.date, sid)  # an answered survey wins over a later empty one
        if s.community not in latest or key > latest[s.community]:
            latest[s.community] = key
    out = []
    for cid in (c for c in data.communities if c in latest):
        c = data.communities[cid]
        _, date, sid = latest[cid]
        t = tally(data, sid)
        o = t.overall
        out.append(CommunitySurvey(cid, c.district, c.name, c.households, sid, date, t.returned, o.answered,
                                   o.score, o.rate, o.total / o.answered if o.answered else None, o.satisfied))
    return out


def summary(found: list[CommunitySurvey]) -> dict[str, Any] | None:
    """The communities' figure together: their mean score (each community once), 满意率 over all
    answers, questionnaires returned and the survey dates; None when none has answers."""
    scored = [x for x in found if x.mean is not None]
    if not scored:
        return None
    answered = sum(x.answered for x in scored)
    satisfied = sum(x.satisfied for x in scored)
    mean = (sum((x.mean for x in scored if x.mean is not None), Decimal(0)) / len(scored)).quantize(
        CENT, rounding=ROUND_HALF_UP)
    return {"communities": len(scored), "score": mean, "rate": Decimal(satisfied) / answered,
            "rate_text": percent(Decimal(satisfied) / answered), "returned": sum(x.returned for x in scored),
            "first": min(x.date for x in scored), "last": max(x.date for x in scored)}


def district_satisfaction(data: DataSet, year: int, district: str | None) -> dict[str, Any] | None:
    """The report's figure: the communities of a year (and district) with an answered survey, their
    mean score (each community once) and 满意率 over all answers; None when there are none."""
    return summary(community_surveys(data, year, district))


def assessment_satisfaction(data: DataSet, year: int) -> dict[str, Any]:
    """The annual assessment's 居民满意度 sheet: each district's and the city's figure with the number
    of the year's communities, and each surveyed community's."""
    found = community_surveys(data, year)
    planned = Counter(c.district for c in data.communities.values() if c.year == year)
    districts = [{"district": name, "projects": planned[name],
                  "figure": summary([x for x in found if x.district == name])} for name in data.districts]
    return {"districts": districts, "city": {"projects": sum(planned.values()), "figure": summary(found)},
            "communities": found}
