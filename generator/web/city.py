"""The bureaus' pages: the progress dashboard and its JSON, the city and district papers, the
districts' report texts, and the annual plan workbook uploaded, shown and then applied.

Who sees what: a district account its own district (its figures, its report and its texts),
the city and the administrator the whole programme; a street office none of it (404).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from pydantic import ValidationError

from generator.data.loader import describe_error
from generator.data.models import CITY_REPORT, DistrictReport, Narrative
from generator.documents.deadlines import deadlines
from generator.documents.kinds import KINDS, Kind, Target, kinds_of
from generator.documents.progress import STAGE_KEYS, Progress, Stats, stage_labels, stats_dict
from generator.documents.report import Line, rounding_note
from generator.documents.returns import closed_months, due_date, fund_use, month_return, parse_month, return_dict
from generator.errors import DataError, OutputError
from generator.output.pipeline import render_document
from generator.render.filters import percent, q2, wan
from generator.render.wording import wording
from generator.web import charts
from generator.web.audit import FieldChange
from generator.web.pages import DUE_SHOWN, as_pdf, download
from generator.web.permissions import districts_of, whole_programme
from generator.web.security import audit, loaded, login_required, store
from generator.web.store import Loaded, file_version

bp = Blueprint("city", __name__)


@bp.app_template_filter("stat_wan")
def stat_wan(value: Any) -> str:
    """A 万元 figure as the reports' tables print it: 7,475.00."""
    return wan(value, 2)


@bp.app_template_filter("stat_pct")
def stat_pct(value: Any) -> str:
    """A rate as the reports print it: 99.8%, or — when nothing was planned."""
    return "—" if value is None else percent(value)


def _problems(exc: DataError | OutputError, pending: Path, name: str) -> list[str]:
    """An import's problems, the uploaded file named as the clerk named it (never the server's path)."""
    if isinstance(exc, OutputError):
        return [str(exc).replace(str(pending), name)]
    out = []
    for p in exc.problems:
        where = name if str(p.file) == str(pending) else Path(p.file).name
        where += f" 第{p.line}行" if p.line is not None else ""
        out.append(f"{where} {p.field}：{p.problem}" if p.field else f"{where}：{p.problem}")
    return out

NARRATIVE_FIELDS = tuple(Narrative.model_fields)
PENDING = "pending-plan"
"""Instance sub-folder holding an uploaded plan workbook between its preview and its applying."""
PENDING_DAYS = 1
TOKEN = re.compile(r"^[0-9a-f]{32}$")
GENERAL_SHOWN = 50
"""Findings about the programme as a whole listed on the dashboard at most; the rest are counted."""


def _scope(now: Loaded) -> list[str]:
    """The districts the account may see; 404 for an account that sees none."""
    names = districts_of(g.user, now.data)
    if not names:
        abort(404)
    return names


def _stats(now: Loaded) -> Stats:
    return now.stats(_scope(now))


# ---------------------------------------------------------------- the dashboard


@bp.route("/dashboard")
@login_required
def dashboard() -> Any:
    now = loaded()
    s = _stats(now)
    groups = [*s.years, *s.districts]
    parties = now.data.programme.parties.ordered()
    made = now.view("charts:" + s.programme.label, lambda: _charts(now, s, groups))
    years = [gr.year for gr in s.years if gr.year is not None]
    today = dt.date.today()
    names = _scope(now)
    scope = "、".join(names)
    funds = now.view(f"funds:{today}:{scope}", lambda: fund_use(now.data, today, names))
    due = now.view(f"due:{today}:{scope}", lambda: deadlines(now.data, today, names))
    return render_template(
        "dashboard.html", s=s, groups=groups, charts=made,
        stage_keys=STAGE_KEYS, stage_labels=stage_labels(now.data.root), parties=list(parties.items()),
        whole=whole_programme(g.user), years=years, statistics=KINDS["statistics"], general_shown=GENERAL_SHOWN,
        funds=funds, due=due, today=today, due_shown=DUE_SHOWN,
        notes=rounding_notes(wording(now.data.root).say, s, parties),
    )


