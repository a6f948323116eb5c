"""Photos in Word documents: opened with a pixel limit, turned upright, re-encoded once to print
resolution, and laid out as a table of pictures with captions (a placeholder box where one is missing).

A template places a table with `{{p photos }}` (a paragraph of its own). The table is a
`PhotoTable`: rendering it yields the table's Word XML and places each picture through
render/images.py, which adds it to the package with its relationship and content type. Names
and ids come from the pictures' content, so the same data always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markupsafe import escape

from generator.errors import GaizaoError
from generator.render.env import xml_safe
from generator.render.images import Picture, picture
from generator.render.templates import leaves_folder, links_out

MAX_PIXELS = 60_000_000
"""A photo of more pixels is refused before it is decoded (a 50-megapixel camera makes 50 million)."""
MAX_PHOTO_BYTES = 40 * 1024 * 1024
"""A larger file is not a photo of a community."""
PRINT_DPI = 180
"""Pixels per inch at the printed size: a laser printer's photo needs 150–200."""
JPEG_QUALITY = 85
TYPE_WIDTH_MM = 156.0
"""GB/T 9704's type area is 156 mm wide: a table of photos is exactly as wide."""
CAPTION_HALF_POINTS = 24
"""Captions in 小四 (12 pt), as 公文 set the text under a picture (五号 for table notes)."""
CAPTION_FONT = "仿宋_GB2312"
FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF")
"""What Pillow may open as a photo; anything else is refused without trying harder."""
CACHE_VERSION = "1"
"""Part of each cached file's name: a change in how photos are re-encoded makes new ones."""


class PhotoError(GaizaoError):
    """A photo that cannot be used; the message says why, in Chinese."""


def locate(folder: Path, rel: str, root: Path | None = None) -> Path:
    """The photo file rel inside folder; PhotoError when it is missing, leads out or links out (of the
    folder, and of root, the data folder, when the photo folder is itself a link)."""
    if leaves_folder(rel):
        raise PhotoError(f"照片路径“{rel}”不在照片文件夹内，已拒绝")
    path = folder / rel
    try:
        if not path.is_file():
            raise absent(path)
        inside = not links_out(path, folder) and (root is None or not links_out(path, root))
    except OSError as exc:
        raise PhotoError(f"照片文件 {path} 无法读取：{exc.strerror or exc}") from None
    if not inside:
        raise PhotoError(f"照片文件 {path} 链接到照片文件夹 {folder} 或数据文件夹以外，已拒绝；"
                         "请把照片本身放进文件夹")
    return path


def absent(path: Path) -> PhotoError:
    """The error for a photo file that is not there."""
    return PhotoError(f"照片文件 {path} 不存在")


def _image_module():  # type: ignore[no-untyped-def]
    # Pillow is imported when a photo is opened, not when any document is rendered.
    from PIL import Image, ImageOps

    return Image, ImageOps


def open_image(blob: bytes, label: str):  # type: ignore[no-untyped-def]
    """A decoded image upright (EXIF orientation applied), refused when not a photo or too large."""
    Image, ImageOps = _image_module()
    if len(blob) > MAX_PHOTO_BYTES:
        raise PhotoError(f"{label} 有 {len(blob) / 1024 / 1024:.1f} MB，超过 {MAX_PHOTO_BYTES // 1024 // 1024} MB，"
                         "不像是一张照片；请换一张较小的照片")
    try:
        image = Image.open(io.BytesIO(blob), formats=FORMATS)
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise PhotoError(f"{label} 有 {width}×{height} 像素，超过 {MAX_PIXELS // 1_000_000} 百万像素，已拒绝；"
                             "请缩小后再用")
        image.load()
        upright = ImageOps.exif_transpose(image)
        upright.format = image.format  # a turned copy forgets what the file was
        return upright
    except PhotoError:
        raise
    except Image.DecompressionBombError:  # refused by Pillow before our own size check could run
        raise PhotoError(f"{label} 像素过多（超过 {MAX_PIXELS // 1_000_000} 百万像素），已拒绝；请缩小后再用") from None
    except Exception:  # Pillow raises many kinds for a broken or foreign file; its words name internals
        raise PhotoError(f"{label} 不是可以打开的图片（支持 JPEG、PNG 等格式），可能已损坏或不是图片；"
                         "请换用相机或手机拍摄的原图") from None


def check_image(path: Path) -> tuple[int, int]:
    """Width and height of an upright photo file, or PhotoError saying why it cannot be used."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise PhotoError(f"照片文件 {path} 无法读取：{exc.strerror or exc}") from None
    image = open_image(blob, f"照片文件 {path}")
    return image.size


def cache_dir() -> Path:
    """Where re-encoded photos are kept: $GAIZAO_CACHE, else the user's cache folder."""
    if os.environ.get("GAIZAO_CACHE"):
        return Path(os.environ["GAIZAO_CACHE"]) / "photos"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gaizao" / "photos"


