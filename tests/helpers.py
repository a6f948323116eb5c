"""Small data folders for tests: a copy of the bundled plan files plus projects a test writes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.data.yamlio import dump_yaml
from generator.rules.checks import Finding, check_all

PLAN_FILES = ("programme.yaml", "districts.yaml", "catalogue.yaml", "communities.yaml")

# A complete, consistent project at the last stage for 东区 dongqu-01 (300 户, 2018): every rule
# that looks at projects has something to check in it and finds nothing wrong.
GOOD_PROJECT = """\
community: dongqu-01
illustrative: true
stage: accepted
street_office: 炳草岗街道办事处
community_committee: 园林社区居民委员会
problems: [管网老化, 道路破损]
buildings:
  - {name: 1栋, households: 100}
  - {name: 2栋, households: 120}
  - {name: 3栋, households: 80}
survey: {date: 2018-03-05, households_asked: 300, support: 285, oppose: 9, no_answer: 6}
items:
  - item: 供水
    description: 更换供水管网，一户一表
    quantity: 1
    unit: 项
    unit_price: 120000
    amount: 120000
    before_meter: 90000
    after_meter: 30000
  - {item: 道路, description: 沥青路面, quantity: 1500, unit: 平方米, unit_price: 180.5,
     amount: 270750}
  - {item: 公共服务设施, description: 社区活动室, quantity: 1, unit: 项, unit_price: 80000,
     amount: 80000}
other_funding: {maintenance_fund: 20000, social_capital: 30000}
dates:
  application: 2018-03-20
  plan: 2018-04-20
  notice_start: 2018-05-02
  notice_end: 2018-05-08
  start: 2018-06-01
  completion: 2018-11-20
  acceptance: 2018-12-10
contact:
  {person: 张三, phone: 0812-1234567, objection_to: 炳草岗街道办事处, notice_place: 小区公告栏}
acceptance:
  results:
    - {item: 供水, result: 合格}
    - {item: 道路, result: 合格}
    - {item: 公共服务设施, result: 合格}
  conclusion: 验收合格
management: {body: 业主委员会, property_mode: 专业化物业管理}
completion:
  households_done: 300
  actual: {city: 200000, district: 160000, residents: 70750, utility: 72000}
"""


def good_project() -> dict[str, Any]:
    """A fresh copy of GOOD_PROJECT as data, for a test to change one thing in."""
    data: dict[str, Any] = yaml.safe_load(GOOD_PROJECT)
    return data


class DataDir:
    """A copy of the bundled plan data (no projects) in a temporary folder, for a test to change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        for name in PLAN_FILES:
            shutil.copyfile(BUNDLED_DATA / name, root / name)

    def path(self, name: str) -> Path:
        """A file of the folder by its relative name, e.g. 'projects/dongqu-01.yaml'."""
        return self.root / name

    def write(self, name: str, content: str | dict[str, Any] | list[Any]) -> Path:
        """Write a file from YAML text or from data."""
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else dump_yaml(content)
        path.write_text(text, encoding="utf-8")
        return path

    def project(self, content: str | dict[str, Any] | None = None, name: str | None = None) -> Path:
        """Write a project file (GOOD_PROJECT by default), named after its community."""
        content = GOOD_PROJECT if content is None else content
        data = yaml.safe_load(content) if isinstance(content, str) else content
        return self.write(f"projects/{name or data['community']}.yaml", content)

    def replace(self, name: str, old: str, new: str) -> int:
        """Replace the first occurrence of old in a file; return the line number it starts on."""
        path = self.path(name)
        text = path.read_text(encoding="utf-8")
        at = text.find(old)
        assert at >= 0, f"{old!r} not in {name}"
        path.write_text(text[:at] + new + text[at + len(old):], encoding="utf-8")
        return text.count("\n", 0, at) + 1

    def line_of(self, name: str, text: str) -> int:
        """The line number on which text first appears in a file."""
        content = self.path(name).read_text(encoding="utf-8")
        assert text in content, f"{text!r} not in {name}"
        return content.count("\n", 0, content.find(text)) + 1

    def read(self, name: str) -> Any:
        """A data file as plain data."""
        return yaml.safe_load(self.path(name).read_text(encoding="utf-8"))

    def edit(self, name: str, change: Callable[[Any], object]) -> None:
        """Load a file, let change() modify the data in place, write it back."""
        data = self.read(name)
        change(data)
        self.write(name, data)

    def community(self, community_id: str, **values: Any) -> None:
        """Change fields of one plan row (a value of None removes the field)."""

        def change(data: Any) -> None:
            row = next(r for r in data["communities"] if r["id"] == community_id)
            for key, value in values.items():
                if value is None:
                    row.pop(key, None)
                else:
                    row[key] = value

        self.edit("communities.yaml", change)

    def load(self) -> DataSet:
        """Load the folder as the tool does."""
        return load(self.root)

    def findings(self, rule_id: str | None = None) -> list[Finding]:
        """Findings of check_all, only those of one rule if given."""
        return [f for f in check_all(self.load()) if rule_id is None or f.rule == rule_id]
