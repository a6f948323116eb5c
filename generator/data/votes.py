"""Residents' votes (业主表决): what is decided, by whom, under which rule, and each household's ballot.

A vote is data/votes/<vote id>.yaml (the matter, the scope, the rule named in the programme
file, the dates, for an elevator its cost) and, once ballots come back, data/votes/<vote id>.csv:
one row per household that returned a ballot (同意/不同意/弃权), signed by the owner or by a proxy
whose authority is recorded. Households of the scope with no row did not take part (未参加).
The ballots sit beside the roster's kind of data (names of proxies), in a folder of their own.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from pydantic import Field, ValidationError

from generator.data import sealed
from generator.data.cells import date as read_date
from generator.data.models import Count, Money, Number, Record, Text
from generator.data.roster import Household, Roster, heading_key, unit_name
from generator.errors import DataError, Problem

VOTES = "votes"
"""The folder of votes under the data folder."""

CHOICES: tuple[str, ...] = ("同意", "不同意", "弃权", "未参加")
"""A household's answer; 未参加 is also what a household without a ballot row counts as."""
TAKES_PART: tuple[str, ...] = ("同意", "不同意", "弃权")
SIGNERS: tuple[str, ...] = ("业主", "代理人")


class VoteScope(Record):
    """Which households vote: the whole community, one building (幢) or one unit (单元)."""

    building: Text | None = Field(default=None, title="楼栋（不写为全小区）")
    unit: Text | None = Field(default=None, title="单元（须同时写楼栋）")

    def holds(self, h: Household) -> bool:
        """The household is one of the scope's."""
        if self.building is not None and h.building != self.building:
            return False
        return self.unit is None or (h.unit or "") == self.unit

    @property
    def name(self) -> str:
        """全小区, 3栋, 3栋2单元."""
        return "全小区" if self.building is None else self.building + unit_name(self.unit)


class VoteDates(Record):
    start: dt.date = Field(title="表决开始日期")
    end: dt.date = Field(title="表决截止日期")
    notice_start: dt.date | None = Field(default=None, title="结果公示开始日期")
    notice_end: dt.date | None = Field(default=None, title="结果公示结束日期")


class VoteTotals(Record):
    """The scope's totals as the committee states them on its papers; checked against the roster."""

    households: Count | None = Field(default=None, title="表决范围内的户数")
    area: Number | None = Field(default=None, title="表决范围内的建筑面积（㎡）")


class Vote(Record):
    """One matter put to the owners of a scope."""

    community: Text = Field(title="小区编号")
    matter: Text = Field(title="表决事项（如 3栋2单元加装电梯）")
    kind: Literal["elevator", "plan", "management", "fund", "other"] = Field(
        default="other", title="事项类别",
        description="elevator 加装电梯；plan 改造方案；management 物业管理方式；fund 维修资金；other 其他")
    scope: VoteScope = Field(default_factory=VoteScope, title="表决范围")
    rule: Text = Field(title="表决规则（programme.yaml 中 votes.rules 的名称，如 民法典278）")
    dates: VoteDates = Field(title="日期")
    organizer: Text | None = Field(default=None, title="组织单位（如 某某社区居民委员会）")
    totals: VoteTotals | None = Field(default=None, title="表决范围的户数和面积（写明时须与住户名册一致）")
    cost: Money | None = Field(default=None, title="加装电梯费用中由业主分摊的金额（元）")
    illustrative: bool = Field(default=False, title="示例数据")


class Ballot(Record):
    """One household's returned ballot."""

    building: Text = Field(title="楼栋")
    unit: Text | None = Field(default=None, title="单元")
    room: Text = Field(title="房号")
    choice: Text = Field(title="表决意见")
    """同意/不同意/弃权/未参加, checked by a rule so a wrong word is reported with its row."""
    signer: Text | None = Field(default=None, title="签署人")
    """业主 or 代理人; empty counts as 业主."""
    proxy: Text | None = Field(default=None, title="代理人姓名")
    authority: Text | None = Field(default=None, title="授权委托书")
    """What shows the proxy may sign: 授权委托书编号 or a description; required for a proxy."""
    date: dt.date | None = Field(default=None, title="签署日期")
    remarks: Text | None = Field(default=None, title="备注")

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.building, self.unit or "", self.room)

    @property
    def by_proxy(self) -> bool:
        return self.signer == "代理人" or self.proxy is not None


