"""Journeys through the web front end that cross two users or roles: a save from a stale form."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.test_web import _form, client_of, form_values
from tests.webapp import make_app, make_instance


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Flask, Path, Path]:
    data, instance = make_instance(tmp_path)
    return make_app(data, instance), data, instance


def _project(data: Path, community_id: str) -> str:
    return (data / "projects" / f"{community_id}.yaml").read_text(encoding="utf-8")


def _stale_save(app: Flask, section: str, theirs: dict[str, str], mine: dict[str, str]) -> tuple[FlaskClient, Any]:
    """Two accounts open one form; the second saves theirs, then the first saves mine from the stale form."""
    path = f"/projects/renhe-16/edit/{section}"
    clerk, district = client_of(app, "renhe"), client_of(app, "admin")
    stale, newer = _form(clerk, path), _form(district, path)
    assert district.post(path, data=newer | theirs).status_code == 302
    return clerk, clerk.post(path, data=stale | mine)


def test_a_stale_save_shows_the_current_value_of_fields_the_clerk_did_not_touch(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    clerk, r = _stale_save(app, "units", {"units.design": "某某设计研究院"}, {"units.supervision": "某某监理公司"})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert 'name="units.design" value="某某设计研究院"' in page  # the colleague's value, not the stale one
    assert 'name="units.supervision" value="某某监理公司"' in page
    assert "_pick." not in page and "以当前版本为准" not in page
    assert "某某监理公司" not in _project(data, "renhe-16")  # nothing written yet
    # Saving the page as shown keeps both edits.
    assert clerk.post("/projects/renhe-16/edit/units", data=form_values(page)).status_code == 302
    text = _project(data, "renhe-16")
    assert "某某设计研究院" in text and "某某监理公司" in text


def test_a_field_both_changed_is_shown_twice_and_saved_only_after_the_clerk_chooses(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    clerk, r = _stale_save(app, "units", {"units.design": "甲设计院"}, {"units.design": "乙设计院"})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    clash = page[page.index('class="clash"'):]
    clash = clash[:clash.index("</fieldset>")]
    assert "保留您填写的：乙设计院" in clash and "采用当前版本：甲设计院" in clash
    shown = form_values(page)
    # Saving without a choice is refused and writes nothing.
    r = clerk.post("/projects/renhe-16/edit/units", data=shown)
    assert r.status_code == 422 and "没有选择" in r.get_data(as_text=True)
    assert "乙设计院" not in _project(data, "renhe-16")
    # Choosing the current version writes it, whatever the box still says.
    r = clerk.post("/projects/renhe-16/edit/units", data=shown | {"_pick.units.design": "theirs"})
    assert r.status_code == 302
    text = _project(data, "renhe-16")
    assert "甲设计院" in text and "乙设计院" not in text


def test_choosing_ones_own_value_writes_it(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    clerk, r = _stale_save(app, "units", {"units.design": "甲设计院"}, {"units.design": "乙设计院"})
    shown = form_values(r.get_data(as_text=True))
    assert clerk.post("/projects/renhe-16/edit/units",
                      data=shown | {"_pick.units.design": "mine"}).status_code == 302
    assert "乙设计院" in _project(data, "renhe-16")


def test_a_row_the_clerk_deleted_but_a_colleague_changed_is_kept(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    _, r = _stale_save(app, "budget", {"items.0.quantity": "7"}, {"items.0._delete": "on"})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert "第1行您勾选了删除" in page and 'name="items.0._delete" aria-label="删除第1行">' in page


# ---------------------------------------------------------------- a community without a project file

NEW = "dongqu-22"
"""A 东区 community whose project file the tests take away: as the city's plan upload leaves one."""


@pytest.fixture
def unstarted(tmp_path: Path) -> tuple[Flask, Path, Path]:
    data, instance = make_instance(tmp_path)
    (data / "projects" / f"{NEW}.yaml").unlink()
    for roster in (data / "rosters").glob(f"{NEW}.*"):
        roster.unlink()
    return make_app(data, instance), data, instance


def _token(client: FlaskClient, path: str = "/") -> str:
    from tests.webapp import csrf

    return csrf(client, path)


