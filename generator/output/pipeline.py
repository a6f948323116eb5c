"""The one pipeline every command writes through: plan → render → write → manifest.

`build` (a community's packet), `report` (district and city documents) and `print` (bound
print files, generator.output.printing) each plan their jobs from the registry of kinds, then
hand them to `write_all`, which writes them in order through one Output session and returns a
Result. Rendering may run in a pool of worker processes; writing stays in this one, in job
order, so the output and the manifest are the same whatever the number of workers.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from multiprocessing.pool import Pool
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from generator.data.loader import DataSet
from generator.data.models import Community
from generator.documents.kinds import KINDS, Kind, Target, community_target, kinds_of
from generator.documents.paths import CITY, folder_key, safe_name
from generator.documents.project import contexts_reused
from generator.errors import DataError, OutputError, Problem, TemplateError
from generator.output.writer import Entry, Output, sha256
from generator.render.blocks import NO_BLOCKS, Blocks
from generator.render.docx import CompiledDocx
from generator.render.templates import find_template, search_dirs
from generator.render.wording import use_templates
from generator.rules.checks import check_all

if TYPE_CHECKING:  # openpyxl is imported only when a build has an Excel template
    from generator.render.xlsx import CompiledXlsx

NO_PROJECT = "没有项目资料（data/projects/ 中无此小区）"


def data_hash(context: dict[str, Any]) -> str:
    """A hash of everything a document was made from."""
    text = json.dumps(context, ensure_ascii=False, sort_keys=True, default=str, check_circular=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- plan


@dataclass
class Selection:
    """Which documents to make: kinds (none: every kind of the command), and for community
    kinds a district, a year or one project."""

    kinds: tuple[str, ...] = ()
    district: str | None = None
    year: int | None = None
    project: str | None = None
    blank_forms: int | None = None
    """Print this many blank household survey forms per community (see Target.blank_forms)."""
    all_forms: bool = False
    """Household forms for every community, its survey done or not (see Target.all_forms)."""
    month: int | None = None
    """For monthly kinds (the 进展统计月报): this month of sel.year instead of each year's default."""

    def check(self, data: DataSet, allowed: Sequence[Kind] | None = None) -> None:
        """Refuse kinds, districts and projects the data does not know."""
        problems = self.problems(data, allowed)
        if problems:
            raise DataError([Problem("命令行参数", p) for p in problems])

    def problems(self, data: DataSet, allowed: Sequence[Kind] | None = None) -> list[str]:
        allowed = kinds_of("community") if allowed is None else allowed
        keys = [k.key for k in allowed]
        problems = []
        for k in self.kinds:
            if k not in keys:
                problems.append(f"未知的文书种类“{k}”，可选：{'、'.join(keys)}")
        if self.district and self.district not in data.districts:
            problems.append(f"未知的县（区）“{self.district}”，可选：{'、'.join(data.districts)}")
        if self.project and self.project not in data.communities:
            problems.append(f"未知的小区编号“{self.project}”")
        if self.year is not None:
            problems.extend(year_problems(data, self.year))
        return problems

    def chosen(self, allowed: Sequence[Kind]) -> list[Kind]:
        """The kinds asked for; none named: every allowed kind."""
        return [KINDS[k] for k in self.kinds] if self.kinds else list(allowed)


def year_problems(data: DataSet, year: int) -> list[str]:
    """A --year the programme does not plan: nothing would be made, which must not pass silently."""
    if year in data.programme.years:
        return []
    years = "、".join(str(y) for y in data.programme.years)
    shown = str(year) if len(str(year)) <= 12 else f"{str(year)[:12]}…（{len(str(year))}位数）"
    return [f"年度 {shown} 不在方案计划年度（{years}）内"]


@dataclass(slots=True)  # tens of thousands are planned at once
class Planned:
    kind: Kind
    target: Target

    @property
    def community(self) -> Community:
        """The community of a community kind's document."""
        assert self.target.community is not None, "not a community kind"
        return self.target.community


@dataclass(slots=True)
class Job(Planned):
    """One document to make, and where it goes."""

    path: str


