"""`gaizao form import`: returned 填报表 workbooks into data/projects/<id>.yaml.

Each workbook is read whole and checked before anything is written: a workbook with any
problem writes nothing, the others go in. Problems name the file, sheet, row, column and field.
Only the fields the form holds are replaced; everything else in the project file (the narrative,
comments, layout) stays as it is. A project file changed since the form was exported is not
overwritten without --force, and the fields changed on both sides are named.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ValidationError

from generator.data import cells, sealed
from generator.data.cells import CellProblem, shown
from generator.data.loader import DataSet, describe_error
from generator.data.models import STAGE_NAMES, Project
from generator.errors import DataError, Problem
from generator.intake import form as F
from generator.intake import roster_io
from generator.intake.project_yaml import Change, apply, diff, load_for_edit, save
from generator.intake.workbook_safety import open_workbook
from generator.render.filters import q2

FORM_ROWS = 5000
"""The last row a form's sheet may reach: a form has some 200 rows a sheet."""

_STAGES = {name: key for key, name in STAGE_NAMES.items()}
GROUPS = ("survey", "contact", "acceptance", "completion")
"""Parts of a project that are there only once begun: all their cells blank means none."""


@dataclass
class FileResult:
    """What importing one workbook did."""

    path: Path
    community: str | None = None
    target: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    written: bool = False
    new_file: bool = False
    households: int | None = None
    """For a roster workbook: the households it holds (None for a form)."""
    note: str | None = None
    """Why a workbook without problems wrote nothing, when it is not that nothing changed."""
    conflict: tuple[list[str], list[str]] | None = None
    """When the project file changed since the form was exported: the fields both changed, and those
    changed only in the file (so that the web can say it in its own words)."""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ImportSummary:
    """Every workbook of one import."""

    files: list[FileResult]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)


# ---------------------------------------------------------------- reading cells


def _number(value: Any, kind: str) -> Any:
    number = cells.number(value)
    if kind == "int":
        if number != number.to_integral_value():
            raise CellProblem(f"应为整数，现为{number}")
        return int(number)
    if number == number.to_integral_value():
        number = Decimal(int(number))
    elif kind == "money":
        number = number.normalize()
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise CellProblem(f"金额最多保留两位小数（到分），现为{number}")
    return number


def _text(value: Any) -> str | None:
    return cells.text(value).strip() or None


def _cell(value: Any, fld: F.Field, data: DataSet, choices: dict[str, dict[str, Any]]) -> Any:
    """A cell's value as the project data holds it; None for a blank cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = fld.kind
    if kind in ("int", "money", "number"):
        return _number(value, kind)
    if kind == "date":
        return cells.date(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = _text(value)
        if text in choices["是否"]:
            return choices["是否"][text]
        raise CellProblem(f"只能填“{'”或“'.join(_shown_choices(choices['是否']))}”，现为{shown(text)}")
    text = _text(value)
    if kind == "choice" and text is not None:
        if fld.path == ("stage",):
            if text in _STAGES:
                return _STAGES[text]
            if text in STAGE_NAMES:
                return text
            raise CellProblem(f"“{text}”不是进度阶段；可选：{'、'.join(STAGE_NAMES.values())}")
        if fld.choices == "改造项目":
            if text not in data.items:
                raise CellProblem(f"“{text}”不在改造项目分类表（catalogue.yaml）中；请从下拉列表中选择")
            return text
        allowed = choices.get(fld.choices or "", {})
        if text not in allowed:
            raise CellProblem(f"只能是以下之一：{'、'.join(_shown_choices(allowed))}（现为{shown(text)}）")
        return allowed[text]
    return text


def accepted_choices(words: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each fixed drop-down list: every text a returned form may hold (the built-in word and the
    city's) → the value the project data holds."""
    builtin = F.builtin_words()
    return {name: {text: value for key, value in options for text in (words[key], builtin[key])}
            for name, options in F.CHOICES.items()}


def _shown_choices(allowed: dict[str, Any]) -> list[str]:
    """The city's words of a list (the first text of each value)."""
    seen: dict[Any, str] = {}
    for text, value in allowed.items():
        seen.setdefault(value, text)
    return list(seen.values())


# ---------------------------------------------------------------- one workbook


