"""A large data folder's project files read by other processes load exactly as read in one."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from generator.data import loader, readers, yamlio
from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.errors import DataError


def _same(a: DataSet, b: DataSet) -> None:
    assert list(a.projects) == list(b.projects)
    assert all(a.projects[k] == b.projects[k] for k in a.projects)
    assert a.sources == b.sources and a.communities == b.communities


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, folder)
    return folder


def test_project_files_read_by_worker_processes_load_the_same(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = load(data)
    monkeypatch.setattr(loader, "POOL_FROM", 1)
    monkeypatch.setattr(readers, "CHUNK", 4)  # several chunks for each of two workers
    seen: list[tuple[int, int]] = []
    answered: list[object] = []
    real_wait = readers._Pool.wait
    monkeypatch.setattr(readers._Pool, "wait", lambda pool, index: answered.append(real_wait(pool, index))
                        or answered[-1])
    pooled = load(data, progress=lambda done, total: seen.append((done, total)))
    _same(alone, pooled)
    assert len(answered) > 2 and None not in answered  # every chunk answered by a worker, none read here
    total = len(list((data / "projects").glob("*.yaml")))
    assert seen[-1] == (total, total) and len(seen) == total


def test_problems_of_files_read_by_workers_are_the_same_and_in_the_same_order(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (data / "projects" / "dongqu-02.yaml").write_text("community: [\n", encoding="utf-8")
    path = data / "projects" / "dongqu-10.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("item: 雨污管网", "item: 雨污管网网", 1), encoding="utf-8")
    with pytest.raises(DataError) as alone:
        load(data)
    monkeypatch.setattr(loader, "POOL_FROM", 1)
    monkeypatch.setattr(readers, "CHUNK", 3)
    with pytest.raises(DataError) as pooled:
        load(data)
    assert [str(p) for p in pooled.value.problems] == [str(p) for p in alone.value.problems]
    # the unknown item's line is found although another process read the file
    assert any("雨污管网网" in p.problem and p.line is not None for p in pooled.value.problems)


def test_workers_that_cannot_start_leave_the_files_to_this_process(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = load(data)
    monkeypatch.setattr(loader, "POOL_FROM", 1)
    monkeypatch.setattr(sys, "executable", str(data / "no-such-python"))
    _same(alone, load(data))


def test_a_worker_that_dies_leaves_its_files_to_this_process(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = load(data)
    monkeypatch.setattr(loader, "POOL_FROM", 1)
    monkeypatch.setattr(readers, "CHUNK", 2)
    # a worker whose interpreter exits at once without answering
    monkeypatch.setattr(sys, "executable", shutil.which("false") or sys.executable)
    _same(alone, load(data))


def test_small_files_are_measured_after_they_are_built(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("a:\n" + "".join("  " * i + f"- k{i}:\n" for i in range(1, 60)) + "  " * 60 + "- x\n",
                    encoding="utf-8")
    assert yamlio._checked_after(deep.read_text(encoding="utf-8"))
    with pytest.raises(DataError) as info:
        yamlio.load_yaml(deep)
    (problem,) = info.value.problems
    assert "嵌套超过100层" in problem.problem and problem.line == 51
    flat = tmp_path / "flat.yaml"
    flat.write_text("[" * 2000 + "]" * 2000, encoding="utf-8")
    assert not yamlio._checked_after(flat.read_text(encoding="utf-8"))  # too deep to build: refused unbuilt
    with pytest.raises(DataError, match="嵌套超过100层"):
        yamlio.load_yaml(flat)
