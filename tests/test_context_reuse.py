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
