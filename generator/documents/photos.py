"""Which photos each paper shows: 现状 in the application and the plan, 完工 per item in the
acceptance record, before/after pairs per project in the reports."""

from __future__ import annotations

from collections.abc import Iterable

from generator.data.loader import DataSet
from generator.data.models import Photo, Project
from generator.render.filters import cn_date
from generator.render.pictures import PLACEHOLDER, Cell, PhotoError, PhotoTable, locate

SITUATION_PHOTOS = 4
"""现状照片 per application or plan: two rows of two 74 mm photos with captions take some 130 mm,
so the photos and their lead-in stay on one page of the 225 mm type area; more belong in the
project's own file, not in every paper."""
PAIRS_PER_REPORT = 12
"""Before/after pairs in one report: a district's pilot has a handful of projects, the city's
compilation one pair for each, two pairs a page."""


def caption(photo: Photo) -> str:
    """The caption under a photo: its text and, when known, the day it was taken."""
    return f"{photo.caption}（{cn_date(photo.date)}）" if photo.date else photo.caption


def cell(data: DataSet, project: Project, photo: Photo | None, text: str | None = None) -> Cell:
    """A photo ready for a table, or a placeholder with its caption where it is missing (a file
    that turns out not to be an image gets its placeholder when the table is rendered)."""
    if photo is None:
        return Cell(None, text or "", "暂无照片")
    shown = text if text is not None else caption(photo)
    try:
        path = locate(data.photo_folder(project.community), photo.file, data.root)
    except PhotoError:
        return Cell(None, shown, PLACEHOLDER)
    return Cell(path, shown)


def _grid(cells: list[Cell], columns: int = 2) -> tuple[tuple[Cell, ...], ...]:
    return tuple(tuple(cells[i:i + columns]) for i in range(0, len(cells), columns))


def situation_photos(data: DataSet, project: Project) -> PhotoTable:
    """The first SITUATION_PHOTOS 现状 photos, two a row."""
    chosen = [p for p in project.photos if p.kind == "现状"][:SITUATION_PHOTOS]
    return PhotoTable(_grid([cell(data, project, p) for p in chosen]))


def completed_photos(data: DataSet, project: Project) -> PhotoTable:
    """One 完工 photo per budget item that has one, in the order of the items, two a row."""
    done = [p for p in project.photos if p.kind == "完工"]
    cells = []
    for no, line in enumerate(project.items, start=1):
        photo = next((p for p in done if p.item == line.item), None)
        if photo is not None:
            cells.append(cell(data, project, photo, f"{no}. {line.item}：{caption(photo)}"))
    return PhotoTable(_grid(cells))


def before_after(data: DataSet, projects: Iterable[Project]) -> PhotoTable:
    """Per project with photos, its first 现状 photo beside its first 完工 one, under its name."""
    rows, headings = [], []
    for project in projects:
        before = next((p for p in project.photos if p.kind == "现状"), None)
        after = next((p for p in project.photos if p.kind == "完工"), None)
        if before is None and after is None:
            continue
        c = data.communities[project.community]
        headings.append(f"{c.name}（{c.district}）")
        rows.append((cell(data, project, before, "改造前：" + caption(before) if before else "改造前：暂无照片"),
                     cell(data, project, after, "改造后：" + caption(after) if after else "改造后：暂无照片")))
        if len(rows) == PAIRS_PER_REPORT:
            break
    return PhotoTable(tuple(rows), tuple(headings))
