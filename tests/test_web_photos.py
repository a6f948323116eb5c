"""Photos on the project page: thumbnails kept in the instance folder, edit, replace and delete, each
audited, the clerk's own file name in the record, stale forms refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from generator.web.audit import AuditLog
from tests.webapp import csrf, login, make_app, make_instance


@pytest.fixture
def site(tmp_path: Path) -> tuple[Flask, Path, Path]:
    data, instance = make_instance(tmp_path)
    return make_app(data, instance), data, instance


def _clerk(app: Flask, name: str = "bcg") -> tuple[FlaskClient, str]:
    client = app.test_client()
    login(client, name)
    return client, csrf(client, "/projects/dongqu-01")


def _jpeg(colour: str = "red", size: tuple[int, int] = (1200, 900)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def _photos(data: Path) -> list[dict[str, object]]:
    return list(yaml.safe_load((data / "projects" / "dongqu-01.yaml").read_text(encoding="utf-8"))["photos"])


def test_a_thumbnail_is_a_small_jpeg_made_once_in_the_instance_folder(site: tuple[Flask, Path, Path]) -> None:
    app, data, instance = site
    clerk, _ = _clerk(app)
    before = sorted(p.name for p in (data / "photos" / "dongqu-01").iterdir())
    r = clerk.get("/projects/dongqu-01/photos/0/thumb")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(r.data)) as small:
        assert small.format == "JPEG" and max(small.size) <= 240
    made = list((instance / "thumbs").rglob("*.jpg"))
    assert len(made) == 1
    stamp = made[0].stat().st_mtime_ns
    assert clerk.get("/projects/dongqu-01/photos/0/thumb").data == r.data
    assert made[0].stat().st_mtime_ns == stamp  # served from the cache, not made again
    assert sorted(p.name for p in (data / "photos" / "dongqu-01").iterdir()) == before
    assert clerk.get("/projects/dongqu-01/photos/999/thumb").status_code == 404
    page = clerk.get("/projects/dongqu-01").get_data(as_text=True)
    assert 'src="/projects/dongqu-01/photos/0/thumb"' in page and 'list="photo-items"' in page
    assert '<option value="立面整治">' in page  # the item picker offers the budget lines


def test_an_upload_keeps_the_clerks_file_name(site: tuple[Flask, Path, Path]) -> None:
    app, data, instance = site
    clerk, token = _clerk(app)
    r = clerk.post("/projects/dongqu-01/photos", data={
        "csrf_token": token, "caption": "东门道路破损", "kind": "现状", "item": "道路",
        "photo": (io.BytesIO(_jpeg()), "IMG_2041 东门.jpg")})
    assert r.status_code == 303, r.get_data(as_text=True)[-500:]
    entry = _photos(data)[-1]
    assert entry["original"] == "IMG_2041 东门.jpg" and str(entry["file"]).startswith("before-")
    assert "IMG_2041 东门.jpg" in clerk.get("/projects/dongqu-01").get_data(as_text=True)


def test_caption_item_and_class_are_edited_and_audited(site: tuple[Flask, Path, Path]) -> None:
    app, data, instance = site
    clerk, token = _clerk(app)
    first = _photos(data)[0]
    r = clerk.post("/projects/dongqu-01/photos/0", data={
        "csrf_token": token, "file": first["file"], "caption": "外墙面砖空鼓（东侧）", "kind": "现状",
        "item": "外墙保温", "date": ""})
    assert r.status_code == 303, r.get_data(as_text=True)[-500:]
    now = _photos(data)[0]
    assert now == {"file": first["file"], "caption": "外墙面砖空鼓（东侧）", "kind": "现状", "item": "外墙保温"}
    last = AuditLog(instance).events("dongqu-01")[-1]
    assert last.user == "bcg" and last.action == "save"
    assert "外墙面砖空鼓（东侧）" in last.changes[0].after and str(first["caption"]) in last.changes[0].before
    assert (data / "photos" / "dongqu-01" / str(first["file"])).exists()  # a file put there by hand stays


def test_a_photo_is_replaced_and_the_old_stored_file_goes(site: tuple[Flask, Path, Path]) -> None:
    app, data, instance = site
    clerk, token = _clerk(app)
    clerk.post("/projects/dongqu-01/photos", data={
        "csrf_token": token, "caption": "施工", "kind": "施工", "photo": (io.BytesIO(_jpeg("red")), "a.jpg")})
    index = len(_photos(data)) - 1
    old = str(_photos(data)[index]["file"])
    r = clerk.post(f"/projects/dongqu-01/photos/{index}", data={
        "csrf_token": token, "file": old, "caption": "施工（重拍）", "kind": "施工",
        "photo": (io.BytesIO(_jpeg("blue")), "重拍.jpg")})
    assert r.status_code == 303, r.get_data(as_text=True)[-500:]
    entry = _photos(data)[index]
    assert entry["file"] != old and entry["original"] == "重拍.jpg" and entry["caption"] == "施工（重拍）"
    folder = data / "photos" / "dongqu-01"
    assert (folder / str(entry["file"])).exists() and not (folder / old).exists()
    bad = clerk.post(f"/projects/dongqu-01/photos/{index}", data={
        "csrf_token": token, "file": entry["file"], "caption": "x", "kind": "施工",
        "photo": (io.BytesIO(b"<html>"), "x.jpg")})
    assert bad.status_code == 422 and _photos(data)[index] == entry
    assert "BytesIO" not in bad.get_data(as_text=True)


def test_delete_asks_for_confirmation_and_a_stale_form_changes_nothing(site: tuple[Flask, Path, Path]) -> None:
    app, data, instance = site
    clerk, token = _clerk(app)
    photos = _photos(data)
    first = photos[0]["file"]
    assert clerk.post("/projects/dongqu-01/photos/0/delete",
                      data={"csrf_token": token, "file": first}).status_code == 400
    assert clerk.post("/projects/dongqu-01/photos/0/delete",
                      data={"file": first, "confirm": "1"}).status_code == 400  # no CSRF token
    assert _photos(data) == photos
    r = clerk.post("/projects/dongqu-01/photos/0/delete", data={"csrf_token": token, "file": first, "confirm": "1"})
    assert r.status_code == 303
    assert _photos(data) == photos[1:]
    assert AuditLog(instance).events("dongqu-01")[-1].changes[0].after == "已删除"
    # the same form again: photo 0 is now another one, nothing is deleted
    again = clerk.post("/projects/dongqu-01/photos/0/delete", data={"csrf_token": token, "file": first, "confirm": "1"})
    assert again.status_code == 409 and "已被他人修改或删除" in again.get_data(as_text=True)
    edit = clerk.post("/projects/dongqu-01/photos/0", data={
        "csrf_token": token, "file": first, "caption": "x", "kind": "现状"})
    assert edit.status_code == 409 and _photos(data) == photos[1:]


def test_other_roles_cannot_change_photos(site: tuple[Flask, Path, Path]) -> None:
    app, data, _ = site
    photos = _photos(data)
    for name, status in (("renhe", 404), ("city", 403)):
        client = app.test_client()
        login(client, name)
        token = csrf(client, "/")
        form = {"csrf_token": token, "file": photos[0]["file"], "caption": "x", "kind": "现状", "confirm": "1"}
        assert client.post("/projects/dongqu-01/photos/0", data=form).status_code == status
        assert client.post("/projects/dongqu-01/photos/0/delete", data=form).status_code == status
        thumb = client.get("/projects/dongqu-01/photos/0/thumb").status_code
        assert thumb == (404 if name == "renhe" else 200)
    assert _photos(data) == photos
