"""Load a data folder into one checked DataSet; every problem names its file, line and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from generator.errors import DataError, Problem
from generator.labels import field_label
from generator.models import (
    Catalogue,
    CatalogueItem,
    Community,
    District,
    DistrictReport,
    Plan,
    Programme,
    Project,
)
from generator.yamlio import load_yaml

M = TypeVar("M", bound=BaseModel)

BUNDLED_DATA = Path(__file__).resolve().parent.parent / "data"


@dataclass
class DataSet:
    """Everything one programme's documents are made from."""

    root: Path
    programme: Programme
    districts: dict[str, District]
    catalogue: Catalogue
    communities: dict[str, Community]
    projects: dict[str, Project] = field(default_factory=dict)
    reports: dict[tuple[str, int], DistrictReport] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    """Which file each record came from, keyed 'community:<id>', 'project:<id>' and so on."""

    @property
    def items(self) -> dict[str, CatalogueItem]:
        return {item.name: item for cat in self.catalogue.categories for item in cat.items}

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


def _validate(model: type[M], data: Any, path: Path, lines: dict[Any, int], base: tuple = ()) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DataError([_problem(model, err, path, lines, base) for err in exc.errors()]) from None


def _problem(model: type[BaseModel], err: Any, path: Path, lines: dict[Any, int], base: tuple) -> Problem:
    loc = tuple(err["loc"])
    full = (*base, *loc)
    line = None
    for cut in range(len(full), -1, -1):
        if full[:cut] in lines:
            line = lines[full[:cut]]
            break
    return Problem(file=path, line=line, field=field_label(model, loc, base), problem=_message(err))


_MESSAGES = {
    "missing": "缺少必填字段",
    "extra_forbidden": "未知字段（拼写错误？）",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "string_type": "应为文本",
    "bool_type": "应为 true 或 false",
    "date_type": "应为日期，如 2018-06-01",
    "list_type": "应为列表",
    "dict_type": "应为一组字段",
    "model_type": "应为一组字段",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "只能使用字母、数字、短横线和下划线",
    "too_short": "不能为空",
    "string_too_short": "不能为空",
}


def _message(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    shown = "" if kind == "missing" or isinstance(value, (dict, list)) else f"（现为：{value!r}）"
    if kind == "value_error":
        return f"{ctx.get('error', err['msg'])}{shown}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        word = {"greater_than": "大于", "greater_than_equal": "不小于",
                "less_than": "小于", "less_than_equal": "不大于"}[kind]
        limit = next(iter(ctx.values()))
        return f"必须{word}{limit}{shown}"
    if kind == "literal_error":
        return f"只能是 {ctx.get('expected', '')} 之一{shown}"
    return f"{_MESSAGES.get(kind, err['msg'])}{shown}"


def _load_list(path: Path, key: str, model: type[M]) -> list[M]:
    data, lines = load_yaml(path)
    if not isinstance(data, dict) or key not in data:
        raise DataError([Problem(path, f"文件顶层应有“{key}:”列表")])
    wrapper = {"communities": Plan}.get(key)
    if wrapper is not None:
        return list(_validate(wrapper, data, path, lines).communities)  # type: ignore[attr-defined]
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


def _load_one(path: Path, model: type[M]) -> M:
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise DataError([Problem(path, "文件内容应为一组“字段: 值”")])
    return _validate(model, data, path, lines)