@dataclass(slots=True)
class Skip(Planned):
    """A document the selection asked for that the data does not allow yet, and why."""

    reason: str


def plan_jobs(data: DataSet, sel: Selection, allowed: Sequence[Kind] | None = None) -> tuple[list[Job], list[Skip]]:
    """Every document the selection asks for that the data allows, and why the rest are skipped.

    Community kinds: per community of the plan, in plan order, each kind in turn. District and
    city kinds: per kind, the documents of sel.year (or of every year the kind is made for).
    """
    kinds = sel.chosen(kinds_of("community") if allowed is None else allowed)
    jobs: list[Job] = []
    skips: list[Skip] = []
    packet = [k for k in kinds if k.scope == "community"]
    if packet:
        for c in data.active_communities():
            if sel.district and c.district != sel.district:
                continue
            if sel.year and c.year != sel.year:
                continue
            if sel.project and c.id != sel.project:
                continue
            target = community_target(data, c.id)
            if sel.blank_forms is not None or sel.all_forms:
                target = replace(target, blank_forms=sel.blank_forms, all_forms=sel.all_forms)
            for kind in packet:
                if kind.optional is not None and kind.key not in sel.kinds and kind.optional(data, target):
                    continue  # a paper this community has no matter for, not one it still lacks data for
                reason = NO_PROJECT if c.id not in data.projects else kind.needs(data, target)
                if reason:
                    skips.append(Skip(kind, target, reason))
                else:
                    jobs.append(Job(kind, target, kind.where(data, target)))
    # District and city kinds in the registry's order, whatever order they were asked in.
    for kind in sorted((k for k in kinds if k.scope != "community"), key=lambda k: k.number):
        assert kind.targets is not None
        for target in kind.targets(data, sel.year):
            if sel.month is not None and kind.monthly:
                target = replace(target, month=sel.month)
            reason = kind.needs(data, target)
            if reason:
                skips.append(Skip(kind, target, reason))
            else:
                jobs.append(Job(kind, target, kind.where(data, target)))
    return jobs, skips


def refuse_on_errors(data: DataSet) -> None:
    """Documents are never made from data that breaks the programme's rules."""
    errors = [f for f in check_all(data) if f.severity == "error"]
    if errors:
        raise DataError([Problem(f.file, f"[{f.rule}] {f.message}", field=f"{f.where} {f.field}")
                         for f in errors])


# ---------------------------------------------------------------- render


class Renderers:
    """Templates found and compiled once per process, by path."""

    def __init__(self, data: DataSet, templates_dir: Path | None):
        self.dirs = search_dirs(templates_dir, data.root)
        # the contexts (made in this process) say the templates folder's sentences too
        use_templates(data.root, templates_dir)
        self._compiled: dict[Path, CompiledDocx | CompiledXlsx] = {}

    @classmethod
    def for_dirs(cls, dirs: list[Path]) -> Renderers:
        """Renderers over folders already chosen (in a worker process)."""
        self = cls.__new__(cls)
        self.dirs = dirs
        self._compiled = {}
        return self

    def locate(self, kind: Kind, district: str | None) -> Path:
        assert kind.template is not None
        return find_template(kind.template, self.dirs, safe_name(district) if district else None)

    def compiled(self, template: Path, label: str | None = None,
                 blocks: Blocks = NO_BLOCKS) -> CompiledDocx | CompiledXlsx:
        """A Word or Excel template compiled once per process; label names it in messages."""
        compiled = self._compiled.get(template)
        if compiled is None:
            label = label or self.label(template)
            if template.suffix == ".xlsx":
                from generator.render.xlsx import CompiledXlsx

                compiled = CompiledXlsx(template, label, blocks)
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

    def render(self, template: Path, context: dict[str, Any], label: str | None = None,
               blocks: Blocks = NO_BLOCKS) -> bytes:
        return self.compiled(template, label, blocks).render(context)

    def source(self, kind: Kind) -> str:
        """What the manifest names as the template of a kind laid out in code: its row template
        as found (a city's copy or the built-in one), else the code's own name."""
        if kind.row_template is None:
            return kind.source
        return self.label(find_template(kind.row_template, self.dirs))

    def label(self, template: Path) -> str:
        for folder in self.dirs:
            if template.is_relative_to(folder):
                return str(template.relative_to(folder.parent))
        return str(template)


