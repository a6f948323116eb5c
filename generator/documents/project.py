"""Build the render context of each document: plain values (text, Decimal, dates, lists, dicts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import STAGE_NAMES, Project
from generator.documents.photos import completed_photos, situation_photos
from generator.render.filters import TEN_THOUSAND, cn_date, percent, to_yuan, yuan
from generator.render.wording import wording
from generator.rules.checks import (
    may_cite,
    meets_support,
    neutral_basis,
    paper_dates,
    survey_tally,
)
from generator.rules.consent import describe as consent_text
from generator.rules.funding import (
    Contribution,
    Funding,
    Policy,
    gas_in_company_area,
    general_ratio,
    line_rule,
    number_text,
    pipeline_ratio,
    plan_funding,
    policy,
)

RULES = ("general", "pipeline", "public_service", "gas_area")
"""The funding rules a line may follow, each named by the wording's rule_name.<rule> (gas_area: a gas
line in the gas company's area, shared as a general one)."""


def rule_names(data_root: Path | None) -> dict[str, str]:
    """Each funding rule's name as papers and workbooks print it (the 资金渠道 column)."""
    say = wording(data_root).say
    return {rule: say(f"rule_name.{rule}") for rule in RULES}


def built_text(data: DataSet, built: str | None) -> str:
    """A community's 建成时间 as papers say it: 1990 → 1990年, 1990年代 as it is."""
    if not built:
        return ""
    return wording(data.root).say("community.built", built=built, digits=built[-1].isdigit())
"""The funding channel a gas line in the gas company's area shows: general, and why."""


def programme_context(data: DataSet) -> dict[str, Any]:
    """What every document may say about the programme itself."""
    prog = data.programme
    g = prog.general_split
    p = prog.pipeline_split
    return {
        "city": prog.city,
        "title": prog.title,
        "doc_number": prog.issuance.number,
        "doc_title": prog.issuance.title,
        "issuers": list(prog.issuance.issuers),
        "doc_date": prog.issuance.date,
        "report_recipient": prog.report_recipient,
        "min_support_percent": prog.eligibility.min_support_percent,
        # The programme's own consent rule in one sentence ("" for the 90 % of the seed).
        "consent_rule": consent_text(prog.eligibility.consent, wording(data.root)) if prog.eligibility.consent else "",
        "built_before_year": prog.eligibility.built_before_year,
        # A programme whose categories are the whole rule has no general or pipeline split.
        "general_ratio": general_ratio([g.city, g.district, g.residents]) if g else "",
        "pipeline_ratio": pipeline_ratio(p.utility_percent, p.district_percent) if p else "",
        "parties": prog.parties.ordered(),
        "general_split": g.model_dump() if g else None,
        "pipeline_split": p.model_dump() if p else None,
        "funding": prog.funding.model_dump() if prog.funding else None,
        "years": wording(data.root).say("programme.years", first=prog.years[0], last=prog.years[-1]),
        "rule_names": rule_names(data.root),
        "general_remainder_party": prog.parties.model_dump()[g.remainder_to] if g else "",
        "pipeline_remainder_party": prog.parties.model_dump()[p.remainder_to] if p else "",
        "excluded_gas_area": p.excluded_gas_area if p else "",
        "catalogue_note": data.catalogue.note,
    }


def _district(data: DataSet, name: str) -> dict[str, Any]:
    d = data.districts[name]
    return {"name": d.name, "body_type": d.body_type, "government": d.government,
            "housing_bureau": d.housing_bureau}


def paying(rules: Policy, funding: Funding) -> list[str]:
    """The parties a paper lists: every one that pays, and the general split's even at zero."""
    return [k for k in funding.by_party if funding.by_party[k] or k in rules.general.shares]


def _funding(data: DataSet, project: Project, funding: Funding, households: int) -> dict[str, Any]:
    rules = policy(data.programme)
    names = _names_of(data, project)
    keys = paying(rules, funding)
    total = funding.total
    # Each share and 万元 figure is its own amount ÷ total (or ÷ 10000), rounded plainly when printed;
    # where the rounded figures do not add up to the total, rounding_note says so beside the table.
    rows: list[dict[str, Any]] = [{"key": key, "party": names[key], "amount": funding.by_party[key],
             "share": funding.by_party[key] / total if total else Decimal(0),
             "wan": funding.by_party[key] / TEN_THOUSAND} for key in keys]
    return {
        "total": total,
        "total_wan": total / TEN_THOUSAND,
        "general_base": funding.general_base,
        "rows": rows,
        "rounding_note": rounding_note(data, [funding.by_party[k] for k in keys], total),
        "per_household": funding.per_household_residents,
        "households": households,
        "raised": dict(funding.raised),
        **{key: funding.by_party[key] for key in funding.by_party},
    }


