"""The data folder as the web front end reads it: one DataSet, reloaded when any file changes.

The same folder the command line reads and writes; a change made there (or by hand) is seen
on the next request, since every request compares the folder's file stamps.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator.data.loader import DataSet, load
from generator.data.models import Project
from generator.documents.kinds import KINDS, Kind, community_target, kinds_of
from generator.errors import DataError
from generator.intake.writelock import WriteLock
from generator.output.pipeline import NO_PROJECT, Renderers, render_document
from generator.render.ziputil import deflate, write_zip
from generator.rules.checks import Finding, check_all


def _stamps(root: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in sorted(root.rglob("*")):
        if path.suffix in (".yaml", ".csv", ".docx", ".xlsx") and not path.name.startswith("."):
            st = path.stat()
            out.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(out)


@dataclass
class Loaded:
    """One state of the data folder and what is worked out from it once, not per request."""

    data: DataSet
    findings: list[Finding]
    renderers: Renderers
    offices: dict[str, str] = field(default_factory=dict)
    """Each project's street office: the permission check reads it for every community listed."""
    cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    """Findings and document availability by community, made on first use."""

    @classmethod
    def of(cls, data: DataSet, renderers: Renderers | None = None) -> Loaded:
        """What a data set gives; renderers kept from before when no template changed."""
        offices = {cid: p.street_office for cid, p in data.projects.items()}
        return cls(data, check_all(data), renderers or Renderers(data, None), offices)

    def memo(self, what: str, community_id: str, make: Callable[[], Any]) -> Any:
        key = (what, community_id)
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]


class Store:
    """The data folder, loaded once per change of its files."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._lock = threading.Lock()
        self._stamps: tuple[tuple[str, int, int], ...] | None = None
        self._loaded: Loaded | None = None
        self._error: DataError | None = None
        self.save_lock = WriteLock(self.root)
        """Held while a project file is checked and replaced: one save at a time, and no backup meanwhile."""
        self.render_lock = threading.Lock()
        """Compiled templates are shared by the server's threads: one render at a time."""

    def current(self) -> Loaded:
        """The data set as the folder holds it now; DataError when the folder does not load."""
        stamps = _stamps(self.root)
        with self._lock:
            if stamps != self._stamps:
                templates = [s for s in stamps if s[0].endswith((".docx", ".xlsx"))]
                same = self._loaded is not None and self._stamps is not None \
                    and templates == [s for s in self._stamps if s[0].endswith((".docx", ".xlsx"))]
                try:
                    data = load(self.root)
                    self._loaded = Loaded.of(data, self._loaded.renderers if same and self._loaded else None)
                    self._error = None
                except DataError as exc:
                    self._loaded, self._error = None, exc
                self._stamps = stamps
            if self._error is not None:
                raise self._error
            assert self._loaded is not None
            return self._loaded

    def warm(self) -> None:
        """Load the data folder and compile every community template now, not on the first download."""
        loaded = self.current()
        for kind in kinds_of("community"):
            if kind.template is not None:
                for district in [None, *loaded.data.districts]:
                    path = loaded.renderers.locate(kind, district)
                    loaded.renderers.compiled(path, blocks=kind.blocks)

    def project_path(self, loaded: Loaded, community_id: str) -> Path:
        """The project file of a community (known to the data set; never a path from a request)."""
        known = loaded.data.sources.get(f"project:{community_id}")
        return known if known is not None else self.root / "projects" / f"{community_id}.yaml"

    def version(self, loaded: Loaded, community_id: str) -> str:
        """The version a form was loaded from: a hash of the project file's bytes."""
        return file_version(self.project_path(loaded, community_id))


def file_version(path: Path) -> str:
    """A hash of a file's bytes, or "new" for a file not yet there: what a form was loaded from."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else "new"


def findings_of(loaded: Loaded, community_id: str) -> list[Finding]:
    """The findings `gaizao validate` prints that concern one community."""
    return list(loaded.memo("findings", community_id, lambda: _findings_of(loaded, community_id)))


def _findings_of(loaded: Loaded, community_id: str) -> list[Finding]:
    from generator.documents.progress import concerns

    c = loaded.data.communities[community_id]
    return [f for f in loaded.findings if concerns(f, c)]


def candidate_findings(loaded: Loaded, project: Project) -> list[Finding]:
    """The rules' findings on a project as a form would save it, before it is saved."""
    view = replace(loaded.data, projects={project.community: project})
    c = loaded.data.communities[project.community]
    return [f for f in check_all(view) if f.where == f"{c.id} {c.name}"]


@dataclass(frozen=True)
class Availability:
    kind: Kind
    reason: str | None
    """Why it cannot be made yet, or None."""


def documents_of(loaded: Loaded, community_id: str) -> list[Availability]:
    """Each community document and why it cannot be made yet: no project, a rule error, kind.needs."""
    return list(loaded.memo("documents", community_id, lambda: _documents_of(loaded, community_id)))


def _documents_of(loaded: Loaded, community_id: str) -> list[Availability]:
    data = loaded.data
    errors = [f for f in findings_of(loaded, community_id) if f.severity == "error"]
    out = []
    for kind in kinds_of("community"):
        if community_id not in data.projects:
            reason: str | None = NO_PROJECT
        elif errors:
            reason = f"数据有{len(errors)}处错误，改正后才能生成"
        else:
            reason = kind.needs(data, community_target(data, community_id))
        out.append(Availability(kind, reason))
    return out


def document(loaded: Loaded, community_id: str, key: str) -> tuple[str, bytes]:
    """One document's file name and bytes; the caller has checked it can be made."""
    kind = KINDS[key]
    target = community_target(loaded.data, community_id)
    return kind.file_name(), render_document(loaded.data, kind, target, loaded.renderers)


def packet(loaded: Loaded, community_id: str, available: list[Availability] | None = None) -> bytes:
    """Every document that can be made now (of available, by default documents_of), as one zip
    named as a build names them."""
    entries = []
    for a in documents_of(loaded, community_id) if available is None else available:
        if a.reason is None:
            name, payload = document(loaded, community_id, a.kind.key)
            entries.append(deflate(name, payload))
    return write_zip(entries)
