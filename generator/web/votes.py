"""Owners' votes in the browser: each vote's ballots, one ballot entered or corrected by the street
office, the count against the rule's thresholds, and the ballot workbook out and back in through the
checks of `gaizao vote export/import`."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from generator.data.loader import DataSet
from generator.data.roster import mask_name
from generator.data.votes import BALLOT_COLUMNS, CHOICES, SIGNERS, Ballot, Ballots
from generator.errors import DataError
from generator.web.audit import FieldChange
from generator.web.permissions import allowed
from generator.web.privacy import masked
from generator.web.scope import offices
from generator.web.security import (
    audit,
    community_or_404,
    login_required,
    note_residents_download,
    record_upload,
    store,
)
from generator.web.store import Loaded
from generator.web.wording import SCORE_CHART

bp = Blueprint("votes", __name__)


@bp.app_context_processor
def votes_panel() -> dict[str, Any]:
    """The community's votes and satisfaction surveys, for the project page's links."""

    def community_votes(community_id: str) -> list[tuple[str, str]]:
        from generator.documents.satisfaction import surveys_of
        from generator.documents.votes import votes_of

        data = store().current().data
        links = [(url_for("votes.survey_page", community_id=community_id, survey_id=s),
                  f"居民满意度调查（{data.satisfaction[s].date:%Y年%m月}）") for s in surveys_of(data, community_id)]
        if community_id in data.rosters:
            links[:0] = [(url_for("votes.vote_page", community_id=community_id, vote_id=v),
                          f"业主表决：{data.votes[v].matter}") for v in votes_of(data, community_id)]
        return links

    return {"community_votes": community_votes}


_FIELDS = tuple(name for name, _ in BALLOT_COLUMNS if name not in ("building", "unit", "room"))
_TITLES = dict(BALLOT_COLUMNS)


def _named(exc: DataError, path: Path, name: str) -> list[str]:
    """An upload's problems by sheet, row and column, the file called by the name the clerk gave it."""
    return [str(p).replace(str(path), f"“{name}”") for p in exc.problems]


def _take_upload(community_id: str, field: str, what: str, detail: str, unit: str,
                 take: Callable[[Path, DataSet], Any]) -> list[str]:
    """Check and store an uploaded workbook under the writer lock; the problems by sheet, row and column, or []."""
    from generator.intake.workbook_safety import not_xlsx

    upload = request.files.get(field)
    if upload is None or not upload.filename:
        abort(400, description=f"请选择要上传的{what}登记表（.xlsx）")
    raw = upload.read()
    why = not_xlsx(Path(f"{what}.xlsx"), raw)  # judged by content, whatever the name says
    problems: list[str] = [why] if why else []
    written = False
    if not why:
        st = store()
        with tempfile.TemporaryDirectory() as tmp, st.save_lock:
            path = Path(tmp) / f"{what}.xlsx"  # the client's file name is shown, never used as a path
            path.write_bytes(raw)
            try:
                result = take(path, st.current().data)
            except DataError as exc:
                problems = _named(exc, path, upload.filename)
            else:
                written = result.changed
                if written:
                    audit().append(g.user.name, "save", community_id,
                                   detail=f"{detail} {upload.filename}（{result.rows}{unit}）")
    record_upload(community_id, what, upload.filename, raw, problems, written)
    return problems


def _vote_or_404(community_id: str, vote_id: str, action: str = "view") -> Any:
    now = community_or_404(community_id, action)  # type: ignore[arg-type]
    vote = now.data.votes.get(vote_id)
    if vote is None or vote.community != community_id or community_id not in now.data.rosters:
        abort(404)
    return now


def _writer(data: DataSet, community_id: str) -> bool:
    """Only the street office that owns the community enters ballots and sees owners' names in full."""
    return g.user.role == "street" and allowed(g.user, "edit", data, community_id, offices(store().current()))


def _rows(data: DataSet, vote_id: str, full: bool) -> list[dict[str, Any]]:
    from generator.rules.votes import answers

    rows = []
    for h, b in answers(data, vote_id):
        rows.append({
            "building": h.building, "unit": h.unit or "", "room": h.room,
            "head": (h.head or "") if full else mask_name(h.head), "area": h.area,
            "choice": b.choice if b else "未参加",
            "signer": (b.signer or "业主") if b else "",
            "proxy": ((b.proxy or "") if full else mask_name(b.proxy)) if b else "",
            "authority": (b.authority or "") if b else "",
            "date": b.date.isoformat() if b and b.date else "",
            "remarks": (b.remarks or "") if b else "",
        })
    return rows


