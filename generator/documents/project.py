"""Build the render context of each document: plain values (text, Decimal, dates, lists, dicts)."""

from __future__ import annotations

from typing import Any

from generator.data.loader import DataSet
from generator.data.models import STAGE_NAMES, Project
from generator.render.filters import share_parts, to_yuan, wan_parts
from generator.rules.checks import meets_support, support_rate
from generator.rules.funding import (
    GENERAL_PARTIES,
    PARTIES,
    Funding,
    general_ratio,
    pipeline_ratio,
    plan_funding,
)

RULE_NAMES = {"general": "一般项目", "pipeline": "管线项目", "public_service": "公共服务设施"}


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
    lines = []
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
            "before_meter": line.before_meter,
            "after_meter": line.after_meter,
            "rule": lf.rule,
            "rule_name": RULE_NAMES[lf.rule],
            "parts": lf.parts,
            "result": result.result if result else None,
            "remarks": result.remarks if result else None,
        })
    categories = []
    for name, amount in (funding.by_category.items() if funding else []):
        categories.append({"name": name, "amount": amount,
                           "entries": [ln for ln in lines if ln["category"] == name]})
    survey = None
    if project.survey:
        s = project.survey
        survey = {"date": s.date, "asked": s.households_asked, "support": s.support,
                  "oppose": s.oppose, "no_answer": s.no_answer, "rate": support_rate(project)}
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
        "catalogue": [
            {"name": cat.name,
             "entries": [{"name": i.name, "content": i.content, "standard": i.standard} for i in cat.items]}
            for cat in data.catalogue.categories
        ],
        "units": project.units.model_dump(),
        "dates": project.dates.model_dump(),
        "notice_days": notice_days,
        "contact": project.contact.model_dump() if project.contact else None,
        "acceptance": (
            {"conclusion": project.acceptance.conclusion,
             "passed": sum(1 for r in project.acceptance.results if r.result == "合格"),
             "total": len(project.acceptance.results)}
            if project.acceptance else None
        ),
        "management": {
            "body": m.body, "body_name": m.body_name, "property_mode": m.property_mode,
            "property_company": m.property_company, "maintenance_fund": m.maintenance_fund,
            "maintenance_fund_amount": m.maintenance_fund_amount,
        },
        "completion": project.completion.model_dump() if project.completion else None,
        "narrative": project.narrative.model_dump(),
    }
