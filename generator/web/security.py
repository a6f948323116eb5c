"""Who is asking: the session's account, its expiry, CSRF tokens, and errors as pages or JSON."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException

from generator.errors import DataError
from generator.web.accounts import Accounts, Throttle, User
from generator.web.audit import AuditLog, UploadLog
from generator.web.permissions import Action, allowed
from generator.web.policy import Policy
from generator.web.privacy import mask_value, masked_for
from generator.web.scope import offices
from generator.web.sessions import Sessions
from generator.web.statedb import StateError
from generator.web.store import Loaded, Loading, Store

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
    429: "请求过多，请稍后再试",
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


def note_failed_save(community: str, why: str) -> None:
    """Record a save that was refused (a conflict, a check, a full disk) with the reason; a record that cannot
    be written either (the instance database's disk is full too) is logged, and the answer stays the refusal."""
    try:
        audit().append(g.user.name, "save-failed", community, detail=why[:1000], outcome="失败")
    except StateError as exc:
        current_app.logger.error("未能记录保存失败（%s）：%s", why, exc)


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
    """A fresh session for a logged-in account (a new key and CSRF token; nothing kept from before); the
    account's oldest sessions beyond the limit end, and the last login is shown once."""
    session.clear()
    session.permanent = True
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    address = request.remote_addr or "?"
    session["sid"] = sessions().start(user.name, address, lifetime)
    ended = sessions().trim(user.name, accounts().policy().max_sessions)
    if ended:
        audit().append(user.name, "session-limit", detail=f"结束{ended}个较早的会话")
    if user.last_login:
        when = dt.datetime.fromtimestamp(user.last_login).strftime("%Y-%m-%d %H:%M")
        session["last_login"] = f"上次登录：{when}，来自 {user.last_address or '未知地址'}"
    accounts().logged_in(user.name, address, time.time())
    csrf_token()


def password_due(user: User, policy: Policy, now: float) -> tuple[bool, int | None]:
    """Whether the password must be changed now, and in how many days it expires when that is soon."""
    if user.must_change:
        return True, None
    if not policy.max_age_days or not user.password_set:
        return False, None
    left = user.password_set + policy.max_age_days * 86400 - now
    if left <= 0:
        return True, None
    days = int(left // 86400)
    return False, days if days < policy.warn_days else None


PASSWORD_FREE = frozenset({"auth.password", "auth.logout", "static"})
"""What an account whose password must be changed may still reach."""


def end_session() -> None:
    """Log out: the session ends on the server, so a copy of the cookie kept elsewhere ends with it."""
    token = session.get("sid")
    if isinstance(token, str):
        sessions().end(token)
    session.clear()


def _load_user() -> None:
    policy = accounts().policy()  # one read of the settings per request
    if policy.level >= 3 and not request.is_secure and request.endpoint != "static":
        # 第三级 set while the server runs: nothing is served over plain HTTP, the login page included.
        abort(403, description="已启用第三级安全措施，只能经 HTTPS 访问；请联系系统管理员")
    token = session.get("sid")
    if not isinstance(token, str):
        return  # not logged in (a cookie from before server-side sessions logs nobody in either)
    found = sessions().get(token)
    user = accounts().get(found.user) if found is not None else None
    now = time.time()
    fixed = current_app.config["IDLE_TIMEOUT"]
    idle = fixed.total_seconds() if fixed is not None else policy.idle_minutes * 60.0
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
    due, g.password_days = password_due(user, policy, now)
    g.password_first = due  # the menu offers nothing else meanwhile
    if due and request.endpoint not in PASSWORD_FREE:
        if is_api():
            abort(403, description="须先在网页上修改密码（管理员设置的密码或已过期的密码）")
        g.password_redirect = True


def _password_first() -> Any:
    # Set by _load_user; a redirect there would come before the CSRF check, which is fine: a GET.
    if g.get("password_redirect"):
        return redirect(url_for("auth.password"))
    return None


def _check_csrf() -> None:
    if request.method not in UNSAFE:
        return
    if request.path == "/api/login":
        # JSON only: a cross-site page cannot send application/json without the browser asking first.
        if not request.is_json:
            abort(415)
        return
    if g.get("expired"):
        # The session ended on the server (logout, timeout, a login elsewhere beyond the limit): say so,
        # rather than blame the page's CSRF token.
        abort(401, description="登录已失效（已退出、长时间未操作，或同一账户在别处登录），请重新登录后再提交")
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
    except Loading as exc:  # the first read of a large folder: say so and how far it got, and look again
        response = make_response(error_response(503, exc.message))
        response.headers["Refresh"] = response.headers["Retry-After"] = str(LOADING_REFRESH)
        abort(response)
    except DataError as exc:
        abort(503, description="数据文件夹有错误，暂时无法使用：\n" + str(exc))


LOADING_REFRESH = 3
"""Seconds after which a page that found the data still being read asks again."""


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
    app.before_request(_password_first)
    app.jinja_env.globals["csrf_token"] = csrf_token
    # a resident's name or phone in a recorded change (records from before masking too) shows masked
    app.jinja_env.filters["personal"] = lambda value, field: mask_value(field, str(value))

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


PRINTS_PER_ACCOUNT = 2
"""Print jobs one account may have waiting or running at once."""
PRINTS_OVERALL = 6
"""Print jobs the server keeps waiting or running at once, for everyone: each is LibreOffice for minutes."""


def print_room(user: User) -> None:
    """Refuse a new print job (429, saying why) while the account or the server has enough of them waiting."""
    prints = current_app.extensions["gaizao"]["prints"]
    with prints._lock:
        pending = [job.owner for job in prints._live.values() if job.state in ("queued", "running")]
    per_account = current_app.config.get("PRINTS_PER_ACCOUNT", PRINTS_PER_ACCOUNT)
    overall = current_app.config.get("PRINTS_OVERALL", PRINTS_OVERALL)
    if pending.count(user.name) >= per_account:
        abort(429, description=f"您已有{pending.count(user.name)}个打印任务在排队或进行中，请等其完成后再提交新的任务")
    if len(pending) >= overall:
        abort(429, description=f"服务器上已有{len(pending)}个打印任务在排队或进行中，请稍后再提交")


def note_personal_download(community_id: str, kinds: list[str]) -> None:
    """Record a download of documents that print residents (the door-to-door 征询表, the ballots), by whom,
    from where, and whether in full (the street office) or masked (anyone else)."""
    from generator.documents.kinds import KINDS

    full = [KINDS[k].name for k in kinds if k in KINDS and KINDS[k].residents == "full"]
    if full:
        note_residents_download(community_id, "personal-download", "、".join(full), not masked_for(g.user),
                               "住户姓名、电话")


def note_residents_download(community_id: str, action: str, what: str, full: bool, personal: str = "住户姓名") -> None:
    """Record a download that names residents, by whom and whether in full or masked (含…/已遮蔽…)."""
    how = f"含{personal}" if full else f"已遮蔽{personal}"
    audit().append(g.user.name, action, community_id, detail=f"{how}：{what}")
