"""Every page and error a user sees speaks the user's language: no field keys, stage codes, commands,
options, server paths or Python representations in the visible text."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from generator.data.models import STAGES
from generator.web.forms import SECTIONS
from tests.test_web import _form, client_of
from tests.webapp import csrf, make_app, make_instance

FORBIDDEN = [
    (re.compile(r"gaizao"), "a command name"),
    (re.compile(r"命令行"), "the command line"),
    (re.compile(r"(?<![\w-])--[a-z]"), "a command-line option"),
    (re.compile(r"\b(projects|rosters|photos|templates|reports)/"), "a data-folder path"),
    (re.compile(r"\.ya?ml\b"), "a data file"),
    (re.compile(r"/tmp/|[A-Z]:\\\\|<_io\.|0x[0-9a-f]{6,}|Traceback"), "a server path or Python repr"),
    (re.compile(r"\b[a-z]+_[a-z_]+\b"), "a snake_case key"),
    (re.compile(r"\b[a-z]+\.(?!(xlsx|docx|pdf|zip|jpe?g|png)\b)[a-z_]+\b"), "a dotted field key"),
    (re.compile(r"\b(" + "|".join(STAGES) + r"|built)\b"), "a stage code or field key"),
]


def visible(page: str) -> str:
    """The text a browser shows (no scripts, styles, tags or attribute values)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<textarea\b.*?</textarea>", " ", page, flags=re.S)  # the user's own text
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def leaks(page: str) -> list[str]:
    text = visible(page)
    out = []
    for pattern, what in FORBIDDEN:
        for m in pattern.finditer(text):
            out.append(f"{what}: …{text[max(0, m.start() - 30):m.end() + 30]!r}…")
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, Path]:
    data, instance = make_instance(tmp_path_factory.mktemp("words"))
    (data / "projects" / "dongqu-22.yaml").unlink()  # a community not yet started
    return make_app(data, instance), data


def _pages(client: FlaskClient, community: str) -> dict[str, str]:
    out = {}
    for path in ("/", f"/projects/{community}", f"/projects/{community}/review", "/batch/forms", "/review",
                 "/dashboard", "/reports", "/plan", "/assign", "/batch/prints", "/projects/no-such-community", "/help",
                 *(f"/projects/{community}/edit/{s.key}" for s in SECTIONS)):
        r = client.get(path)
        if r.status_code in (200, 403, 404, 409):
            out[path] = r.get_data(as_text=True)
    return out


@pytest.mark.parametrize(("name", "community"), [("bcg", "dongqu-01"), ("dongqu", "dongqu-22"),
                                                 ("city", "xiqu-03"), ("admin", "miyi-08")])
def test_no_page_shows_internals(site: tuple[Flask, Path], name: str, community: str) -> None:
    app, _ = site
    client = client_of(app, name)
    found = {path: leaks(page) for path, page in _pages(client, community).items()}
    assert {k: v for k, v in found.items() if v} == {}


def test_no_error_a_clerk_meets_shows_internals(site: tuple[Flask, Path]) -> None:
    app, data = site
    clerk = client_of(app, "bcg")
    token = csrf(clerk, "/projects/dongqu-01")
    pages: dict[str, str] = {}
    # A model error and a stale save.
    form = _form(clerk, "/projects/dongqu-01/edit/survey")
    pages["model error"] = clerk.post("/projects/dongqu-01/edit/survey",
                                      data=form | {"survey.support": "八十"}).get_data(as_text=True)
    pages["stale save"] = clerk.post("/projects/dongqu-01/edit/survey",
                                     data=form | {"version": "stale"}).get_data(as_text=True)
    # A broken photo, a file that is not a workbook, a 填报表 with a word where a number goes.
    pages["photo"] = clerk.post("/projects/dongqu-01/photos", data={
        "csrf_token": token, "caption": "x", "kind": "现状",
        "photo": (io.BytesIO(b"<html>not a photo</html>"), "a.jpg")}).get_data(as_text=True)
    pages["not xlsx"] = clerk.post("/projects/dongqu-01/form", data={
        "csrf_token": token, "form": (io.BytesIO(b"not a workbook"), "填报表.xlsx")}).get_data(as_text=True)
    sheet = _form_with_a_word(clerk)
    r = clerk.post("/projects/dongqu-01/form",
                   data={"csrf_token": token, "form": (io.BytesIO(sheet), "我的填报表.xlsx")})
    pages["bad cell"] = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r"工作表“[^”]+” 第\d+行 [A-Z]+列", visible(pages["bad cell"])), visible(pages["bad cell"])[-800:]
    found = {k: leaks(v) for k, v in pages.items()}
    assert {k: v for k, v in found.items() if v} == {}


def _form_with_a_word(clerk: FlaskClient) -> bytes:
    """The community's 填报表 with a word typed where the survey's count of households goes."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(clerk.get("/projects/dongqu-01/form.xlsx").data))
    ws = wb["意见征询"]
    for row in ws.iter_rows(min_row=1, max_row=40):
        if row[0].value and "同意户数" in str(row[0].value):
            row[1].value = "八十"
            break
    else:
        raise AssertionError("no 同意户数 row")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "own", "others"), [
    ("bcg", ["街道办事处（本账户）"], ["全市资料管理（本账户）", "账户管理（系统管理员）（本账户）"]),
    ("dongqu", ["县（区）住房城乡建设部门（本账户）"], ["街道办事处（本账户）"]),
    ("city", ["市住房城乡建设部门（本账户）"], ["县（区）住房城乡建设部门（本账户）"]),
    ("admin", ["全市资料管理（本账户）", "账户管理（系统管理员）（本账户）"], ["市住房城乡建设部门（本账户）"]),
])
def test_help_describes_this_rounds_pages_and_marks_the_accounts_sections(
        site: tuple[Flask, Path], name: str, own: list[str], others: list[str]) -> None:
    app, _ = site
    text = visible(client_of(app, name).get("/help").get_data(as_text=True))
    for topic in ("按账号、姓名或单位查找", "下载账户表模板", "下载初始密码表", "停用…", "确认页",
                  "“街道办事处”只能查看，不能修改", "另一个街道办事处", "验收单位", "下载PDF审核稿", "“更多”菜单"):
        assert topic in text, topic
    assert all(h in text for h in own) and not any(h in text for h in others)
    assert leaks(client_of(app, name).get("/help").get_data(as_text=True)) == []
