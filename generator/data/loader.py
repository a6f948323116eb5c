"""Load a data folder into one checked DataSet; every problem names its file, line and field."""

from __future__ import annotations

import difflib
import os
import pickle
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from generator import ROOT
from generator.data import sealed
from generator.data.labels import field_label, model_at
from generator.data.models import (
    CITY_REPORT,
    Catalogue,
    CatalogueItem,
    Community,
    District,
    DistrictReport,
    Plan,
    Programme,
    Project,
)
from generator.data.readers import read_all
from generator.data.roster import Roster, read_csv
from generator.data.satisfaction import SATISFACTION, Responses, SatisfactionSurvey, read_responses
from generator.data.votes import VOTES, Ballots, Vote, read_ballots
from generator.data.yamlio import BadDate, LazyLines, load_yaml
from generator.errors import DataError, Problem

M = TypeVar("M", bound=BaseModel)


class PackedProjects(MutableMapping[str, Project]):
    """Project records kept pickled, unpacked when read.

    A validated record takes about ten times the memory of its pickle; a province's data set of
    ten thousand projects then fits in some 35 MB instead of hundreds. (Compressed, half that, but
    inflating took a fifth of the unpacking a first start does for each project.) Reading one back
    costs some 100 microseconds; the last few read are kept unpacked.
    """

    def __init__(self) -> None:
        self._packed: dict[str, bytes] = {}
        self._recent: dict[str, Project] = {}
        self._plain: set[str] = set()
        """Records read from a file without a backslash: no escape, so no control character, in any text."""

    def __getitem__(self, key: str) -> Project:
        project = self._recent.get(key)
        if project is None:
            project = pickle.loads(self._packed[key])
            if len(self._recent) >= 8:
                self._recent.pop(next(iter(self._recent)))
            self._recent[key] = project
        return project

    def packed(self, key: str) -> bytes:
        """A record's packed form: the same object as long as the record is not replaced, so a
        figure worked out from a record can be kept under it."""
        return self._packed[key]

    def __setitem__(self, key: str, project: Project) -> None:
        self.put_packed(key, pack(project))

    def put_packed(self, key: str, packed: bytes, plain: bool = False) -> None:
        """Keep a record packed elsewhere (pack(), in a process that read its file); plain: its
        file held no backslash."""
        self._packed[key] = packed
        self._recent.pop(key, None)
        if plain:
            self._plain.add(key)
        else:
            self._plain.discard(key)

    def plain_text(self, key: str) -> bool:
        """Whether the record's texts are known to hold no control character (its file had no
        escape), so that the rule looking for them need not read them all."""
        return key in self._plain

    def __delitem__(self, key: str) -> None:
        del self._packed[key]
        self._recent.pop(key, None)
        self._plain.discard(key)

    def __contains__(self, key: object) -> bool:
        return key in self._packed  # the mixin's would unpack the record (and push out the recent ones)

    def get(self, key: str, default: Any = None) -> Any:
        """The record, or default without one (unpacked only when there)."""
        return self[key] if key in self._packed else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)

    def __getstate__(self) -> dict[str, Any]:
        return {"_packed": self._packed, "_plain": self._plain}  # the unpacked few change as other threads read

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._packed, self._recent, self._plain = state["_packed"], {}, state.get("_plain", set())

    def copy(self) -> PackedProjects:
        """Another mapping over the same packed records: a change to one leaves the other as it was."""
        other = PackedProjects()
        other._packed = dict(self._packed)
        other._plain = set(self._plain)
        return other

def pack(project: Project) -> bytes:
    """A project record as PackedProjects keeps it."""
    return pickle.dumps(project, protocol=pickle.HIGHEST_PROTOCOL)


BUNDLED_DATA = ROOT / "data"
PHOTOS = "photos"
"""The folder of the data folder that holds each community's photos, one folder per community id."""


