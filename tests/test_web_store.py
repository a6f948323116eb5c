"""The web's data store: a save read and checked alone, the sums kept, changes outside noticed, a restart."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from generator.data.loader import BUNDLED_DATA, load
from generator.output.pipeline import Renderers
from generator.web import store as store_module
from generator.web.store import Loaded, Store, build, findings_of, scan

SAVED = "dongqu-01"
OTHER = "renhe-24"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, data)
    return data


def _replace(path: Path, old: str, new: str) -> None:
    """Change a file as this program writes one: a new file put in the old one's place."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.replace(tmp, path)


def _same(a: Loaded, b: Loaded) -> None:
    """Two states hold the same findings, offices, stages and sums."""
    assert a.data.communities.keys() == b.data.communities.keys()
    for cid in a.data.communities:
        assert findings_of(a, cid) == findings_of(b, cid), cid
    assert a.loose == b.loose and a.plan_general == b.plan_general
    assert a.offices == b.offices and a.stages == b.stages
    assert a.tallies == b.tallies and a.cells == b.cells
    names = list(a.data.districts)
    assert a.stats(names) == b.stats(names)
    assert a.stats(names[:1]) == b.stats(names[:1])


def test_a_saved_project_is_read_and_checked_alone_and_the_sums_follow(folder: Path) -> None:
    st = Store(folder, check_seconds=3600)
    before = st.current()
    reloads = st.reloads
    st.current().memo("summary", OTHER, lambda: "kept")
    st.current().memo("summary", SAVED, lambda: "dropped")
    old_errors = before.counts(SAVED)[0]
    with st.save_lock:  # an error (more households asked than live there) and an earlier stage
        path = folder / "projects" / f"{SAVED}.yaml"
        _replace(path, "stage: accepted", "stage: construction")
        _replace(path, "households_asked: 300", "households_asked: 99999")
    now = st.current()
    assert st.reloads == reloads  # not the whole folder
    assert now is not before and before.stages[SAVED] != "construction" == now.stages[SAVED]
    assert now.counts(SAVED)[0] > old_errors
    assert now.memo("summary", OTHER, lambda: "made again") == "kept"
    assert now.memo("summary", SAVED, lambda: "made again") == "made again"
    _same(now, build(load(folder), Renderers(now.data, None), scan(folder)))
    assert before.data.projects[SAVED].stage != "construction"  # a request still reading it sees it whole


def test_a_roster_a_new_and_a_removed_project_are_applied_file_by_file(folder: Path) -> None:
    st = Store(folder, check_seconds=3600)
    st.current()
    reloads = st.reloads
    roster = folder / "rosters" / "dongqu-02.csv"
    lines = roster.read_text(encoding="utf-8").splitlines()
    with st.save_lock:
        roster.write_text("\n".join([*lines, lines[-1]]) + "\n", encoding="utf-8")
        (folder / "projects" / f"{OTHER}.yaml").unlink()
    now = st.current()
    assert st.reloads == reloads and OTHER not in now.data.projects and OTHER not in now.offices
    assert any(f.rule == "ROSTER-ROWS" for f in now.general)
    _same(now, build(load(folder), Renderers(now.data, None), scan(folder)))
    with st.save_lock:
        shutil.copy(BUNDLED_DATA / "projects" / f"{OTHER}.yaml", folder / "projects" / f"{OTHER}.yaml")
    now = st.current()
    assert st.reloads == reloads and OTHER in now.data.projects
    _same(now, build(load(folder), Renderers(now.data, None), scan(folder)))


def test_a_file_changed_in_place_is_seen_within_the_check_interval(folder: Path) -> None:
    st = Store(folder, check_seconds=0.3)
    st.current()
    path = folder / "projects" / f"{SAVED}.yaml"
    old = st.current().offices[SAVED]
    text = path.read_text(encoding="utf-8")
    with path.open("w", encoding="utf-8") as fh:  # in place, as a text editor writes: no folder changes
        fh.write(text.replace(f"street_office: {old}", "street_office: 新街道办事处"))
    seen_at = None
    start = time.monotonic()
    while time.monotonic() - start < 3:
        if st.current().offices[SAVED] == "新街道办事处":
            seen_at = time.monotonic() - start
            break
        time.sleep(0.05)
    assert seen_at is not None and seen_at < 1.5