class _Reader:
    """One returned workbook: its cells read into values, every problem named by its place."""

    def __init__(self, path: Path, wb: Workbook, data: DataSet) -> None:
        self.path = path
        self.wb = wb
        self.data = data
        self.words = F.form_words(data)
        self.builtin = F.builtin_words()
        self.choices = accepted_choices(self.words)
        self.titles = {key: next((n for n in self.names(key) if n in wb.sheetnames), self.words[f"sheet.{key}"])
                       for key in F.SHEETS}
        """Each sheet's key → its name in this workbook (built-in or the city's)."""
        self.problems: list[Problem] = []
        self.places: dict[tuple[Any, ...], tuple[str, int, str]] = {}
        """A data path → (sheet, row, column text) of the cell it was read from."""

    def names(self, key: str) -> list[str]:
        """The names a sheet may have: the data folder's word, then the built-in one."""
        return list(dict.fromkeys((self.words[f"sheet.{key}"], self.builtin[f"sheet.{key}"])))

    def sheet(self, key: str) -> Worksheet:
        """A sheet by its key."""
        return self.wb[self.titles[key]]

    def label(self, key: str) -> str:
        """A label in the data folder's words."""
        return self.words[key]

    def add(self, sheet: str, row: int | None, place: str, problem: str) -> None:
        """A problem at a place; sheet is a sheet's key or its name."""
        title = self.titles.get(sheet, sheet)
        self.problems.append(Problem(f"{self.path} 工作表“{title}”", problem, field=place, line=row))

    def read(self, ws: Worksheet, row: int, col: int, fld: F.Field, loc: tuple[Any, ...]) -> Any:
        cell = ws.cell(row, col)
        place = f"{get_column_letter(col)}列（{self.label(fld.key)}）"
        self.places[loc] = (ws.title, row, place)
        if cell.data_type == "f":
            formula = cell.value if isinstance(cell.value, str) else "数组公式"
            self.add(ws.title, row, place, f"是公式“{formula}”；填写处只能填数值或文字（导入时不计算公式）。"
                                           "请选中后“复制—选择性粘贴—数值”再导入")
            return None
        if cell.data_type == "e":
            self.add(ws.title, row, place, f"单元格显示错误值 {cell.value}，请改正")
            return None
        try:
            return _cell(cell.value, fld, self.data, self.choices)
        except CellProblem as exc:
            self.add(ws.title, row, place, str(exc))
            return None


_HAND_ROSTER = "；自己制作的住户名册请用 gaizao roster import 文件 --project 小区编号 导入"


def _meta(wb: Workbook, path: Path) -> dict[str, str]:
    if F.META_SHEET not in wb.sheetnames:
        raise DataError([Problem(path, "不是本工具导出的填报表（没有“表单信息”工作表）；"
                                       f"请用 gaizao form export 导出的填报表填写{_HAND_ROSTER}")])
    ws = wb[F.META_SHEET]
    values = {str(ws.cell(r, 1).value): "" if ws.cell(r, 2).value is None else str(ws.cell(r, 2).value)
              for r in range(1, len(F.META_ROWS) + 1)}
    extra = []
    row = len(F.META_ROWS) + 1
    while ws.cell(row, 2).value is not None and row < 1000:
        extra.append(str(ws.cell(row, 2).value))
        row += 1
    values["导出时的数据"] = values.get("导出时的数据", "") + "".join(extra)
    return values


