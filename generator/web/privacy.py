"""Residents' personal data on web pages and in records: names and phone numbers masked (张*明,
138****1234, as the papers that leave the community print them) everywhere but the roster workbook
the street office works in."""

from __future__ import annotations

from collections.abc import Iterable

from generator.data.roster import mask_name, mask_phone
from generator.web.accounts import User
from generator.web.audit import FieldChange

PERSONAL = ("户主姓名", "联系电话", "代理人姓名")
"""The roster columns that name or reach a resident (the change's field ends with one of them)."""


def mask_value(field: str, value: str) -> str:
    """A recorded value as others may see it: masked when it is a resident's name or phone."""
    if value in ("空", "") or not field.endswith(PERSONAL) or "*" in value:
        return value  # not personal, or already masked (records kept masked since the audit chain)
    return mask_phone(value) if field.endswith("联系电话") else mask_name(value)


def masked(changes: Iterable[FieldChange]) -> list[FieldChange]:
    """Changes with residents' names and phones masked: what the audit log keeps of a roster."""
    return [FieldChange(c.field, mask_value(c.field, c.before), mask_value(c.field, c.after)) for c in changes]


def masked_for(user: User) -> bool:
    """Whether papers print residents masked for this account: for all but the street office that collected
    them (the caller has checked the community is in the account's scope, so a street office's is its own)."""
    return user.role != "street"
