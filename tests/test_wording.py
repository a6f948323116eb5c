"""The wording file: a city rewords a sentence in its data folder and the next paper says it;
a wrong key, field or syntax is named in Chinese; what the papers say agrees with their figures."""

from __future__ import annotations

import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jinja2 import Template

from generator.cli import main
from generator.data.loader import DataSet
from generator.documents.kinds import KINDS, community_target
from generator.output.pipeline import Renderers, render_document
from generator.render.wording import BUILTIN_WORDING, CITY_WORDING, wording
from generator.rules.funding import line_rule, plan_funding
from tests.snapshot import docx_text
from tests.test_resaved_templates import _notice_built_from as _notice


def _city_wording(data_root: Path, text: str) -> None:
    path = data_root / CITY_WORDING
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_every_built_in_sentence_compiles_with_its_declared_fields() -> None:
    said = wording(None)
    assert len(said.entries) >= 40
    assert all(e.source == BUILTIN_WORDING for e in said.entries.values())
    assert said.say("basis.cite", title="某方案") == "根据《某方案》"
    # compiled when first said (a misspelt filter is named only then): each compiles
    assert all(isinstance(entry.template, Template) for entry in said.entries.values())


def test_a_clerks_reworded_sentence_in_the_data_folder_is_in_the_next_notice(data_root: Path,
                                                                              tmp_path: Path) -> None:
    before = _notice(data_root, tmp_path / "before")
    assert "长效管理：业主委员会负责日常管理，引入专业化物业管理，已建立房屋专项维修资金。" in before
    _city_wording(data_root, '# 本市的说法\nnotice.management: "由{{ body or \'居民\' }}管理小区{% if fund %}，'
                             '维修资金已到位{% endif %}。"\n')
    after = _notice(data_root, tmp_path / "after")
    assert after == before.replace("业主委员会负责日常管理，引入专业化物业管理，已建立房屋专项维修资金。",
                                   "由业主委员会管理小区，维修资金已到位。")


def test_the_city_names_its_district_share_its_own_way(data_root: Path, tmp_path: Path) -> None:
    _city_wording(data_root, 'party.district: "{{ district }}财政"\n')
    after = _notice(data_root, tmp_path / "after")
    assert "东区财政276.12万元（36.8%）" in after and "人民政府" not in after


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_reworded_sentence_and_a_libreoffice_resaved_notice_together(data_root: Path, tmp_path: Path) -> None:
    from tests.resave import libreoffice_resave
    from tests.test_resaved_templates import OPENING, REWORDED, _clerk_edits_the_notice

    edited = _clerk_edits_the_notice(tmp_path / "edited" / "notice.docx")
    libreoffice_resave([edited], data_root / "templates" / "docx")
    _city_wording(data_root, 'notice.survey: "共征询{{ asked }}户，{{ support }}户同意。"\n')
    after = _notice(data_root, tmp_path / "after")
    assert REWORDED in after and OPENING not in after
    assert "四、居民意见：共征询300户，284户同意。长效管理：" in after


@pytest.mark.parametrize(("text", "words"), [
    ('notice.nosuch: "x"\n', ["notice.nosuch", "没有这个措辞键"]),
    ('notice.survey: "{{ households }}户"\n', ["notice.survey", "用了没有的字段 households", "asked"]),
    ('notice.survey: "{% if asked %}征询"\n', ["notice.survey", "句子写法有误"]),
    ('notice.survey: "{{ asked|nosuchfilter }}"\n', ["notice.survey", "句子写法有误"]),
    ("notice.survey: [1, 2]\n", ["notice.survey", "应为一句文字"]),
    ('notice.survey: "a\n  b: [\n', ["措辞文件不是有效的 YAML"]),
])
def test_a_wrong_city_wording_is_named_by_validate_and_stops_the_build(
        data_root: Path, tmp_path: Path, text: str, words: list[str]) -> None:
    _city_wording(data_root, text)
    result = CliRunner().invoke(main, ["--data", str(data_root), "validate"])
    assert result.exit_code != 0
    output = result.output
    assert str(data_root / CITY_WORDING) in output or "wording.yaml" in output, output
    assert all(w in output for w in words), output
    built = CliRunner().invoke(main, ["--data", str(data_root), "build", "--out", str(tmp_path / "out"),
                                      "--project", "dongqu-01", "--kind", "notice"])
    assert built.exit_code != 0
    assert not list((tmp_path / "out").rglob("*.docx"))


def test_the_wording_rule_names_each_problem_and_passes_a_good_file(data_root: Path) -> None:
    from generator.data.loader import load
    from generator.rules.checks import check_wording

    _city_wording(data_root, 'notice.survey: "{{ households }}户"\nnotice.nosuch: "x"\nbrief: "{% if x %}"\n')
    found = list(check_wording(load(data_root)))
    assert [(f.rule, f.severity, f.field) for f in found] == [
        ("WORDING", "error", "notice.survey"), ("WORDING", "error", "notice.nosuch"), ("WORDING", "error", "brief")]
    assert all(f.file == str(data_root / CITY_WORDING) for f in found)
    _city_wording(data_root, 'notice.survey: "共征询{{ asked }}户。"\n')
    assert list(check_wording(load(data_root))) == []


