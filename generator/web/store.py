"""The data folder as the web front end reads it: one state, changed file by file.

The same folder the command line reads and writes. A state (Loaded) is what requests read,
without a lock: a change makes a new state that shares whatever it did not touch and is put
in place in one assignment, so a request never sees half a change and never waits for a
reload. How changes are found and applied (docs/architecture.md, "The web's data store"):

- a save through the web applies the files it wrote before its response (Store.save_lock);
- each request compares the modification times of the folders the loader reads (a dozen
  stats): writing a file by replacing it, as this program and most tools do, changes them;
- at most every CHECK_SECONDS one request stats the files themselves, for a file changed in
  place (a text editor);
- a changed project file is read and checked alone (check_project), with the figures of its
  plan row taken out of the dashboard's sums and its new ones put in; a roster likewise; a
  template drops the compiled templates; any other file (the plan, the programme, the
  districts, the catalogue, a report) reloads the whole folder in a background thread while
  requests go on reading the state before it.

The state is also kept in the instance folder (CACHE_FILE), so a restart reads only the files
changed since.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator import ROOT
from generator.data import sealed
from generator.data.loader import DataSet, load, read_project, read_report, read_roster
from generator.data.models import Project
from generator.data.satisfaction import SATISFACTION
from generator.data.votes import VOTES
from generator.data.yamlio import gc_paused
from generator.documents import returns
from generator.documents.kinds import KINDS, Kind, community_target, kinds_of
from generator.documents.progress import Stats, Tally, assemble, concerns, places, row_tally
from generator.errors import DataError, Problem
from generator.intake.writelock import WriteLock
from generator.output.pipeline import NO_PROJECT, Renderers, render_document
from generator.render.ziputil import deflate, write_zip
from generator.rules.checks import Finding, check_plan, check_project, check_report, report_file

CHECK_SECONDS = 2.0
"""How often, at most, the files themselves are looked at for a change made in place."""
WAIT_SECONDS = 3.0
"""A request waits for a reload of the whole folder when the last one took no longer than this;
otherwise it is answered from the state before the change while the reload runs."""
KEEP_AFTER_SECONDS = 3.0
"""How long after a load the state is written to the instance folder (see Store._keep)."""
FULL_FROM = 500
"""Changed files from which the whole folder is reloaded rather than file by file."""
CACHE_FILE = "data-state.pickle"
"""The last state, in the instance folder."""

PROJECTS_DIR = "projects"
SEALED = ".csv" + sealed.SUFFIX
"""A resident file kept sealed at the 第三级."""
OWNERS_FOLDERS = (VOTES, SATISFACTION)
"""Owners' votes and satisfaction surveys: few files, read again with the whole folder when one changes."""
Stamp = tuple[int, int, int]
"""A file's modification time (ns), size and inode: a file replaced gets a new inode."""


def scan(root: Path) -> dict[str, Stamp]:
    """Every file the loader reads, by path relative to the data folder, with its stamp."""
    out: dict[str, Stamp] = {}

    def files(rel: str, suffixes: tuple[str, ...], deep: bool = False) -> None:
        try:
            entries = os.scandir(root / rel if rel else root)
        except OSError:
            return
        with entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                name = f"{rel}/{entry.name}" if rel else entry.name
                if entry.name.endswith(suffixes) and entry.is_file():
                    st = entry.stat()
                    out[name] = (st.st_mtime_ns, st.st_size, st.st_ino)
                elif deep and entry.is_dir():
                    files(name, suffixes, deep)

    files("", (".yaml",))
    files(PROJECTS_DIR, (".yaml",))
    files("rosters", (".csv", SEALED))
    for rel in OWNERS_FOLDERS:  # a change there reloads the whole folder
        files(rel, (".yaml", ".csv", SEALED))
    for year in _subfolders(root, "reports"):
        files(year, (".yaml",))
    files("templates", (".docx", ".xlsx"), deep=True)
    return out


def _subfolders(root: Path, rel: str) -> list[str]:
    try:
        with os.scandir(root / rel) as entries:
            return [f"{rel}/{e.name}" for e in entries if e.is_dir() and not e.name.startswith(".")]
    except OSError:
        return []