@dataclass
class DataSet:
    """Everything one programme's documents are made from."""

    root: Path
    programme: Programme
    districts: dict[str, District]
    catalogue: Catalogue
    communities: dict[str, Community]
    projects: MutableMapping[str, Project] = field(default_factory=PackedProjects)
    reports: dict[tuple[str, int], DistrictReport] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    """Which file each record came from, keyed 'community:<id>', 'project:<id>' and so on."""
    rosters: dict[str, Roster] = field(default_factory=dict)
    """Household rosters (data/rosters/<id>.csv) by community id."""
    votes: dict[str, Vote] = field(default_factory=dict)
    """Owners' votes (data/votes/<vote id>.yaml) by vote id."""
    ballots: dict[str, Ballots] = field(default_factory=dict)
    """Returned ballots (data/votes/<vote id>.csv) by vote id."""
    satisfaction: dict[str, SatisfactionSurvey] = field(default_factory=dict)
    """Satisfaction surveys (data/satisfaction/<survey id>.yaml) by survey id."""
    responses: dict[str, Responses] = field(default_factory=dict)
    """Their returned questionnaires (data/satisfaction/<survey id>.csv) by survey id."""

    plain_communities: dict[str, Community] = field(default_factory=dict, repr=False, compare=False)
    """Plan rows read from a file without a backslash, so without a control character (see
    yamlio.LazyLines.escaped): the rule looking for them skips a row while it is this very record."""

    _items: tuple[Catalogue, dict[str, CatalogueItem]] | None = field(
        default=None, init=False, repr=False, compare=False)
    """The catalogue's items by name, with the catalogue they were read from."""

    @property
    def items(self) -> Mapping[str, CatalogueItem]:
        """The catalogue's items by name, read-only (rules ask for them once per budget line)."""
        # Kept with the catalogue object itself, not a flag: replace(data, catalogue=...) or an
        # assignment gives a new catalogue and so a new table; copies by replace() start empty.
        cached = self._items
        if cached is None or cached[0] is not self.catalogue:
            cached = (self.catalogue, {item.name: item for cat in self.catalogue.categories for item in cat.items})
            self._items = cached
        return MappingProxyType(cached[1])

    def photo_folder(self, community_id: str) -> Path:
        """Where a community's photos are: data/photos/<community id>/."""
        return self.root / PHOTOS / community_id

    def category_of(self, item_name: str) -> str:
        for cat in self.catalogue.categories:
            if any(item.name == item_name for item in cat.items):
                return cat.name
        raise KeyError(item_name)

    def active_communities(self) -> list[Community]:
        """Plan rows still in the plan, in plan order."""
        return sorted(
            (c for c in self.communities.values() if c.status == "planned"),
            key=lambda c: (c.year, c.seq),
        )


def _validate(model: type[M], data: Any, path: Path, lines: Mapping[Any, int], base: tuple = ()) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DataError([_problem(model, err, path, lines, base) for err in exc.errors()]) from None


def _problem(
    model: type[BaseModel], err: Any, path: Path, lines: Mapping[Any, int], base: tuple
) -> Problem:
    loc = tuple(err["loc"])
    full = (*base, *loc)
    line = None
    for cut in range(len(full), -1, -1):
        if full[:cut] in lines:
            line = lines[full[:cut]]
            break
    problem = describe_error(err)
    if err["type"] == "extra_forbidden":
        problem = "未知字段" + (_suggest(model, loc) or "（拼写错误？）")
    return Problem(file=path, line=line, field=field_label(model, loc, base), problem=problem)


