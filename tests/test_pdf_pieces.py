"""Long Word files of many sections go to PDF in pieces, joined; blank survey forms by count."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from generator.cli.main import main
from generator.data.loader import DataSet
from generator.output import pdf
from generator.output.office import environment
from generator.output.pdf import pieces, soffice, to_pdf
from generator.output.pipeline import Selection, build
from generator.output.printing import print_documents

needs_lo = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                              reason="LibreOffice 未安装")
FORM = "表格编号"
"""Once on each form."""


def _forms(bundled: DataSet, folder: Path, count: int) -> Path:
    result = build(bundled, folder, Selection(project="dongqu-10", kinds=("survey",), blank_forms=count))
    return result.paths[0]


def _document(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read("word/document.xml").decode("utf-8")


def _lines(path: Path) -> str:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(text.replace("\t", " ").split(" "))


def test_blank_forms_by_count_on_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["build", "--kind", "survey", "--project", "dongqu-02", "--blank-forms", "7",
                                    "--out", str(out), "-q", "-j", "1"])
    assert run.exit_code == 0, run.output
    [path] = out.rglob("*.docx")
    xml = _document(path)
    assert xml.count(FORM) == 7  # dongqu-02 has a roster of 1,130: the count wins, blank
    assert "dongqu-02-0007" in xml and "dongqu-02-0008" not in xml
    assert "________栋" in xml
    refused = CliRunner().invoke(main, ["build", "--kind", "survey", "--blank-forms", "0", "--out", str(out)])
    assert refused.exit_code == 2 and "--blank-forms" in refused.output


def test_a_long_file_is_cut_where_sections_restart(tmp_path: Path, bundled: DataSet) -> None:
    path = _forms(bundled, tmp_path, 9)
    assert pieces(path, at_most=9) is None  # 9 sections: short enough
    cut = pieces(path, at_most=4)
    assert cut is not None
    counts = [_document_bytes(c).count(FORM) for c in cut]
    assert counts == [1, 4, 4]  # the first section alone (a contents page changes), then by four
    assert all(_document_bytes(c).count("<w:sectPr") == n for c, n in zip(cut, counts, strict=True))
    assert cut == pieces(path, at_most=4)  # the same bytes every time: pieces can be reused


def _document_bytes(docx: bytes) -> str:
    import io

    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        return zf.read("word/document.xml").decode("utf-8")


def test_a_file_with_a_numbered_list_is_not_cut(tmp_path: Path, bundled: DataSet) -> None:
    path = _forms(bundled, tmp_path, 9)
    xml = _document(path).replace("<w:pPr>", "<w:pPr><w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"1\"/></w:numPr>",
                                  1)
    listed = tmp_path / "listed.docx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(listed, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, xml if info.filename == "word/document.xml" else src.read(info))
    assert pieces(listed, at_most=4) is None


@needs_lo
@pytest.mark.libreoffice
def test_pieces_joined_equal_the_file_converted_whole(tmp_path: Path, bundled: DataSet,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = _forms(bundled, tmp_path / "out", 6)
    alone = tmp_path / "alone"
    alone.mkdir()
    subprocess.run([str(soffice()), "--headless", "--norestore",
                    f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--convert-to", "pdf",
                    "--outdir", str(alone), str(path)], env=environment(), capture_output=True, check=True,
                   timeout=300)
    monkeypatch.setattr(pdf, "SECTIONS_PER_PIECE", 2)
    done = to_pdf([path], workers=2)
    assert not done.failed
    mine, whole = path.with_suffix(".pdf"), alone / path.with_suffix(".pdf").name
    assert len(PdfReader(mine).pages) == len(PdfReader(whole).pages) == 12
    assert _lines(mine) == _lines(whole)


@needs_lo
@pytest.mark.libreoffice
def test_the_print_pdf_reuses_the_layout_pass(tmp_path: Path, bundled: DataSet,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.cli.common import PdfStep

    monkeypatch.setattr(pdf, "SECTIONS_PER_PIECE", 4)
    runs: list[int] = []
    real = pdf._Worker._run

    def counted(self: pdf._Worker, units: list[pdf._Unit]) -> tuple[str, int]:
        runs.append(len(units))
        return real(self, units)

    monkeypatch.setattr(pdf._Worker, "_run", counted)
    step = PdfStep(quiet=True, workers=1)
    result = print_documents(bundled, tmp_path, "survey", district="西区", year=2018, layout=True,
                             blank_forms=2, then=step)
    [rel] = result.paths.rels
    assert not step.conversion.failed and len(step.conversion.done) == 1
    xml = _document(result.out / rel)
    communities = result.bound[rel]
    assert xml.count(FORM) == 2 * communities
    # laid out: the contents count sheets per community
    assert communities >= 2 and f"共{communities}份、" in xml and "张（双面打印）" in xml
    # the layout pass converted every piece; the PDF only the contents page, which changed
    assert runs[-1] == 1 and sum(runs[:-1]) > 1
    printed = result.out / Path(rel).with_suffix(".pdf")
    pages = len(PdfReader(printed).pages)
    assert pages >= 1 + 1 + 4 * communities  # contents, its blank verso, two forms of 2 pages or more
    # every form starts on a right-hand page; the forms carry no page numbers, nor does the contents say so
    text = subprocess.run(["pdftotext", str(printed), "-"], capture_output=True, text=True, check=True).stdout
    firsts = [number for number, page in enumerate(text.split("\f"), start=1) if FORM in page]
    assert len(firsts) == 2 * communities and all(n % 2 == 1 for n in firsts)
    assert "页码" not in xml and "— 1 —" not in text