def folder_stamps(root: Path) -> tuple[tuple[str, int], ...]:
    """The modification times of the folders scan() reads (not of the templates' own folders)."""
    out = []
    for rel in ("", PROJECTS_DIR, "rosters", *OWNERS_FOLDERS, "reports", *_subfolders(root, "reports"),
                "templates"):
        try:
            out.append((rel, os.stat(root / rel).st_mtime_ns))
        except OSError:
            out.append((rel, 0))
    return tuple(out)


@functools.cache
def code_version() -> str:
    """A hash of the program's source: a state kept by another version is not used."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "generator").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class Loaded:
    """One state of the data folder and what is worked out from it, each part by community."""

    data: DataSet
    renderers: Renderers
    plan_found: dict[str, list[Finding]]
    """By community: the findings of the plan rules (check_plan) on its plan row."""
    project_found: dict[str, list[Finding]]
    """By community: its project file's findings (check_project) that name its plan row."""
    loose: dict[str, list[Finding]]
    """By community, where any: its project's findings that name no plan row (a roster's rows)."""
    plan_general: list[Finding]
    """The plan rules' findings about the programme rather than a plan row."""
    offices: dict[str, str]
    """Each project's street office: the permission check reads it for every community listed."""
    stages: dict[str, str]
    """Each project's stage, for the lists' filters without unpacking every project."""
    tallies: dict[str, Tally]
    """Each plan row's figures (active rows only)."""
    cells: dict[tuple[int, str], Tally]
    """The sums of tallies by (year, district): the dashboard of any scope is made from these."""
    stamps: dict[str, Stamp]
    cache: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Memos by community (or other key), then by what: kept when another community changes."""
    views: dict[str, Any] = field(default_factory=dict)
    """Memos of this state as a whole (the dashboards): made again after any change."""

    def memo(self, what: str, key: str, make: Callable[[], Any]) -> Any:
        """A value worked out once for a community (key) until that community's files change."""
        mine = self.cache.setdefault(key, {})
        if what not in mine:
            mine[what] = make()
        return mine[what]

    def view(self, key: str, make: Callable[[], Any]) -> Any:
        """A value worked out once for this state."""
        if key not in self.views:
            self.views[key] = make()
        return self.views[key]

    @property
    def general(self) -> list[Finding]:
        """Findings about the programme rather than a plan row."""
        return self.plan_general + [f for found in self.loose.values() for f in found]

    def counts(self, community_id: str) -> tuple[int, int]:
        """The errors and warnings on a plan row."""
        found = self.plan_found.get(community_id, []) + self.project_found.get(community_id, [])
        errors = sum(1 for f in found if f.severity == "error")
        return errors, len(found) - errors

    def stats(self, districts: list[str]) -> Stats:
        """The dashboard of these districts, from the sums kept up to date (no row read again)."""
        def make() -> Stats:
            whole = len(districts) == len(self.data.districts)
            cells = {k: v for k, v in self.cells.items() if k[1] in districts}
            return assemble(self.data, cells, districts, self.general if whole else [])

        return self.view("stats:" + "|".join(districts), make)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- making a state


def _project_findings(data: DataSet, community_id: str) -> tuple[list[Finding], list[Finding]]:
    """A project's findings: those on its plan row, and those naming no plan row."""
    c = data.communities[community_id]
    own: list[Finding] = []
    loose: list[Finding] = []
    for f in check_project(data, community_id):
        (own if concerns(f, c) else loose).append(f)
    return own, loose


def build(data: DataSet, renderers: Renderers, stamps: dict[str, Stamp],
          progress: Callable[[int, int], None] | None = None) -> Loaded:
    """A state made from a data set loaded whole: every rule run, every plan row added up
    (progress: told the communities checked so far and how many there are)."""
    building = Building(renderers, stamps)
    return building.finish(data, progress)


