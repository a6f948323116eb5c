"""Logging in and out."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from generator.web.accounts import AccountError, User
from generator.web.security import (
    accounts,
    audit,
    end_session,
    is_api,
    login_required,
    password_due,
    start_session,
    throttle,
)

bp = Blueprint("auth", __name__)


def attempt(name: str, password: str) -> User:
    """The account for a name and password; 429 while the account is locked or the address throttled, 401
    on a wrong pair. Neither answer says whether the account exists."""
    address = request.remote_addr or "?"
    if throttle().blocked(name, address):
        audit().append(name, "login-throttled", outcome="失败")
        abort(429, description=LOCKED)
    user = accounts().verify(name, password)
    if user is None:
        locked = throttle().failed(name, address)
        audit().append(name, "login-failed", outcome="失败")
        if locked:
            audit().append(name, "lock", detail=f"连续登录失败{accounts().policy().lock_after}次")
            abort(429, description=LOCKED)
        abort(401, description="用户名或密码错误，或账户已停用")
    throttle().succeeded(name)
    if accounts().policy().level >= 3:
        # 第三级: the password is the first factor only; the session starts after the TOTP code.
        if is_api():
            abort(403, description="已启用第三级安全措施：须在网页上用密码和动态口令登录，接口不能只凭密码登录")
        session.clear()
        session["pending"] = {"user": user.name, "since": time.time()}
        return user
    audit().append(user.name, "login")
    start_session(user)
    return user


PENDING_SECONDS = 300
"""How long a correct password waits for its TOTP code."""


LOCKED = "登录失败次数过多，已暂时锁定；请稍后再试，或请安全管理员解锁"
"""The same words for an account that exists and one that does not."""

_INVISIBLE = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRIMMED = "".join(chr(c) for c in range(0x21))
"""What the URL standard trims from both ends of an address: C0 controls and the space."""


def safe_next(target: str | None) -> str:
    """Only a path on this server. The address is first read as a browser reads it (tabs and line breaks
    dropped, leading spaces and control characters trimmed, backslashes as slashes), so that nothing a
    browser would send to another site passes as a path here."""
    fallback = url_for("pages.index")
    if not target:
        return fallback
    cleaned = _INVISIBLE.sub("", target).strip(_TRIMMED).replace("\\", "/")
    if _CONTROL.search(cleaned):
        return fallback
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not cleaned.startswith("/") or cleaned.startswith("//"):
        return fallback
    return cleaned


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        expired = bool(g.get("expired"))
        return render_template("login.html", next=request.args.get("next", ""), expired=expired)
    name = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        attempt(name, password)
    except HTTPException as exc:
        if exc.code in (401, 429):
            return render_template("login.html", next=request.form.get("next", ""), username=name,
                                   error=exc.description), exc.code
        raise
    if "pending" in session:
        session["pending"]["next"] = safe_next(request.form.get("next"))
        session.modified = True
        return redirect(url_for("auth.second"))
    return redirect(safe_next(request.form.get("next")))


@bp.route("/login/second", methods=["GET", "POST"])
def second() -> Any:
    """The second factor (第三级): the TOTP code, or a one-time recovery code; enrolment at the first login."""
    import pyotp

    pending = session.get("pending")
    user = accounts().get(pending["user"]) if isinstance(pending, dict) else None
    if user is None or user.disabled or time.time() - float(pending["since"]) > PENDING_SECONDS:  # type: ignore[index]
        session.clear()
        return redirect(url_for("auth.login"))
    address = request.remote_addr or "?"
    secret = user.totp or session.setdefault("enrol", pyotp.random_base32())
    page = {"enrol": not user.totp, "secret": secret, "issuer_account": f"老旧小区改造文书系统:{user.name}"}
    if request.method == "GET":
        return render_template("login_second.html", **page)
    if throttle().blocked(user.name, address):
        audit().append(user.name, "login-throttled", outcome="失败")
        return render_template("login_second.html", error=LOCKED, **page), 429
    code = request.form.get("code", "")
    if user.totp:
        right = accounts().second_factor(user, code)
    else:
        right = code.strip().isdigit() and pyotp.TOTP(secret).verify(code.strip(), valid_window=1)
    if not right:
        locked = throttle().failed(user.name, address)
        audit().append(user.name, "login-failed", outcome="失败", detail="动态口令错误")
        if locked:
            audit().append(user.name, "lock", detail=f"连续登录失败{accounts().policy().lock_after}次")
            return render_template("login_second.html", error=LOCKED, **page), 429
        return render_template("login_second.html", error="动态口令不正确或已过期，请输入验证器上当前的6位数字",
                               **page), 401
    throttle().succeeded(user.name)
    target = str(pending.get("next") or url_for("pages.index"))  # type: ignore[union-attr]
    codes = [] if user.totp else accounts().enrol_totp(user.name, secret)
    if codes:
        audit().append(user.name, "totp-enrol")
    audit().append(user.name, "login", detail="密码和动态口令")
    start_session(accounts().get(user.name) or user)
    if codes:
        return render_template("login_second.html", codes=codes, next=target)
    return redirect(target)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    if "user" in g:
        audit().append(g.user.name, "logout")
    end_session()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    """Change one's own password: forced when an administrator set it or it expired."""
    user: User = g.user
    policy = accounts().policy()
    forced, _ = password_due(user, policy, time.time())
    if request.method == "GET":
        return render_template("password.html", forced=forced, policy=policy)
    old, new = request.form.get("old", ""), request.form.get("password", "")
    error = ""
    if accounts().verify(user.name, old) is None:
        error = "原密码不正确"
    elif new != request.form.get("password2", ""):
        error = "两次输入的新密码不一致"
    elif new == old:
        error = "新密码不能与原密码相同"
    else:
        try:
            accounts().set_password(user.name, new)
        except AccountError as exc:
            error = str(exc)
    if error:
        audit().append(user.name, "password-change", outcome="失败", detail=error)
        return render_template("password.html", forced=forced, policy=policy, error=error), 422
    audit().append(user.name, "password-change")
    fresh = accounts().get(user.name)
    assert fresh is not None
    start_session(fresh)  # the change ended every session of the account, this one included
    session["last_login"] = "密码已修改。"
    return redirect(url_for("pages.index"))
