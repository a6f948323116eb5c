"""The household roster (住户名册) in the browser: the workbook `gaizao roster export` makes, and a
filled one uploaded through the checks of `gaizao roster import`, for one community at a time."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, g, render_template, request

from generator.errors import DataError
from generator.web.audit import PURPOSE, FieldChange
from generator.web.permissions import allowed
from generator.web.privacy import masked
from generator.web.scope import offices
from generator.web.security import audit, community_or_404, login_required, record_upload, store

bp = Blueprint("roster", __name__)

AUDIT_CHANGES = 500
"""Cell changes one upload records one by one; beyond them the audit log says how many more."""


@bp.app_context_processor
def roster_panel() -> dict[str, Any]:
    """What the project page's roster panel shows: the roster's size and how far the survey got."""

    def roster_state(community_id: str) -> dict[str, Any] | None:
        now = store().current()
        if "user" not in g or not allowed(g.user, "edit", now.data, community_id, offices(now)):
            return None
        roster = now.data.rosters.get(community_id)
        if roster is None:
            return {"households": 0, "answered": 0, "support": 0}
        return {"households": len(roster.households),
                "answered": sum(1 for h in roster.households if h.answer),
                "support": sum(1 for h in roster.households if h.answer == "同意")}

    return {"roster_state": roster_state}


@bp.route("/projects/<community_id>/roster.xlsx", methods=["GET", "POST"])
@login_required
def roster_file(community_id: str) -> Any:
    """The community's roster workbook, as `gaizao roster export` makes it (a blank one by building), for
    the street office that collects it only: residents' names and phones in full. The page asks what it
    is for; the download is a POST, so the purpose is recorded and nothing of the roster is in a URL."""
    from generator.intake.form import roster_file as file_name
    from generator.intake.roster_io import roster_workbook
    from generator.web.pages import download

    now = community_or_404(community_id, "edit")
    community = now.data.communities[community_id]
    if g.user.role != "street":
        abort(403, description="住户名册含住户姓名和电话，只由采集它的街道办事处下载")
    purpose = " ".join(request.form.get("purpose", "").split())
    if request.method == "GET" or not purpose or len(purpose) > PURPOSE:
        error = "" if request.method == "GET" else f"请填写下载用途（不超过{PURPOSE}个字）"
        return render_template("roster_download.html", community=community, error=error,
                               purpose=purpose[:PURPOSE]), 200 if request.method == "GET" else 422
    payload, _ = roster_workbook(now.data, community_id)
    audit().append(g.user.name, "roster-download", community_id, detail=f"用途：{purpose}")
    return download(file_name(community).name, payload)


@bp.route("/projects/<community_id>/roster", methods=["POST"])
@login_required
def roster_upload(community_id: str) -> Any:
    """A filled roster workbook replaces the community's roster, checked as `gaizao roster import`
    checks it; on any problem the roster stays as it was."""
    from generator.intake.roster_io import read_workbook, store_roster
    from generator.intake.workbook_safety import not_xlsx

    now = community_or_404(community_id, "edit")
    upload = request.files.get("roster")
    if upload is None or not upload.filename:
        abort(400, description="请选择要上传的住户名册（.xlsx）")
    raw = upload.read()
    why = not_xlsx(Path("住户名册.xlsx"), raw)  # judged by content, whatever the name says
    problems: list[str] = [why] if why else []
    changes: list[FieldChange] = []
    households = 0
    written = False
    if not why:
        st = store()
        with tempfile.TemporaryDirectory() as tmp, st.save_lock:
            path = Path(tmp) / "住户名册.xlsx"  # the client's file name is shown, never used as a path
            path.write_bytes(raw)
            now = st.current()
            try:
                book = read_workbook(path)
                # a roster made by hand names no community: it is this page's
                result = store_roster(now.data, book, community_id)
            except DataError as exc:
                problems.extend(f"{p.field}：{p.problem}" if p.field else p.problem for p in exc.problems)
            else:
                households, written = result.households, result.changed
                found = result.changes
                # Names and phones masked: the audit log and the pages it shows on are read beyond the street office.
                changes = masked(FieldChange(*c) for c in found[:AUDIT_CHANGES])
                if len(found) > AUDIT_CHANGES:
                    changes.append(FieldChange("住户名册", "", f"另有{len(found) - AUDIT_CHANGES}处改动"))
                if written:
                    audit().append(g.user.name, "save", community_id, changes,
                                   detail=f"住户名册 {upload.filename}（{households}户）")
    record_upload(community_id, "住户名册", upload.filename, raw, problems, written)
    return render_template("roster.html", community=now.data.communities[community_id], name=upload.filename,
                           problems=problems, changes=changes, households=households,
                           written=written), 422 if problems else 200
