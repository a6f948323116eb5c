"""Edit a project file (data/projects/<id>.yaml) in place: comments, order and layout survive.

The one way program code changes a project file that a person may have written by hand, for
the 填报表 import and the web front end alike:

    doc = load_for_edit(path)            # the file, and its data exactly as the loader reads it
    changes = apply(doc, new_values)     # the tree now holds the new values; what changed
    written = save(doc)                  # atomic; False (file untouched) when nothing changed

Only the values that differ are replaced, so every other line keeps its comment, quoting and
flow style. What is saved is read back with the loader's own exact reader and checked to hold
exactly the new values before the file is replaced.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import io
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import RoundTripRepresenter

from generator.data.labels import clerk_label
from generator.data.models import Project
from generator.data.yamlio import load_yaml, read_text
from generator.errors import DataError, OutputError, Problem, data_error
from generator.output.writer import atomic_write, os_reason

Loc = tuple[str | int, ...]


def _represent_decimal(representer: RoundTripRepresenter, value: Decimal) -> Any:
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return representer.represent_scalar(tag, text)


def _yaml() -> YAML:
    """The round-trip reader/writer, set to the layout the project files are written in."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long sentence onto several lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(Decimal, _represent_decimal)
    return yaml


@dataclass(frozen=True)
class Change:
    """One field an edit changes, with both values as the clerk would read them."""

    loc: Loc
    label: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.label}：{shown(self.before)} → {shown(self.after)}"


@dataclass
class ProjectDoc:
    """A project file opened for editing."""

    path: Path
    text: str | None
    """The file as it was read; None for a file that does not exist yet."""
    data: dict[str, Any]
    """Its values as the loader reads them (Decimal, date), before any change."""
    tree: Any
    """The round-trip tree that is written back."""
    values: dict[str, Any] = field(default_factory=dict)
    """The values the tree holds now."""


def shown(value: Any) -> str:
    """A value as a change list shows it: 空 for nothing, 是/否, numbers without exponent."""
    if value is None or value == [] or value == {}:
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list) and not any(isinstance(v, (list, dict)) for v in value):
        return "；".join(shown(v) for v in value)  # 现状问题: the lines themselves
    if isinstance(value, (list, dict)):
        return f"（{len(value)}项）" if isinstance(value, list) else "（一组字段）"
    return str(value)


def load_for_edit(path: Path, header: str = "") -> ProjectDoc:
    """Open a project file for editing; a missing file starts empty, with the header comment."""
    if not path.exists():
        tree = CommentedMap()
        if header:  # lines of text, each written as a "# " comment above the first field
            tree.yaml_set_start_comment(header.rstrip("\n"))
        return ProjectDoc(path=path, text=None, data={}, tree=tree, values={})
    text = read_text(path)
    data, _ = load_yaml(path)
    if not isinstance(data, dict):
        raise data_error(path, "文件内容应为一组“字段: 值”")
    try:
        tree = _round_trip(path, text)
    except Exception as exc:  # the exact reader accepted it; ruamel may still refuse a rare form
        raise data_error(path, f"无法按原样改写此文件（{type(exc).__name__}）；请检查 YAML 写法") from None
    return ProjectDoc(path=path, text=text, data=data, tree=tree, values=copy.deepcopy(data))


KEEP_PARSED = 32
"""Files whose round-trip tree is kept, parsed after they were saved, for their next edit."""
_parsed: dict[tuple[str, str], Future[Any]] = {}
_parsed_lock = threading.Lock()


def _key(path: Path, text: str) -> tuple[str, str]:
    return str(path), hashlib.sha256(text.encode("utf-8")).hexdigest()


def _round_trip(path: Path, text: str) -> Any:
    """The round-trip tree of a file's text: the one parsed after its last save when the file
    still holds that text (taken: each tree is edited once), else parsed now.

    ruamel's parse is most of an edit's time (some 20-170 ms for a project file); a clerk saves
    one section after another of the same project, so the next edit finds it done.
    """
    with _parsed_lock:
        ready = _parsed.pop(_key(path, text), None)
    # not yet begun (an edit right after the save): parsed here instead
    if ready is not None and not ready.cancel():
        try:
            return ready.result(timeout=10)
        except Exception:  # noqa: BLE001, S110 - parsed again below, where a failure is reported
            pass
    return _yaml().load(text)


PARSE_AFTER = 0.3
"""Seconds after a save before its file is parsed again: the save's own request (its audit record,
the state, the answer) is done by then and does not share the interpreter with the parse."""


def _parse_later(path: Path, text: str) -> None:
    """Parse a file's new text in the background, for its next edit (exactly as load_for_edit would)."""
    future: Future[Any] = Future()
    with _parsed_lock:
        _parsed[_key(path, text)] = future
        while len(_parsed) > KEEP_PARSED:
            _parsed.pop(next(iter(_parsed))).cancel()

    def parse() -> None:
        if not future.set_running_or_notify_cancel():
            return  # taken (and parsed) by an edit that came first, or pushed out
        try:
            future.set_result(_yaml().load(text))
        except Exception as exc:  # noqa: BLE001 - told to whoever takes it
            future.set_exception(exc)

    timer = threading.Timer(PARSE_AFTER, parse)
    timer.name, timer.daemon = "gaizao-yaml-parse", True
    timer.start()


