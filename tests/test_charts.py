"""Charts in the papers: pictures in the reports, native charts in the workbooks, each showing
exactly the figures of the table beside it, and the same bytes on every build."""

from __future__ import annotations

import io
import posixpath
import re
import shutil
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest
from lxml import etree
from PIL import Image

from generator.data.loader import DataSet
from generator.documents import charts
from generator.documents.assessment import assessment_layout
from generator.documents.figures import DIMENSIONS, assessment_rows, total_score
from generator.documents.report import report_context
from generator.errors import TemplateError
from generator.output.pipeline import Renderers, Result, Selection, plan_jobs, render_document
from generator.render.docx import KEPT_TABLE_ROWS, keep_tables_with_figures
from generator.render.images import EMU_PER_MM, IMAGE_REL
from generator.render.wording import wording

PLAN_CHARTS = ("各县（区）改造户数：附件1合计与方案正文", "各县（区）预计投资：附件1合计与方案正文")
SUMMARY_GROUPS = ("附件1合计", "方案正文所述")
SCORE_CHART, RATE_CHART = "各县（区）综合考评总分", "各县（区）各项完成率"
DIMENSION_NAMES = {"households": "改造户数", "content": "改造内容", "standards": "改造标准",
                   "management": "长效管理机制"}
"""The built-in templates' chart titles and the headings their series are named after."""
CITY_REPORT = "2018/全市/2018年老旧小区改造试点工作报告（汇总）.docx"
LATER_YEAR = 2019
"""A year whose city report the bundled data makes on request, with no project finished yet."""
TYPE_AREA_MM = (156, 225)
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

LEGEND = charts.Legend(wording(None).say("chart.planned"), wording(None).say("chart.done"),
                       lambda rate: wording(None).say("chart.rate", rate=rate))


def district_report(district: str) -> str:
    return f"2018/{district}/2018年老旧小区改造试点工作报告.docx"


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _pictures(path: Path) -> list[tuple[bytes, float, float, str]]:
    """Each drawing of the body in order: the image bytes its relationship points at, its printed
    size in mm, and the text of the paragraph right after it (the caption)."""
    parts = _parts(path)
    rels = {r.get("Id"): r for r in etree.fromstring(parts["word/_rels/document.xml.rels"])
            if r.get("Type") == IMAGE_REL}
    body = etree.fromstring(parts["word/document.xml"]).find(f"{W}body")
    out = []
    paragraphs = list(body.iter(f"{W}p"))
    for index, p in enumerate(paragraphs):
        for inline in p.iter(f"{WP}inline"):
            extent = inline.find(f"{WP}extent")
            rid = inline.find(f".//{A}blip").get(f"{R}embed")
            target = "word/" + rels[rid].get("Target")
            if not target.endswith(".png"):
                continue  # a photo (tests/test_photos.py), not a chart
            caption = "".join(t.text or "" for t in paragraphs[index + 1].iter(f"{W}t"))
            out.append((parts[target], int(extent.get("cx")) / EMU_PER_MM,
                        int(extent.get("cy")) / EMU_PER_MM, caption))
    return out


def _table_rows(path: Path, first_head: str) -> list[list[str]]:
    """The text rows of the report's table whose first header cell is first_head."""
    document = docx.Document(str(path))
    for table in document.tables:
        if table.rows[0].cells[0].text == first_head:
            return [[c.text for c in row.cells] for row in table.rows]
    raise AssertionError(f"no table headed {first_head}")


@pytest.mark.parametrize("rel", [CITY_REPORT, district_report("东区"), district_report("盐边县")])
def test_each_report_carries_its_two_charts_with_captions_inside_the_type_area(
        reports_build: Result, rel: str) -> None:
    path = reports_build.out / rel
    parts = _parts(path)
    media = sorted(n for n in parts if n.startswith("word/media/") and n.endswith(".png"))
    assert len(media) == 2  # charts; photos are JPEG (tests/test_photos.py)
    assert b'Extension="png"' in parts["[Content_Types].xml"]
    pictures = _pictures(path)
    assert [caption[:3] for *_, caption in pictures] == ["图1　", "图2　"]
    for data, width, height, _ in pictures:
        assert width <= TYPE_AREA_MM[0] and height <= TYPE_AREA_MM[1]
        image = Image.open(io.BytesIO(data))
        # Print resolution: at least 250 pixels an inch at the printed size, and aspect kept.
        assert image.width / (width / 25.4) >= 250
        assert abs(image.width / image.height - width / height) < 0.01
    # Every drawing's docPr id is unique in the file (Word calls a file with duplicates damaged).
    ids = re.findall(rb'<wp:docPr id="(\d+)"', parts["word/document.xml"])
    assert len(ids) == len(set(ids)) >= 2  # the charts, and the photos of a pilot report


