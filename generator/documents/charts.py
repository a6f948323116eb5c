"""The reports' charts drawn as PNG pictures: planned against done, and money paid in by source.

Drawn with Pillow at print resolution in a CJK font found through fontconfig (on Windows, in its
font folder). Nothing in a PNG depends on the time or the machine's state: the same figures give
the same bytes, so a rebuilt report is byte-identical. The figures come in already printed (the
report's own table values): a chart shows exactly what its table says.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from generator.errors import TemplateError
from generator.render.images import Picture

FONT = "Noto Sans CJK SC"
FONT_PACKAGE = "fonts-noto-cjk"
DPI = 300
WIDTH_MM = 150.0
"""Inside the 156 mm type area of GB/T 9704."""
INK = (0, 0, 0)
GRID = (200, 200, 200)
PLANNED = (190, 190, 190)
"""Light grey and a dark blue stay apart when the report is printed in black and white."""
DONE = (31, 73, 125)
BAR = (31, 73, 125)
LABEL_PT = 9.0
TITLE_PT = 10.0


@dataclass(frozen=True)
class Pair:
    """One panel of the planned-against-done chart: a figure's name, its two values as printed."""

    name: str
    planned: Decimal
    done: Decimal
    planned_text: str
    done_text: str
    rate: str


def _px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


def _pt(points: float) -> int:
    return round(points / 72 * DPI)


WINDOWS_FONTS = (("NotoSansCJK-Regular.ttc", 2), ("NotoSansCJKsc-Regular.otf", 0), ("NotoSansSC-Regular.otf", 0),
                 ("msyh.ttc", 0), ("simhei.ttf", 0))
"""Where there is no fontconfig (Windows): font files tried in order, with the face of a collection
(SC is the third face of Noto's collection); 微软雅黑 and 黑体 come with every Chinese Windows."""


@cache
def font_file() -> tuple[str, int]:
    """The CJK font file found (and the face in a collection), or a clear error."""
    found = _fontconfig() if shutil.which("fc-match") else _windows_font()
    if found is None:
        raise TemplateError(MISSING_FONT)
    return found


def missing_font() -> str | None:
    """Why the charts cannot be drawn on this machine (no CJK font), or None when they can."""
    try:
        font_file()
    except TemplateError as exc:
        return str(exc)
    return None


MISSING_FONT = (f"绘制报告中的图表需要中文字体 {FONT}，本机未安装（Debian、统信、麒麟：sudo apt-get install "
                f"{FONT_PACKAGE}；Windows：安装该字体或微软雅黑），安装后重新生成")


def _fontconfig() -> tuple[str, int] | None:
    command = shutil.which("fc-match")
    assert command is not None
    found = subprocess.run([command, "-f", "%{file}|%{index}|%{family}", f"{FONT}:lang=zh-cn"],
                           capture_output=True, text=True, timeout=60, check=False).stdout
    path, _, rest = found.partition("|")
    index, _, family = rest.partition("|")
    if not path or FONT not in family:
        return None
    return path, int(index or 0)


def _windows_font() -> tuple[str, int] | None:
    folders = [Path(os.environ.get("WINDIR", r"C:\Windows"), "Fonts")]
    if os.environ.get("LOCALAPPDATA"):
        folders.append(Path(os.environ["LOCALAPPDATA"], "Microsoft", "Windows", "Fonts"))
    for name, index in WINDOWS_FONTS:
        for folder in folders:
            if (folder / name).is_file():
                return str(folder / name), index
    return None


@cache
def _font(points: float) -> ImageFont.FreeTypeFont:
    path, index = font_file()
    return ImageFont.truetype(path, _pt(points), index=index)


def _png(image: Image.Image) -> bytes:
    """PNG bytes with nothing but the pixels and the resolution (no time, no software name)."""
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(DPI, DPI), optimize=False, compress_level=6)
    return out.getvalue()


def _centered(draw: ImageDraw.ImageDraw, x: float, y: float, text: str, points: float,
              fill: tuple[int, int, int] = INK, anchor: str = "ms") -> None:
    draw.text((x, y), text, font=_font(points), fill=fill, anchor=anchor)


