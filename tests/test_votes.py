"""Owners' votes: hand-computed counts at each threshold's edge, proxies, the vote rules, the elevator's shares."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.data.roster import Household, Roster
from generator.data.votes import Ballot, Ballots, Vote
from generator.errors import DataError
from generator.rules.checks import check_all
from generator.rules.votes import count, elevator_shares, floor_of

BUNDLED = load(BUNDLED_DATA)
COMMUNITY = "dongqu-01"
VOTE = "test-vote"

Row = tuple[str, str, Any, str | None]
"""One household: unit, room, floor area, choice (None: no ballot)."""


def with_vote(rows: Sequence[Row], rule: str = "民法典278", ballots: Sequence[Ballot] = (),
              **vote: Any) -> DataSet:
    """The bundled data with a roster of building 9栋 and one vote over it."""
    people = tuple(Household(building="9栋", unit=u, room=r, area=None if a is None else Decimal(a))
                   for u, r, a, _ in rows)
    roster = Roster(households=people, rows=tuple(range(3, 3 + len(people))))
    made = [Ballot(building="9栋", unit=u, room=r, choice=c) for u, r, _, c in rows if c is not None]
    made += list(ballots)
    v = Vote.model_validate({"community": COMMUNITY, "matter": "9栋加装电梯", "rule": rule,
                             "scope": {"building": "9栋"},
                             "dates": {"start": dt.date(2018, 7, 1), "end": dt.date(2018, 7, 10)}, **vote})
    return dataclasses.replace(
        BUNDLED, rosters={**BUNDLED.rosters, COMMUNITY: roster}, votes={VOTE: v},
        ballots={VOTE: Ballots(ballots=tuple(made), rows=tuple(range(2, 2 + len(made))))},
        sources={**BUNDLED.sources, f"vote:{VOTE}": Path("votes/test-vote.yaml"),
                 f"ballots:{VOTE}": Path("votes/test-vote.csv")})


def rules_of(data: DataSet) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in check_all(data) if f.rule.startswith("VOTE-")]


def test_exactly_two_thirds_of_the_area_and_of_the_owners_take_part_and_pass() -> None:
    # 3 households of 50 m²: 2 take part = 2/3 of heads and exactly 100/150 = 2/3 of the area
    data = with_vote([("1", "101", 50, "同意"), ("1", "201", 50, "同意"), ("1", "301", 50, None)])
    outcome = count(data, VOTE)
    assert outcome.passed is True, outcome.reason
    group = outcome.groups[0]
    assert (group.households, group.voted, group.yes, group.absent) == (3, 2, 2, 1)
    assert group.area_voted == Decimal(100) and group.area == Decimal(150)


def test_a_hair_under_two_thirds_of_the_area_fails_participation() -> None:
    # 100 of 150.01 m² is just under 2/3
    data = with_vote([("1", "101", 50, "同意"), ("1", "201", 50, "同意"), ("1", "301", "50.01", None)])
    outcome = count(data, VOTE)
    assert outcome.passed is False
    assert outcome.reason == "参与表决的建筑面积占全部建筑面积的66.7%，低于2/3"


def test_three_quarters_of_the_owners_pass_and_one_vote_fewer_fails() -> None:
    # 8 households of equal area all take part: 6 agree = 3/4 exactly; 5 agree is 62.5 %
    rows: list[Row] = [("1", f"{f}01", 60, "同意" if f <= 6 else "不同意") for f in range(1, 9)]
    assert count(with_vote(rows), VOTE).passed is True
    rows[5] = ("1", "601", 60, "不同意")
    outcome = count(with_vote(rows), VOTE)
    assert outcome.passed is False
    assert outcome.reason == "同意的户数占参与表决户数的62.5%，低于3/4"


def test_abstaining_takes_part_but_does_not_agree() -> None:
    # 4 take part (3 agree, 1 abstains): 3/4 of the participants exactly
    rows: list[Row] = [("1", "101", 60, "同意"), ("1", "201", 60, "同意"), ("1", "301", 60, "同意"),
                       ("1", "401", 60, "弃权")]
    outcome = count(with_vote(rows), VOTE)
    assert outcome.passed is True
    assert (outcome.groups[0].abstain, outcome.groups[0].voted) == (1, 4)
    rows.append(("1", "501", 60, "弃权"))
    assert count(with_vote(rows), VOTE).passed is False  # 3 of 5


def test_heads_pass_and_the_area_fails() -> None:
    # 3 small flats agree, the large one disagrees: 3/4 of the heads, 30/130 of the area
    rows: list[Row] = [("1", "101", 10, "同意"), ("1", "201", 10, "同意"), ("1", "301", 10, "同意"),
                       ("1", "401", 100, "不同意")]
    outcome = count(with_vote(rows), VOTE)
    group = outcome.groups[0]
    assert group.verdicts["households"].approval is True
    assert group.verdicts["area"].approval is False
    assert outcome.passed is False
    assert outcome.reason == "同意的建筑面积占参与表决建筑面积的23.1%，低于3/4"


def test_double_half_needs_more_than_half_of_all() -> None:
    # 双过半 counts against everyone: 2 of 4 agree is half, not more than half
    rows: list[Row] = [("1", "101", 50, "同意"), ("1", "201", 50, "同意"), ("1", "301", 50, "不同意"),
                       ("1", "401", 50, None)]
    assert count(with_vote(rows, rule="双过半"), VOTE).passed is False
    rows[3] = ("1", "401", 50, "同意")
    assert count(with_vote(rows, rule="双过半"), VOTE).passed is True


def test_a_proxy_without_authority_is_an_error_and_with_it_counts() -> None:
    rows: list[Row] = [("1", "101", 50, "同意"), ("1", "201", 50, None)]
    proxy = Ballot(building="9栋", unit="1", room="201", choice="同意", signer="代理人", proxy="王某")
    found = rules_of(with_vote(rows, ballots=[proxy]))
    assert ("VOTE-PROXY", "9栋1单元201由代理人签署，但没有记录授权委托书") in found
    signed = proxy.model_copy(update={"authority": "委托书第3号"})
    data = with_vote(rows, ballots=[signed])
    assert rules_of(data) == []
    assert count(data, VOTE).groups[0].yes == 2


def test_a_household_voting_twice_outside_the_scope_or_not_in_the_roster() -> None:
    rows: list[Row] = [("1", "101", 50, "同意"), ("1", "201", 50, "不同意")]
    again = Ballot(building="9栋", unit="1", room="101", choice="不同意")
    stranger = Ballot(building="9栋", unit="1", room="909", choice="同意")
    data = with_vote(rows, ballots=[again, stranger])
    found = rules_of(data)
    assert ("VOTE-TWICE", "9栋1单元101投了两次票（另见第2行）") in found
    assert ("VOTE-TOTALS", "9栋1单元909不在住户名册中") in found
    # the first ballot counts; the repeated one is an error to resolve, never a second vote
    assert count(data, VOTE).groups[0].yes == 1
    unit_vote = with_vote(rows, scope={"building": "9栋", "unit": "2"})
    assert ("VOTE-SCOPE", "住户名册中没有9栋2单元的住户") in rules_of(unit_vote)


def test_a_ballot_of_another_unit_is_outside_the_scope() -> None:
    rows: list[Row] = [("1", "101", 50, "同意"), ("2", "101", 50, "同意")]
    data = with_vote(rows, scope={"building": "9栋", "unit": "1"})
    assert ("VOTE-SCOPE", "9栋2单元101不在表决范围（9栋1单元）内") in rules_of(data)
    assert count(data, VOTE).groups[0].households == 1


def test_missing_area_totals_and_wrong_choice_are_named() -> None:
    rows: list[Row] = [("1", "101", None, "同意"), ("1", "201", 50, "赞成")]
    data = with_vote(rows, totals={"households": 3, "area": 50})
    found = rules_of(data)
    assert ("VOTE-AREA", "规则“民法典278”按建筑面积计票，住户名册中9栋1单元101未填建筑面积") in found
    assert ("VOTE-TOTALS", "写为3户，住户名册中9栋为2户") in found
    assert ("VOTE-CHOICE", "“赞成”不是可选的意见，只能是：同意、不同意、弃权、未参加") in found
    outcome = count(data, VOTE)
    assert outcome.passed is None and "1户住户名册未填建筑面积" in (outcome.reason or "")
    assert ("VOTE-RULE", "“三分之二”不是 programme.yaml 中的表决规则；可用：民法典278、双过半") in \
        rules_of(with_vote(rows, rule="三分之二"))


def test_elevator_shares_add_exactly_to_the_cost_and_the_top_floor_takes_the_remainder() -> None:
    # coefficients 1:0, 2:0.6, 3:0.8 times area; 100.00 元 over weights 0, 6, 8, 8 (10 m² each)
    rows: list[Row] = [("1", "101", 10, "同意"), ("1", "201", 10, "同意"), ("1", "301", 10, "同意"),
                       ("1", "302", 10, "同意")]
    shares = elevator_shares(with_vote(rows, kind="elevator", cost=Decimal("100.00")), VOTE)
    assert not isinstance(shares, str)
    # 100 × 6/22 = 27.27…, 100 × 8/22 = 36.36… twice; 0.01 left goes to 301 (top floor, first)
    assert [s.amount for s in shares] == [Decimal("0.00"), Decimal("27.27"), Decimal("36.37"),
                                          Decimal("36.36")]
    assert sum(s.amount for s in shares) == Decimal("100.00")
    assert [s.remainder for s in shares] == [0, 0, Decimal("0.01"), 0]


def test_floors_read_from_room_numbers() -> None:
    assert [floor_of(r) for r in ("101", "1203", "7", "A301")] == [1, 12, None, None]


def test_the_bundled_vote_passes_and_validates_clean() -> None:
    outcome = count(BUNDLED, "dongqu-01-dianti-1-2")
    assert BUNDLED.votes["dongqu-01-dianti-1-2"].illustrative
    assert outcome.passed is True
    group = outcome.groups[0]
    # 12 households, 11 ballots (1 against, 1 abstaining by proxy), 9 agree
    assert (group.households, group.voted, group.yes, group.no, group.abstain) == (12, 11, 9, 1, 1)
    assert [f for f in check_all(BUNDLED) if f.rule.startswith("VOTE-")] == []


def test_a_vote_file_with_a_bad_field_or_an_unknown_community_names_the_file(tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, root)
    path = root / "votes" / "dongqu-01-dianti-1-2.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("community: dongqu-01", "community: nowhere-99"),
                    encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(root)
    assert "dongqu-01-dianti-1-2.yaml" in str(err.value) and "nowhere-99" in str(err.value)
    ballots = root / "votes" / "dongqu-01-dianti-1-2.csv"
    ballots.write_text(ballots.read_text(encoding="utf-8-sig").replace("2018-07-05", "2018-13-05"),
                       encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8").replace("nowhere-99", "dongqu-01"), encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(root)
    assert "第4行“签署日期”列" in str(err.value)


def _paper(kind: str) -> str:
    from generator.documents.kinds import KINDS, community_target
    from generator.output.pipeline import Renderers, render_document
    from tests.snapshot import docx_text

    payload = render_document(BUNDLED, KINDS[kind], community_target(BUNDLED, COMMUNITY), Renderers(BUNDLED, None))
    text = docx_text(payload)
    assert "{{" not in text and "{%" not in text
    return text


def test_the_ballots_are_prefilled_per_household_of_the_scope() -> None:
    text = _paper("ballot")
    # one ballot per household of 1栋2单元, names in full (they go to that household only)
    assert text.count("1栋2单元加装电梯业主表决票") == 12
    assert "毛春燕" in text and "1栋2单元101" in text and "49.4㎡" in text
    assert "按1栋2单元计票，参与表决的户数和建筑面积均不低于2/3" in text
    assert "杨杰涛" not in text  # 1栋1单元 does not vote


def test_the_result_notice_masks_names_and_says_pass_or_fail() -> None:
    text = _paper("vote-result")
    assert "毛*燕" in text and "毛春燕" not in text and "贾*学" in text
    # one row a count, households and floor area side by side (a column of numbers never wraps)
    assert "| 总数 | 12 | 975.40 |" in text and "| 参与比例（参与表决÷总数） | 91.7% | 87.7% |" in text
    assert "| 同意比例（同意÷参与表决） | 81.8% | 82.6% |" in text
    assert "“1栋2单元加装电梯”表决通过" in text
    register = _paper("vote-register")
    assert "贾某（示例）（委托书第1号（示例））" in register and "毛春燕" in register


def test_the_elevator_table_adds_up_and_states_its_remainder() -> None:
    text = _paper("elevator-costs")
    assert "| 合计 |" in text and "360,000.00" in text
    assert "舍去的零头合计0.04元由6**（最高层的第一户）承担" in text


def test_a_community_without_a_vote_is_not_reported_as_skipped_unless_the_paper_is_asked_for() -> None:
    from generator.output.pipeline import Selection, plan_jobs

    jobs, skips = plan_jobs(BUNDLED, Selection(project="dongqu-02"))
    assert not [s for s in skips if s.kind.key in ("ballot", "vote-result", "satisfaction-form")]
    jobs, skips = plan_jobs(BUNDLED, Selection(kinds=("ballot",), project="dongqu-02"))
    assert [(s.kind.key, s.reason) for s in skips] == [
        ("ballot", "没有业主表决（votes/），或表决所在小区没有住户名册")]
    jobs, skips = plan_jobs(BUNDLED, Selection(project="dongqu-01"))
    assert {"ballot", "vote-register", "vote-result", "elevator-costs"} <= {j.kind.key for j in jobs}


def test_an_elevator_cost_needs_floors_and_the_programmes_coefficients() -> None:
    rows: list[Row] = [("1", "101", 10, "同意"), ("1", "A02", 10, "同意")]
    data = with_vote(rows, kind="elevator", cost=Decimal("1000.00"))
    assert ("VOTE-COST", "9栋1单元A02：无法从房号判断楼层（应如 301、1203）") in rules_of(data)
    assert elevator_shares(data, VOTE) == "9栋1单元A02：无法从房号判断楼层"
    bare = dataclasses.replace(data, programme=data.programme.model_copy(update={"votes": data.programme.votes
                               and data.programme.votes.model_copy(update={"elevator": None})}))
    assert ("VOTE-COST", "programme.yaml 未写 votes.elevator（各楼层分摊系数）") in rules_of(bare)


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")
def test_no_number_of_the_result_notice_is_broken_across_lines(tmp_path: Path) -> None:
    """As LibreOffice lays it out, every count, area and rate of the notice stands whole on one line,
    also when a whole community's floor area runs to hundreds of thousands of ㎡."""
    import subprocess

    from generator.documents.kinds import KINDS, community_target
    from generator.documents.votes import result_context
    from generator.output.pdf import to_pdf
    from generator.output.pipeline import Renderers, render_document
    from generator.render.filters import percent, yuan

    roster = BUNDLED.rosters[COMMUNITY]
    big = roster.model_copy(update={"households": tuple(
        h.model_copy(update={"area": h.area * 1000 + Decimal("0.99")}) if h.area is not None else h
        for h in roster.households)})
    cases = {"bundled": BUNDLED, "big": dataclasses.replace(BUNDLED, rosters={**BUNDLED.rosters, COMMUNITY: big})}
    paths = []
    for name, data in cases.items():
        paths.append(tmp_path / f"{name}.docx")
        paths[-1].write_bytes(render_document(data, KINDS["vote-result"], community_target(data, COMMUNITY),
                                              Renderers(data, None)))
    done = to_pdf(paths)
    assert not done.failed
    for pdf in sorted(done.done):
        data = cases[pdf.stem]
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        tokens = {t for line in text.splitlines() for t in line.split()}
        (vote,) = result_context(data, data.projects[COMMUNITY])["votes"]
        g = vote["groups"][0]
        numbers = [str(g[k]) for k in ("households", "voted", "yes", "no", "abstain", "absent")]
        numbers += [yuan(g[k]) for k in ("area", "area_voted", "area_yes", "area_no", "area_abstain", "area_absent")]
        numbers += [percent(g[k]) for k in ("voted_rate", "yes_rate", "area_voted_rate", "area_yes_rate")]
        assert len(yuan(g["area"])) >= 10 or pdf.stem == "bundled"  # 975,411.28 and the like
        missing = [n for n in numbers if n not in tokens]
        assert not missing, f"{pdf.stem}: 断行的数字 {missing}"


