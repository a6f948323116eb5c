"""Editing a project section by section: forms from the data model, the rules' messages beside each
input, the funding split recomputed by the core as the clerk types, and saving with a version check."""

from __future__ import annotations

import copy
import json
import typing
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, g, jsonify, redirect, render_template, request, url_for
from pydantic import BaseModel

from generator.data.models import STAGE_NAMES, Project
from generator.errors import OutputError
from generator.render.filters import yuan
from generator.web import forms, merge, wording
from generator.web.audit import FieldChange
from generator.web.security import (
    audit,
    community_or_404,
    login_required,
    note_failed_save,
    project_or_404,
    record_upload,
    store,
)
from generator.web.store import Loaded, candidate_findings, findings_of

bp = Blueprint("edit", __name__)


@dataclass
class Block:
    kind: str
    """fields or table."""
    title: str
    inputs: list[forms.Input]
    prefix: str = ""
    columns: tuple[str, ...] = ()
    rows: tuple[list[forms.Input], ...] = ()


def _blocks(section: forms.Section, values: dict[str, Any]) -> list[Block]:
    """The section laid out: groups of fields, and lists as tables with an empty row to add one."""
    out: list[Block] = []
    loose: list[forms.Input] = []
    for name in section.fields:
        info = Project.model_fields[name]
        base, _ = forms.unwrap(info.annotation)
        if isinstance(base, type) and issubclass(base, BaseModel):
            out.append(Block("fields", info.title or name, forms.inputs(base, values.get(name), name)))
            for sub, sub_info in base.model_fields.items():
                inner, _ = forms.unwrap(sub_info.annotation)
                if typing.get_origin(inner) is list and forms.is_record_list(inner):
                    model = typing.get_args(inner)[0]
                    out.append(_table(model, (values.get(name) or {}).get(sub), f"{name}.{sub}",
                                      sub_info.title or sub))
        elif typing.get_origin(base) is list and forms.is_record_list(base):
            out.append(_table(typing.get_args(base)[0], values.get(name), name, info.title or name))
        else:
            loose.extend(i for i in forms.inputs(Project, values, "") if i.name == name)
    if loose:
        out.insert(0, Block("fields", section.title, loose))
    return out


def _table(model: type[BaseModel], values: Any, prefix: str, title: str) -> Block:
    rows = forms.rows(model, values, prefix)
    columns = tuple(i.label for i in rows[0])
    return Block("table", title, [i for row in rows for i in row], prefix, columns, tuple(rows))


def _current(now: Loaded, community_id: str) -> dict[str, Any]:
    project = now.data.projects[community_id]
    return project.model_dump(mode="python", exclude_unset=True)


def _section(key: str) -> forms.Section:
    if key not in forms.BY_KEY:
        abort(404)
    return forms.BY_KEY[key]


def _page(now: Loaded, community_id: str, section: forms.Section, values: dict[str, Any], version: str,
          model_errors: dict[str, list[str]], findings: list[Any], conflict: str = "",
          saved: bool = False, status: int = 200, clashes: dict[str, tuple[str, str]] | None = None,
          base: dict[str, str] | None = None, notes: list[str] | None = None) -> Any:
    project = now.data.projects.get(community_id)
    if section.key == "acceptance" and project is not None and project.at_least("completed") \
            and not (values.get("acceptance") or {}).get("results") and project.items:
        # 分项验收 starts from the budget lines: each item once, its result left to choose.
        items = dict.fromkeys(ln.item for ln in project.items)
        values = {**values, "acceptance": {**(values.get("acceptance") or {}), "results": [{"item": i} for i in items]}}
    blocks = _blocks(section, values)
    every = [i for b in blocks for i in b.inputs]
    for i in every:
        if i.name == "street_office":
            _office_input(now, community_id, i)
    if section.key == "acceptance" and project is not None and not project.at_least("completed"):
        for i in every:  # nothing to accept yet: nothing is 必填 before the work is done
            i.required = False
    mine = [f for f in findings if forms.section_of(forms.finding_key(f)) == section.key]
    # The budget as a whole (BUDGET-MATCH) is shown beside its total, in the bar that stays in view.
    bar = [(f.severity, f.message) for f in mine if section.key == "budget" and forms.finding_key(f) == "items"]
    mine = [f for f in mine if not (section.key == "budget" and forms.finding_key(f) == "items")]
    loose = [*(notes or []), *forms.attach(every, mine, model_errors)]
    data = now.data
    catalogue = [(cat.name, cat.items) for cat in data.catalogue.categories]
    if base is None:
        base = merge.texts(every)
    signers = _signers(now, project) if section.key == "acceptance" and project is not None else []
    return render_template(
        "edit.html", community=data.communities[community_id], section=section, sections=forms.SECTIONS,
        signers=signers,
        blocks=blocks, loose=loose, version=version, conflict=conflict, saved=saved,
        catalogue=catalogue, has_errors=bool(model_errors), clashes=clashes or {}, bar=bar,
        base=json.dumps(base, ensure_ascii=False, sort_keys=True),
    ), status


