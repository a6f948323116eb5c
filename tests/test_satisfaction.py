"""The satisfaction survey: a hand-computed tally, its rules, answers through Excel, its papers and figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.data.satisfaction import Responses, Returned, SatisfactionSurvey
from generator.documents.satisfaction import assessment_satisfaction, district_satisfaction
from generator.rules.checks import check_all
from generator.rules.satisfaction import tally

BUNDLED = load(BUNDLED_DATA)
SURVEY = "dongqu-01-2018"


def small() -> DataSet:
    """Three questions in two groups; three questionnaires, one answer outside the scale."""
    survey = SatisfactionSurvey.model_validate({
        "community": "dongqu-01", "date": dt.date(2018, 12, 1),
        "scale": [{"text": "满意", "score": 100, "satisfied": True}, {"text": "一般", "score": 60},
                  {"text": "不满意", "score": 0}],
        "groups": [{"name": "改造内容", "questions": [{"text": "甲"}, {"text": "乙"}]},
                   {"name": "长效管理", "questions": [{"text": "丙"}]}]})
    returned = (Returned(building="1栋", unit="1", room="101", answers={1: "满意", 2: "一般", 3: "不满意"}),
                Returned(answers={1: "满意", 2: "满意"}),
                Returned(building="1栋", unit="1", room="101", answers={1: "不满意", 3: "很好"}))
    return dataclasses.replace(BUNDLED, satisfaction={"t": survey},
                               responses={"t": Responses(returned=returned, rows=(3, 4, 5))},
                               sources={**BUNDLED.sources, "responses:t": Path("satisfaction/t.csv")})


def test_the_tally_by_question_group_and_overall_is_the_hand_computed_one() -> None:
    t = tally(small(), "t")
    # 甲: 100, 100, 0 → 200/3 = 66.67 (half up); 乙: 60, 100 → 80; 丙: 0 (很好 is not an answer)
    assert [(no, s.answered, s.score) for no, _, s in t.questions] == [
        (1, 3, Decimal("66.67")), (2, 2, Decimal("80.00")), (3, 1, Decimal("0.00"))]
    assert t.questions[0][2].rate == Decimal(2) / 3
    # 改造内容: 100+100+0+60+100 = 360 over 5 answers; 长效管理: one 0
    assert [(g.name, g.answered, g.score, g.satisfied) for g in t.groups] == [
        ("改造内容", 5, Decimal("72.00"), 3), ("长效管理", 1, Decimal("0.00"), 0)]
    assert (t.overall.answered, t.overall.score, t.overall.satisfied, t.returned) == (6, Decimal("60.00"), 3, 3)


def test_answers_outside_the_scale_and_a_household_twice_are_named() -> None:
    found = [(f.rule, f.where, f.field, f.message) for f in check_all(small()) if f.rule.startswith("SATISFY")]
    assert ("SATISFY-ANSWER", "dongqu-01 炳草岗园林苗圃小区 满意度调查 第5行", "第3题",
            "“很好”不是问卷的选项，只能是：满意、一般、不满意") in found
    assert ("SATISFY-ROSTER", "dongqu-01 炳草岗园林苗圃小区 满意度调查 第5行", "房号",
            "1栋1单元101交了两份问卷（另见第3行）") in found


def test_the_bundled_survey_validates_and_gives_the_report_and_assessment_figures() -> None:
    assert BUNDLED.satisfaction[SURVEY].illustrative
    assert [f for f in check_all(BUNDLED) if f.rule.startswith("SATISFY")] == []
    t = tally(BUNDLED, SURVEY)
    assert t.returned == 50 and len(t.questions) == 15
    assert [g.name for g in t.groups] == ["改造内容", "过程管理", "长效管理"]
    figure = district_satisfaction(BUNDLED, 2018, "东区")
    assert figure is not None and figure["communities"] == 1 and figure["score"] == t.overall.score
    assert district_satisfaction(BUNDLED, 2018, "西区") is None
    found = assessment_satisfaction(BUNDLED, 2018)
    assert [(c.community, c.score, c.returned) for c in found["communities"]] == [
        ("dongqu-01", t.overall.score, 50)]
    assert found["city"] == {"projects": 9, "figure": figure}


def _satisfaction_sheet(data: DataSet, year: int) -> list[list[object]]:
    from generator.documents.assessment import assessment_workbook

    ws = openpyxl.load_workbook(io.BytesIO(assessment_workbook(data, year))).worksheets[2]
    assert ws.title == "居民满意度"
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_the_assessment_prints_each_districts_and_communitys_satisfaction_as_tallied() -> None:
    t = tally(BUNDLED, SURVEY).overall
    rows = _satisfaction_sheet(BUNDLED, 2018)
    by_first: dict[tuple[object, object], list[object]] = {}
    for r in rows:  # the districts' table comes before the communities'
        by_first.setdefault((r[0], r[1]), r)
    assert t.score is not None and t.rate is not None
    score, rate = float(t.score), pytest.approx(float(t.rate))
    # 东区: one community surveyed of its two; the score and 满意率 are the tally's
    assert by_first[(1, "东区")][2:] == [2, 1, 50, score, rate, "2018年12月20日"]
    assert by_first[(2, "西区")][2:] == [2, 0, 0, "无数据", "无数据", "无数据"]
    city = next(r for r in rows if r[0] == "全市")
    assert city[2:5] == [9, 1, 50] and city[5] == score
    assert [1, "东区", "炳草岗园林苗圃小区", 300, 50, score, rate, "2018年12月20日"] in rows
    assert not any(isinstance(v, str) and "{" in v for r in rows for v in r)
    # a year without a survey: every district 无数据 and one line for the communities
    later = _satisfaction_sheet(BUNDLED, 2019)
    assert sum(r.count("无数据") for r in later) == 7 * 3
    assert ["本年度计划小区均未开展居民满意度调查"] + [None] * 7 in later


def test_a_districts_satisfaction_is_the_mean_of_its_communities_and_the_rate_of_all_answers() -> None:
    """Two communities of 东区: 60.00 over 6 answers (3 satisfied) and 100 over 2 (2 satisfied);
    the mean is (60 + 100) / 2 = 80.00, the 满意率 5/8 = 62.5%, not a mean of rates (75%)."""
    data = small()
    other = data.satisfaction["t"].model_copy(update={"community": "dongqu-02", "date": dt.date(2018, 12, 5)})
    empty = data.satisfaction["t"].model_copy(update={"date": dt.date(2019, 1, 1)})  # later, no answers
    data = dataclasses.replace(data, satisfaction={**data.satisfaction, "u": other, "v": empty}, responses={
        **data.responses, "u": Responses(returned=(Returned(answers={1: "满意", 3: "满意"}),), rows=(3,))})
    assert data.communities["dongqu-02"].year == 2018 and data.communities["dongqu-02"].district == "东区"
    figure = district_satisfaction(data, 2018, "东区")
    assert figure is not None
    assert (figure["score"], figure["rate"], figure["returned"]) == (Decimal("80.00"), Decimal(5) / 8, 4)
    assert (figure["first"], figure["last"]) == (dt.date(2018, 12, 1), dt.date(2018, 12, 5))
    rows = _satisfaction_sheet(data, 2018)
    assert [1, "东区", 2, 2, 4, 80, 0.625, "2018年12月1日至2018年12月5日"] in rows


def test_answers_through_excel_are_checked_and_written(tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, root)
    book = tmp_path / "答卷.xlsx"
    run = CliRunner()
    result = run.invoke(main, ["--data", str(root), "satisfaction", "export", "--survey", SURVEY, "--out", str(book)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(book)
    ws = wb.active
    assert [c.value for c in ws[2]][:6] == ["楼栋", "单元", "房号", "户主姓名", "第1题", "第2题"]
    assert [c.value for c in ws[3]][:5] == ["1栋", "1", "101", "杨杰涛", "满意"]
    before = (root / "satisfaction" / f"{SURVEY}.csv").read_bytes()
    ws["E3"] = "非常满意"
    ws["C4"] = "101"  # 102's row now says 101
    wb.save(book)
    result = run.invoke(main, ["--data", str(root), "satisfaction", "import", str(book)])
    assert result.exit_code != 0
    assert "工作表“满意度调查” 第3行“第1题”列：“非常满意”不是问卷的选项" in result.output
    assert "第4行“房号”列：1栋1单元101交了两份问卷（另见第3行）" in result.output
    assert (root / "satisfaction" / f"{SURVEY}.csv").read_bytes() == before
    ws["E3"], ws["C4"] = "不满意", "102"
    ws["E60"] = "满意"  # a questionnaire of a household that had not returned one
    wb.save(book)
    result = run.invoke(main, ["--data", str(root), "satisfaction", "import", str(book)])
    assert result.exit_code == 0, result.output
    assert "读到 51 份答卷，已写入" in result.output
    assert tally(load(root), SURVEY).questions[0][2].counts["不满意"] == \
        tally(BUNDLED, SURVEY).questions[0][2].counts["不满意"] + 1


def _paper(kind: str) -> str:
    from generator.documents.kinds import KINDS, community_target
    from generator.output.pipeline import Renderers, render_document
    from tests.snapshot import docx_text

    payload = render_document(BUNDLED, KINDS[kind], community_target(BUNDLED, "dongqu-01"),
                              Renderers(BUNDLED, None))
    text = docx_text(payload)
    assert "{{" not in text and "{%" not in text
    return text


def test_the_forms_are_prefilled_per_household_then_blank() -> None:
    text = _paper("satisfaction-form")
    households = len(BUNDLED.rosters["dongqu-01"].households)
    assert text.count("| 调查日期 | 2018年12月20日 |") == households + 1
    assert "| 住　　址 | 1栋1单元101 |" in text
    assert text.count("________栋______单元______号（可不填）") == 1
    assert "□满意　□基本满意　□一般　□不满意" in text


def test_the_tally_prints_each_group_and_question_and_its_charts() -> None:
    t = tally(BUNDLED, SURVEY)
    text = _paper("satisfaction-tally")
    assert f"| 总体 | {t.overall.answered} |" in text and str(t.overall.score) in text
    for g in t.groups:
        assert f"| {g.name} | {g.answered} |" in text
    assert "各方面得分" in text and "逐题得分" in text


def _bar_shares(png: bytes) -> list[float]:
    """Each bar's length as a share of the chart's full bar length, top to bottom."""
    from PIL import Image

    from generator.documents import charts

    image = Image.open(io.BytesIO(png)).convert("RGB")
    right = charts._px(charts.WIDTH_MM - 38)
    shares, inside = [], False
    for y in range(image.height):
        row = [x for x in range(image.width) if image.getpixel((x, y)) == charts.BAR]
        if row and not inside:  # a bar's first pixel row: its fill runs from its left edge to its end
            shares.append((max(row) - min(row)) / (right - min(row)))
        inside = bool(row)
    return shares


def test_the_tallys_bars_are_measured_against_the_full_mark_not_the_highest_score() -> None:
    from generator.documents.satisfaction import tally_context

    data = small()  # 改造内容 72.00, 长效管理 0.00 (no bar), 总体 60.00, of a full mark of 100
    context = tally_context(data, data.projects["dongqu-01"])
    picture = context["surveys"][0]["charts"]["groups"]["picture"]
    shares = _bar_shares(picture.data)
    assert len(shares) == 2
    assert shares[0] == pytest.approx(0.72, abs=0.01) and shares[1] == pytest.approx(0.60, abs=0.01)
    questions = _bar_shares(context["surveys"][0]["charts"]["questions"]["picture"].data)
    assert questions == [pytest.approx(0.6667, abs=0.01), pytest.approx(0.80, abs=0.01)]  # 第3题 scored 0


def test_a_build_of_the_assessment_works_the_satisfaction_figures_out_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.documents import assessment
    from generator.output.pipeline import build_reports

    calls: list[int] = []

    def counted(data: DataSet, year: int) -> dict[str, Any]:
        calls.append(year)
        return assessment_satisfaction(data, year)

    monkeypatch.setattr(assessment, "assessment_satisfaction", counted)
    made = build_reports(BUNDLED, tmp_path, ("assessment",), 2018)
    assert calls == [2018]
    [path] = [p for p in made.paths if p.suffix == ".xlsx"]
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(path).worksheets[2].iter_rows()]
    assert any("东区" in str(v) for row in rows for v in row)
