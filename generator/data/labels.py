"""Name a field path like ('items', 3, 'amount'): for a message that a developer may act on too,
'items[3].amount（预算项目[3].金额（元））' (`field_label`); for a clerk's change list,
'预算项目第4项·金额（元）' (`clerk_label`)."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model class inside list[...] / X | None, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


def model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the last key of loc, or None where the path leaves the models."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        info = current.model_fields.get(str(part))
        current = _inner_model(info.annotation) if info else None
    return current


def field_label(model: type[BaseModel], loc: tuple[Any, ...], base: tuple[Any, ...] = ()) -> str:
    """Both the key path a developer types and the Chinese names a clerk reads."""
    keys: list[str] = []
    names: list[str] = []
    for part in base:
        if isinstance(part, int):
            keys[-1] += f"[{part}]"
        else:
            keys.append(str(part))
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            if keys:
                keys[-1] += f"[{part}]"
            if names:
                names[-1] += f"[{part}]"
            continue
        keys.append(str(part))
        info = current.model_fields.get(str(part)) if current else None
        names.append(info.title if info and info.title else str(part))
        current = _inner_model(info.annotation) if info else None
    key_path = ".".join(keys)
    name_path = ".".join(names)
    return f"{key_path}（{name_path}）" if name_path and name_path != key_path else key_path


def clerk_label(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The Chinese names alone, rows counted from 1, as a change list shows them to a clerk:
    ('items', 2, 'quantity') → 预算项目第3项·数量."""
    names: list[str] = []
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            if names:
                names[-1] += f"第{part + 1}项"
            continue
        info = current.model_fields.get(str(part)) if current else None
        names.append(info.title if info and info.title else str(part))
        current = _inner_model(info.annotation) if info else None
    return "·".join(names)
