"""Draw the illustrative photos of the bundled pilot communities (data/photos/<id>/) and list them
in each project file's `photos:`.

The pictures are drawn here with Pillow from a fixed seed (buildings, a road, cables, scaffolding
drawn simply), each marked 示例照片 on the image: they stand for the photos a street office
takes, they are not photographs of any place. Run from the project root:

    python tools/make_photos.py            # the pilot year's communities with a household roster
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import subprocess
import sys
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.data.loader import load  # noqa: E402
from generator.data.models import Project  # noqa: E402
from generator.render.filters import cn_date  # noqa: E402

SIZE = (1200, 900)
QUALITY = 80
MARK = "示例照片"
KIND_NAMES = {"before": "现状", "during": "施工", "after": "完工"}
BLOCK = re.compile(r"\nphotos:.*\Z", re.S)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A CJK font from fontconfig (Noto Sans CJK where installed)."""
    try:
        path = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC:bold"],
                              capture_output=True, text=True, check=True).stdout.strip()
        return ImageFont.truetype(path, size)
    except (OSError, subprocess.CalledProcessError):
        return ImageFont.load_default()


def sky(draw: ImageDraw.ImageDraw, rng: random.Random, grey: bool) -> None:
    top, bottom = ((150, 160, 170), (205, 205, 200)) if grey else ((90, 150, 220), (200, 225, 245))
    for y in range(SIZE[1]):
        t = y / SIZE[1]
        draw.line([(0, y), (SIZE[0], y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    for _ in range(rng.randint(2, 4)):
        x, y = rng.randint(0, SIZE[0]), rng.randint(30, 200)
        for dx in range(0, 160, 40):
            draw.ellipse([x + dx, y, x + dx + 90, y + 50], fill=(235, 235, 235) if grey else (250, 250, 252))


def buildings(draw: ImageDraw.ImageDraw, rng: random.Random, state: str) -> list[tuple[int, int, int, int]]:
    horizon = 600
    x = rng.randint(-60, 20)
    boxes = []
    while x < SIZE[0]:
        width, floors = rng.randint(220, 330), rng.randint(5, 7)
        height = floors * 62 + 30
        box = (x, horizon - height, x + width, horizon)
        wall = {"before": (178, 170, 158), "during": (190, 182, 170), "after": (236, 222, 196)}[state]
        wall = tuple(max(0, min(255, c + rng.randint(-12, 12))) for c in wall)
        draw.rectangle(box, fill=wall, outline=(90, 85, 80), width=2)
        draw.rectangle((box[0] - 6, box[1] - 14, box[2] + 6, box[1]), fill=(120, 95, 85))
        for floor in range(floors):
            for col in range((width - 30) // 52):
                wx, wy = box[0] + 22 + col * 52, box[1] + 24 + floor * 62
                glass = (120, 140, 150) if state != "after" else (150, 190, 215)
                draw.rectangle((wx, wy, wx + 30, wy + 36), fill=glass, outline=(70, 70, 70))
                if state == "before" and rng.random() < 0.35:  # a rusty cage of bars
                    for bx in range(wx, wx + 31, 8):
                        draw.line([(bx, wy - 4), (bx, wy + 40)], fill=(110, 70, 50), width=2)
        if state == "before":
            for _ in range(rng.randint(4, 8)):  # water stains down the wall
                sx = rng.randint(box[0] + 5, box[2] - 25)
                sy = rng.randint(box[1] + 20, horizon - 120)
                draw.ellipse((sx, sy, sx + rng.randint(14, 30), sy + rng.randint(60, 150)), fill=(140, 132, 120))
        boxes.append(box)
        x += width + rng.randint(40, 90)
    return boxes


def ground(draw: ImageDraw.ImageDraw, rng: random.Random, state: str) -> None:
    draw.rectangle((0, 600, SIZE[0], SIZE[1]), fill=(150, 145, 135) if state == "before" else (120, 130, 110))
    road = [(300, 600), (900, 600), (1200, 900), (0, 900)]
    draw.polygon(road, fill={"before": (105, 100, 95), "during": (115, 105, 95), "after": (60, 62, 66)}[state])
    if state == "before":
        for _ in range(rng.randint(6, 10)):  # potholes and puddles
            px, py = rng.randint(250, 950), rng.randint(640, 860)
            w = rng.randint(40, 120)
            draw.ellipse((px, py, px + w, py + w // 3), fill=(70, 68, 64))
        for _ in range(12):  # cracks
            x0, y0 = rng.randint(250, 950), rng.randint(620, 880)
            points = [(x0, y0)]
            for _ in range(5):
                x0, y0 = x0 + rng.randint(-30, 30), y0 + rng.randint(-12, 12)
                points.append((x0, y0))
            draw.line(points, fill=(50, 48, 46), width=2)
    if state == "after":
        for i in range(6):  # the centre line
            y = 610 + i * 50
            draw.rectangle((596 - i, y, 604 + i, y + 26), fill=(240, 240, 235))
        for tx in (90, 1110):
            draw.rectangle((tx - 8, 520, tx + 8, 640), fill=(100, 70, 45))
            draw.ellipse((tx - 70, 400, tx + 70, 560), fill=(60, 135, 70))


def cables(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    """Overhead wires strung at random between the buildings."""
    for _ in range(rng.randint(8, 14)):
        y0, y1 = rng.randint(220, 420), rng.randint(220, 420)
        sag = rng.randint(20, 70)
        points = [(x, y0 + (y1 - y0) * x / SIZE[0] + sag * (1 - ((2 * x / SIZE[0]) - 1) ** 2))
                  for x in range(0, SIZE[0] + 1, 40)]
        draw.line(points, fill=(25, 25, 25), width=rng.randint(2, 4))


def scaffolding(draw: ImageDraw.ImageDraw, rng: random.Random, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    for x in range(x0 - 10, x1 + 20, 45):
        draw.line([(x, y0 - 10), (x, y1)], fill=(200, 120, 40), width=4)
    for y in range(y0, y1, 60):
        draw.line([(x0 - 10, y), (x1 + 10, y)], fill=(200, 120, 40), width=4)
    draw.rectangle((x0 - 10, y0 - 10, x1 + 10, y1), outline=(30, 110, 60), width=3)
    for bx in range(320, 900, 90):  # the barrier along the road
        draw.rectangle((bx, 640, bx + 70, 680), fill=(230, 120, 30) if (bx // 90) % 2 else (240, 240, 240),
                       outline=(60, 60, 60))
    draw.polygon([(700, 800), (860, 800), (790, 720)], fill=(170, 150, 110))  # a heap of sand


def mark(image: Image.Image, lines: tuple[str, str]) -> None:
    """示例照片 in a box the eye cannot miss, and what the picture stands for."""
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    big, small = font(72), font(30)
    draw.rectangle((30, 30, 470, 200), fill=(255, 255, 255, 215), outline=(200, 0, 0, 255), width=6)
    draw.text((60, 45), MARK, font=big, fill=(200, 0, 0, 255))
    draw.text((60, 140), lines[0], font=small, fill=(40, 40, 40, 255))
    draw.rectangle((0, SIZE[1] - 56, SIZE[0], SIZE[1]), fill=(0, 0, 0, 150))
    draw.text((24, SIZE[1] - 48), lines[1], font=small, fill=(255, 255, 255, 255))
    image.alpha_composite(overlay)


def draw_photo(seed: str, state: str, label: tuple[str, str]) -> Image.Image:
    rng = random.Random(zlib.crc32(seed.encode("utf-8")))
    image = Image.new("RGBA", SIZE)
    draw = ImageDraw.Draw(image)
    sky(draw, rng, grey=state == "before")
    boxes = buildings(draw, rng, state)
    ground(draw, rng, state)
    if state == "before":
        cables(draw, rng)
    if state == "during":
        scaffolding(draw, rng, boxes[min(1, len(boxes) - 1)])
    mark(image, label)
    return image


def photos_of(project: Project, name: str) -> list[tuple[str, str, str, dt.date | None, str | None]]:
    """(file, state, caption, date, item) of a project: two 现状, one 施工, one 完工 per first items."""
    taken = project.survey.date if project.survey else project.dates.application
    problems = list(project.problems) or ["小区基础设施老化"]
    out: list[tuple[str, str, str, dt.date | None, str | None]] = [
        (f"before-{i + 1}.jpg", "before", f"{name}{text}", taken, None)
        for i, text in enumerate(problems[:2])
    ]
    if project.at_least("construction") and project.items:
        start = project.dates.start + dt.timedelta(days=30) if project.dates.start else None
        out.append(("during-1.jpg", "during", f"{project.items[0].description}施工现场", start, project.items[0].item))
    if project.at_least("completed"):
        for i, line in enumerate(project.items[:2]):
            out.append((f"after-{i + 1}.jpg", "after", f"{line.item}改造完成：{line.description}",
                        project.dates.completion, line.item))
    return out


def yaml_block(rows: list[tuple[str, str, str, dt.date | None, str | None]]) -> str:
    lines = ["photos:  # 照片：文件在 photos/小区编号/ 下；kind 为 现状、施工 或 完工；item 为所示改造项目（示例照片）"]
    for file, state, caption, date, item in rows:
        fields = [f"file: {file}", f"caption: {json.dumps(caption, ensure_ascii=False)}", f"kind: {KIND_NAMES[state]}"]
        if date:
            fields.append(f"date: {date.isoformat()}")
        if item:
            fields.append(f"item: {json.dumps(item, ensure_ascii=False)}")
        lines.append("  - {" + ", ".join(fields) + "}")
    return "\n".join(lines) + "\n"


def main() -> None:
    data = load(ROOT / "data")
    pilot = data.programme.pilot.year
    for c in data.active_communities():
        if c.year != pilot or c.id not in data.rosters or c.id not in data.projects:
            continue
        project = data.projects[c.id]
        rows = photos_of(project, "")
        folder = ROOT / "data" / "photos" / c.id
        folder.mkdir(parents=True, exist_ok=True)
        for file, state, _caption, date, _ in rows:
            when = cn_date(date) if date else ""
            image = draw_photo(f"{c.id}/{file}", state, (f"{KIND_NAMES[state]} · {when}",
                                                         f"{c.name}（程序绘制的示意图，不是实景照片）"))
            image.convert("RGB").save(folder / file, "JPEG", quality=QUALITY)
        source = ROOT / "data" / "projects" / f"{c.id}.yaml"
        text = BLOCK.sub("\n", source.read_text(encoding="utf-8")).rstrip("\n") + "\n"
        source.write_text(text + yaml_block(rows), encoding="utf-8")
        print(folder.relative_to(ROOT), len(rows))


if __name__ == "__main__":
    main()
