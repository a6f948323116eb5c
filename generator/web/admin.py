"""The three administrators' pages. The 系统管理员's users page: what `gaizao users` does, in the browser
(add, disable, enable, reset a password, assign a role and unit), each change in the audit log as the
command records it. The 安全管理员's security settings and unlocks. The 审计管理员's audit log: read,
verified and exported, never changed."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from generator.data import sealed
from generator.errors import DataError
from generator.web import account_sheet
from generator.web.accounts import DUTIES, ROLES, AccountError, User
from generator.web.audit import workbook
from generator.web.permissions import Capability, may
from generator.web.policy import LABELS, PolicyError, as_dict
from generator.web.policy import save as save_policy
from generator.web.security import accounts, audit, login_required, store, throttle
from generator.web.units import Units
from generator.web.units import of_data as units_of_data
from generator.web.units import of_folder as units_of_folder

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _admin(capability: Capability = "admin") -> User:
    user: User = g.user
    if not may(user, capability):
        abort(404)
    return user


def units() -> Units:
    """The units the data knows now (read from the folder itself while the data is loading or has errors)."""
    from generator.web.scope import key, table

    try:
        now = store().current()
    except DataError:  # the accounts are managed whatever state the data folder is in
        try:
            return units_of_folder(store().root)
        except DataError:
            return Units()
    data = now.data
    # once per state of the data and of the assignments: 10,000 communities are read for it
    made: Units = now.view(f"units:{key(now)}", lambda: units_of_data(
        data.districts, data.programme.city, now.offices.values(), table(now).values()))
    return made


PER_PAGE = 50
"""Accounts a page of the users page lists (a city may have hundreds of street offices)."""
ROLE_FILTERS = {**ROLES, **DUTIES}


def _page(message: str = "", error: str = "", status: int = 200, form: dict[str, str] | None = None,
          problems: list[str] | None = None) -> Any:
    known = units()
    q = " ".join(request.args.get("q", "").split())[:40]
    role = request.args.get("role", "")
    role = role if role in ROLE_FILTERS else ""
    total = accounts().search("", "", 0, 0)[1]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    shown, matched = accounts().search(q, role, (page - 1) * PER_PAGE, PER_PAGE)
    pages = max(1, -(-matched // PER_PAGE))
    if page > pages:  # an old link after accounts went: the last page, not an empty one
        page = pages
        shown, matched = accounts().search(q, role, (page - 1) * PER_PAGE, PER_PAGE)
    offices = known.by_role()
    return render_template(
        "admin_users.html", users=shown, roles=ROLES, duties=DUTIES, role_filters=ROLE_FILTERS, units=offices,
        known=known, message=message, error=error, form=form or {}, problems=problems or [], q=q, role=role,
        page=page, pages=pages, matched=matched, total=total), status


DONE = {
    "add": "已新增账户“{}”", "disable": "已停用账户“{}”", "enable": "已启用账户“{}”", "passwd": "已重设账户“{}”的密码",
    "assign": "已修改账户“{}”的角色和单位",
}
"""What the page says after each change, naming the account."""


@bp.route("/users")
@login_required
def users() -> Any:
    _admin()
    done, who = request.args.get("done", ""), request.args.get("who", "")
    # Only a known action and an existing account are shown: the address cannot put words on the page.
    message = DONE[done].format(who) if done in DONE and accounts().get(who) is not None else ""
    return _page(message=message)


def _unit_problem(role: str, unit: str) -> str:
    return units().problem(role, unit)


@bp.route("/users", methods=["POST"])
@login_required
def add() -> Any:
    me = _admin()
    form = {k: request.form.get(k, "") for k in ("name", "role", "unit", "person", "phone")}
    name, role, unit = form["name"].strip(), form["role"], " ".join(form["unit"].split())
    password = request.form.get("password", "")
    if password != request.form.get("password2", ""):
        return _page(error=f"新增账户“{name}”未成功：两次输入的密码不一致", status=422, form=form)
    why = _unit_problem(role, unit)
    if why:
        return _page(error=f"新增账户“{name}”未成功：{why}", status=422, form=form)
    try:
        accounts().add(name, role, unit, password, must_change=True, person=form["person"], phone=form["phone"])
    except AccountError as exc:
        return _page(error=f"新增账户“{name}”未成功：{exc}", status=422, form=form)
    audit().append(me.name, "user-add", detail=f"{name} {role} {unit}")
    return redirect(url_for("admin.users", done="add", who=name))


@bp.route("/users/<name>/disable", methods=["GET"])
@login_required
def confirm_disable(name: str) -> Any:
    """The question before an account is disabled: who it is and what disabling does."""
    _admin()
    target = accounts().get(name)
    if target is None:
        abort(404)
    return render_template("admin_disable.html", target=target)


@bp.route("/users/<name>/<action>", methods=["POST"])
@login_required
def change(name: str, action: str) -> Any:
    """disable, enable, passwd (a new password) or assign (a role and unit) of one account."""
    me = _admin()
    target = accounts().get(name)
    if action not in DONE or action == "add" or target is None:
        abort(404)
    if target.duty and target.name != me.name:
        return _page(error=f"账户“{name}”是{DUTIES[target.duty]}：三员账户只能在服务器上用 gaizao users 命令管理",
                     status=422)
    if name == me.name and action in ("disable", "assign"):
        return _page(error=f"账户“{name}”是您自己的：不能停用自己的账户或修改自己的角色，以免无人能管理账户；"
                           "请由另一位管理员操作", status=422)
    try:
        if action == "disable":
            accounts().disable(name)
            detail = name
        elif action == "enable":
            accounts().enable(name)
            detail = name
        elif action == "passwd":
            password = request.form.get("password", "")
            if password != request.form.get("password2", ""):
                return _page(error=f"账户“{name}”的密码未重设：两次输入的密码不一致", status=422)
            accounts().set_password(name, password, must_change=name != me.name)
            detail = name
        else:
            role, unit = request.form.get("role", ""), " ".join(request.form.get("unit", "").split())
            why = _unit_problem(role, unit)
            if why:
                return _page(error=f"账户“{name}”的角色和单位未修改：{why}", status=422)
            accounts().assign(name, role, unit)
            detail = f"{name} {role} {unit}"
    except AccountError as exc:
        return _page(error=f"账户“{name}”：{exc}", status=422)
    audit().append(me.name, f"user-{action}", detail=detail)
    return redirect(url_for("admin.users", done=action, who=name))


@bp.route("/users-template.xlsx")
@login_required
def sheet_template() -> Any:
    """The blank accounts sheet."""
    from generator.web.pages import download

    _admin()
    return download("账户表模板.xlsx", account_sheet.template())


PENDING_SECONDS = 1800
"""How long a sheet's first passwords wait in memory for their one download."""
_pending: dict[str, tuple[str, float, bytes, int]] = {}
_pending_lock = threading.Lock()