def test_a_year_with_no_money_in_yet_has_no_funding_chart(bundled: DataSet, tmp_path: Path) -> None:
    context = report_context(bundled, LATER_YEAR)
    assert context["charts"]["funding"] is None and context["funding_total"]["total"] == "0.00"
    jobs, _ = plan_jobs(bundled, Selection(kinds=("pilot-report",), year=LATER_YEAR))
    job = next(j for j in jobs if j.target.district is None)
    path = tmp_path / "report.docx"
    path.write_bytes(render_document(bundled, job.kind, job.target, Renderers(bundled, None)))
    assert [caption for *_, caption in _pictures(path)] == [context["charts"]["plan"]["caption"]]
    assert sum(n.startswith("word/media/") and n.endswith(".png") for n in _parts(path)) == 1


@pytest.mark.parametrize("district", [None, "东区", "仁和区"])
def test_chart_figures_are_the_tables_figures(reports_build: Result, bundled: DataSet,
                                              district: str | None) -> None:
    context = report_context(bundled, 2018, district)
    path = reports_build.out / (CITY_REPORT if district is None else district_report(district))
    plan, funding = context["charts"]["plan"], context["charts"]["funding"]
    # The pictures in the file are the ones drawn from these figures.
    assert [data for data, *_ in _pictures(path)] == [plan["picture"].data, funding["picture"].data]
    # 图1: each panel's two values and rate are the 完成情况 table's row, as printed.
    targets = _table_rows(path, "指标")[1:]
    assert [[p["name"], p["planned_text"], p["done_text"], p["rate"]] for p in plan["pairs"]] == targets
    # 图2: each party's bar is the 资金到位 table's 合计 row.
    head, *_, total = _funding_table(path)
    assert funding["names"] == head[2:-1]
    assert funding["texts"] == total[2:-1]
    # each bar is its party's amount rounded plainly: where the bars miss the 实际到位 total by a
    # 尾差, the note under the table says so
    gap = sum(funding["values"]) - sum(p["done"] for p in plan["pairs"][2:])
    assert abs(gap) <= Decimal("0.005") * len(funding["values"])
    assert (gap != 0) <= bool(context["rounding_notes"]["funding"])


def _funding_table(path: Path) -> list[list[str]]:
    """The 资金到位 table: the one whose header names the paying parties (photo tables follow it)."""
    document = docx.Document(str(path))
    table = next(t for t in document.tables if "市级财政" in [c.text for c in t.rows[0].cells])
    return [[c.text for c in row.cells] for row in table.rows]


def test_a_chart_is_the_same_bytes_every_time_and_differs_when_a_figure_does() -> None:
    pair = charts.Pair("户数（户）", charts.Decimal(100), charts.Decimal(90), "100", "90", "90.0%")
    first = charts.plan_chart([pair], "图1", LEGEND).data
    assert charts.plan_chart([pair], "图1", LEGEND).data == first
    other = charts.Pair("户数（户）", charts.Decimal(100), charts.Decimal(91), "100", "91", "91.0%")
    assert charts.plan_chart([other], "图1", LEGEND).data != first


def test_rebuilt_reports_are_byte_identical_in_a_new_process(reports_build: Result,
                                                             tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "generator", "report", "--kind", "pilot-report",
                    "--year", "2018", "--out", str(tmp_path)], check=True, capture_output=True)
    for rel in (CITY_REPORT, district_report("东区")):
        assert (tmp_path / rel).read_bytes() == (reports_build.out / rel).read_bytes(), rel


def test_a_missing_cjk_font_is_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    charts.font_file.cache_clear()
    charts._font.cache_clear()
    monkeypatch.setattr(charts.shutil, "which", lambda name: None)
    try:
        with pytest.raises(TemplateError, match="Noto Sans CJK SC.*fonts-noto-cjk"):
            charts.plan_chart([charts.Pair("户数", charts.Decimal(1), charts.Decimal(1), "1", "1",
                                           "100.0%")], "图1", LEGEND)
    finally:
        charts.font_file.cache_clear()
        charts._font.cache_clear()


# ---------------------------------------------------------------- native charts in the workbooks

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
PLAN = "计划/老旧小区改造年度实施计划表.xlsx"
ASSESSMENT = "2018/全市/2018年度综合考评表.xlsx"


