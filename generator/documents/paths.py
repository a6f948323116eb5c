"""Where documents go: file and folder names Windows accepts, one folder per community."""

from __future__ import annotations

import re

from generator.data.models import Community

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')

CITY = "全市"
"""The folder and manifest 'district' of city-level documents."""


def safe_name(text: str) -> str:
    """A file or folder name Windows accepts, the Chinese kept as written."""
    name = _UNSAFE.sub("_", text).strip(" .")[:80]
    # Linux allows 255 bytes a name: 80 rare characters (𠀀 takes 4 bytes) would not fit
    while len(name.encode("utf-8")) > 200:
        name = name[:-1]
    return name.rstrip(" .") or "_"


def community_folder(c: Community) -> str:
    """output/<year>/<district>/<seq>-<name>/"""
    return f"{c.year}/{safe_name(c.district)}/{c.seq:02d}-{safe_name(c.name)}"
