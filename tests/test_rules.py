"""Every rule of generator.rules.checks: a case that passes and a case that fails, on small data sets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from generator.rules.checks import RULES, Finding
from tests.helpers import DataDir, good_project

DROP = object()
"""A change value that removes the key."""


@pytest.fixture
def dd(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


def changed(project: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply {'items.1.amount': 270000, 'acceptance': DROP} to a project's data (an index one past
    the end of a list appends)."""
    for path, value in changes.items():
        *head, last = [int(k) if k.isdigit() else k for k in path.split(".")]
        node = project
        for key in head:
            node = node[key]
        if value is DROP:
            del node[last]
        elif isinstance(node, list) and last == len(node):
            node.append(value)
        else:
            node[last] = value
    return project


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


# ---------------------------------------------------------------- the bundled plan


def test_bundled_plan_gives_exactly_the_known_warnings(dd: DataDir) -> None:
    findings = dd.findings()
    assert [f for f in findings if f.severity == "error"] == []
    totals = only([f for f in findings if f.rule == "PLAN-TOTALS"])
    assert totals.severity == "warning"
    assert totals.where == "方案一 东区"
    assert totals.file == "data/programme.yaml"
    assert totals.message == "方案正文写东区预计投资8347万元，附件1逐行合计为8347.5万元"
    built = [f for f in findings if f.rule == "ELIG-BUILT-YEAR"]
    assert [f.where for f in built] == [
        "序号6 林业大院", "序号8 米易县教师园区（一期）", "序号25 大河南路社区木综厂小区"
    ]
    assert {f.severity for f in built} == {"warning"}
    assert "建成时间“1985—2000”不早于2000年" in built[0].message
    assert "（计划已印发，仅作提示）" in built[0].message
    assert "建成时间“2007”" in built[2].message
    # the plan rows leave six blanks in 建成时间: shown, but not errors
    unknown = [f for f in findings if f.rule == "ELIG-BUILT-UNKNOWN"]
    assert [f.where.split()[0] for f in unknown] == [
        "序号1", "序号2", "序号10", "序号11", "序号21", "序号22"
    ]
    assert {f.rule for f in findings} == {"PLAN-TOTALS", "ELIG-BUILT-YEAR", "ELIG-BUILT-UNKNOWN"}


# ---------------------------------------------------------------- plan rules (section 一, annex 1)


def test_plan_totals_pass_when_prose_matches_rows(dd: DataDir) -> None:
    def fix(p: Any) -> None:
        p["stated"]["districts"][0]["investment_wan"] = 8347.5

    dd.edit("programme.yaml", fix)
    assert dd.findings("PLAN-TOTALS") == []


@pytest.mark.parametrize(("key", "value", "where", "message"), [
    ("households", 13786, "方案一 全市", "方案正文写涉及13786户，附件1合计13785户"),
    ("communities", 31, "方案一 全市", "方案正文写共31个小区，附件1共30个"),
    ("investment_yi_approx", 2.5, "方案一 全市", "方案正文写总投资约2.5亿元，附件1合计25765.5万元"),
])
def test_plan_totals_fail_on_citywide_figures(
    dd: DataDir, key: str, value: Any, where: str, message: str
) -> None:
    dd.edit("programme.yaml", lambda p: p["stated"].update({key: value}))
    findings = [f for f in dd.findings("PLAN-TOTALS") if f.where == where]
    f = only(findings)
    assert (f.severity, f.field, f.message) == ("warning", f"stated.{key}", message)


def test_plan_pilot_pass_on_bundled_targets(dd: DataDir) -> None:
    assert dd.findings("PLAN-PILOT") == []


def test_plan_pilot_fail_when_target_differs(dd: DataDir) -> None:
    dd.edit("programme.yaml", lambda p: p["pilot"].update(households=4070))
    f = only(dd.findings("PLAN-PILOT"))
    assert (f.severity, f.where) == ("warning", "2018年试点目标")
    assert f.message == "试点目标户数为4070，附件1该年度合计为4071"