def _suggest(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """For a misspelt or Chinese key, the field it probably meant: '，是否应为“households”？'."""
    parent = model_at(model, loc)
    if parent is None or not loc:
        return ""
    key = str(loc[-1])
    fields = parent.model_fields
    by_title = [name for name, info in fields.items() if info.title == key]
    close = by_title or difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    if not close:
        return ""
    title = fields[close[0]].title
    return f"，是否应为“{close[0]}”" + (f"（{title}）？" if title else "？")


_MESSAGES = {
    "missing": "缺少必填字段",
    "string_type": "应为文本",
    "bool_type": "应为 true 或 false",
    "date_type": "应为日期，如 2018-06-01",
    "list_type": "应为列表",
    "dict_type": "应为一组字段",
    "model_type": "应为一组字段",
    "string_pattern_mismatch": "只能使用字母、数字、短横线和下划线",
    "too_short": "不能为空",
    "string_too_short": "不能为空",
}


def _shown(value: Any) -> str:
    """A value as the clerk wrote it, not as Python spells it (no Decimal('1.5'), no None)."""
    if value is None:
        return "空"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        # 1e999999 written out in full would be a million digits long
        return format(value, "f") if abs(value.adjusted()) < 30 else str(value)
    if isinstance(value, str):
        if len(value) > 60:  # a pasted page: the start is enough to find it
            return f"“{value[:40]}……”（共{len(value)}个字符）"
        return f"“{value}”"
    return str(value)


_CN_NUMERALS = re.compile(r"[零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟点]+")


def _number_hint(value: Any) -> str:
    """Why text that looks like a number is not one: the usual ways a number gets typed as text."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", text):
        return "，数字中不要写千位分隔符“,”"
    normal = unicodedata.normalize("NFKC", text)
    if normal != text and re.fullmatch(r"[+-]?[\d.,]+", normal):
        return "，请用半角数字（不要用全角数字）"
    if re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        return "，数字不要加引号"
    if _CN_NUMERALS.fullmatch(text):
        return "，请用阿拉伯数字"
    return ""


def describe_error(err: Any) -> str:
    """A pydantic error in a clerk's words: what is wrong with the value, in Chinese."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if isinstance(value, BadDate):
        return f"日期不存在：{value}"
    quiet = kind == "missing" or isinstance(value, (dict, list))
    shown = "" if quiet else f"（现为：{_shown(value)}）"
    if kind in ("string_too_long", "too_long") and isinstance(value, str):
        return (f"文字过长：最多{ctx.get('max_length')}个字符，现有{len(value)}个字符"
                f"（开头为“{value[:20]}”）；请精简，或检查是否把整篇文字粘贴到了这里")
    if kind in ("int_type", "int_parsing"):
        return f"应为整数{_number_hint(value)}{shown}"
    if kind == "value_error" and str(ctx.get("error")) == "应为数字":
        return f"应为数字{_number_hint(value)}{shown}"
    if kind == "value_error":
        return f"{ctx.get('error', err['msg'])}{shown}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        word = {"greater_than": "大于", "greater_than_equal": "不小于",
                "less_than": "小于", "less_than_equal": "不大于"}[kind]
        limit = next(iter(ctx.values()))
        return f"必须{word}{limit}{shown}"
    if kind == "literal_error":
        # pydantic lists the choices in English ("'政府' or '管委会'"): keep only the choices
        expected = str(ctx.get("expected", ""))
        choices = re.findall(r"'([^']*)'", expected) or re.split(r", | or ", expected)
        return f"只能是以下之一：{'、'.join(choices)}{shown}"
    if kind == "string_type" and isinstance(value, bool):
        # YAML 1.1 reads yes, no, on, off, true, false (any case) as true/false
        return f"{_MESSAGES[kind]}{shown}；名称等文字是 yes、no、on、off 之类的词时，请加引号"
    if kind in _MESSAGES:
        return f"{_MESSAGES[kind]}{shown}"
    return f"取值不符合要求（{err['msg']}）{shown}"


Lines = dict[Path, Mapping[Any, int]]
"""Line numbers of every file read, by file and field path, for messages found after loading."""


def _load_list(path: Path, key: str, model: type[M], lines_of: Lines) -> list[M]:
    data, lines = load_yaml(path)
    lines_of[path] = lines
    if not isinstance(data, dict) or key not in data:
        raise DataError([Problem(path, f"文件顶层应有“{key}:”列表")])
    wrapper = {"communities": Plan}.get(key)
    if wrapper is not None:
        return list(_validate(wrapper, data, path, lines).communities)  # type: ignore[attr-defined, arg-type]
    if not isinstance(data[key], list):
        raise DataError([Problem(path, "应为列表", field=key, line=lines.get((key,)))])
    out, problems = [], []
    for index, row in enumerate(data[key]):
        try:
            out.append(_validate(model, row, path, lines, (key, index)))
        except DataError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataError(problems)
    return out


def _load_one(path: Path, model: type[M], lines_of: Lines) -> M:
    data, lines = load_yaml(path)
    lines_of[path] = lines
    if not isinstance(data, dict):
        raise DataError([Problem(path, "文件内容应为一组“字段: 值”")])
    return _validate(model, data, path, lines)


Progress = Callable[[int, int], None]
"""Told the project files read so far and how many there are, as they are read."""


Joined = Callable[["DataSet", str], None]
"""Told each project as it joins the data set, once everything else has been read."""