def rounding_note(data: DataSet, amounts: list[Decimal], total: Decimal) -> str:
    """The 尾差 note a table of amounts in 万元 and shares needs when its rounded figures do not
    add up to the total (and to 100 %), or "" when they do."""
    if not total:
        return ""
    share_sum = sum((round_half_up(a / total, SHARE_PLACES) for a in amounts), Decimal(0))
    wan_sum = sum((round_half_up(a / TEN_THOUSAND, 2) for a in amounts), Decimal(0))
    total_wan = round_half_up(total / TEN_THOUSAND, 2)
    share_gap, wan_gap = abs(share_sum - 1), abs(wan_sum - total_wan)
    if not share_gap and not wan_gap:
        return ""
    return wording(data.root).say("funding.rounding_note", share_sum=percent(share_sum),
                                  share_gap=percent(share_gap) if share_gap else "",
                                  wan_sum=f"{wan_sum:,.2f}", total_wan=f"{total_wan:,.2f}",
                                  wan_gap=f"{wan_gap:.2f}" if wan_gap else "")


SHARE_PLACES = 3
"""A share is printed to 0.1 %: three decimals of the ratio."""


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Plain rounding, as the percent and wan filters print."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _management(data: DataSet, project: Project) -> dict[str, Any]:
    """The long-term management as facts (``mode`` professional / self / "") and the sentences
    the notice and the plan print from them."""
    m, say = project.management, wording(data.root).say
    mode = ("professional" if m.property_mode == "专业化物业管理" else "self" if m.property_mode else "")
    return {
        "body": m.body, "body_name": m.body_name, "property_mode": m.property_mode, "mode": mode,
        "property_company": m.property_company, "maintenance_fund": m.maintenance_fund,
        "maintenance_fund_amount": m.maintenance_fund_amount,
        "notice": say("notice.management", body=m.body or "", mode=mode, fund=bool(m.maintenance_fund)),
        "self_governance": say("plan.self_governance", body=m.body or "", body_name=m.body_name or "",
                               street_office=project.street_office, committee=project.community_committee),
        "property": say("plan.property", mode=mode, company=m.property_company or ""),
        "fund": say("plan.maintenance_fund", fund=bool(m.maintenance_fund),
                    amount=yuan(m.maintenance_fund_amount) if m.maintenance_fund_amount else ""),
    }


def survey_result(data: DataSet, survey: dict[str, Any] | None, met: bool) -> str:
    """The application's and the plan's sentence on the survey, against the programme's own
    consent rule (or its minimum support rate), or "" before the survey."""
    if survey is None:
        return ""
    prog = data.programme
    consent = prog.eligibility.consent
    return wording(data.root).say(
        "survey.result", date=cn_date(survey["date"]), asked=survey["asked"], support=survey["support"],
        oppose=survey["oppose"], no_answer=survey["no_answer"], rate=percent(survey["rate"]),
        met=met, min_percent=prog.eligibility.min_support_percent,
        consent_rule=consent_text(consent, wording(data.root)) if consent else "")


def _plan_sentences(data: DataSet, project: Project) -> dict[str, Any]:
    """The plan's overview, schedule and each unit (or who will choose it), as sentences."""
    c, u, d = data.communities[project.community], project.units, project.dates
    say = wording(data.root).say
    built = built_text(data, c.built)
    return {
        "overview": say("plan.overview", name=c.name, district=c.district, location=c.location or "",
                        built=built, households=c.households, buildings=len(project.buildings),
                        street_office=project.street_office, committee=project.community_committee,
                        year=c.year, investment_wan=c.investment_wan),
        "schedule": say("plan.schedule", start=cn_date(d.start) if d.start else "",
                        completion=cn_date(d.completion) if d.completion else ""),
        "units_said": {key: say("plan.unit", name=getattr(u, key) or "", street_office=project.street_office)
                       for key in ("design", "cost_consulting", "construction", "supervision")},
    }


