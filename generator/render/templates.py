"""Find templates: an override folder, the data folder's templates/, then the built-in ones."""

from __future__ import annotations

from pathlib import Path

from generator import ROOT
from generator.errors import TemplateError

BUILTIN = ROOT / "templates"


def search_dirs(override: Path | None, data_root: Path | None) -> list[Path]:
    """Folders searched for templates, most specific first."""
    dirs = []
    if override is not None:
        dirs.append(override)
    if data_root is not None and (data_root / "templates").is_dir():
        dirs.append(data_root / "templates")
    dirs.append(BUILTIN)
    return dirs


def find_template(rel: str, dirs: list[Path], district: str | None = None) -> Path:
    """The template for a kind, a district's own version winning over the shared one in each folder."""
    tried = []
    for folder in dirs:
        candidates = ([folder / district / rel] if district else []) + [folder / rel]
        for path in candidates:
            tried.append(path)
            if path.is_file():
                return path
    listing = "\n".join(f"  {p}" for p in tried)
    raise TemplateError(f"找不到模板 {rel}，已查找：\n{listing}")
