"""Every kind converts to PDF through LibreOffice, with its Chinese text and CJK fonts embedded."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from generator.data.loader import DataSet
from generator.documents.kinds import kinds_of
from generator.output.pdf import NoLibreOffice, to_pdf
from generator.output.pipeline import Selection, build

needs_lo = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")


@needs_lo
@pytest.mark.libreoffice
def test_every_kind_of_one_packet_converts_to_pdf(tmp_path: Path, bundled: DataSet) -> None:
    # The household forms (600 pages here) are converted in bench/run.py's survey section.
    kinds = tuple(k.key for k in kinds_of("community") if k.key != "survey")
    result = build(bundled, tmp_path, Selection(kinds=kinds, project="dongqu-01"))
    assert len(result.paths) == 6
    converted = to_pdf(result.paths)
    assert not converted.failed
    assert len(converted.done) == 6
    for pdf in converted.done:
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "炳草岗园林苗圃小区" in text, pdf
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
        assert "CJK" in fonts, f"{pdf} 没有嵌入中文字体：\n{fonts}"


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
