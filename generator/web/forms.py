"""Project forms built from the data model: one section per stage of the work, parsed back into plain values.

Each input is named by its field path (survey.support, items.0.amount), the path rule messages
name too, so every finding and every model error is shown beside the field it concerns.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from generator.data.loader import describe_error
from generator.data.models import (
    STAGE_NAMES,
    Acceptance,
    BudgetLine,
    Community,
    Completion,
    Contact,
    Dates,
    Management,
    OtherFunding,
    Project,
    Survey,
    Units,
)
from generator.rules.checks import Finding


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    fields: tuple[str, ...]
    """The project's top-level fields this section edits."""


SECTIONS: tuple[Section, ...] = (
    Section("stage", "进度阶段", ("stage", "in_gas_company_area")),
    Section("basic", "基本情况",
            ("street_office", "community_committee", "committee_contact", "problems", "buildings")),
    Section("survey", "居民意见征询", ("survey",)),
    Section("budget", "工程预算及资金筹集", ("items", "other_funding", "budget_matches_plan")),
    Section("units", "参建单位", ("units",)),
    Section("dates", "各环节日期", ("dates",)),
    Section("contact", "公示联系", ("contact",)),
    Section("acceptance", "竣工验收", ("acceptance",)),
    Section("management", "长效管理", ("management",)),
    Section("completion", "完成情况", ("completion",)),
)
BY_KEY = {s.key: s for s in SECTIONS}
_OF_FIELD = {f: s.key for s in SECTIONS for f in s.fields}

OPTIONAL_GROUPS: dict[str, type[BaseModel]] = {
    "survey": Survey, "contact": Contact, "acceptance": Acceptance, "completion": Completion,
}
"""Groups a project may leave out entirely: an empty group is saved as absent."""
GROUPS: dict[str, type[BaseModel]] = {**OPTIONAL_GROUPS, "units": Units, "dates": Dates,
                                      "management": Management, "other_funding": OtherFunding}
LISTS: dict[str, type[BaseModel]] = {"items": BudgetLine}
EXTRA_ROWS = 1
"""Empty rows offered under a list: fill one in to add a line."""


def finding_key(f: Finding) -> str:
    """The input name a finding concerns: 'items[0].amount（预算项目.金额）' → 'items.0.amount'."""
    path = f.field.split("（", 1)[0].split(" / ", 1)[0].strip()
    return re.sub(r"\[(\d+)\]", r".\1", path)


PLAN = "plan"
"""The findings about the plan row (建成时间, 户数…): the city fills these in its plan, not the clerk."""


def section_of(key: str) -> str:
    """The section that edits an input (or a finding's field); 'stage' for the project as a whole,
    'plan' for the plan row's fields."""
    top = re.split(r"[.\[]", key, maxsplit=1)[0]
    if top not in _OF_FIELD and top in Community.model_fields:
        return PLAN
    return _OF_FIELD.get(top, "stage")


def _titles(key: str) -> list[str]:
    """The Chinese titles along a field path (items.0.amount → 预算项目, 第1行, 金额); [] when unknown."""
    out: list[str] = []
    model: Any = Project
    for part in re.sub(r"\[(\d+)\]", r".\1", key).split("."):
        if part.isdigit():
            out.append(f"第{int(part) + 1}行")
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            if model is Project and part in Community.model_fields:
                model, fields = Community, Community.model_fields
            else:
                return []
        info = fields[part]
        out.append(re.sub(r"（[^）]*）$", "", info.title or part))
        inner, _ = unwrap(info.annotation)
        if typing.get_origin(inner) is list:
            inner, _ = unwrap(typing.get_args(inner)[0])
        model = inner
    return out


def field_name(raw: str) -> str:
    """A finding's field in a clerk's words: 'items[0].amount（预算项目.金额）' → '预算项目第1行·金额',
    'items / budget_matches_plan' → '预算项目、预算等于计划投资'."""
    names = []
    for key in raw.split("（", 1)[0].split(" / "):
        titles = _titles(key.strip())
        names.append("·".join(titles).replace("·第", "第"))
    if all(names):
        return "、".join(names)
    if "（" in raw:
        return raw.split("（", 1)[1].rstrip("）").replace(".", "·")
    return ""


def sections_with_findings(findings: list[Finding]) -> list[tuple[Section, list[Finding]]]:
    """Each section and the findings about its fields, for the project page."""
    by: dict[str, list[Finding]] = {s.key: [] for s in (*SECTIONS, PLAN_SECTION)}
    for f in findings:
        by[section_of(finding_key(f))].append(f)
    out = [(s, by[s.key]) for s in SECTIONS]
    if by[PLAN]:
        out.insert(0, (PLAN_SECTION, by[PLAN]))
    return out


PLAN_SECTION = Section(PLAN, "计划表数据（由市住房城乡建设部门在年度计划表中填写）", ())
"""Not a form: the plan row's fields are the city's, changed by uploading the plan."""


# ---------------------------------------------------------------- inputs


