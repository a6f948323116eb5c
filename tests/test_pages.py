"""Whole pages, as LibreOffice lays them out from the bundled data: no page that holds only a
report's closing, signature and 版记 (GB/T 9704-2012 7.3.5), no page with nothing on it but a
running head or a page number, a chart on the page of its table, and photos paired by item."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from generator.data.loader import DataSet
from generator.output.pdf import to_pdf
from generator.output.pipeline import Result, Selection, build

needs_lo = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")
pytestmark = [needs_lo, pytest.mark.libreoffice]

INK_ONLY = re.compile(r"【示例数据，仅供演示】|示例：本文件由虚构的示例数据生成，不是正式公文|—\s*\d+\s*—")
"""What a page may carry that is not its content: the running head (the 示例 mark) and the page number."""
DATE_LINE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
RECORD = re.compile(r"^(抄送：|.*印发$)")
COMMUNITIES = ("dongqu-01", "dongqu-02", "dongqu-10", "dongqu-21", "fantai-20")


def pages(pdf: Path) -> list[list[str]]:
    """Each page's lines of text, spaces removed, empty lines left out."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return [[re.sub(r"\s+", "", line) for line in page.splitlines() if line.strip()]
            for page in text.split("\f")[:-1]]


def content(page: list[str]) -> list[str]:
    """A page's lines without its running head and page number."""
    return [line for line in page if INK_ONLY.sub("", line)]


