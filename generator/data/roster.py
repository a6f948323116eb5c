"""A community's household roster (住户名册): one row per household and its survey answer.

Stored as data/rosters/<community id>.csv (UTF-8 with a byte-order mark, so Excel and WPS open
it in Chinese), edited through `gaizao roster export/import` or any text editor. Rosters sit in
a folder of their own because they hold residents' names and phone numbers: that folder can be
kept from whoever receives the rest of the data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from generator.data import sealed
from generator.data.cells import date as read_date
from generator.data.models import Number, Record, Text
from generator.errors import DataError, Problem

ANSWERS: tuple[str, ...] = ("同意", "不同意", "未表态")
"""The answers a household can give; an empty answer means it has not been asked yet."""
PROPERTY_MODES: tuple[str, ...] = ("专业化物业管理", "业主自治管理")
YES, NO = "是", "否"


def unit_name(unit: str | None) -> str:
    """A unit as an address writes it: 2 → 2单元, 东单元 as it is."""
    unit = unit or ""
    return unit + "单元" if unit and unit[-1].isdigit() else unit


def household_address(building: str, unit: str | None, room: str) -> str:
    """楼栋、单元、房号 as one address: 3栋2单元301."""
    return f"{building}{unit_name(unit)}{room}"


class Household(Record):
    building: Text = Field(title="楼栋")
    unit: Text | None = Field(default=None, title="单元")
    room: Text = Field(title="房号")
    head: Text | None = Field(default=None, title="户主姓名")
    phone: Text | None = Field(default=None, title="联系电话")
    area: Number | None = Field(default=None, title="建筑面积（㎡）")
    tenure: Text | None = Field(default=None, title="产权类型")
    answer: Text | None = Field(default=None, title="意见")
    """同意、不同意 or 未表态 (checked by a rule, so a wrong word is reported with its row)."""
    wants: tuple[Text, ...] = Field(default=(), title="希望改造项目")
    pays: bool | None = Field(default=None, title="愿意分担费用")
    management: Literal["专业化物业管理", "业主自治管理"] | None = Field(default=None, title="物业管理方式")
    fund: bool | None = Field(default=None, title="同意建立维修资金")
    date: dt.date | None = Field(default=None, title="征询日期")
    remarks: Text | None = Field(default=None, title="备注")

    @property
    def address(self) -> str:
        """楼栋、单元、房号 as one address: 3栋2单元301."""
        return household_address(self.building, self.unit or "", self.room)


COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (name, info.title or name) for name, info in Household.model_fields.items()
)
"""(field, column heading) in the roster's column order."""
REQUIRED = ("building", "room")


class Roster(Record):
    households: tuple[Household, ...] = Field(title="住户")
    rows: tuple[int, ...] = Field(title="行号")
    """Each household's row in the file it was read from (a CSV line or a worksheet row)."""
    illustrative: bool = Field(default=False, title="示例数据")

    @property
    def answered(self) -> bool:
        """Some household has given its answer: the survey has begun."""
        return any(h.answer for h in self.households)


ILLUSTRATIVE_LINE = "# 示例数据：姓名、电话均为随机编造（100号段不存在），不是真实住户信息。"


