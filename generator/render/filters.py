"""Formatting shared by every renderer: money in 元 and 万元, 人民币大写, dates, percentages."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
TEN_THOUSAND = Decimal(10000)
FILL_IN = "________"
"""What an optional value that is still missing prints as: a line to fill in by hand."""


def q2(value: Decimal | int) -> Decimal:
    """Round to the 分, half up (the rule of Chinese financial forms)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_yuan(wan: Decimal) -> Decimal:
    """万元 → 元, exact."""
    return q2(wan * TEN_THOUSAND)


def to_wan(yuan: Decimal) -> Decimal:
    """元 → 万元, exact (at most 6 decimals)."""
    return (yuan / TEN_THOUSAND).normalize() if yuan else Decimal(0)


def yuan(value: Any) -> str:
    """1234567.5 → '1,234,567.50'."""
    if value is None or value == "":
        return FILL_IN
    return f"{q2(value):,.2f}"


def wan(value: Any, places: int | None = None) -> str:
    """An amount in 万元 as the plan writes it: 2387.5, 750; with places, fixed decimals."""
    if value is None or value == "":
        return FILL_IN
    amount = Decimal(value)
    if places is not None:
        return f"{amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"
    text = format(amount.normalize(), "f")
    return text


def yuan_as_wan(value: Any, places: int = 2) -> str:
    """An amount in 元 shown in 万元, rounded half up: 23875000 → '2,387.50'."""
    if value is None or value == "":
        return FILL_IN
    return wan(Decimal(value) / TEN_THOUSAND, places)


def daxie(value: Any) -> str:
    """人民币大写, rounded half up to the 分 first: 25765500 → '贰仟伍佰柒拾陆万伍仟伍佰元整'."""
    if value is None or value == "":
        return FILL_IN
    amount = q2(value)
    if amount < 0:
        return "负" + daxie(-amount)
    import cn2an  # here, not at the top: its import is a tenth of the web server's start

    return str(cn2an.an2cn(format(amount, "f"), "rmb"))


def cn_date(value: Any) -> str:
    """2018-06-01 → '2018年6月1日' (no zero padding); a missing date is a line to fill in."""
    if value is None or value == "":
        return "____年__月__日"
    if not isinstance(value, dt.date):
        raise TypeError(f"不是日期：{value!r}")
    return f"{value.year}年{value.month}月{value.day}日"


CN_DIGITS = "一二三四五六七八九"


def cn_numeral(n: int) -> str:
    """1 → 一 … 10 → 十, 11 → 十一, 20 → 二十, 99 → 九十九; other numbers in Arabic digits."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if not tens:
        return CN_DIGITS[ones - 1]
    return (CN_DIGITS[tens - 1] if tens > 1 else "") + "十" + (CN_DIGITS[ones - 1] if ones else "")


def percent(value: Any, places: int = 1) -> str:
    """0.9512 → '95.1%' (a ratio, not a percentage, goes in)."""
    if value is None or value == "":
        return FILL_IN
    pct = (Decimal(value) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{pct}%"


def or_fill(value: Any) -> Any:
    """An optional value, or a visible line to fill in by hand."""
    return FILL_IN if value is None or value == "" else value


WORD_JOINER = "\u2060"


def whole(text: Any) -> str:
    """A phone number or code kept on one line: word joiners (zero-width, no break) around its
    hyphens. LibreOffice still breaks after a non-breaking hyphen (U+2011) in Chinese text."""
    return "" if text is None else str(text).replace("-", f"{WORD_JOINER}-{WORD_JOINER}")


FILTERS = {
    "yuan": yuan,
    "wan": wan,
    "yuan_as_wan": yuan_as_wan,
    "daxie": daxie,
    "cn_date": cn_date,
    "percent": percent,
    "or_fill": or_fill,
    "whole": whole,
}
"""Every filter a template may use, by the name templates call it."""


def wan_rounded(yuan: Decimal) -> Decimal:
    """An amount in 元 as the 万元 figure a table prints: plain rounding to 0.01万元."""
    return (Decimal(yuan) / TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP)


def _title_filters() -> None:
    """The title-breaking filter (render/titles.py), registered with the others."""
    from typing import cast

    from generator.render.titles import title_lines

    # It takes the render context first (names from the data are words), unlike the others.
    FILTERS["title_lines"] = cast(Any, title_lines)


_title_filters()
