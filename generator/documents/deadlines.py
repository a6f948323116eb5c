"""The programme's calendar: deadlines worked out from the dates the data records.

公示 ends when its days are up; a passed acceptance is filed within the programme's days; each
month's return is due on the programme's day of the next month; money is carried over at year end.
The CLI (`gaizao validate --due`) and the web dashboard list the same `deadlines()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from generator.data.loader import DataSet
from generator.documents.returns import Month, digest, due_date


@dataclass(frozen=True)
class Deadline:
    """One date something is due: what, for which community (or the programme), and whether it is done."""

    day: dt.date
    kind: str
    """notice, filing, return, carry_over."""
    what: str
    where: str
    """The community (id and name), or the city."""
    district: str | None
    done: bool = False
    community: str | None = None
    """The community's id; None for the city's own deadlines."""

    def status(self, today: dt.date) -> str:
        """已完成, 已逾期N天, 今天, N天后."""
        if self.done:
            return "已完成"
        days = (self.day - today).days
        return "今天" if days == 0 else f"已逾期{-days}天" if days < 0 else f"{days}天后"


NAMES = {"notice": "公示期满", "filing": "竣工验收备案", "return": "进展统计月报报送", "carry_over": "年度资金结转"}


def deadlines(data: DataSet, today: dt.date, districts: Iterable[str] | None = None,
              include_done: bool = False, communities: Collection[str] | None = None) -> list[Deadline]:
    """Every deadline of these districts' projects (of these communities, when given) and the city's
    returns, the open ones by date."""
    names = set(data.districts if districts is None else districts)
    rules = data.programme.returns
    out: list[Deadline] = []
    for c in data.active_communities():
        mine = c.district in names and (communities is None or c.id in communities)
        p = digest(data, c.id) if mine else None
        if p is None:
            continue
        where = f"{c.id} {c.name}"
        start = p.notice_start
        if start is not None and start <= today and p.stage == "notice":
            end = p.notice_end or start + dt.timedelta(days=data.programme.notice.min_days - 1)
            out.append(Deadline(end, "notice", NAMES["notice"], where, c.district, done=end < today,
                                community=c.id))
        if p.passed is not None and p.passed <= today:
            due = p.passed + dt.timedelta(days=rules.completion_filing_days)
            out.append(Deadline(due, "filing", NAMES["filing"], where, c.district,
                                done=p.filing is not None and p.filing <= today, community=c.id))
    # the return of the last ended month, or, once that is due, of this month
    last = Month(today.year - 1, 12) if today.month == 1 else Month(today.year, today.month - 1)
    if due_date(data, last) < today:
        last = Month(today.year, today.month)
    out.append(Deadline(due_date(data, last), "return", f"{NAMES['return']}（{last.year}年{last.month}月）",
                        data.programme.city, None))
    month, day = (int(x) for x in rules.carry_over_day.split("-"))
    out.append(Deadline(dt.date(today.year, month, day), "carry_over", NAMES["carry_over"], data.programme.city, None))
    kept = [d for d in out if include_done or not d.done]
    return sorted(kept, key=lambda d: (d.day, d.kind, d.where))
