"""Communities without a project file: the city or a district assigns each to a street office, and
that office starts the project file from the plan data, all in the browser."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from generator.errors import DataError
from generator.intake import assignments
from generator.web.audit import FieldChange
from generator.web.permissions import allowed, districts_of
from generator.web.scope import offices, table
from generator.web.security import audit, community_or_404, loaded, login_required, store
from generator.web.store import Loaded

bp = Blueprint("start", __name__)

ASSIGNERS = frozenset({"district", "city", "admin"})
"""Roles that say which street office works on a community (a district: its own communities only)."""
PER_PAGE = 100


def _may_assign() -> list[str]:
    if g.user.disabled or g.user.role not in ASSIGNERS:
        abort(404)
    return districts_of(g.user, loaded().data)


@bp.route("/assign", methods=["GET"])
@login_required
def assign_page() -> Any:
    """The communities still without a project file, each with the street office to work on it."""
    districts = _may_assign()
    now = loaded()
    data = now.data
    try:
        current = assignments.read(data.root)
        broken = ""
    except DataError as exc:
        current, broken = {}, "；".join(p.problem for p in exc.problems)
    district = request.args.get("district") or (districts[0] if districts else "")
    if district not in districts:
        abort(404)
    only_open = request.args.get("open") == "1"
    rows = [c for c in data.active_communities() if c.district == district
            and not assignments.started_by_office(now.offices, c.id) and (not only_open or c.id not in current)]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    pages = max(1, -(-len(rows) // PER_PAGE))
    shown = rows[(page - 1) * PER_PAGE: page * PER_PAGE]
    return render_template(
        "assign.html", districts=districts, district=district, rows=shown, total=len(rows), page=page,
        pages=pages, only_open=only_open, current=current, broken=broken,
        known=assignments.known_offices(data, now.offices, current).get(district, []),
        saved=request.args.get("saved", type=int),
    )


@bp.route("/assign", methods=["POST"])
@login_required
def assign_save() -> Any:
    """Write the street offices typed on the page (only communities in the account's districts)."""
    districts = _may_assign()
    st = store()
    changed: list[tuple[str, str, str]] = []
    with st.save_lock:
        now = st.current()
        data = now.data
        try:
            current = dict(assignments.read(data.root))
        except DataError as exc:
            abort(409, description="街道办事处分配表无法读取，未保存：" + "；".join(p.problem for p in exc.problems))
        for key, value in request.form.items():
            if not key.startswith("office."):
                continue
            cid = key[len("office."):]
            c = data.communities.get(cid)
            if c is None or c.district not in districts or assignments.started_by_office(now.offices, cid):
                abort(404)
            office = " ".join(value.split())
            if len(office) > 60:
                abort(400, description=f"{c.name}：街道办事处名称过长（不超过60个字）")
            before = current.get(cid, "")
            if office == before:
                continue
            if office:
                current[cid] = office
            else:
                current.pop(cid, None)
            changed.append((cid, before, office))
        if changed:
            assignments.write(data.root, current)
            for cid, before, after in changed:
                audit().append(g.user.name, "assign", cid,
                               [FieldChange("街道办事处（分配）", before or "（未分配）", after or "（未分配）")],
                               "", "")
    return redirect(url_for("start.assign_page", district=request.form.get("district", ""),
                            page=request.form.get("page", "1"), saved=len(changed)))


@bp.route("/projects/<community_id>/start", methods=["POST"])
@login_required
def start_project(community_id: str) -> Any:
    """开始填报: the community's project file written from the plan data and its assigned street office."""
    from generator.intake import project_yaml
    from generator.web import forms

    community_or_404(community_id, "edit")
    committee = " ".join(request.form.get("community_committee", "").split())
    if not committee:
        abort(400, description="请填写社区居民委员会名称（如“苗圃社区居民委员会”）后再开始填报")
    st = store()
    with st.save_lock:
        now = st.current()
        if assignments.started(now.data, community_id):
            return redirect(url_for("pages.project", community_id=community_id))
        office = table(now).get(community_id)
        if not office:
            abort(409, description="此小区尚未分配街道办事处，"
                                   "请先由县（区）或市住房城乡建设部门在“分配街道办事处”中指定")
        path = st.project_path(now, community_id)
        before = st.version(now, community_id)
        doc = project_yaml.load_for_edit(path, header=assignments.starter_header(now.data, community_id))
        if doc.data:  # the file init made with placeholders: only they are filled in
            values = {**doc.data, "street_office": office, "community_committee": committee}
        else:
            values = assignments.starter(now.data, community_id, office, committee)
        project, errors = forms.validate(values)
        if project is None:
            reasons = "；".join(m for ms in errors.values() for m in ms)
            abort(400, description=f"社区居民委员会名称不符合要求：{reasons}")
        changes = project_yaml.apply(doc, values)
        project_yaml.save(doc)
        st.wrote(path)
        audit().append(g.user.name, "save", community_id,
                       [FieldChange(c.label, project_yaml.shown(c.before), project_yaml.shown(c.after))
                        for c in changes], before, st.version(st.current(), community_id), detail="开始填报")
    return redirect(url_for("pages.project", community_id=community_id, started=1))


def may_start(now: Loaded, community_id: str) -> bool:
    """Whether the account may start this community's project file now."""
    return (not assignments.started_by_office(now.offices, community_id) and community_id in table(now)
            and allowed(g.user, "edit", now.data, community_id, offices(now)))


def may_assign(now: Loaded, community_id: str) -> bool:
    """Whether the account may say which street office works on this community."""
    c = now.data.communities.get(community_id)
    return (not g.user.disabled and g.user.role in ASSIGNERS and c is not None
            and c.district in districts_of(g.user, now.data)
            and not assignments.started_by_office(now.offices, community_id))
