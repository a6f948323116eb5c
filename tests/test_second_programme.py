"""A second, very different programme builds right papers of every kind with no Python change.

tests/city2023/ is a fictitious city running the programme the way cities do since 2020: central
and provincial subsidies, city and district shares, owners paying per ㎡ with a cap, three item
categories (基础类, 完善类, 提升类) with splits of their own, and 双过半 consent. The papers' money
adds up, names this programme's parties, and carries no sentence or name of the bundled
Panzhihua programme.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.data.loader import DataSet, load
from generator.documents.kinds import KINDS
from generator.rules.checks import check_all, meets_support
from generator.rules.funding import plan_funding, policy
from tests.snapshot import office_text
from tests.test_budget_xlsx import money, section

ROOT = Path(__file__).resolve().parent / "city2023"
PANZHIHUA = ("攀枝花", "5：4：1", "市煤气总公司", "县（区）政府", "80%：20%", "市级财政", "县（区）级财政",
             "小区居民", "管线单位", "房屋维修资金", "社会资本", "90%")
"""Names and sentences of the bundled programme that no paper of another programme may print."""
TEMPLATE_WORDING = ("由管线单位按照已认定的方案组织设计、施工", "代表小区居民申请")
"""Sentences the built-in Word templates themselves print (a city edits its own copy)."""


@pytest.fixture(scope="module")
def data() -> DataSet:
    return load(ROOT)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every paper the programme's data makes, built through the command line."""
    out = tmp_path_factory.mktemp("city2023")
    for command in (["build", "-j", "1", "-q"], ["report"]):
        result = CliRunner().invoke(main, ["--data", str(ROOT), *command, "--out", str(out)])
        assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def papers(built: Path) -> dict[str, str]:
    """path → text of every paper built."""
    return {str(p.relative_to(built)): office_text(p) for p in sorted(built.rglob("*"))
            if p.suffix in (".docx", ".xlsx")}


def test_the_programme_loads_and_passes_every_rule(data: DataSet) -> None:
    assert [f for f in check_all(data) if f.severity == "error"] == []
    assert data.programme.eligibility.consent is not None
    assert all(meets_support(data, p) for p in data.projects.values())