class Building:
    """A state made while the data set is read: each project checked and added up as it joins
    (load's `joined`), the plan rows without a project at the end."""

    def __init__(self, renderers: Renderers | None, stamps: dict[str, Stamp]) -> None:
        self.renderers, self.stamps = renderers, stamps
        self.now: Loaded | None = None

    def joined(self, data: DataSet, community_id: str) -> None:
        """One project has joined the data set (everything but the other projects is there)."""
        _recheck(self._begun(data), community_id)

    def finish(self, data: DataSet, progress: Callable[[int, int], None] | None = None) -> Loaded:
        """The state, once the data set is whole: what has not joined is checked now."""
        now = self._begun(data)
        now.data = data  # the same set as the one begun on, or a reload's
        done = now.project_found.keys() | now.tallies.keys()
        ids = [cid for cid in (*data.projects, *(c.id for c in data.active_communities()
                                                 if c.id not in data.projects)) if cid not in done]
        for count, cid in enumerate(ids, 1):
            _recheck(now, cid)
            if progress is not None and count % 100 == 0:
                progress(count, len(ids))
        return now

    def _begun(self, data: DataSet) -> Loaded:
        if self.now is None or self.now.data is not data:
            renderers = self.renderers if self.renderers is not None else Renderers(data, None)
            self.now = _begin(data, renderers, self.stamps)
        return self.now


def _begin(data: DataSet, renderers: Renderers, stamps: dict[str, Stamp]) -> Loaded:
    """A state with the plan rules' findings and no community checked yet."""
    where = places(data)
    plan_found: dict[str, list[Finding]] = {}
    general = []
    for f in check_plan(data):
        ids = where.get(f.where)
        if ids is None:
            general.append(f)
        for cid in ids or ():
            plan_found.setdefault(cid, []).append(f)
    return Loaded(data, renderers, plan_found, {}, {}, general, {}, {}, {}, {}, stamps)


def _recheck(now: Loaded, community_id: str) -> None:
    """Check one community again and put its figures in the sums (the state's dicts are its own)."""
    data = now.data
    project = data.projects.get(community_id)
    if project is not None:
        own, loose = _project_findings(data, community_id)
        now.project_found[community_id] = own
        if loose:
            now.loose[community_id] = loose
        else:
            now.loose.pop(community_id, None)
        now.offices[community_id] = project.street_office
        now.stages[community_id] = project.stage
        returns.digest(data, community_id)  # the returns' and the calendar's facts: read here, not by a dashboard
    else:
        for part in (now.project_found, now.loose, now.offices, now.stages):
            part.pop(community_id, None)
    now.cache.pop(community_id, None)
    c = data.communities.get(community_id)
    old = now.tallies.pop(community_id, None)
    key = (c.year, c.district) if c is not None else None
    if old is not None and key is not None:
        now.cells[key] = now.cells[key] - old
    if c is not None and c.status == "planned":
        tally = row_tally(data, c, *now.counts(community_id))
        now.tallies[community_id] = tally
        assert key is not None
        now.cells[key] = now.cells.get(key, Tally()) + tally


def _changed(old: Loaded, data: DataSet, ids: set[str], stamps: dict[str, Stamp]) -> Loaded:
    """A new state: old with these communities checked and added up again over data."""
    now = Loaded(data, old.renderers, old.plan_found, dict(old.project_found), dict(old.loose), old.plan_general,
                 dict(old.offices), dict(old.stages), dict(old.tallies), dict(old.cells), stamps, dict(old.cache))
    for cid in sorted(ids):
        _recheck(now, cid)
    return now


def _project_file(now: Loaded, path: Path) -> Loaded:
    """The state with one project file read again (changed, added or removed)."""
    data = now.data
    before = None
    if data.sources.get(f"project:{path.stem}") == path:  # the usual name: <community id>.yaml
        before = path.stem
    else:
        before = next((k.split(":", 1)[1] for k, v in data.sources.items() if v == path and k.startswith("project:")),
                      None)
    project = read_project(data, path, replacing=before) if path.exists() else None
    projects, sources = data.projects.copy(), dict(data.sources)  # type: ignore[attr-defined]
    if before is not None:
        del projects[before]
        del sources[f"project:{before}"]
    if project is not None:
        projects[project.community] = project
        sources[f"project:{project.community}"] = path
    ids = {i for i in (before, project.community if project else None) if i is not None}
    return _changed(now, replace(data, projects=projects, sources=sources), ids, now.stamps)


