"""Find templates: an override folder, the data folder's templates/, then the built-in ones."""

from __future__ import annotations

import re
from pathlib import Path

from generator import ROOT
from generator.errors import TemplateError

BUILTIN = ROOT / "templates"


def search_dirs(override: Path | None, data_root: Path | None) -> list[Path]:
    """Folders searched for templates, most specific first."""
    dirs = []
    if override is not None:
        if not override.is_dir():
            what = "不是文件夹" if override.exists() else "不存在"
            raise TemplateError(f"自定义模板文件夹 {override} {what}；请检查 --templates 的写法")
        dirs.append(override)
    if data_root is not None and (data_root / "templates").is_dir():
        dirs.append(data_root / "templates")
    dirs.append(BUILTIN)
    return dirs


def leaves_folder(rel: str) -> bool:
    """A path written in data or options that would lead out of its folder: absolute, a drive
    letter, a backslash or a '..' part."""
    path = Path(rel)
    return path.is_absolute() or ".." in path.parts or "\\" in rel or bool(re.match(r"^[A-Za-z]:", rel))


def links_out(path: Path, folder: Path) -> bool:
    """True when an existing path inside folder is a link (or passes one) to somewhere outside it."""
    return not path.resolve().is_relative_to(folder.resolve())


def find_template(rel: str, dirs: list[Path], district: str | None = None) -> Path:
    """The template for a kind, a district's own version winning over the shared one in each folder.

    district is the district's folder name (already made safe); neither it nor rel may lead out
    of a template folder, and a link inside one pointing elsewhere is not followed.
    """
    for part in (district, rel):
        if part is not None and leaves_folder(part):
            raise TemplateError(f"模板路径“{part}”不在模板文件夹内，已拒绝")
    tried = []
    for folder in dirs:
        candidates = ([folder / district / rel] if district else []) + [folder / rel]
        for path in candidates:
            tried.append(path)
            try:
                if not path.is_file():
                    continue
                inside = not links_out(path, folder)
            except OSError:  # a name too long for the file system is simply not there
                continue
            if not inside:
                raise TemplateError(f"模板 {path} 链接到模板文件夹 {folder} 以外，已拒绝；"
                                    "请把模板文件本身放进模板文件夹")
            return path
    listing = "\n".join(f"  {p}" for p in tried)
    raise TemplateError(f"找不到模板 {rel}，已查找：\n{listing}")