def rounding_notes(say: Callable[..., str], s: Stats, parties: dict[str, str]) -> dict[str, str]:
    """The 尾差 note under each dashboard table whose printed rows or columns do not add up to
    their printed 合计 (each figure being plain rounding of its own amount), as the reports say it."""
    p, years = s.programme, s.years
    investment, actual = say("report.column_investment"), say("report.column_actual")
    total = say("report.total_line")

    def planned(gr: Progress) -> Decimal:
        return q2(gr.investment_wan)

    def paid(gr: Progress) -> Decimal:
        return gr.paid_total

    def of_groups(column: str, value: Callable[[Progress], Decimal]) -> list[Line]:
        # the progress table's 全部计划 row is the sum of its year rows and of its district rows
        return [Line(say("dashboard.column_of_groups", by_year=by_year, column=column), True,
                     [value(gr) for gr in groups], value(p))
                for by_year, groups in ((True, years), (False, s.districts))]

    def cell(year: int | None, district: str | None) -> Decimal:
        return planned(s.cells[(year, district)]) if year is not None and district is not None else Decimal(0)

    annex = [
        Line(total, False, [planned(gr) for gr in years], planned(p)),
        Line(f"{total}{investment}", True, [planned(d) for d in s.districts], planned(p)),
        *(Line(f"{gr.label}{investment}", True, [cell(gr.year, d.district) for d in s.districts], planned(gr))
          for gr in years),
        *(Line(d.label, False, [cell(gr.year, d.district) for gr in years], planned(d)) for d in s.districts),
    ]
    def source(gr: Progress, kind: str, key: str) -> Decimal:
        return (gr.planned_wan if kind == "planned" else gr.paid_wan).get(key, Decimal(0))

    funds = [
        Line(total, False, [paid(gr) for gr in years], paid(p)),
        Line(say("dashboard.column_budget"), True, [source(p, "planned", k) for k in parties], p.planned_total),
        Line(actual, True, [source(p, "paid", k) for k in parties], p.paid_total),
        *(Line(gr.label, True, [source(gr, "paid", k) for k in parties], gr.paid_total) for gr in years),
        *(Line(name, False, [source(gr, "paid", k) for gr in years], source(p, "paid", k))
          for k, name in parties.items()),
    ]
    return {"progress": rounding_note(say, [*of_groups(investment, planned), *of_groups(actual, paid)]),
            "annex": rounding_note(say, annex), "funds": rounding_note(say, funds)}


def _charts(now: Loaded, s: Stats, groups: list[Any]) -> list[Any]:
    """The dashboard's three charts, drawn once per state of the data and scope."""
    labels = stage_labels(now.data.root)
    names = [labels[k] for k in STAGE_KEYS]
    stage_chart = charts.stacked("各年度、各县（区）小区所处阶段（个）",
                                 [(gr.label, [st.communities for st in gr.stages]) for gr in groups], names)
    rate_chart = charts.rates("开工率、完工率",
                              [(gr.label, [r["started"], r["started_households"], r["finished"],
                                           r["finished_households"]])
                               for gr in groups for r in [gr.rates()]],
                              ["开工率（按小区）", "开工率（按户）", "完工率（按小区）", "完工率（按户）"])
    parties = now.data.programme.parties.ordered()
    fund_chart = charts.pairs("资金：预算筹集与实际到位（万元）",
                              [(parties[k], s.programme.planned_wan.get(k, Decimal(0)),
                                s.programme.paid_wan.get(k, Decimal(0))) for k in parties],
                              ["预算筹集", "实际到位"])
    return [stage_chart, rate_chart, fund_chart]


@bp.route("/api/stats")
@login_required
def api_stats() -> Any:
    """The dashboard's figures; with ?month=2019-06, that month's return (the 进展统计月报's figures)."""
    now = loaded()
    month = request.args.get("month")
    if month is None:
        return jsonify(stats_dict(_stats(now)))
    try:
        chosen = parse_month(month, "month")
    except DataError as exc:
        return jsonify({"error": str(exc)}), 400
    names = _scope(now)
    return jsonify(now.view(f"return:{chosen.key}:{'、'.join(names)}",
                            lambda: return_dict(month_return(now.data, chosen, names), now.data)))


# ---------------------------------------------------------------- the papers of the districts and the city


def _documents(now: Loaded) -> list[tuple[Kind, Target, str]]:
    """Every district and city document the account may download: (kind, target, file name)."""
    names = _scope(now)
    data = now.data
    out = []
    for kind in kinds_of("district", "city"):
        assert kind.targets is not None
        # which years give a report reads every project (seconds at 10,000): once per state of the data
        targets: list[Target] = now.view(f"targets:{kind.key}", functools.partial(kind.targets, data, None))
        for target in targets:
            mine = target.district in names if target.district else whole_programme(g.user)
            if mine:
                out.append((kind, target, Path(kind.where(data, target)).name))
    return out


@bp.route("/reports")
@login_required
def reports() -> Any:
    now = loaded()
    docs = _documents(now)
    names = _scope(now)
    texts = [(year, name, (name, year) in now.data.reports)
             for year in now.data.programme.years for name in names]
    monthly = [k for k in kinds_of("district", "city") if k.monthly and any(d[0] is k for d in docs)]
    months = [(m, due_date(now.data, m)) for m in closed_months(now.data)] if monthly else []
    return render_template("reports.html", docs=docs, texts=texts, whole=whole_programme(g.user),
                           monthly=monthly, months=months)


