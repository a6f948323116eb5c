"""The one registry of document kinds: every document the tool makes, for a community, a district or the city.

A kind says what it is called, where it sits in the workflow, which template it fills (or which
function lays it out), what it needs before it can be made, how its context is made and where
its files go. The CLI's help, `templates fields`, `templates check`, the docs and the pipeline
all read KINDS. Adding a kind is one context function, one template and one `register()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from generator.data.loader import DataSet
from generator.data.models import STAGES, Community, Project
from generator.documents import report
from generator.documents.budget_sheet import BUDGET_BLOCKS
from generator.documents.charts import missing_font
from generator.documents.paths import community_folder, file_name, safe_name
from generator.documents.project import project_context
from generator.documents.returns import Month, default_month, return_context
from generator.documents.returns_sheet import RETURN_BLOCKS
from generator.documents.satisfaction import form_context as satisfaction_form
from generator.documents.satisfaction import needs_answers, needs_questionnaire
from generator.documents.satisfaction import tally_context as satisfaction_tally
from generator.documents.survey import Residents, survey_context, tally_context
from generator.documents.votes import (
    ballot_context,
    costs_context,
    needs_ballots,
    needs_costs,
    needs_elevator,
    needs_votes,
    register_context,
    result_context,
)
from generator.render.blocks import NO_BLOCKS, Blocks
from generator.rules.checks import meets_support, survey_tally

Scope = Literal["community", "district", "city"]
"""community: one document per community; district and city: documents of the programme's years."""


@dataclass(frozen=True, slots=True)
class Target:
    """What one document is about: a community and its project, or a district's or the city's year."""

    year: int | None = None
    district: str | None = None
    """None for a city-level document."""
    community: Community | None = None
    """A community kind's community; its project detail is read from the data set when needed
    (tens of thousands of targets are planned at once; the records stay packed until then)."""
    blank_forms: int | None = None
    """Household survey forms printed blank, this many, instead of one per roster household
    (or, without a roster, one per household the community has)."""
    all_forms: bool = False
    """Household forms even for a community whose survey is done and recorded without a roster."""
    month: int | None = None
    """A monthly kind's month of the year (1–12)."""
    masked: bool = False
    """A copy for someone other than the street office that collected the roster (a district, the city):
    papers that print residents in full print them masked (张*明, 138****1234, 3**) instead."""


def printed(target: Target) -> Residents:
    """What a paper that prints residents in full prints of them for this target's reader."""
    return "masked" if target.masked else "full"


def community_target(data: DataSet, community_id: str) -> Target:
    """The target of a community's documents."""
    c = data.communities[community_id]
    return Target(c.year, c.district, c)


def project_of(data: DataSet, target: Target) -> Project:
    """The project detail of a community kind's target."""
    assert target.community is not None
    return data.projects[target.community.id]


Context = Callable[[DataSet, Target], dict[str, Any]]
Needs = Callable[[DataSet, Target], str | None]
"""Why this document cannot be made yet (a Chinese reason), or None when it can."""
Layout = Callable[..., bytes]
"""The finished file of a kind laid out in code rather than from a template: (data, target), or
(data, target, template folders, its context's inputs or None) for a kind whose rows are laid
into a ``row_template``."""
Targets = Callable[[DataSet, int | None], list[Target]]
"""A district or city kind's documents for a year (None: every year it is made for)."""


def always(data: DataSet, target: Target) -> str | None:
    """A kind that can always be made."""
    return None


