"""The district bureaus' review of each community's plan and notice: 通过 or 退回 with a comment.

Decisions are the bureau's acts, not project data: they live in the instance database beside the
accounts and the audit log (one row each, appended, never rewritten), so that a data folder
copied or edited by hand cannot carry an approval nobody gave. Each decision names the content it
was made on (the hash of the document's context): when the plan or notice changes afterwards, the
decision stands in the history but the document waits for a new review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, cast

from flask import current_app, g

from generator.documents.kinds import KINDS, community_target
from generator.output.pipeline import data_hash
from generator.web.statedb import StateDB, now_iso
from generator.web.store import Availability, Loaded, documents_of

REVIEWED = ("plan", "notice")
"""The documents a district bureau reviews, in workflow order."""
DECISIONS = {"pass": "通过", "return": "退回"}
SUBMISSIONS = {"submit": "提交审核", "resubmit": "已按意见修改，请复审"}
"""What a street office records in the same log: the paper is ready for the district to review."""
Status = Literal["none", "pass", "return", "stale", "unavailable"]
STATUS_NAMES: dict[str, str] = {
    "none": "待审核", "pass": "通过", "return": "退回", "stale": "已修改，待重新审核", "unavailable": "尚不能生成",
}


@dataclass(frozen=True)
class Decision:
    time: str
    """ISO 8601 in UTC."""
    user: str
    unit: str
    community: str
    kind: str
    decision: str
    """pass or return."""
    comment: str
    content: str
    """The hash of the document's context the decision was made on."""

    @property
    def local_time(self) -> str:
        return dt.datetime.fromisoformat(self.time).astimezone().strftime("%Y-%m-%d %H:%M:%S")

    @property
    def name(self) -> str:
        return {**DECISIONS, **SUBMISSIONS}[self.decision]


DECISION_FIELDS = tuple(f.name for f in fields(Decision))


@dataclass(frozen=True)
class Review:
    """Where one document of a community stands."""

    kind: str
    status: Status
    latest: Decision | None
    content: str
    """The hash of the document as it would be made now ("" when it cannot be made)."""

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]

    @property
    def kind_name(self) -> str:
        return KINDS[self.kind].name


class ReviewLog:
    """Every decision, oldest first, in the instance database."""

    def __init__(self, instance: Path) -> None:
        self.db = StateDB.of(instance)

    def append(self, user: str, unit: str, community: str, kind: str, decision: str, comment: str,
               content: str) -> Decision:
        made = Decision(now_iso(), user, unit, community, kind, decision, comment, content)
        with self.db.write() as conn:
            conn.execute("INSERT INTO reviews (time, user, unit, community, kind, decision, comment, content) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", astuple(made))
        return made

    def decisions(self, community: str | None = None) -> list[Decision]:
        """Every decision (on one community), oldest first."""
        where, args = ("WHERE community = ?", (community,)) if community is not None else ("", ())
        return [Decision(*(r[f] for f in DECISION_FIELDS))
                for r in self.db.rows(f"SELECT * FROM reviews {where} ORDER BY id", *args)]

    def latest(self) -> dict[tuple[str, str], Decision]:
        """The last decision on each (community, kind)."""
        return self._latest(tuple(DECISIONS))

    def submissions(self) -> dict[tuple[str, str], Decision]:
        """The last submission of each (community, kind) that no decision has followed yet."""
        return self._latest(tuple(SUBMISSIONS), "AND id > coalesce((SELECT max(d.id) FROM reviews d WHERE "
                            "d.community = reviews.community AND d.kind = reviews.kind AND d.decision IN (?, ?)), 0)",
                            tuple(DECISIONS))

    def _latest(self, acts: tuple[str, ...], unless: str = "", more: tuple[str, ...] = ()) -> dict[
            tuple[str, str], Decision]:
        marks = ", ".join("?" * len(acts))
        rows = self.db.rows(f"SELECT * FROM reviews WHERE id IN (SELECT max(id) FROM reviews WHERE decision IN "
                            f"({marks}) GROUP BY community, kind) {unless}", *acts, *more)
        return {(r["community"], r["kind"]): Decision(*(r[f] for f in DECISION_FIELDS)) for r in rows}


def log() -> ReviewLog:
    """The review log of the running app."""
    return cast(ReviewLog, current_app.extensions["gaizao"]["reviews"])


def current_latest() -> dict[tuple[str, str], Decision]:
    """The last decision on each document, read once per request."""
    if "review_latest" not in g:
        g.review_latest = log().latest()
    latest: dict[tuple[str, str], Decision] = g.review_latest
    return latest


def current_submissions() -> dict[tuple[str, str], Decision]:
    """The last submission of each document, read once per request."""
    if "review_submitted" not in g:
        g.review_submitted = log().submissions()
    submitted: dict[tuple[str, str], Decision] = g.review_submitted
    return submitted


def waiting(review: Review, submitted: Decision | None) -> bool:
    """Whether the street office has submitted the document as it stands (no decision has followed:
    submissions() gives only those)."""
    return submitted is not None and submitted.content == review.content and review.status != "pass"


def current_gate(now: Loaded, community_id: str, documents: list[Availability]) -> list[Availability]:
    """gated() with the decisions as the log holds them now."""
    if not now.data.programme.notice.needs_review:
        return documents
    return gated(now, current_latest(), community_id, documents)


Path_ = tuple[str, ...]


