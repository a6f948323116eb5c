"""A server started on a folder read for the first time answers at once and says the data is being read."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from generator.web import store as store_module
from tests.webapp import login, make_app, make_instance


def test_pages_say_the_data_is_being_read_with_progress_until_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, instance = make_instance(tmp_path)
    release = threading.Event()
    real_load = store_module.load

    def slow_load(root: Path, progress: Any = None, **kwargs: Any) -> Any:
        progress(5, 20)
        assert release.wait(30)
        return real_load(root, progress=progress, **kwargs)

    monkeypatch.setattr(store_module, "load", slow_load)
    app = make_app(data, instance)
    store = app.extensions["gaizao"]["store"]
    store.start()
    assert store.loading
    client = app.test_client()
    assert client.get("/login").status_code == 200  # needs no data
    login(client, "city")
    for path in ("/", "/projects/dongqu-01", "/projects/dongqu-01/form.xlsx", "/api/projects", "/dashboard",
                 "/review", "/reports"):
        page = client.get(path)
        text = page.get_json()["error"] if path.startswith("/api/") else page.get_data(as_text=True)
        assert page.status_code == 503, path
        assert "正在读取数据文件夹" in text and "读取并检查项目资料已完成 5 / 20（25%）" in text, path
        assert page.headers["Refresh"] == "3"
        assert "炳草岗" not in text  # no figures or names of a half-read folder
    api = client.get("/api/stats")
    assert api.status_code == 503 and "正在读取数据文件夹" in api.get_json()["error"]
    release.set()
    store.warm()
    assert not store.loading
    page = client.get("/")
    assert page.status_code == 200 and "Refresh" not in page.headers


def test_a_start_from_the_kept_state_answers_with_data_at_once(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "KEEP_AFTER_SECONDS", 0.0)
    data, instance = make_instance(tmp_path)
    first = make_app(data, instance).extensions["gaizao"]["store"]
    first.warm()
    first._keep(first.current())
    for _ in range(100):
        if (instance / store_module.CACHE_FILE).exists():
            break
        threading.Event().wait(0.05)
    app = make_app(data, instance)
    store = app.extensions["gaizao"]["store"]
    store.start()
    assert not store.loading and store.reloads == 0
    client = app.test_client()
    login(client, "city")
    assert client.get("/").status_code == 200


def test_a_running_server_marks_its_instance_folder_for_restore_to_see(tmp_path: Path) -> None:
    from bench.web import Server
    from generator.web.backup import served

    data, instance = make_instance(tmp_path)
    server = Server(data, instance)  # `gaizao serve` in a process of its own, until its data is served
    try:
        assert served(instance)
    finally:
        server.proc.kill()  # however it ends, the system lets go of the mark
        server.proc.wait(timeout=10)
    assert not served(instance)
