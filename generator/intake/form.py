"""The 填报表: one workbook per community through which a clerk fills in the project's detail.

The layout is declared once here (sheets, the field of each input cell, the columns of each
table) and used by both the export and the import (form_import.py), so the two cannot drift.
A table's number of rows depends on how many the project has; the capacities chosen at export
are kept in the hidden 表单信息 sheet, from which the import lays the form out again.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from generator.data.loader import DataSet
from generator.data.models import STAGE_NAMES, Community, Project
from generator.data.yamlio import load_yaml
from generator.documents.project import rule_names
from generator.errors import OutputError
from generator.intake.page_setup import one_page_wide
from generator.output.writer import atomic_write, os_reason
from generator.render.cells import put
from generator.render.filters import q2
from generator.render.sheet_words import (
    FORM_WORDS,
    LISTS_KEY,
    META_SHEET,
    SHEETS,
    WORDING,
    builtin_words,
    check_sheet_words,
    form_words_of,
    say,
)
from generator.render.templates import BUILTIN, find_template, search_dirs
from generator.render.ziputil import deflate, fix_core_dates, read_members, write_zip
from generator.rules.funding import line_rule, number_text, plan_funding, policy

FORM_VERSION = "2"
"""Raised when a change of layout makes older workbooks read wrongly; the import refuses others."""
FORM_TITLE = "老旧小区改造项目填报表"
"""What the hidden 表单信息 sheet says the workbook is: a mark the import checks, never shown."""
_WORDS: ContextVar[Mapping[str, str] | None] = ContextVar("form_words", default=None)
def form_words(data: DataSet) -> dict[str, str]:
    """The form's words by key: the data folder's template over the built-in one, key by key (a
    city copy made before a word existed, or keyed by the built-in text as copies once were, still
    works: what it lacks is the built-in word)."""
    path = find_template(FORM_WORDS, search_dirs(None, data.root))
    if path == BUILTIN / FORM_WORDS:
        return dict(builtin_words())
    words = form_words_of(path)
    check_sheet_words(path, words)
    return words


def _w(key: str, **values: Any) -> str:
    """One word of the form in the words in effect, its fields filled from values."""
    words = _WORDS.get()
    text = (words if words is not None else builtin_words()).get(key)
    if text is None:
        text = builtin_words()[key]
    if "{" not in text:
        return text
    return say({WORDING: {key: text}}, key, BUILTIN / FORM_WORDS, **values)


def sheet_name(key: str) -> str:
    """A sheet's name in the words in effect."""
    return _w(f"sheet.{key}")


def sheet_ref(key: str) -> str:
    """A sheet's name as a formula writes it (quoted when it is not one word)."""
    name = sheet_name(key)
    return name if re.fullmatch(r"[^\W\d]\w*", name) else "'" + name + "'"


# ---------------------------------------------------------------- layout


@dataclass(frozen=True)
class Field:
    """One input cell (or one column of a table): where it goes in the project data and its kind."""

    path: tuple[str, ...]
    key: str
    """The word of its label (field.… or column.…)."""
    kind: str
    """text, int, money, number, date, bool, or choice (from the named list `choices`)."""
    choices: str | None = None
    required: bool = False
    width: float = 14


@dataclass(frozen=True)
class Computed:
    """A read-only cell: a formula (or a fact of the plan) and the value it has when exported."""

    key: str
    """The word of its label."""
    formula: Callable[[Layout], str] | None
    """None for a plain fact written as a value."""
    value: Callable[[Context], Any]
    fmt: str = "General"
    label: str | None = None
    """The label already said, for a word with fields (the programme's parties and splits)."""


@dataclass(frozen=True)
class Table:
    """A list of records: one row each, under a header row."""

    key: str
    """The list in the project data (items, buildings, problems, acceptance.results); its title is
    the word table.<key>."""
    sheet: str
    columns: tuple[Field | Computed, ...]
    minimum: int
    spare: int


# Lists on the hidden sheet, each a defined name, for drop-downs and lookups.
LISTS = ("改造项目", "进度阶段", "是否", "单位", "验收结果", "自治组织", "物业管理方式")
CATALOGUE_NAME = "改造项目表"
"""The catalogue as a lookup table: name, category, funding rule name, utility name."""
CHOICES: dict[str, tuple[tuple[str, Any], ...]] = {
    "是否": (("choice.yes", True), ("choice.no", False)),
    "验收结果": (("choice.pass", "合格"), ("choice.fail", "不合格")),
    "自治组织": (("choice.owners_committee", "业主委员会"), ("choice.residents_group", "居民自治小组")),
    "物业管理方式": (("choice.professional", "专业化物业管理"), ("choice.self_managed", "业主自治管理")),
}
"""Each fixed drop-down list: the word of each choice and the value the project data holds for it
(those values are the data model's own, not words)."""


def _q(text: str) -> str:
    """A text as a string in a formula."""
    return '"' + text.replace('"', '""') + '"'

KV_FIRST = 4
"""The first row of a sheet's input fields (rows 1–3: title, how to fill in, header)."""

