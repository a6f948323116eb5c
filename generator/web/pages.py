"""The pages: the list of the account's communities, a project's page, its documents and packet."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request

from generator.data.models import STAGE_NAMES
from generator.documents.deadlines import Deadline, deadlines
from generator.documents.kinds import KINDS
from generator.output.pipeline import NO_PROJECT
from generator.rules.findings import SEVERITY
from generator.rules.funding import plan_funding, policy
from generator.web import forms, listing, photos
from generator.web.permissions import allowed, visible
from generator.web.privacy import masked_for
from generator.web.reviews import STATUS_NAMES, current_gate, current_latest, reviews_of
from generator.web.security import audit, community_or_404, loaded, login_required, note_personal_download, store
from generator.web.store import Availability, Loaded, document, documents_of, findings_of, packet

bp = Blueprint("pages", __name__)
DUE_SHOWN = 30
"""Deadlines listed on a page at most; the rest are counted (gaizao validate --due lists all)."""

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def download(name: str, payload: bytes) -> Response:
    """A file to save, its Chinese name given the way every browser reads (RFC 6266)."""
    from urllib.parse import quote

    mime = {"docx": DOCX, "xlsx": XLSX, "zip": "application/zip", "pdf": "application/pdf"}[name.rsplit(".", 1)[1]]
    response = Response(payload, mimetype=mime)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def summary(now: Loaded, community_id: str) -> dict[str, Any]:
    """What the list and the API show of one community (worked out once per state of the data)."""
    info = dict(now.memo("summary", community_id, lambda: _summary(now, community_id)))
    info["documents"] = [_worded(a) for a in current_gate(now, community_id, info["documents"])]
    return info


def _worded(a: Availability) -> Availability:
    """A document's reason in the clerk's words: the data folder is not theirs to know of."""
    if a.reason == NO_PROJECT:
        return replace(a, reason="尚未开始填报")
    return a


def _summary(now: Loaded, community_id: str) -> dict[str, Any]:
    data = now.data
    c = data.communities[community_id]
    project = data.projects.get(community_id)
    found = findings_of(now, community_id)
    return {
        "id": c.id, "name": c.name, "district": c.district, "year": c.year, "households": c.households,
        "street_office": project.street_office if project else None,
        "stage": project.stage if project else None,
        "stage_name": STAGE_NAMES[project.stage] if project else "尚无项目资料",
        "errors": [f for f in found if f.severity == "error"],
        "warnings": [f for f in found if f.severity == "warning"],
        "documents": documents_of(now, community_id),
    }


@bp.app_template_filter("field_name")
def field_name_filter(raw: str) -> str:
    """A finding's field as the clerk reads it (no field keys)."""
    return forms.field_name(raw)


@bp.app_template_filter("stage_words")
def stage_words(value: str) -> str:
    """A value shown in the history: a stage's key (notice) as its name (方案公示)."""
    return STAGE_NAMES.get(value, value)


@bp.app_context_processor
def store_state() -> dict[str, Any]:
    """data_reloading(): whether the page shows the data as it was before a change still being loaded."""
    return {"data_reloading": lambda: store().reloading}


@bp.route("/")
@login_required
def index() -> Any:
    now = loaded()
    page = listing.select(now, g.user, listing.query_of(request.args), review_filter(now))
    rows = [summary(now, c.id) for c in page.rows]
    today = dt.date.today()
    due: list[Deadline] = []
    if g.user.role == "street":  # the others see the deadlines on the dashboard
        due = now.view(f"due:{today}:{g.user.role}:{g.user.unit}", lambda: deadlines(
            now.data, today, communities={c.id for c in visible(g.user, now.data, now.offices)}))
    return render_template("index.html", rows=rows, page=page, severity=SEVERITY, review_statuses=STATUS_NAMES,
                           due=due, today=today, due_shown=DUE_SHOWN, **listing.CHOICES)


