"""Build the render context of each document: plain values (text, Decimal, dates, lists, dicts)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import STAGE_NAMES, Project
from generator.documents.photos import completed_photos, situation_photos
from generator.render.filters import percent, share_parts, to_yuan, wan_parts, yuan
from generator.rules.checks import (
    RECHECK,
    may_cite,
    meets_support,
    neutral_basis,
    paper_dates,
    survey_tally,
)
from generator.rules.consent import describe as consent_text
from generator.rules.funding import (
    Funding,
    Policy,
    general_ratio,
    line_rule,
    number_text,
    pipeline_ratio,
    plan_funding,
    policy,
)

RULE_NAMES = {"general": "一般项目", "pipeline": "管线项目", "public_service": "公共服务设施"}
GAS_AREA_RULE = "一般项目（燃气公司供气区域）"
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
        "consent_rule": consent_text(prog.eligibility.consent) if prog.eligibility.consent else "",
        "built_before_year": prog.eligibility.built_before_year,
        "general_ratio": general_ratio([g.city, g.district, g.residents]),
        "pipeline_ratio": pipeline_ratio(p.utility_percent, p.district_percent),
        "parties": prog.parties.ordered(),
        "general_split": g.model_dump(),
        "pipeline_split": p.model_dump(),
        "funding": prog.funding.model_dump() if prog.funding else None,
        "years": f"{prog.years[0]}—{prog.years[-1]}年",
        "general_remainder_party": prog.parties.model_dump()[g.remainder_to],
        "pipeline_remainder_party": prog.parties.model_dump()[p.remainder_to],
        "excluded_gas_area": p.excluded_gas_area,
        "catalogue_note": data.catalogue.note,
    }


def _district(data: DataSet, name: str) -> dict[str, Any]:
    d = data.districts[name]
    return {"name": d.name, "body_type": d.body_type, "government": d.government,
            "housing_bureau": d.housing_bureau}


def paying(rules: Policy, funding: Funding) -> list[str]:
    """The parties a paper lists: every one that pays, and the general split's even at zero."""
    return [k for k in funding.by_party if funding.by_party[k] or k in rules.general.shares]


def _funding(data: DataSet, funding: Funding, households: int) -> dict[str, Any]:
    rules = policy(data.programme)
    parties = rules.parties
    keys = paying(rules, funding)
    amounts = [funding.by_party[k] for k in keys]
    # Shares and 万元 by largest remainder: the printed column adds up to 100% and to the total.
    rows = [{"key": key, "party": parties[key], "amount": amount, "share": share, "wan": in_wan}
            for key, amount, share, in_wan
            in zip(keys, amounts, share_parts(amounts), wan_parts(amounts), strict=True)]
    return {
        "total": funding.total,
        "total_wan": funding.total / 10000,
        "general_base": funding.general_base,
        "rows": rows,
        "per_household": funding.per_household_residents,
        "households": households,
        "raised": dict(funding.raised),
        **{key: funding.by_party[key] for key in funding.by_party},
    }


