"""The JSON API: the same accounts, the same permission check, the same documents as the pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, g, jsonify, request

from generator.web import listing
from generator.web.auth import attempt
from generator.web.pages import download, make_packet, review_filter, send_document, summary
from generator.web.security import community_or_404, loaded, login_required

bp = Blueprint("api", __name__, url_prefix="/api")


def _plain(value: Any) -> Any:
    """JSON of a project: money and quantities as exact decimal strings, dates ISO."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _summary_json(info: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in info.items() if k not in ("errors", "warnings", "documents")}
    out["errors"] = [f.as_dict() for f in info["errors"]]
    out["warnings"] = [f.as_dict() for f in info["warnings"]]
    out["documents"] = [{"kind": a.kind.key, "name": a.kind.name, "available": a.reason is None,
                         "reason": a.reason} for a in info["documents"]]
    return out


@bp.route("/login", methods=["POST"])
def login() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("username"), str) \
            or not isinstance(body.get("password"), str):
        abort(400, description="请求体应为 JSON：{\"username\": …, \"password\": …}")
    user = attempt(body["username"].strip(), body["password"])
    return jsonify({"username": user.name, "role": user.role, "unit": user.unit})


@bp.route("/projects")
@login_required
def projects() -> Any:
    now = loaded()
    page = listing.select(now, g.user, listing.query_of(request.args), review_filter(now))
    return jsonify({"projects": [_summary_json(summary(now, c.id)) for c in page.rows], "total": page.total,
                    "page": page.query.page, "pages": page.pages, "per_page": page.query.per_page})


@bp.route("/projects/<community_id>")
@login_required
def project(community_id: str) -> Any:
    now = community_or_404(community_id)
    out = _summary_json(summary(now, community_id))
    p = now.data.projects.get(community_id)
    out["project"] = _plain(p.model_dump(mode="python", exclude_unset=True)) if p else None
    return jsonify(out)


@bp.route("/projects/<community_id>/documents/<kind>")
@login_required
def document_file(community_id: str, kind: str) -> Any:
    return send_document(community_id, kind)


@bp.route("/projects/<community_id>/packet.zip")
@login_required
def packet_file(community_id: str) -> Any:
    now = community_or_404(community_id)
    return download(*make_packet(now, community_id))