def review_filter(now: Loaded) -> Callable[[str, str], bool]:
    """Whether a community's plan or notice stands at a review status, for a list's review filter."""
    latest = current_latest()
    decided = {community_id for community_id, _ in latest}

    def stands(community_id: str, status: str) -> bool:
        # passed, returned or changed since: only a community with a decision can be; the others
        # are not looked at (what its documents would say now is worked out from its data)
        if status in ("pass", "return", "stale") and community_id not in decided:
            return False
        return any(r.status == status for r in reviews_of(now, latest, community_id))

    return stands


def funding_view(now: Loaded, project: Any) -> dict[str, Any] | None:
    """The funding split as the budget table prints it: each party's name and amount, the share per household."""
    if not project.items:
        return None
    data = now.data
    funding = plan_funding(data, project, data.communities[project.community].households)
    names = policy(data.programme).parties
    return {
        "total": funding.total,
        "parties": [(names[k], amount) for k, amount in funding.by_party.items()],
        "per_household": funding.per_household_residents,
    }


@bp.route("/projects/<community_id>")
@login_required
def project(community_id: str) -> Any:
    now = community_or_404(community_id)
    info = summary(now, community_id)
    p = now.data.projects.get(community_id)
    found = findings_of(now, community_id)
    sections = forms.sections_with_findings(found)
    from generator.intake.assignments import started_by_office
    from generator.web import scope, start

    started = started_by_office(now.offices, community_id)
    return render_template(
        "project.html", info=info, project=p, community=now.data.communities[community_id],
        sections=sections, funding=funding_view(now, p) if p else None,
        **_history(community_id), severity=SEVERITY, steps=progress(p) if started else [],
        can_edit=p is not None and allowed(g.user, "edit", now.data, community_id, scope.offices(now)),
        may_form=allowed(g.user, "edit", now.data, community_id, scope.offices(now)),
        can_start=start.may_start(now, community_id),
        photo_items=photos.item_choices(now.data, p),
        may_assign=start.may_assign(now, community_id),
        assigned="" if started else scope.table(now).get(community_id, ""), started=started,
        version=store().version(now, community_id),
    )


@bp.route("/help")
@login_required
def help_page() -> Any:
    """使用说明: what each role does where, in Chinese; the sections this account uses are marked."""
    return render_template("help.html", mine={g.user.role, g.user.duty} & HELP_SECTIONS)


HELP_SECTIONS = frozenset({"street", "district", "city", "admin", "sysadmin"})
"""The roles and duties the help page has a section of its own for."""


PROGRESS = (("survey", "征询", ("survey", "date")), ("application", "申请", ("dates", "application")),
            ("plan", "方案", ("dates", "plan")), ("notice", "公示", ("dates", "notice_start")),
            ("construction", "施工", ("dates", "start")), ("completed", "完工", ("dates", "completion")),
            ("accepted", "验收", ("dates", "acceptance")))
"""The steps of the progress line: stage, its short name, where its date is."""


def progress(project: Any) -> list[dict[str, Any]]:
    """征询→申请→方案→公示→施工→完工→验收, each reached or not, with its date where known."""
    if project is None:
        return []
    out = []
    for stage, name, (group, field) in PROGRESS:
        holder = getattr(project, group, None)
        date = getattr(holder, field, None) if holder is not None else None
        out.append({"name": name, "done": project.at_least(stage), "current": project.stage == stage,
                    "date": date})
    return out


HISTORY_PER_PAGE = 20
"""修改记录 rows a page: a roster import alone may change hundreds of fields (each row shows five)."""