def load(root: Path | None = None, rosters: bool = True, progress: Progress | None = None,
         joined: Joined | None = None) -> DataSet:
    """Load and cross-check a data folder; raise DataError listing every problem found.

    rosters False leaves the household rosters unread (an import that replaces one). joined:
    called with each project as it joins, while other processes still read the files after it
    (the web store checks each project then, not after the whole folder is read); never once a
    problem has been found, since the load fails then.
    """
    root = (root or BUNDLED_DATA).resolve()
    if not root.is_dir():
        raise DataError([Problem(root, "数据文件夹不存在")])
    problems: list[Problem] = []
    lines_of: Lines = {}
    attempt = _attempter(problems, lines_of)

    # Started first: other processes read the project files while this one reads the plan.
    projects = _projects(_read_projects(sorted((root / "projects").glob("*.yaml")), progress), problems)
    programme, districts, catalogue, communities = _read_plan(root, attempt)
    reports = [
        (path, attempt(_load_one, path, DistrictReport))
        for path in sorted((root / "reports").glob("*/*.yaml"))
    ]
    if problems:
        for _ in projects:  # each project file's own problems are reported too
            pass
        raise DataError(problems)
    assert programme is not None and catalogue is not None

    data = DataSet(
        root=root,
        programme=programme,
        districts={d.name: d for d in districts},
        catalogue=catalogue,
        communities={c.id: c for c in communities},
    )
    plan_lines = lines_of.get(root / "communities.yaml")
    if isinstance(plan_lines, LazyLines) and not plan_lines.escaped:
        data.plain_communities.update(data.communities)
    # Everything but the projects first, so a project can be checked as soon as it joins; the
    # problems are told in the order the files are listed in docs (plan, projects, reports, …).
    plan_problems = _cross_check(data, districts, communities, lines_of)
    report_problems = _join_reports(data, reports, lines_of)
    later = _load_rosters(data) if rosters else []
    later += _load_votes(data, lines_of)
    later += _load_satisfaction(data, lines_of)
    quiet = bool(plan_problems or report_problems or later)
    project_problems = _join_projects(data, projects, lines_of, None if quiet else joined)
    problems.extend(plan_problems + project_problems + report_problems + later)
    if problems:
        raise DataError(problems)
    return data


def _attempter(problems: list[Problem], lines_of: Lines) -> Callable[..., Any]:
    """A reader call whose DataError joins problems (None returned), so every file's problems are listed."""

    def attempt(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args, lines_of)
        except DataError as exc:
            problems.extend(exc.problems)
            return None

    return attempt


def _read_plan(root: Path, attempt: Any) -> tuple[Programme | None, list[District], Catalogue | None,
                                                  list[Community]]:
    """The programme, districts, catalogue and plan (communities.yaml), each problem kept by attempt."""
    programme = attempt(_load_one, root / "programme.yaml", Programme)
    districts = attempt(_load_list, root / "districts.yaml", "districts", District) or []
    catalogue = attempt(_load_one, root / "catalogue.yaml", Catalogue)
    communities = attempt(_load_list, root / "communities.yaml", "communities", Community) or []
    _share_repeats(communities)
    return programme, districts, catalogue, communities


def load_community(root: Path | None, community: str) -> DataSet:
    """The programme, the plan and one community's project (rosters unread), read and checked as load() reads
    them, for a command about that community alone; the whole folder is loaded when the project file is not
    projects/<community>.yaml. DataError naming every problem of the files read."""
    root = (root or BUNDLED_DATA).resolve()
    if not root.is_dir():
        return load(root)  # which says the folder is missing
    path = root / "projects" / f"{community}.yaml"
    problems: list[Problem] = []
    lines_of: Lines = {}
    attempt = _attempter(problems, lines_of)

    programme, districts, catalogue, communities = _read_plan(root, attempt)
    if problems:
        raise DataError(problems)
    assert programme is not None and catalogue is not None
    data = DataSet(root=root, programme=programme, districts={d.name: d for d in districts}, catalogue=catalogue,
                   communities={c.id: c for c in communities})
    if community not in data.communities:
        return data  # the caller names the unknown community
    project = read_project(data, path) if path.is_file() else None
    if project is None or project.community != community:
        return load(root, rosters=False)  # a file named after one community holding another's project
    data.projects[community] = project
    data.sources[f"project:{community}"] = path
    data.sources[f"community:{community}"] = root / "communities.yaml"
    return data


