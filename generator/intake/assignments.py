"""Which street office works on a community that has no project file yet, and starting its project file.

The city or a district assigns each community of the plan to a street office
(`assignments/street-offices.yaml` in the data folder, one line per community); that office
then starts the community's project file from the plan data (or fills in the one `gaizao init
--plan` made with placeholders). Once the project file names its street office, that is what
counts, and the assignment is no longer read for it.

The file lives in a folder of its own so that changing it does not make a running web server
read the whole data folder again (the server looks at the top folder's files for the plan).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from generator.data.loader import DataSet
from generator.errors import DataError, Problem
from generator.output.writer import atomic_write

ASSIGNMENTS = Path("assignments") / "street-offices.yaml"
"""The file, relative to the data folder."""
HEADER = """\
# 尚无项目资料的小区由哪个街道办事处（乡镇）填报：由市、县（区）住房城乡建设部门在网页“分配街道办事处”中填写，
# 也可在此手工填写，每行一个小区：小区编号: 街道办事处名称。
# 小区的项目资料开始填报后，以项目资料中的“街道办事处”为准，此处不再使用。
"""
_cache: dict[Path, tuple[tuple[int, int], dict[str, str]]] = {}
_cache_lock = threading.Lock()


def path_of(root: Path) -> Path:
    """The assignments file of a data folder."""
    return root / ASSIGNMENTS


def read(root: Path) -> dict[str, str]:
    """Each assigned community's street office (empty when there is no file); DataError when garbled."""
    path = path_of(root)
    try:
        st = os.stat(path)
    except OSError:
        return {}
    stamp = (st.st_mtime_ns, st.st_size)
    with _cache_lock:
        kept = _cache.get(path)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError([Problem(path, f"无法读取街道办事处分配表：{type(exc).__name__}")]) from None
    table = (raw or {}).get("street_offices") if isinstance(raw, dict) else None
    if table is None:
        table = {}
    if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise DataError([Problem(path, "street_offices 应为“小区编号: 街道办事处名称”的列表")])
    out = {k: v.strip() for k, v in table.items() if v.strip()}
    with _cache_lock:
        _cache[path] = (stamp, out)
    return out


def write(root: Path, table: dict[str, str]) -> None:
    """The assignments replaced in one step (the caller holds the data folder's writer lock)."""
    text = HEADER + yaml.safe_dump({"street_offices": dict(sorted(table.items()))}, allow_unicode=True,
                                   sort_keys=False, default_flow_style=False)
    path = path_of(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"))


PLACEHOLDER = "【待填写"
"""How `gaizao init --plan` marks the street office of a project file it made: not started yet."""


def started(data: DataSet, community_id: str) -> bool:
    """Whether a community's project file exists and names its street office (not init's placeholder)."""
    project = data.projects.get(community_id)
    return project is not None and not project.street_office.startswith(PLACEHOLDER)


def started_by_office(offices: Mapping[str, str], community_id: str) -> bool:
    """started(), from each project's street office alone (a server holds them without reading projects)."""
    return not offices.get(community_id, PLACEHOLDER).startswith(PLACEHOLDER)


def known_offices(data: DataSet, offices: Mapping[str, str], table: dict[str, str]) -> dict[str, list[str]]:
    """The street offices met so far in each district (offices: each project's; table: the assignments)."""
    out: dict[str, set[str]] = {d: set() for d in data.districts}
    for cid, office in [*offices.items(), *table.items()]:
        c = data.communities.get(cid)
        if c is not None and not office.startswith(PLACEHOLDER):
            out.setdefault(c.district, set()).add(office)
    return {d: sorted(names) for d, names in out.items()}


def starter(data: DataSet, community_id: str, street_office: str, committee: str) -> dict[str, Any]:
    """The first values of a community's project file: who works on it and the first stage."""
    c = data.communities[community_id]
    return {
        "community": c.id,
        "illustrative": False,
        "stage": "survey",
        "street_office": street_office,
        "community_committee": committee,
    }


def starter_header(data: DataSet, community_id: str) -> str:
    """The comment above a started project file: the community's plan row, as the bundled files have it."""
    c = data.communities[community_id]
    return (f"{c.name}（{c.district}，{c.year}年度计划，{c.households}户，计划投资{c.investment_wan}万元）\n"
            "由网页“开始填报”建立；字段说明见 docs/data.md。")
