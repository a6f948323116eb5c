"""The sentences papers print that no template spells out: the built-in wording file, overridden
key by key by the city's ``templates/wording.yaml`` in its data folder, and that by the
``wording.yaml`` of a build's ``--templates`` folder (the more specific wins, as for templates)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import islice
from pathlib import Path
from stat import S_ISREG
from typing import Any

import yaml
from jinja2 import Template, TemplateSyntaxError, meta
from jinja2.exceptions import TemplateAssertionError

from generator.errors import Problem, TemplateError
from generator.render.env import TEXT_ENV, RenderLimit, syntax_reason
from generator.render.filters import cn_numeral
from generator.render.naming import fill_name, name_problems
from generator.render.templates import BUILTIN

BUILTIN_WORDING = BUILTIN / "wording.yaml"
CITY_WORDING = Path("templates") / "wording.yaml"
"""Where a city's own wording is, inside its data folder (beside its own templates)."""


@dataclass(frozen=True)
class Entry:
    """One sentence: its jinja2 text, the fields it may use and the file it came from."""

    text: str
    fields: frozenset[str]
    source: Path
    compiled: Template | None = None
    """Made when the sentence is first said, if not given (the built-in file's: compiling all of
    them took a tenth of the checks' time on a first start at 10,000 communities)."""
    used: frozenset[str] = frozenset()
    """The fields the text really uses (a subset of fields)."""
    folders: tuple[str, ...] = ()
    """For a file name (file.<kind>): the output folders it names files in (naming.SAMPLES)."""

    @cached_property
    def template(self) -> Template:
        """The sentence compiled."""
        return self.compiled if self.compiled is not None else TEXT_ENV.from_string(self.text)


MAX_SENTENCE = 100_000
"""Characters one sentence may have (the whole notice is some two thousand)."""
MAX_PIECES = 10_000
"""Pieces of output one sentence may make (a loop in a city's sentence is bounded by it)."""
FILE_MEMO = object()
"""Marks a memo entry as a file name (a sentence and a name may share a key's fields)."""
MEMO_SIZE = 50_000
"""Sentences remembered per wording: a programme's papers say the same few hundred again and again."""


