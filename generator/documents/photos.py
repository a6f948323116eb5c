"""Which photos each paper shows: 现状 in the application and the plan, 完工 per item in the
acceptance record, before/after pairs per project in the reports."""

from __future__ import annotations

from collections.abc import Iterable

from generator.data.loader import DataSet
from generator.data.models import Photo, Project
from generator.render.filters import cn_date
from generator.render.pictures import Cell, PhotoError, PhotoTable, locate
from generator.render.wording import wording

SITUATION_PHOTOS = 4
"""现状照片 per application or plan: two rows of two 74 mm photos with captions take some 130 mm,
so the photos and their lead-in stay on one page of the 225 mm type area; more belong in the
project's own file, not in every paper."""
PAIRS_PER_REPORT = 12
"""Before/after pairs in one report: a district's pilot has a handful of projects, the city's
compilation one pair for each, two pairs a page."""


def dated(data: DataSet, photo: Photo) -> str:
    """The day a photo was taken, as printed under its caption, or nothing when unknown."""
    return wording(data.root).say("photo.date", date=cn_date(photo.date)) if photo.date else ""


def labelled(data: DataSet, no: int, item: str | None, text: str) -> str:
    """A numbered caption led by the item it shows, unless the caption already names it first."""
    said = "" if not item or text.startswith(item) else item
    return wording(data.root).say("photo.numbered", number=no, item=said, caption=text)


def cell(data: DataSet, project: Project, photo: Photo | None, text: str | None = None,
         missing: str | None = None) -> Cell:
    """A photo ready for a table, its date on a line of its own, or a placeholder saying `missing`
    where there is none (a file that turns out not to be an image gets its placeholder when the
    table is rendered)."""
    if photo is None:
        return Cell(None, text or "", wording(data.root).say("photo.none") if missing is None else missing)
    shown = text if text is not None else photo.caption
    unusable = wording(data.root).say("photo.missing")
    try:
        path = locate(data.photo_folder(project.community), photo.file, data.root)
    except PhotoError:
        return Cell(None, shown, unusable, dated(data, photo))
    # the same words where the file turns out not to be an image when the table is rendered
    return Cell(path, shown, unusable, dated(data, photo))


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
            cells.append(cell(data, project, photo, labelled(data, no, line.item, photo.caption)))
    return PhotoTable(_grid(cells))


def pair(project: Project) -> tuple[str | None, Photo | None, Photo | None]:
    """The item a project's before/after photos show and the two photos: the first item (in the
    order of its budget lines, then of its photos) with both a 现状 and a 完工 photo. Without such
    an item, its first 现状 or else first 完工 photo alone, never one item's before beside another's after."""
    order = [line.item for line in project.items]
    order += [p.item for p in project.photos if p.item and p.item not in order]
    for item in order:
        before = next((p for p in project.photos if p.kind == "现状" and p.item == item), None)
        after = next((p for p in project.photos if p.kind == "完工" and p.item == item), None)
        if before is not None and after is not None:
            return item, before, after
    before = next((p for p in project.photos if p.kind == "现状"), None)
    if before is not None:
        return before.item, before, None
    after = next((p for p in project.photos if p.kind == "完工"), None)
    return (after.item, None, after) if after is not None else (None, None, None)


def before_after(data: DataSet, projects: Iterable[Project]) -> PhotoTable:
    """Per project with photos, a 现状 photo beside the 完工 one of the same item, under the
    community's name and the item; a photo without its counterpart stands alone beside a box
    saying which photo there is none of."""
    rows, headings = [], []
    say = wording(data.root).say
    for project in projects:
        item, before, after = pair(project)
        if before is None and after is None:
            continue
        c = data.communities[project.community]
        headings.append(say("photo.pair_heading", community=c.name, district=c.district, item=item or ""))
        rows.append((cell(data, project, before, say("photo.before", caption=before.caption) if before else "",
                          say("photo.missing_before", item=item or "")),
                     cell(data, project, after, say("photo.after", caption=after.caption) if after else "",
                          say("photo.missing_after", item=item or ""))))
        if len(rows) == PAIRS_PER_REPORT:
            break
    return PhotoTable(tuple(rows), tuple(headings))