def test_a_district_assigns_a_community_and_the_street_office_starts_it_in_the_browser(
        unstarted: tuple[Flask, Path, Path]) -> None:
    app, data, instance = unstarted
    clerk, district, other = client_of(app, "bcg"), client_of(app, "dongqu"), client_of(app, "renhe")
    assert clerk.get(f"/projects/{NEW}").status_code == 404  # not yet the clerk's
    page = district.get(f"/projects/{NEW}").get_data(as_text=True)
    assert "尚未分配街道办事处" in page and "data/projects" not in page and "数据文件夹" not in page
    assign = district.get("/assign?district=东区").get_data(as_text=True)
    assert f'name="office.{NEW}"' in assign and 'name="office.dongqu-01"' not in assign  # started ones are not listed
    r = district.post("/assign", data={"csrf_token": _token(district, "/assign"), "district": "东区",
                                       f"office.{NEW}": " 炳草岗街道办事处 "})
    assert r.status_code == 302
    assert "炳草岗街道办事处" in (data / "assignments" / "street-offices.yaml").read_text(encoding="utf-8")
    # The clerk now sees it, downloads its blank 填报表 and starts it.
    assert f"/projects/{NEW}" in clerk.get("/?q=" + NEW).get_data(as_text=True)
    page = clerk.get(f"/projects/{NEW}").get_data(as_text=True)
    assert "开始填报" in page and f"/projects/{NEW}/start" in page
    form = clerk.get(f"/projects/{NEW}/form.xlsx")
    assert form.status_code == 200 and form.data[:2] == b"PK"
    assert other.get(f"/projects/{NEW}").status_code == 404
    token = _token(clerk, f"/projects/{NEW}")
    assert clerk.post(f"/projects/{NEW}/start", data={"csrf_token": token}).status_code == 400  # no committee
    assert not (data / "projects" / f"{NEW}.yaml").exists()
    r = clerk.post(f"/projects/{NEW}/start", data={"csrf_token": token, "community_committee": "新建社区居民委员会"})
    assert r.status_code == 302
    text = (data / "projects" / f"{NEW}.yaml").read_text(encoding="utf-8")
    assert "street_office: 炳草岗街道办事处" in text and "community_committee: 新建社区居民委员会" in text
    assert "illustrative: false" in text and "stage: survey" in text
    page = clerk.get(f"/projects/{NEW}").get_data(as_text=True)
    assert f"/projects/{NEW}/edit/survey" in page  # the edit links are there
    assert clerk.get(f"/projects/{NEW}/edit/survey").status_code == 200
    from generator.web.audit import AuditLog

    events = AuditLog(instance).events(NEW)
    assert [e.action for e in events] == ["assign", "save"] and events[1].user == "bcg"
    assert events[1].detail == "开始填报"
    # Once started, the project file's own street office counts; the assign page no longer lists it.
    assert f'name="office.{NEW}"' not in district.get("/assign?district=东区").get_data(as_text=True)


def test_assigning_is_for_the_bureaus_and_a_district_only_for_its_own(unstarted: tuple[Flask, Path, Path]) -> None:
    app, data, _ = unstarted
    (data / "projects" / "renhe-25.yaml").unlink()
    district, clerk = client_of(app, "dongqu"), client_of(app, "bcg")
    token = _token(district, "/assign")
    assert district.post("/assign", data={"csrf_token": token, "office.renhe-25": "仁和街道办事处"}).status_code == 404
    assert district.get("/assign?district=仁和区").status_code == 404
    assert district.post("/assign", data={"office.dongqu-22": "炳草岗街道办事处"}).status_code == 400  # no CSRF
    assert clerk.post("/assign", data={"csrf_token": _token(clerk), f"office.{NEW}": "炳草岗街道办事处"}
                      ).status_code == 404
    assert not (data / "assignments").exists()
    city = client_of(app, "city")
    r = city.post("/assign", data={"csrf_token": _token(city, "/assign"), "district": "仁和区",
                                   "office.renhe-25": "仁和街道办事处"})
    assert r.status_code == 302
    # Without an assignment no street office may start it; the district may not start it either.
    token = _token(district, "/assign")
    r = district.post(f"/projects/{NEW}/start", data={"csrf_token": token, "community_committee": "某社区居民委员会"})
    assert r.status_code == 409 and "尚未分配街道办事处" in r.get_data(as_text=True)


# ---------------------------------------------------------------- uploading a 填报表


def _form_with(clerk: FlaskClient, community_id: str, label: str, value: str) -> bytes:
    """The community's 填报表 with one field typed in (found by its label in column A)."""
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(clerk.get(f"/projects/{community_id}/form.xlsx").data))
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=1, max_row=60):
            if row[0].value == label:
                row[1].value = value
                out = io.BytesIO()
                wb.save(out)
                return out.getvalue()
    raise AssertionError(f"no {label} row")


