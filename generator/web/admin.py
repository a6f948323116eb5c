"""The administrator's users page: what `gaizao users` does, in the browser (add, disable, enable,
reset a password, assign a role and unit), each change in the audit log as the command records it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from generator.errors import DataError
from generator.web.accounts import ROLES, AccountError, User
from generator.web.permissions import may
from generator.web.security import accounts, audit, login_required, store

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _admin() -> User:
    user: User = g.user
    if not may(user, "admin"):
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
    return render_template("admin_users.html", users=accounts().all(), roles=ROLES, units=units, known=known,
                           message=message, error=error, form=form or {}), status


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
        accounts().add(name, role, unit, password)
    except AccountError as exc:
        return _page(error=str(exc), status=422, form=form)
    audit().append(me.name, "user-add", detail=f"{name} {role} {unit}")
    return redirect(url_for("admin.users", done=DONE["add"]))


@bp.route("/users/<name>/<action>", methods=["POST"])
@login_required
def change(name: str, action: str) -> Any:
    """disable, enable, passwd (a new password) or assign (a role and unit) of one account."""
    me = _admin()
    if action not in DONE or action == "add" or accounts().get(name) is None:
        abort(404)
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
            accounts().set_password(name, password)
            detail = name
        else:
            role, unit = request.form.get("role", ""), request.form.get("unit", "").strip()
            accounts().assign(name, role, unit)
            detail = f"{name} {role} {unit}"
    except AccountError as exc:
        return _page(error=f"{name}：{exc}", status=422)
    audit().append(me.name, f"user-{action}", detail=detail)
    return redirect(url_for("admin.users", done=DONE[action]))
