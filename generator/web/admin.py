"""The three administrators' pages. The 系统管理员's users page: what `gaizao users` does, in the browser
(add, disable, enable, reset a password, assign a role and unit), each change in the audit log as the
command records it. The 安全管理员's security settings and unlocks. The 审计管理员's audit log: read,
verified and exported, never changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from generator.errors import DataError
from generator.web.accounts import DUTIES, ROLES, AccountError, User
from generator.web.audit import workbook
from generator.web.permissions import Capability, may
from generator.web.policy import LABELS, PolicyError, as_dict
from generator.web.policy import save as save_policy
from generator.web.security import accounts, audit, login_required, store, throttle

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _admin(capability: Capability = "admin") -> User:
    user: User = g.user
    if not may(user, capability):
        abort(404)
    return user


def _units() -> dict[str, list[str]]:
    """The units the data knows, per role, offered as suggestions (any unit may still be typed)."""
    try:
        data = store().current().data
    except DataError:  # the accounts are managed whatever state the data folder is in
        return {role: [] for role in ROLES}
    offices = sorted({p.street_office for p in data.projects.values()})
    return {"street": offices, "district": list(data.districts), "city": [data.programme.city],
            "admin": []}


def _page(message: str = "", error: str = "", status: int = 200, form: dict[str, str] | None = None) -> Any:
    units = _units()
    known = {u for values in units.values() for u in values}
    return render_template("admin_users.html", users=accounts().all(), roles=ROLES, duties=DUTIES, units=units,
                           known=known, message=message, error=error, form=form or {}), status


@bp.route("/users")
@login_required
def users() -> Any:
    _admin()
    done = request.args.get("done", "")
    return _page(message=done if done in DONE.values() else "")


DONE = {
    "add": "已新增账户", "disable": "已停用账户", "enable": "已启用账户", "passwd": "已重设密码",
    "assign": "已修改角色和单位",
}


@bp.route("/users", methods=["POST"])
@login_required
def add() -> Any:
    me = _admin()
    form = {k: request.form.get(k, "") for k in ("name", "role", "unit")}
    name, role, unit = form["name"].strip(), form["role"], form["unit"].strip()
    password = request.form.get("password", "")
    if password != request.form.get("password2", ""):
        return _page(error="两次输入的密码不一致", status=422, form=form)
    try:
        accounts().add(name, role, unit, password, must_change=True)
    except AccountError as exc:
        return _page(error=str(exc), status=422, form=form)
    audit().append(me.name, "user-add", detail=f"{name} {role} {unit}")
    return redirect(url_for("admin.users", done=DONE["add"]))


@bp.route("/users/<name>/<action>", methods=["POST"])
@login_required
def change(name: str, action: str) -> Any:
    """disable, enable, passwd (a new password) or assign (a role and unit) of one account."""
    me = _admin()
    target = accounts().get(name)
    if action not in DONE or action == "add" or target is None:
        abort(404)
    if target.duty and target.name != me.name:
        return _page(error=f"{name}是{DUTIES[target.duty]}：三员账户只能在服务器上用 gaizao users 命令管理", status=422)
    if name == me.name and action in ("disable", "assign"):
        return _page(error="不能停用自己的账户或修改自己的角色，以免无人能管理账户；请由另一位管理员操作", status=422)
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
                return _page(error="两次输入的密码不一致", status=422)
            accounts().set_password(name, password, must_change=name != me.name)
            detail = name
        else:
            role, unit = request.form.get("role", ""), request.form.get("unit", "").strip()
            accounts().assign(name, role, unit)
            detail = f"{name} {role} {unit}"
    except AccountError as exc:
        return _page(error=f"{name}：{exc}", status=422)
    audit().append(me.name, f"user-{action}", detail=detail)
    return redirect(url_for("admin.users", done=DONE[action]))


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
    return render_template("security.html", values=as_dict(accounts().policy()), labels=LABELS, locks=locks,
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
