"""Builds that are killed, run twice at once, or pointed at a folder they cannot write.

A district batch runs unattended: a power cut or a killed job must leave only whole documents,
each either as the last finished build recorded it (manifest.json) or as the killed build
recorded it just before writing (.gaizao-journal.jsonl); the next build finishes the rest
without taking the killed build's files for hand edits.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from docx import Document

from generator.cli import main
from generator.output import writer
from generator.output.oslock import lock_exclusive
from generator.output.writer import JOURNAL, LOCK, MANIFEST, sha256
from tests.bad_inputs.make_workbooks import plan_table
from tests.helpers import DataDir

pytestmark = pytest.mark.slow  # fault injection: kills, hangs, full disks (`-m "not slow"` skips them)

ROOT = Path(__file__).resolve().parent.parent
ALL_DOCUMENTS = 143
"""Documents of the bundled data (tests/test_build.py checks the kinds and the folders)."""
DONGQU_01 = 13
"""dongqu-01's documents: the seven of its project, four of its elevator vote, two of its satisfaction survey."""


def documents(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.suffix in (".docx", ".xlsx"))


def opens(path: Path) -> None:
    if path.suffix == ".docx":
        Document(str(path))
    else:
        openpyxl.load_workbook(path)


def manifest_entries(out: Path) -> dict[str, dict[str, str]]:
    if not (out / MANIFEST).exists():
        return {}
    doc = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    return {e["path"]: e for e in doc["documents"]}