SWAP_ROW = {"id": "dongqu-31", "seq": 31, "name": "新增替换小区", "district": "东区",
            "built": "1990", "households": 300, "investment_wan": 750, "year": 2018,
            "replaces": "dongqu-01"}


def _add_row(dd: DataDir, row: dict[str, Any], withdraw: str | None = None) -> None:
    def change(data: Any) -> None:
        data["communities"].append(row)
        for r in data["communities"]:
            if r["id"] == withdraw:
                r["status"] = "withdrawn"

    dd.edit("communities.yaml", change)


def test_plan_swap_pass_when_one_project_replaces_another(dd: DataDir) -> None:
    _add_row(dd, SWAP_ROW, withdraw="dongqu-01")
    assert dd.findings("PLAN-SWAP-COUNT") == []
    assert dd.findings("PLAN-SWAP-REF") == []
    # the withdrawn row no longer counts, its replacement does: the plan totals are unchanged
    assert len(dd.findings("PLAN-TOTALS")) == 1


def test_plan_swap_count_fail_when_project_withdrawn_without_replacement(dd: DataDir) -> None:
    dd.community("dongqu-01", status="withdrawn")
    f = only(dd.findings("PLAN-SWAP-COUNT"))
    assert f.severity == "error"
    assert f.message == "东区2018年原计划2个项目，调整后为1个；调整计划项目时项目个数应保持不变"


def test_plan_swap_ref_fail_when_replaced_project_still_planned(dd: DataDir) -> None:
    _add_row(dd, SWAP_ROW)
    f = only(dd.findings("PLAN-SWAP-REF"))
    assert (f.severity, f.where) == ("error", "序号31 新增替换小区")
    assert f.field == "replaces（替换的计划项目）"
    assert f.message == "被替换的“炳草岗园林苗圃小区”仍在计划中，应将其 status 写为 withdrawn"


def test_plan_swap_ref_fail_when_replacement_is_in_another_year(dd: DataDir) -> None:
    _add_row(dd, {**SWAP_ROW, "year": 2019}, withdraw="dongqu-01")
    f = only(dd.findings("PLAN-SWAP-REF"))
    assert f.severity == "error"
    assert f.message == "被替换的“炳草岗园林苗圃小区”属于东区2018年，与本项目不同"


# ---------------------------------------------------------------- eligibility (section 四)


def test_built_year_pass_before_2000(dd: DataDir) -> None:
    dd.community("miyi-08", built="1999")
    assert "序号8 米易县教师园区（一期）" not in [f.where for f in dd.findings("ELIG-BUILT-YEAR")]


@pytest.mark.parametrize("built", ["2000", "1995—2003", "2000年代"])
def test_built_year_fail_from_2000(dd: DataDir, built: str) -> None:
    dd.community("dongqu-01", built=built)
    f = only([f for f in dd.findings("ELIG-BUILT-YEAR") if f.where.startswith("序号1 ")])
    assert (f.severity, f.field) == ("warning", "built（建成时间）")
    assert f.message == (f"建成时间“{built}”不早于2000年，"
                         "不符合“2000年以前建成”的条件（计划已印发，仅作提示）")


def test_built_unknown_pass_when_readable(dd: DataDir) -> None:
    dd.community("dongqu-01", built="1980 年代")
    assert "序号1 炳草岗园林苗圃小区" not in [f.where for f in dd.findings("ELIG-BUILT-UNKNOWN")]


@pytest.mark.parametrize(("built", "message"), [
    ("八十年代", "建成时间“八十年代”无法识别为年份，无法核对建成年份条件"),
    (None, "建成时间未填写，无法核对建成年份条件"),
], ids=["unreadable", "blank"])
def test_built_unknown_fail(dd: DataDir, built: str | None, message: str) -> None:
    dd.community("dongqu-01", built=built)
    f = only([f for f in dd.findings("ELIG-BUILT-UNKNOWN") if f.where.startswith("序号1 ")])
    assert (f.severity, f.message) == ("warning", message)