class Wording:
    """Every sentence by key; ``say`` fills one in."""

    def __init__(self, entries: dict[str, Entry]):
        self.entries = entries
        self._memo: dict[tuple[Any, ...], str] = {}

    def say(self, key: str, **fields: Any) -> str:
        """The sentence under key, filled in with fields (every declared field must be given)."""
        memo_key = (key, *sorted(fields.items()))
        try:
            return self._memo[memo_key]
        except KeyError:
            pass
        except TypeError:  # a field that cannot be a key (a list): said afresh each time
            return self._say(key, fields)
        if len(self._memo) >= MEMO_SIZE:
            self._memo.clear()
        text = self._memo[memo_key] = self._say(key, fields)
        return text

    def join(self, items: Iterable[str], how: str = "list") -> str:
        """items joined as the wording's join.<how> says: 、 in a list, ； between clauses…"""
        return self.say(f"join.{how}").join(items)

    def listing(self, items: Sequence[str]) -> str:
        """甲、乙和丙: the last two joined by join.last, the others by join.list."""
        if len(items) < 2:
            return "".join(items)
        return self.join(items[:-1]) + self.say("join.last") + items[-1]

    def heading(self, n: int, level: int = 1) -> str:
        """The number of the nth heading of a level as the wording writes it: 一、 or （一）."""
        return self.say("numeral.heading" if level == 1 else "numeral.subheading", number=cn_numeral(n), n=n)

    def file_name(self, key: str, fields: dict[str, Any]) -> str | None:
        """The file name (without extension) under key, filled in with fields (a callable value is
        called only when the name uses it); None when the wording has no such key (a kind a city
        or a test registered)."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        # Only the fields the name uses make the memo key: the default names use none, so a
        # build of ten thousand communities fills each name once and looks nothing up for it.
        used = tuple((f, v() if callable(v := fields[f]) else v) for f in sorted(entry.used))
        memo_key = (FILE_MEMO, key, *used)
        held = self._memo.get(memo_key)
        if held is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            try:
                held = self._memo[memo_key] = fill_name(entry, dict(used))
            except Exception as exc:  # a city's name that fails on these figures
                raise TemplateError(f"{entry.source} {key}：文件名无法生成：{exc}") from exc
        return held

    def _say(self, key: str, fields: dict[str, Any]) -> str:
        entry = self.entries[key]
        missing = entry.fields - fields.keys()
        if missing:  # a program error, not a city's: the built-in file declares what is passed
            raise TypeError(f"wording {key}: fields not passed: {sorted(missing)}")
        try:
            # A context of the fields alone (shared: no copy of the globals, which a sentence does
            # not use): a paper says some seventy sentences, each a few microseconds this way.
            pieces = entry.template.root_render_func(entry.template.new_context(fields, shared=True))
            text = "".join(islice(pieces, MAX_PIECES))
            if len(text) > MAX_SENTENCE or next(pieces, None) is not None:
                raise RenderLimit(f"句子超过{MAX_SENTENCE}个字符")
            return text
        except Exception as exc:  # a city's sentence that fails on these figures
            raise TemplateError(f"{entry.source} {key}：这句话无法生成：{exc}") from exc


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}：无法读取措辞文件：{exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" 第{mark.line + 1}行" if mark is not None else ""
        raise TemplateError(f"{path}{line}：措辞文件不是有效的 YAML：{getattr(exc, 'problem', exc)}") from exc
    if not isinstance(raw, dict):
        raise TemplateError(f"{path}：措辞文件应为“键: 句子”的列表")
    return raw


def _compile(path: Path, key: str, text: Any, fields: frozenset[str], problems: list[Problem],
             folders: tuple[str, ...] = (), lazily: bool = False) -> Entry | None:
    """An entry checked (syntax, fields); compiled now unless lazily (the built-in file, whose
    every sentence the tests compile: a city's is compiled now, so that a filter it misspells is
    named when its file is read)."""
    if not isinstance(text, str):
        problems.append(Problem(path, "应为一句文字（用引号括起来）", key))
        return None
    try:
        tree = TEXT_ENV.parse(text)
        template = None if lazily else TEXT_ENV.from_string(text)
    except (TemplateSyntaxError, TemplateAssertionError) as exc:
        problems.append(Problem(path, f"句子写法有误：{syntax_reason(text, exc.message or '')}", key))
        return None
    used = frozenset(meta.find_undeclared_variables(tree))
    unknown = sorted(used - fields)
    if unknown:
        allowed = "、".join(sorted(fields)) or "（无）"
        problems.append(Problem(path, f"用了没有的字段 {'、'.join(unknown)}；可用的字段：{allowed}", key))
        return None
    return Entry(text, fields, path, template, used, folders)


@lru_cache(maxsize=1)
def _builtin() -> dict[str, Entry]:
    problems: list[Problem] = []
    entries = {}
    for key, spec in _read(BUILTIN_WORDING).items():
        folder = spec.get("folder", ())
        entry = _compile(BUILTIN_WORDING, key, spec.get("text"), frozenset(spec.get("fields", ())), problems,
                         (folder,) if isinstance(folder, str) else tuple(folder), lazily=True)
        if entry is not None:
            entries[key] = entry
    if problems:
        raise TemplateError("\n".join(str(p) for p in problems))
    return entries


@lru_cache(maxsize=8)
def _city(path: Path, stamp: tuple[int, int]) -> tuple[dict[str, Entry], tuple[Problem, ...]]:
    builtin = _builtin()
    problems: list[Problem] = []
    entries = {}
    for key, text in _read(path).items():
        if key not in builtin:
            problems.append(Problem(path, "没有这个措辞键（请对照内置的 templates/wording.yaml）", str(key)))
            continue
        entry = _compile(path, key, text, builtin[key].fields, problems, builtin[key].folders)
        if entry is not None:
            entries[key] = entry
    return entries, tuple(problems)


def wording_problems(data_root: Path | None) -> list[Problem]:
    """What is wrong with the city's wording files: unknown keys, unknown fields, broken syntax."""
    files = _stamped(wording_files(data_root))
    problems = [p for path, stamp in files for p in file_problems(path, stamp)]
    if problems:
        return problems
    return name_problems(_merged(files), BUILTIN_WORDING)