@pytest.fixture(scope="module")
def pdfs(reports_build: Result, bundled: DataSet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every pilot report, and the application and acceptance of a few communities, as PDF."""
    folder = tmp_path_factory.mktemp("pages")
    chosen: dict[str, Path] = {}
    for path in reports_build.paths:
        if path.suffix == ".docx" and "工作报告" in path.name:
            chosen[f"report-{path.parent.name}-{path.parent.parent.name}"] = path
    for community in COMMUNITIES:
        made = build(bundled, folder / "built", Selection(kinds=("application", "acceptance"), project=community))
        for path in made.paths:
            chosen[f"{community}-{path.stem}"] = path
    copies = []
    for name, path in chosen.items():
        copies.append(folder / f"{name}.docx")
        shutil.copyfile(path, copies[-1])
    done = to_pdf(copies)
    assert not done.failed
    return {p.stem: p for p in done.done}


def test_no_page_holds_only_a_reports_closing_signature_and_record(pdfs: dict[str, Path]) -> None:
    """GB/T 9704-2012 7.3.5.1: where the body ends with no room left for the signature, the page
    of the 成文日期 still carries body text."""
    reports = [stem for stem in pdfs if stem.startswith("report-")]
    assert len(reports) >= 7  # six districts and the city, for each year with a report
    for stem in reports:
        laid_out = [content(page) for page in pages(pdfs[stem])]
        dated = [n for n, page in enumerate(laid_out) if any(DATE_LINE.match(line) for line in page)]
        assert dated, stem
        page = laid_out[dated[-1]]
        at = max(i for i, line in enumerate(page) if DATE_LINE.match(line))
        body = [line for line in page[:at - 1] if line not in ("特此报告。", "") and not RECORD.match(line)]
        assert body, f"{stem}：第{dated[-1] + 1}页只有结束语、署名和日期：{page}"


def test_no_page_carries_only_a_running_head_or_a_page_number(pdfs: dict[str, Path]) -> None:
    checked = 0
    for stem, pdf in pdfs.items():
        for number, page in enumerate(pages(pdf), start=1):
            checked += 1
            assert content(page) or not page, f"{stem}：第{number}页只有页眉或页码：{page}"
    assert checked > 40


def test_a_chart_stands_on_the_page_of_its_table(pdfs: dict[str, Path]) -> None:
    charts = 0
    for stem in (s for s in pdfs if s.startswith("report-")):
        for page in pages(pdfs[stem]):
            for line in page:
                if re.match(r"^图[12]", line):
                    charts += 1
                    # the table's last row is its 合计 (图2) or its last indicator (图1), on this page
                    wanted = "合计" if line.startswith("图2") else "投资（万元）"
                    assert any(text.startswith(wanted) for text in page), f"{stem}：{line} 与其表格不在同一页"
    assert charts >= 14


def test_the_application_photos_page_is_an_attachment_with_its_number(pdfs: dict[str, Path]) -> None:
    for community in ("dongqu-01", "dongqu-02"):
        laid_out = [content(page) for page in pages(pdfs[f"{community}-02-改造申请书"])]
        last = laid_out[-1]
        assert re.fullmatch(r"附件\d", last[0]) and last[1] == "小区现状照片", last
        assert any("小区现状照片" in line for page in laid_out[:-1] for line in page)
        # page 1 is full: the body runs on to page 2
        assert len(laid_out) >= 3 and laid_out[1][0] != "附件"


@pytest.mark.parametrize("kind", ["application", "acceptance"])
def test_a_bound_files_blank_pages_carry_no_ink(tmp_path: Path, bundled: DataSet, kind: str) -> None:
    """In a bound print file a page is either content or wholly blank (a verso before the next
    document): never a running head or page number alone."""
    from generator.output.printing import print_documents

    result = print_documents(bundled, tmp_path, kind, district="东区", layout=True)
    done = to_pdf(result.paths)
    assert not done.failed
    laid_out = pages(done.done[0])
    assert len(laid_out) % 2 == 0
    for number, page in enumerate(laid_out, start=1):
        assert content(page) or not page, f"{kind}：第{number}页只有页眉或页码：{page}"


PAGE_FILL = 0.85
"""How far down its type area a first page's text must run: a page ending higher has a block
(a table, a photo) pushed whole to the next page, leaving a gap a reader takes for an omission."""
_MARGINS = re.compile(r'<w:pgSz w:w="\d+" w:h="(\d+)"[^>]*/><w:pgMar w:top="(\d+)" w:right="\d+" w:bottom="(\d+)"')
_WORD = re.compile(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="[\d.]+" yMax="([\d.]+)">')


def page_fill(pdf: Path, docx: Path, page: int) -> float:
    """How far down the type area a page's last line of text ends (0 at its top, 1 at its foot),
    the running head and the page number left out: measured with pdftotext -bbox."""
    margins = _MARGINS.search(zipfile.ZipFile(docx).read("word/document.xml").decode())
    assert margins, docx
    height, top, bottom = (int(v) / 20 for v in margins.groups())  # twips → points
    words = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    # the head sits above the type area and the number below it; half a line's slack either way
    body = [float(y) for y in _WORD.findall(words) if top - 8 < float(y) <= height - bottom + 8]
    return (max(body, default=top) - top) / (height - bottom - top)


@pytest.fixture(scope="module")
def plans(bundled: DataSet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Every bundled plan, as Word file and PDF, by community."""
    folder = tmp_path_factory.mktemp("plans")
    made = build(bundled, folder / "built", Selection(kinds=("plan",)))
    copies = []
    for path in made.paths:
        if path.suffix == ".docx":
            copies.append(folder / f"{path.parent.parent.name}-{path.parent.name}.docx")
            shutil.copyfile(path, copies[-1])
    done = to_pdf(copies)
    assert not done.failed
    return {p.stem: (p.with_suffix(".docx"), p) for p in done.done}


def test_every_plans_first_page_is_full(plans: dict[str, tuple[Path, Path]]) -> None:
    """A tall first row of the item table no longer takes the table, its heading and lead-in to
    page 2: page 1 runs on to its foot."""
    assert len(plans) >= 18
    short = {name: round(fill, 2) for name, (docx, pdf) in plans.items()
             if (fill := page_fill(pdf, docx, 1)) < PAGE_FILL}
    assert short == {}


def test_an_acceptance_forms_pages_run_full_until_its_signatures(pdfs: dict[str, Path]) -> None:
    """Sections 三 and 四 break between rows (四's heading row repeated) instead of moving whole to
    the next page: every page before the one with the 验收日期 runs to its foot."""
    forms = {stem: pdf for stem, pdf in pdfs.items() if stem.endswith("竣工验收表")}
    assert len(forms) >= 4
    short = {}
    for stem, pdf in forms.items():
        laid_out = pages(pdf)
        dated = next(n for n, page in enumerate(laid_out, start=1) if any(ln.startswith("验收日期：") for ln in page))
        assert dated >= 2, stem
        for number in range(1, dated):
            if (fill := page_fill(pdf, pdf.with_suffix(".docx"), number)) < PAGE_FILL:
                short[f"{stem} 第{number}页"] = round(fill, 2)
    assert short == {}


def test_the_tallys_question_table_starts_under_its_heading_and_repeats_its_header(
        tmp_path: Path, bundled: DataSet) -> None:
    made = build(bundled, tmp_path / "built", Selection(kinds=("satisfaction-tally",)))
    docs = [p for p in made.paths if p.suffix == ".docx"]
    assert docs
    done = to_pdf(docs)
    assert not done.failed and done.done
    for pdf in done.done:
        laid = [content(page) for page in pages(pdf)]
        at = [i for i, page in enumerate(laid) if "二、逐题汇总" in page]
        assert len(at) == 1, pdf
        below = laid[at[0]][laid[at[0]].index("二、逐题汇总") + 1:]
        # The heading, the table's header row and its first question share a page.
        assert below and below[0].startswith("序方面题目"), (pdf, below[:3])
        assert any(re.match(r"1\D", line) for line in below), (pdf, below[:6])
        # A page the table runs on to opens with the header row again, not with a bare row.
        for page in laid[at[0] + 1:]:
            assert page and not re.match(r"\d+\D", page[0]), (pdf, page[:3])
            if any(re.match(r"\d+\D.*\d%", line) for line in page):
                assert page[0].startswith("序方面题目"), (pdf, page[:3])


def _laid_out_lines(pdf: Path) -> list[tuple[float, str]]:
    """Each line of text LibreOffice laid out, in reading order, with its left edge (pt)."""
    html = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return [(float(x), "".join(re.findall(r">([^<]*)</word>", words)))
            for x, words in re.findall(r'<line xMin="([\d.]+)".*?>(.*?)</line>', html, re.S)]


def _funding_table(docx: Path) -> list[list[str]]:
    """The rows of a report's 资金到位 table (序号, 小区名称, the sources, 合计), header first."""
    from docx import Document

    for table in Document(str(docx)).tables:
        head = [cell.text for cell in table.rows[0].cells]
        if head[:2] == ["序号", "小区名称"] and head[2] != "县（区）" and head[-1] == "合计":
            return [[cell.text for cell in row.cells] for row in table.rows]
    raise AssertionError(f"{docx.name}：没有资金到位表")


def _funding_problems(pdf: Path) -> tuple[list[str], int]:
    """Names of the 资金到位 table over two lines and amounts broken in their cell; and the names seen."""
    laid = _laid_out_lines(pdf)
    # the table: after its heading, before 图2 (the 完成情况 table names the projects too)
    start = next(i for i, (_, line) in enumerate(laid) if line.endswith("资金到位情况"))
    end = next(i for i, (_, line) in enumerate(laid) if i > start and line.startswith("图2"))
    laid = laid[start + 1:end]
    lines = [line for _, line in laid]
    rows = _funding_table(pdf.with_suffix(".docx"))[1:]
    problems = [f"{row[1]} 的 {amount} 在格内折行" for row in rows for amount in row[2:]
                if not any(amount in line for line in lines)]
    # the name column: the lines that start where the first name starts, read in order
    edge = next(x for x, line in laid if line and rows[0][1].startswith(line))
    column = [line for x, line in laid if abs(x - edge) < 1 and line != "小区名称"]
    for row in rows:
        if row[0] == row[1]:  # the 合计 row spans the number and the name
            continue
        taken, n = "", 0
        while n < len(column) and len(taken) < len(row[1]):
            taken += column[n]
            n += 1
        if taken != row[1]:
            problems.append(f"{row[1]} 未在小区名称格内读到（读到 {taken}）")
        elif n > 2:
            problems.append(f"{row[1]} 在小区名称格内占{n}行")
        column = column[n:]
    return problems, len(rows) - 1


def test_a_funding_tables_names_take_at_most_two_lines_and_its_amounts_one(pdfs: dict[str, Path]) -> None:
    names = 0
    for stem in (s for s in pdfs if s.startswith("report-")):
        problems, seen = _funding_problems(pdfs[stem])
        assert not problems, f"{stem}：{problems}"
        names += seen
    assert names >= 18  # each project of the pilot year, in its district's report and the city's
