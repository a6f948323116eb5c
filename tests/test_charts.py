"""Charts in the papers: pictures in the reports, native charts in the workbooks, each showing
exactly the figures of the table beside it, and the same bytes on every build."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree
from PIL import Image

from generator.data.loader import DataSet
from generator.documents import charts
from generator.documents.report import report_context
from generator.errors import TemplateError
from generator.output.pipeline import Renderers, Result, Selection, plan_jobs, render_document
from generator.render.images import EMU_PER_MM, IMAGE_REL

CITY_REPORT = "2018/全市/2018年老旧小区改造试点工作报告（汇总）.docx"
LATER_YEAR = 2019
"""A year whose city report the bundled data makes on request, with no project finished yet."""
TYPE_AREA_MM = (156, 225)
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


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
    media = sorted(n for n in parts if n.startswith("word/media/"))
    assert len(media) == 2 and all(n.endswith(".png") for n in media)
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
    assert len(ids) == len(set(ids)) == 2


def test_a_year_with_no_money_in_yet_has_no_funding_chart(bundled: DataSet, tmp_path: Path) -> None:
    context = report_context(bundled, LATER_YEAR)
    assert context["charts"]["funding"] is None and context["funding_total"]["total"] == "0.00"
    jobs, _ = plan_jobs(bundled, Selection(kinds=("pilot-report",), year=LATER_YEAR))
    job = next(j for j in jobs if j.target.district is None)
    path = tmp_path / "report.docx"
    path.write_bytes(render_document(bundled, job.kind, job.target, Renderers(bundled, None)))
    assert [caption for *_, caption in _pictures(path)] == [context["charts"]["plan"]["caption"]]
    assert sum(n.startswith("word/media/") for n in _parts(path)) == 1


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
    assert sum(funding["values"]) == sum(p["done"] for p in plan["pairs"][2:])


def _funding_table(path: Path) -> list[list[str]]:
    document = docx.Document(str(path))
    table = document.tables[-1]
    return [[c.text for c in row.cells] for row in table.rows]


def test_a_chart_is_the_same_bytes_every_time_and_differs_when_a_figure_does() -> None:
    pair = charts.Pair("户数（户）", charts.Decimal(100), charts.Decimal(90), "100", "90", "90.0%")
    first = charts.plan_chart([pair], "图1").data
    assert charts.plan_chart([pair], "图1").data == first
    other = charts.Pair("户数（户）", charts.Decimal(100), charts.Decimal(91), "100", "91", "91.0%")
    assert charts.plan_chart([other], "图1").data != first


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
                                           "100.0%")], "图1")
    finally:
        charts.font_file.cache_clear()
        charts._font.cache_clear()