def _roster_file(now: Loaded, path: Path) -> Loaded:
    """The state with one household roster read again: the one file of its community, plain or sealed (the
    other form gone is the record switched, not removed)."""
    data = now.data
    rosters, sources = dict(data.rosters), dict(data.sources)
    community, held = sealed.stem(path), sealed.which(sealed.plain_name(path))
    if held is not None:
        rosters[community] = read_roster(data, held)
        sources[f"roster:{community}"] = held
    else:
        rosters.pop(community, None)
        sources.pop(f"roster:{community}", None)
    ids = {community} if community in data.projects else set()
    return _changed(now, replace(data, rosters=rosters, sources=sources), ids, now.stamps)


def _report_file(now: Loaded, path: Path) -> Loaded:
    """The state with one report file read again (changed, added or removed): its findings are
    the only ones that change (the district report pages' text is saved one file at a time)."""
    data = now.data
    before = next(((name, int(year)) for k, v in data.sources.items() if v == path and k.startswith("report:")
                   for name, year in [k.split(":", 2)[1:]]), None)
    report = read_report(data, path, replacing=before) if path.exists() else None
    reports, sources = dict(data.reports), dict(data.sources)
    if before is not None:
        del reports[before]
        del sources[f"report:{before[0]}:{before[1]}"]
    if report is not None:
        reports[(report.district, report.year)] = report
        sources[f"report:{report.district}:{report.year}"] = path
    gone = {report_file(data, before)} if before is not None else set()
    data = replace(data, reports=reports, sources=sources)
    general = [f for f in now.plan_general if f.file not in gone]
    if report is not None:
        general += check_report(data, (report.district, report.year))
    general.sort(key=lambda f: f.severity != "error")
    return replace(now, data=data, plan_general=general, views={})


# ---------------------------------------------------------------- the store


class Loading(DataError):
    """The data folder is being read for the first time: no page may show figures yet."""

    def __init__(self, root: Path, step: str, done: int, total: int) -> None:
        self.step, self.done, self.total = step, done, total
        share = f"，{step}已完成 {done} / {total}（{done * 100 // total}%）" if total else ""
        self.message = (f"服务刚刚启动，正在读取数据文件夹{share}。读取完成前页面不显示任何数据，"
                        "请稍候，本页会自动刷新。")
        super().__init__([Problem(root, self.message)])



