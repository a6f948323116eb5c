"""The pilot report (年度工作总结 in later years) of a district or of the city: its context and where it goes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import CITY_REPORT, STAGE_NAMES, Dispatch, DistrictReport, Narrative
from generator.documents.charts import Legend, Pair, plan_chart, source_chart
from generator.documents.figures import (
    ProjectFigures,
    Totals,
    ratio,
    row_keys,
    totals,
    year_figures,
)
from generator.documents.paths import CITY, file_name, safe_name
from generator.documents.photos import before_after
from generator.documents.satisfaction import district_satisfaction
from generator.render.filters import (
    TEN_THOUSAND,
    cn_date,
    percent,
    to_yuan,
    wan,
    wan_rounded,
)
from generator.render.wording import wording

# ---------------------------------------------------------------- labels (change wording here)

PLAN_FOLDER = "计划"
"""The folder of the programme's plan table (all years in one workbook)."""


def plan_path(data: DataSet) -> str:
    """Where the plan table goes under the output folder."""
    return f"{PLAN_FOLDER}/{file_name(data, 'plan-table', '.xlsx')}"


def assessment_path(data: DataSet, year: int) -> str:
    """Where a year's assessment goes under the output folder."""
    return f"{year}/{CITY}/{file_name(data, 'assessment', '.xlsx', year=year)}"


def statistics_path(data: DataSet, year: int, month: int) -> str:
    """Where a month's statistics return goes under the output folder."""
    return f"{year}/{CITY}/{file_name(data, 'statistics', '.xlsx', year=year, month=f'{month:02d}')}"


def self_assessment_path(data: DataSet, year: int, district: str, key: str, suffix: str) -> str:
    """Where a district's self-assessment (key: its table or its summary) goes under the output folder."""
    folder = safe_name(district)
    return f"{year}/{folder}/{file_name(data, key, suffix, year=year, district=folder)}"


# The printed words are in templates/wording.yaml (report.target_row.*, report.district_head.*,
# report.city_head.*, report.district_part.*, report.narrative.*): only their keys are here.
TARGET_ROWS = ("communities", "households", "investment")
DISTRICT_HEADS = ("targets", "projects", "funding")
CITY_HEADS = ("targets", "districts", "projects", "funding")
DISTRICT_PARTS = {  # section → narrative fields of a district's own report, each under its sub-heading
    "practices": ("practices", "results"),
    "experience": ("experience",),  # the one part without a sub-heading
    "problems": ("problems", "suggestions"),
}
CITY_PARTS = {  # section → narrative fields each district contributes under its own name
    "practices": ("practices", "results"),
    "experience": ("experience",),
    "problems": ("problems", "suggestions"),
}
LINE_CHARS = 28
"""Characters on a line of the report template (GB/T 9704: 28 of 3号 in the 156 mm type area)."""


# ---------------------------------------------------------------- formatting helpers


def _wan_text(amount: Decimal) -> str:
    """A printed 万元 figure written in prose: 750.00 → '750', 2868.69 → '2868.69'."""
    return format(amount.normalize(), "f") if amount else "0"


def _rate(say: Callable[..., str], done: Decimal | int, planned: Decimal | int) -> str:
    value = ratio(done, planned)
    return say("report.none_yet") if value is None else percent(value)


def _width(text: str) -> float:
    """Printed width in characters of the body font: a digit or underscore is half a character."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.5 for ch in text)


def signature(name: str, date: str) -> dict[str, str]:
    """Sender and date placed by leading spaces on the 28-character line (GB/T 9704 7.3.5).

    The date ends four characters before the right margin and the sender is centred over it;
    a longer sender ends two characters before the margin, with the date centred under it.
    Leading spaces, because Word and LibreOffice drop trailing ones in right-aligned lines.
    """
    name_w, date_w = _width(name), _width(date)
    date_start = LINE_CHARS - 4 - date_w
    name_start = date_start + (date_w - name_w) / 2
    if name_start + name_w > LINE_CHARS - 2:
        name_start = LINE_CHARS - 2 - name_w
        date_start = name_start + (name_w - date_w) / 2
    return {"name": _indent(name_start) + name, "date": _indent(date_start) + date}


def _indent(chars: float) -> str:
    """Full-width spaces, and an en space for a half character."""
    halves = max(0, round(chars * 2))
    return "\u3000" * (halves // 2) + "\u2002" * (halves % 2)


# ---------------------------------------------------------------- the report's context


def _paragraph(say: Callable[..., str], narrative: Narrative | None, key: str, who: str) -> dict[str, Any]:
    text = getattr(narrative, key) if narrative is not None else None
    if text:
        return {"text": text, "fill": False, "last": False}
    return {"text": say("report.fill", who=who, what=say(f"report.narrative.{key}")), "fill": True, "last": False}


def _last_kept(out: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Mark the body's last paragraph, which the template keeps on the page of 特此报告 and the
    signature, so the last page never holds the closing and the signature alone."""
    out["problems"][-1]["paragraphs"][-1]["last"] = True
    return out