def project_context(data: DataSet, project: Project) -> dict[str, Any]:
    """Everything a community's documents can show, from the plan row and the project detail."""
    c = data.communities[project.community]
    items = data.items
    results = {r.item: r for r in project.acceptance.results} if project.acceptance else {}
    funding = plan_funding(data, project, c.households) if project.items else None
    lines: list[dict[str, Any]] = []
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
            "rule_name": (GAS_AREA_RULE if lf.rule == "general" and cat_item.funding == "pipeline"
                          else RULE_NAMES[lf.rule]),
            "parts": lf.parts,
            "result": result.result if result else None,
            "remarks": result.remarks if result else None,
        })
    for entry, in_wan in zip(lines, wan_parts([lf.line.amount for lf in funding.lines])
                             if funding else [], strict=True):
        entry["wan"] = in_wan
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
    m = project.management
    return {
        "programme": programme_context(data),
        "illustrative": project.illustrative,
        "mark": "示例" if project.illustrative else "",
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
        "support_ok": meets_support(data, project),
        "in_gas_company_area": project.in_gas_company_area,
        "floor_area": project.floor_area,
        "items": lines,
        "categories": categories,
        "funding": _funding(data, funding, c.households) if funding else None,
        "funding_text": (text := funding_text(data, project, funding) if funding else []),
        "funding_derivation": "".join(text[-2:]),
        "funding_how": funding_derivations(data, funding) if funding else {},
        "share_note": share_note(data, funding) if funding else "",
        "funding_brief": funding_brief(data, project),
        "catalogue": [
            {"name": cat.name,
             "entries": [{"name": i.name, "content": i.content, "standard": i.standard} for i in cat.items]}
            for cat in data.catalogue.categories
        ],
        "units": project.units.model_dump(),
        "dates": project.dates.model_dump(),
        "notice_days": notice_days,
        "contact": project.contact.model_dump() if project.contact else None,
        "acceptance": _acceptance(project),
        "signatories": signatories(data, project),
        "basis": basis(data, project),
        "eligibility": eligibility(data, project),
        "committee_contact": (project.committee_contact.model_dump()
                              if project.committee_contact else None),
        "attachments": attachments(data, project),
        "management": {
            "body": m.body, "body_name": m.body_name, "property_mode": m.property_mode,
            "property_company": m.property_company, "maintenance_fund": m.maintenance_fund,
            "maintenance_fund_amount": m.maintenance_fund_amount,
        },
        "completion": project.completion.model_dump() if project.completion else None,
        "narrative": project.narrative.model_dump(),
        "photos": {"situation": situation_photos(data, project), "completed": completed_photos(data, project)},
    }


SIGNATORY_ROLES = (
    ("street_office", "街道办事处"), ("committee", "社区居民委员会"),
    ("body", "业主委员会或居民自治小组"), ("property", "物业服务企业"), ("residents", "居民代表"),
    ("design", "设计单位"), ("construction", "施工单位"), ("supervision", "监理单位"),
    ("cost_consulting", "造价咨询单位"), ("utility", "管线单位"),
    ("housing_bureau", "县（区）住房城乡建设部门"),
)
"""Who signs (and stamps) the acceptance, in the order of practice: organiser, residents' side,
the units that built it, the district's housing department that oversees it."""


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
    roles = {**dict(SIGNATORY_ROLES), "utility": data.programme.parties.ordered()["utility"]}
    return [{"role": roles[key], "name": name} for key, _ in SIGNATORY_ROLES for name in names[key]]


PASSED = "通过验收"