def _arrangements(data: DataSet, project: Project) -> str:
    """The notice's 实施安排: who builds and supervises, and when."""
    u, d = project.units, project.dates
    return wording(data.root).say(
        "notice.arrangements", construction=u.construction or "", supervision=u.supervision or "",
        street_office=project.street_office, start=cn_date(d.start) if d.start else "",
        completion=cn_date(d.completion) if d.completion else "")


_REUSED: dict[str, Any] = {"data": None, "last": None}
"""The data set a build makes documents of, and the last (project, context) worked out for it."""


@contextmanager
def contexts_reused(data: DataSet) -> Iterator[None]:
    """Within: the documents of one community made one after another (as a build makes them)
    share one project_context, worked out for the first; each gets its own copy of the top level."""
    previous = _REUSED["data"]
    _REUSED.update(data=data, last=None)
    try:
        yield
    finally:
        _REUSED.update(data=previous, last=None)


def project_context(data: DataSet, project: Project) -> dict[str, Any]:
    """Everything a community's documents can show, from the plan row and the project detail."""
    if data is not _REUSED["data"]:
        return _project_context(data, project)
    last = _REUSED["last"]  # one read: the pool's feeder thread and this one may both ask
    if last is not None and last[0] is project:
        return dict(last[1])
    context = _project_context(data, project)
    _REUSED["last"] = (project, context)
    return dict(context)


def _project_context(data: DataSet, project: Project) -> dict[str, Any]:
    c = data.communities[project.community]
    items = data.items
    results = {r.item: r for r in project.acceptance.results} if project.acceptance else {}
    funding = plan_funding(data, project, c.households) if project.items else None
    lines: list[dict[str, Any]] = []
    names = rule_names(data.root)
    for no, lf in enumerate(funding.lines if funding else [], start=1):
        line = lf.line
        cat_item = items[line.item]
        result = results.get(line.item)
        lines.append({
            "no": no,
            "category": lf.category,
            "item": line.item,
            "content": cat_item.content,
            "standard": cat_item.standard,
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "amount": line.amount,
            # A gas line in the gas company's area is a general item: its meter parts are not
            # printed, so no 表前/表后 column or total mixes the two rules.
            "before_meter": line.before_meter if lf.rule == "pipeline" else None,
            "after_meter": line.after_meter if lf.rule == "pipeline" else None,
            "rule_reason": rule_reason(data, project, lf.rule, line.item),
            "rule": lf.rule,
            # The budget's SUMIF reads any name but 管线项目 as general: gas in the company's
            # area says why it is general right on its line.
            "rule_name": names["gas_area" if gas_in_company_area(data, lf.rule, line.item) else lf.rule],
            "parts": lf.parts,
            "result": result.result if result else None,
            "remarks": result.remarks if result else None,
        })
    for entry in lines:
        entry["wan"] = entry["amount"] / TEN_THOUSAND
    categories = []
    for name, amount in (funding.by_category.items() if funding else []):
        categories.append({"name": name, "amount": amount,
                           "entries": [ln for ln in lines if ln["category"] == name]})
    survey = None
    counted = survey_tally(data, project)
    if counted is not None and project.survey is not None:
        survey = {"date": project.survey.date, "asked": counted.asked, "support": counted.support,
                  "oppose": counted.oppose, "no_answer": counted.no_answer,
                  "rate": Decimal(counted.support) / counted.asked}
    notice_days = None
    if project.dates.notice_start and project.dates.notice_end:
        notice_days = (project.dates.notice_end - project.dates.notice_start).days + 1
    programme = programme_context(data)
    # A community's papers name the district's share under its own government (party.district).
    programme["parties"] = {k: v for k, v in party_names(data, c.district).items() if k in programme["parties"]}
    return {
        "programme": programme,
        "illustrative": project.illustrative,
        "mark": wording(data.root).say("mark.sample") if project.illustrative else "",
        "community": {
            "id": c.id, "seq": c.seq, "name": c.name, "built": c.built, "location": c.location,
            "households": c.households, "investment_wan": c.investment_wan,
            "investment": to_yuan(c.investment_wan), "year": c.year,
        },
        "district": _district(data, c.district),
        "stage": STAGE_NAMES[project.stage],
        "street_office": project.street_office,
        "community_committee": project.community_committee,
        "problems": list(project.problems),
        "buildings": [{"name": b.name, "households": b.households} for b in project.buildings],
        "survey": survey,
        "survey_result": survey_result(data, survey, support_ok := meets_support(data, project)),
        "survey_said": wording(data.root).say(
            "notice.survey", asked=survey["asked"] if survey else 0, support=survey["support"] if survey else 0,
            rate=percent(survey["rate"]) if survey else ""),
        "support_ok": support_ok,
        "in_gas_company_area": project.in_gas_company_area,
        "floor_area": project.floor_area,
        "items": lines,
        "categories": categories,
        "funding": _funding(data, project, funding, c.households) if funding else None,
        "funding_rules": funding_rules(data, project),
        "funding_text": (text := funding_text(data, project, funding) if funding else []),
        "funding_derivation": "".join(text[-2:]),
        # the plan's paragraphs under its funding table: the 尾差 note first, beside the table
        "funding_paragraphs": ([note] if funding and (note := rounding_note(
            data, [funding.by_party[k] for k in paying(policy(data.programme), funding)], funding.total)) else [])
        + text[:-1],
        "funding_how": funding_derivations(data, project, funding) if funding else {},
        # each contribution as the budget workbook's 减 rows say it, by group key and place in the group
        "contributions_said": {f"{g.key}/{i}": contribution_text(data, c, data.programme.parties.ordered())
                               for g in policy(data.programme).groups for i, c in enumerate(g.contributions)},
        "share_note": share_note(data, funding) if funding else "",
        "funding_brief": funding_brief(data, project),
        "catalogue": [
            {"name": cat.name,
             "entries": [{"name": i.name, "content": i.content, "standard": i.standard} for i in cat.items]}
            for cat in data.catalogue.categories
        ],
        "units": project.units.model_dump(),
        "arrangements": _arrangements(data, project),
        **_plan_sentences(data, project),
        "dates": project.dates.model_dump(),
        "notice_days": notice_days,
        "contact": project.contact.model_dump() if project.contact else None,
        "acceptance": _acceptance(data, project),
        "signatories": signatories(data, project),
        "basis": basis(data, project),
        "eligibility": eligibility(data, project),
        "committee_contact": (project.committee_contact.model_dump()
                              if project.committee_contact else None),
        "attachments": attachments(data, project),
        "management": _management(data, project),
        "completion": project.completion.model_dump() if project.completion else None,
        "narrative": project.narrative.model_dump(),
        "photos": {"situation": situation_photos(data, project), "completed": completed_photos(data, project)},
    }


