"""Logging in and out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from generator.web.accounts import User
from generator.web.security import accounts, audit, end_session, start_session, throttle

bp = Blueprint("auth", __name__)


def attempt(name: str, password: str) -> User:
    """The account for a name and password; 429 while throttled, 401 on a wrong pair."""
    address = request.remote_addr or "?"
    if throttle().blocked(name, address):
        audit().append(name, "login-throttled", detail=address)
        abort(429)
    user = accounts().verify(name, password)
    if user is None:
        throttle().failed(name, address)
        audit().append(name, "login-failed", detail=address)
        abort(401, description="用户名或密码错误，或账户已停用")
    throttle().succeeded(name)
    audit().append(user.name, "login", detail=address)
    start_session(user)
    return user


def _safe_next(target: str | None) -> str:
    """Only a path on this server: never a full address another site could be put in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        expired = bool(g.get("expired"))
        return render_template("login.html", next=request.args.get("next", ""), expired=expired)
    name = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        attempt(name, password)
    except Exception as exc:
        code = getattr(exc, "code", None)
        if code in (401, 429):
            message = getattr(exc, "description", "")
            return render_template("login.html", next=request.form.get("next", ""), username=name,
                                   error=message if code == 401 else "登录失败次数过多，请15分钟后再试"), code
        raise
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    if "user" in g:
        audit().append(g.user.name, "logout")
    end_session()
    return redirect(url_for("auth.login"))