def _legend(draw: ImageDraw.ImageDraw, x: float, y: float, items: Sequence[tuple[str, tuple[int, int, int]]]) -> None:
    """Coloured squares with their names, left to right from x on the baseline y."""
    box = _px(3)
    for name, colour in items:
        draw.rectangle((x, y - box, x + box, y), fill=colour, outline=INK, width=2)
        x += box + _px(1.5)
        draw.text((x, y), name, font=_font(LABEL_PT), fill=INK, anchor="ls")
        x += draw.textlength(name, font=_font(LABEL_PT)) + _px(6)


@dataclass(frozen=True)
class Legend:
    """What the planned-against-done chart calls its bars, and each panel's rate (the wording's chart.*)."""

    planned: str
    done: str
    rate: Callable[[str], str]


def plan_chart(pairs: Sequence[Pair], description: str, legend: Legend) -> Picture:
    """Panels side by side, one per figure: its planned and done bars, each scaled to its own."""
    height_mm = 70.0
    image = Image.new("RGB", (_px(WIDTH_MM), _px(height_mm)), "white")
    draw = ImageDraw.Draw(image)
    _legend(draw, _px(4), _px(6), [(legend.planned, PLANNED), (legend.done, DONE)])
    panel = WIDTH_MM / len(pairs)
    top, base = _px(17), _px(height_mm - 14)
    for i, pair in enumerate(pairs):
        left = _px(i * panel)
        width = _px(panel)
        draw.line((left + _px(6), base, left + width - _px(6), base), fill=INK, width=3)
        scale = max(pair.planned, pair.done) or Decimal(1)
        bar = _px(14)
        gap = _px(4)
        start = left + (width - 2 * bar - gap) / 2
        for k, (value, text, colour) in enumerate(((pair.planned, pair.planned_text, PLANNED),
                                                  (pair.done, pair.done_text, DONE))):
            x0 = start + k * (bar + gap)
            y0 = base - float(value / scale) * (base - top)
            if value:
                draw.rectangle((x0, y0, x0 + bar, base), fill=colour, outline=INK, width=2)
            _centered(draw, x0 + bar / 2, y0 - _px(1.5), text, LABEL_PT)
        _centered(draw, left + width / 2, base + _px(6), pair.name, TITLE_PT)
        _centered(draw, left + width / 2, base + _px(11), legend.rate(pair.rate), LABEL_PT)
    return Picture(_png(image), WIDTH_MM, height_mm, description)


def source_chart(names: Sequence[str], values: Sequence[Decimal], texts: Sequence[str],
                 description: str, full: Decimal | None = None) -> Picture:
    """One horizontal bar per row (a paying party, a score), its printed figure beside it; the bars are
    measured against `full` (a score's full mark, drawn as a light line) or else the largest value."""
    row_mm = 9.0
    height_mm = 8.0 + row_mm * len(names)
    image = Image.new("RGB", (_px(WIDTH_MM), _px(height_mm)), "white")
    draw = ImageDraw.Draw(image)
    label_w = max(draw.textlength(n, font=_font(TITLE_PT)) for n in names) + _px(3)
    x0 = _px(3) + label_w
    right = _px(WIDTH_MM - 38)
    scale = (full if full is not None and full > 0 else max(values)) or Decimal(1)
    if full is not None:  # where a bar of the full mark would end: a 60 of 100 is seen to fall short
        draw.line((right, _px(3), right, _px(height_mm - 3)), fill=GRID, width=3)
    draw.line((x0, _px(3), x0, _px(height_mm - 3)), fill=INK, width=3)
    for i, (name, value, text) in enumerate(zip(names, values, texts, strict=True)):
        middle = _px(4 + row_mm * (i + 0.5))
        draw.text((x0 - _px(2), middle), name, font=_font(TITLE_PT), fill=INK, anchor="rm")
        end = x0 + min(max(float(value / scale), 0.0), 1.0) * (right - x0)
        if value:
            draw.rectangle((x0, middle - _px(2.8), end, middle + _px(2.8)), fill=BAR, outline=INK, width=2)
        draw.text((end + _px(2), middle), text, font=_font(LABEL_PT), fill=INK, anchor="lm")
    return Picture(_png(image), WIDTH_MM, height_mm, description)
