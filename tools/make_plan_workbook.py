"""Write an annex-1-shaped plan workbook (title, header, merged year cells, 合计/总计) from data.

    python tools/make_plan_workbook.py [--data DIR] OUT.xlsx

Used by the import tests and as a sample of what `gaizao import` reads.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from decimal import Decimal
from itertools import groupby
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from generator.data.loader import load
from generator.data.models import Community

HEADER = ["序号", "老旧小区名称", "县(区)", "建成时间", "小区位置", "户数", "预计投资(万元)",
          "改造年度计划", "备注"]
TITLE = "老旧小区改造年度实施计划表"
FIRST_ROW = 4
"""Row of the first community: 附件1, title, header above it."""


def plan_workbook(communities: Iterable[Community], *, sheet: str = "Sheet1",
                  footnote: str | None = None) -> Workbook:
    """A workbook laid out like annex 1: one merged year cell per year, a 合计 per year, a 总计."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    ws.append(["附件1"])
    ws.append([TITLE])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(HEADER))
    ws.cell(2, 1).font = Font(bold=True, size=16)
    ws.cell(2, 1).alignment = Alignment(horizontal="center")
    ws.append(HEADER)
    for cell in ws[3]:
        cell.font = Font(bold=True)
    rows = sorted(communities, key=lambda c: (c.year, c.seq))
    total_households, total_wan = 0, Decimal(0)
    for year, group in groupby(rows, key=lambda c: c.year):
        members = list(group)
        first = ws.max_row + 1
        for c in members:
            ws.append([c.seq, c.name, c.district, c.built, c.location, c.households,
                       c.investment_wan, None, c.remarks])
        last = ws.max_row
        ws.cell(first, 8, f"{year}年（共{len(members)}个）")
        ws.cell(first, 8).alignment = Alignment(vertical="center", wrap_text=True)
        if last > first:
            ws.merge_cells(start_row=first, start_column=8, end_row=last, end_column=8)
        households = sum(c.households for c in members)
        wan = sum((c.investment_wan for c in members), Decimal(0))
        ws.append(["合计", None, None, None, None, households, wan])
        total_households += households
        total_wan += wan
    ws.append(["总计", None, None, None, None, total_households, total_wan])
    if footnote:
        ws.append([footnote])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row,
                       end_column=len(HEADER))
    for letter, width in zip("ABCDEFGHI", (6, 28, 12, 12, 30, 8, 14, 14, 10), strict=True):
        ws.column_dimensions[letter].width = width
    return wb


def main(argv: list[str] | None = None) -> None:
    """Write the plan workbook of a data folder (the bundled one by default)."""
    parser = argparse.ArgumentParser(description="按数据文件夹生成附件1式样的计划表（.xlsx）")
    parser.add_argument("out", type=Path, help="输出的 .xlsx 文件")
    parser.add_argument("--data", type=Path, default=None, help="数据文件夹（默认随附的 data/）")
    args = parser.parse_args(argv)
    data = load(args.data)
    plan_workbook(data.active_communities()).save(args.out)
    print(f"已写入 {args.out}")


if __name__ == "__main__":
    main()
