"""The list of communities as the account filtered it, as a workbook (every cell written as text or number)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import Blueprint, abort, g, request

from generator.data.models import STAGE_NAMES
from generator.render.cells import put
from generator.web import listing
from generator.web.pages import download, review_filter
from generator.web.security import loaded, login_required
from generator.web.store import Loaded

bp = Blueprint("exports", __name__)

COLUMNS = ("编号", "小区名称", "县（区）", "街道办事处", "年度", "户数", "阶段", "错误", "警告")


def workbook(now: Loaded, page: listing.Page) -> bytes:
    """Every community the query matched, one row each, in the list's order."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "小区清单"
    for col, name in enumerate(COLUMNS, 1):
        put(ws, 1, col, name)
    for row, c in enumerate(page.rows_all, 2):
        stage = now.stages.get(c.id)
        errors, warnings = now.counts(c.id)
        values = (c.id, c.name, c.district, now.offices.get(c.id, ""), c.year, c.households,
                  STAGE_NAMES[stage] if stage else "尚无项目资料", errors, warnings)
        for col, value in enumerate(values, 1):
            put(ws, row, col, value)
    for letter, width in zip("ABCDEFGHI", (12, 28, 10, 20, 8, 8, 12, 8, 8), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@bp.route("/list.xlsx")
@login_required
def communities() -> Any:
    """The account's communities under the list's filters, all pages, as a workbook."""
    if not g.user.role:  # the three administrators see project data only through a business role
        abort(404)
    now = loaded()
    query = listing.query_of(request.args)
    page = listing.select(now, g.user, query, review_filter(now))
    return download(f"小区清单-{dt.datetime.now():%Y%m%d-%H%M}.xlsx", workbook(now, page))