def render_document(data: DataSet, kind: Kind, target: Target, renderers: Renderers) -> bytes:
    """One document's bytes, as a build makes them (for a download, a preview or a test)."""
    if kind.layout is not None:
        return kind.lay_out(data, target, renderers.dirs)
    template = renderers.locate(kind, target.district)
    return renderers.render(template, kind.context(data, target), blocks=kind.blocks)


_WORKER: dict[str, Renderers] = {}
"""Per worker process: its compiled templates, so each template is compiled once, not per document."""

PARALLEL_FROM = 24
"""Below this many documents a process pool costs more than it saves."""

WINDOW = 256
"""Documents handed to the workers at once; two windows are in flight (one rendered, the next
queued), so memory stays flat however long the batch."""


Spec = tuple[str, str, Blocks, dict[str, Any]]
"""What a worker renders a document from: template path, its label for messages, the blocks
of its kind, context."""


def _worker_init() -> None:
    _WORKER["renderers"] = Renderers.for_dirs([])


def _render(spec: Spec) -> tuple[bytes, str]:
    """Render one document from its template and context: (file bytes, data hash).

    Workers get the context, not the data set: they never touch the parent's records, so
    copy-on-write does not duplicate the data set in every worker.
    """
    template, label, blocks, context = spec
    return _WORKER["renderers"].render(Path(template), context, label, blocks), data_hash(context)


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
        # The next window is handed to the workers before this one's payloads are taken: the
        # workers render while this process works out contexts and writes, never waiting on it.
        current = None
        while True:
            window = list(itertools.islice(specs, WINDOW))
            ahead = running.imap(_render, window, chunksize=chunk) if window else None
            if current is not None:
                yield from current
            if ahead is None:
                return
            current = ahead


# ---------------------------------------------------------------- write


class Documents(Sequence[Path]):
    """Paths of documents in an output folder, each Path made when read.

    Tens of thousands of Path objects would take some 15 MB; the relative paths are held anyway.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.rels: list[str] = []
        self.changed = bytearray()
        """1 where the document was written now, 0 where it was already there unchanged."""

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
class Result:
    """What a run wrote: counts by kind name, what was skipped and why, every document's path."""

    out: Path
    written: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    skipped: list[Skip] = field(default_factory=list)
    paths: Documents = field(init=False)
    """Every document of the selection, written now or unchanged."""
    bound: dict[str, int] = field(default_factory=dict)
    """Print files only: relative path → how many documents are bound in it."""

    def __post_init__(self) -> None:
        self.paths = Documents(self.out)


Then = Callable[[Output, "Result"], None]
"""A step run on what was written, inside the same output session (the PDF step): it holds the lock."""


def write_all(out: Path, force: bool, produced: Iterable[tuple[Entry, bytes]],
              skipped: list[Skip] | None = None, then: Then | None = None) -> Result:
    """Write each (entry, payload) in order through one output session; count what changed."""
    result = Result(out=out, skipped=skipped or [])
    documents = result.paths
    with Output(out, force=force).session() as output:
        for entry, payload in produced:
            changed = output.write(entry, payload)
            documents.rels.append(entry.path)
            documents.changed.append(changed)
            (result.written if changed else result.unchanged)[entry.kind_name] += 1
        if then is not None:
            then(output, result)
    return result


def refuse_colliding(jobs: Sequence[Job]) -> None:
    """Two documents planned for one path (as Windows compares names): one would replace the other."""
    first: dict[str, Job] = {}
    clashes = []
    for job in jobs:
        other = first.setdefault(folder_key(job.path), job)
        if other is not job:
            clashes.append(f"“{other.path}”与“{job.path}”是同一个文件（{_about(other)}；{_about(job)}）")
    if clashes:
        raise OutputError("以下文书会写到同一个文件、互相覆盖，未写入任何文件；请改用可区分的县（区）或小区名称：\n"
                          + "\n".join(f"  {c}" for c in clashes[:20]))


