"""Pieces of a long Word file handed to LibreOffice as flat ODF, filled per section: the same PDF."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.data.loader import DataSet
from generator.output import odf, pdf, warm
from generator.output.office import environment
from generator.output.pdf import soffice, to_pdf
from generator.output.pipeline import Selection, build

needs_lo = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                              reason="LibreOffice 未安装")


def _lines(path: Path) -> str:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(text.replace("\t", " ").split(" "))


def _cold(path: Path, tmp: Path) -> Path:
    """The PDF of one plain `soffice --convert-to pdf` of the whole file."""
    alone = tmp / "alone"
    alone.mkdir()
    subprocess.run([str(soffice()), "--headless", "--norestore", f"-env:UserInstallation={(tmp / 'p').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(alone), str(path)], env=environment(),
                   capture_output=True, check=True, timeout=600)
    return alone / path.with_suffix(".pdf").name


def _staged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The suffixes of the files handed to LibreOffice, as they are handed."""
    seen: list[str] = []
    real = pdf._Worker._run

    def spied(self: pdf._Worker, units: list[pdf._Unit]) -> tuple[str, int]:
        seen.extend(u.staged.suffix for u in units)
        return real(self, units)

    monkeypatch.setattr(pdf._Worker, "_run", spied)
    return seen


def test_a_section_is_filled_with_its_own_words() -> None:
    template = odf.Template('<office:document><office:text><text:sequence-decls/>'
                            '<text:p text:style-name="P1"><text:span>\ue0000\ue001</text:span>'
                            '</text:p><text:p>\ue0001\ue001</text:p></office:text></office:document>', 2)
    body = template.body(["A & <B>  c", "x"], ["gaizaoStart000001"])
    assert body == ('<text:p text:style-name="P1"><text:bookmark text:name="gaizaoStart000001"/>'
                    "<text:span>A<text:s/>&amp;<text:s/>&lt;B&gt;<text:s/><text:s/>c</text:span></text:p>"
                    "<text:p>x</text:p>")
    with pytest.raises(ValueError):
        odf.Template("<office:text><text:p>\ue0000\ue001</text:p></office:text>", 2)  # a marker lost


def test_only_sections_of_one_plain_shape_are_filled() -> None:
    run = b'<w:p><w:bookmarkStart w:id="1" w:name="m"/><w:bookmarkEnd w:id="1"/><w:r><w:t>%s</w:t></w:r></w:p>'
    first, second = run % "甲".encode(), run.replace(b'<w:bookmarkStart w:id="1" w:name="m"/>'
                                                  b'<w:bookmarkEnd w:id="1"/>', b"") % "乙乙".encode()
    assert odf.shape(first) == odf.shape(second) is not None
    assert odf.words(first) == (["甲"], ["m"])
    assert odf.shape(b'<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r></w:p>') is None
    late = b'<w:p><w:r><w:t>a</w:t></w:r><w:bookmarkStart w:id="1" w:name="m"/></w:p>'
    assert odf.shape(late) is None  # a bookmark inside the text: not where the filler puts it
    assert odf.shape(b"<w:p><w:r><w:t>a\tb</w:t></w:r></w:p>") is None  # a tab inside the text


@needs_lo
@pytest.mark.libreoffice
def test_pieces_as_flat_odf_equal_the_file_converted_whole(tmp_path: Path, bundled: DataSet,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # renhe-06's roster: 84 households' names, rooms and answers on two-page forms
    [path] = build(bundled, tmp_path / "out", Selection(project="renhe-06", kinds=("survey",), all_forms=True)).paths
    whole = _cold(path, tmp_path)
    monkeypatch.setattr(pdf, "SECTIONS_PER_PIECE", 16)
    staged = _staged(monkeypatch)
    done = to_pdf([path], workers=2)
    assert not done.failed
    assert staged.count(".fodt") >= 4 and ".docx" in staged  # the first section alone stays Word
    mine = path.with_suffix(".pdf")
    assert len(PdfReader(mine).pages) == len(PdfReader(whole).pages) >= 160
    assert _lines(mine) == _lines(whole)
    monkeypatch.setenv(pdf.ODF_SETTING, "0")
    staged.clear()
    again = tmp_path / "word.docx"
    shutil.copyfile(path, again)
    assert not to_pdf([again], workers=1).failed and set(staged) == {".docx"}
    assert _lines(again.with_suffix(".pdf")) == _lines(mine)


@needs_lo
@pytest.mark.libreoffice
def test_a_flat_piece_libreoffice_refuses_is_converted_as_word(tmp_path: Path, bundled: DataSet,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    [path] = build(bundled, tmp_path / "out", Selection(project="dongqu-10", kinds=("survey",),
                                                        blank_forms=6)).paths
    whole = _cold(path, tmp_path)
    monkeypatch.setattr(pdf, "SECTIONS_PER_PIECE", 2)
    monkeypatch.setattr(odf.Template, "body", lambda self, texts, names: "<text:p>")  # broken XML
    staged = _staged(monkeypatch)
    done = to_pdf([path], workers=1)
    assert not done.failed
    assert ".fodt" in staged and staged.count(".docx") > staged.count(".fodt")  # each tried again as Word
    mine = path.with_suffix(".pdf")
    assert len(PdfReader(mine).pages) == len(PdfReader(whole).pages) == 12
    assert _lines(mine) == _lines(whole)


@needs_lo
@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None or not warm.available(shutil.which("soffice")),
                    reason="LibreOffice 的 Python（uno）未安装")
def test_flat_odf_pieces_fed_to_a_warm_libreoffice_equal_the_file_converted_whole(
        tmp_path: Path, bundled: DataSet, monkeypatch: pytest.MonkeyPatch) -> None:
    [path] = build(bundled, tmp_path / "out", Selection(project="dongqu-10", kinds=("survey",),
                                                        blank_forms=6)).paths
    whole = _cold(path, tmp_path)
    monkeypatch.setattr(pdf, "SECTIONS_PER_PIECE", 2)
    fed: list[str] = []
    real = warm.Converter.convert

    def spied(self: warm.Converter, source: Path, target: Path, seconds: float) -> str | None:
        fed.append(source.suffix)
        return real(self, source, target, seconds)

    monkeypatch.setattr(warm.Converter, "convert", spied)
    assert not to_pdf([path], workers=1, warm=True).failed
    assert ".fodt" in fed
    mine = path.with_suffix(".pdf")
    assert len(PdfReader(mine).pages) == len(PdfReader(whole).pages) == 12
    assert _lines(mine) == _lines(whole)