SIGNER_SOURCES: dict[str, tuple[str, str]] = {
    # each signing body of the acceptance paper: the section that names it, and what the page calls that place
    "street_office": ("basic", "基本情况"), "committee": ("basic", "基本情况"),
    "body": ("management", "长效管理"), "property": ("management", "长效管理"),
    "residents": ("", "验收时现场签字"),
    "design": ("units", "参建单位"), "construction": ("units", "参建单位"), "supervision": ("units", "参建单位"),
    "cost_consulting": ("units", "参建单位"), "utility": ("units", "参建单位"),
    "housing_bureau": ("", "县（区）名录，由市住房城乡建设部门维护"),
}


def _signers(now: Loaded, project: Project) -> list[dict[str, str]]:
    """The 验收单位 as the acceptance paper names them, each with the section where its name is filled in."""
    from generator.documents.project import SIGNATORY_ROLES, signatories

    panel = signatories(now.data, project)
    keys = list(SIGNATORY_ROLES)
    # signatories() gives one row per body, and one per utility: walk the keys in the same order
    out: list[dict[str, str]] = []
    utilities = max(1, len(project.units.utilities))
    expanded = [k for k in keys for _ in range(utilities if k == "utility" else 1)]
    for key, row in zip(expanded, panel, strict=True):
        section, where = SIGNER_SOURCES[key]
        out.append({**row, "section": section, "where": where})
    return out


OFFICE_MOVERS = frozenset({"district", "admin"})
"""Who may say another street office works on a community: the district (its own) and the whole-city
administrator. The street office itself may not hand a community over or take one."""


def offices_of_district(now: Loaded, community_id: str) -> list[str]:
    """The street offices of the community's district, as the project files and the assignments name them."""
    from generator.intake import assignments
    from generator.web.scope import key, table

    district = now.data.communities[community_id].district
    every = now.view(f"offices-by-district:{key(now)}",
                     lambda: assignments.known_offices(now.data, now.offices, table(now)))
    return list(every.get(district, []))


def _office_input(now: Loaded, community_id: str, i: forms.Input) -> None:
    """街道办事处: a choice of the district's street offices for who may change it, shown as it is to others."""
    if g.user.role in OFFICE_MOVERS:
        i.widget = "select"
        i.choices = sorted({*offices_of_district(now, community_id), *([i.value] if i.value else [])})
        i.hint = ("改为另一个街道办事处后，本小区由该街道办事处填报，原街道办事处的账户不再能看到本小区；"
                  "此项修改记入操作记录。")
    else:
        i.widget = "fixed"
        i.required = False  # nothing to fill in here: no 必填 mark
        i.hint = "街道办事处由县（区）住房城乡建设部门修改；如有不对，请联系县（区）。"


