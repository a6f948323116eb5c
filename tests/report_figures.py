"""The figures `gaizao report` printed, read back from its output folder and keyed as the dashboard keys them.

Keys are those of the dashboard's data-figure attributes (programme.households, year-2018.finished,
cell-2018-东区.paid_total, pilot.2.rate …); values are the text as printed.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

from generator.data.loader import DataSet
from generator.documents.figures import PARTY_KEYS
from generator.documents.progress import Stats
from generator.documents.report import plan_path, report_path, report_years, statistics_path
from generator.render.filters import percent, wan
from tests.golden_reports import report_text

TARGET_FIELDS = (("communities", "finished", "finished_rate"),
                 ("households", "households_done", "finished_households_rate"),
                 ("investment_wan", "paid_total", "investment_rate"))
DISTRICT_ROW = ("communities", "finished", "households", "households_done", "investment_wan", "paid_total",
                "finished_households_rate")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(text: str) -> dict[str, list[list[str]]]:
    """The rows of each table, by the first cells of its header row."""
    out: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = _cells(line)
        if current is None:
            current = out.setdefault(" ".join(cells[:3]), [])
        else:
            current.append(cells)
    return out


def _wan(value: object) -> str:
    return wan(value, 2)


def report_figures(data: DataSet, out: Path) -> dict[str, str]:
    """Every figure of the reports, plan table and statistics `gaizao report` wrote under out."""
    found: dict[str, str] = {}
    pilot = data.programme.pilot.year
    for year in report_years(data):
        tables = _tables(report_text((out / report_path(data, year, None)).read_bytes()))
        targets = next(rows for head, rows in tables.items() if head.startswith("指标"))
        for i, (row, fields) in enumerate(zip(targets, TARGET_FIELDS, strict=True)):
            if year == pilot:
                found[f"pilot.{i}.target"], found[f"pilot.{i}.done"], found[f"pilot.{i}.rate"] = row[1:4]
            else:
                for field, value in zip(fields, row[1:4], strict=True):
                    found[f"year-{year}.{field}"] = value
        districts = next(rows for head, rows in tables.items() if head.startswith("县（区）"))
        for row in districts:
            key = f"year-{year}" if row[0] == "合计" else f"cell-{year}-{row[0]}"
            for field, value in zip(DISTRICT_ROW, row[1:], strict=True):
                found[f"{key}.{field}"] = value
        funding = next(rows for head, rows in tables.items() if "市级财政" in head)
        for party, value in zip(PARTY_KEYS, funding[-1][1:7], strict=True):
            found[f"year-{year}.paid.{party}"] = value
        for district in data.districts:
            own = _tables(report_text((out / report_path(data, year, district)).read_bytes()))
            rows = next(r for head, r in own.items() if head.startswith("指标"))
            for row, fields in zip(rows, TARGET_FIELDS, strict=True):
                for field, value in zip(fields, row[1:4], strict=True):
                    found[f"cell-{year}-{district}.{field}"] = value
    summary = openpyxl.load_workbook(out / plan_path(data), data_only=True).worksheets[1]
    for row in summary.iter_rows(min_row=5, values_only=True):
        name = row[1]
        if name in data.districts:
            key = f"district-{name}"
        elif row[0] == "合计" and "programme.communities" not in found:
            key = "programme"
        elif isinstance(name, str) and name[:4].isdigit() and name[4] == "年":
            key = f"year-{name[:4]}"
        else:
            continue
        found[f"{key}.communities"], found[f"{key}.households"] = str(row[2]), str(row[3])
        found[f"{key}.investment_wan"] = _wan(row[4])
    for year in data.programme.years:
        found.update(_statistics(data, out / statistics_path(data, year, 12), year))
    return found


STATISTICS_COLUMNS = {2: "communities", 3: "households", 6: "investment_wan", 9: "started",
                      10: "started_households", 15: "finished", 16: "households_done"}
STATISTICS_RATES = {11: ("started_rate", 2), 12: ("started_households_rate", 3), 17: ("finished_rate", 2),
                    18: ("finished_households_rate", 3)}
"""Column (0-based) → key, and for a rate the column of its denominator."""


def _statistics(data: DataSet, path: Path, year: int) -> dict[str, str]:
    """The figures of a year's year-end return (cached values), keyed as the dashboard keys them."""
    found: dict[str, str] = {}
    ws = openpyxl.load_workbook(path, data_only=True).worksheets[0]
    for row in ws.iter_rows(min_row=5, max_row=5 + len(data.districts), values_only=True):
        key = f"year-{year}" if row[0] == "全市" else f"cell-{year}-{row[1]}"
        for col, field in STATISTICS_COLUMNS.items():
            found[f"{key}.{field}"] = _wan(row[col]) if col == 6 else str(row[col])
        for col, (field, den) in STATISTICS_RATES.items():
            if row[den]:  # the dashboard shows — where nothing is planned, the sheet 0
                found[f"{key}.{field}"] = percent(row[col])
    return found


def dashboard_figures(s: Stats) -> dict[str, str]:
    """The same keys made from the dashboard's figures, formatted as the dashboard prints them."""
    def pct(value: object) -> str:
        return "—" if value is None else percent(value)

    out: dict[str, str] = {}
    groups = [("programme", s.programme), *((f"year-{g.year}", g) for g in s.years),
              *((f"district-{g.district}", g) for g in s.districts),
              *((f"cell-{y}-{d}", g) for (y, d), g in s.cells.items())]
    for key, g in groups:
        r = g.rates()
        out.update({
            f"{key}.communities": str(g.communities), f"{key}.households": str(g.households),
            f"{key}.investment_wan": _wan(g.investment_wan), f"{key}.finished": str(g.finished),
            f"{key}.households_done": str(g.households_done), f"{key}.paid_total": _wan(g.paid_total),
            f"{key}.started": str(g.started), f"{key}.started_households": str(g.started_households),
            f"{key}.started_rate": pct(r["started"]),
            f"{key}.started_households_rate": pct(r["started_households"]),
            f"{key}.finished_rate": pct(r["finished"]),
            f"{key}.finished_households_rate": pct(r["finished_households"]),
            f"{key}.investment_rate": pct(r["investment"]),
        })
        out.update({f"{key}.paid.{p}": _wan(g.paid_wan[p]) for p in PARTY_KEYS})
    for i, row in enumerate(s.pilot):
        last = i == len(s.pilot) - 1
        out[f"pilot.{i}.target"] = _wan(row.target) if last else str(row.target)
        out[f"pilot.{i}.done"] = _wan(row.done) if last else str(row.done)
        out[f"pilot.{i}.rate"] = pct(row.rate)
    return out
