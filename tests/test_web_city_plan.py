"""The city's pages: the plan upload in the navigation, a warning before an upload that sends approved
papers back for review, and each dashboard count a link to the communities behind it."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest
from flask import Flask

from tests.test_web_city import _confirm_form, _plan_with, _upload, client_of, fresh  # noqa: F401
from tests.webapp import csrf


def _pass_plan(app: Flask, community: str) -> None:
    reviewer = client_of(app, "dongqu")
    page = reviewer.get("/review?per_page=200").get_data(as_text=True)
    pick = next(p for p in re.findall(r'name="pick" value="([^"]+)"', page) if p.startswith(f"{community}:plan:"))
    r = reviewer.post("/review/bulk", data={"csrf_token": csrf(reviewer, "/review"), "pick": [pick]})
    assert r.status_code == 303


def test_the_plan_upload_is_in_the_navigation_of_the_city_only(fresh: tuple[Flask, Path, Path]) -> None:  # noqa: F811
    app, _, _ = fresh
    assert 'href="/plan"' in client_of(app, "city").get("/").get_data(as_text=True)
    assert 'href="/plan"' not in client_of(app, "dongqu").get("/").get_data(as_text=True)
    assert 'href="/plan"' not in client_of(app, "bcg").get("/").get_data(as_text=True)


def test_an_upload_warns_before_it_reopens_an_approved_plan(fresh: tuple[Flask, Path, Path]) -> None:  # noqa: F811
    app, data, _ = fresh
    city = client_of(app, "city")
    quiet = _upload(city, _plan_with(data, 301)).get_data(as_text=True)
    assert "修改：东区 炳草岗园林苗圃小区" in quiet and "已经县（区）审核通过" not in quiet  # nothing approved yet
    _pass_plan(app, "dongqu-01")
    # the plan prints 共有住户300户: a new 户数 reopens its review, and the preview says so first
    page = _upload(city, _plan_with(data, 301)).get_data(as_text=True)
    assert "已经县（区）审核通过的文书" in page and '<p class="names">炳草岗园林苗圃小区（改造方案）</p>' in page
    r = city.post("/plan/apply", data={"csrf_token": csrf(city, "/plan"), **_confirm_form(page)})
    assert r.status_code == 200
    st = app.extensions["gaizao"]["store"]
    deadline = time.monotonic() + 60
    while st.current() and st.reloading and time.monotonic() < deadline:
        time.sleep(0.1)  # a new plan is read again in the background
    review = city.get("/projects/dongqu-01/review").get_data(as_text=True)
    shown = re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", review))
    assert "改造方案审核状态：" in shown and "改造方案审核状态：通过" not in shown  # the warning told the truth


FIGURE_LINK = re.compile(r'data-figure="([^"]+\.(?:communities|started|finished))"><a href="([^"]+)">(\d+)</a>')


def _matched(page: str) -> int:
    found = re.search(r"共(\d+)个小区(?:，符合条件的(\d+)个)?", page)
    assert found, page[-2000:]
    return int(found.group(2) or found.group(1))


@pytest.mark.parametrize("name", ["city", "dongqu"])
def test_every_dashboard_count_leads_to_the_communities_behind_it(fresh: tuple[Flask, Path, Path],  # noqa: F811
                                                                   name: str) -> None:
    app, _, _ = fresh
    client = client_of(app, name)
    page = client.get("/dashboard").get_data(as_text=True)
    links = FIGURE_LINK.findall(page)
    assert len(links) > 10
    assert any(".stage." in key for key, _, _ in links) and any(".started" in key for key, _, _ in links)
    got = {key: _matched(client.get(html.unescape(href)).get_data(as_text=True)) for key, href, _ in links}
    assert got == {key: int(n) for key, _, n in links}
    assert re.search(r'<a class="badge (error|warning)" href="/\?[^"]*problems=', page)