def _narratives(data: DataSet, year: int, district: str | None) -> dict[str, list[dict[str, Any]]]:
    """Sections 一 to 四 in each district's own words; a missing text is a visible fill-in mark."""
    def story(name: str) -> Narrative | None:
        report = data.reports.get((name, year))
        return report.narrative if report else None

    said = wording(data.root)
    say = said.say
    if district is not None:
        own = story(district)
        first = _paragraph(say, own, "situation", district)
        out = {"situation": [{"heading": "", "paragraphs": [first]}]}
        for section, keys in DISTRICT_PARTS.items():
            out[section] = [{"heading": say(f"report.district_part.{key}") if len(keys) > 1 else "",
                             "paragraphs": [_paragraph(say, own, key, district)]}
                            for key in keys]
        return _last_kept(out)
    names = list(data.districts)
    out = {"situation": [{"heading": "", "paragraphs": [
        _paragraph(say, story(name), "situation", name) for name in names]}]}
    for section, keys in CITY_PARTS.items():
        out[section] = [
            {"heading": say("report.city_part", n=said.heading(i, level=2), name=name),
             "paragraphs": [_paragraph(say, story(name), key, name) for key in keys]}
            for i, name in enumerate(names, start=1)
        ]
    return _last_kept(out)


@dataclass(frozen=True)
class Printed:
    """The 万元 figures of a group of plan rows as the tables print them.

    Every figure is plain rounding of its own 元 to 0.01万元 (filters.wan_rounded): a party's
    cell, a project's 合计, a district's or the city's sum. A finance reviewer recomputes each
    figure from its amount; where a printed row or column then does not add up to its printed
    合计, the table's 尾差 note (rounding_note) says so. The district report and the city report
    round the same 元, so they agree to the 0.01万元.
    """

    parts: dict[str, Decimal]
    total: Decimal
    investment: Decimal


def printed(rows: list[ProjectFigures]) -> tuple[list[Printed | None], Printed]:
    """Each finished row's printed money (None before completion) and the printed sums."""
    out: list[Printed | None] = []
    keys = row_keys(rows)
    parts = {k: Decimal(0) for k in keys}
    investment = Decimal(0)
    for r in rows:
        planned = to_yuan(r.community.investment_wan)
        investment += planned
        if not r.finished:
            out.append(None)
            continue
        for k in keys:
            parts[k] += r.actual[k]
        out.append(Printed({k: wan_rounded(r.actual[k]) for k in keys},
                           wan_rounded(sum((r.actual[k] for k in keys), Decimal(0))), wan_rounded(planned)))
    return out, Printed({k: wan_rounded(v) for k, v in parts.items()},
                        wan_rounded(sum(parts.values(), Decimal(0))), wan_rounded(investment))


@dataclass(frozen=True)
class Line:
    """A printed row or column of a 万元 table: its figures and the 合计 printed for them."""

    name: str
    column: bool
    figures: list[Decimal]
    total: Decimal


GAPS_NAMED = 4
"""Rows and columns a 尾差 note names one by one; the others it counts. A city's table of
hundreds of projects would otherwise carry a note as long as the table."""


def rounding_note(say: Callable[..., str], lines: list[Line]) -> str:
    """The 尾差 note under a 万元 table whose printed rows or columns do not add up to their
    printed 合计 (each figure being plain rounding of its own amount), or "" when all do.
    The lines are named in the order given, the first GAPS_NAMED of them."""
    gaps = []
    for line in lines:
        added = sum(line.figures, Decimal(0))
        if line.figures and added != line.total:
            gaps.append((line, added))
    if not gaps:
        return ""
    named = [say("report.rounding_gap", name=line.name, column=line.column, sum=_money(added),
                 total=_money(line.total), gap=f"{abs(added - line.total):.2f}")
             for line, added in gaps[:GAPS_NAMED]]
    return say("report.rounding_note", gaps=say("join.clauses").join(named), more=len(gaps) - len(named))


