"""A large data folder's project files read by other processes load exactly as read in one."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

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


_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=6),
                    st.sampled_from(["", "-", ":", "a-b", "x: y", "[", "2019-03-01"]))
_VALUES = st.recursive(_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)), max_leaves=30)
_ODD = ["- - - a\n", "a:\nb:\n- \n-\n", "? a\n: b\n? c\n", "x: &x [1, 2]\ny: *x\nz: [*x, *x]\n",
        "{a, b: , c}\n", "[a, [b, [c, []]], {}]\n", "- {a: [b, {c: d}]}\n",
        "a: |\n  x\n  y\nb: >\n  z\n", "k: 'it''s'\nl: \"a\\tb\"\n", "- a # note\n- b\n"]


def _values(text: str) -> int:
    (_, _, values), _ = yamlio._document(text, yamlio._ExactLoader, Path("t.yaml"),
                                         lambda loader, node: yamlio._Builder(loader).document(node))
    return int(values)


def _marks(text: str) -> int:
    return 3 * (sum(text.count(mark) for mark in "\n,:-?[]{}") + 1)


@settings(max_examples=300, deadline=None)
@given(_VALUES, st.sampled_from([False, True, None]))
def test_a_large_file_is_counted_after_it_is_built_only_when_its_marks_bound_its_values(
    value: object, flow: bool | None
) -> None:
    # The bound _checked_after trusts for a file too large for the length alone (a province's plan):
    # what is built holds no more values than three for each mark, in any style a file may use.
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
    assert _values(text) <= _marks(text)


def test_the_marks_bound_holds_for_the_odd_corners_of_yaml() -> None:
    for text in _ODD:
        assert _values(text) <= _marks(text), text


def test_a_large_plan_is_built_without_the_separate_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "".join(f"- id: c{i}\n  name: 小区{i}\n  year: 2019\n" for i in range(30_000))
    text = "communities:\n" + rows
    assert 2 * len(text) > 1_000_000 and yamlio._checked_after(text)
    monkeypatch.setattr(yamlio, "MAX_VALUES", 1_000_000)
    assert yamlio._checked_after(text)
    monkeypatch.setattr(yamlio, "MAX_VALUES", 3 * text.count(":"))  # the marks no longer bound it
    assert not yamlio._checked_after(text)
    path = tmp_path / "communities.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(yamlio, "MAX_VALUES", 150_000)  # fewer than the 180,002 values built
    with pytest.raises(DataError, match="文件过大：数据项超过"):
        yamlio.load_yaml(path)
