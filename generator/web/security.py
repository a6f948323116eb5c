"""Who is asking: the session's account, its expiry, CSRF tokens, and errors as pages or JSON."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, abort, current_app, g, jsonify, redirect, render_template, request, session, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException

from generator.errors import DataError
from generator.web.accounts import Accounts, Throttle, User
from generator.web.audit import AuditLog
from generator.web.permissions import Action, allowed
from generator.web.store import Loaded, Store

F = TypeVar("F", bound=Callable[..., Any])
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

MESSAGES = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限执行此操作",
    404: "找不到该页面或小区",
    405: "不支持此请求方式",
    409: "操作与当前数据冲突",
    413: "上传的内容过大",
    415: "请求格式不受支持",
    429: "登录失败次数过多，请稍后再试",
    500: "服务器内部错误",
    503: "数据文件夹暂时无法读取",
}


def store() -> Store:
    return cast(Store, current_app.extensions["gaizao"]["store"])


def accounts() -> Accounts:
    return cast(Accounts, current_app.extensions["gaizao"]["accounts"])


def audit() -> AuditLog:
    return cast(AuditLog, current_app.extensions["gaizao"]["audit"])


def throttle() -> Throttle:
    return cast(Throttle, current_app.extensions["gaizao"]["throttle"])


def is_api() -> bool:
    return request.path.startswith("/api/")


def csrf_token() -> str:
    """The session's CSRF token, made on first use; every form and script request sends it back."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def start_session(user: User) -> None:
    """A fresh session for a logged-in account (a new CSRF token; nothing kept from before)."""
    session.clear()
    session.permanent = True
    session["user"] = user.name
    session["since"] = time.time()
    session["seen"] = time.time()
    csrf_token()


def _load_user() -> None:
    name = session.get("user")
    if not isinstance(name, str):
        return
    user = accounts().get(name)
    now = time.time()
    idle = current_app.config["IDLE_TIMEOUT"].total_seconds()
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    since, seen = session.get("since", 0), session.get("seen", 0)
    # A disabled account, a changed password, a long pause or a long day ends the session,
    # checked here as well as by the cookie's own expiry, which a client may ignore.
    if user is None or user.disabled or since < user.changed or now - seen > idle or now - since > lifetime:
        session.clear()
        g.expired = True
        return
    session["seen"] = now
    g.user = user


def _check_csrf() -> None:
    if request.method not in UNSAFE:
        return
    if request.path == "/api/login":
        # JSON only: a cross-site page cannot send application/json without the browser asking first.
        if not request.is_json:
            abort(415)
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        abort(400, description="页面已过期或请求来源不明（CSRF 校验失败），请刷新页面后重试")


def login_required(view: F) -> F:
    """Views for logged-in accounts only: others are sent to the login page (the API answers 401)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if "user" not in g:
            if is_api():
                abort(401)
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def loaded() -> Loaded:
    """The data set now; a folder that does not load is a 503 naming its problems."""
    try:
        return store().current()
    except DataError as exc:
        abort(503, description="数据文件夹有错误，暂时无法使用：\n" + str(exc))


def community_or_404(community_id: str, action: Action = "view") -> Loaded:
    """The data set when the account may do this to the community; 404 otherwise, whatever it is."""
    now = loaded()
    user: User = g.user
    if not allowed(user, action, now.data, community_id, now.offices):
        if action == "edit" and allowed(user, "view", now.data, community_id, now.offices):
            abort(403, description="您的账户只能查看、不能修改此小区的资料")
        abort(404)
    return now


def project_or_404(community_id: str) -> Loaded:
    """The data set when the account may change the community and it has project data; 404 otherwise."""
    now = community_or_404(community_id, "edit")
    if community_id not in now.data.projects:
        abort(404)
    return now


def project_upload(community_id: str, field: str, missing: str) -> tuple[Loaded, FileStorage, bytes]:
    """The data set, the file sent in a form field and its bytes, for an upload that changes a
    project in scope: 404 out of scope or without project data, 400 when no file was sent."""
    now = project_or_404(community_id)
    sent = request.files.get(field)
    if sent is None or not sent.filename:
        abort(400, description=missing)
    return now, sent, sent.read()


def error_response(code: int, message: str) -> Response | tuple[Any, int]:
    if is_api():
        return jsonify({"error": message, "status": code}), code
    return render_template("error.html", code=code, message=message), code


def _size_limit() -> None:
    # A view may take more than the app's limit (many files at once) by saying so in its
    # max_content_length; set before anything reads the body, the CSRF check included.
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_content_length", None)
    if isinstance(limit, int):
        request.max_content_length = limit


def install(app: Flask) -> None:
    """The hooks every request passes through."""
    app.before_request(_size_limit)
    app.before_request(_load_user)
    app.before_request(_check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = exc.code or 500
        default = MESSAGES.get(code, exc.name)
        message = exc.description if exc.description and not exc.description.isascii() else default
        return error_response(code, message)

    @app.errorhandler(Exception)
    def internal(exc: Exception) -> Any:
        app.logger.exception("internal error")
        return error_response(500, f"{MESSAGES[500]}：{type(exc).__name__}")