def _money(value: Decimal) -> str:
    """A printed 万元 figure: 2,819.89."""
    return f"{value:,.2f}"


def _project_rows(say: Callable[..., str],
                  rows: list[ProjectFigures]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Table rows of planned against done, and of money paid in by source (万元)."""
    projects, funding = [], []
    each, _ = printed(rows)
    none_yet = say("report.none_yet")
    for no, (r, p) in enumerate(zip(rows, each, strict=True), start=1):
        c = r.community
        stage = STAGE_NAMES[r.stage] if r.stage else say("report.not_started")
        projects.append({
            "no": no, "name": c.name, "district": c.district, "households": c.households,
            "households_done": r.households_done if r.finished else none_yet,
            "investment": wan(c.investment_wan, 2),
            "actual": _money(p.total) if p else none_yet,
            "stage": stage,
        })
        money = {k: _money(p.parts[k]) if p else none_yet for k in row_keys(rows)}
        total = _money(p.total) if p else none_yet
        funding.append({"no": no, "name": c.name, **money, "amounts": list(money.values()), "total": total})
    return projects, funding


def _district_row(say: Callable[..., str], name: str, t: Totals, rows: list[ProjectFigures]) -> dict[str, Any]:
    _, sums = printed(rows)
    return {
        "name": name, "communities": t.communities, "finished": t.finished,
        "households": t.households, "households_done": t.households_done,
        "investment": _money(sums.investment), "actual": _money(sums.total),
        "rate": _rate(say, t.households_done, t.households),
    }


def _rounding_notes(say: Callable[..., str], rows: list[ProjectFigures], sums: Printed,
                    parties: dict[str, str], groups: dict[str, list[ProjectFigures]]) -> dict[str, str]:
    """The 尾差 note of each 万元 table: its rows and columns against their printed 合计."""
    each, _ = printed(rows)
    done = [p for p in each if p is not None]
    planned = [wan_rounded(to_yuan(r.community.investment_wan)) for r in rows]
    investment, actual = say("report.column_investment"), say("report.column_actual")
    by_district = [printed(own)[1] for own in groups.values()]
    total = say("report.total_line")
    return {
        "districts": rounding_note(say, [
            Line(investment, True, [s.investment for s in by_district], sums.investment),
            Line(actual, True, [s.total for s in by_district], sums.total)] if groups else []),
        "projects": rounding_note(say, [Line(investment, True, planned, sums.investment),
                                        Line(actual, True, [p.total for p in done], sums.total)]),
        # the 合计 row and the columns first: a reviewer checks them before any project's row
        "funding": rounding_note(say, [
            Line(total, False, list(sums.parts.values()), sums.total),
            *(Line(parties[k], True, [p.parts[k] for p in done], v) for k, v in sums.parts.items()),
            Line(total, True, [p.total for p in done], sums.total),
            *(Line(r.community.name, False, list(p.parts.values()), p.total)
              for r, p in zip(rows, each, strict=True) if p is not None)]),
    }


def _bodies(data: DataSet, names: list[str]) -> str:
    """'各县（区）政府及××管委会': how the source names the districts' governing bodies."""
    governments = [n for n in names if data.districts[n].body_type == "政府"]
    committees = [n for n in names if data.districts[n].body_type == "管委会"]
    return wording(data.root).say("report.bodies", governments=len(governments), committees=tuple(committees))


def _legend(say: Callable[..., str]) -> Legend:
    return Legend(say("chart.planned"), say("chart.done"), lambda rate: say("chart.rate", rate=rate))


def _charts(say: Callable[..., str], targets: list[dict[str, Any]], values: list[tuple[Decimal, Decimal]],
            sums: Printed, funding_total: dict[str, str], parties: dict[str, str],
            target_label: str) -> dict[str, Any]:
    """图1 planned against done (the 完成情况 table's rows), 图2 the money by source (the 资金到位
    table's 合计 row) once any came in; each figure as its table prints it."""
    pairs = [Pair(row["name"], planned, done, str(row["target"]), str(row["done"]), row["rate"])
             for row, (planned, done) in zip(targets, values, strict=True)]
    caption = say("report.plan_chart", n=1, target=target_label)
    out: dict[str, Any] = {"plan": {"picture": plan_chart(pairs, caption, _legend(say)), "caption": caption,
                                    "pairs": [asdict(p) for p in pairs]}}
    out["funding"] = None
    if sums.total:
        caption = say("report.funding_chart", n=2)
        names = [parties[k] for k in sums.parts]
        values_ = list(sums.parts.values())
        texts = [funding_total[k] for k in sums.parts]
        out["funding"] = {"picture": source_chart(names, values_, texts, caption), "caption": caption,
                          "names": names, "values": values_, "texts": texts}
    return out


def report_context(data: DataSet, year: int, district: str | None = None) -> dict[str, Any]:
    """One district's pilot report (年度工作总结 in later years), or with None the city's."""
    prog = data.programme
    pilot = year == prog.pilot.year
    say = wording(data.root).say
    rows = year_figures(data, year, district)
    t = totals(rows)
    report = data.reports.get((district or CITY_REPORT, year))
    date = report.date if report else None
    plan = (t.communities, t.households, t.investment_wan)
    _, sums = printed(rows)
    if district is not None:
        sender = data.districts[district].government
        recipient = prog.report_recipient
        target, target_label = plan, say("report.words.district_target", pilot=pilot)
        opening = say("report.district_opening", title=prog.title, number=prog.issuance.number,
                      district=district, year=year, pilot=pilot)
        heads = {k: say(f"report.district_head.{k}") for k in DISTRICT_HEADS}
    else:
        sender = prog.report_recipient
        recipient = say("report.city_government", city=prog.city)
        p = prog.pilot
        target = (p.communities, p.households, p.investment_wan) if pilot else plan
        target_label = say("report.words.target", pilot=pilot)
        names = list(data.districts)
        missing = [n for n in names if (n, year) not in data.reports]
        given = dict(title=prog.title, number=prog.issuance.number, year=year,
                     doc=say("report.words.doc_of_year", year=year, pilot=pilot),
                     work=say("report.words.work", pilot=pilot))
        if len(missing) == len(names):
            opening = say("report.city_opening_none", **given)
        else:
            opening = say("report.city_opening", **given, bodies=_bodies(data, names),
                          missing=say("report.missing", names=say("join.list").join(missing)) if missing else "")
        heads = {k: say(f"report.city_head.{k}", **({"target": target_label} if k == "targets" else {}))
                 for k in CITY_HEADS}
    figures = dict(
        year=year, n=target[0], households=target[1], wan=wan(target[2]),
        as_of=cn_date(date) if date else say("report.blank", what=say("report.blank.as_of")),
        finished=t.finished, accepted=t.accepted,
        done=t.households_done, actual=_wan_text(sums.total),
        r1=_rate(say, t.finished, target[0]), r2=_rate(say, t.households_done, target[1]),
        r3=_rate(say, t.actual_total, target[2] * TEN_THOUSAND),
    )
    if district is not None:
        summary = say("report.district_summary", district=district,
                      scope=say("report.words.scope", pilot=pilot), **figures)
    else:
        differs = say("report.plan_differs", n=plan[0], households=plan[1], wan=wan(plan[2]))
        summary = say("report.city_summary", target=target_label, plan=differs if plan != target else "",
                      **figures)
    projects, funding = _project_rows(say, rows)
    row_names = [say(f"report.target_row.{k}") for k in TARGET_ROWS]
    targets = [
        {"name": row_names[0], "target": target[0], "done": t.finished, "rate": figures["r1"]},
        {"name": row_names[1], "target": target[1], "done": t.households_done,
         "rate": figures["r2"]},
        {"name": row_names[2], "target": wan(target[2], 2), "done": _money(sums.total),
         "rate": figures["r3"]},
    ]
    funding_total = {**{k: _money(v) for k, v in sums.parts.items()}, "total": _money(sums.total)}
    plan_values = [(Decimal(target[0]), Decimal(t.finished)),
                   (Decimal(target[1]), Decimal(t.households_done)),
                   (Decimal(target[2]), sums.total)]
    district_rows = []
    if district is None:
        district_rows = [
            _district_row(say, name, totals(own := [r for r in rows if r.community.district == name]), own)
            for name in data.districts
        ]
    notes = _rounding_notes(say, rows, sums, prog.parties.ordered(),
                            {name: [r for r in rows if r.community.district == name]
                             for name in data.districts} if district is None else {})
    illustrative = any(r.illustrative for r in rows)
    satisfaction = district_satisfaction(data, year, district)
    return {
        "year": year,
        "pilot": pilot,
        "district": district or CITY,
        "mark": say("report.sample_mark") if illustrative else "",
        "title": say("report.title", sender=sender, year=year, pilot=pilot),
        "recipient": (report.document.recipient if report and report.document.recipient
                      else recipient),
        "opening": opening,
        "summary": summary,
        "heads": heads,
        "target_label": target_label,
        "targets": targets,
        "charts": _charts(say, targets, plan_values, sums, funding_total, prog.parties.ordered(),
                          target_label),
        # the residents' satisfaction survey's figure, for a city's template to print (None without one)
        "satisfaction": satisfaction,
        "satisfaction_text": say("report.satisfaction", year=year, communities=satisfaction["communities"],
                                 score=satisfaction["score"], rate=satisfaction["rate_text"]) if satisfaction else "",
        "districts": district_rows,
        "district_total": _district_row(say, CITY, t, rows),
        "projects": projects,
        "project_total": {"households": t.households, "households_done": t.households_done,
                          "investment": _money(sums.investment),
                          "actual": _money(sums.total), "stage": say("report.finished_count", n=t.finished)},
        "funding": funding,
        "funding_total": funding_total,
        # the 尾差 notes under the districts', projects' and funding tables ("" where all add up)
        "rounding_notes": notes,
        # the funding table's columns: the programme's parties, as many as it has
        "funding_parties": [prog.parties.ordered()[k] for k in sums.parts],
        "funding_total_amounts": [funding_total[k] for k in sums.parts],
        "parties": prog.parties.ordered(),
        **_narratives(data, year, district),
        "closing": say("report.closing"),
        "sign": signature(sender, cn_date(date)),
        "doc": dispatch(report, sender, recipient, say),
        # Projects are unpacked one at a time, and only until the report's pairs are found.
        "photos": before_after(data, (data.projects[r.community.id] for r in rows
                                      if r.community.id in data.projects)),
    }


def dispatch(report: DistrictReport | None, sender: str, recipient: str, say: Callable[..., str]) -> dict[str, Any]:
    """The 公文 parts around the body: 版头, 发文字号, 签发人, 主送, 附件说明 and 版记, in the wording's words.

    What the report's data leaves out is a visible 【待填写】 mark, never a guess.
    """
    d = report.document if report else Dispatch()
    date = report.date if report else None

    def filled(value: object, what: str) -> str:
        return str(value) if value else say("report.blank", what=say(f"report.blank.{what}"))

    if d.agency_code is None and d.number is None:
        number = filled(None, "doc_number")
    else:
        number = say("report.doc_number", code=filled(d.agency_code, "agency_code"),
                     year=filled(date.year if date else None, "year"), number=filled(d.number, "number"))
    if d.cc is None:
        cc = say("report.cc", names=filled(None, "cc"))
    else:
        cc = say("report.cc", names=say("join.comma").join(d.cc)) if d.cc else ""
    # 版记: the office flush left and the date flush right on one line; `printed` keeps both for
    # a template that prints them as one text.
    office = filled(d.office, "office")
    printed_on = cn_date(d.print_date) if d.print_date else filled(None, "print_date")
    return {
        "masthead": say("report.masthead", sender=sender),
        "number": number,
        "signer": filled(d.signer, "signer"),
        "recipient": d.recipient or recipient,
        "attachments": [],
        "cc": cc,
        "printed": say("report.printed", office=office, date=printed_on),
        "office": office,
        "printed_on": printed_on,
    }


# ---------------------------------------------------------------- which documents, where


def report_years(data: DataSet) -> list[int]:
    """The pilot year, and each later year with a district's report or a finished project."""
    pilot = data.programme.pilot.year
    later = [y for y in data.programme.years if y > pilot and (
        any(year == y for _, year in data.reports)
        or any(r.finished for r in year_figures(data, y)))]
    return [pilot, *later]


def report_path(data: DataSet, year: int, district: str | None) -> str:
    """Where a district's (or, with None, the city's) report goes under the output folder."""
    folder = safe_name(district) if district else CITY
    name = file_name(data, "pilot-report", ".docx", year=year, district=folder if district else "",
                     pilot=year == data.programme.pilot.year)
    return f"{year}/{folder}/{name}"
