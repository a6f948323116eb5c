"""The names of the files a build writes, as the wording file's ``file.<kind>`` sentences say them:
filled in per document, and checked when the wording is read (names Windows accepts, no two
documents of one folder under one name)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Template

from generator.errors import Problem


class Entry(Protocol):
    """What a name needs of a wording entry (render/wording.py's Entry)."""

    @property
    def fields(self) -> frozenset[str]: ...
    @property
    def used(self) -> frozenset[str]: ...
    @property
    def folders(self) -> tuple[str, ...]: ...
    @property
    def source(self) -> Path: ...
    @property
    def template(self) -> Template: ...

FILE_KEY = "file."
"""The wording keys that name files: file.<kind key>, and file.print for the print files."""
PRINT_KEY = "file.print"
MAX_NAME = 120
"""Characters a file name may have, without its extension (Windows' whole path is 260)."""
EXTENSIONS = (".docx", ".xlsx", ".pdf")
"""What a name may end with in the wording file: dropped, the program adds the kind's own."""

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?", re.I)

_COMMUNITY = {"year": 2018, "district": "东区", "street_office": "示例街道", "seq": "01", "community": "示例小区"}
SAMPLES: dict[str, list[dict[str, Any]]] = {
    # One community: every community kind lands in its folder.
    "community": [_COMMUNITY],
    "plan": [{}],
    # The city's folder of a year: the compiled report, the assessment and one return a month.
    "city": [{"year": 2018, "district": "", "pilot": pilot, "month": month}
             for pilot in (True, False) for month in ("06", "07")],
    "district": [{"year": 2018, "district": "东区", "pilot": pilot} for pilot in (True, False)],
    # A year's print folder: every district, with and without a street office, every kind.
    "print": [{"year": 2018, "district": d, "street_office": s, "kind": k}
              for d in ("东区", "西区") for s in ("", "示例街道") for k in ("改造方案", "改造方案公示")],
}
"""What the names are tried with when the wording is read, per folder a kind writes into."""
IDENTITY = {"city": ("month",), "print": ("district", "street_office", "kind")}
"""The fields that tell two documents of one kind apart within one folder (one a month, one a district…)."""
FIELD_NAMES = {"month": "月份", "district": "县（区）", "street_office": "街道办事处", "kind": "文书"}


def strip_extension(name: str) -> str:
    """The name without an extension the wording file may have written."""
    for ext in EXTENSIONS:
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return name


def name_fault(name: str) -> str | None:
    """Why Windows would not take this file name (without its extension), or None."""
    if not name.strip():
        return "文件名是空的"
    bad = sorted(set(_FORBIDDEN.findall(name)))
    if bad:
        shown = " ".join(c if c.isprintable() else "控制字符" for c in bad)
        return f"文件名“{name}”含有 Windows 不允许的字符 {shown}"
    if name[-1] in " .":
        return f"文件名“{name}”以{'空格' if name[-1] == ' ' else '句点'}结尾，Windows 不接受"
    if _RESERVED.fullmatch(name) is not None:
        return f"文件名“{name}”是 Windows 的保留名称（CON、PRN、AUX、NUL、COM1～COM9、LPT1～LPT9），不能使用"
    if len(name) > MAX_NAME:
        return f"文件名“{name[:20]}…”填入字段后有{len(name)}个字符，超过{MAX_NAME}个"
    return None


def name_problems(entries: Mapping[str, Entry], builtin: Path | None = None) -> list[Problem]:
    """What is wrong with the file names of the merged wording: a name Windows refuses, or two
    documents of one folder under one name (two kinds alike, or a kind without the field telling
    its documents apart). A clash is told against the city's name, not the built-in one (builtin:
    the built-in wording file)."""
    problems: list[Problem] = []
    seen: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}
    for key, entry in entries.items():
        if not key.startswith(FILE_KEY):
            continue
        for folder in entry.folders:
            taken = seen.setdefault(folder, {})
            for sample in SAMPLES[folder]:
                fields = {f: sample.get(f, "") for f in entry.fields}
                try:
                    name = strip_extension(entry.template.render(fields))
                except Exception as exc:  # a city's sentence failing on the sample figures
                    problems.append(Problem(entry.source, f"文件名无法生成：{exc}", key))
                    break
                fault = name_fault(name)
                if fault is not None:
                    problems.append(Problem(entry.source, fault, key))
                    break
                ident = tuple(fields.get(f) for f in IDENTITY.get(folder, ()) if f in entry.fields)
                held = taken.setdefault(name.casefold(), (key, {"ident": ident, **fields}))
                if held[0] != key:
                    # the city's key is the one to change: a built-in name clashes with nothing built in
                    ours, theirs = (held[0], key) if entry.source == builtin else (key, held[0])
                    problems.append(Problem(entries[ours].source, f"与 {theirs} 的文件名都是“{name}”，"
                                            "两份文书会写到同一个文件；请改用可区分的文件名", ours))
                    break
                if held[1]["ident"] != ident:
                    differ = [f for f in IDENTITY[folder] if held[1].get(f) != fields.get(f)]
                    words = "、".join(f"{f}（{FIELD_NAMES.get(f, f)}）" for f in differ)
                    which = "、".join(FIELD_NAMES.get(f, f) for f in differ)
                    problems.append(Problem(entry.source, f"文件名没有用到字段 {words}：不同{which}的文书都会叫"
                                            f"“{name}”，后写的会覆盖先写的", key))
                    break
    return problems


def fill_name(entry: Entry, fields: Mapping[str, Any]) -> str:
    """A file name (without extension) filled in, cut to MAX_NAME characters: a long community
    name in a city's pattern must not stop a build (a repeat is refused when paths are planned)."""
    used = {f: fields[f] for f in entry.used}
    name = strip_extension(entry.template.render(used)).rstrip(" .")
    return name[:MAX_NAME].rstrip(" .") or "_"