@dataclass(frozen=True, eq=False)
class Kind:
    """One kind of document."""

    key: str
    """What --kind and the manifest call it: notice."""
    name: str
    """Its Chinese name in file names, summaries and the manifest: 改造方案公示."""
    short: str
    """Its name in lists of kinds (help texts): 公示."""
    number: int
    """Place in the workflow; the file names of community kinds start with it."""
    scope: Scope
    context: Context
    template: str | None = None
    """Path under a templates folder, e.g. docx/notice.docx; None for a kind laid out in code."""
    layout: Layout | None = None
    source: str = ""
    """What the manifest names as the template of a kind laid out in code."""
    row_template: str | None = None
    """For a kind laid out in code: the .xlsx template (path under a templates folder) holding its
    words and look, whose model rows the program fills (render/xlsx_rows.py)."""
    blocks: Blocks = NO_BLOCKS
    """The program-written rows an Excel template of this kind may hold."""
    needs: Needs = always
    targets: Targets | None = None
    """For district and city kinds: which documents a year gives."""
    path: Callable[[DataSet, Target], str] | None = None
    """Where a district or city document goes under the output folder."""
    layout_suffix: str = ".xlsx"
    """The file type a kind laid out in code makes."""
    monthly: bool = False
    """Made for a month of the year (Target.month): `report --month` chooses it."""
    optional: Needs | None = None
    """For a paper only some communities have (a vote, a satisfaction survey): why this community has
    none, or None when it has; a community without one is left out of a build that did not ask for
    the kind by name, and of the web's list, instead of being reported as skipped."""
    residents: Residents = "none"
    """What it may print of a household in the roster: none, masked (a paper posted or sent out
    of the community: 张*明, 138****1234) or full (the forms the committee keeps)."""

    def __post_init__(self) -> None:
        if (self.template is None) == (self.layout is None):
            raise ValueError(f"kind {self.key}: give a template or a layout, not both or neither")
        if self.scope != "community" and (self.targets is None or self.path is None):
            raise ValueError(f"kind {self.key}: a {self.scope} kind needs targets and path")

    @property
    def suffix(self) -> str:
        return "." + self.template.rsplit(".", 1)[1] if self.template else self.layout_suffix

    def lay_out(self, data: DataSet, target: Target, dirs: list[Path], inputs: dict[str, Any] | None = None) -> bytes:
        """The file of a kind laid out in code, its row template looked up in dirs; inputs, when given,
        are what its context made for the same target, so no figure is worked out twice."""
        assert self.layout is not None
        if self.row_template is not None:
            return self.layout(data, target, dirs, inputs)
        return self.layout(data, target)

    def file_name(self, data: DataSet, target: Target) -> str:
        """The file name of the document for target, as the wording's file.<kind> says it."""
        if self.path is not None:
            return self.path(data, target).rsplit("/", 1)[-1]
        c = target.community
        assert c is not None

        def street_office() -> str:
            project = data.projects.get(c.id)
            return safe_name(project.street_office) if project else ""

        return file_name(data, self.key, self.suffix, f"{self.number:02d}-{self.name}", year=c.year,
                         district=lambda: safe_name(c.district), seq=f"{c.seq:02d}",
                         community=lambda: safe_name(c.name), street_office=street_office)

    def where(self, data: DataSet, target: Target) -> str:
        """The document's path under the output folder."""
        if self.path is not None:
            return self.path(data, target)
        assert target.community is not None
        return f"{community_folder(target.community)}/{self.file_name(data, target)}"

    def example(self, data: DataSet) -> Target:
        """A target whose context has every optional part the data can give, for checking templates."""
        if self.scope == "community":
            project = max(data.projects.values(), key=lambda p: (STAGES.index(p.stage), len(p.items)))
            return community_target(data, project.community)
        assert self.targets is not None
        # The last target of the pilot year: for the pilot report the city's compilation, which
        # has every table a district's has and the table of districts too.
        found = self.targets(data, data.programme.pilot.year)
        return found[-1]


# ---------------------------------------------------------------- community kinds


def _project(data: DataSet, target: Target) -> dict[str, Any]:
    return project_context(data, project_of(data, target))


def _needs_chart_font(data: DataSet, target: Target) -> str | None:
    # A machine without the font still gets every other paper; this one says what to install.
    return missing_font()


def _needs_forms(data: DataSet, target: Target) -> str | None:
    # Forms from a roster are the committee's record of each household's answer; blank ones are
    # for a survey still to be made. After it, without a roster, they would be paper nobody prints.
    assert target.community is not None
    if target.blank_forms is not None or target.all_forms or target.community.id in data.rosters:
        return None
    project = project_of(data, target)
    if project.survey is None or project.stage == STAGES[0]:
        return None
    return FORMS_DONE


FORMS_DONE = "居民意见征询已完成并录入结果，又没有住户名册，不再印空白征询表"
"""Said on the web page as on the command line; the command line's options are in its help."""


def _needs_survey(data: DataSet, target: Target) -> str | None:
    project = project_of(data, target)
    if survey_tally(data, project) is None:
        return "缺少居民意见征询结果"
    if not meets_support(data, project):
        return f"居民支持率低于{data.programme.eligibility.min_support_percent}%"
    return None


def _needs_budget(data: DataSet, target: Target) -> str | None:
    return None if project_of(data, target).items else "缺少工程预算（预算项目）"


def _needs_notice(data: DataSet, target: Target) -> str | None:
    project = project_of(data, target)
    if not project.items:
        return "缺少工程预算（预算项目）"
    if project.dates.notice_start is None or project.dates.notice_end is None:
        return "缺少公示日期"
    if project.contact is None:
        return "缺少公示联系人"
    return None


def _survey(data: DataSet, target: Target) -> dict[str, Any]:
    return survey_context(data, project_of(data, target), printed(target), target.blank_forms)


