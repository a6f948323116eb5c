"""Every kind converts to PDF through LibreOffice, with its Chinese text and CJK fonts embedded."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli.main import main
from generator.data.loader import DataSet
from generator.documents.kinds import KINDS, kinds_of
from generator.output.pdf import NoLibreOffice, to_pdf
from generator.output.pipeline import Selection, build

needs_lo = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")


@pytest.mark.libreoffice
def test_without_libreoffice_the_message_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    monkeypatch.setattr("generator.output.pdf.soffice", lambda: None)
    with pytest.raises(NoLibreOffice, match="apt-get install libreoffice"):
        to_pdf([tmp_path / "x.docx"])


@needs_lo
@pytest.mark.libreoffice
def test_a_file_that_fails_is_named_and_the_rest_go_on(tmp_path: Path, bundled: DataSet) -> None:
    result = build(bundled, tmp_path, Selection(project="dongqu-01", kinds=("notice",)))
    bad = result.paths[0].with_name("坏文件.docx")
    bad.write_bytes(b"PK\x03\x04 a zip header and nothing after it")  # LibreOffice cannot load this
    converted = to_pdf([result.paths[0], bad])
    assert [p.name for p in converted.done] == ["05-改造方案公示.pdf"]
    assert bad in converted.failed


def _text(pdf: Path) -> str:
    """Every line of every page, without the spaces pdftotext guesses between glyphs: the bound
    PDF holds more characters, so its fonts come in more subsets, and a gap between glyphs of two
    subsets reads as a space where the same gap within one does not."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"[ \t]+", "", text)


@needs_lo
@pytest.mark.libreoffice
def test_pdfs_split_from_a_bound_run_equal_each_document_converted_alone(
        tmp_path: Path, bundled: DataSet, monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PdfReader

    from generator.output import binding
    from generator.output.pdf import FONTS_CONF, soffice

    # The household forms (hundreds of pages a community) are converted in bench/run.py's survey section.
    kinds = tuple(k.key for k in kinds_of("community") if k.key != "survey")
    built = build(bundled, tmp_path / "out", Selection(kinds=kinds, district="东区", year=2018))
    sources = list(built.paths)
    words = [p for p in sources if p.suffix == ".docx"]
    assert len(words) >= 8 and any(p.suffix == ".xlsx" for p in sources)
    assert {p.name[:2] for p in sources} == {f"{KINDS[k].number:02d}" for k in kinds}  # every other kind
    # Alone: one plain LibreOffice batch call, which loads and exports each document by itself.
    alone = tmp_path / "alone"
    alone.mkdir()
    for i, p in enumerate(sources):
        (alone / f"{i:03d}{p.suffix}").write_bytes(p.read_bytes())
    command = soffice()
    assert command is not None
    subprocess.run([command, "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'p').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(alone), *sorted(map(str, alone.iterdir()))],
                   env={**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}, capture_output=True, check=True)
    split_counts: list[int] = []
    real_split = binding.split

    def spy(pdf: bytes, count: int) -> list[bytes] | None:
        parts = real_split(pdf, count)
        assert parts is not None, "a bound file lost its marks"
        split_counts.append(count)
        return parts

    monkeypatch.setattr(binding, "split", spy)
    converted = to_pdf(sources, workers=2)
    assert not converted.failed
    # Every Word file is bound with those of the same shell: a paper whose photos no other paper
    # carries (an acceptance record's 完工 photos) is converted by itself.
    shells = Counter(binding.shell(p) for p in words)
    shared = sum(n for key, n in shells.items() if n > 1 and key is not None)  # None: converted alone
    assert shared >= 8 and sum(split_counts) == shared and all(n > 1 for n in split_counts)
    for i, p in enumerate(sources):
        mine, theirs = p.with_suffix(".pdf"), alone / f"{i:03d}.pdf"
        assert len(PdfReader(mine).pages) == len(PdfReader(theirs).pages), p
        assert _text(mine) == _text(theirs), p
        name = p.parent.name.split("-", 1)[1]  # the community's folder: its number and name
        assert name in re.sub(r"\s", "", _text(mine)), p
        fonts = subprocess.run(["pdffonts", str(mine)], capture_output=True, text=True).stdout
        assert "CJK" in fonts, f"{mine} 没有嵌入中文字体：\n{fonts}"
        assert _pdf_a_declared(mine) == ("", "")  # plain PDF: the PDF/A test can tell them apart


def _pdf_a_declared(pdf: Path) -> tuple[str, str]:
    from pypdf import PdfReader

    root = PdfReader(pdf).trailer["/Root"]
    if "/Metadata" not in root:
        return ("", "")
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    part = re.search(r"pdfaid:part(?:>|=\")(\d)", xmp)
    conformance = re.search(r"pdfaid:conformance(?:>|=\")(\w)", xmp)
    return (part.group(1) if part else "", conformance.group(1) if conformance else "")


def _fonts_embedded(pdf: Path) -> list[str]:
    """The fonts pdffonts lists that are not embedded."""
    lines = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert lines, f"{pdf} 没有字体"
    return [line for line in lines if line.split()[-5] != "yes"]


@needs_lo
@pytest.mark.libreoffice
def test_pdf_a_for_archiving_declares_part_2b_and_embeds_every_font(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    six = [arg for key in ("application", "plan", "budget", "notice", "acceptance", "survey-tally")
           for arg in ("--kind", key)]  # the household forms (hundreds of pages) are left to bench/run.py
    built = runner.invoke(main, ["build", "--project", "dongqu-01", *six, "--pdf-a", "-q", "--out", str(out)])
    assert built.exit_code == 0, built.output
    assert "已生成 6 份 PDF/A-2b" in built.output
    printed = runner.invoke(main, ["print", "--kind", "notice", "--district", "西区", "--pdf-a", "-q",
                                   "--out", str(out)])
    assert printed.exit_code == 0, printed.output
    pdfs = sorted(out.rglob("*.pdf"))
    assert len(pdfs) == 7 and any("打印" in p.parts for p in pdfs)
    for pdf in pdfs:
        assert _pdf_a_declared(pdf) == ("2", "B"), pdf
        assert not _fonts_embedded(pdf), pdf
