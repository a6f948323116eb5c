"""The satisfaction survey's tally (by question, by group, overall) and what is wrong in its answers.

A score is the mean of the answers' scores (each answer counts once; an unanswered question counts
in neither the sum nor the number), rounded half up to 0.01 only when printed; the 满意率 is the
share of answers whose scale entry says satisfied.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from generator.data.loader import DataSet
from generator.data.roster import household_address
from generator.data.satisfaction import scores

CENT = Decimal("0.01")


@dataclass
class Score:
    """Answers counted for a question, a group or the whole questionnaire."""

    name: str
    counts: dict[str, int] = field(default_factory=dict)
    """By answer, in the scale's order."""
    total: Decimal = Decimal(0)
    satisfied: int = 0

    @property
    def answered(self) -> int:
        return sum(self.counts.values())

    @property
    def score(self) -> Decimal | None:
        """The mean score, to 0.01 (half up); None without answers."""
        if not self.answered:
            return None
        return (self.total / self.answered).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def rate(self) -> Decimal | None:
        return Decimal(self.satisfied) / self.answered if self.answered else None


@dataclass
class Tally:
    questions: list[tuple[int, str, Score]]
    """(number, group name, score) per question."""
    groups: list[Score]
    overall: Score
    returned: int


def tally(data: DataSet, survey_id: str) -> Tally:
    """Count a survey's returned questionnaires by question, by group and overall."""
    survey = data.satisfaction[survey_id]
    points = scores(survey)
    happy = {a.text for a in survey.scale if a.satisfied}
    order = [a.text for a in survey.scale]
    numbered = survey.numbered()
    group_of = {no: g.name for no, g, _ in numbered}
    # answers counted once per question; groups and the whole are sums of those counts (a city's
    # assessment tallies thousands of surveys: no Decimal arithmetic per answer)
    counted: dict[int, dict[str, int]] = {no: dict.fromkeys(order, 0) for no in group_of}
    held = data.responses.get(survey_id)
    for r in held.returned if held else ():
        for no, text in r.answers.items():
            if text in points:  # else SATISFY-ANSWER names it
                counted[no][text] += 1

    def score(name: str, questions: list[int]) -> Score:
        counts = {t: sum(counted[no][t] for no in questions) for t in order}
        return Score(name, counts, sum((points[t] * n for t, n in counts.items()), Decimal(0)),
                     sum(n for t, n in counts.items() if t in happy))

    groups = {g.name: [no for no, name in group_of.items() if name == g.name] for g in survey.groups}
    return Tally([(no, group_of[no], score(q.text, [no])) for no, _, q in numbered],
                 [score(name, nos) for name, nos in groups.items()], score("总体", list(group_of)),
                 len(held.returned) if held else 0)


Issue = tuple[str, int, str, str]
"""A problem in the answers: rule id, row, column, message."""


def issues(data: DataSet, survey_id: str) -> Iterator[Issue]:
    """Answers outside the scale, households not in the roster or returning two questionnaires."""
    survey = data.satisfaction[survey_id]
    held = data.responses.get(survey_id)
    if held is None:
        return
    points = scores(survey)
    roster = data.rosters.get(survey.community)
    known = {(h.building, h.unit or "", h.room) for h in roster.households} if roster else None
    seen: dict[tuple[str, str, str], int] = {}
    for r, row in zip(held.returned, held.rows, strict=True):
        for no, text in sorted(r.answers.items()):
            if text not in points:
                yield ("SATISFY-ANSWER", row, f"第{no}题",
                       f"“{text}”不是问卷的选项，只能是：{'、'.join(points)}")
        key = r.key
        if key is None:
            continue
        where = household_address(*key)
        if known is not None and key not in known:
            yield "SATISFY-ROSTER", row, "房号", f"{where}不在住户名册中"
        if key in seen:
            yield "SATISFY-ROSTER", row, "房号", f"{where}交了两份问卷（另见第{seen[key]}行）"
        else:
            seen[key] = row
