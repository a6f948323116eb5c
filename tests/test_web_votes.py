"""Owners' votes in the web app: the ballots, one entered or corrected, the count, the workbook out and in."""

from __future__ import annotations

import csv
import io
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from generator.web.audit import AuditLog
from tests.webapp import csrf, login, make_app, make_instance

VOTE = "/projects/dongqu-01/votes/dongqu-01-dianti-1-2"
SURVEY = "/projects/dongqu-01/satisfaction/dongqu-01-2018"
SCORES = {"满意": 100, "基本满意": 80, "一般": 60, "不满意": 0}
"""The bundled survey's scale (data/satisfaction/dongqu-01-2018.yaml)."""


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Flask, Path, Path]:
    data, instance = make_instance(tmp_path)
    return make_app(data, instance), data, instance


def _client(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    login(client, name)
    return client


def _ballot(client: FlaskClient, household: str, **fields: str) -> tuple[int, str]:
    token = csrf(client, VOTE)
    r = client.post(VOTE + "/ballot", data={"csrf_token": token, "household": household, **fields},
                    follow_redirects=True)
    return r.status_code, r.get_data(as_text=True)


def test_the_page_shows_ballots_and_count_masked_beyond_the_street_office(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    street = _client(app, "bcg").get(VOTE).get_data(as_text=True)
    assert "毛春燕" in street and "贾某（示例）" in street and "委托书第1号（示例）" in street
    assert "保存这一户的表决票" in street and "下载预填的表决票登记表" in street
    # 11 of 12 households voted, 9 agreed: 9/11 ≥ 3/4 of participants, so it passes
    assert "<b>通过</b>" in street and "<td>12</td><td>11</td><td>9</td>" in street
    district = _client(app, "dongqu").get(VOTE).get_data(as_text=True)
    assert "毛*燕" in district and "毛春燕" not in district and "贾某（示例）" not in district
    assert "保存这一户的表决票" not in district and "<b>通过</b>" in district
    project = _client(app, "dongqu").get("/projects/dongqu-01").get_data(as_text=True)
    assert f'href="{VOTE}"' in project and "业主表决：1栋2单元加装电梯" in project
    assert _client(app, "renhe").get(VOTE).status_code == 404


def test_a_clerk_corrects_ballots_and_the_count_follows(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    client = _client(app, "bcg")
    csv = data / "votes" / "dongqu-01-dianti-1-2.csv"
    # 8 of the 11 taking part agree: 8/11 < 3/4, the matter fails
    status, page = _ballot(client, "1栋|2|202", choice="不同意", signer="业主", date="2018-07-07")
    assert status == 200 and "已保存表决票" in page
    assert "<b>未通过</b>" in page and "<td>12</td><td>11</td><td>8</td>" in page
    text = csv.read_text(encoding="utf-8-sig")
    assert text.startswith("# 示例数据") and "1栋,2,202,不同意,业主,,,2018-07-07," in text
    # the household that stayed away agrees through a proxy with authority: 9 of 12 is exactly 3/4, enough
    status, page = _ballot(client, "1栋|2|102", choice="同意", signer="代理人", proxy="汤某", authority="委托书2号")
    assert status == 200 and "<td>12</td><td>12</td><td>9</td>" in page
    assert "<b>通过</b>" in page and "按户数达到；按面积达到</td>\n<td>按户数达到；按面积达到" in page
    events = [e for e in AuditLog(instance).events("dongqu-01") if e.action == "save"]
    assert [e.detail for e in events] == ["表决“dongqu-01-dianti-1-2” 1栋2单元202",
                                          "表决“dongqu-01-dianti-1-2” 1栋2单元102"]
    first = {(c.field, c.before, c.after) for c in events[0].changes}
    assert ("表决票.表决意见", "同意", "不同意") in first and ("表决票.签署日期", "2018-07-06", "2018-07-07") in first
    third = {(c.field, c.before, c.after) for c in events[1].changes}
    assert ("表决票.代理人姓名", "", "汤*") in third  # the log is read beyond the street office: masked
    # 未参加 with nothing else removes the ballot
    status, page = _ballot(client, "1栋|2|102", choice="未参加")
    assert status == 200 and "1栋,2,102," not in csv.read_text(encoding="utf-8-sig")


def test_a_bad_ballot_is_refused_and_nothing_changes(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    csv = data / "votes" / "dongqu-01-dianti-1-2.csv"
    before = csv.read_bytes()
    client = _client(app, "bcg")
    status, page = _ballot(client, "1栋|2|101", choice="同意", signer="代理人", proxy="某人")
    assert status == 422 and "授权委托书" in page and "未保存" in page
    status, page = _ballot(client, "1栋|2|101", choice="同意", date="2018-13-40")
    assert status == 422 and "签署日期" in page
    assert _ballot(client, "9栋|1|101", choice="同意")[0] == 404
    assert csv.read_bytes() == before
    assert not [e for e in AuditLog(instance).events("dongqu-01") if e.action == "save"]
    # the district reads but does not write, whatever it sends
    district = _client(app, "dongqu")
    token = csrf(district, VOTE)
    r = district.post(VOTE + "/ballot", data={"csrf_token": token, "household": "1栋|2|101", "choice": "同意"})
    assert r.status_code == 403 and csv.read_bytes() == before
    r = client.post(VOTE + "/ballot", data={"household": "1栋|2|101", "choice": "同意"})
    assert r.status_code == 400 and csv.read_bytes() == before  # no CSRF token


def test_the_ballot_workbook_goes_out_and_comes_back(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    client = _client(app, "bcg")
    csv = data / "votes" / "dongqu-01-dianti-1-2.csv"
    r = client.get(VOTE + "/ballots.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.data))
    ws = wb["表决票"]
    heads = [c.value for c in ws[2]]
    row = next(i for i in range(3, ws.max_row + 1) if ws.cell(i, 3).value == "102")
    ws.cell(row, heads.index("表决意见") + 1, "同意")
    out = io.BytesIO()
    wb.save(out)
    token = csrf(client, VOTE)
    r = client.post(VOTE + "/ballots", data={"csrf_token": token, "ballots": (io.BytesIO(out.getvalue()), "票.xlsx")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert r.status_code == 200 and "<td>12</td><td>12</td><td>10</td>" in r.get_data(as_text=True)
    assert "1栋,2,102,同意" in csv.read_text(encoding="utf-8-sig")
    before = csv.read_bytes()
    ws.cell(row, heads.index("签署人") + 1, "代理人")  # a proxy without authority
    ws.cell(row, heads.index("代理人姓名") + 1, "某人")
    out = io.BytesIO()
    wb.save(out)
    r = client.post(VOTE + "/ballots", data={"csrf_token": token, "ballots": (io.BytesIO(out.getvalue()), "票.xlsx")},
                    content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and f"“票.xlsx” 工作表“表决票” 第{row}行“签署人”列" in page
    assert "没有记录授权委托书" in page
    assert str(data.parent) not in page and "未保存" in page
    assert csv.read_bytes() == before


def _expected(path: Path) -> tuple[int, Decimal, int]:
    """Questionnaires, overall score and satisfied answers counted straight from the answers file."""
    rows = [r for r in csv.reader(path.read_text(encoding="utf-8-sig").splitlines()) if r and not r[0].startswith("#")]
    answers = [a for r in rows[1:] for a in r[3:] if a]
    mean = (Decimal(sum(SCORES[a] for a in answers)) / len(answers)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return len(rows) - 1, mean, sum(1 for a in answers if a in ("满意", "基本满意"))


def test_the_survey_page_shows_the_tally_and_takes_answers(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    answers = data / "satisfaction" / "dongqu-01-2018.csv"
    returned, score, _ = _expected(answers)
    project = _client(app, "dongqu").get("/projects/dongqu-01").get_data(as_text=True)
    assert f'href="{SURVEY}"' in project and "居民满意度调查（2018年12月）" in project
    district = _client(app, "dongqu").get(SURVEY).get_data(as_text=True)
    assert f"收回问卷{returned}份" in district and f'<b class="survey-score">{score}</b>' in district
    assert "改造内容" in district and "长效管理" in district and "下载预填的答卷登记表" not in district
    assert "下载答卷登记表（已遮蔽户主姓名和房号）" in district  # masked: tests/test_privacy_papers.py
    client = _client(app, "bcg")
    r = client.get(SURVEY + "/answers.xlsx")
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.data))
    ws = wb["满意度调查"]
    heads = [c.value for c in ws[2]]
    first = heads.index("第1题") + 1
    empty = next(i for i in range(3, ws.max_row + 1) if all(ws.cell(i, c).value is None
                                                            for c in range(first, len(heads) + 1)))
    for col in range(first, len(heads) + 1):
        ws.cell(empty, col, "不满意")
    out = io.BytesIO()
    wb.save(out)
    token = csrf(client, SURVEY)
    r = client.post(SURVEY + "/answers", data={"csrf_token": token, "answers": (io.BytesIO(out.getvalue()), "答.xlsx")},
                    content_type="multipart/form-data", follow_redirects=True)
    page = r.get_data(as_text=True)
    returned2, score2, _ = _expected(answers)
    assert r.status_code == 200 and "已导入答卷" in page and returned2 == returned + 1 and score2 < score
    assert f"收回问卷{returned2}份" in page and f'<b class="survey-score">{score2}</b>' in page
    assert answers.read_text(encoding="utf-8-sig").startswith("# 示例数据")
    before = answers.read_bytes()
    ws.cell(empty, first, "很好")  # not one of the scale's answers
    out = io.BytesIO()
    wb.save(out)
    r = client.post(SURVEY + "/answers", data={"csrf_token": token, "answers": (io.BytesIO(out.getvalue()), "答.xlsx")},
                    content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and f"“答.xlsx” 工作表“满意度调查” 第{empty}行“第1题”列" in page
    assert answers.read_bytes() == before
    assert [e.action for e in AuditLog(instance).events("dongqu-01")][-2:] == ["survey-download", "save"]


BAR_WIDTH = Decimal(420)
"""The chart's bar area in pixels: a bar of the full mark (100 分) is this long."""


def _bars(page: str, chart: str) -> list[tuple[str, str, str, str]]:
    """(label, data-score, bar width, text at the bar's end) of each bar in one chart of the page."""
    svg = page[page.index(f'id="{chart}"'):]
    svg = svg[:svg.index("</svg>")]
    return re.findall(r'<g class="bar" data-score="([^"]*)"><title>[^<]*</title>\s*<text[^>]*>([^<]*)</text>\s*'
                      r'<rect [^>]*? width="([^"]*)"[^>]*/>\s*<text[^>]*>([^<]*)</text>', svg)


def test_every_role_sees_the_charts_with_the_tallys_figures_measured_against_the_full_mark(tmp_path: Path) -> None:
    data, instance = make_instance(tmp_path)
    survey = data / "satisfaction" / "dongqu-01-2018.yaml"
    survey.write_text(survey.read_text(encoding="utf-8").replace("name: 过程管理", 'name: "过程<管理>&监督"'),
                      encoding="utf-8")
    app = make_app(data, instance)
    answers = data / "satisfaction" / "dongqu-01-2018.csv"
    _, score, satisfied = _expected(answers)
    given = sum(1 for r in csv.reader(answers.read_text(encoding="utf-8-sig").splitlines())
                if r and not r[0].startswith("#") for a in r[3:] if a) - 15  # less the heading row's 第N题
    rate = (Decimal(100 * satisfied) / given).quantize(Decimal("0.1"), ROUND_HALF_UP)
    for name in ("bcg", "dongqu", "city", "admin"):  # every role that may see the page
        page = _client(app, name).get(SURVEY).get_data(as_text=True)
        groups = _bars(page, "chart-groups")
        assert [g[1] for g in groups] == ["改造内容", "过程&lt;管理&gt;&amp;监督", "长效管理", "总体"], name
        assert "<管理>" not in page
        overall = groups[-1]
        # the bar is score/100 of the full length: 84.82 分 is 356.2 px of 420, not the whole bar
        assert overall[0] == str(score) and Decimal(overall[2]) == (BAR_WIDTH * score / 100).quantize(Decimal("0.1"))
        assert overall[3] == f"{score}分 · 满意率{rate}%"
        questions = _bars(page, "chart-questions")
        assert [q[1] for q in questions] == [f"第{n}题" for n in range(1, 16)]
        assert all(Decimal(q[2]) < BAR_WIDTH for q in questions)  # no question scored the full 100
        assert "满分100分" in page
