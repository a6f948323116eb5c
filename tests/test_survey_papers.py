"""The survey's papers: a pre-filled form per household, blank forms without a roster, the tally,
and no resident's name, phone or room on any paper but the committee's own forms."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from generator.data.loader import DataSet
from generator.data.roster import tally
from generator.documents.kinds import KINDS, community_target
from generator.documents.survey import survey_context
from generator.output.pipeline import Result
from generator.rules.checks import survey_tally
from tests.snapshot import docx_text, xml_text

FORM_TITLE = "老旧小区改造入户意见征询表"


def _folder(result: Result, data: DataSet, community: str) -> Path:
    return result.out / KINDS["survey"].where(data, community_target(data, community)).rsplit("/", 1)[0]


def _path(result: Result, data: DataSet, community: str, kind: str) -> Path:
    return result.out / KINDS[kind].where(data, community_target(data, community))


def _body(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read("word/document.xml").decode("utf-8")


def test_jinfu_has_a_prefilled_form_for_each_of_its_1130_households(full_build: Result, bundled: DataSet) -> None:
    path = _path(full_build, bundled, "dongqu-02", "survey")
    xml = _body(path)
    assert xml.count(FORM_TITLE) == 1130
    # each form after the first starts a section on an odd page, numbered from 1
    assert xml.count('w:type w:val="oddPage"') == 1129
    text = xml_text(path)
    roster = bundled.rosters["dongqu-02"]
    for h in (roster.households[0], roster.households[577], roster.households[-1]):
        assert h.head and h.phone and h.head in text and h.phone in text and h.address in text
    assert text.count("dongqu-02-") == 1130 and "dongqu-02-1130" in text


def test_without_a_roster_and_before_the_survey_the_forms_are_blank_one_per_household(
        full_build: Result, bundled: DataSet) -> None:
    for community in ("renhe-24", "fantai-30"):  # at the survey stage, no results recorded yet
        assert community not in bundled.rosters and bundled.projects[community].survey is None
        path = _path(full_build, bundled, community, "survey")
        # every form carries its number, 表格编号 renhe-24-0001 …
        assert xml_text(path).count(f"{community}-") == bundled.communities[community].households
    project = bundled.projects["dongqu-10"]
    forms = survey_context(bundled, project, "full", blank=12)["households"]
    assert len(forms) == 12 and all(f["head"] == "" and f["phone"] == "" for f in forms)


def test_after_the_survey_without_a_roster_no_blank_forms_unless_asked(
        full_build: Result, bundled: DataSet, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from generator.cli import main
    from generator.documents.kinds import FORMS_DONE

    # dongqu-10 was surveyed in 2019 and is at 方案公示: 210 blank forms would be paper nobody prints.
    assert "dongqu-10" not in bundled.rosters and bundled.projects["dongqu-10"].survey is not None
    assert not (_path(full_build, bundled, "dongqu-10", "survey")).exists()
    assert KINDS["survey"].needs(bundled, community_target(bundled, "dongqu-10")) == FORMS_DONE
    made = CliRunner().invoke(main, ["build", "--kind", "survey", "--project", "dongqu-10", "--all-forms",
                                     "--out", str(tmp_path), "-q"])
    assert made.exit_code == 0, made.output
    forms = tmp_path / KINDS["survey"].where(bundled, community_target(bundled, "dongqu-10"))
    assert xml_text(forms).count("dongqu-10-") == 210


def test_the_tally_counts_the_roster(full_build: Result, bundled: DataSet) -> None:
    path = _path(full_build, bundled, "xiqu-03", "survey-tally")
    text = docx_text(path)
    roster = bundled.rosters["xiqu-03"]
    total = tally(roster.households)
    assert (total.support, total.oppose, total.no_answer) == (93, 1, 2)
    assert "征询96户，同意93户，不同意1户，未表态2户，按户数计居民支持率96.9%" in text
    assert "达到居民支持率不低于90%的要求" in text
    wanted: dict[str, int] = {}
    for h in roster.households:
        for item in h.wants:
            wanted[item] = wanted.get(item, 0) + 1
    order = list(bundled.items)
    ranked = sorted(wanted.items(), key=lambda kv: (-kv[1], order.index(kv[0])))
    for no, (item, count) in enumerate(ranked, start=1):
        assert f"| {no} | {item} | {count} |" in text
    assert "社区居民委员会（盖章）" in text
    # made wherever the survey's result is known: from a roster's answers or the recorded counts
    skipped = {s.target.community.id for s in full_build.skipped if s.kind.key == "survey-tally"}
    assert skipped == {c for c in bundled.communities
                       if c not in bundled.projects or survey_tally(bundled, bundled.projects[c]) is None}
    assert "dongqu-10" not in skipped


def test_after_a_survey_without_a_roster_the_tally_shows_the_recorded_counts(
        full_build: Result, bundled: DataSet) -> None:
    """dongqu-10 was surveyed (199 for, 4 against, 7 no answer) with no roster: its packet shows the
    result, in total, and says where the counts come from; the application lists it."""
    assert "dongqu-10" not in bundled.rosters
    path = _path(full_build, bundled, "dongqu-10", "survey-tally")
    text = docx_text(path)
    assert "| 全小区 | 210 | 199 | 4 | 7 | 0 | 94.8% |" in text
    assert "征询210户，同意199户，不同意4户，未表态7户，按户数计居民支持率94.8%" in text
    assert "征询时间 | 2019年3月14日 |" in text and "一、按楼栋汇总" not in text
    assert "社区居民委员会录入" in text and "二、居民希望改造的项目" not in text
    assert "愿意分担" not in text and "None" not in text and "{{" not in text
    application = _path(full_build, bundled, "dongqu-10", "application")
    if application.exists():
        assert "炳草岗酿造厂小区（鸿海巷小区）老旧小区改造居民意见征询结果汇总表" in docx_text(application)


def test_the_application_lists_the_tally_as_its_attachment(full_build: Result, bundled: DataSet) -> None:
    with_roster = _path(full_build, bundled, "xiqu-03", "application")
    assert "附件：1.玉树巷整治项目老旧小区改造居民意见征询结果汇总表" in docx_text(with_roster)


def test_masked_households_show_no_full_name_phone_or_room(bundled: DataSet) -> None:
    project = bundled.projects["dongqu-01"]
    full = survey_context(bundled, project, "full")["households"]
    masked = survey_context(bundled, project, "masked")["households"]
    assert survey_context(bundled, project, "none")["households"] == []
    for f, m in zip(full, masked, strict=True):
        assert m["head"] == f["head"][0] + "*" * (len(f["head"]) - 2) + f["head"][-1] or len(f["head"]) == 2
        assert m["phone"] == f["phone"][:3] + "****" + f["phone"][-4:]
        assert m["room"] != f["room"] and m["room"][0] == f["room"][0]


def test_no_paper_but_the_committees_forms_holds_a_residents_data(full_build: Result, bundled: DataSet) -> None:
    private = {k.key for k in KINDS.values() if k.residents == "full"}
    # the committee's own forms and records: the survey's, the votes' ballots and register, the satisfaction form
    assert private == {"survey", "ballot", "vote-register", "satisfaction-form"}
    assert KINDS["notice"].residents == "none"
    values = set()
    for roster in bundled.rosters.values():
        for h in roster.households:
            values.update(v for v in (h.head, h.phone, h.address) if v)
    names = re.compile("|".join(sorted(map(re.escape, values), key=len, reverse=True)))
    checked = 0
    some = community_target(bundled, "dongqu-01")  # the built-in names do not depend on the community
    for rel in full_build.paths.rels:
        kind = next(k for k in KINDS.values() if k.scope == "community" and rel.endswith(k.file_name(bundled, some)))
        if kind.key in private or not rel.endswith(".docx"):
            continue
        found = names.findall(docx_text(full_build.out / rel))
        assert not found, f"{rel} 含有住户信息：{found[:5]}"
        checked += 1
    assert checked >= 80  # every notice, application, plan, acceptance form and tally of the build


def test_each_category_of_the_form_repeats_its_name_on_a_page_it_continues_on(
        full_build: Result, bundled: DataSet) -> None:
    """One table per category, its first row (the category over the items, 改造标准 over the
    standards) a heading row a word processor repeats on the next page when the table breaks."""
    folder = _folder(full_build, bundled, "dongqu-01")
    with zipfile.ZipFile(folder / "01-居民意见征询表.docx") as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    first_form = xml[:xml.index("dongqu-01-0002")]
    headings = []
    for table in re.findall(r"<w:tbl>.*?</w:tbl>", first_form, re.DOTALL):
        row = re.search(r"<w:tr>.*?</w:tr>", table, re.DOTALL)
        assert row is not None
        if "<w:tblHeader/>" in row.group(0):
            headings.append(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", row.group(0)))
    names = [c.name for c in bundled.catalogue.categories]
    assert headings == [[name, "改造标准"] for name in names]