def read_form(path: Path, data: DataSet, wb: Workbook | None = None
              ) -> tuple[str, dict[str, Any], dict[str, Any], _Reader]:
    """A returned form: its community, the data it was exported from, what it holds now, its reader.

    Raises DataError for a workbook that is not a form of this data folder or cannot be read.
    """
    wb = wb or open_workbook(path, max_rows=FORM_ROWS)
    meta = _meta(wb, path)
    where = f"{path} 工作表“{F.META_SHEET}”"
    if meta.get("表单") != F.FORM_TITLE:
        raise DataError([Problem(path, f"不是本工具导出的填报表（表单信息不符）{_HAND_ROSTER}")])
    if meta.get("表单版本") != F.FORM_VERSION:
        raise DataError([Problem(where, f"填报表版本“{meta.get('表单版本')}”本工具不认识（本工具为第"
                                        f"{F.FORM_VERSION}版）；请用 gaizao form export 重新导出后填写")])
    city = meta.get("城市", "")
    if city != data.programme.city:
        raise DataError([Problem(path, f"这是“{city}”的填报表，而数据文件夹是“{data.programme.city}”的；"
                                       "请确认数据文件夹（--data）和文件是否选对")])
    community_id = meta.get("小区编号", "")
    community = data.communities.get(community_id)
    if community is None:
        raise DataError([Problem(path, f"填报表的小区编号“{community_id}”不在计划表（communities.yaml）中；"
                                       "可能是另一份计划或另一个城市的填报表")])
    try:
        baseline = F.from_canonical(meta.get("导出时的数据") or "{}")
        capacity = {k: int(v) for k, v in json.loads(meta.get("各表行数", "")).items()}
    except (ValueError, TypeError, AttributeError):
        raise DataError([Problem(where, "表单信息已损坏，无法读取；请重新导出填报表后填写")]) from None
    if F.data_hash(baseline) != meta.get("数据校验值") or set(capacity) != {t.key for t in F.TABLES} or any(
            not 0 < v <= 2000 for v in capacity.values()):
        raise DataError([Problem(where, "表单信息被改动过，与导出时不符；请重新导出填报表后填写")])
    reader = _Reader(path, wb, data)
    missing = [reader.names(key) for key in F.SHEETS if reader.titles[key] not in wb.sheetnames]
    if missing:
        raise DataError([Problem(path, f"缺少工作表“{'”或“'.join(names)}”（可能被改名或删除）；请用原填报表填写，"
                                       "不要改工作表名称") for names in missing])
    basic = reader.sheet("basic")
    stated = (basic.cell(F.KV_FIRST, 2).value, basic.cell(F.KV_FIRST + 1, 2).value)
    if stated != (community.id, community.name):
        raise DataError([Problem(f"{path} 工作表“{basic.title}”", f"小区为“{stated[1]}”（{stated[0]}），与表单信息中的"
                                 f"“{community.name}”（{community.id}）不符；可能是从另一个小区的填报表复制来的",
                                 field="B列", line=F.KV_FIRST)])
    lay = F.Layout(capacity)
    _check_labels(reader, lay)
    values = _read_values(reader, lay)
    return community_id, baseline, values, reader


def _check_labels(reader: _Reader, lay: F.Layout) -> None:
    """The labels beside the input cells: a moved row or column would put values in wrong fields.
    A label may read as built in or in the data folder's words (a form exported before or after
    the city changed them)."""
    def known(label: object, key: str, exact: bool) -> bool:
        if not isinstance(label, str):
            return False
        names = {reader.builtin[key], reader.words[key]}
        return label in names if exact else any(label.startswith(n) for n in names)

    for sheet, index, fld in F.iter_fields():
        row = lay.field_row(sheet, index)
        label = reader.sheet(sheet).cell(row, 1).value
        if not known(label, fld.key, exact=False):
            reader.add(sheet, row, "A列", f"应为“{reader.label(fld.key)}”，现为{shown(label)}：行被插入、删除或移动过；"
                                         "请用原填报表重新填写")
    for table in F.TABLES:
        _, head, _ = lay.table_rows(table.key)
        ws = reader.sheet(table.sheet)
        for col, column in enumerate(table.columns, start=2):
            if not known(ws.cell(head, col).value, column.key, exact=True):
                reader.add(table.sheet, head, f"{get_column_letter(col)}列",
                           f"表头应为“{reader.label(column.key)}”，现为{shown(ws.cell(head, col).value)}："
                           "行或列被插入、删除或移动过；请用原填报表重新填写")


def _read_values(reader: _Reader, lay: F.Layout) -> dict[str, Any]:
    """Everything the form holds, keyed by data path: ('survey', 'date') → value, tables as lists."""
    out: dict[str, Any] = {}
    for sheet, index, fld in F.iter_fields():
        out[".".join(fld.path)] = reader.read(reader.sheet(sheet), lay.field_row(sheet, index), 2, fld, fld.path)
    for table in F.TABLES:
        ws = reader.sheet(table.sheet)
        rows: list[Any] = []
        for row in lay.data_rows(table.key):
            loc = (*table.key.split("."), len(rows))
            record: dict[str, Any] = {}
            for col, column in enumerate(table.columns, start=2):
                if isinstance(column, F.Field):
                    record[".".join(column.path)] = reader.read(ws, row, col, column, (*loc, *column.path))
            filled = [k for k, v in record.items() if v is not None]
            raw_filled = any(ws.cell(row, c).value not in (None, "") for c, column in
                             enumerate(table.columns, start=2) if isinstance(column, F.Field))
            if not filled and not raw_filled:
                continue
            reader.places[loc] = (table.sheet, row, "")
            rows.append(_record(reader, table, record, loc, row))
        out[table.key] = rows
    return out


