"""Residents' personal data on web pages and in records: names and phone numbers masked (张*明,
138****1234) everywhere but the roster workbook the street office works in."""

from __future__ import annotations

import re
from collections.abc import Iterable

from generator.web.audit import FieldChange

PERSONAL = ("户主姓名", "联系电话")
"""The roster columns that name or reach a resident (the change's field ends with one of them)."""
_DIGITS = re.compile(r"\d")


def mask_name(name: str) -> str:
    """A name with its middle hidden: 张三 → 张*, 张小明 → 张*明, 欧阳小明 → 欧**明."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """A phone number with all but its first three and last four digits hidden: 138****1234."""
    digits = _DIGITS.findall(phone)
    if len(digits) <= 7:
        return "*" * len(phone.strip())
    return "".join(digits[:3]) + "*" * (len(digits) - 7) + "".join(digits[-4:])


def mask_value(field: str, value: str) -> str:
    """A recorded value as others may see it: masked when it is a resident's name or phone."""
    if value in ("空", "") or not field.endswith(PERSONAL):
        return value
    return mask_phone(value) if field.endswith("联系电话") else mask_name(value)


def masked(changes: Iterable[FieldChange]) -> list[FieldChange]:
    """Changes with residents' names and phones masked: what the audit log keeps of a roster."""
    return [FieldChange(c.field, mask_value(c.field, c.before), mask_value(c.field, c.after)) for c in changes]