def test_a_plan_change_reloads_in_the_background_while_requests_read_the_state_before(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    st = Store(folder, check_seconds=0)
    before = st.current()
    gate = threading.Event()
    real_load = store_module.load

    def slow_load(root: Path, **kwargs: object) -> object:
        gate.wait(10)
        return real_load(root)

    monkeypatch.setattr(store_module, "load", slow_load)
    monkeypatch.setattr(store_module, "WAIT_SECONDS", -1.0)  # as with a large folder: nobody waits
    _replace(folder / "communities.yaml", "name: 炳草岗园林苗圃小区", "name: 苗圃新村")
    t0 = time.monotonic()
    assert st.current() is before  # answered at once from the state before the change
    assert st.reloading
    # a save goes through while the reload runs: the store's lock is free
    with st.save_lock:
        _replace(folder / "projects" / f"{OTHER}.yaml", "stage: survey", "stage: construction")
    assert time.monotonic() - t0 < 2
    gate.set()
    assert st._reload is None or st._reload.join(30) is None
    now = st.current()
    assert now.data.communities[SAVED].name == "苗圃新村" and now.stages[OTHER] == "construction"
    assert not st.reloading


def test_a_restart_reads_only_the_files_changed_since(folder: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "instance" / store_module.CACHE_FILE
    first = Store(folder, cache, check_seconds=3600)
    first.current()
    deadline = time.monotonic() + 30
    while not cache.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.exists()
    _replace(folder / "projects" / f"{SAVED}.yaml", "stage: accepted", "stage: construction")
    second = Store(folder, cache, check_seconds=3600)
    now = second.current()
    assert second.reloads == 0 and now.stages[SAVED] == "construction"
    _same(now, build(load(folder), Renderers(now.data, None), scan(folder)))
    # how long a whole reload takes is not known yet: nobody waits for the first one
    gate = threading.Event()
    real_load = store_module.load
    monkeypatch.setattr(store_module, "load", lambda root, **_: gate.wait(10) and real_load(root))
    _replace(folder / "communities.yaml", "name: 炳草岗园林苗圃小区", "name: 苗圃新村")
    t0 = time.monotonic()
    assert second.current() is now and time.monotonic() - t0 < 2
    gate.set()
    assert second._reload is None or second._reload.join(30) is None
    assert second.current().data.communities[SAVED].name == "苗圃新村"
    monkeypatch.undo()
    damaged = tmp_path / "damaged.pickle"
    damaged.write_bytes(b"not a state")  # only a slower start
    third = Store(folder, damaged, check_seconds=3600)
    assert third.current().data.communities[SAVED].name == "苗圃新村" and third.reloads == 1


def test_a_file_claiming_a_project_another_file_has_fails_as_a_whole_load_fails(folder: Path) -> None:
    from generator.errors import DataError

    st = Store(folder, check_seconds=3600)
    st.current()
    shutil.copy(folder / "projects" / f"{SAVED}.yaml", folder / "projects" / "zz-copy.yaml")
    with pytest.raises(DataError) as caught:
        st.current()
    assert "zz-copy.yaml" in str(caught.value) and f"小区“{SAVED}”已有项目资料" in str(caught.value)
    (folder / "projects" / "zz-copy.yaml").unlink()
    assert SAVED in st.current().data.projects


def test_pages_say_so_while_the_folder_reloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.webapp import login, make_app, make_instance

    data, instance = make_instance(tmp_path)
    app = make_app(data, instance)
    client = app.test_client()
    login(client, "city")
    assert "正在后台重新载入" not in client.get("/").get_data(as_text=True)
    gate = threading.Event()
    real_load = store_module.load
    monkeypatch.setattr(store_module, "load", lambda root, **_: gate.wait(10) and real_load(root))
    monkeypatch.setattr(store_module, "WAIT_SECONDS", -1.0)
    _replace(data / "communities.yaml", "name: 炳草岗园林苗圃小区", "name: 苗圃新村")
    page = client.get("/").get_data(as_text=True)
    assert "正在后台重新载入" in page and "炳草岗园林苗圃小区" in page
    gate.set()
    st = app.extensions["gaizao"]["store"]
    assert st._reload is None or st._reload.join(30) is None
    page = client.get("/").get_data(as_text=True)
    assert "正在后台重新载入" not in page and "苗圃新村" in page


def test_a_report_file_saved_is_read_and_checked_alone(folder: Path) -> None:
    from collections import Counter

    st = Store(folder, check_seconds=3600)
    st.current()
    reloads = st.reloads
    report = folder / "reports" / "2018" / "东区.yaml"
    with st.save_lock:  # as the district report text page saves: a late date gives a finding
        _replace(report, "date: 2018-12-28", "date: 2019-03-01")
    now = st.current()
    assert st.reloads == reloads
    assert str(now.data.reports[("东区", 2018)].date) == "2019-03-01"
    whole = build(load(folder), Renderers(now.data, None), {})
    assert Counter(now.plan_general) == Counter(whole.plan_general)
    assert any(f.rule == "DEADLINE-REPORT" and "东区" in f.where for f in now.plan_general)
    with st.save_lock:
        report.unlink()
    now = st.current()
    assert st.reloads == reloads and ("东区", 2018) not in now.data.reports
    assert not any("东区 2018年报告" in f.where for f in now.plan_general)
    assert Counter(now.plan_general) == Counter(build(load(folder), Renderers(now.data, None), {}).plan_general)


def test_a_report_file_that_does_not_load_is_told_as_a_full_load_tells_it(folder: Path) -> None:
    st = Store(folder, check_seconds=3600)
    st.current()
    with st.save_lock:
        _replace(folder / "reports" / "2018" / "东区.yaml", "district: 东区", "district: 北区")
    assert st._reload is None or st._reload.join(60) is None
    with pytest.raises(Exception, match="北区"):
        st.current()