def _office_move(now: Loaded, community_id: str, before: Any, after: Any) -> str:
    """Why a change of street office may not be saved ("" when it may); aborts for an account that may not."""
    if after == before:
        return ""
    if g.user.role not in OFFICE_MOVERS:
        note_failed_save(community_id, f"基本情况：街道办事处改为“{after}”，街道办事处的账户不能修改")
        abort(403, description="街道办事处只能由县（区）住房城乡建设部门修改，未保存；如有不对，请联系县（区）")
    if after not in offices_of_district(now, community_id):
        return (f"街道办事处“{after}”不是{now.data.communities[community_id].district}已有的街道办事处，"
                "请从列表中选择")
    return ""


def _current_texts(now: Loaded, community_id: str, section: forms.Section) -> dict[str, str]:
    """What the form shows for the project as it is now, by input name."""
    blocks = _blocks(section, _current(now, community_id))
    return merge.texts([i for b in blocks for i in b.inputs])


@bp.route("/projects/<community_id>/edit/<section>", methods=["GET"])
@login_required
def section(community_id: str, section: str) -> Any:
    now = project_or_404(community_id)
    sec = _section(section)
    return _page(now, community_id, sec, _current(now, community_id), store().version(now, community_id),
                 {}, findings_of(now, community_id), saved=request.args.get("saved") == "1")


@bp.route("/projects/<community_id>/preview/<section>", methods=["POST"])
@login_required
def preview(community_id: str, section: str) -> Any:
    """The form as it stands, checked by the core: model errors, the rules' findings, the funding split."""
    from generator.web.pages import funding_view

    now = project_or_404(community_id)
    sec = _section(section)
    parsed = forms.parse(sec, request.form)
    values = forms.merged(_current(now, community_id), sec, parsed)
    project, errors = forms.validate(values)
    out: dict[str, Any] = {"errors": errors, "findings": [], "funding": None,
                           "amounts": forms.form_amounts(request.form)}
    if project is not None:
        out["findings"] = [{"key": forms.finding_key(f), "severity": f.severity, "message": f.message}
                           for f in candidate_findings(now, project)
                           if forms.section_of(forms.finding_key(f)) == sec.key]
        funding = funding_view(now, project)
        if funding:
            out["funding"] = {"total": yuan(funding["total"]),
                              "parties": [[name, yuan(amount)] for name, amount in funding["parties"]],
                              "per_household": yuan(funding["per_household"])}
    return jsonify(out)


def _conflict(community_id: str, loaded_version: str, path_mtime: float) -> str:
    """Who changed the project since the form was loaded, what and when, in a clerk's words."""
    events = [e for e in audit().events(community_id) if e.action == "save"]
    since = next((i for i in range(len(events) - 1, -1, -1) if events[i].version_after == loaded_version), None)
    newer = events[since + 1:] if since is not None else [e for e in events if e.version_before == loaded_version]
    if not newer:
        import datetime as dt

        when = dt.datetime.fromtimestamp(path_mtime).strftime("%Y-%m-%d %H:%M:%S")
        return f"本小区的资料已于{when}在网页之外被修改（例如由管理员直接更新）。"
    parts = []
    for e in newer:
        fields = "；".join(f"{c.field}：{STAGE_NAMES.get(c.before, c.before)} → {STAGE_NAMES.get(c.after, c.after)}"
                          for c in e.changes) or "无字段变化"
        parts.append(f"{e.user}于{e.local_time}修改了 {fields}")
    return "。".join(parts) + "。"


def _some(reasons: list[str], most: int = 5) -> str:
    """The first few reasons for the audit record (a refused upload may list hundreds)."""
    return "；".join(reasons[:most]) + (" 等" if len(reasons) > most else "")


