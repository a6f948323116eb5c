"""The monthly return (进展统计月报): progress, effects, fund use and the project list of a month.

Every figure is counted from the dates the project files record (开工, 完工, 验收, and each fund
record's date), as of the month's last day, over the plan rows of the month's year: the workbook,
`GET /api/stats?month=` and the dashboard's fund panel all read `month_return`, so they agree.
Money is summed in 元 and turned into 万元 once per group; rates are the counts' plain ratios.
"""

from __future__ import annotations

import calendar as cal
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from generator.data.loader import DataSet
from generator.data.models import Community, Project
from generator.documents.figures import ratio
from generator.errors import DataError, Problem
from generator.render.filters import to_wan
from generator.render.wording import wording
from generator.rules.effects import EFFECT_KEYS, INDICATORS, project_effects
from generator.rules.funding import plan_funding, policy

FUND_KINDS = ("下达", "到位", "支出")
_MONTH = re.compile(r"^\s*(\d{4})\s*[-年/.]\s*(\d{1,2})\s*月?\s*$")
CITY_ROW = "全市"
"""The city's group among the districts' (its printed name is the wording's returns.city)."""


@dataclass(frozen=True, order=True)
class Month:
    """A return's month."""

    year: int
    month: int

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last(self) -> dt.date:
        return dt.date(self.year, self.month, cal.monthrange(self.year, self.month)[1])

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}"

    def is_open(self, today: dt.date | None = None) -> bool:
        """The month has not ended yet: its figures may still change."""
        return (today or dt.date.today()) <= self.last


def parse_month(text: str, where: str = "--month") -> Month:
    """'2019-06' (or 2019年6月) as a Month; DataError naming where it came from otherwise."""
    match = _MONTH.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise DataError([Problem(where, f"月份“{text}”应写成 年-月，如 2019-06")])
    return Month(int(match.group(1)), int(match.group(2)))


def default_month(year: int, today: dt.date | None = None) -> Month:
    """The month a year's return is made for when none is asked: December, or the last ended
    month (this month, when none has) of a year still running."""
    today = today or dt.date.today()
    if year < today.year:
        return Month(year, 12)
    if year > today.year:
        return Month(year, 1)
    return Month(year, max(today.month - 1, 1))


# ---------------------------------------------------------------- one plan row


@dataclass(frozen=True)
class RowFacts:
    """What one plan row contributes to a month's return."""

    community: Community
    stage: str
    """As of the month's end: not_started, building, completed or accepted (printed as the
    wording's returns.stage.<stage>)."""
    buildings: int
    floor_area: Decimal
    started: dt.date | None
    completed: dt.date | None
    accepted: dt.date | None
    funds: dict[tuple[str, str], Decimal]
    """(source, 下达/到位/支出) → 元, dated up to the month's end."""
    funds_before: dict[tuple[str, str], Decimal]
    """The same up to the end of the year before."""
    spent_in_month: Decimal
    effects: dict[str, Decimal]
    """Delivered by the month's end (completed projects), in each indicator's unit."""
    illustrative: bool
    households_done: int
    """Households the completion record says done (the plan's households without one)."""


def passed_on(project: Project) -> dt.date | None:
    """The day the project passed acceptance: the inspection, or the re-inspection after failures."""
    a = project.acceptance
    if a is None or project.dates.acceptance is None:
        return None
    if not a.failed:
        return project.dates.acceptance
    return a.rectification.date if a.rectification is not None else None


@dataclass(frozen=True)
class Digest:
    """What the returns and the calendar read of a project file, whatever the month."""

    stage: str
    buildings: int
    floor_area: Decimal
    start: dt.date | None
    completion: dt.date | None
    passed: dt.date | None
    filing: dt.date | None
    notice_start: dt.date | None
    notice_end: dt.date | None
    funds: tuple[tuple[dt.date, str, str, Decimal], ...]
    effects: dict[str, Decimal]
    """Delivered once completed: budget lines less the items failed and not put right."""
    illustrative: bool
    households_done: int | None