@dataclass
class Input:
    name: str
    label: str
    widget: str
    """text, number, integer, date, checkbox, select, textarea; fixed: shown, sent back unchanged, not editable."""
    value: str = ""
    checked: bool = False
    choices: list[str] = field(default_factory=list)
    required: bool = False
    messages: list[tuple[str, str]] = field(default_factory=list)
    """(severity, message) beside the input: error, warning."""
    labels: dict[str, str] = field(default_factory=dict)
    """What a select shows for each choice where the data's value is not Chinese (stage keys)."""
    hint: str = ""
    """What filling the input in means, where the label alone does not say."""

    def label_of(self, choice: str) -> str:
        return self.labels.get(choice, choice)


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """The type inside Annotated[...] and X | None, and whether None is allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            annotation = args[0]
        else:
            return annotation, optional


def _widget(annotation: Any) -> tuple[str, list[str]]:
    base, _ = unwrap(annotation)
    if typing.get_origin(base) is typing.Literal:
        return "select", [str(a) for a in typing.get_args(base)]
    if base is bool:
        return "checkbox", []
    if base is Decimal:
        return "number", []
    if base is int:
        return "integer", []
    if base is dt.date:
        return "date", []
    return "text", []


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


HINTS = {
    "budget_matches_plan": "勾选表示本小区的预算合计就是计划表中的预计投资，系统将逐分核对：不相等时作为错误，"
                           "改正前不能生成文书。不勾选时，不相等只作提示。",
}
"""What ticking a box or filling a field asserts, shown under it."""
LONG_TEXT = 40
"""Characters from which a text is edited in a box of several lines."""
CHOICE_LABELS = {"stage": STAGE_NAMES}


def inputs(model: type[BaseModel], values: dict[str, Any] | None, prefix: str, group: str = "") -> list[Input]:
    """The inputs of a flat group of fields; a nested group's fields follow, their labels led by its title."""
    out: list[Input] = []
    values = values or {}
    for name, info in model.model_fields.items():
        key = f"{prefix}.{name}" if prefix else name
        base, optional = unwrap(info.annotation)
        if isinstance(base, type) and issubclass(base, BaseModel):
            out.extend(inputs(base, values.get(name), key, f"{info.title or name}·"))
            continue
        value = values.get(name)
        if typing.get_origin(base) is list:
            if is_record_list(base):
                continue  # lists of records are laid out as tables by rows()
            if key in LINE_LISTS:
                out.append(Input(key, group + f"{info.title or name}（每行一条）", "textarea",
                                 "\n".join(_text(v) for v in value or [])))
                continue
            out.append(Input(key, group + f"{info.title or name}（多个用“、”隔开）", "text",
                             SEPARATOR.join(_text(v) for v in value or [])))
            continue
        widget, choices = _widget(info.annotation)
        if widget == "text" and (len(_text(value)) > LONG_TEXT or name == "conclusion"):
            widget = "textarea"
        out.append(Input(key, group + (info.title or name), widget, _text(value), value is True, choices,
                         required=info.is_required() and not optional, labels=CHOICE_LABELS.get(key, {}),
                         hint=HINTS.get(key, "")))
    return out


LINE_LISTS = frozenset({"problems"})
"""Lists of sentences (which hold commas themselves): typed one a line."""
SEPARATOR = "、"
"""Between the entries of a list of plain texts (several 管线单位) typed in one box."""


def is_record_list(annotation: Any) -> bool:
    """A list whose entries are records (a table of rows), not plain texts."""
    inner, _ = unwrap(typing.get_args(annotation)[0])
    return isinstance(inner, type) and issubclass(inner, BaseModel)


def _parse_texts(raw: str | None) -> list[str]:
    """The entries of a list of texts typed in one box, split at 、，, ; or a new line."""
    return [t.strip() for t in re.split(r"[、，,；;\n]", raw or "") if t.strip()]


def rows(model: type[BaseModel], values: list[dict[str, Any]] | None, prefix: str) -> list[list[Input]]:
    """The table of a list's rows, with empty rows to add lines."""
    values = list(values or [])
    return [inputs(model, row, f"{prefix}.{i}") for i, row in enumerate([*values, *([{}] * EXTRA_ROWS)])]


# ---------------------------------------------------------------- parsing a form back


def _parse_scalar(annotation: Any, raw: str | None) -> Any:
    """A form's text as the data model's value; text that does not parse is kept for the model to name."""
    widget, _ = _widget(annotation)
    if widget == "checkbox":
        return raw is not None
    text = (raw or "").strip()
    if text == "":
        return None
    try:
        if widget == "number":
            number = Decimal(text)
            return number if number.is_finite() else text
        if widget == "integer":
            return int(text) if re.fullmatch(r"[+-]?\d{1,12}", text) else text
        if widget == "date":
            return dt.date.fromisoformat(text)
    except (InvalidOperation, ValueError):
        return text
    return text