def file_problems(path: Path, stamp: tuple[int, int] | None = None) -> list[Problem]:
    """What is wrong with one wording file."""
    try:
        if stamp is None:
            st = path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        return list(_city(path, stamp)[1])
    except (TemplateError, OSError) as exc:
        return [Problem(path, str(exc).split("：", 1)[-1])]


def folder_problems(path: Path) -> list[Problem]:
    """What is wrong with a templates folder's wording file read over the built-in one alone: its
    keys, fields and syntax, then the file names it gives."""
    problems = file_problems(path)
    if problems:
        return problems
    return name_problems(_merged(_stamped([path])), BUILTIN_WORDING)


_OVERRIDES: dict[Path | None, Path] = {}
"""Per data folder: the templates folder a build was given (--templates), whose wording.yaml is read too."""


def use_templates(data_root: Path | None, templates_dir: Path | None) -> None:
    """Read the wording of templates_dir (a build's --templates) over the data folder's, from now on."""
    if templates_dir is None:
        _OVERRIDES.pop(data_root, None)
    else:
        _OVERRIDES[data_root] = templates_dir


def wording_files(data_root: Path | None) -> list[Path]:
    """The city's wording files, the more specific last: the data folder's templates/wording.yaml,
    then the --templates folder's wording.yaml (chosen for this build, so it wins, as its templates do)."""
    return list(_files_of(data_root, _OVERRIDES.get(data_root)))


@lru_cache(maxsize=64)
def _files_of(data_root: Path | None, override: Path | None) -> tuple[Path, ...]:
    # Remembered: a build asks for the wording once a document and a file name, and joining
    # paths costs more than the stat that follows.
    files = [] if data_root is None else [data_root / CITY_WORDING]
    if override is not None:
        files.append(override / BUILTIN_WORDING.name)
    return tuple(files)


_LOADED: dict[Path | None, tuple[tuple[tuple[Path, tuple[int, int]], ...], Wording]] = {}
"""Per data folder: the wording files read and the stamps they were read at, the sentences."""


def _stamped(paths: list[Path]) -> tuple[tuple[Path, tuple[int, int]], ...]:
    found = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        if S_ISREG(st.st_mode):  # one stat a file: a build asks for the wording thousands of times
            found.append((path, (st.st_mtime_ns, st.st_size)))
    return tuple(found)


def _merged(files: tuple[tuple[Path, tuple[int, int]], ...]) -> dict[str, Entry]:
    """The built-in sentences with each file's own over them, the more specific last."""
    entries = dict(_builtin())
    for path, stamp in files:
        entries.update(_city(path, stamp)[0])
    return entries


def wording(data_root: Path | None) -> Wording:
    """The built-in sentences, with the city's own over them key by key: its data folder's
    ``templates/wording.yaml``, then a build's ``--templates`` folder's ``wording.yaml``."""
    files = _stamped(wording_files(data_root))
    held = _LOADED.get(data_root)
    if held is not None and held[0] == files:
        return held[1]
    for path, stamp in files:
        problems = _city(path, stamp)[1]
        if problems:
            raise TemplateError("\n".join(str(p) for p in problems))
    entries = _merged(files)
    if files:  # the built-in names are checked by the tests; a city's only once merged over them
        named = name_problems(entries, BUILTIN_WORDING)
        if named:
            raise TemplateError("\n".join(str(p) for p in named))
    said = Wording(entries)
    _LOADED[data_root] = (files, said)
    return said