def _tally(data: DataSet, target: Target) -> dict[str, Any]:
    return tally_context(data, project_of(data, target), "none")


def _needs_counts(data: DataSet, target: Target) -> str | None:
    # After the survey the packet shows its result: counted from the roster's answers, or, without
    # a roster, the counts the committee recorded in the project file.
    if survey_tally(data, project_of(data, target)) is None:
        return "缺少居民意见征询结果（住户名册中的征询意见或项目资料中的征询户数）"
    return None


def _votes(make: Callable[[DataSet, Project], dict[str, Any]]) -> Context:
    """A context of the target's project (the vote and satisfaction papers take no other option)."""
    return lambda data, target: make(data, project_of(data, target))


def _full(make: Callable[[DataSet, Project, Residents], dict[str, Any]]) -> Context:
    """A context of a paper printing residents in full for the street office, masked for anyone else."""
    return lambda data, target: make(data, project_of(data, target), printed(target))


def _needs(check: Callable[[DataSet, str], str | None]) -> Needs:
    def needs(data: DataSet, target: Target) -> str | None:
        assert target.community is not None
        return check(data, target.community.id)

    return needs


# ---------------------------------------------------------------- district and city kinds


def _plan_targets(data: DataSet, year: int | None) -> list[Target]:
    return [Target()]


def _report_targets(data: DataSet, year: int | None) -> list[Target]:
    """Each district's report of a year, then the city's compilation."""
    years = [year] if year is not None else report.report_years(data)
    return [Target(y, district) for y in years for district in [*data.districts, None]]


def _assessment_targets(data: DataSet, year: int | None) -> list[Target]:
    return [Target(y) for y in ([year] if year is not None else data.programme.years)]


def _year(target: Target) -> int:
    assert target.year is not None
    return target.year


# The two city workbooks are laid out with openpyxl, imported only when one is made.


def _plan_inputs(data: DataSet, target: Target) -> dict[str, Any]:
    from generator.documents.plan_table import plan_inputs

    return plan_inputs(data)


def _plan_workbook(data: DataSet, target: Target, dirs: list[Path], inputs: dict[str, Any] | None = None) -> bytes:
    from generator.documents.plan_table import plan_workbook

    # The plan's rows are the plan itself, read straight from the data set: nothing to work out twice.

    return plan_workbook(data, dirs)


def _assessment_inputs(data: DataSet, target: Target) -> dict[str, Any]:
    from generator.documents.assessment import assessment_inputs

    return assessment_inputs(data, _year(target))


def _assessment_workbook(data: DataSet, target: Target, dirs: list[Path], inputs: dict[str, Any] | None = None,
                         ) -> bytes:
    from generator.documents.assessment import assessment_workbook

    return assessment_workbook(data, _year(target), dirs, inputs)


def _self_assessment(data: DataSet, target: Target) -> dict[str, Any]:
    from generator.documents.self_assessment import assessment_context

    assert target.district is not None
    return assessment_context(data, _year(target), target.district)


def _self_assessment_targets(data: DataSet, year: int | None) -> list[Target]:
    """Each district's self-assessment of a year (by default the years the reports are made for: the
    pilot and later years with data); none without trees in the programme."""
    if not data.programme.self_assessment:
        return []
    return [Target(y, d) for y in ([year] if year is not None else report.report_years(data)) for d in data.districts]


def _self_assessment_path(key: str, suffix: str) -> Callable[[DataSet, Target], str]:
    return lambda data, t: report.self_assessment_path(data, _year(t), t.district or "", key, suffix)


def _return_month(target: Target) -> Month:
    assert target.year is not None and target.month is not None
    return Month(target.year, target.month)


def _statistics_targets(data: DataSet, year: int | None) -> list[Target]:
    return [Target(y, month=default_month(y).month)
            for y in ([year] if year is not None else data.programme.years)]


WORKBOOK_SOURCE = "generator/documents/workbooks.py"
"""What the manifest names as the 'template' of the workbooks laid out in code."""


KINDS: dict[str, Kind] = {}
"""Every kind, by key, in workflow order."""


def register(kind: Kind) -> Kind:
    """Add a kind to the registry (a city's own kind, or a test's)."""
    if kind.key in KINDS:
        raise ValueError(f"kind {kind.key} is registered already")
    KINDS[kind.key] = kind
    return kind


def kinds_of(*scopes: Scope) -> list[Kind]:
    """The registered kinds of these scopes, in workflow order."""
    return sorted((k for k in KINDS.values() if k.scope in scopes), key=lambda k: k.number)


def printable() -> list[Kind]:
    """The community kinds that are Word documents, which can be bound into print files."""
    return [k for k in kinds_of("community") if k.suffix == ".docx"]