def _keep(owner: str, payload: bytes, count: int) -> str:
    """Hold a passwords workbook in memory (never on disk, in a URL or a log) until its one download."""
    token = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _pending_lock:
        for key in [k for k, (_, until, _, _) in _pending.items() if until < now]:
            del _pending[key]
        _pending[token] = (owner, now + PENDING_SECONDS, payload, count)
    return token


@bp.route("/users-import", methods=["POST"])
@login_required
def sheet_import() -> Any:
    """Accounts made from an uploaded sheet: all of them, or none with every problem named."""
    me = _admin()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(error="请选择填好的账户表（.xlsx）后再上传", status=400)
    raw = upload.read()
    existing = {u.name for u in accounts().all()}
    try:
        rows = account_sheet.read(raw, units(), existing)
        made = accounts().add_many([r.account for r in rows], must_change=True, generated=True)
    except account_sheet.SheetProblems as exc:
        return _page(error=f"账户表“{upload.filename}”有{len(exc.problems)}处问题，一个账户也没有新增；"
                           "请改正后重新上传：", problems=exc.problems, status=422)
    except AccountError as exc:
        return _page(error=f"账户表“{upload.filename}”未导入，一个账户也没有新增：{exc}", status=422)
    names = "、".join(u.name for u in made)
    audit().append(me.name, "user-import", detail=f"账户表 {upload.filename}：{len(made)}个账户 {names}")
    token = _keep(me.name, account_sheet.passwords(rows), len(made))
    return render_template("admin_imported.html", made=made, token=token, roles=ROLES,
                           minutes=PENDING_SECONDS // 60)


@bp.route("/users-import/passwords", methods=["POST"])
@login_required
def sheet_passwords() -> Any:
    """The first passwords of the accounts just made, once; then they are gone from the server."""
    from generator.web.pages import download

    me = _admin()
    token = request.form.get("token", "")
    with _pending_lock:
        held = _pending.get(token)
        if held is None or held[0] != me.name or held[1] < time.monotonic():
            abort(410, description="初始密码表只能下载一次，已经下载过或已超过30分钟。"
                                   "如未保存，请在账户管理中为这些账户逐一重设密码")
        del _pending[token]
    audit().append(me.name, "user-import-passwords", detail=f"{held[3]}个账户的初始密码表")
    response = download(f"初始密码-{dt.datetime.now():%Y%m%d-%H%M}.xlsx", held[2])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/security", methods=["GET", "POST"])
@login_required
def security() -> Any:
    """The 安全管理员's settings: password rules, lockout, idle timeout, concurrent sessions; and the locks."""
    me = _admin("security")
    error, message, status = "", request.args.get("done", ""), 200
    if request.method == "POST" and request.form.get("level", "").strip() == "3" and not request.is_secure:
        # Level 3 serves nothing over plain HTTP: set here, it would shut everyone out, this page included.
        error, status = "本服务未经 HTTPS 访问，不能改为第三级：请先配置 HTTPS 反向代理并以 --behind-https 启动", 422
    elif request.method == "POST":
        try:
            _, changes = save_policy(accounts().db, {k: request.form.get(k, "") for k in LABELS}, me.name)
        except PolicyError as exc:
            error, status = str(exc), 422
        else:
            if changes:
                audit().append(me.name, "security-settings", detail="；".join(changes))
            return redirect(url_for("admin.security", done="已保存安全设置" if changes else "设置没有变化"))
    locks = [(name, _local(since), _local(until) if until else "须由安全管理员解锁")
             for name, since, until in throttle().locks()]
    policy = accounts().policy()
    # At the 第三级 new resident files are written sealed; the ones from before are sealed by a command on the
    # server (seal-data: minutes for a city's folder, with its own progress and audit record), not by a request.
    plain = len(sealed.plain_files(store().root)) if policy.level >= 3 else 0
    return render_template("security.html", values=as_dict(policy), labels=LABELS, locks=locks, plain=plain,
                           data_dir=store().root, instance=accounts().db.path.parent,
                           message=message if message in ("已保存安全设置", "设置没有变化", "已解锁") else "",
                           error=error), status


@bp.route("/security/unlock/<name>", methods=["POST"])
@login_required
def unlock(name: str) -> Any:
    """End an account's lock after failed logins."""
    me = _admin("security")
    if not throttle().unlock(name):
        abort(404)
    audit().append(me.name, "unlock", detail=name)
    return redirect(url_for("admin.security", done="已解锁"))


AUDIT_PAGE = 500
"""Records the audit page shows, the latest; the workbook holds them all."""


@bp.route("/audit")
@login_required
def audit_page() -> Any:
    """The 审计管理员's view of the audit log: whether the chain is whole, and the latest records."""
    me = _admin("audit")
    verdict = audit().verify()
    audit().append(me.name, "audit-verify", outcome="成功" if verdict.whole else "失败", detail=verdict.message())
    return render_template("audit.html", verdict=verdict, events=list(reversed(audit().events(limit=AUDIT_PAGE))),
                           oldest=audit().oldest(), shown=AUDIT_PAGE)


@bp.route("/audit.xlsx")
@login_required
def audit_export() -> Any:
    """Every audit record as a workbook for the assessor, its first line the chain's verdict."""
    from generator.web.pages import download

    me = _admin("audit")
    verdict = audit().verify()
    audit().append(me.name, "audit-export", detail=f"{verdict.records}条")
    payload = workbook(audit().export_rows(), verdict.message())
    return download(f"操作记录-{dt.datetime.now():%Y%m%d-%H%M}.xlsx", payload)


def _local(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")