def _about(job: Job) -> str:
    t = job.target
    who = f"{t.community.id} {t.community.name}" if t.community is not None else (t.district or CITY)
    return f"{job.kind.name}：{who}"


def entry(job: Job, template: str, payload: bytes, dhash: str) -> Entry:
    """The manifest's record of one document of a job."""
    t = job.target
    return Entry(
        path=job.path, kind=job.kind.key, kind_name=job.kind.name,
        community=t.community.id if t.community is not None else "",
        district=t.district or CITY, year=t.year,
        template=template, sha256=sha256(payload), data_hash=dhash,
    )


def run(
    data: DataSet,
    out: Path,
    jobs: list[Job],
    skips: list[Skip],
    *,
    force: bool = False,
    templates_dir: Path | None = None,
    workers: int = 1,
    progress: Callable[[list[Job]], Iterable[Job]] = lambda jobs: jobs,
    pool: Pool | None = None,
    then: Then | None = None,
) -> Result:
    """Render the planned jobs and write them; a broken template stops the run before any file."""
    refuse_colliding(jobs)
    renderers = Renderers(data, templates_dir)
    # One template path and label per kind and district, not per document: there are tens of thousands.
    places = dict.fromkeys((job.kind, job.target.district) for job in jobs if job.kind.template)
    located = {(kind.key, district): str(renderers.locate(kind, district)) for kind, district in places}
    labels = {template: renderers.label(Path(template)) for template in located.values()}
    blocks = {located[kind.key, district]: kind.blocks for kind, district in places}
    for template in labels:
        renderers.compiled(Path(template), labels[template], blocks[template])

    def specs() -> Iterator[Spec]:
        for job in jobs:
            if job.kind.layout is None:
                template = located[job.kind.key, job.target.district]
                yield template, labels[template], job.kind.blocks, job.kind.context(data, job.target)

    # Kinds laid out in code (a few city workbooks) are made here from the data set; the rest
    # are rendered from their specs, in a pool when there are many.
    count = sum(1 for job in jobs if job.kind.layout is None)
    rendered = _rendered(specs(), count, renderers, workers, pool)

    def produced() -> Iterator[tuple[Entry, bytes]]:
        for job in progress(jobs):
            if job.kind.layout is not None:
                inputs = job.kind.context(data, job.target)  # hashed, and laid out: worked out once
                payload = job.kind.lay_out(data, job.target, renderers.dirs, inputs)
                source, dhash = renderers.source(job.kind), data_hash(inputs)
            else:
                payload, dhash = next(rendered)
                source = labels[located[job.kind.key, job.target.district]]
            yield entry(job, source, payload, dhash), payload

    # A community's documents follow one another in the jobs: its project's context is worked out once.
    with contexts_reused(data):
        return write_all(out, force, produced(), skips, then)


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
    then: Then | None = None,
) -> Result:
    """Build the selected communities' documents into out; nothing is written when the data has errors.

    Best give a pool started by render_pool before the data set was loaded. then (the PDF step)
    runs on what was written while the output folder is still locked.
    """
    sel.check(data)
    refuse_on_errors(data)
    jobs, skips = plan_jobs(data, sel)
    return run(data, out, jobs, skips, force=force, templates_dir=templates_dir, workers=workers,
               progress=progress, pool=pool, then=then)


def build_reports(
    data: DataSet,
    out: Path,
    kinds: tuple[str, ...] = (),
    year: int | None = None,
    force: bool = False,
    templates_dir: Path | None = None,
    month: int | None = None,
) -> Result:
    """Write the district and city documents into out, through the same manifest as the packets.

    month: the month of `year` the monthly kinds are made for (each year's default month without it).
    """
    allowed = kinds_of("district", "city")
    sel = Selection(kinds=kinds, year=year, month=month)
    problems = sel.problems(data, allowed)
    if problems:
        raise DataError([Problem("命令行参数", p) for p in problems])
    refuse_on_errors(data)
    jobs, skips = plan_jobs(data, sel, allowed)
    return run(data, out, jobs, skips, force=force, templates_dir=templates_dir)
