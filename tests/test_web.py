"""The web front end: accounts, the permission matrix, pages, downloads, saving, security, the API."""

from __future__ import annotations

import html
import io
import re
import shutil
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from docx import Document
from flask import Flask
from flask.testing import FlaskClient

from generator.cli import main
from generator.web.accounts import ROLES, AccountError, Accounts, Throttle
from generator.web.audit import AuditLog
from generator.web.statedb import DB_FILE, StateDB
from generator.web.store import documents_of
from tests.test_web_city import CITY_ROUTES
from tests.webapp import (
    ACCOUNTS,
    CHEAP,
    OTHER,
    OWN,
    PASSWORD,
    SCRIPT,
    csrf,
    inline_scripts,
    login,
    make_app,
    make_instance,
    name_a_community_script,
    one_more_in_favour,
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Data and instance shared by the tests that only read."""
    return make_instance(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def app(site: tuple[Path, Path]) -> Flask:
    return make_app(*site)


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Flask, Path, Path]:
    """An app over its own copy of the data, for tests that save."""
    data, instance = make_instance(tmp_path)
    return make_app(data, instance), data, instance


def client_of(app: Flask, name: str | None) -> FlaskClient:
    client = app.test_client()
    if name:
        login(client, name)
    return client


# ---------------------------------------------------------------- accounts and the command line


def test_passwords_are_kept_only_as_argon2id_hashes(site: tuple[Path, Path]) -> None:
    db = site[1] / DB_FILE
    assert not [f for f in site[1].glob(f"{DB_FILE}*") if PASSWORD.encode() in f.read_bytes()]
    hashes = [u.password_hash for u in Accounts(site[1]).all()]
    assert len(hashes) == len(ACCOUNTS) and all(h.startswith("$argon2id$") for h in hashes)
    assert db.stat().st_mode & 0o077 == 0


def test_accounts_refuse_bad_names_roles_and_short_passwords(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path, CHEAP)
    with pytest.raises(AccountError, match="角色"):
        accounts.add("clerk", "mayor", "x", PASSWORD)
    with pytest.raises(AccountError, match="至少"):
        accounts.add("clerk", "street", "x", "short")
    with pytest.raises(AccountError, match="用户名"):
        accounts.add("a/b", "street", "x", PASSWORD)
    accounts.add("clerk", "street", "x", PASSWORD)
    with pytest.raises(AccountError, match="已存在"):
        accounts.add("clerk", "street", "x", PASSWORD)
    assert accounts.verify("clerk", PASSWORD) is not None
    assert accounts.verify("clerk", PASSWORD + "x") is None
    assert accounts.verify("nobody", PASSWORD) is None


def test_users_list_shows_person_and_masked_phone_and_records_full_listing(tmp_path: Path) -> None:
    runner = CliRunner()
    inst = str(tmp_path / "inst")
    result = runner.invoke(main, ["users", "add", "clerk", "--role", "street", "--unit", "仁和街道办事处",
                                  "--person", "王小明", "--phone", "13812345678", "--password-stdin",
                                  "--instance", inst], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    listed = runner.invoke(main, ["users", "list", "--instance", inst]).output
    assert "clerk\tstreet\t仁和街道办事处\t正常\t-\t王小明\t138****5678" in listed
    assert "13812345678" not in listed
    before = len(AuditLog(Path(inst).resolve()).events())
    assert not any(e.action == "user-list-full" for e in AuditLog(Path(inst).resolve()).events())
    full = runner.invoke(main, ["users", "list", "--full", "--instance", inst])
    assert full.exit_code == 0, full.output
    assert "\t王小明\t13812345678" in full.output
    events = AuditLog(Path(inst).resolve()).events()
    assert len(events) == before + 1 and events[-1].action == "user-list-full"
    assert events[-1].user.startswith("命令行:")


def test_users_commands_add_list_disable_and_change_passwords(tmp_path: Path) -> None:
    runner = CliRunner()
    inst = str(tmp_path / "inst")
    result = runner.invoke(main, ["users", "add", "clerk", "--role", "street", "--unit", "仁和街道办事处",
                                  "--password-stdin", "--instance", inst], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["users", "add", "boss", "--role", "admin", "--unit", "市局",
                                  "--instance", inst], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    listed = runner.invoke(main, ["users", "list", "--instance", inst]).output
    assert "clerk\tstreet\t仁和街道办事处\t正常" in listed and "共 2 个账户" in listed
    assert runner.invoke(main, ["users", "disable", "clerk", "--instance", inst]).exit_code == 0
    assert "clerk\tstreet\t仁和街道办事处\t已停用" in runner.invoke(main, ["users", "list", "--instance", inst]).output
    new = "Another-long-password-2"
    assert runner.invoke(main, ["users", "passwd", "boss", "--password-stdin", "--instance", inst],
                         input=new + "\n").exit_code == 0
    accounts = Accounts(tmp_path / "inst")
    assert accounts.verify("boss", new) is not None and accounts.verify("clerk", PASSWORD) is None
    bad = runner.invoke(main, ["users", "disable", "ghost", "--instance", inst])
    assert bad.exit_code == 1 and "不存在" in bad.output
    events = [(e.action, e.detail) for e in AuditLog(tmp_path / "inst").events()]
    assert events == [("user-add", "clerk street 仁和街道办事处"), ("user-add", "boss admin 市局"),
                      ("user-disable", "clerk"), ("user-passwd", "boss")]


def test_no_account_exists_until_one_is_made(tmp_path: Path) -> None:
    empty = make_app(Path(__file__).parent.parent / "data", tmp_path / "empty")
    client = empty.test_client()
    assert Accounts(tmp_path / "empty").all() == []
    for name in ("admin", "root"):
        token = csrf(client)
        for password in ("admin", "123456"):
            r = client.post("/login", data={"username": name, "password": password, "csrf_token": token})
            assert r.status_code in (401, 429)


def test_the_instance_folder_may_not_be_inside_the_data_folder(tmp_path: Path) -> None:
    data, _ = make_instance(tmp_path)
    with pytest.raises(Exception, match="不能在数据文件夹"):
        make_app(data, data / "instance")
    result = CliRunner().invoke(main, ["--data", str(data), "serve", "--instance", str(data / "x")])
    assert result.exit_code == 1 and "不能在数据文件夹" in result.output


# ---------------------------------------------------------------- who may see what: every route × role × scope

ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    # (method, path with {id}, expected status when in scope, by role where it differs)
    ("GET", "/projects/{id}", {}),
    ("GET", "/projects/{id}/documents/survey", {}),
    ("GET", "/projects/{id}/packet.zip", {}),
    ("GET", "/projects/{id}/edit/survey", {"city": 403}),
    ("POST", "/projects/{id}/preview/survey", {"city": 403}),
    ("POST", "/projects/{id}/edit/survey", {"city": 403}),
    ("GET", "/projects/{id}/form.xlsx", {"city": 403}),
    ("POST", "/projects/{id}/form", {"city": 403}),
    # the roster (residents' names and phones): only the street office that collects it; a POST states its purpose
    ("GET", "/projects/{id}/roster.xlsx", {"city": 403, "district": 403, "admin": 403}),
    ("POST", "/projects/{id}/roster.xlsx", {"street": 422, "city": 403, "district": 403, "admin": 403}),
    ("POST", "/projects/{id}/roster", {"city": 403}),
    ("POST", "/projects/{id}/photos", {"city": 403}),
    ("POST", "/projects/{id}/photos/0", {"city": 403}),
    ("POST", "/projects/{id}/photos/0/delete", {"city": 403}),
    ("GET", "/projects/{id}/photos/0/thumb", {}),
    ("POST", "/projects/{id}/start", {"city": 403}),
    ("GET", "/api/projects/{id}", {}),
    ("GET", "/api/projects/{id}/documents/survey", {}),
    ("GET", "/api/projects/{id}/packet.zip", {}),
    ("GET", "/projects/{id}/review", {}),
    ("GET", "/projects/{id}/review/notice/document", {"street": 403}),
    ("GET", "/projects/{id}/review/notice/document.pdf", {"street": 403}),
    ("POST", "/projects/{id}/review/notice", {"street": 403, "city": 403, "admin": 403}),
    ("POST", "/projects/{id}/review/notice/submit", {"district": 403, "city": 403, "admin": 403}),
]
IN_SCOPE_OK = {"GET": 200, "POST": 200}

VOTE = "/projects/dongqu-01/votes/dongqu-01-dianti-1-2"
SURVEY = "/projects/dongqu-01/satisfaction/dongqu-01-2018"
GLOBAL_ROUTES: list[tuple[str, str, str, dict[str, int]]] = [
    # (method, path, its rule, status by role) of the routes that name no community
    ("GET", "/review", "/review", {"street": 404, "district": 200, "city": 200, "admin": 200}),
    ("GET", "/batch/prints", "/batch/prints", {"street": 404, "district": 200, "city": 200, "admin": 200}),
    ("POST", "/batch/prints", "/batch/prints", {"street": 404, "district": 400, "city": 400, "admin": 400}),
    ("GET", "/batch/prints/no-such-job", "/batch/prints/<job_id>", dict.fromkeys(ROLES, 404)),
    ("GET", "/batch/prints/no-such-job/files/0", "/batch/prints/<job_id>/files/<int:index>",
     dict.fromkeys(ROLES, 404)),
    ("GET", "/batch/forms", "/batch/forms", {"street": 200, "district": 200, "city": 404, "admin": 200}),
    ("POST", "/batch/forms", "/batch/forms", {"street": 400, "district": 400, "city": 404, "admin": 400}),
    ("GET", "/help", "/help", dict.fromkeys(ROLES, 200)),
    ("GET", "/list.xlsx", "/list.xlsx", dict.fromkeys(ROLES, 200)),
    ("POST", "/review/bulk", "/review/bulk", {"street": 404, "district": 400, "city": 403, "admin": 403}),
    ("GET", "/assign", "/assign", {"street": 404, "district": 200, "city": 200, "admin": 200}),
    ("POST", "/assign", "/assign", {"street": 404, "district": 302, "city": 302, "admin": 302}),
    ("GET", "/admin/users", "/admin/users", {"street": 404, "district": 404, "city": 404, "admin": 200}),
    ("POST", "/admin/users", "/admin/users", {"street": 404, "district": 404, "city": 404, "admin": 422}),
    ("POST", "/admin/users/no-such-user/disable", "/admin/users/<name>/<action>", dict.fromkeys(ROLES, 404)),
    ("GET", "/admin/users/bcg/disable", "/admin/users/<name>/disable",
     {"street": 404, "district": 404, "city": 404, "admin": 200}),  # the question before 停用
    ("GET", "/admin/users-template.xlsx", "/admin/users-template.xlsx",
     {"street": 404, "district": 404, "city": 404, "admin": 200}),
    ("POST", "/admin/users-import", "/admin/users-import",
     {"street": 404, "district": 404, "city": 404, "admin": 400}),  # no file sent
    ("POST", "/admin/users-import/passwords", "/admin/users-import/passwords",
     {"street": 404, "district": 404, "city": 404, "admin": 410}),  # no sheet's passwords waiting
    # the 安全管理员's and the 审计管理员's pages: no business role reaches them (tests/test_security_roles.py)
    ("GET", "/admin/security", "/admin/security", dict.fromkeys(ROLES, 404)),
    ("POST", "/admin/security", "/admin/security", dict.fromkeys(ROLES, 404)),
    ("POST", "/admin/security/unlock/bcg", "/admin/security/unlock/<name>", dict.fromkeys(ROLES, 404)),
    ("GET", "/admin/audit", "/admin/audit", dict.fromkeys(ROLES, 404)),
    ("GET", "/admin/audit.xlsx", "/admin/audit.xlsx", dict.fromkeys(ROLES, 404)),
    ("GET", "/account/password", "/account/password", dict.fromkeys(ROLES, 200)),
    ("POST", "/account/password", "/account/password", dict.fromkeys(ROLES, 422)),  # no old password sent
    # an owners' vote of dongqu-01 (炳草岗, 东区): the street office that owns it writes, district and city read
    ("GET", VOTE, "/projects/<community_id>/votes/<vote_id>",
     {"street": 200, "district": 200, "city": 200, "admin": 200}),
    ("POST", VOTE + "/ballot", "/projects/<community_id>/votes/<vote_id>/ballot",
     {"street": 400, "district": 403, "city": 403, "admin": 403}),  # no household chosen: refused
    ("GET", VOTE + "/ballots.xlsx", "/projects/<community_id>/votes/<vote_id>/ballots.xlsx",
     {"street": 200, "district": 200, "city": 200, "admin": 200}),  # masked for all but the street office
    ("POST", VOTE + "/ballots", "/projects/<community_id>/votes/<vote_id>/ballots",
     {"street": 400, "district": 403, "city": 403, "admin": 403}),  # no file sent
    ("GET", SURVEY, "/projects/<community_id>/satisfaction/<survey_id>",
     {"street": 200, "district": 200, "city": 200, "admin": 200}),
    ("GET", SURVEY + "/answers.xlsx", "/projects/<community_id>/satisfaction/<survey_id>/answers.xlsx",
     {"street": 200, "district": 200, "city": 200, "admin": 200}),  # masked for all but the street office
    ("POST", SURVEY + "/answers", "/projects/<community_id>/satisfaction/<survey_id>/answers",
     {"street": 400, "district": 403, "city": 403, "admin": 403}),  # no file sent
]
"""Jobs of other accounts, and a district's reach in print jobs and uploads: tests/test_web_district.py."""


def _has_photos(app: Flask, community: str) -> bool:
    project = app.extensions["gaizao"]["store"].current().data.projects.get(community)
    return project is not None and bool(project.photos)


def _call(client: FlaskClient, method: str, path: str, token: str, version: str = "stale") -> int:
    if method == "GET":
        return client.get(path).status_code
    return client.post(path, data={"csrf_token": token, "version": version}).status_code


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_every_route_answers_each_role_by_scope(app: Flask, name: str) -> None:
    client = client_of(app, name)
    token = csrf(client, "/")
    got, want = {}, {}
    for method, pattern, by_role in ROUTES:
        own = pattern.format(id=OWN[name])
        expected = by_role.get(ACCOUNTS[name][0], IN_SCOPE_OK[method])
        if pattern.endswith("/edit/survey") and method == "POST" and expected == 200:
            expected = 409  # a save from a stale form: in scope, refused without change
        if pattern.endswith(("/form", "/roster", "/photos", "/start")) and method == "POST" and expected == 200:
            expected = 400  # no file sent: in scope, refused without change
        if pattern.endswith(("/photos/0", "/photos/0/delete")) and method == "POST" and expected == 200:
            expected = 422 if pattern.endswith("/0") else 400  # nothing filled in / not confirmed: nothing changed
        if pattern.endswith("/thumb") and not _has_photos(app, OWN[name]):
            expected = 404  # the community has no photo
        if pattern.endswith("/notice/submit") and method == "POST" and expected == 200:
            expected = 409  # the notice is not the one on the page (none sent), or cannot be made yet: nothing recorded
        if pattern.endswith("/document.pdf") and expected == 200 and shutil.which("soffice") is None:
            expected = 503  # the review copy is made by LibreOffice
        if pattern.endswith("/review/notice") and method == "POST" and expected == 200:
            expected = 400  # neither 通过 nor 退回 chosen: in scope, nothing recorded
        got[(method, own)] = _call(client, method, own, token)
        want[(method, own)] = expected
        if name in OTHER:
            other = pattern.format(id=OTHER[name])
            got[(method, other)] = _call(client, method, other, token)
            want[(method, other)] = 404
        missing = pattern.format(id="no-such-community")
        got[(method, missing)] = _call(client, method, missing, token)
        want[(method, missing)] = 404
    for method, path, _, by_role in GLOBAL_ROUTES:
        got[(method, path)] = _call(client, method, path, token)
        want[(method, path)] = 404 if path.startswith((VOTE, SURVEY)) and OTHER.get(name) == "dongqu-01" else (
            by_role[ACCOUNTS[name][0]])
    assert got == want


def test_every_route_is_in_the_matrix_or_public(app: Flask) -> None:
    covered = {re.sub(r"\{id\}", "<community_id>", p).replace("/survey", "/<kind>").replace("/notice", "/<kind>")
               for _, p, _ in ROUTES}
    covered |= {p.replace("/<kind>", "/<section>") for p in covered}
    covered |= {p.replace("/photos/0", "/photos/<int:index>") for p in covered}
    covered |= {rule for _, _, rule, _ in GLOBAL_ROUTES}
    public = {"/login", "/login/second", "/logout", "/static/<path:filename>", "/", "/api/login", "/api/projects"}
    covered |= {rule for _, _, rule, _ in CITY_ROUTES}  # the bureaus' routes: tests/test_web_city.py
    routes = {r.rule for r in app.url_map.iter_rules()}
    assert routes - covered - public == set()


def test_without_a_session_every_route_asks_for_a_login(app: Flask) -> None:
    client = app.test_client()
    for method, pattern, _ in ROUTES:
        path = pattern.format(id=OWN["bcg"])
        status = _call(client, method, path, "x")
        if method == "POST":
            assert status == 400  # no session, no CSRF token: refused before anything else
        elif path.startswith("/api/"):
            assert status == 401
        else:
            assert status == 302
    for method, path, _, _ in GLOBAL_ROUTES:
        assert _call(client, method, path, "x") == (400 if method == "POST" else 302), path
    assert client.get("/").status_code == 302
    r = client.get("/api/projects")
    assert r.status_code == 401 and r.get_json()["error"] == "请先登录"


def test_a_street_office_sees_only_its_own_communities(app: Flask) -> None:
    page = client_of(app, "bcg").get("/").get_data(as_text=True)
    assert "炳草岗园林苗圃小区" in page and "炳草岗酿造厂小区" in page
    assert "仁和" not in page
    assert "我的小区（2个）" in page
    api = client_of(app, "bcg").get("/api/projects").get_json()
    assert sorted(p["id"] for p in api["projects"]) == ["dongqu-01", "dongqu-10"]
    district = client_of(app, "dongqu").get("/api/projects").get_json()["projects"]
    assert district and {p["district"] for p in district} == {"东区"}
    assert len(client_of(app, "city").get("/api/projects").get_json()["projects"]) == 30


# ---------------------------------------------------------------- pages and downloads


def test_the_list_shows_stage_findings_and_why_documents_cannot_be_made(app: Flask) -> None:
    page = client_of(app, "city").get("/").get_data(as_text=True)
    assert "大河南路社区木综厂小区" in page
    assert "居民支持率84.6%低于90%，暂不能提出改造申请" in page  # as gaizao validate says it
    assert "申请书：<span class=\"why\">居民支持率低于90%</span>" in page


def test_the_project_page_shows_findings_by_section_and_the_split(app: Flask) -> None:
    page = client_of(app, "city").get("/projects/renhe-25").get_data(as_text=True)
    survey_row = page[page.index("<th>居民意见征询</th>"):]
    survey_row = survey_row[:survey_row.index("</tr>")]
    assert "居民意见征询·同意户数：" in survey_row and "survey.support" not in survey_row and "84.6%" in survey_row
    page = client_of(app, "city").get("/projects/dongqu-01").get_data(as_text=True)
    assert "资金筹集" in page and "居民每户分担</th><td class=\"num\">3,054.80元" in page


def test_a_document_and_the_packet_download(app: Flask) -> None:
    client = client_of(app, "bcg")
    r = client.get("/projects/dongqu-01/documents/notice")
    assert r.status_code == 200 and "filename*=UTF-8''05-" in r.headers["Content-Disposition"]
    assert "炳草岗园林苗圃小区" in "\n".join(p.text for p in Document(io.BytesIO(r.data)).paragraphs)
    r = client.get("/projects/dongqu-01/packet.zip")
    names = zipfile.ZipFile(io.BytesIO(r.data)).namelist()
    store = app.extensions["gaizao"]["store"]
    makeable = [a.name for a in documents_of(store.current(), "dongqu-01") if a.reason is None]
    assert names == makeable  # every document the registry can make now, in workflow order
    assert names[:6] == ["01-居民意见征询表.docx", "02-改造申请书.docx", "03-改造方案.docx",
                         "04-工程预算及资金筹集表.xlsx", "05-改造方案公示.docx", "06-竣工验收表.docx"]
    assert client.get("/projects/dongqu-01/documents/plan-table").status_code == 404
    assert client.get("/projects/dongqu-01/documents/nonsense").status_code == 404


def test_a_document_that_cannot_be_made_says_why(app: Flask) -> None:
    r = client_of(app, "city").get("/api/projects/renhe-25/documents/application")
    assert r.status_code == 409 and "居民支持率低于90%" in r.get_json()["error"]


# ---------------------------------------------------------------- saving


def _form(client: FlaskClient, path: str) -> dict[str, str]:
    """The values a browser would send from the form at path (ticked boxes only)."""
    return form_values(client.get(path).get_data(as_text=True))


def form_values(page: str) -> dict[str, str]:
    """The values a browser would send from a page's form (ticked boxes only, no radio buttons)."""
    out: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="radio"' in tag:
            continue
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                out[name.group(1)] = "on"
            continue
        value = re.search(r'value="([^"]*)"', tag)
        out[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        out[name] = html.unescape(text)
    for select in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select[1])
        out[select[0]] = html.unescape(chosen.group(1)) if chosen else ""
    return out


def test_saving_keeps_the_files_comments_and_records_who_changed_what(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    client = client_of(app, "renhe")
    form = _form(client, "/projects/renhe-24/edit/survey")
    before = (data / "projects" / "renhe-24.yaml").read_text(encoding="utf-8")
    form.update({"survey.date": "2018-03-10", "survey.households_asked": "100", "survey.support": "80",
                 "survey.oppose": "15", "survey.no_answer": "5"})
    r = client.post("/projects/renhe-24/edit/survey", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    after = (data / "projects" / "renhe-24.yaml").read_text(encoding="utf-8")
    assert "support: 80" in after
    kept = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert kept and all(line in after for line in kept)
    page = client.get("/projects/renhe-24/edit/survey").get_data(as_text=True)
    assert "居民支持率80.0%低于90%" in page  # the warning beside the field; saving was not blocked
    events = [e for e in AuditLog(instance).events("renhe-24") if e.action == "save"]
    assert events[-1].user == "renhe" and any("同意户数" in c.field and c.after == "80" for c in events[-1].changes)
    assert "renhe" in client.get("/projects/renhe-24").get_data(as_text=True)


def test_a_value_the_model_forbids_blocks_the_save_and_is_shown_beside_its_field(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    client = client_of(app, "renhe")
    form = _form(client, "/projects/renhe-24/edit/survey")
    before = (data / "projects" / "renhe-24.yaml").read_bytes()
    form.update({"survey.date": "2018-03-10", "survey.households_asked": "100", "survey.support": "八十",
                 "survey.oppose": "15", "survey.no_answer": "5"})
    r = client.post("/projects/renhe-24/edit/survey", data=form)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    field = page[page.index('data-key="survey.support"'):]
    assert "应为整数" in field[:field.index("</div>")]
    assert (data / "projects" / "renhe-24.yaml").read_bytes() == before


def test_a_stale_save_is_refused_naming_who_changed_what_and_nothing_is_lost(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    first, second = client_of(app, "renhe"), client_of(app, "admin")
    form_a = _form(first, "/projects/renhe-16/edit/units")
    form_b = _form(second, "/projects/renhe-16/edit/units")
    form_b["units.design"] = "某某设计院"
    assert second.post("/projects/renhe-16/edit/units", data=form_b).status_code == 302
    form_a["units.supervision"] = "某某监理公司"
    r = first.post("/projects/renhe-16/edit/units", data=form_a)
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert "admin" in page and "设计单位" in page and "某某设计院" in page
    assert 'value="某某监理公司"' in page  # the refused values are still in the form
    text = (data / "projects" / "renhe-16.yaml").read_text(encoding="utf-8")
    assert "某某设计院" in text and "某某监理公司" not in text


def test_concurrent_saves_to_one_project_are_each_applied_or_refused(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    clients = [client_of(app, "admin") for _ in range(6)]
    forms = [_form(c, "/projects/renhe-16/edit/units") for c in clients]
    statuses: list[int] = []
    barrier = threading.Barrier(len(clients))

    def save(i: int) -> None:
        forms[i]["units.construction"] = f"施工单位{i}"
        barrier.wait()
        statuses.append(clients[i].post("/projects/renhe-16/edit/units", data=forms[i]).status_code)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [302] + [409] * (len(clients) - 1)
    saved = [e for e in AuditLog(instance).events("renhe-16") if e.action == "save"]
    assert len(saved) == 1
    winner = saved[0].changes[0].after
    assert winner in (data / "projects" / "renhe-16.yaml").read_text(encoding="utf-8")


def test_the_preview_computes_the_split_with_the_core(app: Flask) -> None:
    client = client_of(app, "bcg")
    form = _form(client, "/projects/dongqu-10/edit/budget")
    r = client.post("/projects/dongqu-10/preview/budget", data=form, headers={"X-CSRF-Token": form["csrf_token"]})
    body = r.get_json()
    assert body["errors"] == {} and body["funding"]["parties"][0][0] == "市级财政"
    from generator.data.loader import load
    from generator.render.filters import yuan
    from generator.rules.funding import plan_funding

    data = load(Path(app.extensions["gaizao"]["store"].root))
    funding = plan_funding(data, data.projects["dongqu-10"], data.communities["dongqu-10"].households)
    assert body["funding"]["total"] == yuan(funding.total)
    assert body["funding"]["per_household"] == yuan(funding.per_household_residents)
    form["items.0.amount"] = "1"
    body = client.post("/projects/dongqu-10/preview/budget", data=form,
                       headers={"X-CSRF-Token": form["csrf_token"]}).get_json()
    assert any(f["key"] == "items.0.amount" and f["severity"] == "error" for f in body["findings"])


# ---------------------------------------------------------------- security


def test_state_changing_requests_need_the_csrf_token(app: Flask) -> None:
    client = client_of(app, "admin")
    assert client.post("/logout").status_code == 400
    assert client.post("/projects/renhe-16/edit/units", data={"version": "x"}).status_code == 400
    assert client.post("/projects/renhe-16/preview/budget", headers={"X-CSRF-Token": "forged"}).status_code == 400
    assert client.get("/").status_code == 200  # still logged in
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 400
    assert client.post("/api/login", data={"username": "admin", "password": PASSWORD}).status_code == 415


def test_the_session_cookie_is_httponly_and_samesite_and_secure_behind_https(site: tuple[Path, Path]) -> None:
    for https, secure in ((False, False), (True, True)):
        client = make_app(*site, BEHIND_HTTPS=https).test_client()
        token = csrf(client)
        r = client.post("/login", data={"username": "bcg", "password": PASSWORD, "csrf_token": token})
        cookie = r.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_logins_are_throttled_per_account_and_per_address(site: tuple[Path, Path]) -> None:
    app = make_app(*site, THROTTLE_ACCOUNT=3, THROTTLE_ADDRESS=5)
    client = app.test_client()
    token = csrf(client)

    def attempt(name: str, password: str = "wrong-password", address: str = "10.0.0.1") -> int:
        return client.post("/login", data={"username": name, "password": password, "csrf_token": token},
                           environ_base={"REMOTE_ADDR": address}).status_code

    assert [attempt("bcg") for _ in range(3)] == [401, 401, 429]  # the third failure locks the account
    assert attempt("bcg", PASSWORD) == 429  # the right password too, while the account is locked
    assert attempt("renhe", PASSWORD, "10.0.0.2") == 302  # another account from elsewhere is fine
    token = csrf(client)  # the login began a new session
    assert [attempt("x" + str(i), address="10.0.0.3") for i in range(5)] == [401] * 5
    assert attempt("dongqu", PASSWORD, "10.0.0.3") == 429  # that address is throttled
    t = Throttle(StateDB.of(site[1]), 2, 10, window=60, lock_seconds=60)
    t.failed("a", "h", now=0)
    t.failed("a", "h", now=1)
    assert t.blocked("a", "h", now=2) and not t.blocked("a", "h", now=62)
    assert t.unlock("bcg") and not t.unlock("bcg")  # the site is shared with the tests below


def test_sessions_expire_when_idle_or_when_the_password_changes(site: tuple[Path, Path], tmp_path: Path) -> None:
    import time
    from datetime import timedelta

    app = make_app(*site, IDLE_TIMEOUT=timedelta(seconds=-1))
    client = client_of(app, "bcg")
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    client = client_of(make_app(*site), "bcg")
    assert client.get("/").status_code == 200
    with StateDB.of(site[1]).write() as conn:  # a session kept past its day by a client that ignores expiry
        conn.execute("UPDATE sessions SET since = ? WHERE user = 'bcg'", (time.time() - 8 * 3600 - 1,))
    assert client.get("/").status_code == 302
    data, instance = make_instance(tmp_path)
    app = make_app(data, instance)
    client = client_of(app, "bcg")
    assert client.get("/").status_code == 200
    Accounts(instance).set_password("bcg", "A-brand-new-password-3")
    assert client.get("/").status_code == 302
    client = client_of(app, "renhe")
    Accounts(instance).disable("renhe")
    assert client.get("/api/projects").status_code == 401


def test_logout_ends_the_session(app: Flask) -> None:
    client = client_of(app, "bcg")
    token = csrf(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_output_is_escaped_and_no_script_runs_inline(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    name_a_community_script(data)
    client = client_of(app, "bcg")
    for path in ("/", "/projects/dongqu-01", "/projects/dongqu-01/edit/survey"):
        r = client.get(path)
        page = r.get_data(as_text=True)
        assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
        assert inline_scripts(page) == []
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_requests_are_limited_in_size(app: Flask) -> None:
    client = client_of(app, "admin")
    token = csrf(client, "/")
    r = client.post("/projects/renhe-16/edit/units", data={"csrf_token": token, "x": "a" * (5 * 1024 * 1024)})
    assert r.status_code == 413


def test_no_request_path_reaches_the_file_system(app: Flask) -> None:
    client = client_of(app, "admin")
    for path in ("/projects/..%2f..%2fetc%2fpasswd", "/projects/../programme", "/api/projects/%2e%2e",
                 "/projects/dongqu-01/documents/..%2f..%2fprogramme", "/static/../app.py",
                 "/projects/dongqu-01/edit/..", "/static/%2e%2e/accounts.py"):
        assert client.get(path).status_code == 404, path


def test_the_server_notices_files_changed_outside_it(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    client = client_of(app, "bcg")
    assert "炳草岗园林苗圃小区" in client.get("/").get_data(as_text=True)
    plan = data / "communities.yaml"
    plan.write_text(plan.read_text(encoding="utf-8").replace("name: 炳草岗园林苗圃小区", "name: 苗圃新村"),
                    encoding="utf-8")
    assert "苗圃新村" in client.get("/").get_data(as_text=True)


# ---------------------------------------------------------------- the JSON API


def test_the_api_logs_in_with_json_and_answers_errors_in_chinese(app: Flask) -> None:
    client = app.test_client()
    r = client.post("/api/login", json={"username": "bcg", "password": "wrong-password"})
    assert r.status_code == 401 and "用户名或密码错误" in r.get_json()["error"]
    r = client.post("/api/login", json={"username": "bcg"})
    assert r.status_code == 400 and "username" in r.get_json()["error"]
    r = client.post("/api/login", json={"username": "bcg", "password": PASSWORD})
    assert r.status_code == 200 and r.get_json()["role"] == "street"
    project = client.get("/api/projects/dongqu-01").get_json()
    assert project["project"]["items"][0]["unit_price"] == "2380"
    assert {d["kind"] for d in project["documents"] if d["available"]} >= {"survey", "notice"}
    r = client.get("/api/projects/renhe-05")
    assert r.status_code == 404 and r.get_json()["error"] == "找不到该页面或小区"
    r = client.get("/api/projects/dongqu-01/packet.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"


def test_compiled_templates_outlive_a_change_of_the_data(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    store = app.extensions["gaizao"]["store"]
    before = store.current().renderers
    plan = data / "communities.yaml"
    plan.write_text(plan.read_text(encoding="utf-8").replace("name: 炳草岗园林苗圃小区", "name: 苗圃新村"),
                    encoding="utf-8")
    after = store.current()
    assert after.data.communities["dongqu-01"].name == "苗圃新村" and after.renderers is before


# ---------------------------------------------------------------- the 填报表 upload


def _upload(client: FlaskClient, community: str, payload: bytes, name: str = "填报表.xlsx") -> Any:
    token = csrf(client, "/")
    return client.post(f"/projects/{community}/form", data={"csrf_token": token, "form": (io.BytesIO(payload), name)},
                       content_type="multipart/form-data")


def test_a_filled_form_uploaded_changes_the_project_and_is_audited(fresh: tuple[Flask, Path, Path]) -> None:

    app, data, instance = fresh
    client = client_of(app, "renhe")
    r = client.get("/projects/renhe-16/form.xlsx")
    assert r.status_code == 200 and "filename*=UTF-8''" in r.headers["Content-Disposition"]
    same = _upload(client, "renhe-16", r.data)
    assert same.status_code == 200 and "没有改动" in same.get_data(as_text=True)
    changed, before = one_more_in_favour(r.data)
    r = _upload(client, "renhe-16", changed, "我的填报表.xlsx")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert re.search(f"同意户数[^：]*：{before} → {before + 1}", r.get_data(as_text=True))
    assert f"support: {before + 1}" in (data / "projects" / "renhe-16.yaml").read_text(encoding="utf-8")
    assert AuditLog(instance).events("renhe-16")[-1].detail == "填报表 我的填报表.xlsx"


def test_uploads_are_checked_by_content_and_by_community(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    client = client_of(app, "renhe")
    before = (data / "projects" / "renhe-16.yaml").read_bytes()
    r = _upload(client, "renhe-16", b"<html><table><tr><td>1</td></tr></table></html>")
    assert r.status_code == 422 and "网页" in r.get_data(as_text=True)
    r = _upload(client, "renhe-16", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    assert r.status_code == 422 and ".xls" in r.get_data(as_text=True)
    other = client.get("/projects/renhe-26/form.xlsx").data
    r = _upload(client, "renhe-16", other)
    assert r.status_code == 422 and "不是本小区" in r.get_data(as_text=True)
    assert (data / "projects" / "renhe-16.yaml").read_bytes() == before
    assert _upload(client, "dongqu-01", other).status_code == 404


@pytest.mark.libreoffice
def test_a_document_as_pdf_on_request(app: Flask) -> None:
    r = client_of(app, "bcg").get("/projects/dongqu-01/documents/notice?format=pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert "filename*=UTF-8''05-" in r.headers["Content-Disposition"] and ".pdf" in r.headers["Content-Disposition"]


def test_a_pdf_while_too_many_conversions_wait_is_a_503_that_says_so(app: Flask,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.output import pdf, warm

    def busy(sources: list[Path], **_: Any) -> pdf.Conversion:
        return pdf.Conversion(failed={sources[0]: warm.BUSY})

    monkeypatch.setattr(pdf, "to_pdf", busy)
    r = client_of(app, "bcg").get("/projects/dongqu-01/documents/notice?format=pdf")
    assert r.status_code == 503 and warm.BUSY in r.get_data(as_text=True)


def test_saving_every_section_unchanged_leaves_the_file_as_it_was(fresh: tuple[Flask, Path, Path]) -> None:
    from generator.web.forms import SECTIONS

    app, data, instance = fresh
    client = client_of(app, "admin")
    for community in ("dongqu-01", "renhe-16", "renhe-24"):
        path = data / "projects" / f"{community}.yaml"
        before = path.read_bytes()
        for section in SECTIONS:
            form = _form(client, f"/projects/{community}/edit/{section.key}")
            r = client.post(f"/projects/{community}/edit/{section.key}", data=form)
            assert r.status_code == 302, (community, section.key, r.get_data(as_text=True)[:3000])
            assert path.read_bytes() == before, (community, section.key)
    assert [e for e in AuditLog(instance).events() if e.action == "save"] == []


def test_a_data_folder_that_does_not_load_is_a_503_naming_the_problem(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    client = client_of(app, "bcg")
    path = data / "projects" / "dongqu-10.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("stage: notice", "stage: halfway"), encoding="utf-8")
    r = client.get("/")
    page = r.get_data(as_text=True)
    assert r.status_code == 503 and "dongqu-10.yaml" in page and "halfway" in page
    assert client.get("/api/projects").get_json()["status"] == 503
    path.write_text(good, encoding="utf-8")
    assert client.get("/").status_code == 200


def test_serve_starts_waitress_and_answers(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    data, instance = make_instance(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "generator", "--data", str(data), "serve", "--instance",
                             str(instance), "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    page = r.read().decode()
                    headers = r.headers
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.2)
        assert "登录" in page and headers["Server"] == "gaizao"
        assert "script-src 'self'" in headers["Content-Security-Policy"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