def test_uploading_the_same_form_twice_is_not_a_conflict_and_a_stale_one_says_what_to_do(
        fresh: tuple[Flask, Path, Path]) -> None:
    import io

    app, data, _ = fresh
    clerk = client_of(app, "renhe")
    sheet = _form_with(clerk, "renhe-16", "设计单位", "丙设计院")
    token = _token(clerk, "/projects/renhe-16")
    for _ in range(2):
        r = clerk.post("/projects/renhe-16/form", data={"csrf_token": token, "form": (io.BytesIO(sheet), "表.xlsx")})
        assert r.status_code == 200, r.get_data(as_text=True)[-600:]
    assert "丙设计院" in _project(data, "renhe-16")
    assert "没有改动" in r.get_data(as_text=True)
    # A form exported before a change made elsewhere and changing that field again: refused, in words.
    stale = _form_with(clerk, "renhe-16", "设计单位", "丁设计院")
    form = _form(clerk, "/projects/renhe-16/edit/units")
    assert clerk.post("/projects/renhe-16/edit/units", data=form | {"units.design": "戊设计院"}).status_code == 302
    r = clerk.post("/projects/renhe-16/form", data={"csrf_token": token, "form": (io.BytesIO(stale), "表.xlsx")})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "设计单位" in page and "重新下载填报表" in page
    assert "--force" not in page and str(data) not in page and "/tmp" not in page


# ---------------------------------------------------------------- reviews stand until what the paper prints changes


def _statuses(client: FlaskClient, community_id: str) -> dict[str, str]:
    page = client.get(f"/projects/{community_id}/review").get_data(as_text=True)
    return dict(re.findall(r'id="review-(\w+)">.*?class="review-status">([^<]+)<', page, re.S))


def test_a_decision_stands_until_what_the_paper_prints_changes(fresh: tuple[Flask, Path, Path]) -> None:
    from tests.test_web_district import _decide

    app, data, _ = fresh
    district = client_of(app, "dongqu")
    for kind in ("plan", "notice"):
        assert _decide(district, "dongqu-10", kind, "pass").status_code in (302, 303)
    assert _statuses(district, "dongqu-10") == {"plan": "通过", "notice": "通过"}
    project = data / "projects" / "dongqu-10.yaml"
    text = project.read_text(encoding="utf-8")
    # An 验收日期: printed on neither.
    dated = text.replace("  notice_end: 2019-05-21\n", "  notice_end: 2019-05-21\n  acceptance: 2020-01-10\n")
    project.write_text(dated, encoding="utf-8")
    assert _statuses(district, "dongqu-10") == {"plan": "通过", "notice": "通过"}
    # The plan row's 建成时间: the plan prints it, the notice does not.
    plan = data / "communities.yaml"
    rows = plan.read_text(encoding="utf-8")
    head, _, tail = rows.partition("- id: dongqu-10\n")
    assert tail and "    built:" not in tail.split("- id:")[0]
    plan.write_text(head + "- id: dongqu-10\n    built: '1990'\n" + tail, encoding="utf-8")
    assert _statuses(district, "dongqu-10") == {"plan": "已修改，待重新审核", "notice": "通过"}


def test_the_return_reason_stays_until_the_plan_is_passed_again(fresh: tuple[Flask, Path, Path]) -> None:
    from tests.test_web_district import _decide

    app, data, _ = fresh
    district, clerk = client_of(app, "dongqu"), client_of(app, "bcg")
    assert _decide(district, "dongqu-10", "plan", "return", "请补充施工时间安排").status_code in (302, 303)
    project = data / "projects" / "dongqu-10.yaml"
    project.write_text(project.read_text(encoding="utf-8").replace("  plan: 2019-05-06\n", "  plan: 2019-05-07\n"),
                       encoding="utf-8")
    for path in ("/?q=dongqu-10", "/projects/dongqu-10"):
        page = clerk.get(path).get_data(as_text=True)
        assert "已修改，待重新审核" in page and "退回意见：请补充施工时间安排" in page
    assert _decide(district, "dongqu-10", "plan", "pass").status_code in (302, 303)
    assert "请补充施工时间安排" not in clerk.get("/projects/dongqu-10").get_data(as_text=True)


