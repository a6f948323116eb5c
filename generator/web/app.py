"""The application factory: the instance folder, the session, the security headers, the blueprints."""

from __future__ import annotations

import logging
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from generator.data import sealed
from generator.data.loader import BUNDLED_DATA
from generator.errors import GaizaoError
from generator.web.accounts import Accounts, Throttle
from generator.web.atrest import data_keyring
from generator.web.audit import AuditLog, UploadLog
from generator.web.batch import PrintJobs
from generator.web.policy import load as load_policy
from generator.web.reviews import ReviewLog
from generator.web.sessions import Sessions
from generator.web.statedb import StateDB
from generator.web.store import CACHE_FILE, CHECK_SECONDS, Store

SECRET_FILE = "secret_key"
_KEY = re.compile(r"[0-9a-f]{64}")
MAX_UPLOAD = 4 * 1024 * 1024
"""Bytes of one request at most: a filled form workbook is well under 1 MB."""

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def check_instance(data_dir: Path, instance: Path) -> None:
    """Accounts and the audit log never live in the data folder, which is shared and copied."""
    data_dir, instance = data_dir.resolve(), instance.resolve()
    if instance == data_dir or instance.is_relative_to(data_dir):
        raise GaizaoError(f"实例文件夹 {instance} 不能在数据文件夹 {data_dir} 之内：账户和密钥不能随数据拷贝或提交")


def secret_key(instance: Path) -> str:
    """The session signing key of this instance, made on first use and readable only by its owner. A key
    file that is empty or damaged is made afresh: the cookie signs only a session's random key, so the
    one thing lost is the open logins (every login failing its CSRF check would be worse)."""
    path = instance / SECRET_FILE
    try:
        key = path.read_text(encoding="ascii").strip() if path.is_file() else ""
    except (OSError, UnicodeDecodeError):
        key = ""
    if _KEY.fullmatch(key):
        return key
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fresh = path.with_name(f".{SECRET_FILE}.{os.getpid()}.tmp")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    if path.exists() or path.is_symlink():
        logging.getLogger("gaizao.web").warning("%s 为空或已损坏，已重新生成会话密钥（已登录的用户须重新登录）", path)
    os.replace(fresh, path)
    return key


def create_app(data_dir: Path | None = None, instance: Path | None = None,
               config: dict[str, Any] | None = None) -> Flask:
    """The web app over a data folder (the bundled one by default) and an instance folder."""
    data_dir = (data_dir or BUNDLED_DATA).resolve()
    instance = (instance or Path("instance")).resolve()
    check_instance(data_dir, instance)
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=True)
    app.config.update(
        SECRET_KEY=secret_key(instance),
        SESSION_COOKIE_NAME="gaizao_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        IDLE_TIMEOUT=None,  # a timedelta overrides the 安全管理员's setting (tests)
        MAX_CONTENT_LENGTH=MAX_UPLOAD,
        BEHIND_HTTPS=False,
        THROTTLE_ACCOUNT=None,  # None: the security settings' lockout count and time
        THROTTLE_LOCK=None,
        THROTTLE_ADDRESS=20,
        THROTTLE_WINDOW=900.0,
        PASSWORD_HASHER=None,  # argon2id at argon2-cffi's default costs; tests pass a cheaper one
        DATA_CHECK_SECONDS=CHECK_SECONDS,  # how soon a file changed in place outside the app is seen
    )
    app.config.update(config or {})
    if app.config["BEHIND_HTTPS"]:
        # Behind a reverse proxy that ends TLS: cookies only over HTTPS, the client's scheme and address from it.
        app.config["SESSION_COOKIE_SECURE"] = True
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    db = StateDB.of(instance)  # made, migrated, old files imported; a damaged file stops here with a message
    if load_policy(db).level >= 3 and not app.config["BEHIND_HTTPS"]:
        raise GaizaoError("已启用等级保护第三级安全措施，网页服务只能在 HTTPS 反向代理之后运行：请配置代理后加 "
                          "--behind-https 启动（见 README 的“放在 HTTPS 之后”）")
    # The data folder's sealed resident files are opened with this instance's key (第三级).
    sealed.attach(data_dir, data_keyring(db))
    app.extensions["gaizao"] = {
        "store": Store(data_dir, instance / CACHE_FILE, app.config["DATA_CHECK_SECONDS"]),
        "accounts": Accounts(instance, app.config.get("PASSWORD_HASHER")),
        "audit": AuditLog(instance),
        "uploads": UploadLog(instance),
        "reviews": ReviewLog(instance),
        "sessions": Sessions(db),
        "prints": PrintJobs(instance / "prints", db),
        "throttle": Throttle(db, app.config["THROTTLE_ACCOUNT"], app.config["THROTTLE_ADDRESS"],
                             app.config["THROTTLE_WINDOW"], app.config["THROTTLE_LOCK"]),
    }

    from generator.render.filters import yuan
    from generator.web import (
        admin,
        api,
        auth,
        batch,
        city,
        edit,
        exports,
        pages,
        photos,
        review,
        roster,
        security,
        start,
        votes,
    )

    security.install(app)
    app.jinja_env.filters["money"] = yuan
    for blueprint in (auth.bp, pages.bp, edit.bp, photos.bp, api.bp, roster.bp, review.bp, batch.bp, admin.bp,
                      city.bp, start.bp, exports.bp, votes.bp):
        app.register_blueprint(blueprint)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if "user" in g:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.before_request
    def no_odd_paths() -> None:
        # Every route takes ids matched against the data set; a path with dots or backslashes
        # never names anything and is refused before a view sees it.
        if ".." in request.path or "\\" in request.path or "\x00" in request.path:
            abort(404)

    return app
