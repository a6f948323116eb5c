"""Each community's street office as the permission check reads it: the project file's own, and for a
community without a project file yet, the street office the city or district assigned it to."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from typing import TYPE_CHECKING

from generator.errors import DataError
from generator.intake import assignments

if TYPE_CHECKING:
    from generator.web.store import Loaded


def table(now: Loaded) -> dict[str, str]:
    """The assignments of the data folder; a garbled file counts as none (the assign page says why)."""
    try:
        return assignments.read(now.data.root)
    except DataError:
        return {}


def offices(now: Loaded) -> Mapping[str, str]:
    """Each community's street office: the project file's, else (no file, or init's placeholder) the assignment."""
    assigned = table(now)
    if not assigned:
        return now.offices
    open_ = {cid: office for cid, office in assigned.items()
             if now.offices.get(cid, assignments.PLACEHOLDER).startswith(assignments.PLACEHOLDER)}
    return ChainMap(open_, now.offices)


def key(now: Loaded) -> str:
    """What a street account's scope depends on besides the state: the assignments file's stamp."""
    try:
        st = assignments.path_of(now.data.root).stat()
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}"
