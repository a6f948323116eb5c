"""The review pages: a district bureau passes or returns each community's plan and notice."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from generator.documents.kinds import KINDS
from generator.web import listing
from generator.web.audit import FieldChange
from generator.web.pages import review_filter
from generator.web.permissions import Capability, allowed, may
from generator.web.reviews import (
    DECISIONS,
    REVIEWED,
    STATUS_NAMES,
    SUBMISSIONS,
    Review,
    current_latest,
    current_submissions,
    log,
    review_of,
    reviews_of,
    waiting,
)
from generator.web.scope import offices
from generator.web.security import audit, community_or_404, loaded, login_required, store
from generator.web.store import Loaded

bp = Blueprint("review", __name__)

MAX_COMMENT = 500


@bp.app_context_processor
def review_helpers() -> dict[str, Any]:
    """review_status(id): where each reviewed document of a community stands, for any page."""
    def review_status(community_id: str) -> list[Review]:
        if "review_now" not in g:
            g.review_now = loaded()  # one look at the data folder per page, not one per row
        return reviews_of(g.review_now, current_latest(), community_id)

    def review_waiting(community_id: str) -> set[str]:
        submitted = current_submissions()
        return {r.kind for r in review_status(community_id) if waiting(r, submitted.get((community_id, r.kind)))}

    return {"review_status": review_status, "review_waiting": review_waiting, "may": may}


def _reviewable(now: Loaded, community_id: str, kind: str) -> Review:
    """Where the document stands; 409 when it cannot be made, so there is nothing to review."""
    current = review_of(now, current_latest(), community_id, kind)
    if not current.content:
        abort(409, description=f"{KINDS[kind].name}暂不能生成，无法审核")
    return current


def _checked(community_id: str, kind: str, capability: Capability, why: str) -> Loaded:
    """The data set when the community is in scope (else 404), the kind reviewed (else 404) and the
    role has the capability (else 403, saying why)."""
    now = community_or_404(community_id)
    if kind not in REVIEWED:
        abort(404)
    if not may(g.user, capability):
        abort(403, description=why)
    return now


@bp.route("/review")
@login_required
def index() -> Any:
    """Every community in scope with where its plan and notice stand."""
    if not may(g.user, "read-reviews"):
        abort(404)
    now = loaded()
    latest = current_latest()
    query = listing.query_of(request.args)
    wanted = request.args.get("status", "") or query.review  # status: the older links' name
    query = replace(query, review=wanted)
    page = listing.select(now, g.user, query, review_filter(now))
    rows = [(c, now.offices.get(c.id, ""), reviews_of(now, latest, c.id)) for c in page.rows]
    bulk = session.pop("bulk_review", None)
    return render_template("review_list.html", rows=rows, page=page, wanted=wanted, statuses=STATUS_NAMES,
                           needs_review=now.data.programme.notice.needs_review, bulk=bulk,
                           can_review=may(g.user, "review"), **listing.CHOICES)


MAX_BULK = 200
"""Documents passed by one press of 批量通过 (a page of the list at most)."""


@bp.route("/review/bulk", methods=["POST"])
@login_required
def bulk_pass() -> Any:
    """通过 on every ticked document, each as the reviewer saw it; those changed since or out of reach are
    named and left as they are."""
    if not may(g.user, "read-reviews"):
        abort(404)
    if not may(g.user, "review"):
        abort(403, description="审核意见由县（区）住房城乡建设部门填写")
    picked = request.form.getlist("pick")[:MAX_BULK]
    if not picked:
        abort(400, description="请先勾选要通过的文书")
    now = loaded()
    passed: list[str] = []
    left: list[str] = []
    for value in picked:
        community_id, _, rest = value.partition(":")
        kind, _, content = rest.partition(":")
        community = now.data.communities.get(community_id)
        if community is None or kind not in REVIEWED \
                or not allowed(g.user, "edit", now.data, community_id, offices(now)):
            left.append(f"{community.name if community else community_id}：不在本单位审核范围内")
            continue
        name = f"{community.name}{KINDS[kind].name}"
        current = review_of(now, current_latest(), community_id, kind)
        if not current.content or current.content != content:
            left.append(f"{name}：在您打开列表之后已被修改或暂不能生成，未通过，请打开审核页查阅")
            continue
        if current.status == "pass":
            continue
        log().append(g.user.name, g.user.unit, community_id, kind, "pass", "", current.content)
        audit().append(g.user.name, "review", community_id,
                       [FieldChange(f"{KINDS[kind].name}审核", current.status_name, DECISIONS["pass"])],
                       detail="批量通过")
        passed.append(name)
    session["bulk_review"] = {"passed": len(passed), "left": left[:50]}
    return redirect(url_for("review.index") + "?" + request.form.get("back", ""), code=303)


def _page(now: Loaded, community_id: str, error: str = "", status: int = 200) -> Any:
    latest = current_latest()
    return render_template(
        "review.html", community=now.data.communities[community_id],
        street_office=now.offices.get(community_id, ""), reviews=reviews_of(now, latest, community_id),
        history=list(reversed(log().decisions(community_id))), decisions=DECISIONS,
        can_review=may(g.user, "review") and allowed(g.user, "edit", now.data, community_id, offices(now)),
        can_read=may(g.user, "read-reviews"), needs_review=now.data.programme.notice.needs_review,
        error=error,
    ), status


@bp.route("/projects/<community_id>/review")
@login_required
def project(community_id: str) -> Any:
    """A community's review: each document, its status, the decisions so far; the form for a reviewer."""
    return _page(community_or_404(community_id), community_id)