def test_withdrawn_rows_are_not_checked_for_eligibility(dd: DataDir) -> None:
    _add_row(dd, {**SWAP_ROW, "district": "米易县", "replaces": "miyi-08"}, withdraw="miyi-08")
    assert "序号8 米易县教师园区（一期）" not in [f.where for f in dd.findings("ELIG-BUILT-YEAR")]


# ---------------------------------------------------------------- project rules

PROJECT_RULES = [
    "ELIG-SUPPORT", "SURVEY-COUNTS", "BUILDINGS-HOUSEHOLDS", "STAGE-DATA", "BUDGET-LINE",
    "FUND-METER", "FUND-OTHER", "FUND-SPLIT", "ACCEPT-ITEMS", "COMPLETION-HOUSEHOLDS", "MGMT-BODY",
    "DATE-ORDER", "NOTICE-PERIOD", "DEADLINE-PLAN", "DEADLINE-IMPLEMENTATION", "PHOTO-FILES",
]

PASSES: list[tuple[str, dict[str, Any]]] = [
    *[(rule_id, {}) for rule_id in PROJECT_RULES],
    # boundaries that must still pass
    ("ELIG-SUPPORT", {"survey.support": 270, "survey.oppose": 24}),  # exactly 90 %
    ("BUDGET-LINE", {"items.1.quantity": 1500.3, "items.1.unit_price": 180.55,
                     "items.1.amount": 270879.17}),  # 270879.165 rounds half up
    ("NOTICE-PERIOD", {"dates.notice_start": dt.date(2018, 5, 2),
                       "dates.notice_end": dt.date(2018, 5, 8)}),  # 7 days counting both ends
    ("DEADLINE-PLAN", {"dates.notice_start": dt.date(2018, 5, 25),
                       "dates.notice_end": dt.date(2018, 5, 31)}),  # the last day itself
    ("DEADLINE-IMPLEMENTATION", {"dates.completion": dt.date(2018, 11, 30)}),
    ("MGMT-BODY", {"stage": "construction", "management": {}, "acceptance": DROP,
                   "completion": DROP}),  # not needed before completion
    ("FUND-METER", {"in_gas_company_area": True}),
]


@pytest.mark.parametrize(("rule_id", "changes"), PASSES,
                         ids=[f"{r}-{i}" for i, (r, _) in enumerate(PASSES)])
def test_project_rule_passes(dd: DataDir, rule_id: str, changes: dict[str, Any]) -> None:
    dd.project(changed(good_project(), changes))
    assert dd.findings(rule_id) == []