@bp.route("/reports/file/<kind>")
@login_required
def report_file(kind: str) -> Any:
    """One district or city document, chosen by kind, year and district (全市 for the city's)."""
    now = loaded()
    year = request.args.get("year", "")
    district = request.args.get("district", "")
    month = request.args.get("month")
    if month and "-" in month:  # the reports page's month picker: ?month=2019-06, the year with it
        try:
            chosen = parse_month(month, "month")
        except DataError:
            abort(404)
        year, month = str(chosen.year), str(chosen.month)
    for k, target, name in _documents(now):
        if k.key == kind and str(target.year or "") == year and (target.district or CITY_REPORT) == district:
            if month and k.monthly:  # another month of the year's return: ?month=6
                if not month.isdigit() or not 1 <= int(month) <= 12:
                    abort(404)
                target = replace(target, month=int(month))
                name = Path(k.where(now.data, target)).name
            with store().render_lock:
                payload = render_document(now.data, k, target, now.renderers)
            if request.args.get("format") == "pdf":
                name, payload = as_pdf(name, payload)
            return download(name, payload)
    abort(404)


# ---------------------------------------------------------------- the districts' report texts


def _report_file(now: Loaded, year: int, district: str) -> Path:
    """The report file of a district's year in scope (known to the data set, or where it goes); else 404."""
    if district not in districts_of(g.user, now.data) or year not in now.data.programme.years:
        abort(404)
    known = now.data.sources.get(f"report:{district}:{year}")
    return known if known is not None else store().root / "reports" / str(year) / f"{district}.yaml"


def _text_page(now: Loaded, year: int, district: str, values: dict[str, Any], version: str,
               errors: list[str] | None = None, conflict: str = "", saved: bool = False, status: int = 200) -> Any:
    narrative = values.get("narrative") or {}
    fields = [(key, Narrative.model_fields[key].title, narrative.get(key) or "") for key in NARRATIVE_FIELDS]
    return render_template("report_text.html", year=year, district=district, fields=fields, version=version,
                           errors=errors or [], conflict=conflict, saved=saved), status


@bp.route("/reports/<int:year>/<district>/text", methods=["GET"])
@login_required
def report_text(year: int, district: str) -> Any:
    now = loaded()
    path = _report_file(now, year, district)
    from generator.intake import project_yaml

    doc = project_yaml.load_for_edit(path)
    return _text_page(now, year, district, doc.data, file_version(path), saved=request.args.get("saved") == "1")


@bp.route("/reports/<int:year>/<district>/text", methods=["POST"])
@login_required
def save_report_text(year: int, district: str) -> Any:
    from generator.intake import project_yaml

    now = loaded()
    path = _report_file(now, year, district)
    sent = {key: request.form.get(key, "").replace("\r\n", "\n").strip() for key in NARRATIVE_FIELDS}
    st = store()
    with st.save_lock:
        version = file_version(path)
        header = f"{district}{year}年老旧小区改造工作报告的文字部分；数字以各项目资料为准。"
        doc = project_yaml.load_for_edit(path, header)
        values = copy.deepcopy(doc.data) or {"district": district, "year": year}
        if request.form.get("version", "") != version:
            when = "（文件已被他人或命令行修改）"
            return _text_page(now, year, district, {"narrative": sent}, version,
                              conflict=f"保存被拒绝：您打开此页面后，报告文件已被修改{when}。请核对后再保存。",
                              status=409)
        narrative = dict(values.get("narrative") or {})
        for key, text in sent.items():
            if text:
                narrative[key] = text
            else:
                narrative.pop(key, None)
        if narrative:
            values["narrative"] = narrative
        elif doc.text is None:  # nothing written for a report not yet begun: no file made
            return redirect(url_for("city.report_text", year=year, district=district))
        else:
            values.pop("narrative", None)
        try:
            DistrictReport.model_validate(values)
        except ValidationError as exc:
            errors = [f"{'.'.join(map(str, e['loc']))}：{describe_error(e)}" for e in exc.errors()]
            return _text_page(now, year, district, {"narrative": sent}, version, errors=errors, status=422)
        changes = project_yaml.apply(doc, values, model=DistrictReport)
        try:  # the change and its audit record together, or neither (a full disk): the page says which
            project_yaml.save_recorded(doc, lambda: changes and audit().append(
                g.user.name, "save", f"report:{district}:{year}",
                [FieldChange(c.label, project_yaml.shown(c.before), project_yaml.shown(c.after))
                 for c in changes], version, file_version(path)))
        except OutputError as exc:
            abort(503, description=str(exc) if isinstance(exc, project_yaml.NotRecorded) else f"未保存：{exc}")
    return redirect(url_for("city.report_text", year=year, district=district, saved=1))


# ---------------------------------------------------------------- the annual plan workbook


