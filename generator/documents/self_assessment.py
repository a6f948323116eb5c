"""The 绩效自评: each indicator tree of the programme scored for a district's year.

A leaf with a measure is scored from the data (points × the rate against its target, at most the
points, rounded to the 分 of a point) and names the records the rate is counted from; a leaf without
one takes the score the district entered in its report data, with the evidence it named. A heading
scores the sum of its children; the tree's total gives the grade.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import AssessmentTree, ScoreIndicator
from generator.documents.figures import assessment_rows, year_figures
from generator.documents.returns import Month, month_return, passed_on
from generator.render.filters import wan
from generator.render.wording import Wording, wording
from generator.rules.checks import survey_tally

HUNDREDTH = Decimal("0.01")

MEASURES = ("households_done", "content_delivered", "acceptance_passed", "management", "started", "completed",
            "fund_received", "fund_used", "investment_done", "support", "filing_on_time", "notice_period")
"""The measures a leaf may be scored by; each one's name and the papers and records its rate is
counted from are the wording's assessment.measure.<key> and assessment.papers.<key>."""


@dataclass(frozen=True)
class Rate:
    """A measure's counts: done of planned, and the communities they come from."""

    done: Decimal
    of: Decimal
    communities: tuple[str, ...]


def _measures(data: DataSet, year: int, district: str) -> dict[str, Rate]:
    """Every measure's counts for a district's plan rows of a year (as of the year's end)."""
    rows = year_figures(data, year, district)
    ids = tuple(r.community.id for r in rows)
    a = next(r for r in assessment_rows(data, year) if r.district == district)
    g = month_return(data, Month(year, 12), [district]).districts[0]
    end = dt.date(year, 12, 31)
    asked = support = filed = accepted = noticed = long_enough = 0
    days, limit = data.programme.notice.min_days, data.programme.returns.completion_filing_days
    for cid in ids:
        p = data.projects.get(cid)
        if p is None:
            continue
        counted = survey_tally(data, p)
        if counted is not None:
            asked, support = asked + counted.asked, support + counted.support
        passed = passed_on(p)
        if passed is not None and passed <= end:
            accepted += 1
            filed += int(p.dates.filing is not None and (p.dates.filing - passed).days <= limit)
        if p.dates.notice_start and p.dates.notice_end:
            noticed += 1
            long_enough += int((p.dates.notice_end - p.dates.notice_start).days + 1 >= days)

    allocated = sorted({k for k, kind in g.funds_yuan if kind == "下达"})

    def rate(done: Decimal | int, of: Decimal | int) -> Rate:
        return Rate(Decimal(done), Decimal(of), ids)

    return {
        "households_done": rate(a.households_done, a.households),
        "content_delivered": rate(a.items_delivered, a.items_planned),
        "acceptance_passed": rate(a.items_passed, a.items_inspected),
        "management": rate(a.bodies + a.property_modes + a.funds, 3 * a.projects),
        "started": rate(g.started, g.communities),
        "completed": rate(g.completed, g.communities),
        # paid in against allocated only for the sources allocated at all (residents' money is never 下达)
        "fund_received": rate(sum((g.fund(k, "到位") for k in allocated), Decimal(0)),
                              sum((g.fund(k, "下达") for k in allocated), Decimal(0))),
        "fund_used": rate(g.fund_total("支出"), g.fund_total("到位")),
        "investment_done": rate(g.spent_wan, g.investment_wan),
        "support": rate(support, asked),
        "filing_on_time": rate(filed, accepted),
        "notice_period": rate(long_enough, noticed),
    }


@dataclass(frozen=True)
class Scored:
    """One indicator scored: its level in the tree, points, score and what the score rests on."""

    level: int
    name: str
    points: Decimal
    score: Decimal | None
    """None: no data (nothing to count, or not entered yet); counted as 0 in the total."""
    how: str
    """computed, entered, or empty for a heading (printed as the wording's assessment.<how>)."""
    basis: str
    evidence: str