def test_a_rule_by_households_counted_per_unit_prints_a_table_a_unit_without_areas() -> None:
    from generator.data.votes import VoteScope
    from generator.documents.kinds import KINDS, community_target
    from generator.output.pipeline import Renderers, render_document
    from tests.snapshot import docx_text

    programme = BUNDLED.programme
    assert programme.votes is not None
    rules = programme.votes.rules
    per_unit = rules["双过半"].model_copy(update={"by": ["households"], "scope": "unit"})
    votes = programme.votes.model_copy(update={"rules": {**rules, "逐单元过半": per_unit}})
    vid = "dongqu-01-dianti-1-2"
    vote = BUNDLED.votes[vid].model_copy(update={"rule": "逐单元过半", "scope": VoteScope()})
    data = dataclasses.replace(BUNDLED, programme=programme.model_copy(update={"votes": votes}),
                               votes={vid: vote})
    groups = count(data, vid).groups
    assert len(groups) > 1
    text = docx_text(render_document(data, KINDS["vote-result"], community_target(data, COMMUNITY),
                                     Renderers(data, None)))
    assert "{{" not in text and "{%" not in text
    assert text.count("| 项目 | 户数 |\n") == len(groups) and "建筑面积（㎡）" not in text
    for g in groups:  # each unit named above its own table, its households counted
        assert f"\n{g.name}：\n| 项目 | 户数 |\n| 总数 | {g.households} |\n" in text
    assert "| 同意比例（同意÷总数） |" in text  # 双过半 counts agreement against all households