def _record(reader: _Reader, table: F.Table, record: dict[str, Any], loc: tuple[Any, ...], row: int) -> Any:
    if table.key == "problems":
        return record[""]
    out = {k: v for k, v in record.items() if v is not None}
    if table.key == "items":
        quantity, price = out.get("quantity"), out.get("unit_price")
        ordered: dict[str, Any] = {}
        for key in ("item", "description", "quantity", "unit", "unit_price"):
            if key in out:
                ordered[key] = out[key]
        if isinstance(quantity, Decimal) and isinstance(price, Decimal):
            ordered["amount"] = q2(quantity * price)
            reader.places[(*loc, "amount")] = (table.sheet, row, "G列（金额（元））")
        before, after = out.get("before_meter"), out.get("after_meter")
        for key, value in (("before_meter", before), ("after_meter", after)):
            if value is not None:
                ordered[key] = value
        if (before is not None or after is not None) and "amount" in ordered:
            if before is None or after is None:
                col = "H列（表（箱）前金额（元））" if before is None else "I列（表（箱）后金额（元））"
                reader.add(table.sheet, row, col, "表（箱）前、表（箱）后金额须同时填写")
            elif before + after != ordered["amount"]:
                reader.add(table.sheet, row, "H列、I列（表（箱）前、后金额）",
                           f"表前{before}+表后{after}={before + after}元，与金额{ordered['amount']}元"
                           f"（数量×单价）不符")
        return ordered
    return out


# ---------------------------------------------------------------- into project data


def _default(path: tuple[str, ...]) -> Any:
    """The model's default for a field; a sentinel when it has none (a required field)."""
    model: Any = Project
    info = None
    for key in path:
        info = model.model_fields[key]
        inner = info.annotation
        model = next((a for a in getattr(inner, "__args__", (inner,))
                      if isinstance(a, type) and issubclass(a, BaseModel)), None)
    assert info is not None
    if info.is_required():
        return _REQUIRED
    return info.get_default(call_default_factory=True)


_REQUIRED = object()


def _same(a: Any, b: Any) -> bool:
    return not diff({"v": a}, {"v": b})