@bp.route("/projects/<community_id>/review/<kind>/document")
@login_required
def document(community_id: str, kind: str) -> Any:
    """The document under review as it stands now, for the bureau to read whatever the gate says."""
    from generator.web.pages import download

    now = _checked(community_id, kind, "read-reviews",
                   "审核稿只供县（区）、市级审核人员查阅；审核通过后可在小区页面下载")
    _reviewable(now, community_id, kind)
    from generator.web.store import document as render

    with store().render_lock:
        return download(*render(now, community_id, kind))


@bp.route("/projects/<community_id>/review/<kind>/document.pdf")
@login_required
def document_pdf(community_id: str, kind: str) -> Any:
    """The document under review as a PDF review copy: the paper as it prints, marked 审核稿 on every page
    (a line in the top margin and a light mark behind the text), for reading and annotating on screen."""
    import datetime as dt

    from generator.output import review_copy
    from generator.render.wording import wording
    from generator.web.pages import convert_all, download
    from generator.web.store import document as render

    now = _checked(community_id, kind, "read-reviews",
                   "审核稿只供县（区）、市级审核人员查阅；审核通过后可在小区页面下载")
    _reviewable(now, community_id, kind)
    with store().render_lock:
        name, payload = render(now, community_id, kind)
    if not name.endswith(".docx"):
        abort(404)
    words = wording(now.data.root)
    line = words.say("review_copy.line", document=KINDS[kind].name, unit=g.user.unit,
                     time=f"{dt.datetime.now():%Y-%m-%d %H:%M}")
    stem = name.rsplit(".", 1)[0]
    mark = review_copy.stamp(line, words.say("review_copy.mark"), *review_copy.page_size(payload))
    pdfs = convert_all({name: payload, "审核稿标记.docx": mark})
    pdf = review_copy.marked(pdfs[stem + ".pdf"], pdfs["审核稿标记.pdf"])
    return download(f"审核稿-{stem}.pdf", pdf)


@bp.route("/projects/<community_id>/review/<kind>", methods=["POST"])
@login_required
def decide(community_id: str, kind: str) -> Any:
    """Record 通过 or 退回 on the document as the reviewer saw it; refused when it changed since."""
    now = _checked(community_id, kind, "review", "审核意见由县（区）住房城乡建设部门填写")
    decision = request.form.get("decision", "")
    comment = request.form.get("comment", "").strip()
    if decision not in DECISIONS:
        abort(400, description="请选择“通过”或“退回”")
    current = _reviewable(now, community_id, kind)
    name = KINDS[kind].name
    if request.form.get("content", "") != current.content:
        return _page(now, community_id, f"{name}在您打开本页之后已被修改，未记录审核意见；请重新查阅后再审核。", 409)
    if decision == "return" and not comment:
        return _page(now, community_id, f"退回{name}须写明退回理由。", 422)
    if len(comment) > MAX_COMMENT:
        return _page(now, community_id, f"审核意见不超过{MAX_COMMENT}字（现有{len(comment)}字）。", 422)
    made = log().append(g.user.name, g.user.unit, community_id, kind, decision, comment, current.content)
    audit().append(g.user.name, "review", community_id,
                   [FieldChange(f"{name}审核", current.status_name, made.name)], detail=comment)
    return redirect(url_for("review.project", community_id=community_id))


@bp.route("/projects/<community_id>/review/<kind>/submit", methods=["POST"])
@login_required
def submit(community_id: str, kind: str) -> Any:
    """The street office marks the document, as it stands, ready for the district's review (again after
    a 退回)."""
    now = community_or_404(community_id, "edit")
    if kind not in REVIEWED:
        abort(404)
    if g.user.role != "street":
        abort(403, description="由街道办事处提交县（区）审核")
    current = _reviewable(now, community_id, kind)
    name = KINDS[kind].name
    if request.form.get("content", "") != current.content:
        abort(409, description=f"{name}在您打开页面之后已被修改，未提交；请刷新小区页面核对后再提交。")
    if current.status == "pass":
        abort(409, description=f"{name}已审核通过，无需再提交。")
    act = "resubmit" if current.latest is not None and current.latest.decision == "return" else "submit"
    log().append(g.user.name, g.user.unit, community_id, kind, act, "", current.content)
    audit().append(g.user.name, "review-submit", community_id,
                   [FieldChange(f"{name}审核", current.status_name, SUBMISSIONS[act])])
    return redirect(url_for("pages.project", community_id=community_id, submitted=kind) + "#review", code=303)
