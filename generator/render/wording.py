"""The sentences papers print that no template spells out: the built-in wording file, overridden
key by key by the city's ``templates/wording.yaml`` in its data folder, and that by the
``wording.yaml`` of a build's ``--templates`` folder (the more specific wins, as for templates)."""

from __future__ import annotations

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
from generator.render.env import TEXT_ENV, RenderLimit
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

    @cached_property
    def template(self) -> Template:
        """The sentence compiled."""
        return self.compiled if self.compiled is not None else TEXT_ENV.from_string(self.text)


MAX_SENTENCE = 100_000
"""Characters one sentence may have (the whole notice is some two thousand)."""
MAX_PIECES = 10_000
"""Pieces of output one sentence may make (a loop in a city's sentence is bounded by it)."""
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
             lazily: bool = False) -> Entry | None:
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
        problems.append(Problem(path, f"句子写法有误：{_syntax_message(exc.message or '')}", key))
        return None
    unknown = sorted(meta.find_undeclared_variables(tree) - fields)
    if unknown:
        allowed = "、".join(sorted(fields)) or "（无）"
        problems.append(Problem(path, f"用了没有的字段 {'、'.join(unknown)}；可用的字段：{allowed}", key))
        return None
    return Entry(text, fields, path, template)


def _syntax_message(message: str) -> str:
    """Jinja's message in a clerk's words where it is a common slip, else as Jinja says it."""
    if message.startswith("Unexpected end of template"):
        return "{% if %} 或 {% for %} 缺少对应的 {% endif %} 或 {% endfor %}"
    if message.startswith("No filter named"):
        return f"没有这个过滤器：{message.split(chr(39))[1] if chr(39) in message else message}"
    if message.startswith("unexpected '}'") or message.startswith("unexpected end of template"):
        return "花括号没有配对"
    return message


@lru_cache(maxsize=1)
def _builtin() -> dict[str, Entry]:
    problems: list[Problem] = []
    entries = {}
    for key, spec in _read(BUILTIN_WORDING).items():
        entry = _compile(BUILTIN_WORDING, key, spec.get("text"), frozenset(spec.get("fields", ())), problems,
                         lazily=True)
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
        entry = _compile(path, key, text, builtin[key].fields, problems)
        if entry is not None:
            entries[key] = entry
    return entries, tuple(problems)


def wording_problems(data_root: Path | None) -> list[Problem]:
    """What is wrong with the city's wording files: unknown keys, unknown fields, broken syntax."""
    return [p for path, stamp in _stamped(wording_files(data_root)) for p in file_problems(path, stamp)]


def file_problems(path: Path, stamp: tuple[int, int] | None = None) -> list[Problem]:
    """What is wrong with one wording file."""
    try:
        if stamp is None:
            st = path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        return list(_city(path, stamp)[1])
    except (TemplateError, OSError) as exc:
        return [Problem(path, str(exc).split("：", 1)[-1])]


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
    files = [] if data_root is None else [data_root / CITY_WORDING]
    override = _OVERRIDES.get(data_root)
    if override is not None:
        files.append(override / BUILTIN_WORDING.name)
    return files


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


def wording(data_root: Path | None) -> Wording:
    """The built-in sentences, with the city's own over them key by key: its data folder's
    ``templates/wording.yaml``, then a build's ``--templates`` folder's ``wording.yaml``."""
    files = _stamped(wording_files(data_root))
    held = _LOADED.get(data_root)
    if held is not None and held[0] == files:
        return held[1]
    entries = dict(_builtin())
    for path, stamp in files:
        city, problems = _city(path, stamp)
        if problems:
            raise TemplateError("\n".join(str(p) for p in problems))
        entries.update(city)
    said = Wording(entries)
    _LOADED[data_root] = (files, said)
    return said