def _page(community_id: str, vote_id: str, problems: list[str] | None = None, notice: str = "",
          status: int = 200) -> Any:
    from generator.documents.votes import rule_text
    from generator.rules.votes import count

    now = store().current()
    data = now.data
    vote = data.votes[vote_id]
    outcome = count(data, vote_id)
    full = _writer(data, community_id)
    return render_template(
        "votes.html", community=data.communities[community_id], vote=vote, vote_id=vote_id,
        rows=_rows(data, vote_id, full), can_write=full, choices=CHOICES, signers=SIGNERS,
        rule_text=rule_text(vote, outcome.rule) if outcome.rule else "（规则名称未在方案参数中找到）",
        groups=outcome.groups if outcome.passed is not None else [],
        passed=outcome.passed, reason=outcome.reason or "", problems=problems or [], notice=notice,
    ), status


@bp.route("/projects/<community_id>/votes/<vote_id>")
@login_required
def vote_page(community_id: str, vote_id: str) -> Any:
    """The vote's ballots, one row per household of its scope, and the count so far."""
    _vote_or_404(community_id, vote_id)
    return _page(community_id, vote_id, notice=request.args.get("saved", "") and "已保存表决票")


def _ballot_from_form(building: str, unit: str, room: str) -> dict[str, Any]:
    values: dict[str, Any] = {"building": building, "room": room}
    if unit:
        values["unit"] = unit
    for name in _FIELDS:
        raw = " ".join(request.form.get(name, "").split())
        if raw:
            values[name] = raw
    return values


def _text(b: Ballot | None) -> dict[str, str]:
    return {name: "" if b is None or getattr(b, name) is None else str(getattr(b, name)) for name in _FIELDS}


@bp.route("/projects/<community_id>/votes/<vote_id>/ballot", methods=["POST"])
@login_required
def vote_ballot(community_id: str, vote_id: str) -> Any:
    """Enter or correct one household's ballot; checked as an import is, the file unchanged on any problem."""
    from generator.data.votes import parse_ballots
    from generator.intake.ballots_io import store_ballots
    from generator.rules.votes import answers

    _vote_or_404(community_id, vote_id, "edit")
    if g.user.role != "street":
        abort(403, description="表决票由小区所属街道办事处录入，您的账户只能查看")
    parts = request.form.get("household", "").split("|")
    if len(parts) != 3:
        abort(400, description="请选择住户")
    key = (parts[0], parts[1], parts[2])
    st = store()
    with st.save_lock:
        data = st.current().data
        pairs = {(h.building, h.unit or "", h.room): b for h, b in answers(data, vote_id)}
        if key not in pairs:
            abort(404)
        where = f"表决“{vote_id}”{key[0]}{key[1] and key[1] + '单元'}{key[2]}"
        held = data.ballots.get(vote_id)
        others = [b for b in (held.ballots if held else ()) if b.key != key]
        problems: list[str] = []
        values = _ballot_from_form(*key)
        before = pairs[key]
        try:
            if values.get("choice", "未参加") == "未参加" and set(values) <= {"building", "unit", "room", "choice"}:
                mine: list[Ballot] = []  # no answer kept: the household did not take part
            else:
                mine = list(parse_ballots([(1, values)], where).ballots)
            ballots = Ballots(ballots=tuple(others + mine), rows=tuple(range(2, len(others) + len(mine) + 2)))
            result = store_ballots(data, ballots, where, {}, vote_id)
        except DataError as exc:
            problems = [f"{p.field.split('“', 1)[-1].replace('”列', '') + '：' if p.field else ''}{p.problem}"
                        for p in exc.problems]
        if problems:
            return _page(community_id, vote_id, problems=problems, status=422)
        after = mine[0] if mine else None
        old, new = _text(before), _text(after)
        # the audit log is read beyond the street office: a proxy's name masked like a resident's
        changes = masked([FieldChange(f"表决票.{_TITLES[n]}", old[n], new[n]) for n in _FIELDS if old[n] != new[n]])
        if result.changed and changes:
            audit().append(g.user.name, "save", community_id, changes,
                           detail=f"表决“{vote_id}” {key[0]}{key[1] and key[1] + '单元'}{key[2]}")
    return redirect(url_for("votes.vote_page", community_id=community_id, vote_id=vote_id, saved=1))


@bp.route("/projects/<community_id>/votes/<vote_id>/ballots.xlsx")
@login_required
def vote_workbook(community_id: str, vote_id: str) -> Any:
    """The ballot workbook `gaizao vote export` makes: owners in full for the street office that collects the
    ballots, masked for anyone else who sees the community; every download recorded, full or masked."""
    from generator.intake.ballots_io import ballot_workbook

    now = _vote_or_404(community_id, vote_id)
    return _residents_workbook(now, community_id, lambda masked: ballot_workbook(now.data, vote_id, masked=masked),
                               "vote-download", f"表决“{vote_id}”表决票登记表", f"{vote_id}-表决票")