def listing(kinds: list[Kind]) -> str:
    """'survey 征询表、application 申请书、…' for help texts."""
    return "、".join(f"{k.key} {k.short}" for k in kinds)


for _kind in [
    Kind("survey", "居民意见征询表", "征询表", 1, "community", _survey, "docx/survey_form.docx",
         residents="full", needs=_needs_forms),
    Kind("application", "改造申请书", "申请书", 2, "community", _project, "docx/application.docx",
         needs=_needs_survey),
    Kind("plan", "改造方案", "方案", 3, "community", _project, "docx/plan.docx", needs=_needs_budget),
    Kind("budget", "工程预算及资金筹集表", "预算表", 4, "community", _project, "xlsx/budget.xlsx",
         blocks=BUDGET_BLOCKS, needs=_needs_budget),
    Kind("notice", "改造方案公示", "公示", 5, "community", _project, "docx/notice.docx",
         needs=_needs_notice),
    Kind("acceptance", "竣工验收表", "验收表", 6, "community", _project, "docx/acceptance.docx",
         needs=_needs_budget),
    Kind("survey-tally", "意见征询结果汇总表", "汇总表", 10, "community", _tally,
         "docx/survey_tally.docx", needs=_needs_counts),
    Kind("ballot", "业主表决票", "表决票", 20, "community", _full(ballot_context), "docx/ballot.docx",
         residents="full", needs=_needs(needs_votes), optional=_needs(needs_votes)),
    Kind("vote-register", "业主表决签到及表决情况登记表", "表决登记表", 21, "community",
         _full(register_context), "docx/vote_register.docx", residents="full", needs=_needs(needs_votes),
         optional=_needs(needs_votes)),
    Kind("vote-result", "业主表决结果公示", "表决结果公示", 22, "community", _votes(result_context),
         "docx/vote_result.docx", residents="masked", needs=_needs(needs_ballots),
         optional=_needs(needs_votes)),
    Kind("elevator-costs", "加装电梯费用分摊表", "电梯费用分摊表", 23, "community", _votes(costs_context),
         "docx/elevator_costs.docx", residents="masked", needs=_needs(needs_costs),
         optional=_needs(needs_elevator)),
    Kind("satisfaction-form", "居民满意度调查问卷", "满意度问卷", 24, "community",
         lambda data, t: satisfaction_form(data, project_of(data, t), t.blank_forms, printed(t)),
         "docx/satisfaction_form.docx", residents="full", needs=_needs(needs_questionnaire),
         optional=_needs(needs_questionnaire)),
    Kind("satisfaction-tally", "居民满意度调查结果汇总表", "满意度汇总表", 25, "community",
         _votes(satisfaction_tally), "docx/satisfaction_tally.docx", needs=_needs(needs_answers),
         optional=_needs(needs_questionnaire)),
    Kind("plan-table", "年度实施计划表", "年度实施计划表", 7, "city", _plan_inputs,
         layout=_plan_workbook, row_template="xlsx/plan_table.xlsx",
         targets=_plan_targets, path=lambda data, t: report.plan_path(data)),
    Kind("pilot-report", "试点工作报告（年度工作总结）", "试点工作报告（试点以后年度为年度工作总结）", 8,
         "district", lambda data, t: report.report_context(data, _year(t), t.district),
         "docx/pilot_report.docx", targets=_report_targets, needs=_needs_chart_font,
         path=lambda data, t: report.report_path(data, _year(t), t.district)),
    Kind("assessment", "年度综合考评表", "年度综合考评表", 9, "city", _assessment_inputs,
         layout=_assessment_workbook, row_template="xlsx/assessment.xlsx",
         targets=_assessment_targets,
         path=lambda data, t: report.assessment_path(data, _year(t))),
    Kind("statistics", "老旧小区改造进展统计月报", "进展统计月报", 11, "city",
         lambda data, t: return_context(data, _return_month(t)), "xlsx/statistics.xlsx",
         blocks=RETURN_BLOCKS, targets=_statistics_targets, monthly=True,
         path=lambda data, t: report.statistics_path(data, _year(t), _return_month(t).month)),
    Kind("self-assessment", "绩效自评表", "绩效自评表", 12, "district", _self_assessment,
         "xlsx/self_assessment.xlsx", targets=_self_assessment_targets,
         path=_self_assessment_path("self-assessment", ".xlsx")),
    Kind("self-assessment-summary", "绩效自评情况", "绩效自评情况（公文）", 13, "district", _self_assessment,
         "docx/self_assessment.docx", targets=_self_assessment_targets,
         path=_self_assessment_path("self-assessment-summary", ".docx")),
]:
    register(_kind)