def _put(values: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    default = _default(path)
    parent = values
    for key in path[:-1]:
        if not isinstance(parent.get(key), dict):
            if value is None or _same(value, default):
                return
            parent[key] = {}
        parent = parent[key]
    key = path[-1]
    if value is None:
        parent.pop(key, None)
    elif key not in parent and _same(value, default):
        return  # a default the file leaves out stays left out
    else:
        parent[key] = value


def merged(base: dict[str, Any], form: dict[str, Any], community_id: str) -> dict[str, Any]:
    """The project data: base with every field the form holds replaced by the form's value."""
    new = copy.deepcopy(base)
    new.setdefault("community", community_id)
    for _, _, fld in F.iter_fields():
        _put(new, fld.path, form[".".join(fld.path)])
    for table in F.TABLES:
        path = tuple(table.key.split("."))
        rows = form[table.key]
        if path == ("acceptance", "results"):
            if rows or isinstance(new.get("acceptance"), dict):
                new.setdefault("acceptance", {})["results"] = rows
        elif rows or path[0] in new:
            new[path[0]] = rows
    for group in GROUPS:
        part = new.get(group)
        if isinstance(part, dict) and not any(v not in (None, [], {}) and not _zero(v)
                                              for v in _leaves(part)):
            new.pop(group)
    return new


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [value] if value else []
    return [value]


def _zero(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value == 0


def _validate(reader: _Reader, values: dict[str, Any], target: Path) -> None:
    try:
        project = Project.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            found = next((reader.places[loc[:cut]] for cut in range(len(loc), 0, -1)
                          if loc[:cut] in reader.places), None)
            if found is None:  # a whole group (survey …) missing a field the form has no cell for
                group = loc[0] if loc else ""
                found = next((p for k, p in reader.places.items() if k and k[0] == group), None)
            sheet, row, place = found or ("basic", 0, "")
            reader.add(sheet, row or None, place or ".".join(str(p) for p in loc), describe_error(err))
        return
    survey = project.survey
    if survey is not None and survey.counted:  # uncounted: the counts are left to a household roster
        assert survey.support is not None and survey.oppose is not None and survey.no_answer is not None
        total = survey.support + survey.oppose + survey.no_answer
        if total != survey.households_asked:
            sheet, row, place = reader.places[("survey", "households_asked")]
            reader.add(sheet, row, place, f"同意{survey.support}+反对{survey.oppose}+未表态{survey.no_answer}"
                                          f"={total}户，与征询户数{survey.households_asked}户不一致")
    for index, result in enumerate(project.acceptance.results if project.acceptance else []):
        if result.item not in reader.data.items:
            sheet, row, place = reader.places[("acceptance", "results", index, "item")]
            reader.add(sheet, row, place, f"“{result.item}”不在改造项目分类表中")


def _row_limit(sheets: list[str]) -> int:
    """A form has some 200 rows a sheet; a roster workbook (the import takes both) a row a household."""
    return roster_io.MAX_ROWS if roster_io.META_SHEET in sheets else FORM_ROWS


def import_form(path: Path, data: DataSet, force: bool = False, seen: set[str] | None = None) -> FileResult:
    """Check one returned form and write its project file when it has no problem."""
    result = FileResult(path=path)
    try:
        wb = open_workbook(path, max_rows=_row_limit)
        if roster_io.is_roster(wb):
            return _import_roster(result, wb, data, seen)
        community_id, baseline, form, reader = read_form(path, data, wb)
    except DataError as exc:
        result.problems = exc.problems
        return result
    result.community = community_id
    if seen is not None:
        if community_id in seen:
            result.problems.append(Problem(path, f"与本次导入的另一个文件是同一个小区（{community_id}）的填报表；"
                                                 "请只导入其中一个"))
            return result
        seen.add(community_id)
    target = data.sources.get(f"project:{community_id}") or data.root / "projects" / f"{community_id}.yaml"
    result.target = target
    doc = load_for_edit(target, header=f"由填报表“{path.name}”导入；字段说明见 docs/data.md。")
    current = doc.data
    new = merged(current, form, community_id)
    _validate(reader, new, target)
    if reader.problems:
        result.problems = reader.problems
        return result
    same = F.data_hash(new) == F.data_hash(current)  # the same form again: nothing to write, nothing lost
    if F.data_hash(current) != F.data_hash(baseline) and not force and not same:
        theirs = diff(baseline, current)  # in the file's order, rows counted from 1
        mine = {c.loc for c in diff(baseline, merged(baseline, form, community_id))}
        both = [c.label for c in theirs if c.loc in mine]
        only = [c.label for c in theirs if c.loc not in mine]
        text = f"{target} 在导出填报表之后已被修改，为免覆盖已停止，未写入。"
        if both:
            text += f"双方都改过的项目：{'；'.join(both)}。"
        if only:
            text += f"只在数据文件中改过的项目：{'；'.join(only[:10])}{'等' if len(only) > 10 else ''}。"
        text += "请重新导出填报表后填写；确认以填报表为准时加 --force"
        result.problems.append(Problem(path, text))
        result.conflict = (both, only)
        return result
    result.changes = apply(doc, new)
    result.new_file = doc.text is None
    result.written = save(doc)
    return result


def _import_roster(result: FileResult, wb: Workbook, data: DataSet, seen: set[str] | None) -> FileResult:
    """A roster workbook returned with the forms: through the checks of `gaizao roster import`."""
    book = roster_io.read_workbook(result.path, wb)
    result.community = book.community
    if seen is not None and book.community is not None:
        key = f"roster:{book.community}"
        if key in seen:
            result.problems.append(Problem(result.path, f"与本次导入的另一个文件是同一个小区（{book.community}）的"
                                                        "住户名册；请只导入其中一个"))
            return result
        seen.add(key)
    if book.roster is None and book.community in data.communities and book.city == data.programme.city:
        result.target = roster_io.roster_path(data, book.community)
        result.note = "住户名册还没有填写（各行只有楼栋），未导入"
        return result
    existed = book.community is not None and sealed.which(roster_io.roster_path(data, book.community)) is not None
    stored = roster_io.store_roster(data, book)
    result.target, result.households, result.written = stored.path, stored.households, stored.changed
    result.changes = [Change(("roster",), what, before, after) for what, before, after in stored.changes]
    result.new_file = stored.changed and not existed
    return result


def import_forms(data: DataSet, files: list[Path], force: bool = False) -> ImportSummary:
    """Import every workbook; the ones with problems write nothing, the others go in."""
    seen: set[str] = set()
    return ImportSummary([import_form(path, data, force, seen) for path in files])
