"""A save from a stale form merged three ways, field by field, so no one's edit is undone unseen.

base: what the form showed when the clerk opened it; mine: what the clerk sent; theirs: the
project as it is now. Every value is the text of one input, by input name (items.0.amount).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from generator.web.forms import Input

PICK = "_pick."
"""Prefix of the radio buttons by which the clerk chooses between two values of one field."""
CLASH = "_clash"
"""Hidden inputs naming the fields shown with a choice."""
TICKED = "on"


def texts(found: Iterable[Input]) -> dict[str, str]:
    """What a browser sends for these inputs, by name (an unticked box: empty)."""
    out = {}
    for i in found:
        if i.widget == "checkbox":
            out[i.name] = TICKED if i.checked else ""
        else:
            out[i.name] = _plain(i.value)
    return out


def posted_base(raw: str) -> dict[str, str] | None:
    """The form's values when it was opened, as the page carried them; None when missing or garbled."""
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return value


def _plain(text: str) -> str:
    """A value as compared: a browser sends a text box's lines with CR LF."""
    return text.replace("\r\n", "\n").strip()


def _sent(form: Mapping[str, str], name: str) -> str:
    return _plain(form.get(name) or "")


@dataclass
class Merged:
    form: MultiDict[str, str]
    """The values to show, as a form would send them."""
    clashes: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Fields both sides changed differently: (the clerk's, the current)."""
    notes: list[str] = field(default_factory=list)
    """What the merge did that the clerk should know (a row kept that the clerk meant to delete)."""


def three_way(base: dict[str, str] | None, mine: Mapping[str, str], theirs: dict[str, str],
              names: Iterable[str]) -> Merged:
    """The clerk's form brought up to date: untouched fields from theirs, changed ones kept, both-changed a clash.

    Without a base (an old page) every difference is a clash: nothing is taken on trust.
    """
    every = list(dict.fromkeys([*names, *(k for k in mine if _is_field(k))]))
    out: MultiDict[str, str] = MultiDict()
    clashes: dict[str, tuple[str, str]] = {}
    for name in every:
        m, t = _sent(mine, name), theirs.get(name, "")
        b = base.get(name, "") if base is not None else None
        if m == t or m == b:
            value = t
        elif t == b:
            value = m
        else:
            value = m
            clashes[name] = (m, t)
        if value:
            out.add(name, value)
    notes = []
    for key in mine:
        row = re.fullmatch(r"(.+\.\d+)\._delete", key)
        if not row:
            continue
        prefix = row.group(1) + "."
        changed = [n for n in theirs if n.startswith(prefix) and (base is None or theirs[n] != base.get(n, ""))]
        if changed:
            number = int(prefix.rstrip(".").rsplit(".", 1)[1]) + 1
            notes.append(f"第{number}行您勾选了删除，但对方已修改了这一行，因此保留了这一行；如仍要删除，请再次勾选。")
        else:
            out.add(key, TICKED)
    return Merged(out, clashes, notes)


def _is_field(name: str) -> bool:
    return not name.startswith("_") and not name.endswith("._delete") and name not in (
        "csrf_token", "version", "base", CLASH) and not name.startswith(PICK)


def unpicked(form: Mapping[str, str] | MultiDict[str, str]) -> list[str]:
    """The clashing fields the clerk has not yet chosen for."""
    names = form.getlist(CLASH) if isinstance(form, MultiDict) else []
    return [n for n in names if form.get(PICK + n) not in ("mine", "theirs")]


def with_picks(form: MultiDict[str, str], theirs: dict[str, str]) -> MultiDict[str, str]:
    """The form with each field where the clerk chose the current version set to it."""
    out = MultiDict(form)
    for name in form.getlist(CLASH):
        if form.get(PICK + name) == "theirs":
            out.poplist(name)
            if theirs.get(name):
                out[name] = theirs[name]
    return out