@bp.route("/projects/<community_id>/votes/<vote_id>/ballots", methods=["POST"])
@login_required
def vote_upload(community_id: str, vote_id: str) -> Any:
    """A filled ballot workbook replaces the vote's ballots, checked as `gaizao vote import` checks it."""
    from generator.intake.ballots_io import read_ballot_workbook, store_ballots
    _vote_or_404(community_id, vote_id, "edit")
    if g.user.role != "street":
        abort(403, description="表决票由小区所属街道办事处上传，您的账户只能查看")
    def take(path: Path, data: DataSet) -> Any:
        ballots, where, meta = read_ballot_workbook(path)
        return store_ballots(data, ballots, where, meta, vote_id)

    problems = _take_upload(community_id, "ballots", "表决票", f"表决“{vote_id}”表决票", "张", take)
    if problems:
        return _page(community_id, vote_id, problems=problems, status=422)
    return redirect(url_for("votes.vote_page", community_id=community_id, vote_id=vote_id, saved=1))


def _survey_or_404(community_id: str, survey_id: str, action: str = "view") -> Any:
    now = community_or_404(community_id, action)  # type: ignore[arg-type]
    survey = now.data.satisfaction.get(survey_id)
    if survey is None or survey.community != community_id:
        abort(404)
    return now


def _survey_page(community_id: str, survey_id: str, problems: list[str] | None = None, notice: str = "",
                 status: int = 200) -> Any:
    from generator.data.satisfaction import full_mark
    from generator.render.filters import percent
    from generator.rules.satisfaction import tally

    data = store().current().data
    survey = data.satisfaction[survey_id]
    order = [a.text for a in survey.scale]
    figures = tally(data, survey_id) if survey_id in data.responses else None
    return render_template(
        "votes_satisfaction.html", community=data.communities[community_id], survey=survey, survey_id=survey_id,
        order=order, tally=figures, can_write=_writer(data, community_id), problems=problems or [],
        notice=notice, percent=percent, full=full_mark(survey), chart_words=SCORE_CHART,
    ), status


@bp.route("/projects/<community_id>/satisfaction/<survey_id>")
@login_required
def survey_page(community_id: str, survey_id: str) -> Any:
    """The survey's tally by group and by question, and its answers workbook out and in."""
    _survey_or_404(community_id, survey_id)
    return _survey_page(community_id, survey_id, notice=request.args.get("saved", "") and "已导入答卷")


@bp.route("/projects/<community_id>/satisfaction/<survey_id>/answers.xlsx")
@login_required
def survey_workbook(community_id: str, survey_id: str) -> Any:
    """The answers workbook `gaizao satisfaction export` makes: households in full for the street office that
    collects the answers, masked for anyone else who sees the community; every download recorded, full or masked."""
    from generator.intake.satisfaction_io import answers_workbook

    now = _survey_or_404(community_id, survey_id)
    return _residents_workbook(now, community_id, lambda masked: answers_workbook(now.data, survey_id, masked=masked),
                               "survey-download", f"调查“{survey_id}”答卷登记表", f"{survey_id}-满意度调查")


def _residents_workbook(now: Loaded, community_id: str, make: Callable[[bool], tuple[bytes, Any]], action: str,
                        what: str, stem: str) -> Any:
    """A workbook naming residents: in full for the street office that collects it, masked for anyone
    else who sees the community; the download recorded as full or masked."""
    from generator.web.pages import download

    full = _writer(now.data, community_id)
    payload, _ = make(not full)
    note_residents_download(community_id, action, what, full)
    return download(f"{stem}{'' if full else '（已遮蔽）'}.xlsx", payload)


@bp.route("/projects/<community_id>/satisfaction/<survey_id>/answers", methods=["POST"])
@login_required
def survey_upload(community_id: str, survey_id: str) -> Any:
    """A filled answers workbook replaces the survey's answers, checked as `gaizao satisfaction import` checks it."""
    from generator.intake.satisfaction_io import read_answers_workbook, store_answers
    _survey_or_404(community_id, survey_id, "edit")
    if g.user.role != "street":
        abort(403, description="答卷由小区所属街道办事处上传，您的账户只能查看")
    def take(path: Path, data: DataSet) -> Any:
        _, responses, where = read_answers_workbook(path, data, survey_id)
        return store_answers(data, survey_id, responses, where)

    problems = _take_upload(community_id, "answers", "满意度调查答卷", f"调查“{survey_id}”答卷", "份", take)
    if problems:
        return _survey_page(community_id, survey_id, problems=problems, status=422)
    return redirect(url_for("votes.survey_page", community_id=community_id, survey_id=survey_id, saved=1))
