"""The web front end for district bureaus and the administrator: review, batch print jobs,
many 填报表 at once, the users page."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from docx import Document
from flask import Flask
from flask.testing import FlaskClient

from generator.cli import main
from generator.output.printing import plan_prints
from generator.web.accounts import Accounts
from generator.web.audit import AuditLog
from generator.web.reviews import ReviewLog
from tests.test_print import needs_lo, page_count, pdf_text
from tests.webapp import (
    PASSWORD,
    SCRIPT,
    change_password,
    csrf,
    inline_scripts,
    login,
    make_app,
    make_instance,
    name_a_community_script,
    one_more_in_favour,
)


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Flask, Path, Path]:
    data, instance = make_instance(tmp_path)
    return make_app(data, instance, PRINT_LAYOUT=False), data, instance


def client_of(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    login(client, name)
    return client


def _review_form(client: FlaskClient, community: str, kind: str) -> dict[str, str]:
    page = client.get(f"/projects/{community}/review").get_data(as_text=True)
    form = page[page.index(f'action="/projects/{community}/review/{kind}"'):]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    content = re.search(r'name="content" value="([^"]*)"', form)
    assert token and content
    return {"csrf_token": token.group(1), "content": content.group(1)}


def _decide(client: FlaskClient, community: str, kind: str, decision: str, comment: str = "") -> Any:
    form = _review_form(client, community, kind)
    return client.post(f"/projects/{community}/review/{kind}", data={**form, "decision": decision,
                                                                     "comment": comment})


def _gate_on(data: Path) -> None:
    path = data / "programme.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  min_days: 7\n" in text
    path.write_text(text.replace("  min_days: 7\n", "  min_days: 7\n  needs_review: true\n"), encoding="utf-8")


# ---------------------------------------------------------------- review


def test_a_return_with_its_comment_reaches_the_street_office_and_the_audit_log(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    district = client_of(app, "dongqu")
    r = _decide(district, "dongqu-10", "notice", "return", "公示期只写了5天，应不少于7天")
    assert r.status_code == 302
    street = client_of(app, "bcg")
    listed = street.get("/").get_data(as_text=True)
    row = listed[listed.index("炳草岗酿造厂小区"):]
    row = row[:row.index("</tr>")]
    assert "改造方案公示：<b>退回</b>" in row and "公示期只写了5天，应不少于7天" in row
    page = street.get("/projects/dongqu-10").get_data(as_text=True)
    assert "退回" in page and "公示期只写了5天" in page
    review = street.get("/projects/dongqu-10/review").get_data(as_text=True)
    assert "dongqu" in review and "东区" in review and 'name="decision"' not in review  # read only
    events = [e for e in AuditLog(instance).events("dongqu-10") if e.action == "review"]
    assert len(events) == 1 and events[0].user == "dongqu" and events[0].detail == "公示期只写了5天，应不少于7天"
    assert [(c.field, c.before, c.after) for c in events[0].changes] == [("改造方案公示审核", "待审核", "退回")]
    assert ReviewLog(instance).decisions("dongqu-10")[0].comment == "公示期只写了5天，应不少于7天"
    assert not list(data.rglob("reviews*")) and not list(data.rglob("*.sqlite3*"))
    assert _decide(district, "dongqu-10", "plan", "pass").status_code == 302
    assert "改造方案：<b>通过</b>" in street.get("/").get_data(as_text=True)


def test_a_return_needs_a_reason_and_a_decision_on_changed_content_is_refused(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    district = client_of(app, "dongqu")
    r = _decide(district, "dongqu-10", "notice", "return", "  ")
    assert r.status_code == 422 and "须写明退回理由" in r.get_data(as_text=True)
    form = _review_form(district, "dongqu-10", "notice")
    project = data / "projects" / "dongqu-10.yaml"
    text = project.read_text(encoding="utf-8")
    assert "炳草岗街道办事处" in text
    # the notice names the contact; changing it after the page was opened changes what would be approved
    project.write_text(text.replace('  phone: "0812-0000010"', '  phone: "0812-9999999"'), encoding="utf-8")
    assert "0812-9999999" in project.read_text(encoding="utf-8")
    r = district.post("/projects/dongqu-10/review/notice", data={**form, "decision": "pass", "comment": ""})
    assert r.status_code == 409 and "已被修改" in r.get_data(as_text=True)
    assert ReviewLog(instance).decisions() == []
    assert district.post("/projects/dongqu-10/review/survey", data={**form, "decision": "pass"}).status_code == 404


def test_the_review_list_filters_by_status_and_a_city_account_reads_but_does_not_decide(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    district = client_of(app, "dongqu")
    assert _decide(district, "dongqu-01", "plan", "pass").status_code == 302
    page = district.get("/review?status=pass").get_data(as_text=True)
    assert "炳草岗园林苗圃小区" in page and "炳草岗酿造厂小区" not in page
    everything = district.get("/review").get_data(as_text=True)
    assert "炳草岗酿造厂小区" in everything and "仁和" not in everything
    city = client_of(app, "city")
    assert "仁和" in city.get("/review").get_data(as_text=True)
    assert 'name="decision"' not in city.get("/projects/dongqu-01/review").get_data(as_text=True)
    r = city.get("/projects/dongqu-01/review/plan/document")
    assert r.status_code == 200 and "filename*=UTF-8''03-" in r.headers["Content-Disposition"]


def test_with_the_gate_on_a_notice_is_printed_only_after_it_passes(fresh: tuple[Flask, Path, Path]) -> None:
    import zipfile

    app, data, _ = fresh
    _gate_on(data)
    street, district = client_of(app, "bcg"), client_of(app, "dongqu")
    r = street.get("/projects/dongqu-10/documents/notice")
    assert r.status_code == 409 and "须经县（区）住房城乡建设部门审核通过" in r.get_data(as_text=True)
    names = zipfile.ZipFile(io.BytesIO(street.get("/projects/dongqu-10/packet.zip").data)).namelist()
    assert not any(n.startswith("05-") for n in names) and any(n.startswith("03-") for n in names)
    api = street.get("/api/projects/dongqu-10").get_json()
    notice = next(d for d in api["documents"] if d["kind"] == "notice")
    assert not notice["available"] and "审核通过" in notice["reason"]
    # the bureau reads the document under review whatever the gate says; the street office does not
    assert district.get("/projects/dongqu-10/review/notice/document").status_code == 200
    assert street.get("/projects/dongqu-10/review/notice/document").status_code == 403
    _decide(district, "dongqu-10", "notice", "return", "请补充施工时间")
    r = street.get("/projects/dongqu-10/documents/notice")
    assert r.status_code == 409 and "请补充施工时间" in r.get_data(as_text=True)
    _decide(district, "dongqu-10", "notice", "pass")
    r = street.get("/projects/dongqu-10/documents/notice")
    assert r.status_code == 200
    assert "炳草岗酿造厂小区" in "".join(p.text for p in Document(io.BytesIO(r.data)).paragraphs)
    # a change to what the notice prints sends it back for review; a change it does not print does not
    project = data / "projects" / "dongqu-10.yaml"
    text = project.read_text(encoding="utf-8")
    unprinted = text.replace('phone: "0812-1000003"', 'phone: "0812-1000004"')  # the committee's contact
    assert unprinted != text
    project.write_text(unprinted, encoding="utf-8")
    assert street.get("/projects/dongqu-10/documents/notice").status_code == 200
    printed = unprinted.replace('  phone: "0812-0000010"', '  phone: "0812-9999999"')  # the notice's contact
    assert printed != unprinted
    project.write_text(printed, encoding="utf-8")
    r = street.get("/projects/dongqu-10/documents/notice")
    assert r.status_code == 409 and "重新审核" in r.get_data(as_text=True)
    assert "已修改，待重新审核" in district.get("/projects/dongqu-10/review").get_data(as_text=True)


def test_the_gate_is_off_for_the_bundled_programme(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    assert client_of(app, "bcg").get("/projects/dongqu-10/documents/notice").status_code == 200


# ---------------------------------------------------------------- batch print jobs


def _wait(client: FlaskClient, job: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state: dict[str, Any] = client.get(f"/batch/prints/{job}").get_json()
        if state["state"] in ("done", "failed") or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def _start(client: FlaskClient, **form: str) -> str:
    r = client.post("/batch/prints", data={"csrf_token": csrf(client, "/batch/prints"), **form})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    match = re.search(r"job=([\w-]+)", r.headers["Location"])
    assert match
    return match.group(1)


def test_a_district_print_job_is_its_own_district_and_only_its_owner_sees_it(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, _, instance = fresh
    district, city = client_of(app, "dongqu"), client_of(app, "city")
    job = _start(district, kind="notice", district="西区")  # the form cannot reach another district
    state = _wait(district, job)
    assert state["state"] == "done", state
    assert [f["name"] for f in state["files"]] == ["东区-改造方案公示.docx"]
    assert state["total"] == state["done"] == 4
    assert [(s["reason"], s["count"], len(s["names"])) for s in state["skipped"]] == [
        ("缺少工程预算（预算项目）", 2, 2)]
    page = district.get("/batch/prints").get_data(as_text=True)  # a reload finds the job and its link
    skipped = state["skipped"][0]["names"]
    names = {c.name for c in app.extensions["gaizao"]["store"].current().data.communities.values()}
    assert set(skipped) <= names and "、".join(skipped) in page  # named, not just counted
    assert f"/batch/prints/{job}/files/0" in page and "东区各年度改造方案公示" in page
    bound = district.get(f"/batch/prints/{job}/files/0")
    assert bound.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(bound.data)).paragraphs)
    assert "本册收录东区各年度改造方案公示共4份" in text and "清香坪" not in text
    assert city.get(f"/batch/prints/{job}").status_code == 404
    assert city.get(f"/batch/prints/{job}/files/0").status_code == 404
    assert job not in city.get("/batch/prints").get_data(as_text=True)
    other = _start(city, kind="notice", district="西区")
    assert district.get(f"/batch/prints/{other}").status_code == 404
    Accounts(instance).add("xiqu", "district", "西区", PASSWORD)
    xiqu = client_of(app, "xiqu")  # another district sees neither the job nor its file
    assert xiqu.get(f"/batch/prints/{job}").status_code == 404
    assert xiqu.get(f"/batch/prints/{job}/files/0").status_code == 404
    assert "东区" not in xiqu.get("/batch/prints").get_data(as_text=True).split("我的打印任务")[1]
    assert any(e.action == "print" and e.user == "dongqu" for e in AuditLog(instance).events())
    r = district.post("/batch/prints", data={"csrf_token": csrf(district, "/batch/prints"), "kind": "budget"})
    assert r.status_code == 400  # a workbook is not bound into a print file
    r = district.post("/batch/prints", data={"csrf_token": csrf(district, "/batch/prints"), "kind": "notice",
                                             "street_office": "清香坪街道办事处"})
    assert r.status_code == 400 and "不在所选县（区）内" in r.get_data(as_text=True)
    _wait(city, other)


def test_a_print_job_by_street_office_and_with_the_gate_leaves_out_what_is_not_passed(
        fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    _gate_on(data)
    district = client_of(app, "dongqu")
    _decide(district, "dongqu-10", "notice", "pass")
    state = _wait(district, _start(district, kind="notice", street_office="炳草岗街道办事处"))
    assert state["state"] == "done", state
    assert [f["name"] for f in state["files"]] == ["东区-炳草岗街道办事处-改造方案公示.docx"]
    assert state["total"] == 1
    assert {s["reason"] for s in state["skipped"]} == {"须经县（区）住房城乡建设部门审核通过后才能打印张贴"}
    bound = district.get(state["files"][0]["url"]).data
    text = "\n".join(p.text for p in Document(io.BytesIO(bound)).paragraphs)
    assert "炳草岗酿造厂小区" in text and "炳草岗园林苗圃小区" not in text


def test_print_by_street_office_on_the_command_line(tmp_path: Path) -> None:
    from generator.data.loader import BUNDLED_DATA, load

    files, _ = plan_prints(load(BUNDLED_DATA), "notice", street_office="大渡口街道办事处")
    assert [(f.district, [j.community.id for j in f.jobs]) for f in files] == [("东区", ["dongqu-02", "dongqu-11"])]
    result = CliRunner().invoke(main, ["print", "--kind", "notice", "--street-office", "大渡口街道办事处",
                                       "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "打印" / "东区-大渡口街道办事处-改造方案公示.docx").exists()
    bad = CliRunner().invoke(main, ["print", "--kind", "notice", "--street-office", "某某街道", "--out",
                                    str(tmp_path), "-q"])
    assert bad.exit_code != 0 and "没有街道办事处为“某某街道”的项目资料" in bad.output


# ---------------------------------------------------------------- many 填报表 at once


def test_many_forms_at_once_each_imported_or_refused_with_its_reason(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, instance = fresh
    district, admin = client_of(app, "dongqu"), client_of(app, "admin")
    mine, before = one_more_in_favour(district.get("/projects/dongqu-10/form.xlsx").data)
    same = district.get("/projects/dongqu-01/form.xlsx").data
    other = admin.get("/projects/renhe-16/form.xlsx").data  # another district's
    other_before = (data / "projects" / "renhe-16.yaml").read_bytes()
    files = [(io.BytesIO(mine), "酿造厂.xlsx"), (io.BytesIO(same), "苗圃.xlsx"), (io.BytesIO(other), "仁和.xlsx"),
             (io.BytesIO(b"<html><table></table></html>"), "网页.xlsx")]
    r = district.post("/batch/forms", data={"csrf_token": csrf(district, "/batch/forms"), "forms": files},
                      content_type="multipart/form-data")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "共4份，导入2份，未导入2份" in page
    rows = dict(re.findall(r"<tr class=\"(?:imported|refused)\">\s*<td>([^<]+)</td>(.*?)</tr>", page, re.S))
    assert re.search(f"同意户数[^：]*：{before} → {before + 1}", rows["酿造厂.xlsx"])
    assert "没有改动" in rows["苗圃.xlsx"]
    assert "不在您的账户可修改的范围内" in rows["仁和.xlsx"] and "renhe" not in rows["仁和.xlsx"]
    assert "网页" in rows["网页.xlsx"] and "未导入" in rows["网页.xlsx"]
    assert f"support: {before + 1}" in (data / "projects" / "dongqu-10.yaml").read_text(encoding="utf-8")
    assert (data / "projects" / "renhe-16.yaml").read_bytes() == other_before
    assert AuditLog(instance).events("dongqu-10")[-1].detail == "填报表 酿造厂.xlsx"
    assert client_of(app, "city").post("/batch/forms", data={"csrf_token": "x"}).status_code == 400


def test_many_forms_may_exceed_one_uploads_limit_but_each_file_may_not(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, _ = fresh
    district = client_of(app, "dongqu")
    form = district.get("/projects/dongqu-10/form.xlsx").data
    big = b"PK\x03\x04" + b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    files = [(io.BytesIO(form), "酿造厂.xlsx"), (io.BytesIO(big), "太大.xlsx")]
    r = district.post("/batch/forms", data={"csrf_token": csrf(district, "/batch/forms"), "forms": files},
                      content_type="multipart/form-data")
    assert r.status_code == 422, r.status_code
    page = r.get_data(as_text=True)
    assert "共2份，导入1份，未导入1份" in page and "超过4MB" in page
    r = district.post("/projects/dongqu-10/form", data={"csrf_token": csrf(district, "/"),
                                                        "form": (io.BytesIO(big), "太大.xlsx")},
                      content_type="multipart/form-data")
    assert r.status_code == 413  # the single upload keeps the app's limit


# ---------------------------------------------------------------- the users page


def _admin_post(client: FlaskClient, path: str, **form: str) -> Any:
    return client.post(path, data={"csrf_token": csrf(client, "/admin/users"), **form})


def test_the_admin_adds_disables_enables_resets_and_reassigns_accounts(fresh: tuple[Flask, Path, Path]) -> None:
    app, _, instance = fresh
    admin = client_of(app, "admin")
    new = "Another-long-password-2"
    r = _admin_post(admin, "/admin/users", name="xiqu", role="district", unit="西区", password=new, password2=new)
    assert r.status_code == 302
    assert "已新增账户" in admin.get(r.headers["Location"]).get_data(as_text=True)
    r = _admin_post(admin, "/admin/users", name="xiqu", role="district", unit="西区", password=new, password2=new)
    assert r.status_code == 422 and "已存在" in r.get_data(as_text=True)
    r = _admin_post(admin, "/admin/users", name="short", role="street", unit="x", password="short", password2="short")
    assert r.status_code == 422 and "至少10个字符" in r.get_data(as_text=True)
    r = _admin_post(admin, "/admin/users", name="typo", role="street", unit="x", password=new, password2=new + "x")
    assert r.status_code == 422 and "不一致" in r.get_data(as_text=True) and Accounts(instance).get("typo") is None
    xiqu = app.test_client()
    login(xiqu, "xiqu", new)
    assert xiqu.get("/api/projects").status_code == 403  # a password the administrator set: changed first
    assert xiqu.get("/").headers["Location"].endswith("/account/password")
    mine = "Own-password-for-7"
    change_password(xiqu, new, mine)
    assert {p["district"] for p in xiqu.get("/api/projects").get_json()["projects"]} == {"西区"}
    assert _admin_post(admin, "/admin/users/xiqu/assign", role="district", unit="东区").status_code == 302
    assert xiqu.get("/").status_code == 302  # what the account may see changed: log in again
    login(xiqu, "xiqu", mine)
    assert {p["district"] for p in xiqu.get("/api/projects").get_json()["projects"]} == {"东区"}
    assert _admin_post(admin, "/admin/users/xiqu/disable").status_code == 302
    assert xiqu.get("/").status_code == 302
    assert "已停用" in admin.get("/admin/users").get_data(as_text=True)
    assert _admin_post(admin, "/admin/users/xiqu/enable").status_code == 302
    newer = "Yet-another-password-4"
    assert _admin_post(admin, "/admin/users/xiqu/passwd", password=newer, password2=newer).status_code == 302
    assert Accounts(instance).verify("xiqu", newer) is not None and Accounts(instance).verify("xiqu", mine) is None
    r = _admin_post(admin, "/admin/users/admin/disable")
    assert r.status_code == 422 and "不能停用自己的账户" in r.get_data(as_text=True)
    assert admin.post("/admin/users/xiqu/disable", data={}).status_code == 400  # no CSRF token
    events = [(e.user, e.action, e.detail) for e in AuditLog(instance).events() if e.action.startswith("user-")]
    assert events == [("admin", "user-add", "xiqu district 西区"), ("admin", "user-assign", "xiqu district 东区"),
                      ("admin", "user-disable", "xiqu"), ("admin", "user-enable", "xiqu"),
                      ("admin", "user-passwd", "xiqu")]
    page = admin.get("/admin/users").get_data(as_text=True)
    assert PASSWORD not in page and "$argon2" not in page


def test_users_enable_and_assign_on_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    inst = str(tmp_path / "inst")
    assert runner.invoke(main, ["users", "add", "clerk", "--role", "street", "--unit", "仁和街道办事处",
                                "--password-stdin", "--instance", inst], input=PASSWORD + "\n").exit_code == 0
    assert runner.invoke(main, ["users", "disable", "clerk", "--instance", inst]).exit_code == 0
    assert runner.invoke(main, ["users", "enable", "clerk", "--instance", inst]).exit_code == 0
    r = runner.invoke(main, ["users", "assign", "clerk", "--role", "district", "--unit", "仁和区", "--instance", inst])
    assert r.exit_code == 0, r.output
    assert "clerk\tdistrict\t仁和区\t正常" in runner.invoke(main, ["users", "list", "--instance", inst]).output
    assert Accounts(tmp_path / "inst").verify("clerk", PASSWORD) is not None


@needs_lo
@pytest.mark.libreoffice
def test_a_print_job_as_pdf(fresh: tuple[Flask, Path, Path], tmp_path: Path) -> None:
    app, _, _ = fresh
    district = client_of(app, "dongqu")
    state = _wait(district, _start(district, kind="notice", year="2019", format="pdf"), timeout=300)
    assert state["state"] == "done", state
    assert [f["name"] for f in state["files"]] == ["东区-改造方案公示.pdf"] and state["total"] == 2
    r = district.get(state["files"][0]["url"])
    assert r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    pdf = tmp_path / "bound.pdf"
    pdf.write_bytes(r.data)
    assert page_count(pdf) >= 3  # the contents, then each of the two notices on a page of its own
    assert "本册收录东区2019年度改造方案公示共2份" in pdf_text(pdf, 1).replace(" ", "")


def test_the_new_pages_escape_what_the_data_says_and_run_no_inline_script(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    name_a_community_script(data)
    district = client_of(app, "dongqu")
    _decide(district, "dongqu-01", "plan", "return", "<img src=x onerror=alert(2)>")
    pages = {"dongqu": ["/review", "/projects/dongqu-01/review", "/batch/prints", "/batch/forms", "/"],
             "admin": ["/admin/users"], "bcg": ["/", "/projects/dongqu-01"]}
    for name, paths in pages.items():
        client = district if name == "dongqu" else client_of(app, name)
        for path in paths:
            r = client.get(path)
            page = r.get_data(as_text=True)
            assert r.status_code == 200, path
            assert SCRIPT not in page and "<img src=x" not in page, path
            assert inline_scripts(page) == [], path
            assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert "&lt;img src=x onerror=alert(2)&gt;" in client_of(app, "bcg").get("/").get_data(as_text=True)


def test_the_users_page_works_while_the_data_folder_does_not_load(fresh: tuple[Flask, Path, Path]) -> None:
    app, data, _ = fresh
    (data / "communities.yaml").write_text("communities: [", encoding="utf-8")
    admin = client_of(app, "admin")
    assert admin.get("/").status_code == 503
    r = admin.get("/admin/users")
    assert r.status_code == 200 and "dongqu" in r.get_data(as_text=True)