_DIGESTS: dict[tuple[bytes, int], Digest] = {}
"""Digests by packed record and catalogue: a new state of the data shares the records it did not
change, so after a save only the saved project is read again (10,000 records take seconds)."""
_DIGESTS_KEPT = 200_000


def digest(data: DataSet, community_id: str) -> Digest | None:
    """The project's dated facts, or None without a project file."""
    packed = getattr(data.projects, "packed", None)
    key = None
    if packed is not None:
        try:  # not `in`: a mapping's `in` reads (unpacks) the record
            key = (packed(community_id), id(data.catalogue))
        except KeyError:
            return None
        found = _DIGESTS.get(key)
        if found is not None:
            return found
    p = data.projects.get(community_id)
    if p is None:
        return None
    d = p.dates
    made = Digest(p.stage, len(p.buildings), p.floor_area or Decimal(0), d.start, d.completion, passed_on(p),
                  d.filing, d.notice_start, d.notice_end,
                  tuple((e.date, e.source, e.kind, e.amount) for e in p.funds),
                  project_effects(data, p, delivered_only=True), p.illustrative,
                  p.completion.households_done if p.completion else None)
    if key is not None:
        if len(_DIGESTS) >= _DIGESTS_KEPT:
            _DIGESTS.clear()
        _DIGESTS[key] = made
    return made


def digest_all(data: DataSet) -> None:
    """Read every project's dated facts now (a server's warm-up), so no request pays for them."""
    for community_id in data.projects:
        digest(data, community_id)


def _add_funds(p: Digest, month: Month, funds: dict[tuple[str, str], Decimal],
               before: dict[tuple[str, str], Decimal]) -> Decimal:
    """Add a project's money to the month's end (and to the end of the year before) into funds
    (and before); return what it spent in the month."""
    end, year_start = month.last, dt.date(month.year, 1, 1)
    spent = Decimal(0)
    for day, source, kind, amount in p.funds:
        if day <= end:
            funds[source, kind] = funds.get((source, kind), Decimal(0)) + amount
            if kind == "支出" and day >= month.first:
                spent += amount
        if day < year_start:
            before[source, kind] = before.get((source, kind), Decimal(0)) + amount
    return spent


def row_facts(data: DataSet, community: Community, month: Month) -> RowFacts:
    """One plan row's figures as of the month's last day."""
    p = digest(data, community.id)
    end = month.last
    if p is None:
        return RowFacts(community, "not_started", 0, Decimal(0), None, None, None, {}, {}, Decimal(0),
                        dict.fromkeys(EFFECT_KEYS, Decimal(0)), False, 0)

    def by(day: dt.date | None) -> dt.date | None:
        return day if day is not None and day <= end else None

    started, completed, accepted = by(p.start), by(p.completion), by(p.passed)
    funds: dict[tuple[str, str], Decimal] = {}
    before: dict[tuple[str, str], Decimal] = {}
    spent = _add_funds(p, month, funds, before)
    stage = "accepted" if accepted else "completed" if completed else "building" if started else "not_started"
    effects = p.effects if completed else dict.fromkeys(EFFECT_KEYS, Decimal(0))
    return RowFacts(community, stage, p.buildings, p.floor_area, started, completed, accepted, funds, before,
                    spent, effects, p.illustrative,
                    p.households_done if p.households_done is not None else community.households)


# ---------------------------------------------------------------- a group of rows