def _chart_series(path: Path) -> list[tuple[str, list[tuple[str, str, list[str]]]]]:
    """Each chart reachable from a sheet's drawing: its title, and per series its name, the
    category and value references, and the cached points."""
    parts = _parts(path)

    def targets(rels: str, kind: str) -> list[str]:
        """The parts a .rels file points at with relationships of this kind."""
        folder = posixpath.dirname(posixpath.dirname(rels))
        return [posixpath.normpath(posixpath.join(folder, r.get("Target"))).lstrip("/")
                for r in etree.fromstring(parts[rels]) if r.get("Type").endswith(f"/{kind}")]

    sheet_rels = sorted(n for n in parts if n.startswith("xl/worksheets/_rels/"))
    drawings = [d for rels in sheet_rels for d in targets(rels, "drawing")]
    found = []
    for drawing in drawings:
        rels = drawing.replace("drawings/", "drawings/_rels/") + ".rels"
        for chart_part in targets(rels, "chart"):
            root = etree.fromstring(parts[chart_part])
            title = "".join(t.text or "" for t in root.find(f"{C}chart/{C}title").iter(
                "{http://schemas.openxmlformats.org/drawingml/2006/main}t"))
            series = []
            for ser in root.iter(f"{C}ser"):
                name = ser.findtext(f"{C}tx/{C}v")
                cat = ser.findtext(f"{C}cat/{C}strRef/{C}f")
                val = ser.find(f"{C}val/{C}numRef")
                points = [p.findtext(f"{C}v") for p in val.iter(f"{C}pt")]
                series.append((name, cat, val.findtext(f"{C}f"), points))
            found.append((title, series))
    return found


def _cells(book: openpyxl.Workbook, ref: str) -> list[object]:
    sheet, cells = ref.rsplit("!", 1)
    ws = book[sheet.strip("'")]
    return [row[0].value for row in ws[cells.replace("$", "")]]


def test_the_plan_tables_charts_read_the_summary_sheets_cells(reports_build: Result,
                                                             bundled: DataSet) -> None:
    path = reports_build.out / PLAN
    assert sum(re.fullmatch(r"xl/charts/chart\d+\.xml", n) is not None for n in _parts(path)) == 2
    found = _chart_series(path)
    assert tuple(title for title, _ in found) == PLAN_CHARTS
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    households = {name: sum(c.households for c in bundled.active_communities() if c.district == name)
                  for name in bundled.districts}
    (_, [(ours, cat, ref, points), (stated, *_)]), _ = found
    assert (ours, stated) == SUMMARY_GROUPS
    assert _cells(values, cat) == list(bundled.districts)
    # The series is the table's 户数 column of 附件1合计: formulas, whose values are the plan's.
    assert all(str(f).startswith("=SUMIFS(") for f in _cells(formulas, ref))
    assert _cells(values, ref) == [households[n] for n in bundled.districts]
    assert [int(p) for p in points] == _cells(values, ref)


def test_the_assessments_charts_read_the_score_and_rate_cells(reports_build: Result,
                                                             bundled: DataSet) -> None:
    path = reports_build.out / ASSESSMENT
    (score_title, [score]), (rate_title, rates) = _chart_series(path)
    assert (score_title, rate_title) == (SCORE_CHART, RATE_CHART)
    values = openpyxl.load_workbook(path, data_only=True)
    rows = assessment_rows(bundled, 2018)
    assert _cells(values, score[1]) == [r.district for r in rows]
    expected = [float(total_score(bundled, r)) for r in rows]
    assert _cells(values, score[2]) == pytest.approx(expected)
    assert [float(p) for p in score[3]] == pytest.approx(expected)
    layout = assessment_layout()
    for (name, _, ref, points), key in zip(rates, DIMENSIONS, strict=True):
        assert name == DIMENSION_NAMES[key]
        assert ref.split("!")[1].startswith(f"${layout[key][-2]}$")
        assert [float(p) for p in points] == pytest.approx([float(r.rate(key)) for r in rows])


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")
def test_libreoffice_draws_the_assessment_chart_with_the_tables_scores(reports_build: Result,
                                                                      bundled: DataSet,
                                                                      tmp_path: Path) -> None:
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(reports_build.out / ASSESSMENT)],
                   check=True, capture_output=True, timeout=300)
    pdf = next(tmp_path.glob("*.pdf"))
    pages = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                           text=True).stdout.split("\f")
    page = next(p for p in pages if SCORE_CHART in p)
    assert RATE_CHART in page
    for row in assessment_rows(bundled, 2018):
        assert f"{total_score(bundled, row):.2f}" in page, row.district