SIGNATORY_ROLES = ("street_office", "committee", "body", "property", "residents", "design", "construction",
                   "supervision", "cost_consulting", "utility", "housing_bureau")
"""Who signs (and stamps) the acceptance, in the order of practice: organiser, residents' side,
the units that built it, the district's housing department that oversees it; each called by the
wording's signatory.<role>, the utilities by the programme's name for them."""


def signatories(data: DataSet, project: Project) -> list[dict[str, str]]:
    """The acceptance panel: one row per signing body, named from the data where it is known."""
    m, u = project.management, project.units
    names: dict[str, list[str]] = {
        "street_office": [project.street_office], "committee": [project.community_committee],
        "body": [m.body_name or m.body or ""], "property": [m.property_company or ""],
        "residents": [""], "design": [u.design or ""], "construction": [u.construction or ""],
        "supervision": [u.supervision or ""], "cost_consulting": [u.cost_consulting or ""],
        "utility": list(u.utilities) or [""],
        "housing_bureau": [data.districts[data.communities[project.community].district].housing_bureau],
    }
    # The utilities sign under the programme's own name for them (管线单位, 专营单位 …).
    say = wording(data.root).say
    roles = {key: data.programme.parties.ordered()["utility"] if key == "utility" else say(f"signatory.{key}")
             for key in SIGNATORY_ROLES}
    return [{"role": roles[key], "name": name} for key in SIGNATORY_ROLES for name in names[key]]