@dataclass(frozen=True)
class ReadProject:
    """A project file read and checked on its own: what the cross-check needs, and the record packed."""

    community: str
    items: tuple[str, ...]
    """The catalogue item of each budget line, in order."""
    results: tuple[str, ...]
    """The catalogue item of each acceptance result, in order."""
    packed: bytes
    plain: bool = False
    """Whether its file held no backslash (see PackedProjects.plain_text)."""

    @classmethod
    def of(cls, project: Project, plain: bool = False) -> ReadProject:
        """What the cross-check reads of a project record."""
        results = tuple(r.item for r in project.acceptance.results) if project.acceptance else ()
        return cls(project.community, tuple(line.item for line in project.items), results, pack(project), plain)


def read_project_file(path: Path) -> ReadProject | list[Problem]:
    """One project file read and validated alone (in a worker process when there are many)."""
    lines_of: Lines = {}
    try:
        project = _load_one(path, Project, lines_of)
    except DataError as exc:
        return exc.problems
    lines = lines_of[path]
    return ReadProject.of(project, plain=isinstance(lines, LazyLines) and not lines.escaped)


POOL_FROM = 300
"""Project files from which they are read by as many processes as the machine has cores."""


def _read_projects(paths: list[Path], progress: Progress | None) -> Iterator[tuple[Path, ReadProject | list[Problem]]]:
    """Each project file read, in order; by other processes when there are many (started at once,
    so that they read while this process reads the plan)."""
    workers = (os.cpu_count() or 1) if len(paths) >= POOL_FROM else 1
    return _counted(paths, read_all(paths, read_project_file, workers), progress)


def _counted(paths: list[Path], answers: Iterator[ReadProject | list[Problem]],
             progress: Progress | None) -> Iterator[tuple[Path, ReadProject | list[Problem]]]:
    for done, (path, answer) in enumerate(zip(paths, answers, strict=True), 1):
        yield path, answer
        if progress is not None:
            progress(done, len(paths))


def _projects(read: Iterator[tuple[Path, ReadProject | list[Problem]]],
              problems: list[Problem]) -> Iterator[tuple[Path, ReadProject | None]]:
    """The project files read, each file's own problems put with the others."""
    for path, answer in read:
        if isinstance(answer, list):
            problems.extend(answer)
            yield path, None
        else:
            yield path, answer


ROSTERS = "rosters"
"""The folder of household rosters, one <community id>.csv each."""


def _load_rosters(data: DataSet) -> list[Problem]:
    """Read every roster; a roster of a community the plan does not have is an error."""
    paths, problems = sealed.listing(data.root / ROSTERS, ".csv")
    for path in paths:
        community = sealed.stem(path)
        try:
            data.rosters[community] = read_roster(data, path)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        data.sources[f"roster:{community}"] = path
    return problems


def _load_votes(data: DataSet, lines_of: Lines) -> list[Problem]:
    """Read every vote and its ballots."""
    return _load_with_answers(data, lines_of, VOTES, Vote, data.votes, data.ballots,
                              lambda path, vote: read_ballots(path), ("vote", "ballots"))


def _load_satisfaction(data: DataSet, lines_of: Lines) -> list[Problem]:
    """Read every satisfaction survey and its answers."""
    return _load_with_answers(data, lines_of, SATISFACTION, SatisfactionSurvey, data.satisfaction, data.responses,
                              lambda path, survey: read_responses(path, len(survey.numbered())),
                              ("satisfaction", "responses"))


def _load_with_answers(data: DataSet, lines_of: Lines, folder_name: str, model: type[M], records: dict[str, M],
                       answers: dict[str, Any], read: Any, keys: tuple[str, str]) -> list[Problem]:
    """Read the records of a folder (<id>.yaml, each naming its community) and each one's answers (<id>.csv,
    or <id>.csv.sm4 sealed): a record of a community the plan does not have, or answers without a record, is an
    error."""
    problems: list[Problem] = []
    folder = data.root / folder_name
    if not folder.is_dir():
        return problems  # most data folders have none: nothing to read, nothing to check
    returns, problems = sealed.listing(folder, ".csv")
    returned_by = {sealed.stem(path): path for path in returns}
    for path in sorted(folder.glob("*.yaml")):
        try:
            record = _load_one(path, model, lines_of)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        community = record.community  # type: ignore[attr-defined]  # a Vote or a SatisfactionSurvey
        if community not in data.communities:
            problems.append(Problem(path, f"小区编号“{community}”在 communities.yaml 中不存在",
                                    field="community", line=lines_of[path].get(("community",))))
            continue
        records[path.stem] = record
        data.sources[f"{keys[0]}:{path.stem}"] = path
        returned = returned_by.pop(path.stem, None)
        if returned is not None:
            try:
                answers[path.stem] = read(returned, record)
            except DataError as exc:
                problems.extend(exc.problems)
                continue
            data.sources[f"{keys[1]}:{path.stem}"] = returned
    for name, path in sorted(returned_by.items()):
        if not (folder / f"{name}.yaml").exists():
            problems.append(Problem(path, f"没有对应的 {name}.yaml"))
    return problems