FAILS: list[tuple[str, dict[str, Any], str, str, str]] = [
    # the photo files themselves (missing, not an image, linked out): tests/test_photos.py
    ("PHOTO-FILES", {"photos": [{"file": "a.jpg", "caption": "路面", "kind": "完工", "item": "空中花园"}]},
     "error", "photos[0].item（照片.所示改造项目）",
     "照片“路面”所示改造项目“空中花园”不在项目分类表中；请写分类表中的项目名称"),
    ("ELIG-SUPPORT", {"survey.support": 260, "survey.oppose": 34}, "error",
     "survey.support（同意户数）", "居民支持率86.7%低于90%，不能进入“已验收”阶段"),
    ("SURVEY-COUNTS", {"survey.no_answer": 7}, "error",
     "survey", "同意285+反对9+未表态7=301户，与征询户数300户不符"),
    ("SURVEY-COUNTS", {"survey.households_asked": 310, "survey.support": 295}, "error",
     "survey.households_asked（征询户数）", "征询户数310户超过小区户数300户"),
    ("SURVEY-COUNTS", {"survey.households_asked": 290, "survey.support": 275}, "warning",
     "survey.households_asked（征询户数）", "只征询了290户，小区共300户"),
    ("BUILDINGS-HOUSEHOLDS", {"buildings.2.households": 81}, "error",
     "buildings（楼栋）", "各楼栋户数合计301户，与计划表户数300户不符"),
    ("STAGE-DATA", {"acceptance": DROP}, "error",
     "acceptance（竣工验收）", "项目处于“已验收”阶段，缺少竣工验收"),
    ("STAGE-DATA", {"stage": "notice", "contact": DROP, "acceptance": DROP, "completion": DROP,
                    "dates.start": DROP, "dates.completion": DROP, "dates.acceptance": DROP},
     "error", "contact（公示联系）", "项目处于“方案公示”阶段，缺少公示联系"),
    ("BUDGET-LINE", {"items.1.amount": 270000}, "error", "items[1].amount（预算项目.金额）",
     "“道路”数量1500×单价180.50=270,750.00元，与填写的金额270,000.00元不符"),
    ("FUND-METER", {"items.0.after_meter": DROP}, "error", "items[0]（预算项目“供水”）",
     "管线项目须填写表（箱）前金额和表（箱）后金额"),
    ("FUND-METER", {"items.0.after_meter": 20000}, "error", "items[0]（预算项目“供水”）",
     "表前90,000.00+表后20,000.00元，与金额120,000.00元不符"),
    ("FUND-METER", {"items.1.before_meter": 1000}, "error", "items[1]（预算项目“道路”）",
     "不是管线项目，不应填写表前、表后金额"),
    ("FUND-OTHER", {"other_funding.social_capital": 90000}, "error",
     "other_funding.social_capital（社会资本）", "社会资本90,000.00元超过公共服务设施金额80,000.00元"),
    ("FUND-OTHER", {"other_funding.maintenance_fund": 330000}, "error",
     "other_funding（其他资金）", "维修资金与社会资本之和超过按比例分担的项目金额"),
    ("FUND-SPLIT", {"items.0.after_meter": 20000}, "error",
     "items", "各方分担合计460,750.00元，与预算总额470,750.00元不符"),
    ("ACCEPT-ITEMS", {"acceptance.results.2": DROP}, "error",
     "acceptance.results（分项验收结果）", "缺少以下项目的验收结果：公共服务设施"),
    ("ACCEPT-ITEMS", {"acceptance.results.3": {"item": "路灯", "result": "合格"}}, "error",
     "acceptance.results（分项验收结果）", "以下项目不在预算中：路灯"),
    ("COMPLETION-HOUSEHOLDS", {"completion.households_done": 301}, "error",
     "completion.households_done（完成户数）", "完成301户，超过小区户数300户"),
    ("MGMT-BODY", {"management.body": DROP}, "warning",
     "management.body（自治组织）", "尚未成立业主委员会或居民自治小组"),
    ("MGMT-BODY", {"management.property_mode": DROP}, "warning",
     "management.property_mode（物业管理方式）", "尚未明确物业管理方式"),
    ("DATE-ORDER", {"dates.start": dt.date(2018, 5, 5)}, "error",
     "dates.start", "开工日期2018年5月5日早于公示结束日期2018年5月8日"),
    ("DATE-ORDER", {"survey.date": dt.date(2018, 3, 25)}, "error",
     "dates.application", "申请日期2018年3月20日早于意见征询日期2018年3月25日"),
    ("NOTICE-PERIOD", {"dates.notice_end": dt.date(2018, 5, 7)}, "warning",
     "dates.notice_end（公示结束日期）", "公示期6天，少于7天"),
    ("DEADLINE-PLAN", {"dates.notice_start": dt.date(2018, 5, 26),
                       "dates.notice_end": dt.date(2018, 6, 1)}, "warning",
     "dates.notice_end", "方案公示结束日期2018年6月1日晚于方案编制时限2018年5月31日"),
    ("DEADLINE-IMPLEMENTATION", {"dates.completion": dt.date(2018, 12, 5)}, "warning",
     "dates.completion", "完工日期2018年12月5日晚于项目实施时限2018年11月30日"),
]


