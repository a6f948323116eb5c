"""The PDF step when things go wrong: hand-replaced PDFs, bad PDFs, a hung or crashing LibreOffice,
a full disk. LibreOffice is played by tests/fake_soffice.py, so every case is fast and exact."""

from __future__ import annotations

import errno
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from generator.cli.main import main
from generator.data.loader import DataSet
from generator.output import pdf as pdf_module
from generator.output.fonts import office_text
from generator.output.pdf import convert_outputs, to_pdf
from generator.output.pipeline import Selection, build
from generator.output.writer import Output, sha256
from tests.helpers import DataDir

pytestmark = pytest.mark.slow  # fault injection: kills, hangs, full disks (`-m "not slow"` skips them)

FAKE = Path(__file__).with_name("fake_soffice.py")
SIX = [arg for key in ("application", "plan", "budget", "notice", "acceptance", "survey-tally")
       for arg in ("--kind", key)]
"""Six documents of one packet; the household forms (hundreds of pages) are left to bench/run.py."""
PACKET = ["build", "--project", "dongqu-01", *SIX, "--pdf", "-q"]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """soffice is the fake; returns the file where it writes the pids of the children it starts."""
    script = tmp_path / "soffice"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    script.chmod(0o755)
    pids = tmp_path / "children.txt"
    pids.touch()
    monkeypatch.setattr(pdf_module, "soffice", lambda: str(script))
    monkeypatch.setenv("FAKE_SOFFICE_PIDS", str(pids))
    monkeypatch.setenv("FAKE_SOFFICE", "ok")
    monkeypatch.setenv("GAIZAO_WARM_PDF", "0")  # the batch call: the fake answers no UNO
    return pids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left to collect