_REPEATED = ("district", "built", "year", "status")
"""Plan row fields whose values recur from row to row."""


def _share_repeats(rows: list[Community]) -> None:
    """Keep once what plan rows repeat: their districts, years, statuses and built texts, and
    the set of fields given, of which pydantic makes one per record (700 bytes for a plan row).

    The records stay equal and read the same; a plan of 10,000 rows takes 9 MB instead of 18.
    """
    given: dict[frozenset[str], set[str]] = {}
    values: dict[tuple[str, Any], Any] = {}
    for row in rows:
        fields = row.model_fields_set
        object.__setattr__(row, "__pydantic_fields_set__", given.setdefault(frozenset(fields), fields))
        state = row.__dict__
        for name in _REPEATED:
            state[name] = values.setdefault((name, state[name]), state[name])


def _cross_check(data: DataSet, districts: list[District], communities: list[Community],
                 lines_of: Lines) -> list[Problem]:
    """References between the plan's files: unknown names and duplicate ids are load errors, not findings."""
    root = data.root
    problems: list[Problem] = []
    report = _reporter(problems, lines_of)

    seen: set[str] = set()
    for index, d in enumerate(districts):
        if d.name in seen:
            report(root / "districts.yaml", f"县（区）“{d.name}”重复",
                   _Districts, "districts", index, "name")
        seen.add(d.name)
    names: set[str] = set()
    for ci, cat in enumerate(data.catalogue.categories):
        for ii, item in enumerate(cat.items):
            loc = ("categories", ci, "items", ii)
            if item.name in names:
                report(root / "catalogue.yaml", f"项目名称“{item.name}”重复",
                       Catalogue, *loc, "name")
            names.add(item.name)
            if item.funding == "pipeline" and item.utility is None:
                report(root / "catalogue.yaml", f"管线项目“{item.name}”须写明 utility（管线类别）",
                       Catalogue, *loc, "utility")
    plan_file = root / "communities.yaml"
    ids: set[str] = set()
    seqs: set[tuple[int, int]] = set()
    for index, c in enumerate(communities):
        row = ("communities", index)
        if c.id in ids:
            report(plan_file, f"编号“{c.id}”重复", Plan, *row, "id")
        ids.add(c.id)
        if (c.year, c.seq) in seqs:
            report(plan_file, f"{c.year}年的序号 {c.seq} 重复", Plan, *row, "seq")
        seqs.add((c.year, c.seq))
        if c.district not in data.districts:
            report(plan_file, f"未知的县（区）“{c.district}”（districts.yaml 中没有）",
                   Plan, *row, "district")
        if c.year not in data.programme.years:
            years = "、".join(str(y) for y in data.programme.years)
            report(plan_file, f"改造年度 {c.year} 不在方案年度（{years}）内", Plan, *row, "year")
        if c.replaces is not None and c.replaces not in {x.id for x in communities}:
            report(plan_file, f"替换的小区“{c.replaces}”不存在", Plan, *row, "replaces")
        data.sources[f"community:{c.id}"] = plan_file
    return problems


def _join_projects(data: DataSet, projects: Iterable[tuple[Path, ReadProject | None]], lines_of: Lines,
                   joined: Joined | None) -> list[Problem]:
    """The project files read join the data set, each after its references are checked."""
    problems: list[Problem] = []
    report = _reporter(problems, lines_of)
    known_items = set(data.items)
    packed = data.projects if isinstance(data.projects, PackedProjects) else None
    for path, read in projects:
        if read is None:
            continue
        if _project_refs(data, path, read, known_items, report):
            if packed is not None:
                packed.put_packed(read.community, read.packed, read.plain)
            else:
                data.projects[read.community] = pickle.loads(read.packed)
            data.sources[f"project:{read.community}"] = path
            if joined is not None and not problems:
                joined(data, read.community)
    return problems