@dataclass
class Group:
    """The return's figures of one district, or of the city."""

    name: str
    communities: int = 0
    households: int = 0
    buildings: int = 0
    floor_area: Decimal = Decimal(0)
    investment_wan: Decimal = Decimal(0)
    started_month: int = 0
    started_month_households: int = 0
    started: int = 0
    started_households: int = 0
    completed_month: int = 0
    completed_month_households: int = 0
    completed: int = 0
    completed_households: int = 0
    accepted: int = 0
    spent_month_yuan: Decimal = Decimal(0)
    funds_yuan: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    before_yuan: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    effects: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(EFFECT_KEYS, Decimal(0)))

    def add(self, r: RowFacts, month: Month) -> None:
        """Count one plan row in (a completed row by the households its completion record says done)."""
        c = r.community
        self.communities += 1
        self.households += c.households
        self.buildings += r.buildings
        self.floor_area += r.floor_area
        self.investment_wan += c.investment_wan
        if r.started:
            self.started += 1
            self.started_households += c.households
            if r.started >= month.first:
                self.started_month += 1
                self.started_month_households += c.households
        if r.completed:
            self.completed += 1
            self.completed_households += r.households_done
            if r.completed >= month.first:
                self.completed_month += 1
                self.completed_month_households += r.households_done
        self.accepted += int(r.accepted is not None)
        self.spent_month_yuan += r.spent_in_month
        for target, source in ((self.funds_yuan, r.funds), (self.before_yuan, r.funds_before)):
            for pair, amount in source.items():
                target[pair] = target.get(pair, Decimal(0)) + amount
        for key, quantity in r.effects.items():
            self.effects[key] += quantity

    def fund(self, source: str, kind: str, before: bool = False) -> Decimal:
        """元 of one source and kind, to the month's end (or to the end of the year before)."""
        return (self.before_yuan if before else self.funds_yuan).get((source, kind), Decimal(0))

    def fund_total(self, kind: str, before: bool = False) -> Decimal:
        got = self.before_yuan if before else self.funds_yuan
        return sum((v for (_, k), v in got.items() if k == kind), Decimal(0))

    @property
    def spent_wan(self) -> Decimal:
        """完成投资: money spent to the month's end, 万元."""
        return to_wan(self.fund_total("支出"))

    def rates(self) -> dict[str, Decimal | None]:
        """开工率, 完工率 (by communities and households), 投资完成率 and 资金使用率, as fractions."""
        return {
            "started": ratio(self.started, self.communities),
            "started_households": ratio(self.started_households, self.households),
            "completed": ratio(self.completed, self.communities),
            "completed_households": ratio(self.completed_households, self.households),
            "investment": ratio(self.spent_wan, self.investment_wan),
            "fund_use": ratio(self.fund_total("支出"), self.fund_total("到位")),
        }