def heading_key(text: str) -> str:
    """A heading as compared: no spaces, half-width, without a unit in brackets."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text)
    return re.sub(r"\(.*?\)$", "", text)


_BY_HEADING = {heading_key(title): name for name, title in COLUMNS}
_TITLES = dict(COLUMNS)


def read_headings(headings: Sequence[Any], where: str) -> tuple[dict[int, str], list[str]]:
    """Map column positions to fields by their headings, in any order; the problems found."""
    found: dict[int, str] = {}
    problems = []
    for index, heading in enumerate(headings):
        if heading is None or str(heading).strip() == "":
            continue
        field = _BY_HEADING.get(heading_key(str(heading)))
        if field is None:
            problems.append(f"{where}第{index + 1}列：未知的列名“{heading}”，"
                            f"可用的列名：{'、'.join(_TITLES.values())}")
        elif field in found.values():
            problems.append(f"{where}第{index + 1}列：列名“{heading}”重复")
        else:
            found[index] = field
    for field in REQUIRED:
        if field not in found.values():
            problems.append(f"{where}缺少“{_TITLES[field]}”列")
    return found, problems


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone or room number Excel stored as a number
    text = str(value).strip()
    return text or None


def _yes_no(text: str) -> bool:
    if text in ("是", "愿意", "同意", "Y", "y", "1"):
        return True
    if text in ("否", "不愿意", "不同意", "N", "n", "0"):
        return False
    raise ValueError(f"应填“是”或“否”（现为：“{text}”）")


def plain(number: Decimal) -> Decimal:
    """A number without trailing zeros, as Excel gives it back: 81.0 → 81, 85.90 → 85.9."""
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def _area(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("应为数字")
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as the cell's value
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"应为数字，如 86.5（现为：“{value}”）") from None
    if not number.is_finite() or number <= 0:
        raise ValueError(f"应为大于0的数字（现为：“{value}”）")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(f"最多保留2位小数（现为：“{value}”）")
    return plain(number)


def _wants(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(r"[、,，;；]", text) if part.strip())


def _value(field: str, raw: Any) -> Any:
    """A cell's value as the field holds it; raises ValueError with the problem in Chinese."""
    if field == "area":
        return _area(raw)
    if field == "date":
        return read_date(raw)
    text = _text(raw)
    assert text is not None
    if field in ("pays", "fund"):
        return _yes_no(text)
    if field == "wants":
        return _wants(text)
    if field == "management" and text not in PROPERTY_MODES:
        raise ValueError(f"只能是以下之一：{'、'.join(PROPERTY_MODES)}（现为：“{text}”）")
    return text


Row = tuple[int, dict[str, Any]]
"""A row's number and its cells by field (blank cells left out)."""


def parse(rows: Iterable[Row], where: str, illustrative: bool = False) -> Roster:
    """The roster of rows already split into fields; DataError naming every bad cell by row and column."""
    households, numbers, problems = [], [], []
    for number, cells in rows:
        values: dict[str, Any] = {}
        for field, raw in cells.items():
            try:
                values[field] = _value(field, raw)
            except ValueError as exc:
                problems.append(Problem(where, str(exc), field=f"第{number}行“{_TITLES[field]}”列"))
        for field in REQUIRED:
            if field not in cells:
                problems.append(Problem(where, "不能为空", field=f"第{number}行“{_TITLES[field]}”列"))
        try:
            households.append(Household.model_validate(values))
            numbers.append(number)
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                if field in REQUIRED and field not in cells:
                    continue  # said above
                problems.append(Problem(where, err["msg"].removeprefix("Value error, "),
                                        field=f"第{number}行“{_TITLES.get(field, field)}”列"))
    if problems:
        raise DataError(problems)
    return Roster(households=tuple(households), rows=tuple(numbers), illustrative=illustrative)


def _cell(field: str, value: Any) -> str:
    """A field's value as the roster file and the exported workbook write it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if field == "wants":
        return "、".join(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def cells(household: Household) -> list[str]:
    """One household's row, column by column."""
    return [_cell(name, getattr(household, name)) for name, _ in COLUMNS]