class Store:
    """The data folder: its current state, changed file by file as the files change."""

    def __init__(self, root: Path, cache: Path | None = None, check_seconds: float = CHECK_SECONDS) -> None:
        self.root = root.resolve()
        self.cache_file = cache
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        """Held while changes are found and applied (never during a reload of the whole folder)."""
        self._loaded: Loaded | None = None
        self._error: DataError | None = None
        self._folders: tuple[tuple[str, int], ...] = ()
        self._checked = 0.0
        self._reload: threading.Thread | None = None
        self._reload_seconds = float("inf")
        """How long the last reload of the whole folder took (unknown after a start from the kept state)."""
        self._tried: dict[str, Stamp] | None = None
        """The files as the last reload of the whole folder found them."""
        self._since_cache = 0
        self._writer = WriteLock(self.root)
        """One save at a time, in this process and between processes (gaizao backup, the imports)."""
        self._written: list[Path] = []
        """Files a save under save_lock said it wrote: applied without looking at the others."""
        self.render_lock = threading.Lock()
        """Compiled templates are shared by the server's threads: one render at a time."""
        self.reloads = 0
        """Reloads of the whole folder so far (for tests and the benchmark)."""
        self.answer_while_loading = False
        """Whether requests are answered (with Loading) while the folder is read the first time,
        instead of waiting for it (the server: its pages that need no data are there at once)."""
        self._progress: tuple[str, int, int] = ("", 0, 0)

    @property
    @contextmanager
    def save_lock(self) -> Iterator[None]:
        """Held while files are checked and replaced, one save at a time; what was written is
        applied to the state before the lock is let go, so the next page shows it."""
        with self._writer:
            self._written = []
            try:
                yield
            finally:
                with self._lock:
                    if self._written:
                        self._apply_written()
                    else:
                        self._sync()

    def wrote(self, path: Path) -> None:
        """Say, under save_lock, that a project file was written: only it is read again when the lock
        is let go (a change of another file at the same moment is seen at the next look at the files)."""
        self._written.append(path)

    def _apply_written(self) -> None:
        base = self._loaded
        if base is None or self._error is not None or self._reload is not None:
            self._sync()
            return
        stamps = dict(base.stamps)
        now = base
        try:
            for path in self._written:
                rel = path.relative_to(self.root).as_posix()
                now = _project_file(now, path)
                st = path.stat()
                stamps[rel] = (st.st_mtime_ns, st.st_size, st.st_ino)
        except (DataError, OSError, ValueError):
            self._sync()
            return
        now.stamps = stamps
        self._loaded = now
        self._folders = folder_stamps(self.root)
        self._since_cache += len(self._written)

    def current(self) -> Loaded:
        """The data set as the folder holds it now; DataError when the folder does not load."""
        folders = folder_stamps(self.root)
        changed = folders != self._folders
        if changed or time.monotonic() - self._checked >= self.check_seconds:
            # A changed folder means a file was written: wait for it (at most one save's work).
            # A look on the clock only: another request already looking is enough.
            if self._lock.acquire(blocking=changed or self._loaded is None):
                try:
                    self._sync()
                finally:
                    self._lock.release()
        reload = self._reload
        first = self._loaded is None and self._error is None
        if reload is not None and first and self.answer_while_loading:
            raise Loading(self.root, *self._progress)
        if reload is not None and (first or self._reload_seconds <= WAIT_SECONDS):
            reload.join(None if first else max(10.0, 4 * self._reload_seconds))
        if self._error is not None:
            raise self._error
        assert self._loaded is not None
        return self._loaded

    def start(self) -> None:
        """Begin reading the folder (the kept state, or the whole folder in the background) without
        waiting for a whole folder's read: until it is done, current() raises Loading."""
        self.answer_while_loading = True
        with self._lock:
            self._sync()

    @property
    def loading(self) -> bool:
        """Whether the folder is being read for the first time (nothing to show yet)."""
        return self._reload is not None and self._loaded is None and self._error is None

    @property
    def reloading(self) -> bool:
        """Whether the whole folder is being loaded again while requests read the state before it."""
        return self._reload is not None and self._loaded is not None and self._error is None

    def sync(self) -> None:
        """Apply every change of the folder now."""
        with self._lock:
            self._sync()

    def _sync(self) -> None:
        self._checked = time.monotonic()
        self._folders = folder_stamps(self.root)
        stamps = scan(self.root)
        base = self._loaded
        if base is None and self._reload is None and self._error is None:
            self._restore(stamps)
            base = self._loaded
        if self._reload is not None:
            return  # it looks again when it is done
        if base is None or self._error is not None:
            if stamps != self._tried:
                self._start_reload()
            return
        if stamps == base.stamps:
            return
        changed = sorted(k for k in stamps.keys() | base.stamps.keys() if stamps.get(k) != base.stamps.get(k))
        whole = [k for k in changed if not k.startswith((f"{PROJECTS_DIR}/", "rosters/", "templates/", "reports/"))]
        if whole or len(changed) > FULL_FROM:
            self._start_reload()
            return
        now = base
        try:
            for rel in changed:
                path = self.root / rel
                if rel.startswith("templates/"):
                    now = replace(now, renderers=Renderers(now.data, None), cache={}, views={})
                elif rel.startswith("rosters/"):
                    now = _roster_file(now, path)
                elif rel.startswith("reports/"):
                    now = _report_file(now, path)
                else:
                    now = _project_file(now, path)
        except DataError:
            self._start_reload()  # the whole folder's problems are told, as a full load tells them
            return
        now.stamps = stamps
        self._loaded = now
        self._since_cache += len(changed)
        if self._since_cache >= FULL_FROM:
            self._keep(now)

    def _start_reload(self) -> None:
        if self._reload is not None:
            return
        thread = threading.Thread(target=self._reload_whole, name="gaizao-reload", daemon=True)
        self._reload = thread
        thread.start()

    def _reload_whole(self) -> None:
        """Load the whole folder (no lock held, requests go on reading the state before it)."""
        start = time.monotonic()
        stamps = scan(self.root)  # before reading: a file changed while loading is seen as changed after
        renderers = self._loaded.renderers if self._loaded is not None else None
        try:
            templates = {k: v for k, v in stamps.items() if k.startswith("templates/")}
            same = self._loaded is not None and templates == \
                {k: v for k, v in self._loaded.stamps.items() if k.startswith("templates/")}
            building = Building(renderers if same and renderers else None, stamps)
            with gc_paused():
                data = load(self.root, progress=lambda done, total: self._told("读取并检查项目资料", done, total),
                            joined=building.joined)
                now: Loaded | None = building.finish(data, lambda done, total: self._told("检查数据", done, total))
            error = None
        except DataError as exc:
            now, error = None, exc
        except Exception as exc:  # noqa: BLE001 - never left "being read" for ever: pages name it
            why = f"读取数据文件夹时出现意外错误（{type(exc).__name__}：{exc}），请联系系统管理员查看服务日志"
            now, error = None, DataError([Problem(self.root, why)])
        with self._lock:
            if now is not None:
                self._loaded, self._error = now, None
            else:
                self._error = error
            self._tried = stamps
            self._reload_seconds = time.monotonic() - start
            self.reloads += 1
            self._reload = None
        if now is not None:
            self._keep(now)
        self.sync()  # what changed while loading

    def _told(self, step: str, done: int, total: int) -> None:
        self._progress = (step, done, total)

    def warm(self) -> None:
        """Load the data folder and compile every community template now, not on the first download."""
        reload = self._reload
        if reload is not None and self._loaded is None:
            reload.join()  # the first read, begun by start()
        loaded = self.current()
        returns.digest_all(loaded.data)  # a state kept by the last run has not read them
        for kind in kinds_of("community"):
            if kind.template is not None:
                for district in [None, *loaded.data.districts]:
                    path = loaded.renderers.locate(kind, district)
                    loaded.renderers.compiled(path, blocks=kind.blocks)

    # ------------------------------------------------------------ the state kept between runs

    def _restore(self, stamps: dict[str, Stamp]) -> None:
        """The state kept by the last run, when it was this program's over this folder."""
        if self.cache_file is None or not self.cache_file.is_file():
            return
        try:
            with self.cache_file.open("rb") as fh:
                if fh.read(len(sealed.MAGIC)) == sealed.MAGIC.encode():
                    # kept sealed (the 第三级): the residents it holds are opened with the folder's key
                    fh.seek(0)
                    kept = pickle.loads(sealed.unseal(sealed.ring(self.root).key(), fh.read(), self.cache_file))
                else:
                    fh.seek(0)
                    kept = pickle.load(fh)  # the instance folder is the server's own, like its secret key
            version, root, parts = kept
        except Exception:  # noqa: BLE001 - a damaged or old file is only a slower start
            return
        if version != code_version() or root != str(self.root):
            return
        data = parts[0]
        self._loaded = Loaded(data, Renderers(data, None), *parts[1:])
        self._folders = ()  # compare the files now

    def _keep(self, now: Loaded) -> None:
        """Write the state to the instance folder in the background (replacing the file in one step)."""
        if self.cache_file is None:
            return
        self._since_cache = 0
        path = self.cache_file

        def write() -> None:
            parts = (now.data, now.plan_found, now.project_found, now.loose, now.plan_general, now.offices,
                     now.stages, now.tallies, now.cells, now.stamps)
            tmp = path.with_name(f".{path.name}.{threading.get_ident()}")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with tmp.open("wb") as fh:
                    kept = (code_version(), str(self.root), parts)
                    if sealed.sealing(self.root):
                        # the state holds the rosters, ballots and answers read: sealed like their files
                        raw = pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL)
                        fh.write(sealed.seal(sealed.ring(self.root).key(), raw))
                    else:
                        pickle.dump(kept, fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)
            except Exception:  # noqa: BLE001 - not kept: the next start reads the whole folder
                tmp.unlink(missing_ok=True)

        # Begun a little later: pickling a province's state holds the interpreter for a while, and
        # the pages asked for as soon as a first read is done would wait for it.
        keeper = threading.Timer(KEEP_AFTER_SECONDS, write)
        keeper.name, keeper.daemon = "gaizao-keep", True
        keeper.start()

    # ------------------------------------------------------------ a project's file

    def project_path(self, loaded: Loaded, community_id: str) -> Path:
        """The project file of a community (known to the data set; never a path from a request)."""
        known = loaded.data.sources.get(f"project:{community_id}")
        return known if known is not None else self.root / PROJECTS_DIR / f"{community_id}.yaml"

    def version(self, loaded: Loaded, community_id: str) -> str:
        """The version a form was loaded from: a hash of the project file's bytes."""
        return file_version(self.project_path(loaded, community_id))