BALLOT_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (name, info.title or name) for name, info in Ballot.model_fields.items()
)
_BY_HEADING = {heading_key(title): name for name, title in BALLOT_COLUMNS}
_TITLES = dict(BALLOT_COLUMNS)


class Ballots(Record):
    ballots: tuple[Ballot, ...] = Field(title="表决票")
    rows: tuple[int, ...] = Field(title="行号")


def household_key(h: Household) -> tuple[str, str, str]:
    """The key a ballot is matched to its household by."""
    return (h.building, h.unit or "", h.room)


def electorate(vote: Vote, roster: Roster) -> list[Household]:
    """The roster's households of the vote's scope, in roster order."""
    return [h for h in roster.households if vote.scope.holds(h)]


def _value(field: str, raw: Any) -> Any:
    """A cell's value as the ballot holds it; ValueError with the problem in Chinese."""
    if field == "date":
        return read_date(raw)
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a room number Excel stored as a number
    return str(raw).strip()


def parse_ballots(rows: Iterable[tuple[int, dict[str, Any]]], where: str) -> Ballots:
    """Ballots of rows already split into fields; DataError naming every bad cell by row and column."""
    ballots, numbers, problems = [], [], []
    for number, cells in rows:
        values: dict[str, Any] = {}
        for field, raw in cells.items():
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            try:
                values[field] = _value(field, raw)
            except ValueError as exc:
                problems.append(Problem(where, str(exc), field=f"第{number}行“{_TITLES[field]}”列"))
        try:
            ballots.append(Ballot.model_validate(values))
            numbers.append(number)
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                if field in values or err["type"] == "missing":
                    message = "不能为空" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
                    problems.append(Problem(where, message, field=f"第{number}行“{_TITLES.get(field, field)}”列"))
    if problems:
        raise DataError(problems)
    return Ballots(ballots=tuple(ballots), rows=tuple(numbers))


def read_headings(headings: list[Any], where: str) -> tuple[dict[int, str], list[str]]:
    """Map column positions to ballot fields by their headings; the problems found."""
    found: dict[int, str] = {}
    problems = []
    for index, heading in enumerate(headings):
        if heading is None or str(heading).strip() == "":
            continue
        field = _BY_HEADING.get(heading_key(str(heading)))
        if field is None:
            continue  # the workbook's own columns (户主姓名, 建筑面积) are for reading, not for import
        if field in found.values():
            problems.append(f"{where}第{index + 1}列：列名“{heading}”重复")
        else:
            found[index] = field
    for field in ("building", "room", "choice"):
        if field not in found.values():
            problems.append(f"{where}缺少“{_TITLES[field]}”列")
    return found, problems


def csv_records(path: Any, command: str) -> Iterator[tuple[int, list[str]]]:
    """The line number and cells of each row of a UTF-8 CSV file that is neither blank nor a # comment;
    DataError when it is not UTF-8 (command: the import that writes it properly)."""
    try:
        text = sealed.read(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError([Problem(path, f"不是 UTF-8 编码的文本；请用 {command} 从 Excel 导入")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    for record in reader:
        if (record and record[0].startswith("#")) or not any(v.strip() for v in record):
            continue
        yield reader.line_num, record


def csv_bytes(rows: Iterable[list[str]]) -> bytes:
    """A CSV file's bytes as Excel and WPS open it in Chinese: UTF-8 with a byte-order mark, CRLF lines."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def read_ballots(path: Any) -> Ballots:
    """Read a vote's ballots file; DataError naming the file, row and column of every problem."""
    fields: dict[int, str] | None = None
    rows = []
    for line, record in csv_records(path, "gaizao vote import"):
        if fields is None:
            fields, problems = read_headings(record, "")
            if problems:
                raise DataError([Problem(path, p) for p in problems])
            continue
        rows.append((line, {fields[i]: v for i, v in enumerate(record) if i in fields and v.strip()}))
    if fields is None:
        raise DataError([Problem(path, "没有列名行（楼栋、房号、表决意见……）")])
    return parse_ballots(rows, str(path))


def write_ballots(ballots: Iterable[Ballot]) -> bytes:
    """The ballots file's bytes: a heading row, then one row per ballot."""
    return csv_bytes([[title for _, title in BALLOT_COLUMNS],
                      *(["" if getattr(b, n) is None else str(getattr(b, n)) for n, _ in BALLOT_COLUMNS]
                        for b in ballots)])
