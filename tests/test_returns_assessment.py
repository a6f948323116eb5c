"""The 绩效自评: indicator trees scored from the data or as entered, with the records behind each score."""

from __future__ import annotations

import dataclasses
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document

from generator.data.loader import DataSet
from generator.data.models import AssessmentTree, EnteredScore, ScoreIndicator
from generator.documents.figures import assessment_rows, weights
from generator.documents.kinds import KINDS, Target
from generator.documents.self_assessment import assessment_context, score_tree
from generator.output.pipeline import Renderers, render_document
from tests.helpers import DataDir


def _tree(data: DataSet, key: str) -> AssessmentTree:
    return next(t for t in data.programme.self_assessment if t.key == key)


def _leaves(indicators: list[ScoreIndicator]) -> list[ScoreIndicator]:
    return [leaf for i in indicators for leaf in (_leaves(i.children) if i.children else [i])]


def test_the_bundled_programme_ships_both_trees(bundled: DataSet) -> None:
    seed, example = _tree(bundled, "seed"), _tree(bundled, "performance")
    assert [i.name for i in seed.indicators] == ["改造户数", "改造内容", "改造标准", "长效管理机制"]
    assert [i.points for i in seed.indicators] == list(weights(bundled).values())
    assert len(example.indicators) == 5 and len(_leaves(example.indicators)) == 18
    assert sum(i.points for i in example.indicators) == 100
    assert [(g.name, g.above) for g in example.grades] == [("优秀", 95), ("良好", 85), ("合格", 75)]


@pytest.mark.parametrize("year", [2018, 2019])
def test_the_seed_tree_scores_what_the_assessment_workbook_scores(bundled: DataSet, year: int) -> None:
    for row in assessment_rows(bundled, year):
        rows, total, _ = score_tree(bundled, _tree(bundled, "seed"), year, row.district)
        if not row.finished:
            continue  # the workbook says 无数据 there; the tree counts what there is
        want = {k: row.score(k, w) for k, w in weights(bundled).items()}
        assert [r.score for r in rows] == list(want.values()), row.district
        assert total == sum(want.values())


def test_each_score_names_what_it_rests_on(bundled: DataSet) -> None:
    ctx = assessment_context(bundled, 2018, "东区")
    example = next(t for t in ctx["trees"] if t["key"] == "performance")
    leaves = [r for r in example["rows"] if r["how"]]
    assert len(leaves) == 18 and all(r["evidence"] for r in leaves)
    computed = {r["name"]: r for r in leaves if r["how"] == "计算"}
    assert computed["竣工验收合格率"]["basis"] == "竣工验收合格率100.0%（8÷8），满分比率100%"
    evidence = computed["竣工验收合格率"]["evidence"]
    assert "竣工验收表" in evidence and "dongqu-01" in evidence
    entered = {r["name"]: r for r in leaves if r["how"] == "填报"}
    assert entered["居民满意度"]["score"] == Decimal("9.00")
    assert entered["居民满意度"]["evidence"].startswith("2018年12月入户满意度调查")
    # a heading is the sum of its children, the total of its headings
    first = [r for r in example["rows"] if r["level"] == 1]
    assert sum(r["score"] for r in first) == example["total"] == Decimal("97.47")
    assert example["grade"] == "优秀" and example["missing"] == []


def test_scores_not_entered_count_nothing_and_are_listed(bundled: DataSet) -> None:
    ctx = assessment_context(bundled, 2018, "西区")  # 西区 entered no scores
    example = next(t for t in ctx["trees"] if t["key"] == "performance")
    assert example["missing"] == ["立项依据充分性", "绩效目标合理性", "预算编制科学性", "居住环境改善", "安全隐患消除",
                                  "居民满意度"]
    assert example["total"] <= 100 - (2 + 5 + 5 + 5 + 5 + 10)


@pytest.mark.parametrize(("total", "grade"), [(Decimal("95.01"), "优秀"), (Decimal(95), "良好"),
                                              (Decimal("85.5"), "良好"), (Decimal(75), "不合格")])
def test_grades_are_strictly_above_their_line(bundled: DataSet, total: Decimal, grade: str) -> None:
    tree = AssessmentTree(key="t", title="t", grades=_tree(bundled, "performance").grades,
                          indicators=[ScoreIndicator(name="x", points=Decimal(100))])
    score: dict[str, Any] = {"tree": "t", "indicator": "x", "score": total, "evidence": "记录"}
    report = bundled.reports[("东区", 2018)].model_copy(update={"scores": [EnteredScore(**score)]})
    data = dataclasses.replace(bundled, reports={**bundled.reports, ("东区", 2018): report})
    assert score_tree(data, tree, 2018, "东区")[2] == grade


def test_the_workbook_and_the_summary_are_filled(bundled: DataSet) -> None:
    target = Target(2018, "东区")
    renderers = Renderers(bundled, None)
    xlsx = render_document(bundled, KINDS["self-assessment"], target, renderers)
    ws = openpyxl.load_workbook(io.BytesIO(xlsx))["绩效自评"]
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert not any("{{" in c or "{%" in c for c in cells)
    assert "【城镇老旧小区改造项目绩效评价指标（示例，100分）】" in cells and "　　居民满意度" in cells
    docx = render_document(bundled, KINDS["self-assessment-summary"], target, renderers)
    text = "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)
    assert "{{" not in text and "{%" not in text
    assert "满分100分，自评得分97.47分，等级为“优秀”" in text
    assert "东区2018年度老旧小区改造绩效自评情况" in text


# ---------------------------------------------------------------- the rule on entered scores


@pytest.mark.parametrize(("score", "message"), [
    ({"tree": "nope", "indicator": "x"}, "指标体系“nope”不在方案的 self_assessment 中（可选：seed、performance）"),
    ({"indicator": "过程"}, "指标“过程”不是指标体系“performance”的末级指标"),
    ({"indicator": "开工率"}, "指标“开工率”由数据计算，不能填报得分"),
    ({"score": 11}, "指标“居民满意度”得分11超过分值10"),
])
def test_entered_scores_are_checked(tmp_path: Path, score: dict[str, Any], message: str) -> None:
    dd = DataDir(tmp_path / "data")
    entry = {"tree": "performance", "indicator": "居民满意度", "score": 9, "evidence": "调查", **score}
    dd.write("reports/2018/东区.yaml", {"district": "东区", "year": 2018, "scores": [entry]})
    (f,) = dd.findings("ASSESS-ENTERED")
    assert (f.severity, f.field, f.message) == ("error", "scores[0]（绩效自评填报得分）", message)


def test_a_right_entered_score_passes(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    dd.write("reports/2018/东区.yaml", {"district": "东区", "year": 2018, "scores": [
        {"tree": "performance", "indicator": "居民满意度", "score": 10, "evidence": "调查"}]})
    assert dd.findings("ASSESS-ENTERED") == []
