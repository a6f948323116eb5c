"""The residents' satisfaction survey after completion (居民满意度调查): the questionnaire and the answers.

A survey is data/satisfaction/<survey id>.yaml: its community, date, answer scale (each answer
with its score) and questions in the groups the programme scores (改造内容, 过程管理, 长效管理).
The answers come back as data/satisfaction/<survey id>.csv, one row per returned questionnaire:
the household's address when the form was pre-filled (blank for a blank form), then one column
per question numbered 1, 2, 3 … holding the answer's words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import Field, model_validator

from generator.data.models import Number, Record, Text
from generator.data.votes import csv_bytes, csv_records
from generator.errors import DataError, Problem

SATISFACTION = "satisfaction"
"""The folder of satisfaction surveys under the data folder."""
ADDRESS: tuple[tuple[str, str], ...] = (("building", "楼栋"), ("unit", "单元"), ("room", "房号"))


class Answer(Record):
    text: Text = Field(title="选项（如 满意）")
    score: Number = Field(title="得分")
    satisfied: bool = Field(default=False, title="计入满意率")


class Question(Record):
    text: Text = Field(title="题目")


class QuestionGroup(Record):
    name: Text = Field(title="方面（如 改造内容、过程管理、长效管理）")
    questions: list[Question] = Field(title="题目", min_length=1)


class SatisfactionSurvey(Record):
    """One community's questionnaire."""

    community: Text = Field(title="小区编号")
    title: Text | None = Field(default=None, title="问卷标题（不写为“小区名称老旧小区改造居民满意度调查问卷”）")
    date: dt.date = Field(title="调查日期")
    organizer: Text | None = Field(default=None, title="组织单位")
    scale: list[Answer] = Field(title="答案及得分", min_length=2)
    groups: list[QuestionGroup] = Field(title="题目分组", min_length=1)
    illustrative: bool = Field(default=False, title="示例数据")

    @model_validator(mode="after")
    def _distinct_answers(self) -> SatisfactionSurvey:
        texts = [a.text for a in self.scale]
        if len(set(texts)) != len(texts):
            raise ValueError("答案选项（scale）有重复")
        return self

    def numbered(self) -> list[tuple[int, QuestionGroup, Question]]:
        """Every question with its number (1, 2, … across the groups) and group."""
        out, no = [], 0
        for group in self.groups:
            for q in group.questions:
                no += 1
                out.append((no, group, q))
        return out


class Returned(Record):
    """One returned questionnaire: where from (optional) and the answer to each question by number."""

    building: str | None = None
    unit: str | None = None
    room: str | None = None
    answers: dict[int, str] = Field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str] | None:
        if self.building is None or self.room is None:
            return None
        return (self.building, self.unit or "", self.room)


class Responses(Record):
    returned: tuple[Returned, ...]
    rows: tuple[int, ...]


def parse_rows(rows: Iterable[tuple[int, dict[str, Any]]], questions: int, where: str) -> Responses:
    """Responses of rows already split by heading (楼栋/单元/房号 or a question number); DataError naming
    the row and column of a question number the survey does not have."""
    out, numbers, problems = [], [], []
    titles = dict(ADDRESS)
    for number, cells in rows:
        address: dict[str, str] = {}
        answers: dict[int, str] = {}
        for heading, raw in cells.items():
            text = _text(raw)
            if text is None:
                continue
            if heading in titles.values():
                address[next(k for k, v in titles.items() if v == heading)] = text
                continue
            no = int(heading)
            if not 1 <= no <= questions:
                problems.append(Problem(where, f"问卷只有{questions}题", field=f"第{number}行“{heading}”列"))
                continue
            answers[no] = text
        if answers or address:
            out.append(Returned(**address, answers=answers))
            numbers.append(number)
    if problems:
        raise DataError(problems)
    return Responses(returned=tuple(out), rows=tuple(numbers))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def heading(value: Any) -> str | None:
    """A column heading as the answers know it: 楼栋, 单元, 房号 or a question number ('3' for 3 or 第3题)."""
    text = _text(value)
    if text is None:
        return None
    if text in dict(ADDRESS).values():
        return text
    digits = text.removeprefix("第").removesuffix("题")
    return str(int(digits)) if digits.isdigit() else None


def read_responses(path: Any, questions: int) -> Responses:
    """Read a survey's answers file; DataError naming the file, row and column of every problem."""
    fields: dict[int, str] | None = None
    rows = []
    for line, record in csv_records(path, "gaizao satisfaction import"):
        if fields is None:
            fields = {i: h for i, v in enumerate(record) if (h := heading(v)) is not None}
            continue
        rows.append((line, {fields[i]: v for i, v in enumerate(record) if i in fields}))
    return parse_rows(rows, questions, str(path))


def write_responses(survey: SatisfactionSurvey, responses: Iterable[Returned]) -> bytes:
    """The answers file's bytes: 楼栋, 单元, 房号, then one column per question."""
    numbers = range(1, len(survey.numbered()) + 1)
    return csv_bytes([[t for _, t in ADDRESS] + [str(n) for n in numbers],
                      *([r.building or "", r.unit or "", r.room or ""] + [r.answers.get(n, "") for n in numbers]
                        for r in responses)])


def scores(survey: SatisfactionSurvey) -> dict[str, Decimal]:
    """Each answer's score by its words."""
    return {a.text: Decimal(a.score) for a in survey.scale}


def full_mark(survey: SatisfactionSurvey) -> Decimal:
    """The scale's highest score (100 for 满意 = 100): a chart's bars are measured against it."""
    return max(scores(survey).values())