def percent(rate: Decimal | None) -> str | None:
    """A rate as printed: a percentage to one decimal, rounded half up (66.7)."""
    if rate is None:
        return None
    return str((rate * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class MonthReturn:
    """A month's return: each district's figures and the city's, and the list of projects."""

    month: Month
    districts: list[Group]
    city: Group
    rows: list[RowFacts]
    sources: dict[str, str]
    """Fund sources (party key → name) in the programme's order."""
    sample: bool
    open: bool


def month_return(data: DataSet, month: Month, districts: Iterable[str] | None = None,
                 today: dt.date | None = None) -> MonthReturn:
    """The return of a month over the plan rows of its year (of these districts; all by default)."""
    names = [d for d in data.districts if districts is None or d in set(districts)]
    groups = {n: Group(n) for n in names}
    city = Group(CITY_ROW)
    rows = []
    for c in data.active_communities():
        if c.year != month.year or c.district not in groups:
            continue
        r = row_facts(data, c, month)
        rows.append(r)
        groups[c.district].add(r, month)
        city.add(r, month)
    sources = dict(policy(data.programme).parties)
    return MonthReturn(month, list(groups.values()), city, rows, sources,
                       any(r.illustrative for r in rows), month.is_open(today))


def planned_funds(data: DataSet, month: Month, districts: Iterable[str] | None = None) -> dict[str, Decimal]:
    """What the budgets of the year's rows plan by source, 元 (the 下达 a return is measured against)."""
    names = set(data.districts if districts is None else districts)
    out: dict[str, Decimal] = {}
    for c in data.active_communities():
        p = data.projects.get(c.id) if c.year == month.year and c.district in names else None
        if p is None or not p.items:
            continue
        for k, v in plan_funding(data, p, c.households).by_party.items():
            out[k] = out.get(k, Decimal(0)) + v
    return out


def closed_months(data: DataSet, today: dt.date | None = None) -> list[Month]:
    """The programme's months whose return can be made: from the first plan year's January to the
    last ended month (or the last plan year's December), newest first."""
    today = today or dt.date.today()
    years = data.programme.years
    last = Month(today.year - 1, 12) if today.month == 1 else Month(today.year, today.month - 1)
    last = min(last, Month(max(years), 12))
    return [Month(y, m) for y in range(max(years), min(years) - 1, -1) for m in range(12, 0, -1)
            if Month(y, m) <= last]


# ---------------------------------------------------------------- the workbook


def due_date(data: DataSet, month: Month) -> dt.date:
    """The day the month's return is due: the programme's day of the next month."""
    year, number = (month.year + 1, 1) if month.month == 12 else (month.year, month.month + 1)
    return dt.date(year, number, data.programme.returns.monthly_due_day)


def _num(value: Decimal) -> Decimal:
    """A figure for a cell: exact, without trailing zeros."""
    return value.normalize() if value else Decimal(0)


def _group_values(g: Group, seq: int | str) -> dict[str, Any]:
    return {
        "seq": seq, "name": g.name,
        "communities": g.communities, "households": g.households, "buildings": g.buildings,
        "floor_area": _num(g.floor_area), "investment_wan": _num(g.investment_wan),
        "started_month": g.started_month, "started_month_households": g.started_month_households,
        "started": g.started, "started_households": g.started_households,
        "completed_month": g.completed_month, "completed_month_households": g.completed_month_households,
        "completed": g.completed, "completed_households": g.completed_households, "accepted": g.accepted,
        "spent_month_wan": _num(to_wan(g.spent_month_yuan)), "spent_wan": _num(g.spent_wan),
        "effects": {k: _num(v) for k, v in g.effects.items()},
    }


def _fund_row(g: Group, source: str | None, name: str | None, label: str | None = None) -> dict[str, Any]:
    """One source's money in a group, printed as label if given (source None: all sources, the group's 合计 row)."""
    def amount(kind: str, before: bool = False) -> Decimal:
        return g.fund(source, kind, before) if source is not None else g.fund_total(kind, before)

    return {"district": g.name if label is None else label, "source": name, "key": source, "total": source is None,
            "allocated": _num(to_wan(amount("下达"))), "received": _num(to_wan(amount("到位"))),
            "spent": _num(to_wan(amount("支出"))),
            "carried": _num(to_wan(amount("到位", True) - amount("支出", True)))}


def _fund_rows(r: MonthReturn, city: str = CITY_ROW) -> list[dict[str, Any]]:
    """Each district's sources with money recorded, then its total; then the city's (printed as city)."""
    rows = []
    for g in [*r.districts, r.city]:
        label = city if g is r.city else g.name
        used = [k for k in r.sources if any(g.fund(k, kind) or g.fund(k, kind, True) for kind in FUND_KINDS)]
        rows += [_fund_row(g, k, r.sources[k], label) for k in used]
        rows.append(_fund_row(g, None, None, label))
    return rows


def _project_rows(r: MonthReturn, data: DataSet) -> list[dict[str, Any]]:
    say = wording(data.root).say

    def day(d: dt.date | None) -> str:
        return d.isoformat() if d else ""

    out = []
    for i, f in enumerate(r.rows, 1):
        c = f.community
        received = sum((v for (_, k), v in f.funds.items() if k == "到位"), Decimal(0))
        spent = sum((v for (_, k), v in f.funds.items() if k == "支出"), Decimal(0))
        out.append({"seq": i, "id": c.id, "district": c.district, "name": c.name, "households": c.households,
                    "buildings": f.buildings, "floor_area": _num(f.floor_area),
                    "investment_wan": _num(c.investment_wan), "stage": say(f"returns.stage.{f.stage}"),
                    "started": day(f.started),
                    "completed": day(f.completed), "accepted": day(f.accepted),
                    "received_wan": _num(to_wan(received)), "spent_wan": _num(to_wan(spent))})
    return out


def return_context(data: DataSet, month: Month, today: dt.date | None = None) -> dict[str, Any]:
    """What the return's template is filled from."""
    r = month_return(data, month, today=today)
    # never today itself when the month has ended: the same data gives the same workbook any day
    as_of = min(month.last, today or dt.date.today())
    city = wording(data.root).say("returns.city")
    return {
        "city": data.programme.city, "body": data.programme.report_recipient,
        "year": month.year, "month": month.month, "as_of": as_of, "today": as_of,
        "due": due_date(data, month), "open": r.open, "sample": r.sample,
        "districts": [_group_values(g, i) for i, g in enumerate(r.districts, 1)],
        "city_total": {**_group_values(r.city, city), "name": city},
        "funds": _fund_rows(r, city),
        "projects": _project_rows(r, data),
        "indicators": [{"key": i.key, "name": i.name, "unit": i.unit} for i in INDICATORS],
    }


# ---------------------------------------------------------------- as plain values (JSON, tests)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def group_dict(g: Group) -> dict[str, Any]:
    """One group's figures: counts as numbers, 万元 and quantities as exact decimal strings, rates as
    percentages to one decimal (as the workbook prints them)."""
    out = _group_values(g, g.name)
    del out["seq"]
    out["rates"] = {k: percent(v) for k, v in g.rates().items()}
    return _plain(out)


def return_dict(r: MonthReturn, data: DataSet) -> dict[str, Any]:
    """The month's return as plain values (what GET /api/stats?month= answers)."""
    return _plain({
        "month": r.month.key, "as_of": min(r.month.last, dt.date.today()).isoformat(),
        "due": due_date(data, r.month).isoformat(), "open": r.open, "sample": r.sample,
        "indicators": [{"key": i.key, "name": i.name, "unit": i.unit} for i in INDICATORS],
        "districts": [group_dict(g) for g in r.districts], "city": group_dict(r.city),
        "funds": [{k: v for k, v in row.items() if k != "total"} for row in _fund_rows(r)],
        "projects": _project_rows(r, data),
    })


def _money_to(data: DataSet, month: Month, districts: Iterable[str] | None) -> MonthReturn:
    """Only the money of every plan year's rows to the month's end: the project facts are read
    once per project file (digest), and this adds up a few records per row (a dashboard after a
    save at 10,000 communities stays well under a second)."""
    names = [d for d in data.districts if districts is None or d in set(districts)]
    groups = {n: Group(n) for n in names}
    city = Group(CITY_ROW)
    for c in data.active_communities():
        group = groups.get(c.district)
        p = digest(data, c.id) if group is not None else None
        if p is not None and p.funds:
            assert group is not None
            _add_funds(p, month, group.funds_yuan, group.before_yuan)
            _add_funds(p, month, city.funds_yuan, city.before_yuan)
    return MonthReturn(month, list(groups.values()), city, [], dict(policy(data.programme).parties), False, True)


def fund_use(data: DataSet, today: dt.date, districts: Iterable[str] | None = None) -> dict[str, Any]:
    """Money of every plan year's rows to today, by district and source, for the dashboard."""
    r = _money_to(data, Month(today.year, today.month), districts)
    city = [_fund_row(r.city, k, r.sources[k]) for k in r.sources
            if any(r.city.fund(k, kind) or r.city.fund(k, kind, True) for kind in FUND_KINDS)]
    # each district's total, then the city's by source and in total: a short table
    return {"rows": [*(_fund_row(g, None, None) for g in r.districts), *city, _fund_row(r.city, None, None)],
            "rates": {g.name: percent(g.rates()["fund_use"]) for g in [*r.districts, r.city]},
            "year": today.year}