@bp.app_context_processor
def plan_helpers() -> dict[str, Any]:
    """whole_programme(user): whether the navigation offers the annual plan upload."""
    return {"whole_programme": whole_programme}


def _plan_scope() -> None:
    if not whole_programme(g.user):
        abort(404)


def _pending(token: str) -> Path:
    if not TOKEN.match(token):
        abort(404)
    return Path(current_app.instance_path) / PENDING / f"{token}.xlsx"


@bp.route("/plan")
@login_required
def plan() -> Any:
    _plan_scope()
    return render_template("plan.html", stage="upload")


@bp.route("/plan/preview", methods=["POST"])
@login_required
def plan_preview() -> Any:
    """The uploaded workbook read and checked as `gaizao import` reads it; nothing written yet."""
    from generator.intake.plan_import import import_workbook, plan_changes, read_plan
    from generator.intake.workbook_safety import not_xlsx

    _plan_scope()
    upload = request.files.get("plan")
    if upload is None or not upload.filename:
        abort(400, description="请选择要上传的年度实施计划表（.xlsx）")
    raw = upload.read()
    why = not_xlsx(Path("年度实施计划表.xlsx"), raw)
    if why:
        return render_template("plan.html", stage="upload", problems=[why], name=upload.filename), 422
    root = store().root
    token = secrets.token_hex(16)
    pending = _pending(token)
    pending.parent.mkdir(parents=True, exist_ok=True)
    for stale in pending.parent.glob("*.xlsx"):  # previews never confirmed, after a day
        if time.time() - stale.stat().st_mtime > PENDING_DAYS * 86400:
            stale.unlink(missing_ok=True)
    pending.write_bytes(raw)
    with tempfile.TemporaryDirectory(prefix="gaizao-plan-") as tmp:
        out = Path(tmp) / "communities.yaml"
        try:
            result = import_workbook(pending, root, out=out)
        except (DataError, OutputError) as exc:
            problems = _problems(exc, pending, upload.filename)
            pending.unlink()
            return render_template("plan.html", stage="upload", problems=problems, name=upload.filename), 422
        new = read_plan(out) or []
    old = read_plan(root / "communities.yaml") or []
    changes = plan_changes(old, new)
    return render_template("plan.html", stage="preview", name=upload.filename, token=token, changes=changes,
                           by_year=result.by_year, rows=len(result.rows), carried=result.carried,
                           base=file_version(root / "communities.yaml"), approved=_approved_changed(old, new))


def _approved_changed(old: list[Any], new: list[Any]) -> list[str]:
    """Communities with an approved plan or notice that would print differently (or not at all)
    once the upload is written: those reviews reopen."""
    from generator.web.reviews import current_latest, printed_hash, reviews_of

    latest = current_latest()
    decided = {community_id for (community_id, _), d in latest.items() if d.decision == "pass"}
    after = {c.id: c for c in new}
    now = loaded()
    out = []
    for o in old:
        if o.id not in decided or after.get(o.id) == o or o.id not in now.data.communities:
            continue  # only an approval the upload touches is looked at again
        data = replace(now.data, communities={**now.data.communities, o.id: after[o.id]}) if o.id in after else None
        for review in reviews_of(now, latest, o.id):
            if review.status != "pass":
                continue
            try:
                reopens = data is None or printed_hash(now, data, o.id, review.kind) != review.content
            except Exception:  # noqa: BLE001 - a paper the new row cannot make is a paper that changes
                reopens = True
            if reopens:
                out.append(f"{o.name}（{review.kind_name}）")
    return out


@bp.route("/plan/apply", methods=["POST"])
@login_required
def plan_apply() -> Any:
    """Apply a previewed workbook, unless the plan changed since the preview."""
    from generator.intake.plan_import import import_workbook, plan_changes, read_plan

    _plan_scope()
    pending = _pending(request.form.get("token", ""))
    if not pending.exists():
        abort(404)
    root = store().root
    target = root / "communities.yaml"
    st = store()
    with st.save_lock:
        if request.form.get("base", "") != file_version(target):
            pending.unlink()
            changed = "计划表在预览之后已被修改（网页、命令行或手工），未写入；请重新上传核对"
            return render_template("plan.html", stage="upload", problems=[changed]), 409
        old = read_plan(target) or []
        try:
            import_workbook(pending, root, force=True)
        except (DataError, OutputError) as exc:
            name = request.form.get("name") or "年度实施计划表.xlsx"  # as the clerk named the upload
            return render_template("plan.html", stage="upload", problems=_problems(exc, pending, name)), 422
        finally:
            pending.unlink(missing_ok=True)
        changes = plan_changes(old, read_plan(target) or [])
        audit().append(g.user.name, "plan-import", "communities.yaml",
                       [FieldChange("年度实施计划", "", c) for c in changes], detail=f"{len(changes)}处变化")
    return render_template("plan.html", stage="done", changes=changes)
