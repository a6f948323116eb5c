"""Build the render context of each document: plain values (text, Decimal, dates, lists, dicts)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import STAGE_NAMES, Project
from generator.documents.photos import completed_photos, situation_photos
from generator.render.filters import percent, share_parts, to_yuan, wan_parts, yuan
from generator.rules.checks import (
    NEUTRAL_BASIS,
    RECHECK,
    may_cite,
    meets_support,
    paper_dates,
    survey_tally,
)
from generator.rules.funding import (
    GENERAL_PARTIES,
    PARTIES,
    Funding,
    general_ratio,
    line_rule,
    number_text,
    pipeline_ratio,
    plan_funding,
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
        "built_before_year": prog.eligibility.built_before_year,
        "general_ratio": general_ratio([g.city, g.district, g.residents]),
        "pipeline_ratio": pipeline_ratio(p.utility_percent, p.district_percent),
        "parties": prog.parties.model_dump(),
        "general_split": g.model_dump(),
        "pipeline_split": p.model_dump(),
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


def _funding(data: DataSet, funding: Funding, households: int) -> dict[str, Any]:
    parties = data.programme.parties.model_dump()
    keys = [k for k in PARTIES if funding.by_party[k] or k in GENERAL_PARTIES]
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
    return [{"role": role, "name": name} for key, role in SIGNATORY_ROLES for name in names[key]]


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
    return {
        "cites": cites,
        "text": {k: f"根据《{prog.title}》" if c else NEUTRAL_BASIS for k, c in cites.items()},
        "listing": (f"列入《{prog.title}》{year}年改造计划" if cites["application"]
                    else f"列入全市{year}年老旧小区改造计划"),
        "note": (f"依据：{prog.issuance.title}（{prog.issuance.number}）。" if cites["budget"]
                 else f"依据：{NEUTRAL_BASIS.removeprefix('按照')}。"),
    }


def rule_reason(data: DataSet, project: Project, rule: str, item: str) -> str:
    """Why a line is paid as it is, in a resident's words."""
    p = data.programme.pipeline_split
    if rule == "general" and data.items[item].funding == "pipeline":
        return f"小区位于{p.excluded_gas_area}，供气改造按一般项目分担"
    if rule == "pipeline":
        return "管线项目：表（箱）前段由管线单位和县（区）政府分担，表（箱）后段由居民承担"
    if rule == "public_service":
        return "公共服务设施：可引入社会资本，其余按一般项目分担"
    return "一般项目"


def funding_text(data: DataSet, project: Project, funding: Funding) -> list[str]:
    """The funding plan in words: which items follow which rule, and how each share comes out."""
    prog = data.programme
    names = prog.parties.model_dump()
    g, p = prog.general_split, prog.pipeline_split
    ratio = general_ratio([g.city, g.district, g.residents])
    groups: dict[str, list[str]] = {"general": [], "gas": [], "pipeline": [], "public_service": []}
    before = after = Decimal(0)
    for lf in funding.lines:
        key = "gas" if lf.rule == "general" and data.items[lf.line.item].funding == "pipeline" \
            else lf.rule
        groups[key].append(f"{lf.line.item}{yuan(lf.line.amount)}元")
        if lf.rule == "pipeline":
            before += lf.line.before_meter or Decimal(0)
            after += lf.line.after_meter or Decimal(0)
    out = []
    if groups["general"] or groups["public_service"]:
        listed = "、".join(groups["general"] + groups["public_service"])
        out.append(f"一般项目（{listed}）由{names['city']}、{names['district']}和"
                   f"{names['residents']}按{ratio}的比例分担。")
    if groups["gas"]:
        out.append(f"本小区位于{p.excluded_gas_area}，供气改造（{'、'.join(groups['gas'])}）"
                   f"不适用管线分担比例，按一般项目分担。")
    if groups["pipeline"]:
        out.append(f"管线项目（{'、'.join(groups['pipeline'])}）的表（箱）前段共{yuan(before)}元，"
                   f"由{names['utility']}承担{number_text(p.utility_percent)}%、县（区）政府承担"
                   f"{number_text(p.district_percent)}%；表（箱）后段共{yuan(after)}元，"
                   f"为住户自用部分，由{names['residents']}自行承担。")
    other = project.other_funding
    general_total = funding.general_base + other.maintenance_fund + other.social_capital
    less = "".join(f"，减去{names[k]}{yuan(v)}元" for k, v in
                   (("maintenance_fund", other.maintenance_fund),
                    ("social_capital", other.social_capital)) if v)
    out.append(f"按比例分担的金额为一般项目合计{yuan(general_total)}元{less}，"
               f"即{yuan(funding.general_base)}元。")
    rows = dict(zip([k for k in PARTIES if funding.by_party[k] or k in GENERAL_PARTIES],
                    _funding(data, funding, 1)["rows"], strict=True))
    how = funding_derivations(data, funding)
    parts = [f"{row['party']}{yuan(row['amount'])}元（{how[key]}），占预算总额的{percent(row['share'])}"
             for key, row in rows.items()]
    out.append("各方金额及占比：" + "；".join(parts) + "。" + share_note(data, funding))
    return out