def _history(community_id: str) -> dict[str, Any]:
    """One page of the community's history, newest first (?log=N)."""
    events = [e for e in reversed(audit().events(community_id)) if e.action in ("save", "assign")]
    pages = max(1, -(-len(events) // HISTORY_PER_PAGE))
    page = min(max(1, request.args.get("log", 1, type=int) or 1), pages)
    shown = events[(page - 1) * HISTORY_PER_PAGE: page * HISTORY_PER_PAGE]
    return {"history": shown, "history_total": len(events), "history_page": page, "history_pages": pages}


def send_document(community_id: str, kind: str) -> Any:
    """One document of a community as a download (PDF with ?format=pdf): the page's and the API's."""
    now = community_or_404(community_id)
    name, payload = make_document(now, community_id, kind, masked_for(g.user))
    note_personal_download(community_id, [kind])
    if request.args.get("format") == "pdf":
        name, payload = as_pdf(name, payload)
    return download(name, payload)


@bp.route("/projects/<community_id>/documents/<kind>")
@login_required
def document_file(community_id: str, kind: str) -> Any:
    return send_document(community_id, kind)


PDF_LOCK = threading.Lock()
"""One cold LibreOffice conversion at a time (each takes a core and some 200 MB); warm converters
limit and queue themselves (output/warm.py)."""


def as_pdf(name: str, payload: bytes) -> tuple[str, bytes]:
    """A document converted by LibreOffice as `gaizao build --pdf` converts it; 503 without LibreOffice
    or while too many conversions wait."""
    pdf_name = name.rsplit(".", 1)[0] + ".pdf"
    return pdf_name, convert_all({name: payload})[pdf_name]


def convert_all(files: dict[str, bytes]) -> dict[str, bytes]:
    """Files converted to PDF in one call of the (warm) converter, by PDF name; 503 without LibreOffice or
    while too many conversions wait, 500 when one fails."""
    import tempfile
    from contextlib import nullcontext
    from pathlib import Path

    from generator.output import warm
    from generator.output.pdf import NoLibreOffice, soffice, to_pdf

    one_at_a_time = nullcontext() if warm.available(soffice()) else PDF_LOCK
    with tempfile.TemporaryDirectory() as tmp, one_at_a_time:
        sources = []
        for name, payload in files.items():
            source = Path(tmp) / name
            source.write_bytes(payload)
            sources.append(source)
        try:
            done = to_pdf(sources)
        except NoLibreOffice:
            abort(503, description="服务器未安装 LibreOffice，暂不能生成 PDF；请下载 Word/Excel 文件")
        if done.failed or len(done.done) != len(sources):
            reason = next(iter(done.failed.values()), "")
            if reason == warm.BUSY:
                abort(503, description=reason)
            abort(500, description=f"PDF 转换失败：{reason}")
        return {pdf.name: pdf.read_bytes() for pdf in done.done}


def make_document(now: Loaded, community_id: str, kind: str, masked: bool = False) -> tuple[str, bytes]:
    """One document, or 404 for a kind that is not a community document, 409 when it cannot be made
    (masked: residents masked on a paper that prints them in full)."""
    if kind not in KINDS or KINDS[kind].scope != "community":
        abort(404)
    reason = next(a.reason for a in current_gate(now, community_id, documents_of(now, community_id))
                  if a.kind.key == kind)
    if reason:
        abort(409, description=f"{KINDS[kind].name}暂不能生成：{reason}")
    with store().render_lock:
        return document(now, community_id, kind, masked)


def make_packet(now: Loaded, community_id: str) -> tuple[str, bytes]:
    """The packet zip, or 409 when no document can be made yet."""
    available = current_gate(now, community_id, documents_of(now, community_id))
    if all(a.reason for a in available):
        abort(409, description="暂无可以生成的文书")
    c = now.data.communities[community_id]
    with store().render_lock:
        made = f"{c.id}-{c.name}-文书.zip", packet(now, community_id, available, masked_for(g.user))
    note_personal_download(community_id, [a.kind.key for a in available if not a.reason])
    return made


@bp.route("/projects/<community_id>/packet.zip")
@login_required
def packet_file(community_id: str) -> Any:
    now = community_or_404(community_id)
    return download(*make_packet(now, community_id))