def load(root: Path | None = None) -> DataSet:
    """Load and cross-check a data folder; raise DataError listing every problem found."""
    root = (root or BUNDLED_DATA).resolve()
    if not root.is_dir():
        raise DataError([Problem(root, "数据文件夹不存在")])
    problems: list[Problem] = []

    def attempt(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except DataError as exc:
            problems.extend(exc.problems)
            return None

    programme = attempt(_load_one, root / "programme.yaml", Programme)
    districts = attempt(_load_list, root / "districts.yaml", "districts", District) or []
    catalogue = attempt(_load_one, root / "catalogue.yaml", Catalogue)
    communities = attempt(_load_list, root / "communities.yaml", "communities", Community) or []
    projects = [
        (path, attempt(_load_one, path, Project))
        for path in sorted((root / "projects").glob("*.yaml"))
    ]
    reports = [
        (path, attempt(_load_one, path, DistrictReport))
        for path in sorted((root / "reports").glob("*/*.yaml"))
    ]
    if problems:
        raise DataError(problems)
    assert programme is not None and catalogue is not None

    data = DataSet(
        root=root,
        programme=programme,
        districts={d.name: d for d in districts},
        catalogue=catalogue,
        communities={c.id: c for c in communities},
    )
    problems.extend(_cross_check(data, districts, communities, projects, reports))
    if problems:
        raise DataError(problems)
    return data


def _cross_check(
    data: DataSet,
    districts: list[District],
    communities: list[Community],
    projects: list[tuple[Path, Project | None]],
    reports: list[tuple[Path, DistrictReport | None]],
) -> list[Problem]:
    """References between files: unknown names and duplicate ids are load errors, not rule findings."""
    root = data.root
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, d in enumerate(districts):
        if d.name in seen:
            problems.append(Problem(root / "districts.yaml", f"县（区）“{d.name}”重复",
                                    field=f"districts[{index}].name"))
        seen.add(d.name)
    names: set[str] = set()
    for cat in data.catalogue.categories:
        for item in cat.items:
            if item.name in names:
                problems.append(Problem(root / "catalogue.yaml", f"项目名称“{item.name}”重复"))
            names.add(item.name)
            if item.funding == "pipeline" and item.utility is None:
                problems.append(Problem(root / "catalogue.yaml", "管线项目须写明 utility",
                                        field=f"{cat.name}/{item.name}"))
    plan_file = root / "communities.yaml"
    ids: set[str] = set()
    seqs: set[tuple[int, int]] = set()
    for index, c in enumerate(communities):
        where = f"communities[{index}]"
        if c.id in ids:
            problems.append(Problem(plan_file, f"编号“{c.id}”重复", field=f"{where}.id（编号）"))
        ids.add(c.id)
        if (c.year, c.seq) in seqs:
            problems.append(Problem(plan_file, f"序号 {c.seq} 重复", field=f"{where}.seq（序号）"))
        seqs.add((c.year, c.seq))
        if c.district not in data.districts:
            problems.append(Problem(plan_file, f"未知的县（区）“{c.district}”（districts.yaml 中没有）",
                                    field=f"{where}.district（县(区)）"))
        if c.year not in data.programme.years:
            problems.append(Problem(plan_file, f"改造年度 {c.year} 不在方案年度 {data.programme.years} 内",
                                    field=f"{where}.year（改造年度计划）"))
        if c.replaces is not None and c.replaces not in {x.id for x in communities}:
            problems.append(Problem(plan_file, f"替换的小区“{c.replaces}”不存在",
                                    field=f"{where}.replaces（替换的计划项目）"))
        data.sources[f"community:{c.id}"] = plan_file
    known_items = data.items
    for path, project in projects:
        if project is None:
            continue
        if project.community not in data.communities:
            problems.append(Problem(path, f"小区编号“{project.community}”在 communities.yaml 中不存在",
                                    field="community（小区编号）"))
            continue
        if project.community in data.projects:
            other = data.sources[f"project:{project.community}"]
            problems.append(Problem(path, f"小区“{project.community}”已有项目资料（{other.name}）",
                                    field="community（小区编号）"))
            continue
        for index, line in enumerate(project.items):
            if line.item not in known_items:
                problems.append(Problem(path, f"改造项目“{line.item}”不在项目分类表中",
                                        field=f"items[{index}].item（预算项目.改造项目）"))
        if project.acceptance:
            for index, result in enumerate(project.acceptance.results):
                if result.item not in known_items:
                    problems.append(Problem(path, f"改造项目“{result.item}”不在项目分类表中",
                                            field=f"acceptance.results[{index}].item"))
        data.projects[project.community] = project
        data.sources[f"project:{project.community}"] = path
    for path, report in reports:
        if report is None:
            continue
        if report.district not in data.districts:
            problems.append(Problem(path, f"未知的县（区）“{report.district}”", field="district（县（区））"))
            continue
        key = (report.district, report.year)
        if key in data.reports:
            problems.append(Problem(path, f"{report.district} {report.year} 年的报告材料重复"))
            continue
        data.reports[key] = report
        data.sources[f"report:{report.district}:{report.year}"] = path
    return problems