def share_note(data: DataSet, funding: Funding) -> str:
    """Why the printed shares are not the general ratio."""
    g = data.programme.general_split
    ratio = general_ratio([g.city, g.district, g.residents])
    return (f"各方占比是各方金额除以预算总额{yuan(funding.total)}元所得；管线项目和其他资金"
            f"另有承担方式，所以不等于{ratio}。")


def funding_derivations(data: DataSet, funding: Funding) -> dict[str, str]:
    """How each party's amount comes out of the rules, by party key."""
    prog = data.programme
    g, p = prog.general_split, prog.pipeline_split
    whole = g.city + g.district + g.residents
    shares = {"city": g.city, "district": g.district, "residents": g.residents}
    pipes = [lf for lf in funding.lines if lf.rule == "pipeline"]
    before = sum((lf.line.before_meter or Decimal(0) for lf in pipes), Decimal(0))
    pipe = {k: sum((lf.parts.get(k, Decimal(0)) for lf in pipes), Decimal(0))
            for k in ("utility", "district", "residents")}
    out = {}
    for key in PARTIES:
        pieces = []
        if key in shares:
            exact = funding.general_base * shares[key] / whole
            tail = "，含尾差" if funding.general_parts[key] != exact else ""
            pieces.append(f"{yuan(funding.general_base)}×{shares[key]}/{whole}"
                          f"＝{yuan(funding.general_parts[key])}元{tail}")
        if key == "utility" or (key == "district" and pipe["district"]):
            pct = p.utility_percent if key == "utility" else p.district_percent
            pieces.append(f"表（箱）前段{yuan(before)}×{number_text(pct)}%＝{yuan(pipe[key])}元")
        if key == "residents" and pipe["residents"]:
            pieces.append(f"表（箱）后段{yuan(pipe['residents'])}元")
        if key in ("maintenance_fund", "social_capital"):
            pieces.append("按筹集数")
        out[key] = "；".join(pieces)
    return out


def funding_brief(data: DataSet, project: Project) -> str:
    """The sharing rules in one sentence, as a posted notice says them."""
    prog = data.programme
    n = prog.parties
    g, p = prog.general_split, prog.pipeline_split
    text = (f"一般项目按{general_ratio([g.city, g.district, g.residents])}分担；管线表（箱）前段由"
            f"{n.utility}和县（区）政府按{pipeline_ratio(p.utility_percent, p.district_percent)}"
            f"分担，表（箱）后段由居民承担")
    gas = [ln.item for ln in project.items if line_rule(data, project, ln) == "general"
           and data.items[ln.item].funding == "pipeline"]
    if gas:
        text += f"；本小区在{p.excluded_gas_area}，{'、'.join(gas)}按一般项目分担"
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
