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
from generator.web.audit import AuditLog, UploadLog
from generator.web.permissions import Action, allowed
from generator.web.scope import offices
from generator.web.sessions import Sessions
from generator.web.statedb import StateError
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


def record_upload(community: str, what: str, filename: str, raw: bytes, problems: list[str],
                  changed: bool) -> None:
    """One uploaded file in the upload records: the account, the community, its checksum, what became of it."""
    if problems:
        outcome = ("部分导入，未导入的：" if changed else "未导入：") + "；".join(problems)
    else:
        outcome = "已导入" if changed else "内容无变化"
    uploads = cast(UploadLog, current_app.extensions["gaizao"]["uploads"])
    uploads.record(g.user.name, community, what, filename, raw, outcome)


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


def sessions() -> Sessions:
    return cast(Sessions, current_app.extensions["gaizao"]["sessions"])


def start_session(user: User) -> None:
    """A fresh session for a logged-in account (a new key and CSRF token; nothing kept from before)."""
    session.clear()
    session.permanent = True
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    session["sid"] = sessions().start(user.name, request.remote_addr or "?", lifetime)
    csrf_token()


def end_session() -> None:
    """Log out: the session ends on the server, so a copy of the cookie kept elsewhere ends with it."""
    token = session.get("sid")
    if isinstance(token, str):
        sessions().end(token)
    session.clear()


def _load_user() -> None:
    token = session.get("sid")
    if not isinstance(token, str):
        return  # not logged in (a cookie from before server-side sessions logs nobody in either)
    found = sessions().get(token)
    user = accounts().get(found.user) if found is not None else None
    now = time.time()
    idle = current_app.config["IDLE_TIMEOUT"].total_seconds()
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    # Logged out, a disabled account, a changed password, a long pause or a long day ends the session,
    # all judged on the server: the cookie holds nothing but the session's key.
    if found is None or user is None or user.disabled or found.since < user.changed \
            or now - found.seen > idle or now - found.since > lifetime:
        if found is not None:
            sessions().end(token)
        session.clear()
        g.expired = True
        return
    sessions().touch(token, found, now)
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
    scope = offices(now)  # a community without a project file: the street office it is assigned to
    if not allowed(user, action, now.data, community_id, scope):
        if action == "edit" and allowed(user, "view", now.data, community_id, scope):
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

    @app.errorhandler(StateError)
    def state_error(exc: StateError) -> Any:
        app.logger.error("%s", exc)
        return error_response(503, str(exc))

    @app.errorhandler(Exception)
    def internal(exc: Exception) -> Any:
        app.logger.exception("internal error")
        return error_response(500, f"{MESSAGES[500]}：{type(exc).__name__}")