@pytest.mark.parametrize(("rule_id", "changes", "severity", "field", "message"), FAILS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(FAILS)])
def test_project_rule_fails(
    dd: DataDir, rule_id: str, changes: dict[str, Any], severity: str, field: str, message: str
) -> None:
    dd.project(changed(good_project(), changes))
    f = only([f for f in dd.findings(rule_id) if f.field == field])
    assert (f.rule, f.severity, f.message) == (rule_id, severity, message)
    assert f.file == "data/projects/dongqu-01.yaml"
    assert f.where == "dongqu-01 炳草岗园林苗圃小区"


SURVEY_ONLY = """\
community: dongqu-10
illustrative: true
stage: survey
street_office: 炳草岗街道办事处
community_committee: 鸿海社区居民委员会
survey: {date: 2019-03-01, households_asked: 210, support: 180, oppose: 20, no_answer: 10}
"""


def test_low_support_before_application_is_a_warning(dd: DataDir) -> None:
    dd.project(SURVEY_ONLY)
    f = only(dd.findings("ELIG-SUPPORT"))
    assert (f.severity, f.where) == ("warning", "dongqu-10 炳草岗酿造厂小区（鸿海巷小区）")
    assert f.message == "居民支持率85.7%低于90%，暂不能提出改造申请"


def test_other_funding_without_budget_fails(dd: DataDir) -> None:
    dd.project(SURVEY_ONLY.replace("support: 180, oppose: 20", "support: 200, oppose: 0")
               + "other_funding: {maintenance_fund: 1000}\n")
    f = only(dd.findings("FUND-OTHER"))
    assert (f.severity, f.field) == ("error", "other_funding（其他资金）")
    assert f.message == "尚无预算项目，不能填写其他资金"


def test_deadline_plan_fails_on_late_plan_date(dd: DataDir) -> None:
    dd.project(changed(good_project(), {
        "dates.plan": dt.date(2018, 6, 2), "dates.notice_start": dt.date(2018, 6, 3),
        "dates.notice_end": dt.date(2018, 6, 9), "dates.start": dt.date(2018, 6, 10),
    }))
    findings = dd.findings("DEADLINE-PLAN")
    assert [f.field for f in findings] == ["dates.plan", "dates.notice_end"]
    assert findings[0].severity == "warning"
    assert findings[0].message == "方案编制日期2018年6月2日晚于方案编制时限2018年5月31日"


def test_deadlines_move_to_the_plan_year(dd: DataDir) -> None:
    # dongqu-10 is planned for 2019: the pilot's 2018-05-31 becomes 2019-05-31
    plan_stage = SURVEY_ONLY.replace("support: 180, oppose: 20", "support: 200, oppose: 0") + (
        "stage: plan\n"
        "dates: {application: 2019-03-10, plan: 2019-05-31}\n"
        "items: [{item: 道路, description: 路面, quantity: 1, unit: 项, unit_price: 1000,\n"
        "         amount: 1000}]\n"
    )
    plan_stage = plan_stage.replace("stage: survey\n", "")
    dd.project(plan_stage)
    assert dd.findings("DEADLINE-PLAN") == []
    dd.project(plan_stage.replace("plan: 2019-05-31", "plan: 2019-06-01"))
    f = only(dd.findings("DEADLINE-PLAN"))
    assert f.message == "方案编制日期2019年6月1日晚于方案编制时限2019年5月31日"


def test_budget_match_passes_when_budget_equals_plan(dd: DataDir) -> None:
    dd.community("dongqu-01", investment_wan=47.075)  # 470,750 元, the good project's total
    dd.project(changed(good_project(), {"budget_matches_plan": True}))
    assert dd.findings("BUDGET-MATCH") == []