BASIC: tuple[Field, ...] = (
    Field(("stage",), "field.stage", "choice", "进度阶段", required=True),
    Field(("street_office",), "field.street_office", "text", required=True),
    Field(("community_committee",), "field.community_committee", "text", required=True),
    Field(("in_gas_company_area",), "field.in_gas_company_area", "bool", "是否"),
    Field(("budget_matches_plan",), "field.budget_matches_plan", "bool", "是否"),
    Field(("illustrative",), "field.illustrative", "bool", "是否", required=True),
)
SURVEY: tuple[Field, ...] = (
    Field(("survey", "date"), "field.survey.date", "date"),
    Field(("survey", "households_asked"), "field.survey.households_asked", "int"),
    Field(("survey", "support"), "field.survey.support", "int"),
    Field(("survey", "oppose"), "field.survey.oppose", "int"),
    Field(("survey", "no_answer"), "field.survey.no_answer", "int"),
)
OTHER: tuple[Field, ...] = (
    Field(("other_funding", "maintenance_fund"), "field.other_funding.maintenance_fund", "money"),
    Field(("other_funding", "social_capital"), "field.other_funding.social_capital", "money"),
    Field(("floor_area",), "field.floor_area", "number"),
)
UNITS_DATES: tuple[Field, ...] = (
    Field(("units", "design"), "field.units.design", "text"),
    Field(("units", "cost_consulting"), "field.units.cost_consulting", "text"),
    Field(("units", "construction"), "field.units.construction", "text"),
    Field(("units", "supervision"), "field.units.supervision", "text"),
    Field(("dates", "application"), "field.dates.application", "date"),
    Field(("dates", "plan"), "field.dates.plan", "date"),
    Field(("dates", "notice_start"), "field.dates.notice_start", "date"),
    Field(("dates", "notice_end"), "field.dates.notice_end", "date"),
    Field(("dates", "start"), "field.dates.start", "date"),
    Field(("dates", "completion"), "field.dates.completion", "date"),
    Field(("dates", "acceptance"), "field.dates.acceptance", "date"),
    Field(("contact", "person"), "field.contact.person", "text"),
    Field(("contact", "phone"), "field.contact.phone", "text"),
    Field(("contact", "objection_to"), "field.contact.objection_to", "text"),
    Field(("contact", "notice_place"), "field.contact.notice_place", "text"),
)
ACCEPTANCE: tuple[Field, ...] = (
    Field(("acceptance", "conclusion"), "field.acceptance.conclusion", "text"),
)
MANAGEMENT: tuple[Field, ...] = (
    Field(("management", "body"), "field.management.body", "choice", "自治组织"),
    Field(("management", "body_name"), "field.management.body_name", "text"),
    Field(("management", "property_mode"), "field.management.property_mode", "choice", "物业管理方式"),
    Field(("management", "property_company"), "field.management.property_company", "text"),
    Field(("management", "maintenance_fund"), "field.management.maintenance_fund", "bool", "是否"),
    Field(("management", "maintenance_fund_amount"), "field.management.maintenance_fund_amount", "money"),
)
COMPLETION: tuple[Field, ...] = (
    Field(("completion", "households_done"), "field.completion.households_done", "int"),
    Field(("completion", "actual", "city"), "field.completion.actual.city", "money"),
    Field(("completion", "actual", "district"), "field.completion.actual.district", "money"),
    Field(("completion", "actual", "residents"), "field.completion.actual.residents", "money"),
    Field(("completion", "actual", "utility"), "field.completion.actual.utility", "money"),
    Field(("completion", "actual", "maintenance_fund"), "field.completion.actual.maintenance_fund", "money"),
    Field(("completion", "actual", "social_capital"), "field.completion.actual.social_capital", "money"),
)
FIELDS: dict[str, tuple[Field, ...]] = {
    "basic": BASIC, "survey": SURVEY, "other": OTHER, "units": UNITS_DATES,
    "acceptance": ACCEPTANCE, "management": MANAGEMENT, "completion": COMPLETION,
}
"""The key–value input cells of each sheet, from row KV_FIRST down, label in A, value in B."""

PLAN_FACTS: tuple[tuple[str, Callable[[Community], Any], str], ...] = (
    ("fact.id", lambda c: c.id, "@"),
    ("fact.name", lambda c: c.name, "@"),
    ("fact.district", lambda c: c.district, "@"),
    ("fact.year", lambda c: c.year, "0"),
    ("fact.households", lambda c: c.households, "0"),
    ("fact.investment", lambda c: c.investment_wan, "0.00####"),
    ("fact.built", lambda c: c.built or "", "@"),
    ("fact.location", lambda c: c.location or "", "@"),
)
"""The plan's facts at the top of 基本情况: shown, never read back."""

ITEM_COLUMNS: tuple[Field | Computed, ...] = (
    Field(("item",), "column.items.item", "choice", "改造项目", required=True, width=18),
    Field(("description",), "column.items.description", "text", required=True, width=42),
    Field(("quantity",), "column.items.quantity", "number", required=True, width=11),
    Field(("unit",), "column.items.unit", "unit", "单位", required=True, width=8),
    Field(("unit_price",), "column.items.unit_price", "money", required=True, width=12),
    Computed("column.items.amount", lambda lay: "IF(OR(D{r}=\"\",F{r}=\"\"),\"\",ROUND(D{r}*F{r},2))",
             lambda ctx: None, "#,##0.00"),
    Field(("before_meter",), "column.items.before_meter", "money", width=14),
    Field(("after_meter",), "column.items.after_meter", "money", width=14),
    Computed("column.items.category", lambda lay: (
        f"IF(B{{r}}=\"\",\"\",IFERROR(VLOOKUP(B{{r}},{CATALOGUE_NAME},2,FALSE),{_q(_w('category.unknown'))}))"),
        lambda ctx: None),
    Computed("column.items.funding", lambda lay: (
        f"IF(B{{r}}=\"\",\"\",IF(AND(IFERROR(VLOOKUP(B{{r}},{CATALOGUE_NAME},4,FALSE),\"\")="
        f"{_q(_w('utility.gas'))},{sheet_ref('basic')}!$B${lay.basic_row('in_gas_company_area')}="
        f"{_q(_w('choice.yes'))}),{_q(lay.rule_names['general'])},"
        f"IFERROR(VLOOKUP(B{{r}},{CATALOGUE_NAME},3,FALSE),\"\")))"), lambda ctx: None),
)
TABLES: tuple[Table, ...] = (
    Table("problems", "basic",
          (Field((), "column.problems.text", "text", required=True, width=60),), 5, 5),
    Table("buildings", "basic",
          (Field(("name",), "column.buildings.name", "text", required=True),
           Field(("households",), "column.buildings.households", "int", required=True)), 10, 10),
    Table("items", "items", ITEM_COLUMNS, 30, 15),
    Table("acceptance.results", "acceptance",
          (Field(("item",), "column.acceptance.results.item", "choice", "改造项目", required=True, width=18),
           Field(("result",), "column.acceptance.results.result", "choice", "验收结果", required=True, width=10),
           Field(("remarks",), "column.acceptance.results.remarks", "text", width=40)), 10, 10),
)


