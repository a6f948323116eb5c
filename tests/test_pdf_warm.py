"""The warm converter: LibreOffice kept running and fed over UNO gives the batch call's PDFs,
a hung document is stopped and the rest go on in a fresh LibreOffice, and without the uno
module the batch call is used. The faults are played by tests/fake_bridge.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.data.loader import DataSet
from generator.output import pdf as pdf_module
from generator.output import warm
from generator.output.pdf import to_pdf
from generator.output.pipeline import Selection, build
from tests.test_pdf import _text
from tests.test_pdf_faults import alive, files

BRIDGE = Path(__file__).with_name("fake_bridge.py")
FAKE = Path(__file__).with_name("fake_soffice.py")
needs_lo = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice 未安装")
needs_uno = pytest.mark.skipif(shutil.which("soffice") is None or not warm.available(shutil.which("soffice")),
                               reason="LibreOffice 的 uno 模块（python3-uno）未安装")


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """A LibreOffice that only waits and the fake bridge; the files of the children it started
    and of its starts."""
    listener = tmp_path / "soffice"
    listener.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "import time; time.sleep(600)"\n')
    listener.chmod(0o755)
    pids, starts = tmp_path / "children.txt", tmp_path / "starts.txt"
    pids.touch()
    starts.touch()
    monkeypatch.setattr(pdf_module, "soffice", lambda: str(listener))
    monkeypatch.setattr(warm, "bridge_command", lambda command: [sys.executable, str(BRIDGE)])
    monkeypatch.setenv("FAKE_SOFFICE_PIDS", str(pids))
    monkeypatch.setenv("FAKE_BRIDGE_STARTS", str(starts))
    yield pids, starts
    warm.stop_all()


def _ours_running() -> list[str]:
    """Command lines of warm LibreOffice processes and bridges still running."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            line = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if ("gaizao-warm-" in line or "bridge.py" in line) and alive(int(entry)):
            found.append(line)
    return found


def test_a_hung_document_is_stopped_and_the_rest_go_on_in_a_fresh_libreoffice(
        stand_in: tuple[Path, Path], tmp_path: Path) -> None:
    pids, starts = stand_in
    sources = files(tmp_path / "docs", b"a", b"HANG", b"b", b"c")
    converted = to_pdf(sources, timeout=2, warm=True)
    assert list(converted.failed) == [sources[1]] and "无响应" in converted.failed[sources[1]]
    assert [p.name for p in converted.done] == ["00.pdf", "02.pdf", "03.pdf"]
    for done in converted.done:
        info = PdfReader(done).metadata
        assert info is not None and info["/Subject"]  # the bridge's PDF, written beside its document
    assert len(starts.read_text().split()) == 2  # started again after the hang
    children = [int(p) for p in pids.read_text().split()]
    assert children and not any(alive(p) for p in children)  # the hung bridge's child too


def test_a_refused_document_is_named_and_the_converter_goes_on(stand_in: tuple[Path, Path],
                                                               tmp_path: Path) -> None:
    _, starts = stand_in
    sources = files(tmp_path / "docs", b"a", b"CRASH", b"b")
    converted = to_pdf(sources, warm=True)
    assert list(converted.failed) == [sources[1]] and "未能转换" in converted.failed[sources[1]]
    assert len(converted.done) == 2 and len(starts.read_text().split()) == 1


