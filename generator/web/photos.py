"""Photos uploaded on a project's page: checked by content, stored in the community's photo
folder under a name made from their content, and listed in the project file."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for

from generator.data.models import PHOTO_KINDS
from generator.render.pictures import PhotoError, open_image
from generator.web import forms
from generator.web.audit import FieldChange
from generator.web.security import audit, login_required, project_upload, record_upload, store

bp = Blueprint("photos", __name__)

MAX_PHOTO_UPLOAD = 16 * 1024 * 1024
"""Bytes of one photo upload (a phone's photo is 2–8 MB); app.py sets it before the form is read."""
SUFFIXES = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tif", "BMP": "bmp", "GIF": "gif"}
NAMES = {"现状": "before", "施工": "during", "完工": "after"}


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


@bp.route("/projects/<community_id>/photos", methods=["POST"])
@login_required
def upload(community_id: str) -> Any:
    now, sent, raw = project_upload(community_id, "photo", "请选择要上传的照片")
    problems: list[str] = []
    name = ""
    try:
        image = open_image(raw, f"照片“{sent.filename}”")  # judged by content, whatever the name says
        suffix = SUFFIXES[image.format or "JPEG"]
        kind = NAMES.get(request.form.get("kind", ""), "photo")
        name = f"{kind}-{hashlib.sha256(raw).hexdigest()[:12]}.{suffix}"
    except (PhotoError, KeyError) as exc:
        problems.append(str(exc) if isinstance(exc, PhotoError) else "不支持的图片格式")
    entry, wrong = _entry(request.form, name)
    problems += wrong
    if not problems:
        from generator.intake import project_yaml

        st = store()
        with st.save_lock:
            now = st.current()
            version = st.version(now, community_id)
            path = st.project_path(now, community_id)
            doc = project_yaml.load_for_edit(path)
            values = copy.deepcopy(doc.data)
            values["photos"] = [*values.get("photos", []), entry]
            project, errors = forms.validate(values)
            if project is None:
                problems += [m for messages in errors.values() for m in messages]
            else:
                try:
                    _store_file(now.data.photo_folder(community_id), name, raw)
                except (PhotoError, OSError) as exc:
                    problems.append(str(exc))
            if not problems:
                project_yaml.apply(doc, values)
                project_yaml.save(doc)
                audit().append(g.user.name, "save", community_id,
                               [FieldChange("照片", "空", f"{entry['kind']}：{entry['caption']}（{name}）")],
                               version, st.version(st.current(), community_id), detail=f"照片 {sent.filename}")
    record_upload(community_id, "照片", sent.filename or "", raw, problems, not problems)
    if problems:
        return render_template("photo.html", community=now.data.communities[community_id], name=sent.filename,
                               problems=problems), 422
    return redirect(url_for("pages.project", community_id=community_id, photo=1) + "#photos", code=303)


# A phone's photo is larger than a workbook: the limit security._size_limit applies before the CSRF check.
upload.max_content_length = MAX_PHOTO_UPLOAD  # type: ignore[attr-defined]
