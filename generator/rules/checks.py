"""The programme's rules as named checks; each finding names the rule, the file, the record and the field."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from generator.data.labels import field_label
from generator.data.loader import DataSet
from generator.data.models import CITY_REPORT, STAGE_NAMES, Community, Project, ScoreIndicator
from generator.data.roster import Tally, issues, tally
from generator.render.env import xml_safe
from generator.render.filters import cn_date, q2, to_yuan, yuan
from generator.render.pictures import PhotoError, absent, check_image, locate
from generator.render.templates import leaves_folder
from generator.render.wording import wording, wording_problems
from generator.rules import consent
from generator.rules.effects import BY_KEY, indicator_of, unconvertible
from generator.rules.funding import line_rule, plan_funding
from generator.rules.satisfaction import issues as satisfaction_issues
from generator.rules.votes import issues as vote_issues

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    file: str
    where: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    check: Callable[[DataSet], Iterator[Finding]]
    per_project: bool = False
    """Looks at one project at a time, so it can run on a slice of the projects."""
    project_part: Callable[[DataSet], Iterator[Finding]] | None = None
    """For a rule that looks at the whole programme and at each project too: the part that looks
    at the projects, one at a time (check_project runs it; check_plan leaves it out)."""


RULES: list[Rule] = []

PROJECTS_AT_ONCE = 64
"""Projects unpacked at a time while checking: each is read once for all per-project rules."""


def rule(rule_id: str, title: str, per_project: bool = False,
         project_part: Callable[[DataSet], Iterator[Finding]] | None = None,
         ) -> Callable[[Callable[[DataSet], Iterator[Finding]]], Callable]:
    """Register a check under its rule id."""

    def register(fn: Callable[[DataSet], Iterator[Finding]]) -> Callable:
        RULES.append(Rule(rule_id, title, fn, per_project, project_part))
        return fn

    return register


def check_all(data: DataSet) -> list[Finding]:
    """Run every rule; errors first, then warnings, each in data order."""
    ids = list(data.projects)
    findings: list[Finding] = []
    for start in range(0, max(len(ids), 1), PROJECTS_AT_ONCE):
        # Projects are stored packed: unpack a slice once for all the per-project rules.
        view = replace(data, projects={i: data.projects[i] for i in ids[start:start + PROJECTS_AT_ONCE]})
        for r in RULES:
            if r.per_project:
                findings.extend(r.check(view))
            elif start == 0:
                findings.extend(r.check(data))
    return sorted(findings, key=lambda f: f.severity != "error")


def check_plan(data: DataSet) -> list[Finding]:
    """Every finding that no project file gives: the programme's, the plan rows', the reports'.

    With check_project of every project these are exactly check_all's findings
    (tests/test_rules.py holds them to it), so a change of one project file is checked again
    by check_project of that project alone.
    """
    return check_all(replace(data, projects={}))


def check_project(data: DataSet, community_id: str) -> list[Finding]:
    """The findings one project file gives (every rule's part that looks at a project), errors first."""
    view = replace(data, projects={community_id: data.projects[community_id]})
    # A project file without an escape holds no control character: not every text read again.
    plain = getattr(data.projects, "plain_text", None)
    skip = CONTROL_CHARS if plain is not None and plain(community_id) else None
    findings: list[Finding] = []
    for r in RULES:
        if r.id == skip:
            continue
        check = r.check if r.per_project else r.project_part
        if check is not None:
            findings.extend(check(view))
    return sorted(findings, key=lambda f: f.severity != "error")


def report_file(data: DataSet, key: tuple[str, int]) -> str:
    """The file a report's findings name."""
    return _rel(data, data.sources[f"report:{key[0]}:{key[1]}"])


def check_report(data: DataSet, key: tuple[str, int]) -> list[Finding]:
    """The findings one report file gives (check_plan's part that looks at that report)."""
    report = data.reports[key]
    view = replace(data, reports={key: report})
    file = report_file(data, key)
    return [*check_report_deadline(view),
            *_control_chars(report, "TEXT-CONTROL-CHARS", file, f"{key[0]} {key[1]}年报告")]


# ---------------------------------------------------------------- helpers


def _rel(data: DataSet, path: Path) -> str:
    """A file as findings name it: from the data folder's name on."""
    text, base = str(path), str(data.root.parent)
    # By its text first: Path.relative_to costs more than the rest of a finding (a first start
    # at 10,000 communities makes some twenty thousand findings).
    if text.startswith(base) and text[len(base):len(base) + 1] in (os.sep, "/") and len(text) > len(base) + 1:
        return text[len(base) + 1:]
    try:
        return str(path.relative_to(data.root.parent))
    except ValueError:
        return text


def _row(data: DataSet, c: Community, rule_id: str, severity: Severity, field: str, msg: str) -> Finding:
    file = _rel(data, data.sources[f"community:{c.id}"])
    return Finding(rule_id, severity, file, f"序号{c.seq} {c.name}", field, msg)


def _proj(data: DataSet, p: Project, rule_id: str, severity: Severity, field: str, msg: str) -> Finding:
    file = _rel(data, data.sources[f"project:{p.community}"])
    c = data.communities[p.community]
    return Finding(rule_id, severity, file, f"{c.id} {c.name}", field, msg)


def deadline(data: DataSet, key: str, year: int) -> dt.date | None:
    """The last day for a workflow step in a plan year (the pilot's dates moved to that year)."""
    prog = data.programme
    for d in prog.deadlines:
        if d.key == key:
            shift = year - prog.pilot.year
            try:
                return d.last_day.replace(year=d.last_day.year + shift)
            except ValueError:  # 29 February
                return d.last_day.replace(year=d.last_day.year + shift, day=28)
    return None


def _deadline_text(data: DataSet, key: str, year: int) -> str:
    last = deadline(data, key, year)
    name = next(d.name for d in data.programme.deadlines if d.key == key)
    return f"{name}时限{cn_date(last)}" if last else name


# ---------------------------------------------------------------- the plan (section 一, annex 1)


def _totals(rows: list[Community]) -> tuple[int, int, Decimal]:
    return len(rows), sum(c.households for c in rows), sum((c.investment_wan for c in rows), Decimal(0))


@rule("PLAN-TOTALS", "方案正文所述各县（区）及全市数字与附件1逐行合计一致")
def check_plan_totals(data: DataSet) -> Iterator[Finding]:
    stated = data.programme.stated
    file = _rel(data, data.root / "programme.yaml")
    rows = data.active_communities()
    for claim in stated.districts:
        count, households, wan = _totals([c for c in rows if c.district == claim.district])
        pairs: list[tuple[str, Decimal, Decimal, str]] = [
            ("小区个数", Decimal(claim.communities), Decimal(count), "个"),
            ("户数", Decimal(claim.households), Decimal(households), "户"),
            ("预计投资", claim.investment_wan, wan, "万元"),
        ]
        for label, said, got, unit in pairs:
            if said and said != got:
                yield Finding("PLAN-TOTALS", "warning", file, f"方案一 {claim.district}",
                              f"stated.districts（{label}）",
                              f"方案正文写{claim.district}{label}{said}{unit}，附件1逐行合计为{got}{unit}")
    count, households, wan = _totals(rows)
    if stated.communities and count != stated.communities:
        yield Finding("PLAN-TOTALS", "warning", file, "方案一 全市", "stated.communities",
                      f"方案正文写共{stated.communities}个小区，附件1共{count}个")
    if stated.households and households != stated.households:
        yield Finding("PLAN-TOTALS", "warning", file, "方案一 全市", "stated.households",
                      f"方案正文写涉及{stated.households}户，附件1合计{households}户")
    places = stated.investment_yi_approx.as_tuple().exponent
    yi = (wan / 10000).quantize(Decimal(1).scaleb(places if isinstance(places, int) else 0),
                                rounding=ROUND_HALF_UP)
    if stated.investment_yi_approx and yi != stated.investment_yi_approx:
        yield Finding("PLAN-TOTALS", "warning", file, "方案一 全市", "stated.investment_yi_approx",
                      f"方案正文写总投资约{stated.investment_yi_approx}亿元，附件1合计{wan}万元")


@rule("PLAN-PILOT", "试点年度的小区个数、户数、投资与方案二的目标一致")
def check_pilot(data: DataSet) -> Iterator[Finding]:
    pilot = data.programme.pilot
    file = _rel(data, data.root / "programme.yaml")
    count, households, wan = _totals([c for c in data.active_communities() if c.year == pilot.year])
    for label, target, got in (("小区个数", pilot.communities, count), ("户数", pilot.households, households),
                               ("预计投资（万元）", pilot.investment_wan, wan)):
        if target and Decimal(target) != Decimal(got):  # zero: the programme states no target
            yield Finding("PLAN-PILOT", "warning", file, f"{pilot.year}年试点目标", f"pilot（{label}）",
                          f"试点目标{label}为{target}，附件1该年度合计为{got}")


@rule("PLAN-SWAP-COUNT", "调整计划项目后，各县（区）每年度的项目个数不变（附件1备注）")
def check_swap_count(data: DataSet) -> Iterator[Finding]:
    groups: dict[tuple[str, int], list[Community]] = {}
    for c in data.communities.values():
        groups.setdefault((c.district, c.year), []).append(c)
    for (district, year), rows in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        original = sum(1 for c in rows if c.replaces is None)
        active = sum(1 for c in rows if c.status == "planned")
        if original != active:
            yield _row(data, rows[0], "PLAN-SWAP-COUNT", "error", "status / replaces",
                       f"{district}{year}年原计划{original}个项目，调整后为{active}个；调整计划项目时项目个数应保持不变")


@rule("PLAN-SWAP-REF", "替换项目须替换同县（区）同年度已调出计划的项目")
def check_swap_ref(data: DataSet) -> Iterator[Finding]:
    for c in data.communities.values():
        if c.replaces is None:
            continue
        old = data.communities[c.replaces]
        if old.status != "withdrawn":
            yield _row(data, c, "PLAN-SWAP-REF", "error", "replaces（替换的计划项目）",
                       f"被替换的“{old.name}”仍在计划中，应将其 status 写为 withdrawn")
        if (old.district, old.year) != (c.district, c.year):
            yield _row(data, c, "PLAN-SWAP-REF", "error", "replaces（替换的计划项目）",
                       f"被替换的“{old.name}”属于{old.district}{old.year}年，与本项目不同")


# ---------------------------------------------------------------- eligibility (section 四)


@rule("ELIG-BUILT-YEAR", "改造对象须为规定年份以前建成的小区")
def check_built_year(data: DataSet) -> Iterator[Finding]:
    limit = data.programme.eligibility.built_before_year
    for c in data.active_communities():
        years = c.built_years
        if years is not None and years[1] >= limit:
            yield _row(data, c, "ELIG-BUILT-YEAR", "warning", "built（建成时间）",
                       f"建成时间“{c.built}”不早于{limit}年，不符合“{limit}年以前建成”的条件（计划已印发，仅作提示）")


@rule("ELIG-BUILT-UNKNOWN", "建成时间应能识别")
def check_built_unknown(data: DataSet) -> Iterator[Finding]:
    for c in data.active_communities():
        if c.built_years is None:
            text = f"“{c.built}”无法识别为年份" if c.built else "未填写"
            yield _row(data, c, "ELIG-BUILT-UNKNOWN", "warning", "built（建成时间）",
                       f"建成时间{text}，无法核对建成年份条件")


COMMODITY = "商品房"
ROWS_NAMED = 10
"""Rows a finding names one by one; beyond them it gives the count."""


@rule("ELIG-HOUSING-ROSTER", "住户名册的产权类型与小区是否为商品房小区一致", per_project=True)
def check_housing_roster(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        roster = data.rosters.get(p.community)
        if roster is None:
            continue
        pairs = [(row, h.tenure) for row, h in zip(roster.rows, roster.households, strict=True) if h.tenure]
        if p.commodity_housing:
            odd = [row for row, tenure in pairs if tenure != COMMODITY]
            if not pairs or len(odd) < len(pairs):
                continue  # some households are 商品房: a mixed estate is no contradiction
            said = f"项目资料写明是商品房小区（commodity_housing），但住户名册没有一户产权类型为“{COMMODITY}”"
        else:
            odd = [row for row, tenure in pairs if tenure == COMMODITY]
            if not odd:
                continue
            said = (f"项目资料写明不是商品房小区（commodity_housing 未填或为 false），改造申请书印“非商品房小区”，"
                    f"但住户名册有{len(odd)}户产权类型为“{COMMODITY}”")
        rows = "、".join(str(r) for r in odd[:ROWS_NAMED]) + ("等" if len(odd) > ROWS_NAMED else "")
        file = _rel(data, data.sources[f"roster:{p.community}"])
        c = data.communities[p.community]
        yield Finding("ELIG-HOUSING-ROSTER", "warning", file, f"{c.id} {c.name} 第{rows}行", "产权类型",
                      f"{said}；请核对名册的产权类型，或改正项目资料的 commodity_housing")


def survey_tally(data: DataSet, project: Project) -> Tally | None:
    """The survey's counts: from the household roster when it has answers, else as typed in."""
    roster = data.rosters.get(project.community)
    if roster is not None:
        counted = tally(roster.households)
        if counted.asked:
            return counted
    s = project.survey
    if s is None or not s.counted:
        return None
    assert s.households_asked is not None and s.support is not None
    assert s.oppose is not None and s.no_answer is not None
    return Tally(name="合计", households=s.households_asked, support=s.support, oppose=s.oppose,
                 no_answer=s.no_answer, area_missing=s.households_asked)


def _support_shortfall(data: DataSet, project: Project, counted: Tally | None) -> str | None:
    """Why the counts miss the programme's threshold (by households, and by area where set), or None."""
    if counted is None or not counted.asked:
        return "缺少居民意见征询结果"
    rules = data.programme.eligibility
    if rules.consent is not None:
        return consent.shortfall(data, project, rules.consent, counted)
    floor = rules.min_support_percent
    if counted.support * 100 < floor * counted.asked:
        pct = (Decimal(counted.support * 100) / counted.asked).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return f"居民支持率{pct}%低于{floor}%"
    area_floor = rules.min_area_support_percent
    if area_floor is not None:
        if not counted.has_area:
            return f"须按建筑面积计算支持率（不低于{area_floor}%），但住户名册未填全建筑面积"
        if counted.area_support * 100 < area_floor * counted.area:
            pct = (counted.area_support * 100 / counted.area).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            return f"按建筑面积计的居民支持率{pct}%低于{area_floor}%"
    return None


def meets_support(data: DataSet, project: Project) -> bool:
    """Whether the survey reached the programme's support thresholds, compared exactly (no division)."""
    return _support_shortfall(data, project, survey_tally(data, project)) is None


@rule("ELIG-SUPPORT", "居民支持率不低于规定比例方可申请改造", per_project=True)
def check_support(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        counted = survey_tally(data, p)
        if counted is None:
            continue
        short = _support_shortfall(data, p, counted)
        if short is None:
            continue
        field = "意见（住户名册）" if p.community in data.rosters else "survey.support（同意户数）"
        if p.at_least("application"):
            yield _proj(data, p, "ELIG-SUPPORT", "error", field,
                        f"{short}，不能进入“{STAGE_NAMES[p.stage]}”阶段")
        else:
            yield _proj(data, p, "ELIG-SUPPORT", "warning", field, f"{short}，暂不能提出改造申请")


@rule("SURVEY-COUNTS", "意见征询的同意、反对、未表态户数之和等于征询户数，且不超过小区户数", per_project=True)
def check_survey_counts(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        s = p.survey
        if s is None:
            continue
        if not s.counted:
            if p.community not in data.rosters:
                yield _proj(data, p, "SURVEY-COUNTS", "error", "survey",
                            "没有住户名册（rosters/）时，须填写征询户数、同意户数、反对户数和未表态户数")
            continue
        assert s.households_asked is not None and s.support is not None
        assert s.oppose is not None and s.no_answer is not None
        households = data.communities[p.community].households
        if s.support + s.oppose + s.no_answer != s.households_asked:
            yield _proj(data, p, "SURVEY-COUNTS", "error", "survey",
                        f"同意{s.support}+反对{s.oppose}+未表态{s.no_answer}="
                        f"{s.support + s.oppose + s.no_answer}户，与征询户数{s.households_asked}户不符")
        if s.households_asked > households:
            yield _proj(data, p, "SURVEY-COUNTS", "error", "survey.households_asked（征询户数）",
                        f"征询户数{s.households_asked}户超过小区户数{households}户")
        elif s.households_asked < households:
            yield _proj(data, p, "SURVEY-COUNTS", "warning", "survey.households_asked（征询户数）",
                        f"只征询了{s.households_asked}户，小区共{households}户")


@rule("BUILDINGS-HOUSEHOLDS", "各楼栋户数之和等于小区户数", per_project=True)
def check_buildings(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        if not p.buildings:
            continue
        total = sum(b.households for b in p.buildings)
        households = data.communities[p.community].households
        if total != households:
            yield _proj(data, p, "BUILDINGS-HOUSEHOLDS", "error", "buildings（楼栋）",
                        f"各楼栋户数合计{total}户，与计划表户数{households}户不符")


def _roster_finding(data: DataSet, p: Project, rule_id: str, row: int | None, column: str,
                    message: str) -> Finding:
    file = _rel(data, data.sources[f"roster:{p.community}"])
    c = data.communities[p.community]
    where = f"{c.id} {c.name}" + (f" 第{row}行" if row is not None else "")
    return Finding(rule_id, "error", file, where, column, message)


@rule("ROSTER-ROWS", "住户名册：意见在可选范围内、电话有效、希望改造项目在分类表中、房号不重复、"
      "各楼栋户数与项目资料一致", per_project=True)
def check_roster_rows(data: DataSet) -> Iterator[Finding]:
    names = set(data.items)
    for p in data.projects.values():
        roster = data.rosters.get(p.community)
        if roster is None:
            continue
        buildings = {b.name: b.households for b in p.buildings}
        for row, column, message in issues(roster, buildings, names):
            yield _roster_finding(data, p, "ROSTER-ROWS", row, column, message)
        households = data.communities[p.community].households
        if len(roster.households) != households:
            yield _roster_finding(data, p, "ROSTER-ROWS", None, "住户",
                                  f"名册共{len(roster.households)}户，计划表户数为{households}户")


@rule("SURVEY-ROSTER", "有住户名册时，项目资料中填写的征询户数须与名册统计一致（或不填）", per_project=True)
def check_survey_roster(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        roster, s = data.rosters.get(p.community), p.survey
        if roster is None or s is None:
            continue
        counted = tally(roster.households)
        pairs = (("households_asked（征询户数）", s.households_asked, counted.asked),
                 ("support（同意户数）", s.support, counted.support),
                 ("oppose（反对户数）", s.oppose, counted.oppose),
                 ("no_answer（未表态户数）", s.no_answer, counted.no_answer))
        roster_file = _rel(data, data.sources[f"roster:{p.community}"])
        for label, typed, computed in pairs:
            if typed is not None and typed != computed:
                yield _proj(data, p, "SURVEY-ROSTER", "error", f"survey.{label}",
                            f"填写为{typed}户，住户名册（{roster_file}）统计为{computed}户；"
                            "请改正，或删去 survey 的户数由名册计算")


# ---------------------------------------------------------------- stage and budget (sections 六, 七)

_STAGE_NEEDS: list[tuple[str, str, Callable[[Project], object]]] = [
    ("application", "survey（居民意见征询）", lambda p: p.survey),
    ("application", "dates.application（申请日期）", lambda p: p.dates.application),
    ("plan", "items（预算项目）", lambda p: p.items),
    ("plan", "dates.plan（方案日期）", lambda p: p.dates.plan),
    ("notice", "contact（公示联系）", lambda p: p.contact),
    ("notice", "dates.notice_start（公示开始日期）", lambda p: p.dates.notice_start),
    ("notice", "dates.notice_end（公示结束日期）", lambda p: p.dates.notice_end),
    ("construction", "dates.start（开工日期）", lambda p: p.dates.start),
    ("completed", "dates.completion（完工日期）", lambda p: p.dates.completion),
    ("completed", "completion（完成情况）", lambda p: p.completion),
    ("accepted", "acceptance（竣工验收）", lambda p: p.acceptance),
    ("accepted", "dates.acceptance（验收日期）", lambda p: p.dates.acceptance),
]


@rule("STAGE-DATA", "每个进度阶段须具备该阶段的资料", per_project=True)
def check_stage_data(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        for stage, field, get in _STAGE_NEEDS:
            if p.at_least(stage) and not get(p):
                yield _proj(data, p, "STAGE-DATA", "error", field,
                            f"项目处于“{STAGE_NAMES[p.stage]}”阶段，缺少{field.split('（')[1].rstrip('）')}")


@rule("BUDGET-LINE", "预算项目金额等于数量乘单价", per_project=True)
def check_budget_lines(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        for i, line in enumerate(p.items):
            expected = q2(line.quantity * line.unit_price)
            if expected != line.amount:
                yield _proj(data, p, "BUDGET-LINE", "error", f"items[{i}].amount（预算项目.金额）",
                            f"“{line.item}”数量{line.quantity}×单价{yuan(line.unit_price)}={yuan(expected)}元，"
                            f"与填写的金额{yuan(line.amount)}元不符")


@rule("FUND-METER", "管线项目须分列表（箱）前、表（箱）后金额，且两者之和等于金额", per_project=True)
def check_meter(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        for i, line in enumerate(p.items):
            # Gas in the gas company's own area is paid like a general item (section 六), so its
            # meter split is optional there.
            is_pipe = line_rule(data, p, line) == "pipeline"
            if not is_pipe and data.items[line.item].funding == "pipeline":
                continue
            field = f"items[{i}]（预算项目“{line.item}”）"
            has = line.before_meter is not None or line.after_meter is not None
            if is_pipe and (line.before_meter is None or line.after_meter is None):
                yield _proj(data, p, "FUND-METER", "error", field,
                            "管线项目须填写表（箱）前金额和表（箱）后金额")
            elif is_pipe and line.before_meter + line.after_meter != line.amount:  # type: ignore[operator]
                yield _proj(data, p, "FUND-METER", "error", field,
                            f"表前{yuan(line.before_meter)}+表后{yuan(line.after_meter)}元，与金额{yuan(line.amount)}元不符")
            elif not is_pipe and has:
                yield _proj(data, p, "FUND-METER", "error", field,
                            "不是管线项目，不应填写表前、表后金额")


@rule("FUND-OTHER", "维修资金、社会资本不超过可用的项目金额；社会资本只用于公共服务设施", per_project=True)
def check_other_funding(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        other = p.other_funding
        if not p.items:
            if other.maintenance_fund or other.social_capital:
                yield _proj(data, p, "FUND-OTHER", "error", "other_funding（其他资金）",
                            "尚无预算项目，不能填写其他资金")
            continue
        public = sum((ln.amount for ln in p.items if data.items[ln.item].funding == "public_service"),
                     Decimal(0))
        if other.social_capital > public:
            yield _proj(data, p, "FUND-OTHER", "error", "other_funding.social_capital（社会资本）",
                        f"社会资本{yuan(other.social_capital)}元超过公共服务设施金额{yuan(public)}元")
        funding = plan_funding(data, p, data.communities[p.community].households)
        if funding.general_base < 0:
            yield _proj(data, p, "FUND-OTHER", "error", "other_funding（其他资金）",
                        "维修资金与社会资本之和超过按比例分担的项目金额")


def _project_areas(data: DataSet) -> Iterator[Finding]:
    """Each project whose categories are paid by floor area states its floor area."""
    funding = data.programme.funding
    if funding is None:
        return
    by_area = {cat.category for cat in funding.categories
               if any(c.per_m2 is not None for c in cat.contributions)}
    for p in data.projects.values():
        if p.floor_area is not None:
            continue
        wanted = sorted({data.category_of(ln.item) for ln in p.items if ln.item in data.items
                         and data.category_of(ln.item) in by_area})
        if wanted:
            yield _proj(data, p, "FUND-CATEGORIES", "error", "floor_area（改造范围建筑面积）",
                        f"{'、'.join(wanted)}按建筑面积出资，须填写改造范围建筑面积（㎡）")


@rule("FUND-CATEGORIES", "按类别分担的类别须是分类表中的类别；按面积出资的项目须填建筑面积",
      project_part=_project_areas)
def check_funding_categories(data: DataSet) -> Iterator[Finding]:
    funding = data.programme.funding
    if funding is None:
        return
    names = [c.name for c in data.catalogue.categories]
    listed = {cat.category for cat in funding.categories}
    unlisted = [n for n in names if n not in listed]
    if unlisted and data.programme.general_split is None:
        yield Finding("FUND-CATEGORIES", "error", _rel(data, data.root / "programme.yaml"),
                      "按类别的资金分担", "funding.categories",
                      f"分类表的类别“{'、'.join(unlisted)}”没有分担方式：请在 funding.categories 中列出，"
                      "或写明 general_split（一般项目分担比例）用于未列出的类别")
    for i, cat in enumerate(funding.categories):
        if cat.category not in names:
            yield Finding("FUND-CATEGORIES", "error", _rel(data, data.root / "programme.yaml"),
                          "按类别的资金分担", f"funding.categories[{i}].category",
                          f"类别“{cat.category}”不在分类表（catalogue.yaml）中；分类表的类别为："
                          + "、".join(names))
    yield from _project_areas(data)


def _split_ok(data: DataSet) -> bool:
    pipe = data.programme.pipeline_split
    return pipe is None or pipe.utility_percent + pipe.district_percent == 100


def _project_splits(data: DataSet) -> Iterator[Finding]:
    """Each project's parties adding up to its budget (nothing to say while the ratio itself is wrong)."""
    if not _split_ok(data):
        return
    for p in data.projects.values():
        if not p.items:
            continue
        funding = plan_funding(data, p, data.communities[p.community].households)
        parts = sum(funding.by_party.values(), Decimal(0))
        if parts != funding.total:
            yield _proj(data, p, "FUND-SPLIT", "error", "items",
                        f"各方分担合计{yuan(parts)}元，与预算总额{yuan(funding.total)}元不符")


@rule("FUND-SPLIT", "资金筹集方案各方金额之和等于工程预算总额", project_part=_project_splits)
def check_split(data: DataSet) -> Iterator[Finding]:
    if not _split_ok(data):
        pipe = data.programme.pipeline_split
        assert pipe is not None
        yield Finding("FUND-SPLIT", "error", _rel(data, data.root / "programme.yaml"), "管线表前分担比例",
                      "pipeline_split", f"比例之和为{pipe.utility_percent + pipe.district_percent}%，应为100%")
        return
    yield from _project_splits(data)


@rule("BUDGET-MATCH", "注明与计划一致的预算，总额等于计划表预计投资", per_project=True)
def check_budget_match(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        if not p.items:
            continue
        c = data.communities[p.community]
        total = sum((ln.amount for ln in p.items), Decimal(0))
        planned = to_yuan(c.investment_wan)
        if total == planned:
            continue
        differs = f"预算合计{yuan(total)}元，与计划表预计投资{c.investment_wan}万元（{yuan(planned)}元）不符"
        if p.budget_matches_plan:
            yield _proj(data, p, "BUDGET-MATCH", "error", "items / budget_matches_plan", differs)
        else:
            # Unticked, the difference may be meant (a budget revised after the plan): said, not refused.
            yield _proj(data, p, "BUDGET-MATCH", "warning", "items / budget_matches_plan",
                        differs + "（未勾选“预算等于计划投资”，仅作提示；请核对预算，与计划不同时在方案中说明原因）")


@rule("ACCEPT-ITEMS", "竣工验收逐项覆盖全部改造项目", per_project=True)
def check_acceptance(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        if p.acceptance is None:
            continue
        planned = [ln.item for ln in p.items]
        done = [r.item for r in p.acceptance.results]
        missing = [x for x in planned if x not in done]
        extra = [x for x in done if x not in planned]
        if missing:
            yield _proj(data, p, "ACCEPT-ITEMS", "error", "acceptance.results（分项验收结果）",
                        f"缺少以下项目的验收结果：{'、'.join(missing)}")
        if extra:
            yield _proj(data, p, "ACCEPT-ITEMS", "error", "acceptance.results（分项验收结果）",
                        f"以下项目不在预算中：{'、'.join(extra)}")


@rule("PHOTO-FILES", "照片文件存在、是可以打开的图片，所示改造项目在分类表中", per_project=True)
def check_photos(data: DataSet) -> Iterator[Finding]:
    """A missing photo is a warning (the papers print a box saying so); an unusable one an error."""
    catalogue = data.items
    for p in data.projects.values():
        folder = data.photo_folder(p.community)
        # One look at the folder: a community whose photos are not handed in yet has none of its
        # files there, and each would otherwise be looked for three times.
        present = bool(p.photos) and folder.is_dir()
        for i, photo in enumerate(p.photos):
            file_field = f"photos[{i}].file（照片.照片文件）"
            if photo.item is not None and photo.item not in catalogue:
                yield _proj(data, p, "PHOTO-FILES", "error", f"photos[{i}].item（照片.所示改造项目）",
                            f"照片“{photo.caption}”所示改造项目“{photo.item}”不在项目分类表中；"
                            "请写分类表中的项目名称")
            try:
                if not present and not leaves_folder(photo.file):
                    raise absent(folder / photo.file)
                path = locate(folder, photo.file, data.root)
            except PhotoError as exc:
                missing = not present or (not (folder / photo.file).exists()
                                          and not (folder / photo.file).is_symlink())
                hint = f"；请把照片放到 {_rel(data, folder)}/ 中，文书中该照片处将印出“照片缺失”方框" if missing else ""
                yield _proj(data, p, "PHOTO-FILES", "warning" if missing else "error", file_field,
                            f"{exc}{hint}")
                continue
            try:
                check_image(path)
            except PhotoError as exc:
                yield _proj(data, p, "PHOTO-FILES", "error", file_field, str(exc))


@rule("COMPLETION-HOUSEHOLDS", "完成户数不超过小区户数", per_project=True)
def check_completion(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        if p.completion and p.completion.households_done > data.communities[p.community].households:
            yield _proj(data, p, "COMPLETION-HOUSEHOLDS", "error", "completion.households_done（完成户数）",
                        f"完成{p.completion.households_done}户，超过小区户数"
                        f"{data.communities[p.community].households}户")


@rule("MGMT-BODY", "完工的小区应成立业主委员会或居民自治小组并明确物业管理方式", per_project=True)
def check_management(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        if not p.at_least("completed"):
            continue
        if p.management.body is None:
            yield _proj(data, p, "MGMT-BODY", "warning", "management.body（自治组织）",
                        "尚未成立业主委员会或居民自治小组")
        if p.management.property_mode is None:
            yield _proj(data, p, "MGMT-BODY", "warning", "management.property_mode（物业管理方式）",
                        "尚未明确物业管理方式")


# ---------------------------------------------------------------- dates and deadlines (section 七)

_DATE_ORDER = [
    ("survey", "意见征询"), ("application", "申请"), ("plan", "方案"), ("notice_start", "公示开始"),
    ("notice_end", "公示结束"), ("start", "开工"), ("completion", "完工"), ("acceptance", "验收"),
    ("filing", "竣工验收备案"),
]


def _dates(p: Project) -> list[tuple[str, str, dt.date]]:
    values: dict[str, dt.date | None] = {key: getattr(p.dates, key, None) for key, _ in _DATE_ORDER}
    values["survey"] = p.survey.date if p.survey else None
    return [(key, name, day) for key, name in _DATE_ORDER if (day := values[key]) is not None]


@rule("DATE-ORDER", "各环节日期按工作步骤先后排列", per_project=True)
def check_date_order(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        dates = _dates(p)
        for (_, n1, d1), (k2, n2, d2) in zip(dates, dates[1:], strict=False):
            if d2 < d1:
                field = "survey.date" if k2 == "survey" else f"dates.{k2}"
                yield _proj(data, p, "DATE-ORDER", "error", field,
                            f"{n2}日期{cn_date(d2)}早于{n1}日期{cn_date(d1)}")


@rule("NOTICE-PERIOD", "改造方案公示期不少于规定天数", per_project=True)
def check_notice(data: DataSet) -> Iterator[Finding]:
    need = data.programme.notice.min_days
    for p in data.projects.values():
        start, end = p.dates.notice_start, p.dates.notice_end
        if start is None or end is None or end < start:
            continue
        days = (end - start).days + 1
        if days < need:
            yield _proj(data, p, "NOTICE-PERIOD", "warning", "dates.notice_end（公示结束日期）",
                        f"公示期{days}天，少于{need}天")


def _step_deadline(rule_id: str, key: str, steps: list[tuple[str, str]], title: str) -> None:
    """Register a check that the given dates fall on or before a workflow deadline."""

    def check(data: DataSet) -> Iterator[Finding]:
        for p in data.projects.values():
            year = data.communities[p.community].year
            last = deadline(data, key, year)
            for date_field, label in steps:
                done = getattr(p.dates, date_field)
                if done is not None and last is not None and done > last:
                    yield _proj(data, p, rule_id, "warning", f"dates.{date_field}",
                                f"{label}日期{cn_date(done)}晚于{_deadline_text(data, key, year)}")

    RULES.append(Rule(rule_id, title, check, per_project=True))


_step_deadline("DEADLINE-PLAN", "plan", [("plan", "方案编制"), ("notice_end", "方案公示结束")],
               "改造方案在方案编制时限内编制并公示")
_step_deadline("DEADLINE-IMPLEMENTATION", "implementation", [("completion", "完工")],
               "项目在实施时限内完工")


@rule("DEADLINE-REPORT", "试点工作报告（年度总结）在规定日期前报送")
def check_report_deadline(data: DataSet) -> Iterator[Finding]:
    for (district, year), report in data.reports.items():
        if district == CITY_REPORT:  # the city compiles after the districts' deadline
            continue
        last = deadline(data, "report", year)
        if report.date and last and report.date > last:
            file = _rel(data, data.sources[f"report:{district}:{year}"])
            yield Finding("DEADLINE-REPORT", "warning", file, f"{district} {year}年报告", "date（报告日期）",
                          f"报告日期{cn_date(report.date)}晚于{_deadline_text(data, 'report', year)}")


@rule("ASSESS-WEIGHTS", "综合考评四个方面的权重合计100")
def check_weights(data: DataSet) -> Iterator[Finding]:
    w = data.programme.assessment
    total = w.households + w.content + w.standards + w.management
    if total != 100:
        yield Finding("ASSESS-WEIGHTS", "error", _rel(data, data.root / "programme.yaml"), "综合考评权重",
                      "assessment", f"权重合计{total}，应为100")


# ---------------------------------------------------------------- owners' votes


def _vote_findings(data: DataSet, wanted: str) -> Iterator[Finding]:
    for vote_id, vote in data.votes.items():
        c = data.communities[vote.community]
        for rule_id, row, column, message in vote_issues(data, vote_id):
            if rule_id != wanted:
                continue
            source = f"ballots:{vote_id}" if row is not None else f"vote:{vote_id}"
            where = f"{c.id} {c.name} {vote.matter}" + (f" 第{row}行" if row is not None else "")
            yield Finding(rule_id, "error", _rel(data, data.sources[source]), where, column, message)


def _vote_rule(rule_id: str, title: str) -> None:
    def check(data: DataSet) -> Iterator[Finding]:
        return _vote_findings(data, rule_id)

    rule(rule_id, title)(check)


for _id, _title in (
    ("VOTE-RULE", "业主表决：规则须是方案参数（programme.yaml votes.rules）中的规则，截止日期不早于开始日期"),
    ("VOTE-SCOPE", "业主表决：表决范围在住户名册中有住户，每张表决票的住户都在表决范围内"),
    ("VOTE-TWICE", "业主表决：一户只投一票"),
    ("VOTE-PROXY", "业主表决：代理人签署的表决票须记录代理人姓名和授权委托书"),
    ("VOTE-CHOICE", "业主表决：表决意见只能是同意、不同意、弃权、未参加"),
    ("VOTE-AREA", "业主表决：按建筑面积计票的，表决范围内每户都须有建筑面积"),
    ("VOTE-TOTALS", "业主表决：表决票的住户都在住户名册中，表决资料写明的户数、面积与名册一致"),
    ("VOTE-COST", "业主表决：加装电梯的费用能按楼层分摊（有分摊系数，房号能判断楼层）"),
):
    _vote_rule(_id, _title)


def _satisfaction_rule(rule_id: str, title: str) -> None:
    def check(data: DataSet) -> Iterator[Finding]:
        for survey_id, survey in data.satisfaction.items():
            c = data.communities[survey.community]
            for found, row, column, message in satisfaction_issues(data, survey_id):
                if found == rule_id:
                    yield Finding(rule_id, "error", _rel(data, data.sources[f"responses:{survey_id}"]),
                                  f"{c.id} {c.name} 满意度调查 第{row}行", column, message)

    rule(rule_id, title)(check)


_satisfaction_rule("SATISFY-ANSWER", "满意度调查：每个答案都是问卷的选项")
_satisfaction_rule("SATISFY-ROSTER", "满意度调查：填了房号的问卷，住户在住户名册中且只交一份")


# ---------------------------------------------------------------- text in any file


def _texts(value: object, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every text of a record, with its field path: ('items', 2, 'description')."""
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), (*loc, name))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _texts(item, (*loc, index))


def _control_chars(
    record: BaseModel, rule_id: str, file: str, where: str, base: tuple[str | int, ...] = ()
) -> Iterator[Finding]:
    for loc, text in _texts(record):
        if xml_safe(text) == text:
            continue
        codes = "、".join(f"U+{ord(ch):04X}" for ch in sorted({ch for ch in text if not xml_safe(ch)}))
        yield Finding(rule_id, "warning", file, where, field_label(type(record), loc, base),
                      f"含有文书无法保存的控制字符（{codes}），生成时将删除；"
                      "多见于从网页、微信或其他软件复制的文字，请核对原文")


def _project_control_chars(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        c = data.communities[p.community]
        yield from _control_chars(p, "TEXT-CONTROL-CHARS", _rel(data, data.sources[f"project:{p.community}"]),
                                  f"{c.id} {c.name}")


CONTROL_CHARS = "TEXT-CONTROL-CHARS"


@rule(CONTROL_CHARS, "文字中不含 Word、Excel 文件无法保存的控制字符", project_part=_project_control_chars)
def check_control_chars(data: DataSet) -> Iterator[Finding]:
    # Such characters arrive as YAML escapes ("\a", "\x0b") or from an imported workbook; a YAML
    # file cannot hold them raw. The renderers drop them (jinja_env.xml_safe): this says so.
    rule_id, root = "TEXT-CONTROL-CHARS", data.root
    yield from _control_chars(data.programme, rule_id, _rel(data, root / "programme.yaml"), "方案参数")
    for index, d in enumerate(data.districts.values()):
        yield from _control_chars(d, rule_id, _rel(data, root / "districts.yaml"), d.name,
                                  ("districts", index))
    yield from _control_chars(data.catalogue, rule_id, _rel(data, root / "catalogue.yaml"), "项目分类表")
    plain = data.plain_communities
    for c in data.communities.values():
        if plain.get(c.id) is c:
            continue
        file = _rel(data, data.sources[f"community:{c.id}"])
        yield from _control_chars(c, rule_id, file, f"序号{c.seq} {c.name}")
    yield from _project_control_chars(data)
    for (district, year), report in data.reports.items():
        file = _rel(data, data.sources[f"report:{district}:{year}"])
        yield from _control_chars(report, rule_id, file, f"{district} {year}年报告")


# ---------------------------------------------------------------- what the papers may say

RECHECK = "整改后复验"
"""The conclusion an acceptance with a failed item, not yet put right, must come to."""


@rule("ACCEPT-CONCLUSION", "有不合格分项且未记录整改复验的，验收结论为“整改后复验”，项目不算通过验收",
      per_project=True)
def check_acceptance_conclusion(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        a = p.acceptance
        if a is None or a.passed:
            continue
        failed = "、".join(a.failed)
        if RECHECK not in a.conclusion or "同意通过" in a.conclusion:
            yield _proj(data, p, "ACCEPT-CONCLUSION", "error", "acceptance.conclusion（验收结论）",
                        f"分项“{failed}”不合格且未记录整改复验（acceptance.rectification），"
                        f"验收结论应为“{RECHECK}”，不能写通过验收")
        if p.at_least("accepted"):
            yield _proj(data, p, "ACCEPT-CONCLUSION", "error", "stage（进度阶段）",
                        f"分项“{failed}”不合格且未记录整改复验，进度不能为“{STAGE_NAMES['accepted']}”，"
                        f"应为“{STAGE_NAMES['completed']}”；整改复验后填写 acceptance.rectification")
        if a.rectification_deadline is None:
            yield _proj(data, p, "ACCEPT-CONCLUSION", "warning",
                        "acceptance.rectification_deadline（整改期限）",
                        f"分项“{failed}”不合格，应写明整改期限")


@rule("WORDING", "本市措辞文件（数据文件夹 templates/wording.yaml）的键、字段和写法正确")
def check_wording(data: DataSet) -> Iterator[Finding]:
    for problem in wording_problems(data.root):
        yield Finding("WORDING", "error", str(problem.file), "措辞", problem.field, problem.problem)


def neutral_basis(data: DataSet, year: int) -> str:
    """What a paper dated before the programme document was issued says instead of citing it:
    the programme's own words (``neutral_basis``), or the city's arrangements for the year's
    work (试点 in the pilot year)."""
    prog = data.programme
    if prog.neutral_basis:
        return prog.neutral_basis
    return wording(data.root).say("basis.neutral", year=year, pilot=year == prog.pilot.year)


def may_cite(data: DataSet, day: dt.date | None) -> bool:
    """Whether a paper of this date may cite the programme document: only on or after its issuance.

    An undated paper does not cite it either: nothing says the document existed by then.
    """
    return day is not None and day >= data.programme.issuance.date


def paper_dates(project: Project) -> dict[str, dt.date | None]:
    """The date each community paper that would cite the programme carries."""
    return {
        "survey": project.survey.date if project.survey else None,
        "application": project.dates.application,
        "plan": project.dates.plan,
        "budget": project.dates.plan,
    }


PAPER_NAMES = {"survey": "居民意见征询表", "application": "改造申请书", "plan": "改造方案",
               "budget": "工程预算及资金筹集表"}


@rule("DATE-BEFORE-ISSUANCE", "早于方案印发日期的文书不引用方案文件", per_project=True)
def check_before_issuance(data: DataSet) -> Iterator[Finding]:
    issued = data.programme.issuance
    for p in data.projects.values():
        early = [(key, day) for key, day in paper_dates(p).items()
                 if day is not None and not may_cite(data, day)]
        if not early:
            continue
        papers = "、".join(f"{PAPER_NAMES[k]}（{cn_date(d)}）" for k, d in early)
        yield _proj(data, p, "DATE-BEFORE-ISSUANCE", "warning", "dates",
                    f"{papers}早于《{data.programme.title}》"
                    f"（{issued.number}）印发日期{cn_date(issued.date)}，这些文书不引用该文件，"
                    f"改用“{neutral_basis(data, data.communities[p.community].year)}”；如日期有误请改正")


# ---------------------------------------------------------------- dated facts: money and effects


def _fund_field(i: int) -> str:
    return f"funds[{i}]（资金记录）"


@rule("FUND-SOURCE", "资金记录的来源是方案中的出资方", per_project=True)
def check_fund_source(data: DataSet) -> Iterator[Finding]:
    parties = data.programme.parties.ordered()
    for p in data.projects.values():
        for i, event in enumerate(p.funds):
            if event.source not in parties:
                yield _proj(data, p, "FUND-SOURCE", "error", _fund_field(i) + ".source",
                            f"资金来源“{event.source}”不是方案 parties 中的出资方（可选：{'、'.join(parties)}）")


@rule("FUND-ORDER", "各来源资金支出不超过已到位金额，到位不超过已下达金额", per_project=True)
def check_fund_order(data: DataSet) -> Iterator[Finding]:
    parties = data.programme.parties.ordered()
    for p in data.projects.values():
        sums: dict[tuple[str, str], Decimal] = {}
        order = sorted(range(len(p.funds)), key=lambda i: (p.funds[i].date, "下达到位支出".index(p.funds[i].kind)))
        for i in order:
            e = p.funds[i]
            sums[e.source, e.kind] = sums.get((e.source, e.kind), Decimal(0)) + e.amount
            name = parties.get(e.source, e.source)
            if e.kind == "支出" and sums[e.source, "支出"] > sums.get((e.source, "到位"), Decimal(0)):
                yield _proj(data, p, "FUND-ORDER", "error", _fund_field(i) + ".amount",
                            f"{name}截至{cn_date(e.date)}累计支出{yuan(sums[e.source, '支出'])}元，"
                            f"超过已到位的{yuan(sums.get((e.source, '到位'), Decimal(0)))}元")
            allocated = sums.get((e.source, "下达"))
            if e.kind == "到位" and allocated is not None and sums[e.source, "到位"] > allocated:
                yield _proj(data, p, "FUND-ORDER", "warning", _fund_field(i) + ".amount",
                            f"{name}截至{cn_date(e.date)}累计到位{yuan(sums[e.source, '到位'])}元，"
                            f"超过已下达的{yuan(allocated)}元")


@rule("FUND-BUDGET", "到位资金不超过工程预算", per_project=True)
def check_fund_budget(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        paid = sum((e.amount for e in p.funds if e.kind == "到位"), Decimal(0))
        if not paid:
            continue
        budget = sum((ln.amount for ln in p.items), Decimal(0))
        if paid > budget:
            yield _proj(data, p, "FUND-BUDGET", "error", "funds（资金记录）",
                        f"到位资金合计{yuan(paid)}元，超过工程预算{yuan(budget)}元")


def _dated(p: Project) -> Iterator[tuple[str, dt.date]]:
    """Every date a project file records, with its field."""
    if p.survey is not None:
        yield "survey.date（征询日期）", p.survey.date
    for key, value in p.dates:
        if value is not None:
            yield f"dates.{key}", value
    for i, e in enumerate(p.funds):
        yield _fund_field(i) + ".date", e.date


@rule("DATE-FUTURE", "记录的日期不晚于今天", per_project=True)
def check_date_future(data: DataSet) -> Iterator[Finding]:
    today = dt.date.today()
    for p in data.projects.values():
        for field, day in _dated(p):
            if day > today:
                yield _proj(data, p, "DATE-FUTURE", "error", field,
                            f"日期{cn_date(day)}晚于今天（{cn_date(today)}），尚未发生的事项不能记录")


@rule("STAGE-DATES", "已填开工、完工、验收日期的项目，进度阶段与之相符", per_project=True)
def check_stage_dates(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        for key, name, stage in (("start", "开工", "construction"), ("completion", "完工", "completed"),
                                 ("acceptance", "验收", "accepted")):
            if key == "acceptance" and p.acceptance is not None and not p.acceptance.passed:
                continue  # inspected, failed items not yet put right: not accepted, as the stage says
            if getattr(p.dates, key) is not None and not p.at_least(stage):
                yield _proj(data, p, "STAGE-DATES", "warning", f"dates.{key}",
                            f"已填写{name}日期，但进度阶段仍为“{STAGE_NAMES[p.stage]}”，"
                            f"月报按日期统计、进度看板按阶段统计，两者将不一致")


@rule("EFFECT-UNIT", "计入改造效果指标的预算项目，单位能换算成指标的单位", per_project=True)
def check_effect_units(data: DataSet) -> Iterator[Finding]:
    for p in data.projects.values():
        for i, line in unconvertible(data, p):
            ind = BY_KEY[indicator_of(data, line) or ""]
            yield _proj(data, p, "EFFECT-UNIT", "warning", f"items[{i}].unit（预算项目“{line.item}”的单位）",
                        f"单位“{line.unit}”不能换算为“{ind.name}”的单位{ind.unit}，该项不计入改造效果；"
                        f"请改用可换算的单位，或在项目分类表该项目的 effect.units 中写明换算系数")


def _leaves(indicators: list[ScoreIndicator]) -> Iterator[ScoreIndicator]:
    for ind in indicators:
        yield from _leaves(ind.children) if ind.children else [ind]


@rule("ASSESS-ENTERED", "绩效自评填报的得分对应填报指标，且不超过其分值")
def check_entered_scores(data: DataSet) -> Iterator[Finding]:
    trees = {t.key: {leaf.name: leaf for leaf in _leaves(t.indicators)} for t in data.programme.self_assessment}
    for (district, year), report in data.reports.items():
        file = _rel(data, data.sources[f"report:{district}:{year}"])
        for i, s in enumerate(report.scores):
            field = f"scores[{i}]（绩效自评填报得分）"
            leaf = trees.get(s.tree, {}).get(s.indicator)
            if s.tree not in trees:
                message = f"指标体系“{s.tree}”不在方案的 self_assessment 中（可选：{'、'.join(trees) or '无'}）"
            elif leaf is None:
                message = f"指标“{s.indicator}”不是指标体系“{s.tree}”的末级指标"
            elif leaf.measure is not None:
                message = f"指标“{s.indicator}”由数据计算，不能填报得分"
            elif s.score > leaf.points:
                message = f"指标“{s.indicator}”得分{s.score}超过分值{leaf.points}"
            else:
                continue
            yield Finding("ASSESS-ENTERED", "error", file, f"{district} {year}年报告", field, message)