def _acceptance(data: DataSet, project: Project) -> dict[str, Any] | None:
    """The acceptance record and what it comes to: passed, or 整改后复验 while a failed item stands."""
    a = project.acceptance
    if a is None:
        return None
    return {
        "conclusion": a.conclusion,
        "passed": sum(1 for r in a.results if r.result == "合格"),
        "total": len(a.results),
        "failed": a.failed,
        "verdict": wording(data.root).say("acceptance.passed" if a.passed else "acceptance.recheck"),
        "settlement": a.settlement,
        "remaining_issues": a.remaining_issues or (wording(data.root).say("acceptance.no_issues")
                                                   if not a.failed else None),
        "rectification_deadline": a.rectification_deadline,
        "rectification": a.rectification.model_dump() if a.rectification else None,
    }


def basis(data: DataSet, project: Project) -> dict[str, Any]:
    """How each paper names its basis: the programme document only if the paper is dated after it.

    ``cites`` says per paper whether it may cite; ``text`` is the opening phrase (根据《…》, or
    the neutral wording); ``listing`` how the application says the community is in the plan;
    ``note`` the budget workbook's line on its basis.
    """
    prog = data.programme
    year = data.communities[project.community].year
    cites = {key: may_cite(data, day) for key, day in paper_dates(project).items()}
    neutral = neutral_basis(data, year)
    say = wording(data.root).say
    cited = say("basis.cite", title=prog.title)
    return {
        "cites": cites,
        "text": {k: cited if c else neutral for k, c in cites.items()},
        "listing": (say("basis.listing_cite", title=prog.title, year=year) if cites["application"]
                    else say("basis.listing_neutral", year=year)),
        "note": (say("basis.note_cite", title=prog.issuance.title, number=prog.issuance.number) if cites["budget"]
                 else say("basis.note_neutral", basis=neutral.removeprefix("按照"))),
    }


def party_names(data: DataSet, district: str) -> dict[str, str]:
    """The parties as a community's papers name them: the district's share under its own
    government or 管委会 (districts.yaml), through the wording's ``party.district``."""
    names = dict(policy(data.programme).parties)
    if "district" in names and district in data.districts:
        d = data.districts[district]
        names["district"] = wording(data.root).say("party.district", party=names["district"],
                                                   district=d.name, government=d.government)
    return names


def _names_of(data: DataSet, project: Project) -> dict[str, str]:
    return party_names(data, data.communities[project.community].district)


def _gas_area(data: DataSet) -> str:
    """The gas company's area, where gas is a general item ("" for a programme without a pipeline rule)."""
    p = data.programme.pipeline_split
    return p.excluded_gas_area if p else ""


def rule_reason(data: DataSet, project: Project, rule: str, item: str) -> str:
    """Why a line is paid as it is, in a resident's words."""
    rules = policy(data.programme)
    names, say = _names_of(data, project), wording(data.root).say
    group = rules.group_of(data.category_of(item)).label
    if gas_in_company_area(data, rule, item):
        return say("rule.gas_area", gas_area=_gas_area(data), group=group)
    if rule == "pipeline":
        return say("rule.pipeline", payers=say("join.and").join(names[k] for k in rules.pipeline.shares),
                   after_party=names[rules.after_meter_party])
    if rule == "public_service":
        return say("rule.public_service", social_capital=names["social_capital"], group=group)
    return group


def _listed(data: DataSet, names: dict[str, str], keys: list[str] | dict[str, Any]) -> str:
    """市级财政、县（区）级财政和小区居民."""
    return wording(data.root).listing([names[k] for k in keys])


def contribution_text(data: DataSet, c: Contribution, names: dict[str, str]) -> str:
    """A contribution as papers say it: 小区居民按每平方米20元出资，最多200000元."""
    return wording(data.root).say("contribution", party=names[c.party], how=c.how, rate=number_text(c.rate),
                                  cap=number_text(c.cap) if c.cap is not None else "")


def _paid(data: DataSet, contributions: tuple[Contribution, ...], names: dict[str, str]) -> str:
    comma = wording(data.root).say("join.comma")
    return "".join(comma + contribution_text(data, c, names) for c in contributions)


