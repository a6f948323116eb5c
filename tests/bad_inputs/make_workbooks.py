"""Write the workbook cases of tests/bad_inputs/ (run `python -m tests.bad_inputs.make_workbooks`).

The workbooks are committed so a reader can open them in Excel or WPS; this script is how they
were made, one small function per case, each changing one thing in the same two-row plan table.
Each case's expect.txt is written by hand, next to its workbook.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

HERE = Path(__file__).resolve().parent
NAME = "计划表.xlsx"
HEADER = ["序号", "老旧小区名称", "县(区)", "建成时间", "小区位置", "户数", "预计投资(万元)",
          "改造年度计划", "备注"]
ROWS = [
    [1, "炳草岗园林苗圃小区", "东区", None, "临江路（攀枝花市武警支队斜对面）", 300, 750, "2018年", None],
    [2, "大渡口街道金福小区", "东区", None, "五十四小商品批发城后", 1130, 2825, "2018年", None],
]
"""Rows 4 and 5 of the sheet: the first two rows of the bundled plan (ids dongqu-01, -02)."""
TOTAL_ROW = 6


def plan_table(change: Callable[[Worksheet], object] | None = None) -> openpyxl.Workbook:
    """Annex 1 as clerks lay it out: 附件1, the title, the header on row 3, rows, 合计 on row 6."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Sheet1"
    ws.append(["附件1"])
    ws.append(["老旧小区改造年度实施计划表"])
    ws.merge_cells("A2:I2")
    ws.append(HEADER)
    for row in ROWS:
        ws.append(list(row))
    ws.append(["合计", None, None, None, None, 1430, 3575, None, None])
    ws.merge_cells(f"A{TOTAL_ROW}:E{TOTAL_ROW}")
    if change is not None:
        change(ws)
    return wb


def save(case: str, wb: openpyxl.Workbook, name: str = NAME) -> None:
    folder = HERE / case
    folder.mkdir(exist_ok=True)
    wb.save(folder / name)


def raw(case: str, name: str, content: bytes) -> None:
    folder = HERE / case
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(content)


def _set(**cells: object) -> Callable[[Worksheet], None]:
    def change(ws: Worksheet) -> None:
        for ref, value in cells.items():
            ws[ref] = value
    return change


def _merge(ref: str) -> Callable[[Worksheet], None]:
    return lambda ws: ws.merge_cells(ref)


def _text(ref: str, value: str) -> Callable[[Worksheet], None]:
    """A cell holding text exactly as typed (also text that starts with =)."""
    def change(ws: Worksheet) -> None:
        ws[ref] = value
        ws[ref].data_type = "s"
    return change


def _hide_row(row: int) -> Callable[[Worksheet], None]:
    def change(ws: Worksheet) -> None:
        ws.row_dimensions[row].hidden = True
    return change


def _hide_column(letter: str) -> Callable[[Worksheet], None]:
    def change(ws: Worksheet) -> None:
        ws.column_dimensions[letter].hidden = True
    return change


def hidden_sheet() -> openpyxl.Workbook:
    wb = plan_table()
    wb.active.title = "计划表"  # type: ignore[union-attr]
    wb.active.sheet_state = "hidden"  # type: ignore[union-attr]
    notes = wb.create_sheet("说明", 0)
    notes["A1"] = "本工作簿的计划表在隐藏的工作表中"
    wb.active = 0
    return wb


def corrupt() -> bytes:
    """A real workbook cut off halfway, as an interrupted download or copy leaves it."""
    buffer = io.BytesIO()
    plan_table().save(buffer)
    return buffer.getvalue()[: len(buffer.getvalue()) // 2]


def old_xls() -> bytes:
    """The start of an OLE2 compound file, as every .xls (and .et, and password-protected
    .xlsx) begins; the tool recognises it from these bytes alone."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff" + b"\x00" * 482


CSV = ("序号,老旧小区名称,县(区),建成时间,小区位置,户数,预计投资(万元),改造年度计划,备注\n"
       "1,炳草岗园林苗圃小区,东区,,临江路（攀枝花市武警支队斜对面）,300,750,2018年,\n"
       "2,大渡口街道金福小区,东区,,五十四小商品批发城后,1130,2825,,\n")
HTML = ("<html><head><meta charset=\"utf-8\"></head><body><table>"
        "<tr><td>序号</td><td>老旧小区名称</td><td>县(区)</td><td>户数</td></tr>"
        "<tr><td>1</td><td>炳草岗园林苗圃小区</td><td>东区</td><td>300</td></tr>"
        "</table></body></html>\n")


def write_all() -> None:
    save("_good", plan_table())
    save("wb-merged-number", plan_table(_merge("F4:F5")))
    save("wb-merged-across", plan_table(_merge("B5:C5")))
    save("wb-hidden-row", plan_table(_hide_row(5)))
    save("wb-hidden-column", plan_table(_hide_column("E")))
    save("wb-hidden-sheet", hidden_sheet())
    save("wb-formula-in-input", plan_table(_set(F5="=1000+130")))
    save("wb-total-mismatch", plan_table(_set(F6=1500)))
    save("wb-full-width-digits", plan_table(_text("F5", "１１３０")))
    save("wb-thousands-as-text", plan_table(_text("F5", "1,130")))
    save("wb-negative-households", plan_table(_set(F5=-1130)))
    save("wb-absurd-households", plan_table(_set(F5=11300000, F6=11300300)))
    save("wb-absurd-investment", plan_table(_set(G5=1e12, G6=1e12 + 750)))
    save("wb-unknown-district", plan_table(_set(C5="东城区")))
    save("wb-year-outside-programme", plan_table(_set(H5="2025年")))
    save("wb-error-value", plan_table(_set(G5="#REF!")))
    save("wb-date-as-name", plan_table(_set(B5=dt.datetime(2018, 5, 1))))
    save("wb-duplicate-rows", plan_table(_set(B5="炳草岗园林苗圃小区")))
    save("wb-year-count", plan_table(lambda ws: (_set(H4="2018年（共3个）", H5=None)(ws),
                                                 ws.merge_cells("H4:H5"))))
    save("wb-blank-year", plan_table(_set(H5=None)))
    save("wb-name-too-long", plan_table(_set(B5="大渡口街道金福小区" * 1200)))
    save("wb-no-header", plan_table(lambda ws: [ws.cell(3, c, f"第{c}列") for c in range(1, 10)]))
    save("wb-missing-column", plan_table(_set(F3="人口")))
    raw("wb-csv", "计划表.csv", CSV.encode("utf-8-sig"))
    raw("wb-old-xls", "计划表.xls", old_xls())
    raw("wb-html-as-xls", "计划表.xls", HTML.encode("utf-8"))
    raw("wb-empty", NAME, b"")
    raw("wb-corrupt", NAME, corrupt())
    raw("wb-text-renamed", NAME, "这是一个改了扩展名的记事本文件。\n".encode("gbk"))


if __name__ == "__main__":
    write_all()
    print(f"已写入 {HERE}")