@dataclass(frozen=True)
class Layout:
    """Where everything is in one workbook, given the capacity of each table."""

    capacity: dict[str, int]
    rule_names: dict[str, str] = dataclass_field(default_factory=dict)
    """Each funding rule's name (the 资金渠道 the formulas compare), for an export."""

    def basic_row(self, name: str) -> int:
        return KV_FIRST + len(PLAN_FACTS) + 1 + [f.path[-1] for f in BASIC].index(name)

    def field_row(self, sheet: str, index: int) -> int:
        """The row of a sheet's index-th input field."""
        if sheet == "basic":
            return KV_FIRST + len(PLAN_FACTS) + 1 + index
        return KV_FIRST + index

    def after_fields(self, sheet: str) -> int:
        """The first free row below a sheet's input fields and its computed rows."""
        return self.field_row(sheet, len(FIELDS.get(sheet, ()))) + len(COMPUTED.get(sheet, ())) + 1

    def table_rows(self, key: str) -> tuple[int, int, int]:
        """A table's title row, header row and first data row."""
        table = next(t for t in TABLES if t.key == key)
        start = KV_FIRST - 1 if table.sheet == "items" else self.after_fields(table.sheet)
        for other in TABLES:
            if other.key == key:
                break
            if other.sheet == table.sheet:
                start = self.table_rows(other.key)[2] + self.capacity[other.key] + 2
        return start, start + 1, start + 2

    def data_rows(self, key: str) -> range:
        first = self.table_rows(key)[2]
        return range(first, first + self.capacity[key])

    def items_span(self) -> str:
        rows = self.data_rows("items")
        return f"{rows.start}:{{col}}{rows.stop - 1}"

    def budget_range(self, col: str) -> str:
        rows = self.data_rows("items")
        return f"{sheet_ref('items')}!${col}${rows.start}:${col}${rows.stop - 1}"


@dataclass
class Context:
    """What the computed cells' cached values are made from."""

    data: DataSet
    community: Community
    project: Project | None


def _funding(ctx: Context) -> Any:
    if ctx.project is None:
        return None
    return plan_funding(ctx.data, ctx.project, ctx.community.households)


def _party(name: str, part: str = "total") -> Callable[[Context], Any]:
    def value(ctx: Context) -> Any:
        funding = _funding(ctx)
        if funding is None:
            return Decimal(0)
        if part == "total":
            return funding.by_party[name]
        pipe = sum((lf.parts.get(name, Decimal(0)) for lf in funding.lines if lf.rule == "pipeline"),
                   Decimal(0))
        return pipe if part == "pipeline" else funding.by_party[name] - pipe
    return value


def _fixed(formula: str) -> Callable[[Layout], str]:
    """A computed cell's formula that does not depend on the layout."""
    return lambda _: formula


def _group_value(key: str, what: str, party: str | int = "") -> Callable[[Context], Any]:
    """The stored value of one group's row: its items, its base, one party's part, or its n-th
    contribution."""
    def value(ctx: Context) -> Any:
        funding = _funding(ctx)
        found = next((g for g in funding.groups if g.group.key == key), None) if funding else None
        if found is None:
            return Decimal(0)
        if what == "items":
            return found.items
        if what == "base":
            return found.base
        if what == "contribution":
            return found.contributions[int(party)][1]
        return found.parts[str(party)]
    return value


def _said(label: str, formula: Callable[[Layout], str], value: Callable[[Context], Any],
          fmt: str = "General") -> Computed:
    """A computed row whose label is a word already filled in."""
    return Computed("", formula, value, fmt, label)