def _reencode(blob: bytes, label: str, box_px: tuple[int, int]) -> bytes:
    Image, _ = _image_module()
    image = open_image(blob, label)
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    scale = min(box_px[0] / image.width, box_px[1] / image.height, 1.0)
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No EXIF, no ICC, no timestamp: the same photo always gives the same bytes.
    image.save(out, "JPEG", quality=JPEG_QUALITY, dpi=(PRINT_DPI, PRINT_DPI))
    return out.getvalue()


@lru_cache(maxsize=256)
def printable(path: Path, digest: str, box_px: tuple[int, int]) -> bytes:
    """The photo re-encoded as a JPEG of at most box_px pixels, made once per content and size.

    The original file is only read. The result is kept in cache_dir() under the photo's content
    hash and the size, so the next build reads it instead of decoding the photo again.
    """
    name = f"{digest}-{box_px[0]}x{box_px[1]}-q{JPEG_QUALITY}-v{CACHE_VERSION}.jpg"
    cached = cache_dir() / name
    try:
        return cached.read_bytes()
    except OSError:
        pass
    blob = _reencode(path.read_bytes(), f"照片文件 {path}", box_px)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_bytes(blob)
        tmp.replace(cached)
    except OSError:
        pass  # a read-only home: the photo is simply re-encoded next time
    return blob


def _digest(path: Path) -> str:
    stat = path.stat()
    return _content_digest(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=1024)