def file_version(path: Path) -> str:
    """A hash of a file's bytes, or "new" for a file not yet there: what a form was loaded from."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else "new"


def findings_of(loaded: Loaded, community_id: str) -> list[Finding]:
    """The findings `gaizao validate` prints that concern one community, errors first."""
    found = loaded.plan_found.get(community_id, []) + loaded.project_found.get(community_id, [])
    return sorted(found, key=lambda f: f.severity != "error")


def candidate_findings(loaded: Loaded, project: Project) -> list[Finding]:
    """The rules' findings on a project as a form would save it, before it is saved."""
    view = replace(loaded.data, projects={project.community: project})
    c = loaded.data.communities[project.community]
    return [f for f in check_project(view, project.community) if f.where == f"{c.id} {c.name}"]


@dataclass(frozen=True)
class Availability:
    kind: Kind
    reason: str | None
    """Why it cannot be made yet, or None."""
    name: str = ""
    """The file it downloads as (the wording's file.<kind>)."""


BLANK_FORMS = ("survey",)
"""Papers made before the data they would check exists (the 居民意见征询表)."""
BLANK_FORM_RULES = ("SURVEY", "ROSTER")
"""The rules whose errors concern what a blank form prints."""


def documents_of(loaded: Loaded, community_id: str) -> list[Availability]:
    """Each community document and why it cannot be made yet: no project, a rule error, kind.needs."""
    return list(loaded.memo("documents", community_id, lambda: _documents_of(loaded, community_id)))


