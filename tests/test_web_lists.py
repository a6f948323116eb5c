"""The lists a page at a time: search, filters, order, pages; the dashboard's findings counted, with links."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp import login, make_app, make_instance


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_app(*make_instance(tmp_path_factory.mktemp("web-lists")))


def client_of(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    login(client, name)
    return client


def _ids(client: FlaskClient, query: str) -> list[str]:
    body = client.get(f"/api/projects?{query}").get_json()
    return [p["id"] for p in body["projects"]]


def test_the_list_comes_a_page_at_a_time_with_links_to_the_others(app: Flask) -> None:
    client = client_of(app, "city")
    body = client.get("/api/projects?per_page=12&page=3").get_json()
    assert (body["total"], body["pages"], body["page"], len(body["projects"])) == (30, 3, 3, 6)
    page = client.get("/?per_page=12").get_data(as_text=True)
    assert "我的小区（30个）" in page and "第1–12个" in page and "第1页，共3页" in page
    assert len(re.findall(r'<tr>\s*<td><a href="/projects/', page)) == 12
    nxt = re.search(r'rel="next" href="([^"]+)"', page)
    assert nxt and "page=2" in nxt.group(1) and "per_page=12" in nxt.group(1)
    second = client.get(nxt.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "第13–24个" in second
    everyone = set(_ids(client, "per_page=12")) | set(_ids(client, "per_page=12&page=2")) \
        | set(_ids(client, "per_page=12&page=3"))
    assert len(everyone) == 30


def test_search_by_name_id_street_office_and_address(app: Flask) -> None:
    client = client_of(app, "city")
    assert _ids(client, "q=酿造厂") == ["dongqu-10"]
    assert _ids(client, "q=RENHE-24") == ["renhe-24"]
    assert _ids(client, "q=中坝加油站") == ["renhe-24"]  # the plan row's location
    assert set(_ids(client, "q=炳草岗街道办事处")) == {"dongqu-01", "dongqu-10"}
    assert _ids(client, "q=没有这样的小区") == []
    assert "没有符合条件的小区" in client.get("/?q=没有这样的小区").get_data(as_text=True)
    # a street office searches only its own
    assert _ids(client_of(app, "bcg"), "q=renhe") == []


def test_filters_and_orders(app: Flask) -> None:
    client = client_of(app, "city")
    east = client.get("/api/projects?district=东区&per_page=100").get_json()["projects"]
    assert len(east) == 6 and {p["district"] for p in east} == {"东区"}
    assert {p["year"] for p in client.get("/api/projects?year=2019").get_json()["projects"]} == {2019}
    accepted = client.get("/api/projects?stage=accepted").get_json()["projects"]
    assert accepted and {p["stage"] for p in accepted} == {"accepted"}
    erring = client.get("/api/projects?problems=error").get_json()["projects"]
    assert all(p["errors"] for p in erring)
    either = client.get("/api/projects?problems=any&per_page=100").get_json()["projects"]
    assert either and all(p["errors"] or p["warnings"] for p in either)
    clean = client.get("/api/projects?problems=none").get_json()["projects"]
    assert all(not p["errors"] and not p["warnings"] for p in clean)
    assert len(clean) + len(either) == 30
    households = [p["households"] for p in client.get("/api/projects?sort=households&desc=1").get_json()["projects"]]
    assert households == sorted(households, reverse=True)
    names = [p["name"] for p in client.get("/api/projects?sort=name").get_json()["projects"]]
    assert names == sorted(names)
    # nonsense is the default, never an error
    assert client.get("/?page=x&per_page=-4&sort=drop&stage=<b>").status_code == 200


def test_the_review_list_filters_and_pages_too(app: Flask) -> None:
    client = client_of(app, "city")
    page = client.get("/review?per_page=5&year=2018").get_data(as_text=True)
    assert "第1页，共2页" in page and len(re.findall(r'class="review-open"', page)) == 5
    waiting = client.get("/review?status=none&per_page=100").get_data(as_text=True)
    assert "改造方案与公示审核（" in waiting


def test_the_dashboard_counts_findings_by_district_and_links_to_them(app: Flask) -> None:
    client = client_of(app, "city")
    page = client.get("/dashboard").get_data(as_text=True)
    table = page[page.index('id="findings"'):]
    table = table[:table.index("</table>")]
    links = re.findall(r'href="(/\?[^"]*problems=any[^"]*)"', table)
    assert links
    stats = client.get("/api/stats").get_json()
    for d in stats["districts"]:
        counted = d["findings"]["errors"] + d["findings"]["warnings"]
        listed = client.get(f"/api/projects?district={d['district']}&problems=any&per_page=200").get_json()
        assert (counted > 0) == (listed["total"] > 0), d["district"]
        assert sum(len(p["errors"]) + len(p["warnings"]) for p in listed["projects"]) == counted
    assert "方案一 东区" in page  # a finding about the programme itself is listed


def test_a_district_sees_and_filters_its_own_only(app: Flask) -> None:
    client = client_of(app, "dongqu")
    assert _ids(client, "district=西区") == []
    assert len(_ids(client, "per_page=100")) == 6