def _content_digest(path: Path, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the table of photos


@dataclass(frozen=True)
class Cell:
    """One photo of a table: its file (None when missing or unusable) and its caption."""

    path: Path | None
    caption: str
    missing: str = ""
    """Why the photo is not there (shown in the placeholder box), when path is None."""
    date: str = ""
    """When it was taken, printed on a line of its own under the caption so it never splits."""


@dataclass(frozen=True)
class PhotoTable:
    """Photos in rows of `columns`, each scaled into its cell with its caption under it.

    A heading (the community of a before/after pair) may open each row. Rendered in a
    template it becomes a borderless table as wide as the type area.
    """

    rows: tuple[tuple[Cell, ...], ...]
    headings: tuple[str, ...] = ()
    columns: int = 2
    width_mm: float = TYPE_WIDTH_MM
    aspect: float = 0.75
    """Height of a photo's box over its width (4:3 photos fill it)."""

    def __bool__(self) -> bool:
        return any(self.rows)

    @property
    def count(self) -> int:
        return sum(len(r) for r in self.rows)

    def cells(self) -> list[Cell]:
        return [c for r in self.rows for c in r]

    def __str__(self) -> str:
        """What the photos are, for the hash of what a document was made from."""
        parts = []
        for cell in self.cells():
            digest = ""
            if cell.path is not None:
                try:
                    digest = _digest(cell.path)[:16]
                except OSError:
                    digest = "unreadable"
            parts.append(f"{cell.caption}{cell.date}:{digest or cell.missing}")
        return f"PhotoTable({self.columns}, {self.width_mm}, {'|'.join(self.headings)}; {'; '.join(parts)})"

    @property
    def box_mm(self) -> tuple[float, float]:
        """The largest a picture may print: its cell less 2 mm each side, at the table's aspect."""
        width = self.width_mm / self.columns - 4
        return width, width * self.aspect

    def __html__(self) -> str:
        col = round(self.width_mm / self.columns * 56.7)
        grid = "".join(f'<w:gridCol w:w="{col}"/>' for _ in range(self.columns))
        rows = []
        for index, row in enumerate(self.rows):
            if index < len(self.headings) and self.headings[index]:
                rows.append(_heading_row(self.headings[index], col, self.columns))
            cells = [self._cell(cell, col) for cell in row]
            cells += [f'<w:tc><w:tcPr><w:tcW w:w="{col}" w:type="dxa"/></w:tcPr><w:p/></w:tc>'] * (
                self.columns - len(row))
            rows.append(f'<w:tr><w:trPr><w:cantSplit/></w:trPr>{"".join(cells)}</w:tr>')
        return (f'<w:tbl><w:tblPr><w:tblW w:w="{col * self.columns}" w:type="dxa"/><w:jc w:val="center"/>'
                '<w:tblBorders><w:top w:val="nil"/><w:left w:val="nil"/><w:bottom w:val="nil"/>'
                '<w:right w:val="nil"/><w:insideH w:val="nil"/><w:insideV w:val="nil"/></w:tblBorders>'
                '<w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="57" w:type="dxa"/>'
                '<w:right w:w="57" w:type="dxa"/></w:tblCellMar><w:tblLook w:val="0000"/></w:tblPr>'
                f'<w:tblGrid>{grid}</w:tblGrid>{"".join(rows)}</w:tbl>')

    def _cell(self, cell: Cell, col: int) -> str:
        box_w, box_h = self.box_mm
        picture = None
        if cell.path is not None:
            box_px = (round(box_w / 25.4 * PRINT_DPI), round(box_h / 25.4 * PRINT_DPI))
            try:
                picture = printable(cell.path, _digest(cell.path), box_px)
            except (PhotoError, OSError):
                picture = None
        if picture is not None:
            body = _picture_paragraph(picture, box_w, box_h, cell.caption)
        else:
            body = _placeholder(cell.missing or PLACEHOLDER, box_w, box_h)
        caption = _run(xml_safe(str(escape(cell.caption))))
        if cell.date:
            caption += '<w:r><w:br/></w:r>' + _run(xml_safe(str(escape(cell.date))))
        return (f'<w:tc><w:tcPr><w:tcW w:w="{col}" w:type="dxa"/></w:tcPr>{body}'
                f'<w:p><w:pPr><w:spacing w:before="40" w:after="160" w:line="300" w:lineRule="auto"/>'
                # no indent from the body style: a centred caption and its date line share one axis
                '<w:ind w:left="0" w:right="0" w:firstLine="0" w:firstLineChars="0"/>'
                f'<w:jc w:val="center"/></w:pPr>{caption}</w:p></w:tc>')


def _run(text: str, bold: bool = False) -> str:
    fonts = f'<w:rFonts w:ascii="{CAPTION_FONT}" w:eastAsia="{CAPTION_FONT}" w:hAnsi="{CAPTION_FONT}"/>'
    weight = "<w:b/>" if bold else ""
    size = f'<w:sz w:val="{CAPTION_HALF_POINTS}"/><w:szCs w:val="{CAPTION_HALF_POINTS}"/>'
    return f'<w:r><w:rPr>{fonts}{weight}{size}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>'


def _heading_row(text: str, col: int, columns: int) -> str:
    shown = xml_safe(str(escape(text)))
    return (f'<w:tr><w:trPr><w:cantSplit/></w:trPr><w:tc><w:tcPr><w:tcW w:w="{col * columns}" w:type="dxa"/>'
            f'<w:gridSpan w:val="{columns}"/></w:tcPr><w:p><w:pPr><w:keepNext/>'
            f'<w:spacing w:before="120" w:after="60"/></w:pPr>{_run(shown, bold=True)}</w:p></w:tc></w:tr>')


def picture_size_mm(blob: bytes, box_w: float, box_h: float) -> tuple[float, float]:
    """The printed size of a picture fitted into a box, its aspect kept."""
    Image, _ = _image_module()
    with Image.open(io.BytesIO(blob)) as image:
        width, height = image.size
    scale = min(box_w / width, box_h / height)
    return width * scale, height * scale


def _picture_paragraph(blob: bytes, box_w: float, box_h: float, caption: str) -> str:
    """The photo fitted into its box, centred, placed through render/images.py like every picture."""
    width, height = picture_size_mm(blob, box_w, box_h)
    run = picture(Picture(blob, width, height, caption, "jpeg"))
    # No keepNext: the row cannot split, which keeps the picture with its caption; a keepNext
    # in every row would chain the whole table and push it to a page of its own.
    return ('<w:p><w:pPr><w:spacing w:before="60" w:after="0" w:line="240" w:lineRule="auto"/>'
            f'<w:jc w:val="center"/></w:pPr>{run}</w:p>')


PLACEHOLDER = "照片缺失"
"""What a photo's box says when its file is missing or not an image and the paper gave no words
of its own (the papers give the wording's photo.missing)."""


def _placeholder(reason: str, box_w: float, box_h: float) -> str:
    """A dashed box the size of the picture, saying the photo is missing: never a broken image."""
    width = round(box_w * 56.7)
    height = round(box_h * 56.7)
    border = "".join(f'<w:{edge} w:val="dashed" w:sz="8" w:space="0" w:color="808080"/>'
                     for edge in ("top", "left", "bottom", "right"))
    text = xml_safe(str(escape(reason)))
    return (f'<w:tbl><w:tblPr><w:tblW w:w="{width}" w:type="dxa"/><w:jc w:val="center"/>'
            f'<w:tblBorders>{border}</w:tblBorders><w:tblLayout w:type="fixed"/>'
            '<w:tblLook w:val="0000"/></w:tblPr>'
            f'<w:tblGrid><w:gridCol w:w="{width}"/></w:tblGrid>'
            f'<w:tr><w:trPr><w:cantSplit/><w:trHeight w:val="{height}" w:hRule="exact"/></w:trPr>'
            f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
            f'<w:p><w:pPr><w:jc w:val="center"/></w:pPr>{_run(text)}</w:p>'
            '</w:tc></w:tr></w:tbl>')
