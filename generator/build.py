"""Plan and build documents: which documents the data allows, rendered from templates into the output folder."""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import multiprocessing
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from generator.errors import DataError, Problem, TemplateError
from generator.kinds import PROJECT_KINDS, Kind
from generator.loader import DataSet
from generator.models import Community
from generator.render_docx import CompiledDocx
from generator.rules import check_all
from generator.templates import find_template, search_dirs
from generator.writer import Entry, Output, sha256

if TYPE_CHECKING:  # openpyxl is imported only when a build has an Excel template
    from generator.render_xlsx import CompiledXlsx

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


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


def data_hash(context: dict[str, Any]) -> str:
    """A hash of everything a document was made from."""
    text = json.dumps(context, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Selection:
    """Which documents to build."""

    kinds: tuple[str, ...] = ()
    district: str | None = None
    year: int | None = None
    project: str | None = None

    def check(self, data: DataSet) -> None:
        problems = []
        for k in self.kinds:
            if k not in PROJECT_KINDS:
                problems.append(f"未知的文书种类“{k}”，可选：{'、'.join(PROJECT_KINDS)}")
        if self.district and self.district not in data.districts:
            problems.append(f"未知的县（区）“{self.district}”，可选：{'、'.join(data.districts)}")
        if self.project and self.project not in data.communities:
            problems.append(f"未知的小区编号“{self.project}”")
        if problems:
            raise DataError([Problem("命令行参数", p) for p in problems])


@dataclass(slots=True)  # tens of thousands are planned at once
class Job:
    kind: Kind
    community: Community
    path: str


@dataclass(slots=True)
class Skip:
    kind: Kind
    community: Community
    reason: str


class Documents(Sequence[Path]):
    """Paths of documents in an output folder, each Path made when read.

    Tens of thousands of Path objects would take some 15 MB; the relative paths are held anyway.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.rels: list[str] = []

    def __len__(self) -> int:
        return len(self.rels)

    @overload
    def __getitem__(self, index: int) -> Path: ...

    @overload
    def __getitem__(self, index: slice) -> list[Path]: ...

    def __getitem__(self, index: int | slice) -> Path | list[Path]:
        if isinstance(index, slice):
            return [self.out / rel for rel in self.rels[index]]
        return self.out / self.rels[index]


@dataclass
class BuildResult:
    out: Path
    written: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    skipped: list[Skip] = field(default_factory=list)
    paths: Sequence[Path] = field(default_factory=list)
    """Every document of the selection, written now or unchanged."""


def plan_jobs(data: DataSet, sel: Selection) -> tuple[list[Job], list[Skip]]:
    """Every document the selection asks for that the data allows, and why the rest are skipped."""
    jobs: list[Job] = []
    skips: list[Skip] = []
    kinds = [PROJECT_KINDS[k] for k in sel.kinds] if sel.kinds else list(PROJECT_KINDS.values())
    for c in data.active_communities():
        if sel.district and c.district != sel.district:
            continue
        if sel.year and c.year != sel.year:
            continue
        if sel.project and c.id != sel.project:
            continue
        project = data.projects.get(c.id)
        for kind in kinds:
            reason = "没有项目资料（data/projects/ 中无此小区）" if project is None else kind.needs(data, project)
            if reason:
                skips.append(Skip(kind, c, reason))
            else:
                jobs.append(Job(kind, c, f"{community_folder(c)}/{kind.file_name()}"))
    return jobs, skips


class Renderers:
    """Templates found and compiled once per process, by path."""

    def __init__(self, data: DataSet, templates_dir: Path | None):
        self.dirs = search_dirs(templates_dir, data.root)
        self._compiled: dict[Path, CompiledDocx | CompiledXlsx] = {}

    @classmethod
    def for_dirs(cls, dirs: list[Path]) -> Renderers:
        """Renderers over folders already chosen (in a worker process)."""
        self = cls.__new__(cls)
        self.dirs = dirs
        self._compiled = {}
        return self

    def locate(self, kind: Kind, district: str) -> Path:
        return find_template(kind.template, self.dirs, district)

    def compiled(self, template: Path, label: str | None = None) -> CompiledDocx | CompiledXlsx:
        """A Word or Excel template compiled once per process; label names it in messages."""
        compiled = self._compiled.get(template)
        if compiled is None:
            label = label or self.label(template)
            if template.suffix == ".xlsx":
                from generator.render_xlsx import CompiledXlsx

                compiled = CompiledXlsx(template, label)
            else:
                compiled = CompiledDocx(template, label)
            self._compiled[template] = compiled
        return compiled

    def docx(self, template: Path) -> CompiledDocx:
        """A Word template compiled once per process (printing binds Word documents only)."""
        compiled = self.compiled(template)
        if not isinstance(compiled, CompiledDocx):
            raise TemplateError(f"模板 {self.label(template)} 不是 Word 文件，不能装订打印")
        return compiled

    def render(self, template: Path, context: dict[str, Any], label: str | None = None) -> bytes:
        return self.compiled(template, label).render(context)

    def label(self, template: Path) -> str:
        for folder in self.dirs:
            if template.is_relative_to(folder):
                return str(template.relative_to(folder.parent))
        return str(template)


def refuse_on_errors(data: DataSet) -> None:
    """Documents are never made from data that breaks the programme's rules."""
    errors = [f for f in check_all(data) if f.severity == "error"]
    if errors:
        raise DataError([Problem(f.file, f"[{f.rule}] {f.message}", field=f"{f.where} {f.field}")
                         for f in errors])


_WORKER: dict[str, Renderers] = {}
"""Per worker process: its compiled templates, so each template is compiled once, not per document."""

PARALLEL_FROM = 24
"""Below this many documents a process pool costs more than it saves."""

WINDOW = 256
"""Documents whose contexts are in flight at once: memory stays flat however long the batch."""


Spec = tuple[str, str, dict[str, Any]]
"""What a worker renders a document from: template path, its label for messages, context."""


def _worker_init() -> None:
    _WORKER["renderers"] = Renderers.for_dirs([])


def _render(spec: Spec) -> tuple[bytes, str]:
    """Render one document from its template and context: (file bytes, data hash).

    Workers get the context, not the data set: they never touch the parent's records, so
    copy-on-write does not duplicate the data set in every worker.
    """
    template, label, context = spec
    return _WORKER["renderers"].render(Path(template), context, label), data_hash(context)


@contextmanager
def render_pool(workers: int) -> Iterator[Pool | None]:
    """Worker processes for rendering, started now; None for one worker.

    Start them before loading the data set. Workers forked from a process that holds it share
    its pages only until the parent writes to them, which it does throughout a build (reading
    a record, reusing a freed block); each page written is then held twice, which for 10,000
    communities came to some 80 MB.
    """
    if workers <= 1:
        yield None
        return
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    gc.freeze()  # forked workers' collections then leave the inherited objects, and their pages, alone
    try:
        pool = ctx.Pool(workers, _worker_init)
    finally:
        gc.unfreeze()
    with pool:
        yield pool


def _rendered(specs: Iterator[Spec], count: int, renderers: Renderers, workers: int,
              pool: Pool | None = None) -> Iterator[tuple[bytes, str]]:
    """Payloads in job order, from a process pool when the batch is large enough."""
    if count < PARALLEL_FROM or (pool is None and workers <= 1):
        _WORKER["renderers"] = renderers
        yield from map(_render, specs)
        return
    chunk = max(1, min(16, count // (workers * 4)))
    with nullcontext(pool) if pool is not None else render_pool(workers) as running:
        assert running is not None
        while window := list(itertools.islice(specs, WINDOW)):
            yield from running.imap(_render, window, chunksize=chunk)


def build(
    data: DataSet,
    out: Path,
    sel: Selection,
    *,
    force: bool = False,
    templates_dir: Path | None = None,
    workers: int = 1,
    progress: Callable[[list[Job]], Iterable[Job]] = lambda jobs: jobs,
    pool: Pool | None = None,
) -> BuildResult:
    """Build the selected documents into out; nothing is written when the data has errors.

    Rendering may run in a pool of worker processes (workers of them, or the given pool, best
    started by render_pool before the data set was loaded); writing stays in this one, in job
    order, so the output and the manifest are the same whatever the number of workers.
    """
    sel.check(data)
    refuse_on_errors(data)
    jobs, skips = plan_jobs(data, sel)
    renderers = Renderers(data, templates_dir)
    # One template path and label per kind and district, not per document: there are tens of thousands.
    places = dict.fromkeys((job.kind, job.community.district) for job in jobs)
    located = {(kind.key, district): str(renderers.locate(kind, district)) for kind, district in places}
    labels = {template: renderers.label(Path(template)) for template in located.values()}
    for template in labels:  # a broken template stops the build before any file
        renderers.compiled(Path(template))

    def specs() -> Iterator[Spec]:
        for job in jobs:
            template = located[job.kind.key, job.community.district]
            yield template, labels[template], job.kind.context(data, data.projects[job.community.id])

    documents = Documents(out)
    result = BuildResult(out=out, skipped=skips, paths=documents)
    with Output(out, force=force).session() as output:
        rendered = _rendered(specs(), len(jobs), renderers, workers, pool)
        for job, (payload, dhash) in zip(progress(jobs), rendered, strict=True):
            template = located[job.kind.key, job.community.district]
            entry = Entry(
                path=job.path, kind=job.kind.key, kind_name=job.kind.name,
                community=job.community.id, district=job.community.district, year=job.community.year,
                template=labels[template], sha256=sha256(payload), data_hash=dhash,
            )
            changed = output.write(entry, payload)
            documents.rels.append(job.path)
            (result.written if changed else result.unchanged)[job.kind.name] += 1
    return result