def _acceptance(project: Project) -> dict[str, Any] | None:
    """The acceptance record and what it comes to: passed, or 整改后复验 while a failed item stands."""
    a = project.acceptance
    if a is None:
        return None
    return {
        "conclusion": a.conclusion,
        "passed": sum(1 for r in a.results if r.result == "合格"),
        "total": len(a.results),
        "failed": a.failed,
        "verdict": PASSED if a.passed else RECHECK,
        "settlement": a.settlement,
        "remaining_issues": a.remaining_issues or ("无" if not a.failed else None),
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
    return {
        "cites": cites,
        "text": {k: f"根据《{prog.title}》" if c else neutral for k, c in cites.items()},
        "listing": (f"列入《{prog.title}》{year}年改造计划" if cites["application"]
                    else f"列入全市{year}年老旧小区改造计划"),
        "note": (f"依据：{prog.issuance.title}（{prog.issuance.number}）。" if cites["budget"]
                 else f"依据：{neutral.removeprefix('按照')}。"),
    }


def rule_reason(data: DataSet, project: Project, rule: str, item: str) -> str:
    """Why a line is paid as it is, in a resident's words."""
    rules = policy(data.programme)
    names = rules.parties
    group = rules.group_of(data.category_of(item)).label
    if rule == "general" and data.items[item].funding == "pipeline":
        return f"小区位于{data.programme.pipeline_split.excluded_gas_area}，供气改造按{group}分担"
    if rule == "pipeline":
        payers = "和".join(names[k] for k in rules.pipeline.shares)
        return (f"管线项目：表（箱）前段由{payers}分担，表（箱）后段由"
                f"{names[rules.after_meter_party]}承担")
    if rule == "public_service":
        return f"公共服务设施：可引入{names['social_capital']}，其余按{group}分担"
    return group


def _listed(names: dict[str, str], keys: list[str] | dict[str, Any]) -> str:
    """市级财政、县（区）级财政和小区居民."""
    words = [names[k] for k in keys]
    return "、".join(words[:-1]) + "和" + words[-1] if len(words) > 1 else "".join(words)


def funding_text(data: DataSet, project: Project, funding: Funding) -> list[str]:
    """The funding plan in words: which items follow which rule, and how each share comes out."""
    prog = data.programme
    rules = policy(prog)
    names, p = rules.parties, rules.pipeline
    groups: dict[str, list[str]] = {"gas": [], "pipeline": []}
    gas_group = "一般项目"
    before = after = Decimal(0)
    for lf in funding.lines:
        if lf.rule == "general" and data.items[lf.line.item].funding == "pipeline":
            key, gas_group = "gas", rules.group_of(lf.category).label
        elif lf.rule == "pipeline":
            key = "pipeline"
        else:
            key = "group:" + rules.group_of(lf.category).key
        groups.setdefault(key, []).append(f"{lf.line.item}{yuan(lf.line.amount)}元")
        if lf.rule == "pipeline":
            before += lf.line.before_meter or Decimal(0)
            after += lf.line.after_meter or Decimal(0)
    out = []
    for g in funding.groups:
        listed = groups.get("group:" + g.group.key)
        if not listed:
            continue
        paid = "".join(f"，{c.text(names)}" for c in g.group.contributions)
        out.append(f"{g.group.label}（{'、'.join(listed)}）{paid}{'，其余' if paid else ''}由"
                   f"{_listed(names, g.group.split.shares)}按{g.group.split.ratio}的比例分担。")
    if groups["gas"]:
        out.append(f"本小区位于{prog.pipeline_split.excluded_gas_area}，供气改造（{'、'.join(groups['gas'])}）"
                   f"不适用管线分担比例，按{gas_group}分担。")
    if groups["pipeline"]:
        shares = "、".join(f"{names[k]}承担{number_text(v)}%" for k, v in p.shares.items())
        out.append(f"管线项目（{'、'.join(groups['pipeline'])}）的表（箱）前段共{yuan(before)}元，"
                   f"由{shares}；表（箱）后段共{yuan(after)}元，"
                   f"为住户自用部分，由{names[rules.after_meter_party]}自行承担。")
    for g in funding.groups:
        if not (g.raised and any(g.raised.values())) and not g.contributions and len(funding.groups) > 1:
            continue
        less = "".join(f"，减去{names[k]}{yuan(v)}元" for k, v in g.raised.items() if v)
        less += "".join(f"，减去{names[c.party]}{yuan(v)}元" for c, v in g.contributions)
        what = "一般项目合计" if not rules.by_category else f"{g.group.label}合计"
        out.append(f"{'' if not rules.by_category else g.group.label}按比例分担的金额为{what}"
                   f"{yuan(g.items)}元{less}，即{yuan(g.base)}元。")
    rows = dict(zip(paying(rules, funding), _funding(data, funding, 1)["rows"], strict=True))
    how = funding_derivations(data, funding)
    parts = [f"{row['party']}{yuan(row['amount'])}元{f'（{how[key]}）' if how[key] else ''}，"
             f"占预算总额的{percent(row['share'])}" for key, row in rows.items()]
    out.append("各方金额及占比：" + "；".join(parts) + "。" + share_note(data, funding))
    return out


def share_note(data: DataSet, funding: Funding) -> str:
    """Why the printed shares are not the programme's ratios."""
    rules = policy(data.programme)
    ratios = "、".join(dict.fromkeys(g.group.split.ratio for g in funding.groups))
    return (f"各方占比是各方金额除以预算总额{yuan(funding.total)}元所得；管线项目和其他资金"
            f"另有承担方式，所以不等于{ratios or rules.general.ratio}。")


def funding_derivations(data: DataSet, funding: Funding) -> dict[str, str]:
    """How each party's amount comes out of the rules, by party key."""
    rules = policy(data.programme)
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
            for c, amount in g.contributions:
                if c.party == key:
                    pieces.append(f"{g.group.label if rules.by_category else ''}出资{yuan(amount)}元")
            if key in split.shares:
                exact = g.base * split.shares[key] / split.whole
                tail = "，含尾差" if g.parts[key] != exact else ""
                where = g.group.label if rules.by_category else ""
                pieces.append(f"{where}{yuan(g.base)}×{number_text(split.shares[key])}/"
                              f"{number_text(split.whole)}＝{yuan(g.parts[key])}元{tail}")
        # the split's first party always shows its before-meter part, the others when they have one
        if key in p.shares and (key == next(iter(p.shares)) or pipe[key]):
            pieces.append(f"表（箱）前段{yuan(before)}×{number_text(p.shares[key])}%＝{yuan(pipe[key])}元")
        if key == rules.after_meter_party and pipe[key]:
            pieces.append(f"表（箱）后段{yuan(pipe[key])}元")
        if key in rules.raised:
            pieces.append("按筹集数")
        out[key] = "；".join(pieces)
    return out


def funding_brief(data: DataSet, project: Project) -> str:
    """The sharing rules in one sentence, as a posted notice says them."""
    rules = policy(data.programme)
    names, p = rules.parties, rules.pipeline
    groups = rules.groups or (rules.group_of(""),)
    said = []
    for g in groups:
        paid = "".join(f"，{c.text(names)}" for c in g.contributions)
        said.append(f"{g.label}{paid}{'，其余' if paid else ''}按{g.split.ratio}分担")
    text = (f"{'；'.join(said)}；管线表（箱）前段由{'和'.join(names[k] for k in p.shares)}按"
            f"{pipeline_ratio(*p.shares.values())}分担，表（箱）后段由"
            f"{names[rules.after_meter_party]}承担")
    gas = [ln.item for ln in project.items if line_rule(data, project, ln) == "general"
           and data.items[ln.item].funding == "pipeline"]
    if gas:
        text += (f"；本小区在{data.programme.pipeline_split.excluded_gas_area}，{'、'.join(gas)}按"
                 f"{rules.group_of(data.category_of(gas[0])).label}分担")
    return text + "。"


def eligibility(data: DataSet, project: Project) -> dict[str, Any]:
    """The facts the application rests on, each said only as far as the data bears it out.

    ``built`` states the year of building against the programme's before-year rule; ``housing``
    says whether it is a commodity-housing estate; ``old`` is whether the community may be
    called old (built before the rule's year), which the wording about its age follows.
    """
    c = data.communities[project.community]
    limit = data.programme.eligibility.built_before_year
    years = c.built_years
    built_text = c.built + ("年" if c.built and c.built[-1].isdigit() else "") if c.built else ""
    if years is None:
        # An unknown year is said as such: a blank on a paper that is sent asks nobody to fill it.
        built = f"小区建成于{built_text}。" if built_text else "小区建成年代不详。"
    elif years[1] < limit:
        built = f"小区建成于{built_text}，属于{limit}年以前建成的小区。"
    else:
        built = (f"小区建成于{built_text}，不早于{limit}年，不在“{limit}年以前建成”之列，"
                 f"已按年度实施计划列入改造。")
    housing = ("小区为商品房小区，不属于非商品房小区。" if project.commodity_housing
               else "小区为非商品房小区。")
    return {"built": built, "housing": housing,
            "old": years is not None and years[1] < limit}


"""The tally kind's document, by the name it goes out under."""


def attachments(data: DataSet, project: Project) -> list[str]:
    """What goes with the application: the tally of the survey (from the roster's answers or the
    recorded counts), then the signed forms."""
    counted = survey_tally(data, project)
    if counted is None:
        return []
    name = data.communities[project.community].name
    forms = f"{name}老旧小区改造入户意见征询表（{counted.asked}份）"
    return [f"{name}老旧小区改造居民意见征询结果汇总表", forms]
