"""A build works out a community's project context once for all its documents (contexts_reused)."""

from __future__ import annotations

from generator.data.loader import DataSet
from generator.documents.kinds import KINDS, community_target
from generator.documents.project import contexts_reused, project_context
from generator.documents.survey import survey_context


def test_documents_of_one_community_share_one_context_and_each_gets_its_own_top_level(bundled: DataSet) -> None:
    project = bundled.projects["dongqu-01"]
    alone = project_context(bundled, project)
    assert project_context(bundled, project)["items"] is not alone["items"]  # outside: worked out anew
    with contexts_reused(bundled):
        first = project_context(bundled, project)
        survey = survey_context(bundled, project, "full")
        second = project_context(bundled, project)
        assert second["items"] is first["items"]  # worked out once
        assert "households" in survey and "households" not in second  # a kind's keys stay its own
        assert first == alone and second == alone
        other = project_context(bundled, bundled.projects["dongqu-02"])
        assert other["community"] != first["community"]
    assert project_context(bundled, project)["items"] is not first["items"]


def test_a_kind_context_is_the_same_with_and_without_reuse(bundled: DataSet) -> None:
    target = community_target(bundled, "dongqu-01")
    plain = {key: KINDS[key].context(bundled, target) for key in ("application", "plan", "notice", "survey")}
    with contexts_reused(bundled):
        reused = {key: KINDS[key].context(bundled, target) for key in ("application", "plan", "notice", "survey")}
    assert reused == plain


def test_a_project_s_figures_are_kept_until_its_record_is_replaced(data_root) -> None:  # type: ignore[no-untyped-def]
    from generator.data.loader import load
    from generator.documents.figures import project_figures

    data = load(data_root)
    community = data.communities["dongqu-01"]
    first = project_figures(data, community)
    assert project_figures(data, community) is first  # worked out once
    project = data.projects["dongqu-01"]
    data.projects["dongqu-01"] = project.model_copy(update={"items": project.items[:1]})
    again = project_figures(data, community)
    assert again is not first and again.items_planned == 1 != first.items_planned
