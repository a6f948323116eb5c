"""Effects from the budget: which indicator each budget line counts toward, converted to its unit."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from generator.data.loader import DataSet
from generator.data.models import BudgetLine, CatalogueItem, EffectKey, Project


@dataclass(frozen=True)
class Indicator:
    """One effect indicator of the national survey: its key, name and unit."""

    key: str
    name: str
    unit: str


INDICATORS: tuple[Indicator, ...] = (
    Indicator("pipe_water", "老旧供水管线", "km"),
    Indicator("pipe_power", "老旧供电管线", "km"),
    Indicator("pipe_gas", "老旧燃气管线", "km"),
    Indicator("pipe_heat", "老旧供热管线", "km"),
    Indicator("pipe_telecom", "老旧通信管线", "km"),
    Indicator("elevators", "加装电梯", "台"),
    Indicator("energy_area", "建筑节能改造", "㎡"),
    Indicator("parking", "增设停车位", "个"),
    Indicator("car_chargers", "电动汽车充电桩", "个"),
    Indicator("bike_chargers", "电动自行车充电桩", "个"),
    Indicator("elderly_facilities", "养老服务设施", "个"),
    Indicator("childcare_facilities", "托育设施", "个"),
    Indicator("service_facilities", "其他社区服务设施", "个"),
    Indicator("leisure_area", "文化休闲、体育健身场地", "㎡"),
)
EFFECT_KEYS: tuple[str, ...] = tuple(i.key for i in INDICATORS)
BY_KEY = {i.key: i for i in INDICATORS}

# Units a budget may be written in, by the indicator's unit: how many indicator units one is.
_COMMON: dict[str, dict[str, Decimal]] = {
    "km": {"米": Decimal("0.001"), "m": Decimal("0.001"), "延米": Decimal("0.001"),
           "公里": Decimal(1), "千米": Decimal(1), "km": Decimal(1)},
    "㎡": {"平方米": Decimal(1), "㎡": Decimal(1), "m²": Decimal(1), "m2": Decimal(1)},
    "台": {"台": Decimal(1), "部": Decimal(1)},
    "个": {"个": Decimal(1), "处": Decimal(1)},
}


def factor(data: DataSet, line: BudgetLine, items: Mapping[str, CatalogueItem] | None = None) -> Decimal | None:
    """How many indicator units one budget unit of this line is; None when it cannot be converted."""
    item = (data.items if items is None else items).get(line.item)
    if item is None or item.effect is None:
        return None
    own = item.effect.units
    if line.unit in own:
        return own[line.unit]
    return _COMMON[BY_KEY[item.effect.indicator].unit].get(line.unit.strip())


def indicator_of(data: DataSet, line: BudgetLine, items: Mapping[str, CatalogueItem] | None = None,
                 ) -> EffectKey | None:
    """The effect indicator a budget line counts toward, if its item names one."""
    item = (data.items if items is None else items).get(line.item)
    return item.effect.indicator if item is not None and item.effect is not None else None


def unconvertible(data: DataSet, project: Project) -> Iterator[tuple[int, BudgetLine]]:
    """Budget lines whose item names an indicator but whose unit does not convert to it."""
    items = data.items
    for i, line in enumerate(project.items):
        item = items.get(line.item)
        if item is None or item.effect is None or line.unit in item.effect.ignore_units:
            continue
        if factor(data, line, items) is None:
            yield i, line


def project_effects(data: DataSet, project: Project, delivered_only: bool = False) -> dict[str, Decimal]:
    """Each indicator's quantity from the project's budget lines (lines that cannot convert count 0).

    delivered_only: leave out the items the acceptance record failed and did not see put right.
    """
    failed = set(project.acceptance.failed) if (
        delivered_only and project.acceptance is not None and not project.acceptance.passed) else set()
    out = dict.fromkeys(EFFECT_KEYS, Decimal(0))
    items = data.items
    for line in project.items:
        key = indicator_of(data, line, items)
        if key is None or line.item in failed:
            continue
        f = factor(data, line, items)
        if f is not None:
            out[key] += line.quantity * f
    return out