def test_a_converter_is_started_again_after_its_share_of_documents(
        stand_in: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, starts = stand_in
    monkeypatch.setattr(warm, "MAX_CONVERSIONS", 2)
    converted = to_pdf(files(tmp_path / "docs", b"a", b"b", b"c", b"d", b"e"), warm=True)
    assert len(converted.done) == 5
    assert len(starts.read_text().split()) == 3
    warm.stop_all()
    monkeypatch.setattr(warm, "MAX_CONVERSIONS", 100)
    monkeypatch.setattr(warm, "MAX_BUSY_SECONDS", 0.9)  # each SLOW document takes a second
    slow = to_pdf(files(tmp_path / "slow", b"SLOW", b"SLOW", b"a"), warm=True)
    assert len(slow.done) == 3
    assert len(starts.read_text().split()) == 6


def test_the_pool_keeps_a_converter_for_the_next_call_and_stops_it(stand_in: tuple[Path, Path],
                                                                   tmp_path: Path) -> None:
    _, starts = stand_in
    assert len(to_pdf(files(tmp_path / "one", b"a"), warm=True).done) == 1
    assert len(to_pdf(files(tmp_path / "two", b"b"), warm=True).done) == 1
    assert len(starts.read_text().split()) == 1  # the second call found it warm
    assert _ours_running()
    warm.stop_all()
    assert not _ours_running()


def test_more_waiting_calls_than_the_queue_holds_are_refused(stand_in: tuple[Path, Path], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm, "_waiting", warm.QUEUE_BOUND)
    with pytest.raises(warm.Busy, match="排队已满"), warm.converter("soffice"):
        pass
    sources = files(tmp_path / "docs", b"a")
    refused = to_pdf(sources, warm=True)
    assert not refused.done and "排队已满" in refused.failed[sources[0]]
    monkeypatch.setattr(warm, "_waiting", 0)
    assert to_pdf(sources, warm=True).done


def test_without_the_uno_module_the_batch_call_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "soffice"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    script.chmod(0o755)
    monkeypatch.setattr(pdf_module, "soffice", lambda: str(script))
    monkeypatch.setattr(warm, "uno_python", lambda command: None)
    monkeypatch.setenv("FAKE_SOFFICE", "ok")
    assert not warm.available(str(script))
    converted = to_pdf(files(tmp_path / "docs", b"a", b"b"))
    assert len(converted.done) == 2 and not converted.failed
    monkeypatch.undo()
    monkeypatch.setattr(pdf_module, "soffice", lambda: str(script))
    monkeypatch.setenv("GAIZAO_WARM_PDF", "0")
    assert not warm.available(str(script))


@needs_lo
@needs_uno
@pytest.mark.libreoffice
def test_warm_pdfs_equal_the_batch_calls(tmp_path: Path, bundled: DataSet) -> None:
    kinds = ("notice", "plan", "budget", "acceptance")
    built = build(bundled, tmp_path / "out", Selection(project="dongqu-01", kinds=kinds))
    sources = list(built.paths)
    assert len(sources) == 4 and any(p.suffix == ".xlsx" for p in sources)
    cold_dir = tmp_path / "cold"
    cold_dir.mkdir()
    cold = [cold_dir / p.name for p in sources]
    for p, c in zip(sources, cold, strict=True):
        shutil.copyfile(p, c)
    assert not to_pdf(cold, warm=False).failed
    assert not to_pdf(sources, warm=True).failed
    for p, c in zip(sources, cold, strict=True):
        mine, theirs = p.with_suffix(".pdf"), c.with_suffix(".pdf")
        assert len(PdfReader(mine).pages) == len(PdfReader(theirs).pages), p
        assert _text(mine) == _text(theirs), p
    warm.stop_all()
    assert not _ours_running()


@needs_lo
@needs_uno
@pytest.mark.libreoffice
def test_nothing_is_left_running_after_the_command(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "generator", "build", "--project", "dongqu-01", "--kind", "notice",
                           "--kind", "budget", "--pdf", "-q", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(list(out.rglob("*.pdf"))) == 2
    assert not _ours_running()


def test_a_few_files_go_to_the_warm_converter_a_long_run_to_the_batch_call(
        stand_in: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, starts = stand_in
    few = to_pdf(files(tmp_path / "few", b"a", b"b"))
    assert len(few.done) == 2 and len(starts.read_text().split()) == 1
    script = tmp_path / "batch-soffice"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    script.chmod(0o755)
    monkeypatch.setattr(pdf_module, "soffice", lambda: str(script))
    monkeypatch.setattr(pdf_module, "WARM_UNITS", 2)
    monkeypatch.setenv("FAKE_SOFFICE", "ok")
    many = to_pdf(files(tmp_path / "many", b"a", b"b", b"c"))
    assert len(many.done) == 3 and len(starts.read_text().split()) == 1  # no bridge started


def test_always_sends_a_long_run_to_the_warm_converter_too(
        stand_in: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, starts = stand_in
    monkeypatch.setattr(pdf_module, "WARM_UNITS", 2)
    monkeypatch.setenv("GAIZAO_WARM_PDF", "always")
    many = to_pdf(files(tmp_path / "many", b"a", b"b", b"c"), workers=1)
    assert len(many.done) == 3 and len(starts.read_text().split()) == 1  # fed to one warm converter