def read_csv(path: Path) -> Roster:
    """Read a roster file; DataError naming the file, row and column of every problem."""
    if path.is_file() and not path.resolve().is_relative_to(path.parent.parent.resolve()):
        # a link to a file outside the data folder is not read: its first line would be quoted back
        # (devices and pipes are not regular files: read_bytes names them as such)
        raise DataError([Problem(path, "链接到数据文件夹以外的文件，已拒绝；请把名册文件本身放进 rosters 文件夹")])
    try:
        text = sealed.read(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError([Problem(path, "不是 UTF-8 编码的文本；请用 gaizao roster import 从 Excel 导入，"
                                       "或另存为“CSV UTF-8”")]) from None
    illustrative = False
    rows: list[Row] = []
    fields: dict[int, str] | None = None
    reader = csv.reader(io.StringIO(text, newline=""))
    for record in reader:
        number = reader.line_num
        if record and record[0].startswith("#"):
            illustrative = illustrative or "示例" in record[0]
            continue
        if not any(value.strip() for value in record):
            continue  # blank rows are left out
        if fields is None:
            fields, problems = read_headings(record, "")
            if problems:
                raise DataError([Problem(path, p) for p in problems])
            continue
        extra = [v for i, v in enumerate(record) if i not in fields and v.strip()]
        if extra:
            raise DataError([Problem(path, f"有{len(extra)}个值不在任何一列之下（逗号多了？）",
                                     field=f"第{number}行")])
        rows.append((number, {fields[i]: v for i, v in enumerate(record) if i in fields and v.strip()}))
    if fields is None:
        raise DataError([Problem(path, "没有列名行（楼栋、房号……）")])
    return parse(rows, str(path), illustrative)


def write_csv(roster: Roster) -> bytes:
    """The roster file's bytes: a heading row, then one row per household, in roster order."""
    out = io.StringIO(newline="")
    if roster.illustrative:
        out.write(ILLUSTRATIVE_LINE + "\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title for _, title in COLUMNS])
    for household in roster.households:
        writer.writerow(cells(household))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# ---------------------------------------------------------------- tally and checks


class Tally(Record):
    """Answers counted over some households: all of a community's, or one building's."""

    name: str
    households: int
    support: int = 0
    oppose: int = 0
    no_answer: int = 0
    area: Decimal = Decimal(0)
    area_support: Decimal = Decimal(0)
    area_oppose: Decimal = Decimal(0)
    area_missing: int = 0
    """Households whose floor area is not given."""

    @property
    def asked(self) -> int:
        return self.support + self.oppose + self.no_answer

    @property
    def has_area(self) -> bool:
        return self.area_missing == 0 and self.area > 0


def tally(households: Iterable[Household], name: str = "合计") -> Tally:
    """Count the answers and floor areas of households (not yet asked ones count in neither)."""
    counts = {"同意": 0, "不同意": 0, "未表态": 0}
    total = 0
    area = area_support = area_oppose = Decimal(0)
    missing = 0
    for h in households:
        total += 1
        if h.answer in counts:
            counts[h.answer] += 1
        if h.area is None:
            missing += 1
        else:
            area += h.area
            if h.answer == "同意":
                area_support += h.area
            elif h.answer == "不同意":
                area_oppose += h.area
    return Tally(name=name, households=total, support=counts["同意"], oppose=counts["不同意"],
                 no_answer=counts["未表态"], area=area, area_support=area_support,
                 area_oppose=area_oppose, area_missing=missing)


def by_unit(roster: Roster) -> list[Tally]:
    """One tally per building and unit (单元), in the order they first appear."""
    groups: dict[str, list[Household]] = {}
    for h in roster.households:
        unit = h.unit or ""
        name = h.building + (unit + ("单元" if unit[-1:].isdigit() else "") if unit else "")
        groups.setdefault(name, []).append(h)
    return [tally(hs, name) for name, hs in groups.items()]


def by_building(roster: Roster) -> list[Tally]:
    """One tally per building, in the order buildings first appear."""
    groups: dict[str, list[Household]] = {}
    for h in roster.households:
        groups.setdefault(h.building, []).append(h)
    return [tally(hs, name) for name, hs in groups.items()]


_MOBILE = re.compile(r"1\d{10}")
_LANDLINE = re.compile(r"(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?")


def is_phone(text: str) -> bool:
    """An 11-digit mobile number or a landline number (area code, extension optional)."""
    compact = re.sub(r"[\s()（）]", "", text)
    return bool(_MOBILE.fullmatch(compact) or _LANDLINE.fullmatch(compact))


Issue = tuple[int | None, str, str]
"""A roster problem: its row (None: the whole roster), the column and the message."""


def issues(roster: Roster, buildings: dict[str, int], items: set[str]) -> Iterator[Issue]:
    """What is wrong in a roster: answers, phones, wanted items, duplicates, households per building."""
    seen: dict[tuple[str, str, str], int] = {}
    for h, row in zip(roster.households, roster.rows, strict=True):
        if h.answer is not None and h.answer not in ANSWERS:
            yield row, "意见", f"“{h.answer}”不是可选的意见，只能是：{'、'.join(ANSWERS)}（未征询的留空）"
        if h.phone is not None and not is_phone(h.phone):
            yield row, "联系电话", f"“{h.phone}”不是电话号码（手机11位，固定电话可带区号和分机）"
        for item in h.wants:
            if item not in items:
                yield row, "希望改造项目", f"“{item}”不在项目分类表（catalogue.yaml）中"
        key = (h.building, h.unit or "", h.room)
        if key in seen:
            yield row, "房号", f"{h.address}与第{seen[key]}行重复"
        else:
            seen[key] = row
    if buildings:
        counts = {t.name: t.households for t in by_building(roster)}
        for name, count in counts.items():
            if name not in buildings:
                row = roster.rows[next(i for i, h in enumerate(roster.households) if h.building == name)]
                yield row, "楼栋", f"楼栋“{name}”不在项目资料的楼栋（buildings）中"
            elif count != buildings[name]:
                yield None, "楼栋", f"{name}名册有{count}户，项目资料写{buildings[name]}户"
        for name, count in buildings.items():
            if name not in counts:
                yield None, "楼栋", f"{name}（{count}户）在名册中没有住户"


# ---------------------------------------------------------------- privacy


COMPOUND_SURNAMES = frozenset((
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 司空 夏侯 轩辕 令狐 钟离 闾丘 澹台 端木 "
    "南宫 西门 独孤 呼延 万俟 赫连 申屠 太史 濮阳 淳于 单于 百里 东郭 南门 羊舌 微生 左丘 公冶 拓跋 第五"
).split())
"""Two-character surnames, kept whole as a one-character surname is."""

_NOTE = re.compile(r"[（(【\[].*$|(?:代理人|代理|代签)$")
_LATIN = re.compile(r"[A-Za-z][A-Za-z'.-]*")


def _mask_note(note: str) -> str:
    """A bracketed note stays, but a name written after its colon (（代理人：王五）) is masked too."""
    colon = re.search(r"[:：]", note)
    if not colon:
        return note
    rest = note[colon.end():]
    end = len(rest.rstrip("）)】]"))
    return note[:colon.end()] + mask_name(rest[:end]) + rest[end:]


def mask_name(name: str | None) -> str:
    """The surname and the given name's last character: 张*明, 欧阳*明, 张*, J*** S****, 贾*（代理人）."""
    if not name:
        return ""
    text = name.strip()
    note_at = _NOTE.search(text)
    note = _mask_note(note_at.group()) if note_at else ""
    text = text[:note_at.start()].strip() if note_at else text
    if not text:
        return note
    if _LATIN.fullmatch(text.replace(" ", "")) or all(_LATIN.fullmatch(w) for w in text.split()):
        # a Latin name shows only each word's initial: the given name's last letter would say too much
        return " ".join(w[0] + re.sub(r"[A-Za-z]", "*", w[1:]) for w in text.split()) + note
    text = "".join(text.split())  # 张 小明 is 张小明
    surname = 2 if text[:2] in COMPOUND_SURNAMES and len(text) > 2 else 1
    given = text[surname:]
    if len(given) <= 1:
        masked = "*"  # a one-character given name, or none, shown would be the whole name
    else:
        masked = "".join("·" if ch == "·" else "*" for ch in given[:-1]) + given[-1]
    return text[:surname] + masked + note


def mask_phone(phone: str | None) -> str:
    """138****1234: the first three and last four digits of a mobile, the last four of any other."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def mask_room(room: str) -> str:
    """The floor digit kept, the rest starred: 301 → 3**."""
    return room[:1] + "*" * (len(room) - 1)
