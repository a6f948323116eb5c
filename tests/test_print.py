"""Batch printing: one bound .docx per district and kind, fast, numbered per document, safe."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import docx
import pytest
import yaml
from click.testing import CliRunner
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from generator.cli import main
from generator.cli.printing import print_cmd
from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.data.yamlio import dump_yaml
from generator.output.pdf import to_pdf
from generator.output.pipeline import Selection, build, plan_jobs
from generator.output.printing import print_documents

needs_lo = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")
if "print" not in main.commands:
    main.add_command(print_cmd)


def synthetic(root: Path, per_year: int) -> DataSet:
    """The bundled plan with per_year 东区 communities in 2019 and in 2020, clones of dongqu-10."""
    shutil.copytree(BUNDLED_DATA, root, ignore=shutil.ignore_patterns("projects", "rosters", "votes", "satisfaction"))
    (root / "projects").mkdir()
    plan = yaml.safe_load((BUNDLED_DATA / "communities.yaml").read_text(encoding="utf-8"))
    model = next(c for c in plan["communities"] if c["id"] == "dongqu-10")
    project = (BUNDLED_DATA / "projects" / "dongqu-10.yaml").read_text(encoding="utf-8")
    rows = []
    for year in (2019, 2020):
        for seq in range(1, per_year + 1):
            cid = f"dq{year}-{seq:03d}"
            name = f"测试{year}第{seq}小区"
            rows.append({**model, "id": cid, "seq": seq, "year": year, "name": name})
            text = project.replace("community: dongqu-10", f"community: {cid}")
            (root / "projects" / f"{cid}.yaml").write_text(text, encoding="utf-8")
    (root / "communities.yaml").write_text(dump_yaml({"communities": rows}), encoding="utf-8")
    return load(root)


def timed(data: DataSet, out: Path, year: int | None) -> float:
    """CPU seconds of this process for one merge, the best of three into fresh folders: the merge's own
    work, which other programs on a busy machine neither add to nor take from."""
    best = float("inf")
    for attempt in range(3):
        start = time.process_time()
        folder = out / f"{year}-{attempt}"
        result = print_documents(data, folder, "notice", district="东区", year=year)
        best = min(best, time.process_time() - start)
        assert len(result.paths) == 1 and list(result.bound.values()) == [300 if year else 600]
    return best


def test_300_notices_merge_in_under_5_seconds_and_600_in_linear_time(tmp_path: Path) -> None:
    data = synthetic(tmp_path / "data", 300)
    t300 = timed(data, tmp_path / "out", 2019)
    t600 = timed(data, tmp_path / "out", None)
    print(f"\n合并 300 份：{t300:.2f} 秒（处理器时间）；600 份：{t600:.2f} 秒（比值 {t600 / t300:.2f}）")
    assert t300 < 5
    assert t600 < 2.2 * t300


def style(paragraph: Paragraph) -> str:
    return paragraph.style.name if paragraph.style is not None and paragraph.style.name else ""


def test_one_section_per_document_after_the_contents_in_the_templates_styles(
        tmp_path: Path, bundled: DataSet) -> None:
    result = print_documents(bundled, tmp_path, "notice", district="东区")
    path = tmp_path / "打印" / "东区-改造方案公示.docx"
    assert list(result.paths) == [path]
    jobs, _ = plan_jobs(bundled, Selection(kinds=("notice",), district="东区"))
    merged = docx.Document(str(path))
    assert len(merged.sections) == len(jobs) + 1
    assert merged.paragraphs[0].text == "东区改造方案公示打印目录"
    assert style(merged.paragraphs[0]) == "公文标题"
    assert f"共{len(jobs)}份" in merged.paragraphs[1].text
    listed = [[c.text for c in row.cells] for row in merged.tables[0].rows]
    assert listed[0] == ["序号", "小区名称", "县（区）", "年度", "张数"]
    assert [r[1] for r in listed[1:]] == [j.community.name for j in jobs]
    # Each document's paragraphs keep the styles the same document has when built on its own.
    single = build(bundled, tmp_path / "single", Selection(kinds=("notice",), district="东区"))
    body_styles = [style(p) for p in merged.paragraphs[3:]]  # after title, count, break
    alone = [style(p) for f in single.paths for p in docx.Document(str(f)).paragraphs]
    assert body_styles == alone
    for section in merged.sections[1:]:
        number = section._sectPr.find(qn("w:pgNumType"))
        assert number is not None and number.get(qn("w:start")) == "1"
    text = "\n".join(p.text for p in merged.paragraphs)
    assert "{{" not in text and "{%" not in text


def test_a_document_without_the_sample_mark_keeps_a_header_without_it(tmp_path: Path) -> None:
    root = tmp_path / "data"
    synthetic(root, 2)
    path = root / "projects" / "dq2019-002.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("illustrative: true", "illustrative: false"), encoding="utf-8")
    result = print_documents(load(root), tmp_path / "out", "notice", year=2019)
    sections = docx.Document(str(result.paths[0])).sections[1:]
    headers = [s.header.paragraphs[0].text for s in sections]
    assert ["示例" in h for h in headers] == [True, False]


def test_a_print_file_changed_by_hand_is_not_overwritten_without_force(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["print", "--kind", "notice", "--district", "东区", "--year", "2018",
            "--out", str(tmp_path), "-q"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    path = tmp_path / "打印" / "2018" / "东区-改造方案公示.docx"
    assert "（2 份）" in first.output and path.exists()
    manifest = (tmp_path / "manifest.json").read_text(encoding="utf-8")
    assert '"kind": "print-notice"' in manifest
    assert runner.invoke(main, args).exit_code == 0
    path.write_bytes(path.read_bytes() + b"\0")
    refused = runner.invoke(main, args)
    assert refused.exit_code == 1 and "手工修改" in refused.output
    assert runner.invoke(main, [*args, "--force"]).exit_code == 0


def test_without_libreoffice_the_docx_is_written_and_the_exit_is_1(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("generator.output.pdf.soffice", lambda: None)
    result = CliRunner().invoke(main, ["print", "--kind", "notice", "--district", "西区", "--pdf",
                                       "--out", str(tmp_path), "-q"])
    assert result.exit_code == 1
    assert "未找到 LibreOffice" in result.output
    assert (tmp_path / "打印" / "西区-改造方案公示.docx").exists()


def test_the_command_has_chinese_help() -> None:
    result = CliRunner().invoke(main, ["print", "--help"])
    assert result.exit_code == 0 and "合并" in result.output


def pdf_text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", *pages, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


@needs_lo
@pytest.mark.libreoffice
def test_the_pdf_has_the_contents_page_then_each_notice_numbered_from_1(
        tmp_path: Path, bundled: DataSet) -> None:
    result = print_documents(bundled, tmp_path, "notice", district="东区")
    single = build(bundled, tmp_path / "single", Selection(kinds=("notice",), district="东区"))
    converted = to_pdf([*result.paths, *single.paths])
    assert not converted.failed
    merged = result.paths[0].with_suffix(".pdf")
    alone = [page_count(p.with_suffix(".pdf")) for p in single.paths]
    # One page of contents, then exactly the pages each notice has on its own.
    assert page_count(merged) == 1 + sum(alone)
    text = pdf_text(merged)
    assert "\ufffd" not in text and "□" not in text
    jobs, _ = plan_jobs(bundled, Selection(kinds=("notice",), district="东区"))
    first_pages = [2 + sum(alone[:i]) for i in range(len(alone))]
    for job, page in zip(jobs, first_pages, strict=True):
        assert job.community.name in text  # the contents page
        own = re.sub(r"\s", "", pdf_text(merged, page))
        assert job.community.name in own, page  # its own notice, a title that may wrap
        assert "—1—" in own, page
    fonts = subprocess.run(["pdffonts", str(merged)], capture_output=True, text=True).stdout
    assert "CJK" in fonts or "Noto" in fonts, fonts
    assert "—" not in pdf_text(merged, 1)  # the contents page has no page number


@pytest.mark.parametrize(("body", "marked"), [
    ('<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:t>甲</w:t></w:r></w:p>',
     '<w:p><w:pPr><w:jc w:val="center"/>{m}</w:pPr><w:r><w:t>甲</w:t></w:r></w:p>'),
    ("<w:p><w:r><w:t>甲</w:t></w:r></w:p>", "<w:p><w:pPr>{m}</w:pPr><w:r><w:t>甲</w:t></w:r></w:p>"),
    ("<w:p><w:pPr/></w:p>", "<w:p><w:pPr>{m}</w:pPr></w:p>"),
    ("<w:p><w:pPr><w:pPrChange/></w:pPr></w:p>", "<w:p><w:pPr>{m}<w:pPrChange/></w:pPr></w:p>"),
    ("<w:tbl><w:tr><w:tc><w:p/></w:tc></w:tr></w:tbl>",
     "<w:tbl><w:tr><w:tc><w:p/></w:tc></w:tr></w:tbl><w:p><w:pPr>{m}</w:pPr></w:p>"),
    ("<w:p><w:r><w:t>甲</w:t></w:r></w:p><w:p/>", "<w:p><w:r><w:t>甲</w:t></w:r></w:p><w:p><w:pPr>{m}</w:pPr></w:p>"),
    # a text box's paragraphs inside the last paragraph: the mark goes into the outer one
    ("<w:p><w:r><w:txbxContent><w:p><w:pPr/></w:p></w:txbxContent></w:r></w:p>",
     "<w:p><w:pPr>{m}</w:pPr><w:r><w:txbxContent><w:p><w:pPr/></w:p></w:txbxContent></w:r></w:p>"),
])
def test_the_section_break_goes_into_the_last_paragraph(body: str, marked: str) -> None:
    from generator.output.printing import _MARK, _with_section_mark

    assert _with_section_mark(body) == marked.format(m=_MARK)


def test_each_bound_document_starts_with_a_bookmark_at_its_first_paragraph() -> None:
    from generator.output.printing import START, _with_start_mark, _without_final_section

    body = _without_final_section('<w:document><w:body><w:tbl><w:tr><w:tc><w:p><w:pPr><w:jc w:val="left"/></w:pPr>'
                                  '<w:r><w:t>甲</w:t></w:r></w:p></w:tc></w:tr></w:tbl>'
                                  '<w:sectPr><w:pgSz w:w="11906"/></w:sectPr></w:body></w:document>')
    assert "sectPr" not in body
    marked = _with_start_mark(body, 7)
    assert marked.index(f'w:name="{START}000007"') > marked.index("</w:pPr>")
    assert marked.index("bookmarkEnd") < marked.index("<w:r>")


def test_a_long_contents_title_breaks_between_words(bundled: DataSet) -> None:
    from generator.documents.kinds import KINDS
    from generator.output.printing import PrintFile

    heading = PrintFile(KINDS["survey"], "东区", None, [], "大渡口街道办事处").heading
    lines = heading.split("\n")
    assert "".join(lines) == "东区大渡口街道办事处居民意见征询表打印目录"
    assert len(lines) == 2 and lines[-1].endswith("打印目录") and len(lines[-1]) > len("打印目录")
    assert PrintFile(KINDS["notice"], "东区", None, []).heading == "东区改造方案公示打印目录"