def _score(points: Decimal, r: Rate, target: Decimal) -> Decimal | None:
    if not r.of:
        return None
    share = min(r.done / r.of * 100 / target, Decimal(1))
    return (points * share).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def _pct(done: Decimal, of: Decimal) -> str:
    return f"{(done / of * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _leaf(ind: ScoreIndicator, level: int, rates: dict[str, Rate], entered: dict[str, Any], said: Wording) -> Scored:
    if ind.measure is not None:
        r = rates[ind.measure]
        say = said.say
        name, papers = say(f"assessment.measure.{ind.measure}"), say(f"assessment.papers.{ind.measure}")
        divisor = MONEY.get(ind.measure)

        def fmt(value: Decimal) -> str:
            return _fmt(value) if divisor is None else say("assessment.wan", amount=wan(value / divisor, 2))

        basis = (say("assessment.basis", name=name, rate=_pct(r.done, r.of), done=fmt(r.done), of=fmt(r.of),
                     target=_fmt(ind.target))
                 if r.of else say("assessment.no_records", name=name))
        shown = said.join(r.communities[:8]) + (say("join.more") if len(r.communities) > 8 else "")
        return Scored(level, ind.name, ind.points, _score(ind.points, r, ind.target), "computed", basis,
                      say("assessment.evidence", papers=papers, communities=shown) if shown else papers)
    got = entered.get(ind.name)
    if got is None:
        return Scored(level, ind.name, ind.points, None, "entered", "", "")
    return Scored(level, ind.name, ind.points, min(got.score, ind.points).quantize(HUNDREDTH), "entered", "",
                  got.evidence)


MONEY = {"fund_received": Decimal(10000), "fund_used": Decimal(10000), "investment_done": Decimal(1)}
"""Measures counted in money, and what each count is divided by to give 万元 (元, or 万元 already)."""


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def score_tree(data: DataSet, tree: AssessmentTree, year: int, district: str,
               rates: dict[str, Rate] | None = None) -> tuple[list[Scored], Decimal, str]:
    """The tree's rows in order (headings before their children), its total and its grade."""
    rates = rates if rates is not None else _measures(data, year, district)
    report = data.reports.get((district, year))
    entered = {s.indicator: s for s in (report.scores if report else []) if s.tree == tree.key}
    rows: list[Scored] = []
    said = wording(data.root)

    def walk(ind: ScoreIndicator, level: int) -> Decimal:
        if not ind.children:
            leaf = _leaf(ind, level, rates, entered, said)
            rows.append(leaf)
            return leaf.score or Decimal(0)
        at = len(rows)
        rows.append(Scored(level, ind.name, ind.points, None, "", "", ""))
        total = sum((walk(c, level + 1) for c in ind.children), Decimal(0)).quantize(HUNDREDTH)
        rows[at] = Scored(level, ind.name, ind.points, total, "", "", "")
        return total

    total = sum((walk(ind, 1) for ind in tree.indicators), Decimal(0)).quantize(HUNDREDTH)
    grade = next((g.name for g in tree.grades if total > g.above), tree.lowest)
    return rows, total, grade


def assessment_context(data: DataSet, year: int, district: str) -> dict[str, Any]:
    """What the self-assessment workbook and summary are filled from: every tree of the programme."""
    rates = _measures(data, year, district)
    trees: list[dict[str, Any]] = []
    said = wording(data.root)
    indent = said.say("assessment.indent")
    for number, tree in enumerate(data.programme.self_assessment, start=1):
        rows, total, grade = score_tree(data, tree, year, district, rates)
        trees.append({
            "key": tree.key, "title": tree.title, "total": total, "grade": grade, "heading": said.heading(number),
            "points": sum((i.points for i in tree.indicators), Decimal(0)),
            "grades": [{"name": g.name, "above": g.above} for g in tree.grades], "lowest": tree.lowest,
            "rows": [{"level": r.level, "name": r.name, "indent": indent * (r.level - 1) + r.name,
                      "points": r.points, "score": r.score, "how": said.say(f"assessment.{r.how}") if r.how else "",
                      "basis": r.basis,
                      "evidence": r.evidence, "heading": r.how == ""} for r in rows],
            "first": [{"name": r.name, "points": r.points, "score": r.score} for r in rows if r.level == 1],
            "missing": [r.name for r in rows if r.how and r.score is None],
            "short": [{"name": r.name, "points": r.points, "score": r.score} for r in rows
                      if r.how and r.score is not None and r.score < r.points],
        })
    flat: list[dict[str, Any]] = []
    for t in trees:
        flat.append({"indent": said.say("assessment.tree", title=t["title"]), "points": t["points"],
                     "score": t["total"], "how": t["grade"], "basis": "", "evidence": "", "heading": True})
        flat.extend(t["rows"])
    sample = any(r.illustrative for r in year_figures(data, year, district))
    return {"district": district, "year": year, "city": data.programme.city, "trees": trees, "rows": flat,
            "sample": sample, "issuer": data.districts[district].housing_bureau}