def _parse_group(model: type[BaseModel], form: MultiDict[str, str], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = f"{prefix}.{name}" if prefix else name
        base, _ = unwrap(info.annotation)
        if isinstance(base, type) and issubclass(base, BaseModel):
            group = _parse_group(base, form, key)
            if group:
                out[name] = group
        elif typing.get_origin(base) is list and not is_record_list(base):
            texts = _parse_texts(form.get(key))
            if texts:
                out[name] = texts
        elif typing.get_origin(base) is list:
            inner = typing.get_args(base)[0]
            inner, _ = unwrap(inner)
            found = _parse_rows(inner, form, key)
            if found:  # no rows is the same as a group left blank
                out[name] = found
        else:
            value = _parse_scalar(info.annotation, form.get(key))
            if value is not None:
                out[name] = value
    return out


def _parse_rows(model: type[BaseModel], form: MultiDict[str, str], prefix: str) -> list[dict[str, Any]]:
    indexes = sorted({int(m.group(1)) for k in form for m in [re.match(re.escape(prefix) + r"\.(\d+)\.", k)] if m})
    out = []
    for i in indexes:
        if form.get(f"{prefix}.{i}._delete"):
            continue
        row = _parse_group(model, form, f"{prefix}.{i}")
        if row:
            out.append(row)
    return out


CENT = Decimal("0.01")
def line_amount(quantity: Any, unit_price: Any) -> Decimal | None:
    """数量 × 单价 to the 分 (half up), as the 填报表 computes 金额; None unless both are numbers."""
    from decimal import ROUND_HALF_UP

    if isinstance(quantity, Decimal) and isinstance(unit_price, Decimal):
        return (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
    return None


def form_amounts(form: MultiDict[str, str]) -> dict[str, str]:
    """Each budget row's 数量 × 单价 as sent, by its 金额 input's name (for the form to show as typed)."""
    out = {}
    for key in form:
        m = re.fullmatch(r"items\.(\d+)\.quantity", key)
        if not m:
            continue
        row = f"items.{m.group(1)}"
        price = _parse_scalar(Decimal, form.get(f"{row}.unit_price"))
        amount = line_amount(_parse_scalar(Decimal, form.get(key)), price)
        if amount is not None:
            out[f"{row}.amount"] = format(amount, "f")
    return out


def _fill_amounts(items: list[dict[str, Any]]) -> None:
    """A budget line with 数量 and 单价 but no 金额 gets their product, as the 填报表 computes it."""
    for row in items:
        if row.get("amount") is None:
            amount = line_amount(row.get("quantity"), row.get("unit_price"))
            if amount is not None:
                row["amount"] = amount


def parse(section: Section, form: MultiDict[str, str]) -> dict[str, Any]:
    """The section's top-level fields as plain values; a field left empty is absent (a budget line's
    金额 left empty is 数量 × 单价)."""
    out: dict[str, Any] = {}
    for name in section.fields:
        info = Project.model_fields[name]
        base, _ = unwrap(info.annotation)
        if isinstance(base, type) and issubclass(base, BaseModel):
            group = _parse_group(base, form, name)
            out[name] = group or None
        elif typing.get_origin(base) is list and not is_record_list(base):
            raw = form.get(name) or ""
            texts = [t.strip() for t in raw.splitlines() if t.strip()] if name in LINE_LISTS else _parse_texts(raw)
            out[name] = texts
        elif typing.get_origin(base) is list:
            out[name] = _parse_rows(unwrap(typing.get_args(base)[0])[0], form, name)
            if name == "items":
                _fill_amounts(out[name])
        else:
            out[name] = _parse_scalar(info.annotation, form.get(name))
    return out


def _prune(new: Any, old: Any) -> Any:
    """Leave out an unticked box the file never had: false is the model's default there."""
    if isinstance(new, dict):
        old = old if isinstance(old, dict) else {}
        return {k: _prune(v, old.get(k)) for k, v in new.items() if not (v is False and k not in old)}
    if isinstance(new, list):
        old = old if isinstance(old, list) else []
        return [_prune(v, old[i] if i < len(old) else None) for i, v in enumerate(new)]
    return new


def merged(current: dict[str, Any], section: Section, values: dict[str, Any]) -> dict[str, Any]:
    """The whole project's plain values with one section replaced; fields left empty are absent."""
    out = dict(current)
    for name in section.fields:
        value = _prune(values.get(name), current.get(name))
        if value is None or value in ([], {}) or (value is False and name not in current):
            out.pop(name, None)
        else:
            out[name] = value
    return out


def validate(values: dict[str, Any]) -> tuple[Project | None, dict[str, list[str]]]:
    """The project the values make, or the data model's objections by input name."""
    try:
        return Project.model_validate(values), {}
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            errors.setdefault(key, []).append(describe_error(err))
        return None, errors


def attach(found: list[Input], findings: list[Finding], model_errors: dict[str, list[str]]) -> list[str]:
    """Put each message beside its input; return those that concern no single input (shown above the form)."""
    by_name = {i.name: i for i in found}
    loose: list[str] = []
    for f in findings:
        key = finding_key(f)
        target = by_name.get(key)
        if target is not None:
            target.messages.append((f.severity, f.message))
        else:
            loose.append(f"{'错误' if f.severity == 'error' else '警告'}：{f.message}")
    for key, messages in model_errors.items():
        target = by_name.get(key)
        for m in messages:
            if target is not None:
                target.messages.append(("error", m))
            else:
                loose.append(f"错误：{field_name(key) or '本页'}：{m}")
    return loose