@bp.route("/projects/<community_id>/edit/<section>", methods=["POST"])
@login_required
def save(community_id: str, section: str) -> Any:
    now = project_or_404(community_id)
    sec = _section(section)
    loaded_version = request.form.get("version", "")
    st = store()
    with st.save_lock:
        now = st.current()
        path = st.project_path(now, community_id)
        version = st.version(now, community_id)
        current = _current(now, community_id)
        theirs = _current_texts(now, community_id, sec)
        base = merge.posted_base(request.form.get("base", ""))
        posted = merge.with_picks(request.form, theirs) if loaded_version == version else request.form
        unpicked = merge.unpicked(request.form)
        if loaded_version != version:
            # Three-way: fields the clerk left alone take the current version, fields only the
            # clerk changed keep the clerk's value, and where both changed the clerk chooses.
            # Nothing is written now: the clerk sees the result and saves again.
            names = [n for n in theirs if not n.endswith("._delete")]
            result = merge.three_way(base, posted, theirs, names)
            values = forms.merged(current, sec, forms.parse(sec, result.form))
            message = "保存未完成：您打开此页面后，" + _conflict(community_id, loaded_version, path.stat().st_mtime)
            if result.clashes:
                message += (f"您没有改动的栏目已换成当前版本；您和对方都改动的{len(result.clashes)}处栏目已用黄色标出，"
                            "请逐一选择保留哪一个，核对后再点“保存”。")
            else:
                message += "您没有改动的栏目已换成当前版本，您改动的栏目保留了您填写的内容；请核对后再点“保存”。"
            note_failed_save(community_id, f"{sec.title}：他人已先保存（本次据以修改的版本 {loaded_version or '无'}，"
                                           f"当前版本 {version}），未写入，待本人核对后重新保存")
            return _page(now, community_id, sec, values, version, {}, findings_of(now, community_id),
                         conflict=message, status=409, clashes=result.clashes, base=theirs, notes=result.notes)
        if unpicked:
            clashes = {n: (request.form.get(n, ""), theirs.get(n, "")) for n in unpicked}
            note_failed_save(community_id, f"{sec.title}：{len(unpicked)}处冲突栏目未选择保留哪一个")
            values = forms.merged(current, sec, forms.parse(sec, request.form))
            return _page(now, community_id, sec, values, version, {}, findings_of(now, community_id),
                         conflict=f"还有{len(unpicked)}处用黄色标出的栏目没有选择保留哪一个，未保存；请选择后再保存。",
                         status=422, clashes=clashes, base=theirs)
        parsed = forms.parse(sec, posted)
        from generator.intake import project_yaml

        doc = project_yaml.load_for_edit(path)
        values = forms.merged(copy.deepcopy(doc.data), sec, parsed)
        project, errors = forms.validate(values)
        moved = _office_move(now, community_id, doc.data.get("street_office"), values.get("street_office"))
        if moved:
            errors = {**errors, "street_office": [moved]}
            project = None
        if project is None:
            note_failed_save(community_id, f"{sec.title}：填写内容未通过检查（"
                             + _some([f"{forms.field_name(k) or k}：{'、'.join(v)}" for k, v in errors.items()]) + "）")
            return _page(now, community_id, sec, values, version, errors, findings_of(now, community_id),
                         status=422)
        detail = ""
        if values.get("street_office") != doc.data.get("street_office"):
            detail = f"小区改由{values.get('street_office')}填报（原为{doc.data.get('street_office')}）"
        changes = project_yaml.apply(doc, values)
        try:  # the change and its audit record together, or neither (a full disk): the page says which
            if project_yaml.save_recorded(doc, lambda: changes and audit().append(
                    g.user.name, "save", community_id,
                    [FieldChange(c.label, project_yaml.shown(c.before), project_yaml.shown(c.after))
                     for c in changes], version, st.version(now, community_id), detail=detail)):
                st.wrote(path)
        except OutputError as exc:
            st.wrote(path)  # written and put back, or not written: the state reads it again
            note_failed_save(community_id, f"{sec.title}：{exc}")
            abort(503, description=str(exc) if isinstance(exc, project_yaml.NotRecorded) else f"未保存：{exc}")
    return redirect(url_for("edit.section", community_id=community_id, section=section, saved=1))


# ---------------------------------------------------------------- the 填报表 (Excel form) instead of typing