def _join_reports(data: DataSet, reports: list[tuple[Path, DistrictReport | None]], lines_of: Lines) -> list[Problem]:
    """The district reports join the data set: one per district and year, of a known district."""
    problems: list[Problem] = []
    report = _reporter(problems, lines_of)
    for path, district_report in reports:
        if district_report is None:
            continue
        name, year = district_report.district, district_report.year
        if name not in data.districts and name != CITY_REPORT:
            report(path, f"未知的县（区）“{name}”（districts.yaml 中没有）",
                   DistrictReport, "district")
            continue
        if (name, year) in data.reports:
            report(path, f"{name} {year} 年的报告材料重复", DistrictReport, "year")
            continue
        data.reports[(name, year)] = district_report
        data.sources[f"report:{name}:{year}"] = path
    return problems


def _reporter(problems: list[Problem], lines_of: Lines) -> Any:
    def report(path: Path, message: str, model: type[BaseModel], *loc: str | int) -> None:
        """Record a problem at a field, named and located as schema problems are."""
        if path not in lines_of:  # a file read by another process: its lines are wanted only now
            try:
                lines_of[path] = load_yaml(path)[1]
            except DataError:
                lines_of[path] = {}
        lines = lines_of[path]
        cuts = (loc[:cut] for cut in range(len(loc), 0, -1))
        line = next((lines[cut] for cut in cuts if cut in lines), None)
        problems.append(Problem(path, message, field=field_label(model, loc), line=line))

    return report


def _project_refs(data: DataSet, path: Path, project: ReadProject, known_items: set[str], report: Any,
                  replacing: str | None = None) -> bool:
    """Whether a project file may join the data set: its plan row exists, no other file has its
    project, its items are in the catalogue (each problem reported at its field)."""
    if project.community not in data.communities:
        report(path, f"小区编号“{project.community}”在 communities.yaml 中不存在", Project, "community")
        return False
    if project.community in data.projects and project.community != replacing:
        other = data.sources[f"project:{project.community}"]
        report(path, f"小区“{project.community}”已有项目资料（{other.name}）", Project, "community")
        return False
    ok = True
    for index, item in enumerate(project.items):
        if item not in known_items:
            report(path, f"改造项目“{item}”不在项目分类表（catalogue.yaml）中", Project, "items", index, "item")
            ok = False
    for index, item in enumerate(project.results):
        if item not in known_items:
            report(path, f"改造项目“{item}”不在项目分类表（catalogue.yaml）中",
                   Project, "acceptance", "results", index, "item")
            ok = False
    return ok


def read_project(data: DataSet, path: Path, replacing: str | None = None) -> Project:
    """One project file read and cross-checked as load() reads it, against a data set already
    loaded (replacing: the community whose project this file held before); DataError when it
    would not load."""
    lines_of: Lines = {}
    project = _load_one(path, Project, lines_of)
    problems: list[Problem] = []
    # its own former record (replacing) does not count as another file's
    _project_refs(data, path, ReadProject.of(project), set(data.items), _reporter(problems, lines_of), replacing)
    if problems:
        raise DataError(problems)
    return project


def read_report(data: DataSet, path: Path, replacing: tuple[str, int] | None = None) -> DistrictReport:
    """One district's (or the city's) report file read and cross-checked as load() reads it, against a
    data set already loaded (replacing: the report this file held before); DataError when it would not load."""
    lines_of: Lines = {}
    report = _load_one(path, DistrictReport, lines_of)
    problems: list[Problem] = []
    say = _reporter(problems, lines_of)
    key = (report.district, report.year)
    if report.district not in data.districts and report.district != CITY_REPORT:
        say(path, f"未知的县（区）“{report.district}”（districts.yaml 中没有）", DistrictReport, "district")
    elif key in data.reports and key != replacing:
        say(path, f"{report.district} {report.year} 年的报告材料重复", DistrictReport, "year")
    if problems:
        raise DataError(problems)
    return report


def read_roster(data: DataSet, path: Path) -> Roster:
    """One household roster (plain or sealed) read as load() reads it; DataError when it would not load."""
    community = sealed.stem(path)
    if community not in data.communities:
        raise DataError([Problem(path, f"文件名中的小区编号“{community}”在 communities.yaml 中不存在")])
    return read_csv(path)


class _Districts(BaseModel):
    """districts.yaml has no model of its own; this one only names its fields in messages."""

    districts: list[District] = Field(title="县（区）")