def test_budget_match_fails_when_budget_differs(dd: DataDir) -> None:
    dd.project(changed(good_project(), {"budget_matches_plan": True}))
    f = only(dd.findings("BUDGET-MATCH"))
    assert (f.severity, f.field) == ("error", "items / budget_matches_plan")
    assert f.message == "预算合计470,750.00元，与计划表预计投资750万元（7,500,000.00元）不符"


def test_fund_split_fails_when_pipeline_percentages_do_not_add_up(dd: DataDir) -> None:
    dd.edit("programme.yaml", lambda p: p["pipeline_split"].update(utility_percent=70))
    f = only(dd.findings("FUND-SPLIT"))
    assert (f.severity, f.file, f.field) == ("error", "data/programme.yaml", "pipeline_split")
    assert f.message == "比例之和为90%，应为100%"


BY_CATEGORY = {"categories": [
    {"category": "市政配套设施", "shares": {"city": 1, "district": 1}, "remainder_to": "district",
     "contributions": [{"party": "residents", "per_m2": 10, "cap": 100000}]},
    {"category": "小区环境及配套设施", "shares": {"city": 1}, "remainder_to": "city"}]}


def test_fund_categories_pass_when_categories_exist_and_the_area_is_given(dd: DataDir) -> None:
    dd.edit("programme.yaml", lambda p: p.update(funding=BY_CATEGORY))
    dd.project(changed(good_project(), {"floor_area": 5000}))
    assert dd.findings("FUND-CATEGORIES") == []


def test_fund_categories_name_an_unknown_category_and_a_missing_floor_area(dd: DataDir) -> None:
    rules = {"categories": [*BY_CATEGORY["categories"],
                            {"category": "提升类", "shares": {"city": 1}, "remainder_to": "city"}]}
    dd.edit("programme.yaml", lambda p: p.update(funding=rules))
    dd.project()
    found = dd.findings("FUND-CATEGORIES")
    assert [(f.file, f.field) for f in found] == [
        ("data/programme.yaml", "funding.categories[2].category"),
        ("data/projects/dongqu-01.yaml", "floor_area（改造范围建筑面积）")]
    assert found[0].message.startswith("类别“提升类”不在分类表（catalogue.yaml）中；分类表的类别为：市政配套设施")
    assert found[1].message == "市政配套设施按建筑面积出资，须填写改造范围建筑面积（㎡）"


# ---------------------------------------------------------------- reports and assessment


def _report(dd: DataDir, date: str) -> None:
    dd.write("reports/2018/东区.yaml", f"district: 东区\nyear: 2018\ndate: {date}\n")


def test_report_deadline_passes_on_the_last_day(dd: DataDir) -> None:
    _report(dd, "2019-01-05")
    assert dd.load().reports  # the report was read, so the rule had something to check
    assert dd.findings("DEADLINE-REPORT") == []


def test_report_deadline_fails_one_day_late(dd: DataDir) -> None:
    _report(dd, "2019-01-06")
    f = only(dd.findings("DEADLINE-REPORT"))
    assert (f.severity, f.where) == ("warning", "东区 2018年报告")
    assert f.file == "data/reports/2018/东区.yaml"
    assert f.message == "报告日期2019年1月6日晚于报送试点工作报告时限2019年1月5日"


def test_assessment_weights_pass_on_bundled_programme(dd: DataDir) -> None:
    assert dd.findings("ASSESS-WEIGHTS") == []


def test_assessment_weights_fail_when_not_100(dd: DataDir) -> None:
    dd.edit("programme.yaml", lambda p: p["assessment"].update(management=25))
    f = only(dd.findings("ASSESS-WEIGHTS"))
    assert (f.severity, f.field) == ("error", "assessment")
    assert f.message == "权重合计105，应为100"