def test_a_sentence_that_would_be_huge_is_refused(data_root: Path, tmp_path: Path) -> None:
    from generator.errors import TemplateError

    _city_wording(data_root, 'notice.survey: "{% for i in range(90000) %}同意同意{% endfor %}"\n')
    with pytest.raises(TemplateError, match="notice.survey"):
        _notice(data_root, tmp_path / "out")


# ---------------------------------------------------------------- what the papers say, against their figures


def _papers(data: DataSet) -> dict[str, dict[str, str]]:
    """Every bundled community's notice and plan as text, by community id."""
    renderers = Renderers(data, None)
    out: dict[str, dict[str, str]] = {}
    for pid in data.projects:
        target = community_target(data, pid)
        for key in ("notice", "plan"):
            kind = KINDS[key]
            if kind.needs(data, target) is None:
                out.setdefault(pid, {})[key] = docx_text(render_document(data, kind, target, renderers))
    return out


@pytest.fixture(scope="module")
def papers(bundled: DataSet) -> dict[str, dict[str, str]]:
    return _papers(bundled)


def _plain(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def test_every_printed_share_is_its_amount_over_the_total(bundled: DataSet,
                                                          papers: dict[str, dict[str, str]]) -> None:
    checked = noted = 0
    for pid, texts in papers.items():
        project = bundled.projects[pid]
        funding = plan_funding(bundled, project, bundled.communities[project.community].households)
        total = funding.total
        plan, notice = texts.get("plan", ""), texts.get("notice", "")
        rows = re.findall(r"^\| \d+ \| (\S+) \| ([\d,]+\.\d\d) \| [^|]* \| ([\d.]+)% \|$", plan, re.M)
        shares = [Decimal(s) / 100 for _, _, s in rows]
        for (_, amount, share), printed in zip(rows, shares, strict=True):
            assert printed == _plain(Decimal(amount.replace(",", "")) / total, "0.001"), (pid, share)
            checked += 1
        if sum(shares) != 1:
            noted += 1
            assert f"占比合计{sum(shares) * 100:.1f}%，与100%相差" in plan, pid
        if notice:
            line = next(ln for ln in notice.splitlines() if ln.startswith("二、资金筹集"))
            printed_wan = [Decimal(w.replace(",", "")) for w in re.findall(r"([\d,]+\.\d\d)万元（", line)]
            assert printed_wan == [_plain(Decimal(a.replace(",", "")) / 10000, "0.01") for _, a, _ in rows], pid
            notice_shares = [Decimal(s) / 100 for s in re.findall(r"万元（([\d.]+)%）", line)]
            assert notice_shares == shares, pid
            gap = sum(printed_wan) != _plain(total / 10000, "0.01") or sum(shares) != 1
            assert gap == ("为尾差" in line), pid
    assert checked > 50 and noted > 0


def test_no_sentence_contradicts_the_figures(bundled: DataSet, papers: dict[str, dict[str, str]]) -> None:
    for pid, texts in papers.items():
        project = bundled.projects[pid]
        district = bundled.districts[bundled.communities[project.community].district]
        funding = plan_funding(bundled, project, bundled.communities[project.community].households)
        pipes = any(line_rule(bundled, project, ln) == "pipeline" for ln in project.items)
        fund = project.management.maintenance_fund
        for key, text in texts.items():
            where = (pid, key)
            # the district's own government, never the generic phrase
            assert "县（区）" not in text, where
            assert district.government in text, where
            # "…不等于5：4：1" only where the shares really are not the split's
            if "所以不等于" in text:
                assert pipes or any(g.contributions or any(g.raised.values()) for g in funding.groups), where
            for m in re.finditer(r"合计([\d,]+\.\d\d)元([^。]*)，即([\d,]+\.\d\d)元", text):
                assert m[1] != m[3] and "减去" in m[2], where
            if not pipes:
                assert "表（箱）前段" not in text and "80%：20%" not in text, where
            if not fund:
                assert "已建立房屋专项维修资金" not in text, where
                assert "，建立房屋专项维修资金" not in text, where
    # dongqu-10 is split exactly 5:4:1: its plan does not say otherwise
    assert "所以不等于" not in papers["dongqu-10"]["plan"]


def test_labels_the_papers_print_are_the_citys_words_too(data_root: Path, tmp_path: Path) -> None:
    """Rule names, signatories, the sample mark, the report's 版头/版记 and the dashboard's labels
    come from the wording: a city's override is in the next paper and workbook."""
    from generator.data.loader import load
    from generator.documents.progress import stats
    from generator.documents.project import project_context
    from generator.documents.report import report_context
    from tests.snapshot import xlsx_text

    def said(data: DataSet) -> tuple[dict[str, Any], dict[str, Any], Any, str]:
        project = data.projects["dongqu-01"]
        budget = render_document(data, KINDS["budget"], community_target(data, "dongqu-01"), Renderers(data, None))
        out = tmp_path / f"budget{len(list(tmp_path.iterdir()))}.xlsx"
        out.write_bytes(budget)
        return project_context(data, project), report_context(data, 2018, "东区"), stats(data), xlsx_text(out)

    before = said(load(data_root))
    assert "管线项目" in before[3]
    _city_wording(data_root, "\n".join((
        'rule_name.pipeline: "专营管线项目"', 'signatory.residents: "业主代表"', 'mark.sample: "样例"',
        'report.masthead: "{{ sender }}文件（样稿）"', 'report.cc: "抄送单位：{{ names }}"',
        'progress.year: "{{ year }}年度"', 'acceptance.no_issues: "没有遗留问题"')) + "\n")
    ctx, report, figures, budget = said(load(data_root))
    assert {r["rule_name"] for r in ctx["items"]} >= {"专营管线项目"}
    assert "业主代表" in [s["role"] for s in ctx["signatories"]] and ctx["mark"] == "样例"
    assert report["doc"]["masthead"].endswith("文件（样稿）")
    assert report["doc"]["cc"] == "抄送单位：攀枝花市人民政府办公室"
    assert [g.label for g in figures.years][0] == "2018年度"
    # the budget's formulas tell pipeline lines by the same name, so its sums do not change
    assert "专营管线项目" in budget and "\"管线项目\"" not in budget
    assert budget.replace("专营管线项目", "管线项目").replace("I2: 样例", "I2: 示例") == before[3]


def test_a_templates_folders_wording_is_read_too_and_wins_key_by_key(data_root: Path, tmp_path: Path) -> None:
    """--templates DIR with DIR/wording.yaml: its sentences win over the data folder's (the more
    specific, as its templates do), and the data folder's other sentences still apply."""
    from tests.snapshot import docx_text

    def notice(*extra: str) -> str:
        out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
        result = CliRunner().invoke(main, ["--data", str(data_root), "build", "-q", "--project", "dongqu-01",
                                           "--kind", "notice", "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        return docx_text(next(out.rglob("*.docx")))

    before = notice()
    management = "业主委员会负责日常管理，引入专业化物业管理，已建立房屋专项维修资金。"
    assert management in before and "东区人民政府" in before
    _city_wording(data_root, 'notice.management: "数据文件夹的说法。"\nparty.district: "{{ district }}财政"\n')
    folder = tmp_path / "kit"
    folder.mkdir()
    (folder / "wording.yaml").write_text('notice.management: "模板文件夹的说法。"\n', encoding="utf-8")
    with_kit = notice("--templates", str(folder))
    assert "模板文件夹的说法。" in with_kit and "数据文件夹的说法。" not in with_kit
    assert "东区财政" in with_kit  # the data folder's other sentence still applies
    without = notice()
    assert "数据文件夹的说法。" in without and "模板文件夹的说法。" not in without
    (folder / "wording.yaml").write_text('notice.managment: "拼错的键"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--data", str(data_root), "build", "-q", "--project", "dongqu-01",
                                       "--kind", "notice", "--out", str(tmp_path / "bad"), "--templates", str(folder)])
    assert result.exit_code != 0 and "notice.managment" in result.output and "没有这个措辞键" in result.output
    checked = CliRunner().invoke(main, ["--data", str(data_root), "templates", "check", str(folder)])
    assert "notice.managment" in checked.output, checked.output


def test_a_citys_report_heading_and_target_row_are_in_the_built_report(data_root: Path) -> None:
    """The report's section heads and table row labels are the wording's: a city that renames one
    heading and one row of the 完成情况 table finds both in the district's built report."""
    from generator.data.loader import load
    from generator.documents.kinds import kinds_of
    from generator.documents.report import report_path
    from generator.output.pipeline import Selection, plan_jobs
    from tests.golden_reports import report_text

    def built(data: DataSet) -> str:
        jobs, _ = plan_jobs(data, Selection(kinds=("pilot-report",)), kinds_of("district", "city"))
        job = next(j for j in jobs if j.path == report_path(data, data.programme.pilot.year, "东区"))
        return report_text(render_document(data, job.kind, job.target, Renderers(data, None)))

    before = built(load(data_root))
    assert "（一）计划完成情况" in before and "| 改造户数（户） |" in before
    _city_wording(data_root, 'report.district_head.targets: "（一）年度目标完成情况"\n'
                             'report.target_row.households: "完成改造户数（户）"\n')
    after = built(load(data_root))
    assert "（一）年度目标完成情况" in after and "（一）计划完成情况" not in after
    assert "| 完成改造户数（户） |" in after and "| 改造户数（户） |" not in after
    # nothing else of the report changed
    assert after.replace("（一）年度目标完成情况", "（一）计划完成情况").replace(
        "完成改造户数（户）", "改造户数（户）") == before