def _documents_of(loaded: Loaded, community_id: str) -> list[Availability]:
    data = loaded.data
    errors = [f for f in findings_of(loaded, community_id) if f.severity == "error"]
    out = []
    target = community_target(data, community_id)
    for kind in kinds_of("community"):
        if kind.optional is not None and kind.optional(data, target):
            continue  # no vote or survey in this community: nothing to list
        # The blank survey form goes door to door before anything else is known: only an error in
        # what it prints (the survey, the roster) holds it back.
        blocking = [f for f in errors if f.rule.startswith(BLANK_FORM_RULES)] if kind.key in BLANK_FORMS else errors
        if community_id not in data.projects:
            reason: str | None = NO_PROJECT
        elif blocking:
            reason = f"数据有{len(blocking)}处错误，改正后才能生成"
        else:
            reason = kind.needs(data, target)
        out.append(Availability(kind, reason, kind.file_name(data, target)))
    return out


def document(loaded: Loaded, community_id: str, key: str, masked: bool = False) -> tuple[str, bytes]:
    """One document's file name and bytes; the caller has checked it can be made. masked: residents
    masked on papers that print them in full (a copy for anyone but the street office)."""
    kind = KINDS[key]
    target = replace(community_target(loaded.data, community_id), masked=masked)
    return kind.file_name(loaded.data, target), render_document(loaded.data, kind, target, loaded.renderers)


def packet(loaded: Loaded, community_id: str, available: list[Availability] | None = None,
           masked: bool = False) -> bytes:
    """Every document that can be made now (of available, by default documents_of), as one zip
    named as a build names them."""
    entries = []
    for a in documents_of(loaded, community_id) if available is None else available:
        if a.reason is None:
            name, payload = document(loaded, community_id, a.kind.key, masked)
            entries.append(deflate(name, payload))
    return write_zip(entries)