# ---------------------------------------------------------------- coverage of this file

COVERED = {
    *PROJECT_RULES, "PLAN-TOTALS", "PLAN-PILOT", "PLAN-SWAP-COUNT", "PLAN-SWAP-REF",
    "ELIG-BUILT-YEAR", "ELIG-BUILT-UNKNOWN", "BUDGET-MATCH", "FUND-CATEGORIES", "DEADLINE-REPORT", "ASSESS-WEIGHTS",
    "TEXT-CONTROL-CHARS",  # its cases are in tests/test_properties.py, beside the text it guards
    "OUT-PATHS",  # its cases are in tests/test_hard_cases_paths.py, beside the folders it guards
    "ROSTER-ROWS", "SURVEY-ROSTER", "ELIG-HOUSING-ROSTER",  # cases in tests/test_roster.py, with the rosters
    "ACCEPT-CONCLUSION", "DATE-BEFORE-ISSUANCE",  # cases in tests/test_papers.py, beside the papers
    # dated facts and effects: cases in tests/test_returns_data.py, beside the return they feed
    "FUND-SOURCE", "FUND-ORDER", "FUND-BUDGET", "DATE-FUTURE", "STAGE-DATES", "EFFECT-UNIT",
    "ASSESS-ENTERED",  # cases in tests/test_returns_assessment.py, beside the scores it guards
    "WORDING",  # cases in tests/test_wording.py, beside the sentences it guards
    # cases in tests/test_votes.py and tests/test_satisfaction.py, with the ballots and answers they read
    "VOTE-RULE", "VOTE-SCOPE", "VOTE-TWICE", "VOTE-PROXY", "VOTE-CHOICE", "VOTE-AREA", "VOTE-TOTALS", "VOTE-COST",
    "SATISFY-ANSWER", "SATISFY-ROSTER",
}


def test_every_rule_has_cases_here() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)), "规则编号重复"
    assert {"DEADLINE-PLAN", "DEADLINE-IMPLEMENTATION"} <= set(ids)
    assert set(ids) - COVERED == set(), "新规则须在 tests/test_rules.py 中补充通过和不通过的用例"
    assert {rule_id for rule_id, *_ in FAILS} == set(PROJECT_RULES)


def test_errors_come_before_warnings(dd: DataDir) -> None:
    dd.project(changed(good_project(), {"survey.no_answer": 7}))
    severities = [f.severity for f in dd.findings()]
    assert "error" in severities and "warning" in severities
    assert severities == sorted(severities, key=lambda s: s != "error")


def test_the_plan_and_each_project_checked_alone_give_exactly_the_whole_check(tmp_path: Path) -> None:
    """The web store checks again only the project a save changed: a rule that also looks at the
    projects from the whole programme's side must give its project part to check_project."""
    import shutil
    from collections import Counter

    from generator.data.loader import BUNDLED_DATA, load
    from generator.rules.checks import check_all, check_plan, check_project

    data_dir = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, data_dir)
    path = data_dir / "projects" / "dongqu-01.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("design: 攀枝花市某城建筑设计有限公司", 'design: "攀枝花市某城建筑设计\\a有限公司"'),
                    encoding="utf-8")
    roster = data_dir / "rosters" / "dongqu-02.csv"
    lines = roster.read_text(encoding="utf-8").splitlines()
    roster.write_text("\n".join([*lines, lines[-1]]) + "\n", encoding="utf-8")  # a room listed twice
    data = load(data_dir)
    whole = check_all(data)
    rules = {f.rule for f in whole}
    assert {"TEXT-CONTROL-CHARS", "ROSTER-ROWS", "PLAN-TOTALS", "ELIG-SUPPORT"} <= rules
    parts = check_plan(data) + [f for c in data.projects for f in check_project(data, c)]
    assert Counter(parts) == Counter(whole)
    assert not any(f.where.startswith("dongqu-01 ") for f in check_plan(data))