def journal_hashes(out: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    if (out / JOURNAL).exists():
        for line in (out / JOURNAL).read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # the line being written when the build was killed
            found.setdefault(entry["path"], set()).add(entry["sha256"])
    return found


def gaizao(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="gaizao")


def test_a_killed_build_leaves_whole_files_and_the_next_build_finishes(tmp_path: Path) -> None:
    out = tmp_path / "output"
    # A finished build of one district first, so the folder has a manifest from before.
    first = gaizao("build", "--out", str(out), "--district", "东区", "-q")
    assert first.exit_code == 0, first.output
    before = manifest_entries(out)
    assert before and len(documents(out)) == len(before)

    # Its own process group, so the kill takes the render workers with it, as a power cut would.
    build = subprocess.Popen(
        [sys.executable, "-m", "generator", "build", "--out", str(out), "-q", "--workers", "2"],
        cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(documents(out)) < len(before) + 20 and build.poll() is None:
            assert time.monotonic() < deadline, "生成任务一分钟内没有写出文书"
            time.sleep(0.005)
        os.killpg(build.pid, signal.SIGKILL)
    finally:
        build.wait()
    assert build.returncode == -signal.SIGKILL, "生成任务在被终止前就已结束，本测试未能中断它"
    left = documents(out)
    assert len(before) + 20 <= len(left) < ALL_DOCUMENTS

    # Every document left is whole and is the tool's own, as the manifest or the journal says.
    journal = journal_hashes(out)
    assert len(journal) >= 20
    assert manifest_entries(out) == before, "被中断的生成任务不应改写清单"
    for path in left:
        opens(path)
        rel = str(path.relative_to(out))
        digest = sha256(path.read_bytes())
        known = {before[rel]["sha256"]} if rel in before else set()
        assert digest in known | journal.get(rel, set()), f"{rel} 既不在清单中也不在日志中"

    # The next build finishes the rest, calling none of the killed build's files a hand edit.
    again = gaizao("build", "--out", str(out), "-q")
    assert again.exit_code == 0, again.output
    assert "手工修改" not in again.output and "不是本工具生成" not in again.output
    files = documents(out)
    assert len(files) == ALL_DOCUMENTS
    entries = manifest_entries(out)
    assert set(entries) == {str(p.relative_to(out)) for p in files}
    for rel, entry in entries.items():
        assert entry["sha256"] == sha256((out / rel).read_bytes()), rel
    assert not (out / JOURNAL).exists()
    assert not [p for p in out.rglob("*.tmp")], "被中断时留下的临时文件应已清理"


def test_a_second_build_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.mkdir()
    with open(out / LOCK, "a+") as held:  # as a build running in another window holds it
        lock_exclusive(held)
        result = gaizao("build", "--out", str(out), "-q", "--project", "dongqu-01")
        report = gaizao("report", "--out", str(out), "--kind", "plan-table")
    for refused in (result, report):
        assert refused.exit_code == 1, refused.output
        assert f"另一个生成任务正在写入 {out}，请等它结束后再运行" in refused.output
    assert documents(out) == []
    after = gaizao("build", "--out", str(out), "-q", "--project", "dongqu-01")
    assert after.exit_code == 0 and len(documents(out)) == DONGQU_01  # the lock goes with its holder


def test_two_real_builds_at_once(tmp_path: Path) -> None:
    """Two processes, as two clerks (or a clerk and a scheduled job) would start them. The first
    is paused once it writes, so the second surely starts while the first holds the folder."""
    out = tmp_path / "output"
    first = subprocess.Popen([sys.executable, "-m", "generator", "build", "--out", str(out), "-q",
                              "--workers", "1"], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not documents(out) and first.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.002)
        first.send_signal(signal.SIGSTOP)
        try:
            second = subprocess.run([sys.executable, "-m", "generator", "build", "--out", str(out),
                                     "-q"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        finally:
            first.send_signal(signal.SIGCONT)
    finally:
        stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert second.returncode == 1, second.stdout
    assert f"另一个生成任务正在写入 {out}，请等它结束后再运行" in second.stderr
    assert "Traceback" not in second.stderr
    assert len(manifest_entries(out)) == ALL_DOCUMENTS


@pytest.mark.parametrize("where", ["under-a-file", "is-a-file"])
def test_an_output_folder_that_cannot_be_made_is_named(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "说明.txt"
    blocker.write_text("一个普通文件", encoding="utf-8")
    out = blocker / "输出" if where == "under-a-file" else blocker
    result = gaizao("build", "--out", str(out), "-q", "--project", "dongqu-01")
    assert result.exit_code == 1
    reason = "路径中有一段是文件，不是文件夹" if where == "under-a-file" else "已有同名的文件"
    assert f"无法创建输出文件夹 {out}：{reason}" in result.output
    assert "Traceback" not in result.output and "Errno" not in result.output
    assert blocker.read_text(encoding="utf-8") == "一个普通文件"


def _read_only(folder: Path, on: bool) -> None:
    """Permission bits do not stop root; the immutable attribute does."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i" if on else "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555 if on else 0o755)


def test_a_read_only_output_folder_is_named(tmp_path: Path) -> None:
    out = tmp_path / "只读"
    out.mkdir()
    _read_only(out, True)
    try:
        result = gaizao("build", "--out", str(out), "-q", "--project", "dongqu-01")
    finally:
        _read_only(out, False)
    assert result.exit_code == 1
    assert f"输出文件夹 {out} 不可写入" in result.output


def test_missing_parent_folders_are_made_and_named(tmp_path: Path) -> None:
    out = tmp_path / "二〇一八" / "东区" / "输出"
    result = gaizao("build", "--out", str(out), "--project", "dongqu-01")
    assert result.exit_code == 0, result.output
    assert f"输出在 {out}" in result.output and len(documents(out)) == DONGQU_01


def test_a_disk_that_fills_up_mid_build_is_named_and_the_rest_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "output"
    real = writer.atomic_write
    calls = {"n": 0}

    def fills_up(path: Path, data: bytes, durable: bool = True) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data, durable)

    monkeypatch.setattr(writer, "atomic_write", fills_up)
    full = gaizao("build", "--out", str(out), "-q", "--district", "东区", "--workers", "1")
    assert full.exit_code == 1
    assert "磁盘空间已满" in full.output and "No space" not in full.output
    assert len(documents(out)) == 3
    monkeypatch.setattr(writer, "atomic_write", real)
    again = gaizao("build", "--out", str(out), "-q", "--district", "东区")
    assert again.exit_code == 0, again.output
    assert "3 份未变" in again.output


def test_a_damaged_manifest_is_named_in_chinese(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.mkdir()
    (out / MANIFEST).write_text("{ 写了一半", encoding="utf-8")
    result = gaizao("build", "--out", str(out), "-q", "--project", "dongqu-01")
    assert result.exit_code == 1
    assert f"{out / MANIFEST} 已损坏，无法读取；请移走后重新生成" in result.output
    assert "Expecting" not in result.output


def test_an_import_that_cannot_write_is_named(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    workbook = tmp_path / "计划表.xlsx"
    plan_table().save(workbook)
    blocker = tmp_path / "说明.txt"
    blocker.write_text("一个普通文件", encoding="utf-8")
    out = blocker / "communities.yaml"
    result = gaizao("--data", str(dd.root), "import", str(workbook), "--out", str(out))
    assert result.exit_code == 1, result.output
    assert f"无法写入 {out}：已有同名的文件：{blocker}；原文件未改动" in result.output


def test_a_write_after_a_killed_one_sweeps_its_old_temporary_file(tmp_path: Path) -> None:
    import os
    import time

    from generator.output.writer import STALE_SECONDS, atomic_write

    target = tmp_path / "projects" / "dongqu-01.yaml"
    target.parent.mkdir()
    old = target.with_name(".dongqu-01.yaml.99999.tmp")  # a server killed mid-save left it
    fresh = target.with_name(".dongqu-01.yaml.99998.tmp")  # another process writing right now
    other = target.with_name(".dongqu-02.yaml.99999.tmp")
    for leftover in (old, fresh, other):
        leftover.write_bytes(b"half")
    past = time.time() - STALE_SECONDS - 60
    os.utime(old, (past, past))
    os.utime(other, (past, past))
    atomic_write(target, b"community: dongqu-01\n")
    assert target.read_bytes() == b"community: dongqu-01\n"
    assert not old.exists() and fresh.exists() and other.exists()