def funding_rules(data: DataSet, project: Project) -> str:
    """The plan's opening of its funding section: the programme's sharing rules, as they touch
    this community (the pipeline rule only where it has a pipeline item)."""
    rules, say = policy(data.programme), wording(data.root).say
    names = _names_of(data, project)
    groups = say("join.clauses").join(
        say("funding.rule_group", group=g.label, paid=_paid(data, g.contributions, names),
            parties=_listed(data, names, g.split.shares), ratio=g.split.ratio)
        for g in (rules.groups or (rules.group_of(""),)))
    pipes = any(line_rule(data, project, ln) == "pipeline" for ln in project.items)
    pipeline = (say("funding.rule_pipeline", parties=_listed(data, names, rules.pipeline.shares),
                    ratio=pipeline_ratio(*rules.pipeline.shares.values()),
                    after_party=names[rules.after_meter_party]) if pipes else "")
    return say("funding.rules", groups=groups, pipeline=pipeline)


def funding_text(data: DataSet, project: Project, funding: Funding) -> list[str]:
    """The funding plan in words: which items follow which rule, and how each share comes out."""
    prog = data.programme
    rules, said = policy(prog), wording(data.root)
    say, listed_by = said.say, said.join
    names, p = _names_of(data, project), rules.pipeline
    groups: dict[str, list[str]] = {"gas": [], "pipeline": []}
    gas_group = rules.group_of("").label
    before = after = Decimal(0)
    for lf in funding.lines:
        if gas_in_company_area(data, lf.rule, lf.line.item):
            key, gas_group = "gas", rules.group_of(lf.category).label
        elif lf.rule == "pipeline":
            key = "pipeline"
        else:
            key = "group:" + rules.group_of(lf.category).key
        groups.setdefault(key, []).append(say("funding.item", item=lf.line.item, amount=yuan(lf.line.amount)))
        if lf.rule == "pipeline":
            before += lf.line.before_meter or Decimal(0)
            after += lf.line.after_meter or Decimal(0)
    out = []
    for g in funding.groups:
        listed = groups.get("group:" + g.group.key)
        if not listed:
            continue
        out.append(say("funding.group", group=g.group.label, items=listed_by(listed),
                       paid=_paid(data, g.group.contributions, names),
                       parties=_listed(data, names, g.group.split.shares), ratio=g.group.split.ratio))
    if groups["gas"]:
        out.append(say("funding.gas", gas_area=_gas_area(data),
                       items=listed_by(groups["gas"]), group=gas_group))
    if groups["pipeline"]:
        shares = listed_by(say("funding.pipeline_share", party=names[k], percent=number_text(v))
                           for k, v in p.shares.items())
        out.append(say("funding.pipeline", items=listed_by(groups["pipeline"]), before=yuan(before),
                       shares=shares, after=yuan(after), after_party=names[rules.after_meter_party]))
    for g in funding.groups:
        if not (g.raised and any(g.raised.values())) and not g.contributions and len(funding.groups) > 1:
            continue
        less = "".join(say("funding.deduction", party=names[k], amount=yuan(v)) for k, v in g.raised.items() if v)
        less += "".join(say("funding.deduction", party=names[c.party], amount=yuan(v)) for c, v in g.contributions)
        out.append(say("funding.base", group=g.group.label if rules.by_category else "",
                       label=g.group.label, items_total=yuan(g.items), deductions=less,
                       base=yuan(g.base)))
    how = funding_derivations(data, project, funding)
    parts = [say("funding.share_part", party=row["party"], amount=yuan(row["amount"]), how=how[row["key"]],
                 share=percent(row["share"]))
             for row in _funding(data, project, funding, 1)["rows"]]
    out.append(say("funding.shares", parts=listed_by(parts, "clauses")) + share_note(data, funding))
    return out


def share_note(data: DataSet, funding: Funding) -> str:
    """How the printed shares come out, and why they differ from the programme's ratios, said
    only where they do differ."""
    rules = policy(data.programme)
    ratios = wording(data.root).join(dict.fromkeys(g.group.split.ratio for g in funding.groups))
    pipeline = any(lf.rule == "pipeline" for lf in funding.lines)
    deducted = any(g.contributions or any(g.raised.values()) for g in funding.groups)
    categories = len({g.group.split.ratio for g in funding.groups}) > 1
    return wording(data.root).say("funding.share_note", total=yuan(funding.total),
                                  ratios=ratios or rules.general.ratio, pipeline=pipeline,
                                  deducted=deducted, categories=categories)