@pytest.mark.parametrize("rel", [CITY_REPORT, district_report("盐边县")])
def test_a_chart_stays_on_the_page_of_its_table(reports_build: Result, rel: str) -> None:
    """The last rows of the table right before a chart keep with it, so the chart never opens a
    page its table is not on; the rows before them may break to the next page."""
    xml = _parts(reports_build.out / rel)["word/document.xml"].decode("utf-8")
    kept = 0
    # between the table and its chart may stand the table's 尾差 note, which keeps with the chart by its style
    note = r'(?:<w:p>(?:(?!</w:p>).)*<w:pStyle w:val="GwTableNote"/>(?:(?!</w:p>).)*</w:p>)?'
    for match in re.finditer(rf"</w:tbl>({note}<w:p[ >](?:(?!</w:p>).)*<w:drawing>)", xml, re.DOTALL):
        table = xml[xml.rfind("<w:tbl>", 0, match.start()):match.start()]  # no nested tables here
        rows = [r for r in re.findall(r"<w:tr[ >].*?</w:tr>", table, re.DOTALL) if "<w:tblHeader/>" not in r]
        assert len(rows) >= KEPT_TABLE_ROWS
        for row in rows[-KEPT_TABLE_ROWS:]:
            assert "<w:cantSplit/>" in row
            assert all("<w:keepNext/>" in p for p in re.findall(r"<w:p[ >].*?</w:p>", row, re.DOTALL))
        kept += 1
    assert kept == 2  # the targets and the funding tables, before 图1 and 图2


def test_keeping_a_table_with_its_figure_leaves_other_tables_alone() -> None:
    def table(rows: int) -> str:
        head = '<w:tr><w:trPr><w:tblHeader/></w:trPr><w:tc><w:p><w:r><w:t>h</w:t></w:r></w:p></w:tc></w:tr>'
        return "<w:tbl>" + head + "<w:tr><w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc></w:tr>" * rows + "</w:tbl>"

    figure = "<w:p><w:r><w:drawing>chart</w:drawing></w:r></w:p>"
    text = '<w:p><w:pPr><w:pStyle w:val="Body"/></w:pPr><w:r><w:t>after</w:t></w:r></w:p>'
    xml = table(3) + text + table(4) + figure
    out = keep_tables_with_figures(xml)
    first, second = out.split("</w:tbl>")[:2]
    assert "keepNext" not in first  # followed by text, not a figure
    rows = second.split("</w:tr>")
    assert "keepNext" not in rows[0] + rows[1] + rows[2]  # the heading row and the first rows
    assert all("<w:trPr><w:cantSplit/></w:trPr>" in r and "<w:pPr><w:keepNext/></w:pPr>" in r for r in rows[3:5])
    assert out.replace("<w:pPr><w:keepNext/></w:pPr>", "").replace("<w:trPr><w:cantSplit/></w:trPr>", "") == xml
    # a paragraph with properties gets keepNext after its style, once
    # (its first row, unmarked, is taken for a heading and left as it is)
    styled = ('<w:tbl><w:tr><w:tc><w:p/></w:tc></w:tr><w:tr><w:tc><w:p><w:pPr><w:pStyle w:val="T"/>'
              '<w:jc w:val="center"/></w:pPr></w:p></w:tc></w:tr></w:tbl>')
    once = keep_tables_with_figures(styled + figure)
    assert '<w:pStyle w:val="T"/><w:keepNext/><w:jc' in once
    assert keep_tables_with_figures(once) == once and "<w:tr><w:tc><w:p/>" in once
    # a template's own keep-with-next on the rows before the last ones is dropped: the table may break there
    chained = table(4).replace("<w:p><w:r>", "<w:p><w:pPr><w:keepNext/></w:pPr><w:r>")
    rows = keep_tables_with_figures(chained + figure).split("</w:tr>")
    assert "keepNext" in rows[0] and "keepNext" not in rows[1] + rows[2] and "keepNext" in rows[3] + rows[4]


def test_a_table_keeps_with_its_figure_across_its_rounding_note() -> None:
    """The 尾差 note under a funding table stands between the table and its chart: the table's last
    rows still keep with the chart (the note keeps with it by its style); other text does not."""
    rows = "<w:tr><w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc></w:tr>" * 4
    table = f"<w:tbl>{rows}</w:tbl>"
    note = '<w:p><w:pPr><w:pStyle w:val="GwTableNote"/></w:pPr><w:r><w:t>注：尾差</w:t></w:r></w:p>'
    body = '<w:p><w:pPr><w:pStyle w:val="Body"/></w:pPr><w:r><w:t>正文</w:t></w:r></w:p>'
    figure = "<w:p><w:r><w:drawing>chart</w:drawing></w:r></w:p>"
    kept = keep_tables_with_figures(table + note + figure).split("</w:tbl>")[0].split("</w:tr>")
    assert all("<w:keepNext/>" in r for r in kept[-1 - KEPT_TABLE_ROWS:-1])
    assert "keepNext" not in keep_tables_with_figures(table + body + figure).split("</w:tbl>")[0]
    assert "keepNext" not in keep_tables_with_figures(table + note + body).split("</w:tbl>")[0]
