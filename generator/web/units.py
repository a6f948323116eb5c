"""The units an account may name, read from the data: a street account's street office must be one the
project files or the street-office assignments name, a district account's district one of districts.yaml.
The web's account pages and `gaizao users` check a typed unit the same way."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from generator.errors import DataError, Problem
from generator.intake import assignments

_OFFICE_LINE = re.compile(r"^street_office:.*$", re.MULTILINE)


@dataclass(frozen=True)
class Units:
    """The street offices, districts and city the data knows."""

    offices: frozenset[str] = field(default_factory=frozenset)
    districts: tuple[str, ...] = ()
    city: str = ""

    def by_role(self) -> dict[str, list[str]]:
        """The units offered for each role, sorted (admin: none; any unit may be typed)."""
        return {"street": sorted(self.offices), "district": list(self.districts),
                "city": [self.city] if self.city else [], "admin": []}

    def problem(self, role: str, unit: str) -> str:
        """Why this unit cannot be an account's of this role, in Chinese; "" when it can."""
        unit = unit.strip()
        if role == "street" and unit not in self.offices:
            near = [o for o in sorted(self.offices) if unit and (unit[:2] in o)][:3]
            hint = f"，是否为：{'、'.join(near)}" if near else ""
            return (f"街道办事处“{unit}”在项目资料和街道办事处分配中都没有（名称须与之完全相同{hint}）；"
                    "新的街道办事处请先由县（区）或市在“街道分配”中分配小区")
        if role == "district" and unit not in self.districts:
            return f"县（区）“{unit}”不在县（区）名录中，可选：{'、'.join(self.districts)}"
        return ""


def of_data(districts: Iterable[str], city: str, offices: Iterable[str], assigned: Iterable[str]) -> Units:
    """The units of loaded data: its districts, its city, each project's street office and the assignments."""
    named = {o for o in [*offices, *assigned] if o and not o.startswith(assignments.PLACEHOLDER)}
    return Units(frozenset(named), tuple(districts), city)


def of_folder(root: Path) -> Units:
    """The units of a data folder read without loading it whole (a command run on a folder of 10,000
    communities, or one with errors elsewhere): districts.yaml, programme.yaml, each project file's
    street_office line and the assignments. DataError when districts.yaml cannot be read."""
    try:
        raw = yaml.safe_load((root / "districts.yaml").read_text(encoding="utf-8")) or {}
        districts = [str(d["name"]) for d in raw.get("districts") or []]
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError, KeyError, AttributeError) as exc:
        raise DataError([Problem(root / "districts.yaml", f"无法读取县（区）名录：{type(exc).__name__}")]) from None
    try:
        programme = yaml.safe_load((root / "programme.yaml").read_text(encoding="utf-8")) or {}
        city = str(programme.get("city") or "") if isinstance(programme, dict) else ""
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        city = ""
    offices: list[str] = []
    for path in sorted((root / "projects").glob("*.yaml")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found = _OFFICE_LINE.search(text)
        if found:
            try:
                value = yaml.safe_load(found.group(0))
            except yaml.YAMLError:
                continue
            if isinstance(value, dict) and isinstance(value.get("street_office"), str):
                offices.append(value["street_office"].strip())
    try:
        assigned = assignments.read(root).values()
    except DataError:
        assigned = {}.values()
    return of_data(districts, city, offices, assigned)
