"""The registry of document kinds: adding a kind is one context function, one template, one line here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator.contexts import project_context
from generator.loader import DataSet
from generator.models import Project
from generator.rules import meets_support

Needs = Callable[[DataSet, Project], str | None]
"""Why a project cannot have this document yet (a Chinese reason), or None when it can."""


def _always(data: DataSet, project: Project) -> str | None:
    return None


def _needs_survey(data: DataSet, project: Project) -> str | None:
    if project.survey is None:
        return "缺少居民意见征询结果"
    if not meets_support(data, project):
        return f"居民支持率低于{data.programme.eligibility.min_support_percent}%"
    return None


def _needs_budget(data: DataSet, project: Project) -> str | None:
    return None if project.items else "缺少工程预算（预算项目）"


def _needs_notice(data: DataSet, project: Project) -> str | None:
    if not project.items:
        return "缺少工程预算（预算项目）"
    if project.dates.notice_start is None or project.dates.notice_end is None:
        return "缺少公示日期"
    if project.contact is None:
        return "缺少公示联系人"
    return None


@dataclass(frozen=True)
class Kind:
    key: str
    name: str
    number: int
    """Place in the workflow; file names start with it."""
    template: str
    """Path under a templates folder, e.g. docx/notice.docx."""
    needs: Needs
    context: Callable[[DataSet, Project], dict[str, Any]]

    @property
    def suffix(self) -> str:
        return "." + self.template.rsplit(".", 1)[1]

    def file_name(self) -> str:
        return f"{self.number:02d}-{self.name}{self.suffix}"


PROJECT_KINDS: dict[str, Kind] = {
    k.key: k
    for k in [
        Kind("survey", "居民意见征询表", 1, "docx/survey_form.docx", _always, project_context),
        Kind("application", "改造申请书", 2, "docx/application.docx", _needs_survey, project_context),
        Kind("plan", "改造方案", 3, "docx/plan.docx", _needs_budget, project_context),
        Kind("budget", "工程预算及资金筹集表", 4, "xlsx/budget.xlsx", _needs_budget, project_context),
        Kind("notice", "改造方案公示", 5, "docx/notice.docx", _needs_notice, project_context),
        Kind("acceptance", "竣工验收表", 6, "docx/acceptance.docx", _needs_budget, project_context),
    ]
}
