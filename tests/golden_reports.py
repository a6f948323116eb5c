"""Golden text snapshots of the city and district documents.

`python -m tests.golden_reports --update` regenerates tests/golden/reports/; review the diff.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

from generator.data.loader import DataSet, load
from generator.documents.kinds import kinds_of
from generator.documents.report import report_path
from generator.output.pipeline import Renderers, Selection, plan_jobs, render_document
from tests.snapshot import xlsx_text

GOLDEN = Path(__file__).parent / "golden" / "reports"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
EXTRA_YEAR = 2019
"""A year after the pilot, to keep the 年度工作总结 wording under test too (city report only)."""


def _rows(table: Table) -> list[str]:
    lines = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is listed once per grid column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(cell.text.replace("\n", " / "))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _pictures(paragraph: Paragraph) -> list[str]:
    """A line per picture in the paragraph, with its printed size."""
    return [f"[图片 {int(e.get('cx')) / 36000:g}×{int(e.get('cy')) / 36000:g} mm]"
            for e in paragraph._p.iter(f"{{{WP}}}extent")]


def report_text(data: bytes) -> str:
    """Paragraphs and table rows in order (equal neighbouring cells kept), headers, footers."""
    doc = Document(io.BytesIO(data))
    lines: list[str] = []
    for block in doc.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.extend(_pictures(block))
            if block.text.strip():
                lines.append(block.text)
        else:
            lines.extend(_rows(block))
    section = doc.sections[0]
    for label, part in (("页眉", section.header), ("页脚", section.footer),
                        ("偶数页页眉", section.even_page_header),
                        ("偶数页页脚", section.even_page_footer)):
        text = " ".join(p.text for p in part.paragraphs if p.text.strip())
        if text:
            lines.append(f"[{label}] {text}")
    return "\n".join(lines) + "\n"


def as_text(path: str, payload: bytes) -> str:
    return xlsx_text(payload) if path.endswith(".xlsx") else report_text(payload)


def snapshots(data: DataSet | None = None) -> dict[Path, str]:
    """Every document `gaizao report` writes by default, and the city's report of EXTRA_YEAR."""
    data = data or load()
    renderers = Renderers(data, None)
    reports = kinds_of("district", "city")
    jobs, _ = plan_jobs(data, Selection(), reports)
    extra = [j for j in plan_jobs(data, Selection(kinds=("pilot-report",), year=EXTRA_YEAR), reports)[0]
             if j.path == report_path(data, EXTRA_YEAR, None)]
    return {GOLDEN / Path(job.path).with_suffix(".txt"):
            as_text(job.path, render_document(data, job.kind, job.target, renderers))
            for job in [*jobs, *extra]}


def main() -> None:
    if "--update" not in sys.argv:
        print("用法：python -m tests.golden_reports --update   "
              "（重新生成 tests/golden/reports/ 下的快照，提交前请检查差异）")
        sys.exit(2)
    for path, text in snapshots().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(GOLDEN.parent.parent.parent))


if __name__ == "__main__":
    main()
