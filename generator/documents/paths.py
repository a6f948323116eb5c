"""Where documents go: file and folder names Windows accepts, one folder per community."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from generator.data.loader import DataSet
from generator.data.models import Community
from generator.render.wording import wording
from generator.rules.checks import Finding, rule

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?", re.I)
"""Names Windows keeps for devices, with or without an extension (CON, nul.txt, Com1)."""

CITY = "全市"
"""The folder and manifest 'district' of city-level documents."""


def safe_name(text: str) -> str:
    """A file or folder name Windows accepts, the Chinese kept as written."""
    name = _UNSAFE.sub("_", text).strip(" .")[:80]
    # Linux allows 255 bytes a name: 80 rare characters (𠀀 takes 4 bytes) would not fit
    while len(name.encode("utf-8")) > 200:
        name = name[:-1]
    name = name.rstrip(" .") or "_"
    # A folder named CON or nul.txt cannot be copied to a Windows PC: keep the name, mark it.
    if (m := _RESERVED.fullmatch(name)) is not None:
        name = m.group(1) + "_" + (m.group(2) or "")
    return name


def community_folder(c: Community) -> str:
    """output/<year>/<district>/<seq>-<name>/"""
    return f"{c.year}/{safe_name(c.district)}/{c.seq:02d}-{safe_name(c.name)}"


def file_name(data: DataSet, key: str, suffix: str, fallback: str = "", **fields: object) -> str:
    """A file's name as the wording's file.<key> says it (data in it made safe by the caller), with
    suffix; fallback when the wording has no such key (a kind a city or a test registered)."""
    name = wording(data.root).file_name(f"file.{key}", fields)
    return f"{fallback if name is None else name}{suffix}"


def _rel(data: DataSet, path: Path) -> str:
    try:
        return str(path.relative_to(data.root.parent))
    except ValueError:
        return str(path)


def folder_key(path: str) -> str:
    """How Windows compares two paths: case does not count (东区 and 东区. are one folder too)."""
    return path.casefold()


@rule("OUT-PATHS", "两个县（区）或小区的文书不能落在同一个文件夹")
def check_output_paths(data: DataSet) -> Iterator[Finding]:
    """Names that make the same folder name would put one's documents over the other's."""
    districts_file = _rel(data, data.root / "districts.yaml")
    seen = {folder_key(CITY): f"{CITY}（市级文书的文件夹）"}
    for name in data.districts:
        key = folder_key(safe_name(name))
        if key in seen:
            yield Finding("OUT-PATHS", "error", districts_file, f"县（区）“{name}”", "name（名称）",
                          f"与“{seen[key]}”的文件夹名都是“{safe_name(name)}”，两者的文书会互相覆盖；"
                          "请改用可区分的名称（文件夹名中 \\ / : * ? \" < > | 和首尾的空格、句点不计）")
        else:
            seen[key] = name
    # Community folders need no check of their own: a year's 序号 are unique (the loader refuses
    # repeats), so <year>/<district>/<seq>-<name> can only collide through the district's name.
    # Any other collision is refused when a build plans its paths (pipeline.refuse_colliding).