def _general_formulas(lay: Layout, data: DataSet) -> list[Computed]:
    """The programme's splits as formulas, written by its funding policy (rules/funding.py), the
    before-meter split rounded per line as plan_funding does."""
    rules = policy(data.programme)
    names = rules.parties
    p, after_party = rules.pipeline, rules.after_meter_party
    rule, category = lay.budget_range("K"), lay.budget_range("J")
    amount, before, after = lay.budget_range("G"), lay.budget_range("H"), lay.budget_range("I")
    pipeline_name = lay.rule_names["pipeline"].replace('"', '""')
    money = "#,##0.00"
    households = f"{sheet_ref('basic')}!$B${KV_FIRST + 4}"
    measures = {"floor_area": f"B{KV_FIRST + [f.path for f in OTHER].index(('floor_area',))}",
                "households": households, "": ""}
    # Rows under the input fields (OTHER), in the order they are appended below.
    row = iter(range(KV_FIRST + len(OTHER), KV_FIRST + 1000))
    out = [_said(_w("funds.budget_total"), lambda _: f"SUM({amount})",
                    lambda ctx: _funding(ctx).total if _funding(ctx) else Decimal(0), money)]
    next(row)
    cells: dict[str, list[str]] = {}
    # Every group a line of the catalogue may fall in: a clerk may add lines of any category.
    groups = rules.groups_for([c.name for c in data.catalogue.categories])
    for group in groups:
        split, label = group.split, ("" if not rules.by_category else group.label)
        if not rules.by_category:
            title, items = _w("funds.general_items"), f"SUMIF({rule},\"<>{pipeline_name}\",{amount})"
        elif group.key:
            title = _w("funds.category_items", category=group.key)
            items = f"SUMIFS({amount},{category},\"{group.key}\",{rule},\"<>{pipeline_name}\")"
        else:
            title = _w("funds.other_items")
            items = f"SUMIF({rule},\"<>{pipeline_name}\",{amount})" + "".join(
                f"-SUMIFS({amount},{category},\"{g.key}\",{rule},\"<>{pipeline_name}\")"
                for g in rules.groups)
        items_row = next(row)
        out.append(_said(title, _fixed(items),
                            _group_value(group.key, "items"), money))
        taken = [f"B{KV_FIRST + i}" for i in range(len(rules.raised))] if group.takes_raised else []
        for n, c in enumerate(group.contributions):
            left = "-".join([f"B{items_row}", *taken])
            r = next(row)
            # several contributions of one group are numbered, so no two rows read alike
            which = _w("funds.which", n=n + 1) if len(group.contributions) > 1 else ""
            out.append(_said(_w("funds.contribution", group=label, which=which, party=names[c.party]),
                                _fixed(c.formula(measures[c.measure], left)),
                                _group_value(group.key, "contribution", n), money))
            taken.append(f"B{r}")
            cells.setdefault(c.party, []).append(f"B{r}")
        base_row = next(row)
        out.append(_said(_w("funds.base", group=label),
                            _fixed("-".join([f"B{items_row}", *taken])),
                            _group_value(group.key, "base"), money))
        parts = {k: f"B{next(row)}" for k in split.shares}
        formulas = split.formulas(f"B{base_row}", parts)
        for name in split.shares:
            out.append(_said(_w("funds.share", group=label, party=names[name], ratio=split.ratio),
                                _fixed(formulas[name]),
                                _group_value(group.key, "part", name), money))
            cells.setdefault(name, []).append(parts[name])
    after_cells: list[str] = []
    if rules.has_pipeline:  # else pipelines are general items of their category
        pipe_row = next(row)
        pipe_cells = {k: f"B{next(row)}" for k in p.shares}
        after_row = next(row)
        # Per line: Excel has no ROUND over a range but SUMPRODUCT takes one.
        mask = f"{before}*({rule}=\"{pipeline_name}\")"
        piped = {k: f"SUMPRODUCT({p.formula(k, mask)})" for k in p.others}
        piped[p.remainder_to] = p.remainder_formula(f"B{pipe_row}", pipe_cells)
        out.append(_said(_w("funds.pipe_before"),
                            lambda _: f"SUMIF({rule},\"{pipeline_name}\",{before})",
                            lambda ctx: sum((lf.line.before_meter or Decimal(0) for lf in _funding(ctx).lines
                                             if lf.rule == "pipeline"), Decimal(0)) if _funding(ctx) else
                            Decimal(0), money))
        for name in p.shares:
            out.append(_said(_w("funds.pipe_share", party=names[name], percent=number_text(p.shares[name])),
                                _fixed(piped[name]),
                                _party(name, "pipeline"), money))
        out.append(_said(_w("funds.pipe_after", party=names[after_party]),
                            lambda _: f"SUMIF({rule},\"{pipeline_name}\",{after})",
                            _party(after_party, "pipeline"), money))
        after_cells.append(f"B{after_row}")
    total = "+".join([*cells.get(after_party, []), *after_cells]) or "0"
    out.append(_said(_w("funds.per_household", party=names[after_party]),
                        lambda _: f"IF({households}>0,ROUND(({total})/{households},2),0)",
                        lambda ctx: _funding(ctx).per_household_residents if _funding(ctx) else Decimal(0),
                        money))
    return out


def _survey_total(ctx: Context) -> Any:
    s = ctx.project.survey if ctx.project else None
    return s.support + s.oppose + s.no_answer if s and s.counted else 0  # type: ignore[operator]


def _survey_rate(ctx: Context) -> Any:
    s = ctx.project.survey if ctx.project else None
    return Decimal(s.support) / Decimal(s.households_asked) if s and s.counted else ""  # type: ignore[arg-type]


def _notice_days(ctx: Context) -> Any:
    d = ctx.project.dates if ctx.project else None
    if d and d.notice_start and d.notice_end:
        return (d.notice_end - d.notice_start).days + 1
    return ""


def _actual_total(ctx: Context) -> Any:
    c = ctx.project.completion if ctx.project else None
    return sum(c.actual.model_dump().values(), Decimal(0)) if c else Decimal(0)


R = KV_FIRST
COMPUTED: dict[str, tuple[Computed, ...]] = {
    "survey": (
        Computed("computed.survey_total", lambda _: f"SUM(B{R + 2}:B{R + 4})", _survey_total, "0"),
        Computed("computed.survey_rate", lambda _: f"IF(N(B{R + 1})>0,B{R + 2}/B{R + 1},\"\")", _survey_rate, "0.0%"),
    ),
    "units": (
        Computed("computed.notice_days", lambda _: f"IF(AND(N(B{R + 6})>0,N(B{R + 7})>0),B{R + 7}-B{R + 6}+1,\"\")",
                 _notice_days, "0"),
    ),
    "completion": (
        Computed("computed.actual_total", lambda _: f"SUM(B{R + 1}:B{R + 6})", _actual_total, "#,##0.00"),
    ),
}
"""Read-only rows right under a sheet's input fields (其他资金's depend on the programme)."""


# ---------------------------------------------------------------- plain values and the data hash