def _printed_paths(tree: Any, names: frozenset[str]) -> set[Path_]:
    """The attribute paths of the context a template reads (dates.notice_start), each as deep as
    the template reads it; a name used whole (looped over, passed to a filter) is the name alone."""
    from jinja2 import nodes

    paths: set[Path_] = set()

    def chain(node: Any) -> Path_ | None:
        parts: list[str] = []
        while True:
            if isinstance(node, nodes.Getattr):
                parts.append(node.attr)
                node = node.node
            elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
                    and isinstance(node.arg.value, str):
                parts.append(node.arg.value)
                node = node.node
            elif isinstance(node, nodes.Name):
                return (node.name, *reversed(parts))
            else:
                return None

    def walk(node: Any) -> None:
        found = chain(node) if isinstance(node, (nodes.Getattr, nodes.Getitem)) else None
        if found is not None and found[0] in names:
            paths.add(found)
            return
        if isinstance(node, nodes.Name) and node.ctx == "load" and node.name in names:
            paths.add((node.name,))
            return
        for child in node.iter_child_nodes():
            walk(child)

    walk(tree)
    return {p for p in paths if not any(p[:i] in paths for i in range(1, len(p)))}


def used_paths(now: Loaded, kind: str, district: str) -> frozenset[Path_]:
    """The parts of the context a kind's template (the district's own, if it has one) prints."""
    def make() -> frozenset[Path_]:
        from jinja2 import meta

        from generator.render.docx import XML_ENV, CompiledDocx
        from generator.web.security import store

        with store().render_lock:
            compiled = now.renderers.compiled(now.renderers.locate(KINDS[kind], district))
        assert isinstance(compiled, CompiledDocx)
        out: set[Path_] = set()
        for source in compiled.sources.values():
            tree = XML_ENV.parse(source)
            out |= _printed_paths(tree, frozenset(meta.find_undeclared_variables(tree)))
        return frozenset(out)

    return cast(frozenset[Path_], now.memo(f"used-{kind}", district, make))


def _value_at(context: dict[str, Any], path: Path_) -> Any:
    """The value a path reads; a method (a template calling p.at_least()) stands for its object."""
    value: Any = context
    for part in path:
        step = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if callable(step) and not isinstance(step, type):
            return value
        value = step
    return value


def content_of(now: Loaded, community_id: str, kind: str) -> str:
    """The hash of what the document would say now: the values its template prints, field by field,
    so that data the document does not print (an 验收日期 on a plan) leaves a decision standing;
    "" when it cannot be made."""
    def make() -> str:
        available = next(a for a in documents_of(now, community_id) if a.kind.key == kind)
        if available.reason is not None:
            return ""
        return printed_hash(now, now.data, community_id, kind)

    return str(now.memo(f"content-{kind}", community_id, make))


def printed_hash(now: Loaded, data: Any, community_id: str, kind: str) -> str:
    """The hash of the values a kind's template prints for a community, made from a data set (the
    one served, or one with a changed plan row, to see whether a change would reopen a review)."""
    context = KINDS[kind].context(data, community_target(data, community_id))
    used = used_paths(now, kind, data.communities[community_id].district)
    return data_hash({kind: {".".join(p): _value_at(context, p) for p in sorted(used)}})


def legacy_content_of(now: Loaded, community_id: str, kind: str) -> str:
    """The hash decisions recorded before printed fields were hashed one by one (whole top-level
    names): such a decision still stands while that hash still holds."""
    def make() -> str:
        context = KINDS[kind].context(now.data, community_target(now.data, community_id))
        names = {p[0] for p in used_paths(now, kind, now.data.communities[community_id].district)}
        return data_hash({kind: {k: v for k, v in context.items() if k in names}})

    return str(now.memo(f"legacy-content-{kind}", community_id, make))


def review_of(now: Loaded, latest: dict[tuple[str, str], Decision], community_id: str, kind: str) -> Review:
    content = content_of(now, community_id, kind)
    last = latest.get((community_id, kind))
    status: Status
    if not content:
        status = "unavailable"
    elif last is None:
        status = "none"
    elif last.content != content and last.content != legacy_content_of(now, community_id, kind):
        status = "stale"
    else:
        status = "pass" if last.decision == "pass" else "return"
    return Review(kind, status, last, content)


def reviews_of(now: Loaded, latest: dict[tuple[str, str], Decision], community_id: str) -> list[Review]:
    return [review_of(now, latest, community_id, kind) for kind in REVIEWED]


def withheld_reason(review: Review) -> str | None:
    """Why a notice may not be printed for posting yet, when the programme asks for a review first."""
    if review.status == "pass" or review.status == "unavailable":
        return None
    if review.status == "return":
        assert review.latest is not None
        return f"县（区）已退回：{review.latest.comment}；修改后须重新审核通过才能打印张贴"
    if review.status == "stale":
        return "审核通过后内容有修改，须经县（区）重新审核通过才能打印张贴"
    return "须经县（区）住房城乡建设部门审核通过后才能打印张贴"


def withheld(now: Loaded, latest: dict[tuple[str, str], Decision], community_id: str) -> dict[str, str]:
    """The documents of a community held back until a review passes them: kind → why."""
    if not now.data.programme.notice.needs_review:
        return {}
    reason = withheld_reason(review_of(now, latest, community_id, "notice"))
    return {"notice": reason} if reason else {}


def gated(now: Loaded, latest: dict[tuple[str, str], Decision], community_id: str,
          documents: list[Availability]) -> list[Availability]:
    """Each document's availability with the review gate applied."""
    held = withheld(now, latest, community_id)
    return [replace(a, reason=held[a.kind.key]) if a.reason is None and a.kind.key in held else a
            for a in documents]
