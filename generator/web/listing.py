"""The lists of communities, a page at a time: search, filters and order worked out on the server.

Everything a filter or an order reads is kept by the store for every community (the plan row,
the project's street office and stage, the counts of findings), so a list of ten thousand is
chosen without reading a project; only the rows of the page shown are summarised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from generator.data.models import STAGE_NAMES, STAGES, Community
from generator.web import scope
from generator.web.accounts import User
from generator.web.permissions import visible
from generator.web.store import Loaded

PER_PAGE = 50
MAX_PER_PAGE = 200
NO_PROJECT = "none"
SORTS = {
    "plan": "计划顺序", "name": "小区名称", "id": "编号", "district": "县（区）", "street": "街道办事处",
    "households": "户数", "stage": "阶段", "problems": "问题数",
}
PROBLEMS = {"error": "有错误", "any": "有错误或警告", "none": "没有问题"}
PROGRESS = {"started": "已开工", "finished": "已完工", "accepted": "已验收"}
"""How far along, as the dashboard counts: at least this stage."""
PROGRESS_FROM = {"started": "construction", "finished": "completed", "accepted": "accepted"}
ORDER = {NO_PROJECT: -1, **{s: i for i, s in enumerate(STAGES)}}
"""Each stage's place in the programme, a community without project data first."""
STAGE_CHOICES = {NO_PROJECT: "尚无项目资料", **STAGE_NAMES}
CHOICES = {"stage_choices": STAGE_CHOICES, "problem_choices": PROBLEMS, "sort_choices": SORTS,
           "progress_choices": PROGRESS}
"""What the lists' filter form offers, passed to their templates."""


@dataclass(frozen=True)
class Query:
    """What a list asks for: the words searched, the filters, the order and the page."""

    q: str = ""
    district: str = ""
    street: str = ""
    year: int | None = None
    stage: str = ""
    progress: str = ""
    review: str = ""
    problems: str = ""
    sort: str = "plan"
    desc: bool = False
    page: int = 1
    per_page: int = PER_PAGE

    def args(self, **changes: Any) -> str:
        """This query (with changes) as a URL's query string, defaults left out."""
        query = replace(self, **changes)
        values = {"q": query.q, "district": query.district, "street": query.street, "year": query.year or "",
                  "stage": query.stage, "progress": query.progress, "review": query.review, "problems": query.problems,
                  "sort": "" if query.sort == "plan" else query.sort, "desc": "1" if query.desc else "",
                  "page": "" if query.page == 1 else query.page,
                  "per_page": "" if query.per_page == PER_PAGE else query.per_page}
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _int(text: str | None, default: int | None) -> int | None:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def query_of(args: Mapping[str, str]) -> Query:
    """A query from a request's arguments; anything not understood is left at its default."""
    sort = args.get("sort", "plan")
    per_page = _int(args.get("per_page"), PER_PAGE) or PER_PAGE
    return Query(
        q=args.get("q", "").strip()[:100],
        district=args.get("district", "").strip(),
        street=args.get("street", "").strip(),
        year=_int(args.get("year"), None),
        stage=args.get("stage", "") if args.get("stage", "") in STAGE_CHOICES else "",
        progress=args.get("progress", "") if args.get("progress", "") in PROGRESS else "",
        review=args.get("review", "").strip(),
        problems=args.get("problems", "") if args.get("problems", "") in PROBLEMS else "",
        sort=sort if sort in SORTS else "plan",
        desc=args.get("desc", "") == "1",
        page=max(1, _int(args.get("page"), 1) or 1),
        per_page=min(MAX_PER_PAGE, max(1, per_page)),
    )


@dataclass(frozen=True)
class Page:
    """One page of a list: its communities, how many matched, the choices its filters offer."""

    rows: list[Community]
    total: int
    """How many matched the query."""
    of: int
    """How many the account sees in all."""
    query: Query
    districts: list[str]
    years: list[int]
    streets: list[str]
    rows_all: list[Community]
    """Every community that matched, in the list's order (what an export writes)."""

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))

    @property
    def first(self) -> int:
        """The position of the page's first row in the whole list (from 1)."""
        return (self.query.page - 1) * self.query.per_page + 1


def _stage(now: Loaded, community_id: str) -> str:
    return now.stages.get(community_id, NO_PROJECT)


def _key(now: Loaded, sort: str) -> Callable[[Community], Any]:
    order = ORDER
    keys: dict[str, Callable[[Community], Any]] = {
        "plan": lambda c: (c.year, c.seq),
        "name": lambda c: c.name,
        "id": lambda c: c.id,
        "district": lambda c: (c.district, c.year, c.seq),
        "street": lambda c: (now.offices.get(c.id, ""), c.year, c.seq),
        "households": lambda c: c.households,
        "stage": lambda c: order[_stage(now, c.id)],
        "problems": lambda c: now.counts(c.id),
    }
    return keys[sort]


def select(now: Loaded, user: User, query: Query,
           review_of: Callable[[str, str], bool] | None = None) -> Page:
    """The page of the account's communities the query asks for.

    review_of: whether a community stands at a review status (for the review filter), asked only
    of the communities every other filter let through.
    """
    mine: list[Community] = now.view(f"visible:{user.role}:{user.unit}:{user.disabled}:{scope.key(now)}",
                                     lambda: visible(user, now.data, scope.offices(now)))
    districts = sorted({c.district for c in mine}, key=list(now.data.districts).index)
    years = sorted({c.year for c in mine})
    order = ORDER
    streets = sorted({now.offices[c.id] for c in mine if now.offices.get(c.id)})
    words = query.q.lower().split()
    filtered = (words or query.district or query.street or query.year is not None or query.stage or query.progress
                or query.problems)
    rows = [] if filtered else list(mine)
    for c in mine if filtered else ():
        if query.district and c.district != query.district:
            continue
        if query.street and now.offices.get(c.id, "") != query.street:
            continue
        if query.year is not None and c.year != query.year:
            continue
        if query.stage and _stage(now, c.id) != query.stage:
            continue
        if query.progress and order[_stage(now, c.id)] < order[PROGRESS_FROM[query.progress]]:
            continue
        if query.problems:
            errors, warnings = now.counts(c.id)
            wanted = {"error": errors > 0, "any": errors + warnings > 0, "none": errors + warnings == 0}
            if not wanted[query.problems]:
                continue
        if words:
            text = f"{c.id} {c.name} {c.location} {now.offices.get(c.id, '')}".lower()
            if not all(w in text for w in words):
                continue
        rows.append(c)
    if query.review and review_of is not None:
        rows = [c for c in rows if review_of(c.id, query.review)]
    if query.sort != "plan" or query.desc:
        rows.sort(key=_key(now, query.sort), reverse=query.desc)
    start = (query.page - 1) * query.per_page
    return Page(rows[start:start + query.per_page], len(rows), len(mine), query, districts, years, streets, rows)