def test_a_paper_of_every_kind_is_built(built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    made = {entry["kind"] for entry in manifest["documents"]}
    assert made == set(KINDS), set(KINDS) - made


def test_no_paper_prints_a_name_or_sentence_of_the_bundled_programme(papers: dict[str, str]) -> None:
    for path, text in papers.items():
        for sentence in TEMPLATE_WORDING:
            text = text.replace(sentence, "")
        found = [word for word in PANZHIHUA if word in text]
        assert not found, (path, found)


def test_the_papers_name_the_programmes_own_parties(data: DataSet, papers: dict[str, str]) -> None:
    # the district's share is named after the district's own government (wording party.district)
    names = {**data.programme.parties.ordered(), "district": "江城市江北区人民政府"}
    budget = next(t for p, t in papers.items() if p.endswith("滨江花园/04-工程预算及资金筹集表.xlsx"))
    plan = next(t for p, t in papers.items() if p.endswith("滨江花园/03-改造方案.docx"))
    notice = next(t for p, t in papers.items() if p.endswith("滨江花园/05-改造方案公示.docx"))
    for text in (budget, plan, notice):
        assert all(name in text for name in names.values()), [n for n in names.values() if n not in text]
    for category in ("基础类", "完善类", "提升类"):
        assert f"{category}分担（" in budget and category in notice
    assert "业主按每平方米建筑面积15元出资，最多200000元" in plan
    assert "基础类按50：20：15：15分担" in notice
    for text in (plan, notice):
        assert "区级财政" not in text and "县（区）" not in text
        assert "5：4：1" not in text and "80%：20%" not in text
    # its rules in its own words: per-㎡ contributions with caps, 双过半, the three splits
    assert "完善类（" in plan and "业主按每平方米建筑面积15元出资，最多200000元，其余由" in plan
    assert "各类项目分担比例不同" in plan
    application = next(t for p, t in papers.items() if p.endswith("滨江花园/02-改造申请书.docx"))
    for text in (plan, application):  # 双过半, not the seed's minimum support rate
        assert "符合本方案的同意规则（按小区计票，同意的户数和建筑面积均超过全部户数和建筑面积的50%）" in text
        assert "居民支持率不低于" not in text


def test_the_money_adds_up_in_python_and_in_the_budget_workbook(data: DataSet, tmp_path: Path) -> None:
    from generator.documents.budget_sheet import BUDGET_BLOCKS
    from generator.documents.project import project_context
    from generator.render.xlsx import render_workbook
    from tests.test_budget_xlsx import TEMPLATE

    rules = policy(data.programme)
    assert list(rules.parties)[:2] == ["central", "province"]
    for project in data.projects.values():
        households = data.communities[project.community].households
        funding = plan_funding(data, project, households)
        assert sum(funding.by_party.values(), Decimal(0)) == funding.total
        assert funding.total == data.communities[project.community].investment_wan * 10000
        context = project_context(data, project)
        book = render_workbook(TEMPLATE, context, BUDGET_BLOCKS)
        ws = openpyxl.load_workbook(io.BytesIO(book), data_only=True).worksheets[0]
        shown = section(ws, "资金来源汇总")
        for key, amount in funding.by_party.items():
            assert money(shown[context["programme"]["parties"][key]]) == amount, key
        assert money(shown["合计"]) == funding.total
        for g in funding.groups:
            assert money(section(ws, f"{g.group.label}分担")["按比例分担的金额"]) == g.base
    # 滨江花园: owners pay 15 元/㎡ of 2100.5 ㎡ for 完善类 and 10 元/㎡ for 提升类, under the caps
    first = plan_funding(data, data.projects["jiangbei-01"], 24)
    paid = {g.group.key: [a for _, a in g.contributions] for g in first.groups}
    assert paid == {"基础类": [], "完善类": [Decimal("31507.50")], "提升类": [Decimal("21005.00")]}
    assert first.by_party["residents"] == Decimal("31507.50") + Decimal("21005.00") + Decimal("50000")


def test_the_notices_shares_add_up_to_the_total(data: DataSet, papers: dict[str, str]) -> None:
    import re

    notice = next(t for p, t in papers.items() if p.endswith("滨江花园/05-改造方案公示.docx"))
    line = next(ln for ln in notice.splitlines() if "资金筹集" in ln)
    total = Decimal(re.search(r"预算总投资([\d.]+)万元", line).group(1))  # type: ignore[union-attr]
    names = "|".join(re.escape(n) for n in {**data.programme.parties.ordered(),
                                             "district": "江城市江北区人民政府"}.values())
    parts = [Decimal(v) for _, v in re.findall(rf"({names})([\d.]+)万元", line)]
    assert len(parts) == 8 and total == Decimal("150.00")
    # plain rounding of each amount; a sum off the total by a 尾差 is said beside the figures
    assert sum(parts) == total or f"金额合计{sum(parts):,.2f}万元，与总额{total:,.2f}万元相差" in line


def test_the_consent_rule_is_the_programmes(data: DataSet) -> None:
    from generator.rules.consent import describe

    rule = data.programme.eligibility.consent
    assert rule is not None
    assert describe(rule) == "按小区计票，同意的户数和建筑面积均超过全部户数和建筑面积的50%"


def test_the_reports_count_the_money_of_every_party(data: DataSet, papers: dict[str, str]) -> None:
    report = next(t for p, t in papers.items() if p.endswith("江北区/2023年老旧小区改造试点工作报告.docx"))
    paid = data.projects["jiangbei-01"].completion.actual.model_dump()  # type: ignore[union-attr]
    assert sum(paid.values(), Decimal(0)) == Decimal("1500000.00")
    # central and provincial subsidies are money paid in like any other party's
    assert "各方实际到位资金150万元" in report and "| 合计 | 54 | 24 | 300.00 | 150.00 |" in report
    # the funding table has a column for each of the programme's parties, and its row adds up
    head = next(ln for ln in report.splitlines() if ln.startswith("| 序号 | 小区名称 | ") and "合计" in ln)
    assert head.split(" | ")[2:-1] == list(data.programme.parties.ordered().values())
    row = next(ln for ln in report.splitlines() if ln.startswith("| 1 | 滨江花园 | 42.06"))
    cells = [Decimal(c) for c in row.strip("| ").split(" | ")[2:]]
    assert sum(cells[:-1]) == cells[-1] == Decimal("150.00")


def test_a_paper_before_the_programme_says_the_programmes_own_neutral_basis() -> None:
    import dataclasses

    from generator.data.loader import BUNDLED_DATA
    from generator.documents.project import basis

    bundled = load(BUNDLED_DATA)
    project = bundled.projects["dongqu-01"]  # its plan predates the programme's issuance
    assert basis(bundled, project)["text"]["plan"] == "按照全市老旧小区改造试点工作安排"
    own = bundled.programme.model_copy(update={"neutral_basis": "按照市政府2022年第5次常务会议部署"})
    said = basis(dataclasses.replace(bundled, programme=own), project)
    assert said["text"]["plan"] == "按照市政府2022年第5次常务会议部署"
    assert said["note"] == "依据：市政府2022年第5次常务会议部署。"


@pytest.mark.parametrize(("old", "new", "said"), [
    ("shares: {city: 40, district: 60}", "shares: {city: 40, town: 60}",
     "funding.categories[2]（类别“提升类”）的出资方 town 不在 parties 中"),
    ("      remainder_to: city\n", "      remainder_to: central\n",
     "funding.categories[2]（按类别的资金分担.各类别的分担方式[2]）：尾差承担方 central 须是 shares 中的一方"),
    ("{party: residents, per_m2: 10, cap: 100000}", "{party: residents, per_m2: 10, fixed: 5}",
     "先行出资[0]）：fixed、per_m2、per_household 须填且只填一项"),
    ("  raised_to: 提升类", "  raised_to: 改善类", "funding.raised_to 的类别“改善类”不在 funding.categories 中"),
    ("    approval: 50\n", "    approval: \"5/0\"\n", "eligibility.consent.approval"),
])
def test_a_wrong_programme_is_named_in_chinese_with_file_and_field(
        tmp_path: Path, old: str, new: str, said: str) -> None:
    import shutil

    from generator.errors import DataError

    root = tmp_path / "city"
    shutil.copytree(ROOT, root)
    text = (root / "programme.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    (root / "programme.yaml").write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(DataError) as raised:
        load(root)
    assert "programme.yaml" in str(raised.value) and said in str(raised.value), str(raised.value)


def _programme_without(tmp_path: Path, *keys: str) -> Path:
    """A copy of the 2023 city whose programme.yaml leaves out the given top-level keys."""
    import shutil

    import yaml

    root = tmp_path / "city"
    shutil.copytree(ROOT, root)
    values = yaml.safe_load((root / "programme.yaml").read_text(encoding="utf-8"))
    for key in keys:
        values.pop(key, None)
    (root / "programme.yaml").write_text(yaml.safe_dump(values, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
    return root


def test_the_categories_alone_are_the_rule_without_general_or_pipeline_split(tmp_path: Path) -> None:
    """Without pipeline_split a pipeline item is paid like the other items of its category, and
    every paper (budget, 填报表 included) still adds up."""
    from generator.intake.form import export_form

    assert load(ROOT).programme.general_split is None  # the test city states no general split
    root = _programme_without(tmp_path, "pipeline_split")
    data = load(root)
    assert [f for f in check_all(data) if f.severity == "error"] == []
    project = data.projects["jiangbei-01"]
    funding = plan_funding(data, project, data.communities["jiangbei-01"].households)
    water = next(lf for lf in funding.lines if lf.line.item == "供水管网")
    assert water.rule == "general" and "utility" not in water.parts
    assert sum(funding.by_party.values(), Decimal(0)) == funding.total
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--data", str(root), "build", "-j", "1", "-q", "--out", str(out)])
    assert result.exit_code == 0, result.output
    budget = next(out.rglob("*jiangbei-01*预算*.xlsx"), None) or next(
        p for p in out.rglob("*.xlsx") if "预算" in p.name and "江北" in str(p))
    text = office_text(budget)
    assert "专营单位" not in text  # no pipeline section: the utilities pay nothing by this programme
    form = openpyxl.load_workbook(io.BytesIO(export_form(data, data.communities["jiangbei-01"])))
    labels = [c.value for row in form.worksheets[3].iter_rows() for c in row if isinstance(c.value, str)]
    assert not any("表（箱）前" in t for t in labels) and any("基础类" in t for t in labels)


def test_a_programme_without_categories_needs_both_splits(tmp_path: Path) -> None:
    root = _programme_without(tmp_path, "funding")
    result = CliRunner().invoke(main, ["--data", str(root), "validate"])
    assert result.exit_code != 0
    assert "缺少 general_split（一般项目分担比例）" in result.output, result.output
    assert "funding.categories" in result.output


def test_a_category_without_a_split_is_named_when_there_is_no_general_split(tmp_path: Path) -> None:
    import yaml

    root = _programme_without(tmp_path)
    values = yaml.safe_load((root / "programme.yaml").read_text(encoding="utf-8"))
    values["funding"]["categories"] = [c for c in values["funding"]["categories"] if c["category"] != "完善类"]
    (root / "programme.yaml").write_text(yaml.safe_dump(values, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
    found = [str(f) for f in check_all(load(root)) if f.rule == "FUND-CATEGORIES"]
    assert any("“完善类”没有分担方式" in f for f in found), found
