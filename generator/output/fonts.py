"""The PDF font map (resources/fonts.conf): which installed font stands in for each font the
documents declare, whether those fonts are installed, and which characters each one lacks.

The map itself is the fontconfig file LibreOffice reads through FONTCONFIG_FILE; this module
reads the same file, so a warning names exactly the font the conversion would have used.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import unicodedata
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

FONTS_CONF = Path(__file__).resolve().parent / "resources" / "fonts.conf"

PACKAGES = {
    "Noto Serif CJK SC": "fonts-noto-cjk、fonts-noto-cjk-extra",
    "Noto Sans CJK SC": "fonts-noto-cjk",
    "LXGW WenKai": "fonts-lxgw-wenkai",
}
"""The Debian packages that bring each mapped family (the Makefile installs them)."""


@dataclass(frozen=True)
class Substitute:
    """The installed face that stands in for a declared font: a family, and a weight if set."""

    family: str
    weight: str = ""

    def pattern(self) -> str:
        """The fontconfig pattern of this face, e.g. ``Noto Serif CJK SC:weight=light``."""
        return f"{self.family}:weight={self.weight}" if self.weight else self.family

    def __str__(self) -> str:
        return f"{self.family}（{self.weight}）" if self.weight else self.family


def _text(node: etree._Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


@cache
def font_map() -> dict[str, Substitute]:
    """Each declared font name (仿宋_GB2312, 黑体, …) → the face the PDF uses for it."""
    root = etree.parse(str(FONTS_CONF), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    mapped: dict[str, Substitute] = {}
    for match in root.iter("match"):
        declared = _text(match.find("test/string"))
        family, weight = "", ""
        for edit in match.iter("edit"):
            if edit.get("name") == "family":
                family = _text(edit.find("string"))
            elif edit.get("name") == "weight":
                weight = _text(edit.find("const"))
        if declared and family:
            mapped[declared] = Substitute(family, weight)
    return mapped


def _fc(*args: str) -> str:
    command = shutil.which(args[0])
    if command is None:
        return ""
    return subprocess.run([command, *args[1:]], capture_output=True, text=True, timeout=60,
                          check=False).stdout


@cache
def _installed(sub: Substitute) -> bool:
    """Whether fontconfig knows a font of this family (and weight)."""
    return bool(_fc("fc-list", sub.pattern(), "family").strip())


def missing_fonts() -> list[str]:
    """One warning per mapped face that is not installed, naming the declared fonts it serves."""
    serves: dict[Substitute, list[str]] = {}
    for declared, sub in font_map().items():
        serves.setdefault(sub, []).append(declared)
    warnings = []
    for sub, names in serves.items():
        if not _installed(sub):
            package = PACKAGES.get(sub.family, "")
            hint = f"（Debian 软件包 {package}）" if package else ""
            warnings.append(f"警告：PDF 中“{'”“'.join(names[:3])}”应使用字体 {sub}，本机未安装"
                            f"{hint}，转换时将由其他字体代替，版式可能与公文要求不符。")
    return warnings


@cache
def _charset(sub: Substitute) -> list[tuple[int, int]]:
    """The code point ranges of the face fontconfig matches for this pattern."""
    ranges = []
    for part in _fc("fc-match", "-f", "%{charset}", sub.pattern()).split():
        low, _, high = part.partition("-")
        ranges.append((int(low, 16), int(high or low, 16)))
    return ranges


def unprintable(text: str) -> str:
    """The characters of text that no installed font has a glyph for: a PDF prints them as empty boxes
    (an emoji, a rare character of a name). Empty where fontconfig cannot be asked (Windows)."""
    if shutil.which("fc-list") is None:
        return ""
    candidates = sorted(set("".join(uncovered(text).values())))
    return "".join(c for c in candidates if not _anywhere(c))


@cache
def _anywhere(char: str) -> bool:
    """Whether any installed font has a glyph for char (LibreOffice falls back to it)."""
    return bool(_fc("fc-list", f":charset={ord(char):x}", "family").strip())


_OFFICE_TEXT = re.compile(rb">([^<]+)<")
_TEXT_PARTS = re.compile(r"^(word/(document|header\d*|footer\d*|footnotes|endnotes)"
                         r"|xl/(sharedStrings|worksheets/sheet\d+))\.xml$")


def office_text(path: Path) -> str:
    """The text of a Word or Excel file (body, headers and footers, cells), without its markup."""
    pieces: list[str] = []
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if _TEXT_PARTS.match(name):
                pieces.extend(m.decode("utf-8", "replace") for m in _OFFICE_TEXT.findall(package.read(name)))
    return html.unescape("".join(pieces))


def unprintable_in(paths: list[Path]) -> list[str]:
    """A warning for each document with characters no installed font can print."""
    warnings = []
    for path in paths:
        try:
            lacking = unprintable(office_text(path))
        except (OSError, zipfile.BadZipFile):
            continue  # the conversion itself says what is wrong with such a file
        if lacking:
            warnings.append(f"警告：{path} 中的字符“{'、'.join(lacking)}”本机没有任何字体能显示，PDF 中将印成空框；"
                            "请改用常用字，或安装含这些字的字体后重新转换。")
    return warnings


def uncovered(text: str) -> dict[str, str]:
    """For each mapped face, the characters of text (besides spaces) it has no glyph for."""
    # Format characters (the word joiner of a phone number) have no glyph in any font.
    # Each distinct character once: a district's bound forms hold millions of characters.
    wanted = sorted(c for c in set(text) if not c.isspace() and ord(c) >= 0x20
                    and unicodedata.category(c) != "Cf")
    lacking = {}
    for sub in sorted(set(font_map().values()), key=str):
        ranges = _charset(sub)
        missing = "".join(c for c in wanted
                          if not any(low <= ord(c) <= high for low, high in ranges))
        if missing:
            lacking[str(sub)] = missing
    return lacking