def test_a_rule_error_leaves_the_blank_survey_form_and_links_the_others_to_it(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    clerk = client_of(app, "renhe")
    project = data / "projects" / "renhe-24.yaml"
    project.write_text(project.read_text(encoding="utf-8").replace("{name: 1栋, households: 72}",
                                                                  "{name: 1栋, households: 73}"),
                       encoding="utf-8")  # the buildings no longer add up to the plan's households
    page = clerk.get("/projects/renhe-24").get_data(as_text=True)
    docs = page[page.index('class="documents"'):page.index("</section>", page.index('class="documents"'))]
    assert '/projects/renhe-24/documents/survey"' in docs
    assert "改正后才能生成" in docs and 'href="#checks"' in docs
    assert clerk.get("/projects/renhe-24/documents/survey").status_code == 200
    assert clerk.get("/projects/renhe-24/documents/application").status_code == 409


def test_unticking_budget_equals_plan_still_warns_and_the_box_says_what_it_asserts(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    clerk = client_of(app, "bcg")
    page = clerk.get("/projects/dongqu-10/edit/budget").get_data(as_text=True)
    assert "勾选表示本小区的预算合计就是计划表中的预计投资" in page
    form = _form(clerk, "/projects/dongqu-10/edit/budget")
    form.pop("budget_matches_plan", None)
    form["items.0.amount"] = str(int(form["items.0.amount"]) + 70000)
    found = clerk.post("/projects/dongqu-10/preview/budget", data=form).get_json()["findings"]
    match = [f for f in found if "预算等于计划投资" in f["message"]]
    assert match and match[0]["severity"] == "warning" and "不符" in match[0]["message"]


def test_packet_zip_names_read_as_chinese_in_info_zip(fresh: tuple[Flask, Path, Path], tmp_path: Path) -> None:
    import io
    import shutil
    import subprocess
    import zipfile

    app, _, _ = fresh
    raw = client_of(app, "bcg").get("/projects/dongqu-01/packet.zip").data
    infos = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    assert infos and all(i.flag_bits & 0x800 and i.create_system == 3 for i in infos)
    if shutil.which("unzip"):
        (tmp_path / "p.zip").write_bytes(raw)
        listing = subprocess.run(["unzip", "-l", str(tmp_path / "p.zip")], capture_output=True, check=True,
                                 env={"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}).stdout.decode("utf-8")
        assert "居民意见征询表" in listing


def test_the_project_page_puts_the_work_first_and_pages_its_history(fresh: tuple[Flask, Path, Path]) -> None:
    from generator.web.audit import AuditLog, FieldChange

    app, _, instance = fresh
    log = AuditLog(instance)
    for i in range(25):
        added = [FieldChange(f"住户名册·{n}号", "（无此户）", "新增") for n in range(30)]
        log.append("bcg", "save", "dongqu-01", added, str(i), str(i + 1), detail="住户名册 名册.xlsx（30户）")
    clerk = client_of(app, "bcg")
    page = clerk.get("/projects/dongqu-01").get_data(as_text=True)
    assert page.index('class="documents"') < page.index('id="checks"') < page.index('id="history"')
    assert page.index('id="checks"') < page.index("用填报表填写")
    history = page[page.index('id="history"'):]
    assert history.count("<tr><td>") == 20 and "共25条，第1/2页" in history
    assert "新增30户" in history and "查看全部30处改动" in history
    older = clerk.get("/projects/dongqu-01?log=2").get_data(as_text=True)
    assert older[older.index('id="history"'):].count("<tr><td>") == 5


def test_the_basic_section_edits_the_committee_problems_and_buildings(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    clerk = client_of(app, "renhe")
    page = clerk.get("/projects/renhe-24/edit/basic").get_data(as_text=True)
    assert "现状问题（每行一条）" in page and "楼栋" in page and "社区居民委员会" in page
    form = _form(clerk, "/projects/renhe-24/edit/basic")
    form["problems"] = "餐饮油烟和污水排放影响楼上住户\r\n雨污管网堵塞，雨天积水\r\n"
    form["community_committee"] = "中坝社区居民委员会（新）"
    assert clerk.post("/projects/renhe-24/edit/basic", data=form).status_code == 302
    text = _project(data, "renhe-24")
    assert "雨污管网堵塞，雨天积水" in text and "占道经营" not in text and "（新）" in text
    assert "{name: 1栋, households: 72}" in text  # the buildings as they were, flow style kept


def test_acceptance_is_not_required_before_the_work_is_done_and_starts_from_the_budget(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    early = client_of(app, "renhe").get("/projects/renhe-24/edit/acceptance").get_data(as_text=True)
    assert 'class="req"' not in early
    done = client_of(app, "admin").get("/projects/dongqu-02/edit/acceptance").get_data(as_text=True)
    assert 'class="req"' in done
    # No results yet at 完工: one row per budget item, its result left to choose.
    first = done[done.index('name="acceptance.results.0.item"'):]
    assert re.search(r'<option value="([^"]+)"[^>]*selected', first[:first.index("</select>")])
    assert 'name="acceptance.results.0.result"' in done


def test_the_project_page_shows_a_progress_line_and_help_is_linked(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    clerk = client_of(app, "bcg")
    page = clerk.get("/projects/dongqu-10").get_data(as_text=True)
    line = page[page.index('class="progress"'):page.index("</ol>", page.index('class="progress"'))]
    assert [n for n in ("征询", "申请", "方案", "公示", "施工", "完工", "验收") if n in line] == \
        ["征询", "申请", "方案", "公示", "施工", "完工", "验收"]
    assert "5月13日" in line  # the notice's start date
    assert 'href="/help"' in page and "街道办事处" in clerk.get("/help").get_data(as_text=True)