def diff(before: Any, after: Any, loc: Loc = (), model: type[BaseModel] = Project) -> list[Change]:
    """Every field that differs between two plain values, deepest first-named, in order."""
    if isinstance(before, dict) or isinstance(after, dict):
        before = before if isinstance(before, dict) else {}
        after = after if isinstance(after, dict) else {}
        out: list[Change] = []
        for key in [*before, *(k for k in after if k not in before)]:
            out += diff(before.get(key), after.get(key), (*loc, key), model)
        return out
    if (isinstance(before, list) and isinstance(after, list)
            and all(isinstance(x, dict) for x in before + after)):
        # a row added or removed at the end names that row, not the whole list
        return [c for i in range(max(len(before), len(after)))
                for c in diff(before[i] if i < len(before) else None,
                              after[i] if i < len(after) else None, (*loc, i), model)]
    if _same(before, after):
        return []
    return [Change(loc, clerk_label(model, loc), before, after)]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if type(a) is not type(b) and not (isinstance(a, (int, Decimal)) and isinstance(b, (int, Decimal))):
        return False  # True == 1 and a date is not a datetime: compare by kind first
    return bool(a == b)


def apply(doc: ProjectDoc, new: dict[str, Any], model: type[BaseModel] = Project) -> list[Change]:
    """Make the file's tree hold `new` (plain values); return what changed since it was read
    (named by the fields of model: a project, or a district's report)."""
    doc.tree = _merge(doc.tree, doc.values, new)
    doc.values = copy.deepcopy(new)
    return diff(doc.data, new, model=model)


def _merge(node: Any, old: Any, new: Any) -> Any:
    """The tree node for `new`, reusing `node` (and its comments) wherever old and new agree."""
    if isinstance(new, dict) and isinstance(node, CommentedMap) and isinstance(old, dict):
        for key in [k for k in node if k not in new]:
            del node[key]
        for index, (key, value) in enumerate(new.items()):
            if key in node:
                node[key] = _merge(node[key], old.get(key), value)
            else:
                node.insert(min(index, len(node)), key, _fresh(value, node))
        return node
    if isinstance(new, list) and isinstance(node, CommentedSeq) and isinstance(old, list):
        while len(node) > len(new):
            node.pop()
        for index, value in enumerate(new):
            if index < len(node):
                node[index] = _merge(node[index], old[index] if index < len(old) else None, value)
            else:
                node.append(_fresh(value, node))
        return node
    if _same(old, new) and not isinstance(new, (dict, list)):
        return node  # the original scalar, with its quotes and number form
    return _fresh(new, None)


def _fresh(value: Any, sibling_of: Any) -> Any:
    """A new tree node for a plain value; list items copy the flow style of the list's others."""
    if isinstance(value, dict):
        out = CommentedMap(value.items())
        for key, sub in value.items():
            out[key] = _fresh(sub, None)
        if isinstance(sibling_of, CommentedSeq) and sibling_of and isinstance(sibling_of[0], CommentedMap):
            out.fa.set_flow_style() if sibling_of[0].fa.flow_style() else out.fa.set_block_style()
        return out
    if isinstance(value, list):
        seq = CommentedSeq(_fresh(v, None) for v in value)
        return seq
    return value


def dump(doc: ProjectDoc) -> str:
    """The file's text as the tree now holds it."""
    out = io.StringIO()
    _yaml().dump(doc.tree, out)
    return out.getvalue()


def save(doc: ProjectDoc) -> bool:
    """Write the file atomically when its values changed; False (untouched) when they did not.

    The text is read back with the loader's exact reader and must hold exactly the new values
    and be a valid project record; otherwise nothing is written.
    """
    if doc.text is not None and not diff(doc.data, doc.values):
        return False
    text = dump(doc)
    _prove(doc, text)
    try:
        atomic_write(doc.path, text.encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"无法写入 {doc.path}：{os_reason(exc, doc.path)}；原文件未改动") from None
    doc.text, doc.data = text, copy.deepcopy(doc.values)
    _parse_later(doc.path, text)
    return True


class NotRecorded(OutputError):
    """A change written but whose record (the audit log) could not be: undone, or, when even that
    failed, left written; the message says which."""

    def __init__(self, message: str, undone: bool) -> None:
        super().__init__(message)
        self.undone = undone


def save_recorded(doc: ProjectDoc, record: Callable[[], object]) -> bool:
    """save(doc), then record() (the audit log): the change stays only with its record. When
    record() fails the file is put back as it was and NotRecorded says so; OutputError when the
    file cannot be written (then nothing was, and record() is not called)."""
    before = doc.text
    if not save(doc):
        return False
    try:
        record()
    except Exception as exc:  # noqa: BLE001 - whatever stops the record, the change goes too
        reason = str(getattr(exc, "brief", exc))
        try:
            if before is None:
                doc.path.unlink()
            else:
                atomic_write(doc.path, before.encode("utf-8"))
        except OSError as undo:
            raise NotRecorded(f"修改已写入 {doc.path.name}，但未能记入操作日志（{reason}），撤销修改也失败"
                              f"（{os_reason(undo, doc.path)}）：请联系系统管理员，核对该文件并补记", False) from None
        doc.text = before
        raise NotRecorded(f"未保存：无法记入操作日志（{reason}），修改已撤销，{doc.path.name} 保持原样；"
                          "请联系系统管理员", True) from None
    return True


def _prove(doc: ProjectDoc, text: str) -> None:
    """Read the text back as the loader would; refuse to save what would not read as intended."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gaizao-yaml-") as tmp:
        scratch = Path(tmp) / doc.path.name
        scratch.write_text(text, encoding="utf-8")
        data, _ = load_yaml(scratch)
    changed = diff(doc.values, data)
    if changed:
        raise DataError([Problem(doc.path, f"改写后的内容与要写入的值不一致（{c}），未写入")
                         for c in changed])