def funding_derivations(data: DataSet, project: Project, funding: Funding) -> dict[str, str]:
    """How each party's amount comes out of the rules, by party key."""
    rules, say = policy(data.programme), wording(data.root).say
    p = rules.pipeline
    pipes = [lf for lf in funding.lines if lf.rule == "pipeline"]
    before = sum((lf.line.before_meter or Decimal(0) for lf in pipes), Decimal(0))
    pipe = {k: sum((lf.parts.get(k, Decimal(0)) for lf in pipes), Decimal(0))
            for k in (*p.shares, rules.after_meter_party)}
    out = {}
    for key in funding.by_party:
        pieces = []
        for g in funding.groups:
            split = g.group.split
            where = g.group.label if rules.by_category else ""
            for c, amount in g.contributions:
                if c.party == key:
                    pieces.append(say("how.contribution", group=where, amount=yuan(amount)))
            if key in split.shares:
                exact = g.base * split.shares[key] / split.whole
                pieces.append(say("how.split", group=where, base=yuan(g.base),
                                  share=number_text(split.shares[key]), whole=number_text(split.whole),
                                  amount=yuan(g.parts[key]), tail=g.parts[key] != exact))
        # the before-meter part only where the project has pipeline items
        if key in p.shares and pipes and (key == next(iter(p.shares)) or pipe[key]):
            pieces.append(say("how.before_meter", before=yuan(before), share=number_text(p.shares[key]),
                              amount=yuan(pipe[key])))
        if key == rules.after_meter_party and pipe[key]:
            pieces.append(say("how.after_meter", amount=yuan(pipe[key])))
        if key in rules.raised:
            pieces.append(say("how.raised"))
        out[key] = wording(data.root).join(pieces, "clauses")
    return out


def funding_brief(data: DataSet, project: Project) -> str:
    """The sharing rules in one sentence, as a posted notice says them."""
    rules, say = policy(data.programme), wording(data.root).say
    names, p = _names_of(data, project), rules.pipeline
    groups = rules.groups or (rules.group_of(""),)
    said = say("join.clauses").join(say("brief.group", group=g.label, paid=_paid(data, g.contributions, names),
                        ratio=g.split.ratio) for g in groups)
    pipes = any(line_rule(data, project, ln) == "pipeline" for ln in project.items)
    pipeline = (say("brief.pipeline", parties=say("join.and").join(names[k] for k in p.shares),
                    ratio=pipeline_ratio(*p.shares.values()), after_party=names[rules.after_meter_party])
                if pipes else "")
    gas = [ln.item for ln in project.items if gas_in_company_area(data, line_rule(data, project, ln), ln.item)]
    return say("brief", groups=said, pipeline=pipeline, gas_area=_gas_area(data),
               gas_items=say("join.list").join(gas),
               gas_group=rules.group_of(data.category_of(gas[0])).label if gas else "")


def eligibility(data: DataSet, project: Project) -> dict[str, Any]:
    """The facts the application rests on, each said only as far as the data bears it out.

    ``built`` states the year of building against the programme's before-year rule; ``housing``
    says whether it is a commodity-housing estate; ``old`` is whether the community may be
    called old (built before the rule's year), which the wording about its age follows.
    """
    c = data.communities[project.community]
    limit = data.programme.eligibility.built_before_year
    say = wording(data.root).say
    years = c.built_years
    built_said = built_text(data, c.built)
    if years is None:
        # An unknown year is said as such: a blank on a paper that is sent asks nobody to fill it.
        built = (say("eligibility.built_text_only", built=built_said, limit=limit) if built_said
                 else say("eligibility.built_unknown", limit=limit))
    elif years[1] < limit:
        built = say("eligibility.built_old", built=built_said, limit=limit)
    else:
        built = say("eligibility.built_new", built=built_said, limit=limit)
    housing = say("eligibility.commodity" if project.commodity_housing else "eligibility.non_commodity")
    return {"built": built, "housing": housing,
            "old": years is not None and years[1] < limit}


def attachments(data: DataSet, project: Project) -> list[str]:
    """What goes with the application: the tally of the survey (from the roster's answers or the
    recorded counts), then the signed forms."""
    counted = survey_tally(data, project)
    if counted is None:
        return []
    name = data.communities[project.community].name
    say = wording(data.root).say
    return [say("attachment.tally", name=name), say("attachment.forms", name=name, count=counted.asked)]
