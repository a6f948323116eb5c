"""A street office submits its plan for the district's review, and again after a 退回; each act audited."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from generator.web.audit import AuditLog
from generator.web.reviews import ReviewLog
from tests.test_web_district_lists import _as, site  # noqa: F401
from tests.webapp import csrf


def _submit_form(page: str, kind: str = "plan") -> dict[str, str]:
    found = re.search(rf'action="/projects/dongqu-10/review/{kind}/submit"[^>]*>\s*<input type="hidden" '
                      r'name="csrf_token" value="([^"]+)">\s*<input type="hidden" name="content" value="([^"]+)">',
                      page)
    assert found, page[-3000:]
    return {"csrf_token": found.group(1), "content": found.group(2)}


def test_a_clerk_submits_then_resubmits_after_a_return(site: tuple[Flask, Path]) -> None:  # noqa: F811
    app, instance = site
    clerk, reviewer = _as(app, "bcg"), _as(app, "dongqu")
    page = clerk.get("/projects/dongqu-10").get_data(as_text=True)
    assert "改造方案提交县（区）审核" in page
    form = _submit_form(page)
    assert clerk.post("/projects/dongqu-10/review/plan/submit",
                      data={**form, "content": "0" * 64}).status_code == 409  # not what the page showed
    assert clerk.post("/projects/dongqu-10/review/plan/submit", data={"content": form["content"]}).status_code == 400
    r = clerk.post("/projects/dongqu-10/review/plan/submit", data=form)
    assert r.status_code == 303
    page = clerk.get(r.headers["Location"]).get_data(as_text=True)
    assert "已提交县（区）审核" in page and "街道已提交，待审核" in page and "改造方案提交县（区）审核" not in page
    assert "街道已提交，待审核" in reviewer.get("/review").get_data(as_text=True)
    # the district returns it: the clerk is offered 已按意见修改，请复审
    review_page = reviewer.get("/projects/dongqu-10/review").get_data(as_text=True)
    r = reviewer.post("/projects/dongqu-10/review/plan", data={
        "csrf_token": csrf(reviewer, "/projects/dongqu-10/review"), "decision": "return",
        "comment": "请补充现状问题", "content": form["content"]})
    assert r.status_code == 302, review_page[-500:]
    page = clerk.get("/projects/dongqu-10").get_data(as_text=True)
    assert "街道已提交，待审核" not in page and "改造方案已按意见修改，请复审" in page
    assert clerk.post("/projects/dongqu-10/review/plan/submit", data=_submit_form(page)).status_code == 303
    acts = [d.decision for d in ReviewLog(instance).decisions("dongqu-10")]
    assert acts == ["submit", "return", "resubmit"]
    assert ReviewLog(instance).latest()[("dongqu-10", "plan")].decision == "return"  # a submission decides nothing
    events = [e for e in AuditLog(instance).events("dongqu-10") if e.action == "review-submit"]
    assert [e.changes[0].after for e in events] == ["提交审核", "已按意见修改，请复审"]
    history = reviewer.get("/projects/dongqu-10/review").get_data(as_text=True)
    assert "已按意见修改，请复审" in history and "请补充现状问题" in history


def test_only_the_street_office_submits(site: tuple[Flask, Path]) -> None:  # noqa: F811
    app, instance = site
    form = _submit_form(_as(app, "bcg").get("/projects/dongqu-10").get_data(as_text=True))
    reviewer = _as(app, "dongqu")
    token = csrf(reviewer, "/")
    assert reviewer.post("/projects/dongqu-10/review/plan/submit",
                         data={**form, "csrf_token": token}).status_code == 403
    other = _as(app, "renhe")
    assert other.post("/projects/dongqu-10/review/plan/submit",
                      data={**form, "csrf_token": csrf(other, "/")}).status_code == 404
    assert ReviewLog(instance).decisions() == []