@bp.route("/projects/<community_id>/form.xlsx")
@login_required
def form_file(community_id: str) -> Any:
    """The community's 填报表, pre-filled from its project data, as `gaizao form export` makes it."""
    from generator.intake.form import export_form, form_path
    from generator.web.pages import download

    now = community_or_404(community_id, "edit")  # a community not yet started has its blank form too
    community = now.data.communities[community_id]
    return download(form_path(community).name, export_form(now.data, community))


@bp.route("/projects/<community_id>/form", methods=["POST"])
@login_required
def form_upload(community_id: str) -> Any:
    """A filled 填报表 imported as `gaizao form import` imports it, for this community only."""
    now = project_or_404(community_id)
    upload = request.files.get("form")
    if upload is None or not upload.filename:
        abort(400, description="请选择要上传的填报表（.xlsx）")
    _, problems, changes = import_upload(upload.read(), upload.filename, community_id)
    return render_template("upload.html", community=now.data.communities[community_id], name=upload.filename,
                           problems=problems,
                           changes=changes), 422 if problems else 200


def import_upload(raw: bytes, filename: str, expected: str | None) -> tuple[str, list[str], list[FieldChange]]:
    """One uploaded 填报表 imported as `gaizao form import` imports it: the community it is for,
    what was refused, what changed (audited; the file itself in the upload records). expected: the
    only community it may be for; None: any the account may change."""
    found, problems, changes = _import_upload(raw, filename, expected)
    record_upload(found or expected or "", "填报表", filename, raw, problems, bool(changes))
    if problems:
        note_failed_save(found or expected or "", f"填报表 {filename}" + ("部分" if changes else "") + "未导入："
                         + _some(problems))
    return found, problems, changes


def _import_upload(raw: bytes, filename: str, expected: str | None) -> tuple[str, list[str], list[FieldChange]]:
    import tempfile
    from pathlib import Path

    from generator.errors import DataError
    from generator.intake.assignments import started
    from generator.intake.form_import import import_form, read_form
    from generator.intake.project_yaml import shown
    from generator.intake.workbook_safety import not_xlsx
    from generator.web.permissions import allowed
    from generator.web.scope import offices

    why = not_xlsx(Path("填报表.xlsx"), raw)  # judged by content, whatever the name says
    if why:
        return "", [why], []
    problems: list[str] = []
    changes: list[FieldChange] = []
    st = store()
    with tempfile.TemporaryDirectory() as tmp, st.save_lock:
        # The client's file name is shown, never used as a path.
        path = Path(tmp) / "填报表.xlsx"
        path.write_bytes(raw)
        now = st.current()
        try:
            found, exported, held, _ = read_form(path, now.data)
        except DataError as exc:
            return "", [wording.upload_problem(p) for p in exc.problems], []
        if expected is not None and found != expected:
            return "", ["这份填报表不是本小区的，未导入；请上传从本小区页面下载的填报表"], []
        if not allowed(g.user, "edit", now.data, found, offices(now)):
            # Whether it exists elsewhere is not told: outside the account's scope nothing does.
            return "", ["这份填报表的小区不在您的账户可修改的范围内，未导入"], []
        if not started(now.data, found):
            return "", ["本小区尚未开始填报，未导入；请先在小区页面点“开始填报”，再上传填报表"], []
        office = held.get("street_office")
        if office != exported.get("street_office") and g.user.role not in OFFICE_MOVERS:
            # the form is a way round the 基本情况 page: the same rule holds
            return "", [f"工作表“基本情况” 街道办事处：改为了“{office}”，但街道办事处只能由县（区）住房城乡建设部门"
                        f"修改，未导入；请改回“{exported.get('street_office')}”后再上传，如有不对请联系县（区）"], []
        version = st.version(now, found)
        result = import_form(path, now.data)
        if result.conflict is not None:
            problems.append(wording.conflict(*result.conflict))
        else:
            problems.extend(wording.upload_problem(p) for p in result.problems)
        changes = [FieldChange(c.label, shown(c.before), shown(c.after)) for c in result.changes]
        if result.written:
            audit().append(g.user.name, "save", found, changes, version,
                           st.version(st.current(), found), detail=f"填报表 {filename}")
    return found, problems, changes
