"""Photos uploaded on a project's page: checked by content, stored in the community's photo
folder under a name made from their content, and listed in the project file."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, send_file, url_for

from generator.data.models import PHOTO_KINDS
from generator.render.pictures import PhotoError, open_image
from generator.web import forms
from generator.web.audit import FieldChange
from generator.web.security import (
    audit,
    community_or_404,
    login_required,
    project_or_404,
    project_upload,
    record_upload,
    store,
)

bp = Blueprint("photos", __name__)

MAX_PHOTO_UPLOAD = 16 * 1024 * 1024
"""Bytes of one photo upload (a phone's photo is 2–8 MB); app.py sets it before the form is read."""
SUFFIXES = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tif", "BMP": "bmp", "GIF": "gif"}
NAMES = {"现状": "before", "施工": "during", "完工": "after"}
UPLOADED = re.compile(r"^(before|during|after|photo)-[0-9a-f]{12}\.[a-z]+$")
"""The names this page gives the files it stores."""


def _store_file(folder: Path, name: str, raw: bytes) -> None:
    """Write the photo as it came (the original is what is kept), never through a link."""
    for part in (folder.parent, folder):
        if part.is_symlink():
            raise PhotoError(f"{part} 是符号链接（快捷方式），为免把照片写到数据文件夹以外已停止")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.is_symlink():
        raise PhotoError(f"{target} 是符号链接（快捷方式），已停止")
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    tmp.write_bytes(raw)
    tmp.replace(target)


def _entry(form: Any, name: str) -> tuple[dict[str, Any], list[str]]:
    """The photos: entry the form describes, and what is wrong with it."""
    problems = []
    caption = (form.get("caption") or "").strip()
    kind = form.get("kind") or ""
    if not caption:
        problems.append("请填写照片说明")
    if kind not in PHOTO_KINDS:
        problems.append("请选择照片类别：" + "、".join(PHOTO_KINDS))
    entry: dict[str, Any] = {"file": name, "caption": caption, "kind": kind}
    if form.get("date"):
        try:
            entry["date"] = dt.date.fromisoformat(form["date"])
        except ValueError:
            problems.append(f"拍摄日期应为日期，如 2018-06-01（现为：“{form['date']}”）")
    if (form.get("item") or "").strip():
        entry["item"] = form["item"].strip()
    return entry, problems


def _stored_name(raw: bytes, sent_name: str, kind: str) -> tuple[str, list[str]]:
    """The name a photo is kept under (made from its content), or what is wrong with it."""
    try:
        image = open_image(raw, f"照片“{sent_name}”")  # judged by content, whatever the name says
        suffix = SUFFIXES[image.format or "JPEG"]
        return f"{NAMES.get(kind, 'photo')}-{hashlib.sha256(raw).hexdigest()[:12]}.{suffix}", []
    except PhotoError as exc:
        return "", [str(exc)]
    except KeyError:
        return "", ["不支持的图片格式"]


def _describe(entry: dict[str, Any]) -> str:
    return f"{entry['kind']}：{entry['caption']}（{entry.get('original') or entry['file']}）"


def _save(community_id: str, change: Callable[[list[dict[str, Any]]], list[FieldChange] | str],
          raw: bytes | None, name: str, detail: str) -> list[str]:
    """Apply one change to the photos: list under the writer lock, check the project, store the new
    file, save and audit; the problems found, nothing written when there are any."""
    from generator.intake import project_yaml

    st = store()
    with st.save_lock:
        now = st.current()
        version = st.version(now, community_id)
        doc = project_yaml.load_for_edit(st.project_path(now, community_id))
        values = copy.deepcopy(doc.data)
        photos = values.setdefault("photos", [])
        before = {p.get("file") for p in photos}
        changes = change(photos)
        if isinstance(changes, str):
            return [changes]
        project, errors = forms.validate(values)
        if project is None:
            return [m for messages in errors.values() for m in messages]
        folder = now.data.photo_folder(community_id)
        if raw is not None:
            try:
                _store_file(folder, name, raw)
            except (PhotoError, OSError) as exc:
                return [str(exc)]
        project_yaml.apply(doc, values)
        project_yaml.save(doc)
        _drop_unused(folder, before - {p.get("file") for p in photos})
        audit().append(g.user.name, "save", community_id, changes, version,
                       st.version(st.current(), community_id), detail=detail)
    return []


def _drop_unused(folder: Path, names: set[str]) -> None:
    """Remove files this page stored that no entry names any more; a file put there by hand stays."""
    for name in names:
        if name and UPLOADED.match(name) and not (folder / name).is_symlink():
            (folder / name).unlink(missing_ok=True)


def _problems_page(community_id: str, name: str, problems: list[str], status: int = 422) -> Any:
    now = store().current()
    return render_template("photo.html", community=now.data.communities[community_id], name=name,
                           problems=problems), status


@bp.route("/projects/<community_id>/photos", methods=["POST"])
@login_required
def upload(community_id: str) -> Any:
    now, sent, raw = project_upload(community_id, "photo", "请选择要上传的照片")
    sent_name = sent.filename or ""
    name, problems = _stored_name(raw, sent_name, request.form.get("kind", ""))
    entry, wrong = _entry(request.form, name)
    entry["original"] = _clean_name(sent_name)
    problems += wrong
    if not problems:
        def add(photos: list[dict[str, Any]]) -> list[FieldChange]:
            photos.append(entry)
            return [FieldChange("照片", "空", _describe(entry))]

        problems = _save(community_id, add, raw, name, f"照片 {sent_name}")
    record_upload(community_id, "照片", sent_name, raw, problems, not problems)
    if problems:
        return _problems_page(community_id, sent_name, problems)
    return redirect(url_for("pages.project", community_id=community_id, photo=1) + "#photos", code=303)


def _clean_name(sent: str) -> str:
    """The clerk's file name without the folders some browsers send with it."""
    return re.split(r"[/\\]", sent)[-1].strip()[:200] or "照片"


def _at(photos: list[dict[str, Any]], index: int, file: str) -> dict[str, Any] | str:
    """The entry the form was made from, or why it is gone (another save moved or removed it)."""
    if 0 <= index < len(photos) and photos[index].get("file") == file:
        return photos[index]
    return "这张照片已被他人修改或删除，未保存。请返回小区页面刷新后再操作。"


@bp.route("/projects/<community_id>/photos/<int:index>", methods=["POST"])
@login_required
def edit(community_id: str, index: int) -> Any:
    """Change a photo's caption, class, date or item, and replace its file when one is sent."""
    project_or_404(community_id)
    file = request.form.get("file", "")
    sent = request.files.get("photo")
    raw = sent.read() if sent is not None and sent.filename else None
    sent_name = (sent.filename or "") if sent is not None else ""
    new_entry, problems = _entry(request.form, "")
    name = ""
    if raw is not None:
        name, wrong = _stored_name(raw, sent_name, new_entry.get("kind", ""))
        problems += wrong
    if not problems:
        def change(photos: list[dict[str, Any]]) -> list[FieldChange] | str:
            old = _at(photos, index, file)
            if isinstance(old, str):
                return old
            # A field the clerk emptied (date, item) goes; the clerk's file name follows the file.
            new = {**new_entry, "file": name or old["file"]}
            original = _clean_name(sent_name) if raw is not None else old.get("original")
            if original:
                new["original"] = original
            photos[index] = new
            return [FieldChange("照片", _describe(old), _describe(new))]

        problems = _save(community_id, change, raw, name, f"照片 {file}" + (f" 换为 {sent_name}" if raw else ""))
        if raw is not None:
            record_upload(community_id, "照片", sent_name, raw, problems, not problems)
    if problems:
        status = 409 if any("已被他人" in p for p in problems) else 422
        return _problems_page(community_id, sent_name or file, problems, status)
    return redirect(url_for("pages.project", community_id=community_id, photo_saved=1) + "#photos", code=303)


@bp.route("/projects/<community_id>/photos/<int:index>/delete", methods=["POST"])
@login_required
def delete(community_id: str, index: int) -> Any:
    """Take a photo off the project; its file goes too when this page stored it and nothing else names it."""
    project_or_404(community_id)
    if request.form.get("confirm") != "1":
        abort(400, description="请勾选“确认删除这张照片”后再删除")
    file = request.form.get("file", "")

    def remove(photos: list[dict[str, Any]]) -> list[FieldChange] | str:
        old = _at(photos, index, file)
        if isinstance(old, str):
            return old
        del photos[index]
        return [FieldChange("照片", _describe(old), "已删除")]

    problems = _save(community_id, remove, None, "", f"删除照片 {file}")
    if problems:
        return _problems_page(community_id, file, problems, 409 if any("已被他人" in p for p in problems) else 422)
    return redirect(url_for("pages.project", community_id=community_id, photo_deleted=1) + "#photos", code=303)


def item_choices(data: Any, project: Any) -> list[str]:
    """Names a photo's item is picked from: the project's budget lines first, then the catalogue."""
    names = [line.item for line in project.items] if project is not None else []
    names += [item.name for cat in data.catalogue.categories for item in cat.items]
    return list(dict.fromkeys(names))


THUMB_BOX = (240, 180)
"""Pixels of a thumbnail on the project page: four fit a row at 1366 px."""


def thumbnail(instance: Path, source: Path) -> Path:
    """A small JPEG of a photo, made once and kept in the instance folder (never in the data folder)."""
    from PIL import Image, ImageOps

    stat = source.stat()
    key = hashlib.sha256(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{THUMB_BOX}".encode()).hexdigest()
    target = instance / "thumbs" / key[:2] / f"{key[2:26]}.jpg"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        small = ImageOps.exif_transpose(image)
        small.thumbnail(THUMB_BOX)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        small.convert("RGB").save(tmp, "JPEG", quality=80)
    tmp.replace(target)
    return target


@bp.route("/projects/<community_id>/photos/<int:index>/thumb")
@login_required
def thumb(community_id: str, index: int) -> Any:
    """The thumbnail of one photo of a community the account may see."""
    now = community_or_404(community_id, "view")
    project = now.data.projects.get(community_id)
    if project is None or not 0 <= index < len(project.photos):
        abort(404)
    folder = now.data.photo_folder(community_id)
    source = folder / project.photos[index].file
    if not source.resolve().is_relative_to(folder.resolve()) or not source.is_file():
        abort(404)
    try:
        path = thumbnail(Path(current_app.instance_path), source)
    except (OSError, ValueError):
        abort(404)  # not a picture Pillow reads: the table still names the file
    response = send_file(path, mimetype="image/jpeg", max_age=3600)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# A phone's photo is larger than a workbook: the limit security._size_limit applies before the CSRF check.
upload.max_content_length = MAX_PHOTO_UPLOAD  # type: ignore[attr-defined]
edit.max_content_length = MAX_PHOTO_UPLOAD  # type: ignore[attr-defined]
