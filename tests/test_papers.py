"""What the papers say: figures that add up as printed, agree across papers, and cite only what existed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from generator.data.loader import DataSet
from generator.documents.figures import project_figures
from generator.documents.project import project_context
from generator.documents.report import report_context
from generator.output.pipeline import Result
from tests.helpers import DataDir, good_project
from tests.snapshot import docx_text
from tests.test_rules import only

TOTAL_LABELS = ("合计", "总计")
_NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?%?$")


def _number(text: str) -> Decimal | None:
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    return Decimal(text.rstrip("%").replace(",", ""))


def _tables(path: Path) -> list[list[list[str]]]:
    """Each table of a Word file as rows of cell texts (a merged cell repeats, grid-aligned)."""
    return [[[c.text.strip() for c in row.cells] for row in t.rows] for t in Document(str(path)).tables]


@pytest.fixture
def dd(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


def _sum_problems(name: str, rows: list[list[str]]) -> list[str]:
    """Where a printed 合计/总计 row or column is not the sum of the printed cells."""
    out: list[str] = []
    head = rows[0]
    totals = [i for i, r in enumerate(rows) if r[0] in TOTAL_LABELS]
    body = [r for i, r in enumerate(rows[1:], start=1) if i not in totals]
    for t in totals:
        for col, text in enumerate(rows[t]):
            total = _number(text)
            if total is None or "率" in head[col] or head[col] == "序号":
                continue
            cells = [_number(r[col]) for r in body]
            if any(v is None and r[col] not in ("—", "") for v, r in zip(cells, body, strict=True)):
                continue  # a text column
            got = sum((v or Decimal(0) for v in cells), Decimal(0))
            if got != total:
                out.append(f"{name}：“{head[col]}”列各行相加{got}，合计印{total}")
    if head[-1] in TOTAL_LABELS:
        for r in rows[1:]:
            values = [_number(x) for x in r[1:-1]]
            if _number(r[-1]) is None:
                continue
            got = sum((v for v in values[1:] if v is not None), Decimal(0))  # values[0]: the name
            if got != _number(r[-1]):
                out.append(f"{name}：“{r[1]}”行各列相加{got}，合计印{r[-1]}")
    return out


def _documents(*results: Result) -> list[Path]:
    """Every Word paper but the household forms (one catalogue table a household, no totals)."""
    survey = "01-居民意见征询表.docx"
    return sorted(p for r in results for p in r.out.rglob("*.docx") if p.name != survey)


def test_every_printed_total_is_the_sum_of_the_printed_cells(
        full_build: Result, reports_build: Result) -> None:
    problems: list[str] = []
    checked = excused = 0
    for path in _documents(full_build, reports_build):
        text = docx_text(path)
        for n, rows in enumerate(_tables(path), start=1):
            if any(r[0] in TOTAL_LABELS for r in rows) or rows[0][-1] in TOTAL_LABELS:
                checked += 1
                for problem in _sum_problems(f"{path.name} 表{n}", rows):
                    # plainly rounded shares that miss 100 % by a 尾差 the paper states beside the table
                    got = re.search(r"“占比”列各行相加([\d.]+)，合计印100$", problem)
                    if got and f"占比合计{Decimal(got[1]):.1f}%，与100%相差" in text:
                        excused += 1
                        continue
                    # a report's 万元 figures, each rounded plainly, with the 尾差 named under the table
                    got = re.search(r"“([^”]+?)\s*(?:（万元）)?”(列|行)各\S相加([\d.,]+)，合计印([\d.,]+)$", problem)
                    if got and (f"{got[1]}一{got[2]}各数相加为{_amount(got[3]):,.2f}万元，"
                                f"与合计{_amount(got[4]):,.2f}万元") in text:
                        excused += 1
                        continue
                    problems.append(f"{path.parent.name}/{problem}")
    assert checked >= 50
    assert problems == []
    assert excused > 0  # the bundled plans have shares whose plain rounding misses 100 %


# ---------------------------------------------------------------- acceptance: a failed item


def _failed(**acceptance: Any) -> dict[str, Any]:
    project = good_project()
    project["acceptance"]["results"][0] = {"item": project["items"][0]["item"], "result": "不合格",
                                           "remarks": "接口渗漏"}
    project["acceptance"].update(acceptance)
    return project


def test_a_failed_item_cannot_end_in_a_pass(dd: DataDir) -> None:
    dd.project(_failed(conclusion="其余分项合格，同意通过验收"))
    findings = dd.findings("ACCEPT-CONCLUSION")
    assert [(f.severity, f.field.split("（")[0]) for f in findings] == [
        ("error", "acceptance.conclusion"), ("error", "stage"),
        ("warning", "acceptance.rectification_deadline")]
    assert "验收结论应为“整改后复验”" in findings[0].message


def test_a_failed_item_with_recheck_or_rectification_passes_the_rule(dd: DataDir) -> None:
    project = _failed(conclusion="供水分项不合格，整改后复验", rectification_deadline=dt.date(2019, 1, 5))
    project["stage"] = "completed"
    dd.project(project)
    assert dd.findings("ACCEPT-CONCLUSION") == []
    data = dd.load()
    figures = project_figures(data, data.communities["dongqu-01"])
    assert figures.finished and not figures.accepted
    ctx = project_context(data, data.projects["dongqu-01"])
    assert ctx["acceptance"]["verdict"] == "整改后复验"
    assert ctx["acceptance"]["failed"] == ["供水"]

    rectified = _failed(conclusion="整改复验合格，同意通过验收",
                        rectification={"date": dt.date(2018, 12, 20), "note": "接口重做，闭水试验合格"})
    dd.project(rectified)
    assert dd.findings("ACCEPT-CONCLUSION") == []
    data = dd.load()
    assert project_figures(data, data.communities["dongqu-01"]).accepted
    assert project_context(data, data.projects["dongqu-01"])["acceptance"]["verdict"] == "通过验收"


def test_bundled_renhe_05_is_not_counted_as_passed(bundled: DataSet) -> None:
    ctx = report_context(bundled, 2018, "仁和区")
    assert "已完工2个（其中通过竣工验收1个）" in ctx["summary"]
    assert bundled.projects["renhe-05"].acceptance.passed is False  # type: ignore[union-attr]


def test_acceptance_form_names_every_signing_body(bundled: DataSet) -> None:
    ctx = project_context(bundled, bundled.projects["dongqu-01"])
    roles = [s["role"] for s in ctx["signatories"]]
    for role in ("街道办事处", "社区居民委员会", "业主委员会或居民自治小组", "物业服务企业", "居民代表",
                 "设计单位", "施工单位", "监理单位", "造价咨询单位", "管线单位",
                 "县（区）住房城乡建设部门"):
        assert role in roles
    assert {"role": "县（区）住房城乡建设部门", "name": "攀枝花市东区住房和城乡建设局"} in ctx["signatories"]


# ---------------------------------------------------------------- citing the programme document


def test_papers_dated_before_issuance_do_not_cite_it(dd: DataDir) -> None:
    dd.project()
    f = only(dd.findings("DATE-BEFORE-ISSUANCE"))
    assert f.severity == "warning"
    assert "改造申请书（2018年3月20日）" in f.message and "印发日期2018年5月4日" in f.message
    data = dd.load()
    ctx = project_context(data, data.projects["dongqu-01"])
    assert ctx["basis"]["text"]["application"] == "按照全市老旧小区改造试点工作安排"
    assert "《" not in ctx["basis"]["listing"]
    assert "攀委办" not in ctx["basis"]["note"]


def test_the_issuance_date_is_data(dd: DataDir) -> None:
    dd.replace("programme.yaml", "date: 2018-05-04", "date: 2018-01-10")
    dd.project()
    assert dd.findings("DATE-BEFORE-ISSUANCE") == []
    data = dd.load()
    ctx = project_context(data, data.projects["dongqu-01"])
    assert ctx["basis"]["text"]["survey"] == f"根据《{data.programme.title}》"
    assert data.programme.issuance.number in ctx["basis"]["note"]


def test_no_bundled_paper_cites_the_programme_before_its_issuance(full_build: Result,
                                                                  bundled: DataSet) -> None:
    issued = bundled.programme.issuance
    cited = f"《{bundled.programme.title}》"
    for pid, project in bundled.projects.items():
        c = bundled.communities[pid]
        folder = next(full_build.out.glob(f"{c.year}/*/{c.seq:02d}-*"), None)
        if folder is None:
            continue
        for name, day in (("01-居民意见征询表.docx", project.survey.date if project.survey else None),
                          ("02-改造申请书.docx", project.dates.application),
                          ("03-改造方案.docx", project.dates.plan)):
            path = folder / name
            if path.exists() and day is not None and day < issued.date:
                assert cited not in docx_text(path), path


# ---------------------------------------------------------------- the budget workbook


def _budget(full_build: Result) -> Any:
    import openpyxl

    path = next(full_build.out.glob("2018/东区/01-*/04-*.xlsx"))
    return openpyxl.load_workbook(path).active


def test_budget_keeps_clerk_notes_off_the_printed_area(full_build: Result) -> None:
    ws = _budget(full_build)
    assert re.search(r"!\$A\$1:\$K\$\d+$", ws.print_area) and not ws.print_area.endswith("1048576")
    printed = [str(c.value) for row in ws.iter_rows(max_col=11) for c in row if c.value]
    assert not [t for t in printed if "应为0.00" in t or "按生成时" in t or "programme" in t]
    clerk = [str(c.value) for row in ws.iter_rows(min_col=13) for c in row if c.value]
    assert any("应为0.00" in t for t in clerk)


def test_budget_lists_gas_in_the_company_area_as_a_general_item(full_build: Result) -> None:
    ws = _budget(full_build)
    gas = next(r for r in range(6, 20) if ws[f"C{r}"].value == "供气")
    assert ws[f"K{gas}"].value == "一般项目（燃气公司供气区域）"
    assert ws[f"I{gas}"].value in (None, "") and ws[f"J{gas}"].value in (None, "")
    # the working stands in the 计算方法 column, the paragraph under the table names the 表（箱）后段
    notes = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "×5/10" in notes and "表（箱）后段" in notes


# ---------------------------------------------------------------- the assessment workbook


def _cells(path: Path) -> list[str]:
    import openpyxl

    ws = openpyxl.load_workbook(path).active
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


def test_assessment_labels_its_weights_and_is_signed(reports_build: Result) -> None:
    cells = _cells(reports_build.out / "2018/全市/2018年度综合考评表.xlsx")
    text = " ".join(cells)
    assert "programme" not in text and ".yaml" not in text
    assert "权重（分，市级确定）" in cells
    assert "未规定各方面的分值" in text
    assert any(c.startswith("考评单位（盖章）：") for c in cells)
    assert "考评人：" in cells and any(c.startswith("日期：") for c in cells)
    assert sum(c.startswith("=RANK(") for c in cells) == 6


def test_a_year_without_results_is_not_ranked(reports_build: Result) -> None:
    cells = _cells(reports_build.out / "2020/全市/2020年度综合考评表.xlsx")
    assert not [c for c in cells if c.startswith("=RANK(")]
    assert cells.count("无数据") >= 6 * 10


# ---------------------------------------------------------------- the application


def _application(full_build: Result, seq: int) -> str:
    return docx_text(next(full_build.out.glob(f"*/*/{seq:02d}-*/02-改造申请书.docx")))


def test_application_quotes_the_planned_investment_once_and_hangs_its_attachments(
        full_build: Result) -> None:
    """A month before the budget there is no 预算: the application says 计划投资, in one format;
    a long attachment name wraps under its own first character (GB/T 9704, 7.3.6)."""
    text = _application(full_build, 2)
    assert text.count("计划投资2,825.00万元") == 1 and "预算投资" not in text and "预计投资" not in text
    path = next(full_build.out.glob("*/*/02-*/02-改造申请书.docx"))
    attachments = [p for p in Document(str(path)).paragraphs
                   if p.style is not None and p.style.name == "附注" and "征询" in p.text]
    assert len(attachments) == 2
    for paragraph in attachments:
        indent = paragraph.paragraph_format
        # the name starts after 2 characters of indent, 附件：and "1.": 6 characters of 16 pt
        assert indent.left_indent.pt == 96 and indent.first_line_indent.pt == -64


def test_application_states_eligibility_without_contradicting_the_data(
        full_build: Result, bundled: DataSet) -> None:
    late = bundled.communities["miyi-08"]
    assert late.built_years is not None and late.built_years[1] >= 2000
    text = _application(full_build, late.seq)
    assert "不早于2000年" in text
    assert "属于2000年以前建成的小区" not in text and "建成时间较长" not in text
    early = bundled.communities["renhe-05"]  # built 1970
    text = _application(full_build, early.seq)
    assert "小区建成于1970年，属于2000年以前建成的小区。" in text
    assert "小区为非商品房小区。" in text
    assert "居民支持率" in text and "不低于90%" in text


def test_application_gives_the_committee_contact_and_its_attachments(
        full_build: Result, bundled: DataSet) -> None:
    project = bundled.projects["dongqu-01"]
    text = _application(full_build, 1)
    assert project.committee_contact is not None and project.contact is not None
    assert f"（联系人：{project.committee_contact.person}，" in text
    assert f"联系人：{project.contact.person}" not in text  # the street office's notice contact
    assert "附件：1.炳草岗园林苗圃小区老旧小区改造居民意见征询结果汇总表" in text
    assert "2.炳草岗园林苗圃小区老旧小区改造入户意见征询表（300份）" in text


# ---------------------------------------------------------------- the pilot reports as 公文


def _sentences(text: str) -> list[str]:
    return [s.strip() for line in text.splitlines() if not line.startswith(("|", "["))
            for s in line.split("。") if len(s.strip()) > 12 and "，" in s]


def test_reports_are_gongwen_and_say_nothing_twice(reports_build: Result, bundled: DataSet) -> None:
    reports = sorted(reports_build.out.glob("*/*/*试点工作报告*.docx"))
    assert len(reports) == 7
    for path in reports:
        text = docx_text(path)
        lines = [ln for ln in text.splitlines() if not ln.startswith("[")]
        assert lines[0].endswith("文件") and "签发人：" in lines[1], path
        assert lines[-1].endswith("印发 |"), path  # 版记: a table at the foot of the last page
        assert "截至目前" not in text and "截至" in text
        heads = [s[:14] for s in _sentences(text)]
        repeated = {h for h in heads if heads.count(h) > 1}
        assert repeated == set(), (path, repeated)
    # what the data gives is printed; what it lacks is marked, never guessed
    east = docx_text(reports_build.out / "2018/东区/2018年老旧小区改造试点工作报告.docx")
    assert "东府〔2018〕12号\t签发人：李明远" in east and "【待填写" not in east
    miyi = docx_text(reports_build.out / "2018/米易县/2018年老旧小区改造试点工作报告.docx")
    assert "米府〔2018〕18号\t签发人：杨春林" in miyi and "【待填写" not in miyi


# ---------------------------------------------------------------- one figure, one way, every paper

FIGURES = {
    "support rate": r"居民支持率(\d+(?:\.\d)?%)",
    "per household": r"户均(?:出资)?([\d,]+\.\d\d)元",
    "total in 万元": r"(?:预算投资|预算总投资|元（)([\d,]+\.\d\d)万元",
    "total in 元": r"(?:工程预算总额|工程投资 \| )([\d,]+\.\d\d)元",
    "households": r"(?:共有住户|总户数 \| |改造户数 \| )(\d+)户",
    "start date": r"(?:于|开工日期 \| )(\d{4}年\d{1,2}月\d{1,2}日)(?:开工| \|)",
    "completion date": r"(?:，|完工日期 \| )(\d{4}年\d{1,2}月\d{1,2}日)(?:完工| \|)",
    "survey date": r"(\d{4}年\d{1,2}月\d{1,2}日)(?:，社区居民委员会组织开展居民意见征询|征询)",
    "construction unit": r"施工单位[：:]?\s?(?:\| )?([^，。| ]+?(?:公司|单位))",
    "supervision unit": r"监理单位[：:]?\s?(?:\| )?([^，。| ]+?(?:公司|单位))",
}


def test_every_figure_is_the_same_in_every_paper_of_a_community(full_build: Result,
                                                               bundled: DataSet) -> None:
    compared = 0
    for folder in sorted({p.parent for p in full_build.out.rglob("*.docx")}):
        # Not the household forms: pre-filled per household, they carry none of these figures.
        texts = {p.name: docx_text(p) for p in folder.glob("*.docx") if p.name != "01-居民意见征询表.docx"}
        for name, pattern in FIGURES.items():
            seen = {m for t in texts.values() for m in re.findall(pattern, t)}
            assert len(seen) <= 1, (folder.name, name, seen)
            compared += sum(bool(re.search(pattern, t)) for t in texts.values()) > 1
        plan, notice = texts.get("03-改造方案.docx"), texts.get("05-改造方案公示.docx")
        if plan and notice:
            # the notice's 万元 are the plan table's 元 under the one rounding policy
            rows = re.findall(r"^\| \d+ \| (\S+) \| ([\d,]+\.\d\d) \| [^|]+ \| [\d.]+% \|$", plan,
                              re.M)
            # plain rounding of each amount, as the plan's own 元 say
            wan = [(Decimal(a.replace(",", "")) / 10000).quantize(Decimal("0.01"), ROUND_HALF_UP) for _, a in rows]
            assert rows, folder.name
            for (party, _), w in zip(rows, wan, strict=True):
                assert f"{party}{w:,.2f}万元" in notice, (folder.name, party)
            shares = re.findall(r"^\| \d+ \| \S+ \| [\d,]+\.\d\d \| [^|]+ \| ([\d.]+%) \|$", plan,
                                re.M)
            assert re.findall(r"万元（([\d.]+%)）", notice) == shares, folder.name
    assert compared > 50


def test_every_project_figure_is_the_same_in_district_and_city_reports(
        reports_build: Result) -> None:
    def rows(path: Path) -> dict[str, list[str]]:
        out = {}
        for table in _tables(path)[1:]:  # the project and funding tables, keyed by name
            for r in table[1:]:
                if r[0].isdigit():
                    out.setdefault(r[1], []).extend(r[2:])
        return out

    for year in (2018,):
        city = rows(next(reports_build.out.glob(f"{year}/全市/*.docx")))
        seen = 0
        for path in reports_build.out.glob(f"{year}/*/*试点工作报告.docx"):
            for name, cells in rows(path).items():
                assert cells == city[name], (path.parent.name, name)
                seen += 1
        assert seen == 9


def test_every_report_figure_is_the_plain_rounding_of_its_amount(
        reports_build: Result, bundled: DataSet) -> None:
    """A finance reviewer recomputes each 万元 cell of the funding table from its 元: every party's
    cell, a project's 合计 and the 合计 row are plain rounding of their own amounts; so is each
    district's 实际到位 in the city report."""
    by_name = {c.name: c for c in bundled.communities.values()}
    parties = {name: key for key, name in bundled.programme.parties.ordered().items()}
    checked = noted = districts = 0
    for path in sorted(reports_build.out.rglob("*.docx")):
        if "试点工作报告" not in path.name and "年度工作总结" not in path.name:
            continue
        tables = _tables(path)
        table = next(t for t in tables if t[0][:2] == ["序号", "小区名称"] and t[0][2] in parties)
        keys = [parties[h] for h in table[0][2:-1]]
        sums = {k: Decimal(0) for k in keys}
        by_district: dict[str, Decimal] = {}
        for row in table[1:]:
            if not row[0].isdigit():
                continue
            community = by_name[row[1]]
            actual = project_figures(bundled, community).actual
            by_district[community.district] = by_district.get(community.district, Decimal(0)) + sum(
                actual.values(), Decimal(0))
            for k in keys:
                sums[k] += actual[k]
            assert row[2:] == [f"{_plain(actual[k]):,.2f}" for k in keys] + [
                f"{_plain(sum((actual[k] for k in keys), Decimal(0))):,.2f}"], (path, row)
            checked += 1
        total = next(r for r in table if r[0] == "合计")
        assert total[2:] == [f"{_plain(sums[k]):,.2f}" for k in keys] + [
            f"{_plain(sum(sums.values(), Decimal(0))):,.2f}"], (path, total)
        noted += "为尾差。" in docx_text(path)
        for head, *rows in (t for t in tables if t[0][0] == "县（区）"):
            col = next(i for i, h in enumerate(head) if h.startswith("实际到位"))
            for row in rows:
                if row[0] in by_district:
                    assert row[col] == f"{_plain(by_district[row[0]]):,.2f}", (path, row)
                    districts += 1
    assert checked >= 18
    assert districts >= 6  # the city report's row of each district that has paid in
    assert noted >= 3  # 东区's, 米易's and the city's funding tables do not add up as rounded


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _plain(yuan: Decimal) -> Decimal:
    return (yuan / 10000).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_posted_and_sent_papers_print_no_blanks(full_build: Result) -> None:
    """A notice goes on the wall and a plan or application to the bureau: what the data does not
    know yet is said (施工单位待定，开工时间另行公告, 建成年代不详), never a line to fill in."""
    checked = 0
    for path in full_build.paths:
        if path.name not in ("03-改造方案.docx", "05-改造方案公示.docx"):
            continue
        text = docx_text(path)
        checked += 1
        assert "__" not in text, (path, [ln for ln in text.splitlines() if "__" in ln])
    assert checked >= 20
    unknown = docx_text(next(p for p in full_build.paths
                             if "10-炳草岗酿造厂小区" in str(p) and p.name == "05-改造方案公示.docx"))
    assert "三、实施安排：施工单位和监理单位由炳草岗街道办事处依法选定，开工时间确定后另行公告。" in unknown


def test_the_acceptance_form_checks_what_practice_checks(full_build: Result) -> None:
    """质量控制资料、安全和功能抽查、观感质量 beside the items; a result not yet given is two boxes to
    tick, never a line; every utility that worked on the project has its line to sign."""
    text = docx_text(next(p for p in full_build.paths
                          if "10-炳草岗酿造厂小区" in str(p) and p.name == "06-竣工验收表.docx"))
    for check in ("质量控制资料核查", "安全和功能抽查", "观感质量"):
        assert f"| {check} |" in text
    assert "| 1 | 雨污管网 | 雨、污水实现分流排放 | □合格 / □不合格 |  |" in text
    assert "二、质量核查" in text and "三、验收结论" in text and "四、验收组成员" in text
    jinfu = docx_text(next(p for p in full_build.paths
                           if "02-大渡口街道金福小区" in str(p) and p.name == "06-竣工验收表.docx"))
    assert "管线单位 / 攀枝花市某供电有限公司" in jinfu and "管线单位 / 攀枝花市某通信有限公司" in jinfu