def files(folder: Path, *contents: bytes) -> list[Path]:
    """Stand-in documents the fake converts by content (not real Word files: none is bound)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, body in enumerate(contents):
        path = folder / f"{i:02d}.docx"
        path.write_bytes(body + b" %d" % i)
        out.append(path)
    return out


def manifest(out: Path) -> dict[str, Any]:
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {d["path"]: d for d in doc["documents"]}


def run(out: Path, *extra: str) -> Any:
    return CliRunner().invoke(main, [*PACKET, "--out", str(out), *extra])


def written(out: Path, **docs: bytes) -> list[str]:
    """Stand-in documents written through an output session, as a build writes its documents."""
    from generator.output.writer import Entry

    rels = [f"c/{name}.docx" for name in docs]
    with Output(out).session() as output:
        for rel, data in zip(rels, docs.values(), strict=True):
            output.write(Entry(path=rel, kind="notice", kind_name="公示", community="c", district="d",
                               year=2018, template="t", sha256=sha256(data), data_hash="h"), data)
    return rels


def pdf_step(out: Path, rels: list[str], force: bool = False) -> Any:
    """The PDF step over documents already written, in a session of its own."""
    with Output(out, force=force).session() as output:
        return convert_outputs(output, rels)


# ---------------------------------------------------------------- the manifest and hand edits


def test_pdfs_are_in_the_manifest_with_their_hash_and_source(fake: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(out)
    assert result.exit_code == 0, result.output
    assert "已生成 6 份 PDF" in result.output
    entries = manifest(out)
    pdfs = {p: e for p, e in entries.items() if p.endswith(".pdf")}
    assert len(pdfs) == 6
    for path, entry in pdfs.items():
        source = path[:-4] + (".xlsx" if "预算" in path else ".docx")
        assert entry["template"] == source
        assert entry["sha256"] == sha256((out / path).read_bytes())
        assert entry["data_hash"].startswith(sha256((out / source).read_bytes()))
        assert entry["kind"] == entries[source]["kind"]


def test_a_stamped_scan_saved_over_a_pdf_is_kept_and_named(fake: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(out).exit_code == 0
    notice = next(out.rglob("05-改造方案公示.pdf"))
    scan = b"%PDF-1.4 stamped scan"
    notice.write_bytes(scan)
    again = run(out)
    assert again.exit_code == 1
    assert "手工修改" in again.output and "05-改造方案公示.pdf" in again.output and "--force" in again.output
    assert notice.read_bytes() == scan
    assert "已生成 0 份 PDF，5 份与文书一致，未改动" in again.output
    forced = run(out, "--force")
    assert forced.exit_code == 0, forced.output
    assert notice.read_bytes() != scan and PdfReader(notice).pages


def test_a_pdf_deleted_by_hand_is_made_again(fake: Path, tmp_path: Path) -> None:
    rels = written(tmp_path, a=b"one", b=b"two")
    assert len(pdf_step(tmp_path, rels).done) == 2
    (tmp_path / "c" / "a.pdf").unlink()
    again = pdf_step(tmp_path, rels)
    assert again.done == [tmp_path / "c" / "a.pdf"] and again.unchanged == [tmp_path / "c" / "b.pdf"]


def test_an_up_to_date_pdf_needs_no_libreoffice(fake: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    rels = written(tmp_path, a=b"one", b=b"two")
    assert not pdf_step(tmp_path, rels).failed
    monkeypatch.setattr(pdf_module, "soffice", lambda: None)
    again = pdf_step(tmp_path, rels)
    assert not again.done and not again.failed and len(again.unchanged) == 2


def test_a_foreign_pdf_is_named_and_the_others_made(fake: Path, tmp_path: Path) -> None:
    rels = written(tmp_path, a=b"one", b=b"two", c=b"three")
    (tmp_path / "c" / "b.pdf").write_bytes(b"")  # even an empty file someone put there
    step = pdf_step(tmp_path, rels)
    assert list(step.failed) == [tmp_path / "c" / "b.docx"] and len(step.done) == 2
    assert "不是本工具生成的文件" in step.failed[tmp_path / "c" / "b.docx"]
    assert "c/b.pdf" not in manifest(tmp_path) and "c/a.pdf" in manifest(tmp_path)
    assert (tmp_path / "c" / "b.pdf").read_bytes() == b""
    assert len(pdf_step(tmp_path, rels, force=True).done) == 1


def test_a_pdf_whose_document_changed_is_made_again(fake: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    entry_of = {}
    for version in (b"first", b"second", b"second"):
        with Output(out).session() as output:
            from generator.output.writer import Entry

            entry = Entry(path="a/doc.docx", kind="notice", kind_name="公示", community="c", district="d",
                          year=2018, template="t", sha256=sha256(version), data_hash="h")
            output.write(entry, version)
            done = convert_outputs(output, ["a/doc.docx"])
        pdf = out / "a" / "doc.pdf"
        subject = PdfReader(pdf).metadata["/Subject"]
        assert subject == sha256(version)  # the fake writes the source's hash: made from this version
        entry_of[version] = (len(done.done), len(done.unchanged))
    assert entry_of == {b"first": (1, 0), b"second": (0, 1)}
    assert manifest(out)["a/doc.pdf"]["data_hash"].startswith(sha256(b"second"))


def test_pdf_a_after_pdf_is_made_again(fake: Path, tmp_path: Path) -> None:
    rels = written(tmp_path, a=b"one")
    assert len(pdf_step(tmp_path, rels).done) == 1
    with Output(tmp_path).session() as output:
        archival = convert_outputs(output, rels, archival=True)
    assert len(archival.done) == 1 and manifest(tmp_path)["c/a.pdf"]["data_hash"].endswith("PDF/A-2b")


def test_the_lock_is_held_while_the_pdfs_are_made(fake: Path, tmp_path: Path, bundled: DataSet) -> None:
    out = tmp_path / "out"
    refused: list[str] = []

    def second_build(_: Path) -> None:
        try:
            with Output(out).session():
                refused.append("")
        except Exception as exc:  # noqa: BLE001 - what matters is that it is refused
            refused.append(str(exc))

    def step(output: Output, result: Any) -> None:
        convert_outputs(output, result.paths.rels, on_done=second_build)

    kinds = tuple(SIX[1::2])
    build(bundled, out, Selection(project="dongqu-01", kinds=kinds), then=step)
    assert len(refused) == len(kinds)
    assert all("另一个生成任务正在写入" in r for r in refused), refused


# ---------------------------------------------------------------- PDFs that are not PDFs


def test_a_bad_pdf_is_a_failure_not_written_and_not_counted(fake: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SOFFICE", "empty")
    out = tmp_path / "out"
    result = run(out)
    assert result.exit_code == 1
    assert "已生成 0 份 PDF" in result.output and "为空（0 字节）" in result.output
    assert result.output.count("PDF 转换失败") == 6
    assert not list(out.rglob("*.pdf")) and not list(out.rglob("*.tmp"))
    assert not [p for p in manifest(out) if p.endswith(".pdf")]
    assert "内部错误" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("mode", "reason"), [
    ("empty", "为空（0 字节）"),
    ("garbage", "不是 PDF"),
    ("truncated", "已损坏"),
])
def test_each_kind_of_bad_pdf_is_named(fake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       mode: str, reason: str) -> None:
    monkeypatch.setenv("FAKE_SOFFICE", mode)
    rels = written(tmp_path, a=b"one", b=b"two")
    step = pdf_step(tmp_path, rels)
    assert not step.done and len(step.failed) == 2
    assert all(reason in r for r in step.failed.values())
    assert not list(tmp_path.rglob("*.pdf")) and "c/a.pdf" not in manifest(tmp_path)


def test_a_bad_pdf_beside_good_ones(fake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = files(tmp_path / "docs", b"good", b"good")
    assert not to_pdf(sources).failed
    monkeypatch.setenv("FAKE_SOFFICE", "empty")
    more = files(tmp_path / "more", b"x")
    converted = to_pdf(more)
    assert list(converted.failed) == more and not more[0].with_suffix(".pdf").exists()


# ---------------------------------------------------------------- a hung or crashing LibreOffice


def test_a_hung_libreoffice_is_stopped_whole_and_the_files_named(fake: Path, tmp_path: Path) -> None:
    sources = files(tmp_path / "docs", b"HANG", b"HANG", b"HANG")
    start = time.monotonic()
    converted = to_pdf(sources, timeout=0.5)
    took = time.monotonic() - start
    assert took < 10, took  # two stalls of a second, then the rest is named, not waited for
    assert set(converted.failed) == set(sources) and not converted.done
    assert "无响应" in converted.failed[sources[0]]
    assert "连续无响应" in converted.failed[sources[2]]
    children = [int(p) for p in fake.read_text().split()]
    assert children and not [p for p in children if alive(p)]  # soffice.bin's stand-in too


def test_one_hanging_file_is_named_and_the_others_are_converted(fake: Path, tmp_path: Path) -> None:
    sources = files(tmp_path / "docs", b"ok", b"HANG", b"ok", b"ok")
    converted = to_pdf(sources, timeout=1)
    assert list(converted.failed) == [sources[1]]
    assert "无响应" in converted.failed[sources[1]]
    assert sorted(converted.done) == sorted(s.with_suffix(".pdf") for s in (sources[0], *sources[2:]))
    assert not [p for p in map(int, fake.read_text().split()) if alive(p)]


def test_hangs_with_progress_between_do_not_stop_the_rest(fake: Path, tmp_path: Path) -> None:
    sources = files(tmp_path / "docs", b"HANG", b"ok", b"HANG", b"ok")
    converted = to_pdf(sources, timeout=1)
    assert set(converted.failed) == {sources[0], sources[2]}
    assert len(converted.done) == 2


def test_the_total_time_is_capped(fake: Path, tmp_path: Path) -> None:
    sources = files(tmp_path / "docs", *[b"SLOW"] * 8)
    start = time.monotonic()
    converted = to_pdf(sources, timeout=5, total=1.5)
    assert time.monotonic() - start < 5
    assert converted.failed and all("总时限" in r for r in converted.failed.values())
    assert len(converted.done) + len(converted.failed) == 8


def test_a_crash_is_retried_for_the_files_after_it(fake: Path, tmp_path: Path) -> None:
    sources = files(tmp_path / "docs", b"ok", b"CRASH", b"ok", b"ok")
    converted = to_pdf(sources, timeout=2)
    assert list(converted.failed) == [sources[1]] and "未能转换" in converted.failed[sources[1]]
    assert len(converted.done) == 3


def test_two_workers_each_stop_their_own_hung_libreoffice(fake: Path, tmp_path: Path) -> None:
    sources = files(tmp_path / "docs", b"HANG", b"ok", b"HANG", b"ok")
    converted = to_pdf(sources, timeout=1, workers=2)
    assert set(converted.failed) == {sources[0], sources[2]}
    assert not [p for p in map(int, fake.read_text().split()) if alive(p)]


def test_build_with_a_hung_libreoffice_ends_with_a_message(fake: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "SECONDS_PER_FILE", 1)
    monkeypatch.setattr(pdf_module, "SECONDS_PER_DOCUMENT", 0)
    monkeypatch.setattr(pdf_module, "SECONDS_PER_MB", 0)
    monkeypatch.setattr(pdf_module, "TOTAL_SECONDS", 3)
    monkeypatch.setattr(pdf_module, "TOTAL_PER_DOCUMENT", 0)
    monkeypatch.setenv("FAKE_SOFFICE", "ok")
    out = tmp_path / "out"
    real = pdf_module._Worker._run

    def hang(self: Any, units: list[Any]) -> tuple[str, int]:
        for unit in units:
            unit.staged.write_bytes(b"HANG")
        return real(self, units)

    monkeypatch.setattr(pdf_module._Worker, "_run", hang)
    start = time.monotonic()
    result = run(out, "-j", "1")
    assert time.monotonic() - start < 20
    assert result.exit_code == 1
    assert result.output.count("PDF 转换失败") == 6
    assert "无响应" in result.output and "内部错误" not in result.output
    assert not [p for p in map(int, fake.read_text().split()) if alive(p)]
    # The documents were written and recorded all the same.
    assert len([p for p in manifest(out) if p.endswith((".docx", ".xlsx"))]) == 6


# ---------------------------------------------------------------- a full disk


@pytest.fixture
def full_disk_for_pdfs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Writing a PDF's temporary file fails half-way with ENOSPC, as on a full disk."""
    import builtins

    from generator.output import writer

    real_open = builtins.open
    attempts: list[str] = []

    class Full(io.RawIOBase):
        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def write(self, data: Any) -> int:
            self.fh.write(bytes(data)[:10])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def close(self) -> None:
            self.fh.close()

    def full_open(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        # The writer opens its temporary file by descriptor (O_EXCL, O_NOFOLLOW): name it from /proc.
        name = os.readlink(f"/proc/self/fd/{path}") if isinstance(path, int) else str(path)
        fh = real_open(path, mode, *args, **kwargs)
        if ".pdf." in name and name.endswith(".tmp"):
            attempts.append(name)
            return Full(fh)
        return fh

    monkeypatch.setattr(writer, "open", full_open, raising=False)
    yield attempts


def test_a_full_disk_while_writing_pdfs_stops_with_a_message(fake: Path, tmp_path: Path,
                                                             full_disk_for_pdfs: list[str]) -> None:
    out = tmp_path / "out"
    result = run(out, "-j", "1")
    assert result.exit_code == 1
    assert "磁盘空间已满" in result.output and "PDF 转换已停止" in result.output
    assert "内部错误" not in result.output and "Traceback" not in result.output
    assert len(full_disk_for_pdfs) == 1  # stopped at the first: the others would fail the same way
    assert not list(out.rglob("*.tmp")) and not list(out.rglob("*.pdf"))
    assert len(manifest(out)) == 6  # the documents are recorded


def test_after_a_full_disk_the_next_build_makes_the_pdfs(fake: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         full_disk_for_pdfs: list[str]) -> None:
    out = tmp_path / "out"
    assert run(out).exit_code == 1
    monkeypatch.undo()
    monkeypatch.setattr(pdf_module, "soffice", lambda: str(tmp_path / "soffice"))
    monkeypatch.setenv("FAKE_SOFFICE_PIDS", str(fake))
    monkeypatch.setenv("GAIZAO_WARM_PDF", "0")
    again = run(out)
    assert again.exit_code == 0, again.output
    assert len(list(out.rglob("*.pdf"))) == 6


def test_a_full_disk_without_a_manifest_is_named_too(fake: Path, tmp_path: Path,
                                                     full_disk_for_pdfs: list[str]) -> None:
    sources = files(tmp_path / "docs", b"a", b"b")
    converted = to_pdf(sources)
    assert converted.stopped and "磁盘空间已满" in converted.stopped
    assert set(converted.failed) == set(sources)
    assert not list((tmp_path / "docs").glob(".*.tmp"))


def test_documents_that_cannot_be_bound_or_split_are_converted_one_by_one(
        fake: Path, tmp_path: Path, bundled: DataSet, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.output import binding

    kinds = ("acceptance", "plan", "application")
    # A community without photos: a document with pictures of its own is converted by itself.
    built = build(bundled, tmp_path / "out", Selection(project="dongqu-10", kinds=kinds))
    sources = list(built.paths)
    assert len({binding.shell(p) for p in sources}) == 1  # all three would be bound together
    converted = to_pdf(sources)  # the fake's PDF has no marks: split gives None
    assert len(converted.done) == 3 and not converted.failed

    def broken(paths: Any) -> bytes:
        raise ValueError("cannot bind")

    monkeypatch.setattr(binding, "bind", broken)
    assert len(to_pdf(sources).done) == 3

    def unreadable(pdf: bytes, count: int) -> Any:
        from pypdf.errors import PdfReadError

        raise PdfReadError("bad")

    monkeypatch.undo()
    monkeypatch.setattr(pdf_module, "soffice", lambda: str(tmp_path / "soffice"))
    monkeypatch.setenv("FAKE_SOFFICE_PIDS", str(fake))
    monkeypatch.setenv("GAIZAO_WARM_PDF", "0")
    monkeypatch.setattr(binding, "split", unreadable)
    assert len(to_pdf(sources).done) == 3


# ---------------------------------------------------------------- characters no font has


def test_a_character_no_installed_font_has_is_named_before_the_pdfs(fake: Path, tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    dd.project()
    dd.replace("projects/dongqu-01.yaml", "person: 张三", "person: 张\U00020000")  # CJK Extension B
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--data", str(dd.root), *PACKET, "--out", str(out)])
    assert result.exit_code == 0, result.output
    notice = out / "2018" / "东区" / "01-炳草岗园林苗圃小区" / "05-改造方案公示.docx"
    assert f"警告：{notice} 中的字符“\U00020000”本机没有任何字体能显示，PDF 中将印成空框" in result.output
    assert result.output.count("本机没有任何字体能显示") == sum(
        "张\U00020000" in office_text(p) for p in out.rglob("*.docx"))