def plain_project(data: DataSet, community_id: str) -> dict[str, Any]:
    """The project file's values as the loader reads them; {} when the community has none yet."""
    path = data.sources.get(f"project:{community_id}")
    if path is None:
        return {}
    values, _ = load_yaml(path)
    return values if isinstance(values, dict) else {}


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        normal = value.normalize()
        return int(normal) if normal == normal.to_integral_value() else {"d": format(normal, "f")}
    if isinstance(value, dt.date):
        return {"t": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"d"}:
            return Decimal(value["d"])
        if set(value) == {"t"}:
            return dt.date.fromisoformat(value["t"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def canonical(values: dict[str, Any]) -> str:
    """The values as one canonical JSON text: the same data always gives the same text."""
    return json.dumps(_encode(values), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def from_canonical(text: str) -> dict[str, Any]:
    """The values a canonical text holds."""
    return _decode(json.loads(text))  # type: ignore[no-any-return]


def data_hash(values: dict[str, Any]) -> str:
    """The hash a form records of the project data it was made from."""
    return hashlib.sha256(canonical(values).encode("utf-8")).hexdigest()


def get(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    """A nested value, None where any step is missing."""
    current: Any = values
    for key in path:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current


def table_values(values: dict[str, Any], key: str) -> list[Any]:
    found = get(values, tuple(key.split(".")))
    return found if isinstance(found, list) else []


def capacities(values: dict[str, Any]) -> dict[str, int]:
    """Rows each table gets: what the project has plus spare rows, at least the minimum."""
    return {t.key: max(t.minimum, len(table_values(values, t.key)) + t.spare) for t in TABLES}


# ---------------------------------------------------------------- export


INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
FIXED_FILL = PatternFill("solid", fgColor="E7E6E6")
HEAD_FILL = PatternFill("solid", fgColor="D9E1F2")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FONT = Font(name="宋体", size=11)
BOLD = Font(name="宋体", size=11, bold=True)
TITLE = Font(name="宋体", size=14, bold=True)
FORMATS = {"int": "0", "money": "#,##0.00", "number": "0.####", "date": "yyyy-mm-dd", "text": "@",
           "unit": "@", "choice": "@", "bool": "@"}
_LOW_DATE, _HIGH_DATE = 32874, 73415
"""Excel day numbers of 1990-01-01 and 2100-12-31, the dates a form accepts."""


def form_path(community: Community) -> Path:
    """Where a community's form goes under the output folder: 年度/县区/序号-名称-填报表.xlsx."""
    def safe(text: str) -> str:  # no character Windows refuses in a file name
        return re.sub(r'[\\/:*?"<>|\s]+', "", text).strip(".") or "_"

    return (Path(str(community.year)) / safe(community.district)
            / f"{community.seq:02d}-{safe(community.name)}-填报表.xlsx")


def roster_file(community: Community) -> Path:
    """The roster workbook exported beside a community's form: 年度/县区/序号-名称-住户名册.xlsx."""
    form = form_path(community)
    return form.with_name(form.name.removesuffix("填报表.xlsx") + "住户名册.xlsx")


def _display(value: Any, field: Field) -> Any:
    if value is None:
        return None
    if field.choices in CHOICES:
        return next((_w(key) for key, held in CHOICES[field.choices] if held == value), value)
    if field.path == ("stage",):
        return STAGE_NAMES.get(value, value)
    if isinstance(value, Decimal):
        return value
    return value


_FILLS = {"input": INPUT_FILL, "fixed": FIXED_FILL, "head": HEAD_FILL}


def _style(cell: Any, fill: str, fmt: str = "General", locked: bool = True,
           bold: bool = False, wrap: bool = False) -> None:
    """Give a cell one of the form's named styles (one assignment, not six: 30 forms a second)."""
    wb = cell.parent.parent
    name = f"{'填写' if fill == 'input' else '固定'}-{fill}-{fmt}-{int(locked)}-{int(bold)}-{int(wrap)}"
    made = wb.__dict__.setdefault("_form_styles", {})
    if name in made:  # openpyxl looks a named style up by a linear search: copy its index array
        cell._style = copy.copy(made[name])
        return
    if name not in wb.named_styles:
        wb.add_named_style(NamedStyle(
            name=name, fill=_FILLS[fill], border=BOX, font=BOLD if bold else FONT, number_format=fmt,
            protection=Protection(locked=locked), alignment=Alignment(vertical="center", wrap_text=wrap)))
    cell.style = name
    made[name] = copy.copy(cell._style)


class _Validations:
    """One data validation per rule and sheet, covering every cell that follows the rule."""

    def __init__(self) -> None:
        self.rules: dict[tuple[str, str], tuple[DataValidation, list[str]]] = {}

    def add(self, ws: Worksheet, field: Field, ref: str) -> None:
        kind = field.kind
        key = (ws.title, f"{kind}:{field.choices}")
        if key not in self.rules:
            self.rules[key] = (_validation(field), [])
        self.rules[key][1].append(ref)

    def install(self, wb: Workbook) -> None:
        for (title, _), (dv, refs) in self.rules.items():
            dv.sqref = " ".join(refs)  # type: ignore[assignment]
            wb[title].add_data_validation(dv)


def _validation(field: Field) -> DataValidation:
    kind = field.kind
    if kind in ("choice", "bool", "unit"):
        # a named range on the hidden sheet: Excel and WPS cap an inline list at 255 characters
        dv = DataValidation(type="list", formula1=f"={field.choices}", allow_blank=True)
        dv.error = _w("error.choice", label=_w(field.key))
        if kind == "unit":  # units are free text: the list only helps
            dv.errorStyle = "warning"
            dv.error = _w("error.unit")
    elif kind == "int":
        dv = DataValidation(type="whole", operator="between", formula1="0", formula2="1000000",
                            allow_blank=True)
        dv.error = _w("error.int")
    elif kind in ("money", "number"):
        dv = DataValidation(type="decimal", operator="between", formula1="0",
                            formula2="1000000000000", allow_blank=True)
        dv.error = _w(f"error.{kind}")
    elif kind == "date":
        dv = DataValidation(type="date", operator="between", formula1=str(_LOW_DATE),
                            formula2=str(_HIGH_DATE), allow_blank=True)
        dv.error = _w("error.date")
    else:
        dv = DataValidation(type="textLength", operator="lessThanOrEqual", formula1="10000",
                            allow_blank=True)
        dv.error = _w("error.text")
    dv.errorTitle = _w("error.title")
    dv.showErrorMessage = True
    dv.promptTitle = _w(field.key)
    prompt = kind if kind in ("date", "money", "int", "number") else "choice" if field.choices else "text"
    dv.prompt = _w(f"prompt.{prompt}")
    dv.showInputMessage = True
    return dv


class _Cached:
    """The values formula cells hold when the workbook is written, by sheet and cell."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}

    def put(self, ws: Worksheet, ref: str, formula: str, value: Any) -> None:
        ws[ref] = "=" + formula
        self.values.setdefault(ws.title, {})[ref] = value


def _header(ws: Worksheet, title: str, note: str, widths: dict[str, float]) -> None:
    put(ws, 1, 1, title)  # holds the community's name
    ws["A1"].font = TITLE
    ws["A2"] = _w(note)
    ws["A2"].font = Font(name="宋体", size=10, color="595959")
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    ws.protection.sheet = True  # no password: it only prevents slips
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.sheet_view.showGridLines = False
    one_page_wide(ws, landscape=True)


def _kv_head(ws: Worksheet, row: int) -> None:
    for col, key in (("A", "head.item"), ("B", "head.value"), ("C", "head.note")):
        cell = ws[f"{col}{row}"]
        cell.value = _w(key)
        _style(cell, "head", bold=True)


_HINTS = ("date", "money", "int", "bool", "choice")
"""The kinds of input with a hint (hint.<kind>) beside them."""


def _kv_field(ws: Worksheet, row: int, field: Field, value: Any, checks: _Validations) -> None:
    label = ws[f"A{row}"]
    label.value = _w(field.key) + (_w("required") if field.required else "")
    _style(label, "fixed")
    cell = put(ws, row, 2, _display(value, field))
    _style(cell, "input", FORMATS[field.kind], locked=False, wrap=field.kind == "text")
    checks.add(ws, field, f"B{row}")
    if field.kind == "text" and isinstance(value, str) and len(value) > 18:
        # Excel and WPS do not grow a row for wrapped text on opening: some 18 characters a line
        ws.row_dimensions[row].height = 15 * min(15, -(-len(value) // 18))
    hint = ws[f"C{row}"]
    hint.value = _w(f"hint.{field.kind}") if field.kind in _HINTS else ""
    hint.font = Font(name="宋体", size=10, color="595959")


def _kv_computed(ws: Worksheet, row: int, item: Computed, lay: Layout, ctx: Context,
                 cached: _Cached) -> None:
    label = ws[f"A{row}"]
    label.value = item.label if item.label is not None else _w(item.key)
    _style(label, "fixed")
    cell = ws[f"B{row}"]
    _style(cell, "fixed", item.fmt)
    value = item.value(ctx)
    if item.formula is None:
        cell.value = value
    else:
        cached.put(ws, f"B{row}", item.formula(lay), value)
    ws[f"C{row}"].value = _w("hint.auto" if item.formula else "hint.plan")
    ws[f"C{row}"].font = Font(name="宋体", size=10, color="595959")


def _table(ws: Worksheet, table: Table, lay: Layout, rows: list[Any], ctx: Context,
           checks: _Validations, cached: _Cached) -> None:
    title_row, head_row, first = lay.table_rows(table.key)
    ws[f"A{title_row}"] = _w(f"table.{table.key}")
    ws[f"A{title_row}"].font = BOLD
    head = ws[f"A{head_row}"]
    head.value = _w("head.seq")
    _style(head, "head", bold=True)
    for index, column in enumerate(table.columns, start=2):
        cell = ws.cell(head_row, index, _w(column.key))
        _style(cell, "head", bold=True, wrap=True)
    ws.row_dimensions[head_row].height = 30
    for offset in range(lay.capacity[table.key]):
        row = first + offset
        record = rows[offset] if offset < len(rows) else None
        number = ws.cell(row, 1, offset + 1)
        _style(number, "fixed", "0")
        for index, column in enumerate(table.columns, start=2):
            cell = ws.cell(row, index)
            if isinstance(column, Field):
                value = record if not column.path else (get(record, column.path) if record else None)
                put(ws, row, index, _display(value, column))
                _style(cell, "input", FORMATS[column.kind], locked=False)
                checks.add(ws, column, cell.coordinate)
            else:
                _style(cell, "fixed", column.fmt)
                assert column.formula is not None
                cached.put(ws, cell.coordinate, column.formula(lay).replace("{r}", str(row)),
                           _line_value(ctx, column.key, offset))
    if table.key == "items":
        total = first + lay.capacity["items"]
        ws.cell(total, 2, _w("total.items"))
        _style(ws.cell(total, 2), "fixed", bold=True)
        cell = ws.cell(total, 7)
        _style(cell, "fixed", "#,##0.00", bold=True)
        amounts = sum((ln.amount for ln in ctx.project.items), Decimal(0)) if ctx.project else Decimal(0)
        cached.put(ws, cell.coordinate, f"SUM(G{first}:G{total - 1})", amounts)
    if table.key == "buildings":
        total = first + lay.capacity["buildings"]
        ws.cell(total, 2, _w("total.buildings"))
        _style(ws.cell(total, 2), "fixed", bold=True)
        cell = ws.cell(total, 3)
        _style(cell, "fixed", "0", bold=True)
        households = sum(b.households for b in ctx.project.buildings) if ctx.project else 0
        cached.put(ws, cell.coordinate, f"SUM(C{first}:C{total - 1})", households)


def _line_value(ctx: Context, key: str, offset: int) -> Any:
    """The cached value of a budget table's computed column on one row."""
    lines = ctx.project.items if ctx.project else []
    if offset >= len(lines):
        return ""
    line = lines[offset]
    if key == "column.items.amount":
        return q2(line.quantity * line.unit_price)
    if key == "column.items.category":
        return ctx.data.category_of(line.item) if line.item in ctx.data.items else _w("category.unknown")
    assert ctx.project is not None
    return rule_names(ctx.data.root)[line_rule(ctx.data, ctx.project, line)] if line.item in ctx.data.items else ""


def export_form(data: DataSet, community: Community, words: Mapping[str, str] | None = None) -> bytes:
    """The 填报表 of one community, pre-filled from its project data, as .xlsx bytes."""
    values = plain_project(data, community.id)
    project = data.projects.get(community.id)
    ctx = Context(data, community, project)
    lay = Layout(capacities(values), rule_names(data.root))
    token = _WORDS.set(words if words is not None else form_words(data))
    try:
        return _export(data, community, values, ctx, lay)
    finally:
        _WORDS.reset(token)


def _export(data: DataSet, community: Community, values: dict[str, Any], ctx: Context, lay: Layout) -> bytes:
    wb = Workbook()
    checks = _Validations()
    cached = _Cached()
    for index, key in enumerate(SHEETS):
        ws = wb.active if index == 0 else wb.create_sheet()
        assert ws is not None
        ws.title = sheet_name(key)
        if key == "instructions":
            _instructions(ws)
            continue
        if key == "items":
            _header(ws, _w("title.items", community=community.name), "note.items",
                    {"A": 6} | {get_column_letter(i): c.width if isinstance(c, Field) else 18
                                for i, c in enumerate(ITEM_COLUMNS, start=2)})
            _table(ws, TABLES[2], lay, table_values(values, "items"), ctx, checks, cached)
            ws.freeze_panes = ws[f"C{lay.table_rows('items')[2]}"]
            continue
        _header(ws, _w("title.sheet", community=community.name, sheet=ws.title),
                f"note.{key}" if key in _NOTES else "note.default",
                {"A": 30, "B": 40, "C": 24, "D": 14})
        _kv_head(ws, KV_FIRST - 1)
        if key == "basic":
            for offset, (label, fact, fmt) in enumerate(PLAN_FACTS):
                shown = fact(community)
                _kv_computed(ws, KV_FIRST + offset, Computed(label, None, lambda _, v=shown: v, fmt),  # type: ignore[misc]
                             lay, ctx, cached)
        for offset, field in enumerate(FIELDS.get(key, ())):
            _kv_field(ws, lay.field_row(key, offset), field, get(values, field.path), checks)
        computed = _general_formulas(lay, data) if key == "other" else COMPUTED.get(key, ())
        below = lay.field_row(key, len(FIELDS.get(key, ())))
        for offset, item in enumerate(computed):
            _kv_computed(ws, below + offset, item, lay, ctx, cached)
        for table in TABLES:
            if table.sheet == key:
                _table(ws, table, lay, table_values(values, table.key), ctx, checks, cached)
    _lists(wb, data, values)
    _meta(wb, data, community, values, lay)
    checks.install(wb)
    wb.security = WorkbookProtection(lockStructure=True)  # sheets cannot be renamed or deleted by a slip
    wb.active = 0
    out = BytesIO()
    wb.save(out)
    return with_cached_values(out.getvalue(), [ws.title for ws in wb.worksheets], cached.values)


_NOTES = ("basic", "survey", "other", "acceptance")
"""The sheets with a note of their own (note.<key>); the others say note.default."""


def _instructions(ws: Worksheet) -> None:
    ws["A1"] = _w("title.instructions")
    ws["A1"].font = TITLE
    ws.column_dimensions["A"].width = 72
    for row, text in enumerate(_instruction_texts(), start=3):
        cell = ws.cell(row, 1, text)
        cell.font = FONT
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 15 * (-(-len(text) // 34)) + 6  # some 34 characters a line
    ws.protection.sheet = True
    one_page_wide(ws)


def _instruction_texts() -> list[str]:
    """The numbered instructions in the words in effect; a blank one is left out."""
    words = _WORDS.get() or builtin_words()
    numbers = sorted(int(k.split(".")[1]) for k in words
                     if k.startswith("instructions.") and k.split(".")[1].isdigit())
    return [text for n in numbers if (text := words[f"instructions.{n}"].strip())]


def _lists(wb: Workbook, data: DataSet, values: dict[str, Any]) -> None:
    """The hidden sheet of drop-down lists and the catalogue lookup table, each a defined name."""
    ws = wb.create_sheet(sheet_name(LISTS_KEY))
    lists = f"'{ws.title}'"
    names = rule_names(data.root)
    pipelines = policy(data.programme).has_pipeline
    common = [u.strip() for u in _w("list.units").split("、") if u.strip()]
    units = common + sorted({str(i.get("unit")) for i in table_values(values, "items")
                             if isinstance(i, dict) and i.get("unit") not in common})
    columns: dict[str, list[str]] = {
        "改造项目": [item.name for cat in data.catalogue.categories for item in cat.items],
        "进度阶段": list(STAGE_NAMES.values()),
        "单位": units,
    } | {name: [_w(key) for key, _ in choices] for name, choices in CHOICES.items()}
    for col, name in enumerate(LISTS, start=1):
        letter = get_column_letter(col)
        ws.cell(1, col, name)
        for row, text in enumerate(columns[name], start=2):
            put(ws, row, col, text)  # units typed in the data are among them
        ref = f"{lists}!${letter}$2:${letter}${len(columns[name]) + 1}"
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    base = len(LISTS) + 2
    for offset, head in enumerate(("item", "category", "funding", "utility")):
        ws.cell(1, base + offset, _w(f"lists.{head}"))
    row = 2
    for cat in data.catalogue.categories:
        for item in cat.items:
            funding = "general" if item.funding == "pipeline" and not pipelines else item.funding
            for offset, value in enumerate((item.name, cat.name, names[funding],
                                            _w(f"utility.{item.utility}") if item.utility else "")):
                ws.cell(row, base + offset, value)
            row += 1
    first, last = get_column_letter(base), get_column_letter(base + 3)
    wb.defined_names[CATALOGUE_NAME] = DefinedName(
        CATALOGUE_NAME, attr_text=f"{lists}!${first}$2:${last}${row - 1}")
    ws.sheet_state = "hidden"
    ws.protection.sheet = True


META_ROWS = ("表单", "表单版本", "城市", "小区编号", "数据校验值", "各表行数", "导出时的数据")


def _meta(wb: Workbook, data: DataSet, community: Community, values: dict[str, Any],
          lay: Layout) -> None:
    """The hidden sheet telling an import what it is looking at."""
    ws = wb.create_sheet(META_SHEET)
    text = canonical(values)
    chunks = [text[i:i + 30000] for i in range(0, len(text), 30000)] or [""]
    rows = [FORM_TITLE, FORM_VERSION, data.programme.city, community.id, data_hash(values),
            json.dumps(lay.capacity, ensure_ascii=False, sort_keys=True)]
    for row, (label, value) in enumerate(zip(META_ROWS, [*rows, chunks[0]], strict=True), start=1):
        ws.cell(row, 1, label)
        ws.cell(row, 2, value).number_format = "@"
    for offset, chunk in enumerate(chunks[1:], start=len(META_ROWS) + 1):
        ws.cell(offset, 2, chunk).number_format = "@"
    ws.sheet_state = "hidden"
    ws.protection.sheet = True


_FORMULA_CELL = re.compile(r'<c r="([A-Z]+\d+)"([^>]*)><f>(.*?)</f><v\s*/?>(?:</v>)?</c>')


def with_cached_values(xlsx: bytes, titles: list[str], values: dict[str, dict[str, Any]]) -> bytes:
    """Store each formula's result beside it, so that a reader that does not calculate
    (a previewer, a script, the import) sees the numbers; Excel and WPS recalculate anyway."""
    parts = []
    for name, blob in read_members(xlsx):
        match = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", name)
        if match and int(match.group(1)) <= len(titles):
            sheet = values.get(titles[int(match.group(1)) - 1], {})
            text = _FORMULA_CELL.sub(lambda m: _cell(m, sheet), blob.decode("utf-8"))  # noqa: B023
            blob = text.encode("utf-8")
        if name == "docProps/core.xml":  # the same data gives the same bytes
            blob = fix_core_dates(blob)
        parts.append(deflate(name, blob))
    return write_zip(parts)


def _cell(match: re.Match[str], values: dict[str, Any]) -> str:
    ref, attrs, formula = match.groups()
    value = values.get(ref)
    if value is None:
        return match.group(0)
    if isinstance(value, str):
        return f'<c r="{ref}"{attrs} t="str"><f>{formula}</f><v>{escape(value)}</v></c>'
    number = format(value, "f") if isinstance(value, Decimal) else str(value)
    return f'<c r="{ref}"{attrs}><f>{formula}</f><v>{number}</v></c>'


# ---------------------------------------------------------------- the command


@dataclass
class ExportResult:
    """The forms written."""

    out: Path
    files: list[Path]
    rosters: list[Path]
    """The roster workbook beside each form, in the same order."""


def select(data: DataSet, project: str | None = None, district: str | None = None,
           year: int | None = None) -> list[Community]:
    """The communities a command's --project/--district/--year name, in plan order."""
    from generator.errors import data_error

    chosen = [c for c in data.active_communities()
              if (project is None or c.id == project) and (district is None or c.district == district)
              and (year is None or c.year == year)]
    if not chosen:
        wanted = "、".join(f"{k} {v}" for k, v in (("--project", project), ("--district", district),
                                                    ("--year", year)) if v is not None)
        raise data_error(data.root, f"没有符合条件的小区（{wanted or '全部'}）")
    return chosen


def export_forms(data: DataSet, out: Path, communities: list[Community]) -> ExportResult:
    """Write one form and one roster workbook per community under out. A file already there with
    other bytes may hold a clerk's entries: then nothing at all is written."""
    from generator.intake.roster_io import roster_workbook

    forms = [(out / form_path(c), export_form(data, c)) for c in communities]
    rosters = [(out / roster_file(c), roster_workbook(data, c.id)[0]) for c in communities]
    planned = forms + rosters
    taken = [t for t, blob in planned if t.exists() and t.read_bytes() != blob]
    if taken:
        listed = "、".join(str(t) for t in taken[:5]) + ("等" if len(taken) > 5 else "")
        raise OutputError(f"{listed} 已存在且内容不同（可能已有填写内容），为免覆盖，未写入任何文件；"
                          "请先移走这些文件，或导出到另一个文件夹（--out）")
    for target, blob in planned:
        if not target.exists():
            try:
                atomic_write(target, blob)
            except OSError as exc:
                raise OutputError(f"无法写入 {target}：{os_reason(exc, target)}") from None
    return ExportResult(out=out, files=[t for t, _ in forms], rosters=[t for t, _ in rosters])


def iter_fields() -> Iterator[tuple[str, int, Field]]:
    """Every key–value input field: its sheet, its index on the sheet, the field."""
    for sheet, fields in FIELDS.items():
        for index, field in enumerate(fields):
            yield sheet, index, field
