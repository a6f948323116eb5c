"""Hard cases for workbook import: files that would hang the import or exhaust the memory.

Each ends within seconds with a message naming the file (generator/intake/workbook_safety.py
checks sizes, declarations and the extent of every sheet before openpyxl parses anything).
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import DataError
from generator.intake import workbook_safety
from generator.intake.plan_import import read_workbook
from tests.bad_inputs.make_workbooks import HEADER, plan_table
from tests.helpers import DataDir

SHEET = "xl/worksheets/sheet1.xml"


def saved(wb: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def rewritten(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    """The workbook with each part passed through change(name, content)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, change(info.filename, source.read(info.filename)))
    return out.getvalue()


def in_sheet(old: bytes, new: bytes) -> Callable[[str, bytes], bytes]:
    def change(name: str, content: bytes) -> bytes:
        if name == SHEET:
            assert old in content, content[:400]
            return content.replace(old, new, 1)
        return content

    return change


def refused(tmp_path: Path, data: bytes, expected: str, name: str = "计划表.xlsx") -> float:
    """Import the bytes; assert a DataError holding expected; return the seconds it took."""
    path = tmp_path / name
    path.write_bytes(data)
    start = time.monotonic()
    with pytest.raises(DataError) as exc:
        read_workbook(path)
    seconds = time.monotonic() - start
    assert expected in str(exc.value), str(exc.value)[:500]
    assert seconds < 30
    return seconds


GOOD = saved(plan_table())


def test_the_plain_table_still_imports(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_bytes(GOOD)
    assert len(read_workbook(path)) == 2


# ---------------------------------------------------------------- extent


def test_a_stray_value_at_xfd1048576_ends_fast_with_a_message(tmp_path: Path) -> None:
    data = rewritten(GOOD, in_sheet(b"</sheetData>",
                                    b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
                                    b"</sheetData>"))
    refused(tmp_path, data, "第1048576行 XFD列：只在计划表的列以外有内容（单元格 XFD1048576：“x”）")


def test_a_stray_empty_styled_cell_far_away_is_ignored(tmp_path: Path) -> None:
    data = rewritten(GOOD, in_sheet(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>'))
    path = tmp_path / "plan.xlsx"
    path.write_bytes(data)
    start = time.monotonic()
    assert len(read_workbook(path)) == 2
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("row", [b"999999999", b"1048577", b"0"])
def test_a_row_numbered_past_excels_grid_is_damage(tmp_path: Path, row: bytes) -> None:
    stray = b'<row r="' + row + b'"><c r="A' + row + b'"><v>1</v></c></row></sheetData>'
    data = rewritten(GOOD, in_sheet(b"</sheetData>", stray))
    refused(tmp_path, data, "超出 Excel 表格的范围")


def test_a_column_past_xfd_is_damage(tmp_path: Path) -> None:
    data = rewritten(GOOD, in_sheet(b"</sheetData>", b'<row r="9"><c r="XFE9"><v>1</v></c></row></sheetData>'))
    refused(tmp_path, data, "超出 Excel 表格的范围")


@pytest.mark.parametrize("ref", [b"J10:XFD1048576", b"A1:Z100000", b"A7:A1048576"])
def test_a_huge_merge_is_refused_before_parsing(tmp_path: Path, ref: bytes) -> None:
    data = rewritten(GOOD, in_sheet(b"</mergeCells>", b'<mergeCell ref="' + ref + b'"/></mergeCells>'))
    refused(tmp_path, data, "合并单元格 " + ref.decode() + " 覆盖")


# ---------------------------------------------------------------- size


def test_a_small_file_inflating_far_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The cap is 512 MB; lowered here so that making the bomb takes no time. What is checked is
    # the same: the sizes the zip declares, before anything is inflated.
    monkeypatch.setattr(workbook_safety, "MAX_INFLATED_BYTES", 32 * 1024 * 1024)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(GOOD)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        with target.open("xl/media/padding.bin", "w", force_zip64=True) as pad:
            block = b"\0" * (1024 * 1024)
            for _ in range(40):  # 40 MB of zeros, some 40 KB packed
                pad.write(block)
    data = out.getvalue()
    assert len(data) < 200 * 1024
    refused(tmp_path, data, "解压后达")


def test_a_part_with_a_bomb_ratio_is_refused(tmp_path: Path) -> None:
    def pad(name: str, content: bytes) -> bytes:
        return content + b" " * (20 * 1024 * 1024) if name == "docProps/app.xml" else content

    refused(tmp_path, rewritten(GOOD, pad), "压缩比异常")


def test_too_many_rows_are_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_safety, "MAX_ROWS", 4)
    refused(tmp_path, GOOD, "行数超过4行")


def test_too_many_cells_are_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_safety, "MAX_CELLS", 10)
    refused(tmp_path, GOOD, "单元格超过")


def test_an_oversized_file_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_safety, "MAX_FILE_BYTES", 1000)
    refused(tmp_path, GOOD, "文件过大")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_not_read_forever(device: str) -> None:
    start = time.monotonic()
    with pytest.raises(DataError, match="不是普通文件"):
        read_workbook(Path(device))
    assert time.monotonic() - start < 5


def test_a_pipe_is_not_waited_on(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "plan.xlsx"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="不是普通文件"):
        read_workbook(fifo)


def test_a_folder_named_like_a_workbook_is_a_message(tmp_path: Path) -> None:
    (tmp_path / "plan.xlsx").mkdir()
    with pytest.raises(DataError, match="现为文件夹"):
        read_workbook(tmp_path / "plan.xlsx")


# ---------------------------------------------------------------- damaged and hostile XML


def test_a_truncated_sheet_is_damage_not_a_parse_error(tmp_path: Path) -> None:
    def cut(name: str, content: bytes) -> bytes:
        return content[: len(content) // 2] if name == SHEET else content

    refused(tmp_path, rewritten(GOOD, cut), "文件可能已损坏")


@pytest.mark.parametrize("part", [SHEET, "xl/workbook.xml", "[Content_Types].xml", "xl/styles.xml", "_rels/.rels"])
def test_a_doctype_in_any_part_is_refused(tmp_path: Path, part: str) -> None:
    def doctype(name: str, content: bytes) -> bytes:
        if name != part:
            return content
        head, sep, rest = content.partition(b"?>")
        return head + sep + b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + rest

    assert part in zipfile.ZipFile(io.BytesIO(GOOD)).namelist()
    refused(tmp_path, rewritten(GOOD, doctype), "DOCTYPE")


def test_an_encrypted_workbook_is_named_as_such(tmp_path: Path) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 512
    refused(tmp_path, ole, "设置了打开密码")


# ---------------------------------------------------------------- numbers past the limits


@pytest.mark.parametrize(("cell", "value", "expected"), [
    ("G4", 1e308, "超过上限"),
    ("G4", 1e13, "超过上限"),
    ("F4", 1e308, "超过上限"),
    ("F4", 10**12, "超过上限"),
])
def test_numbers_past_the_limits_are_said_to_be(tmp_path: Path, cell: str, value: float, expected: str) -> None:
    wb = plan_table()
    wb.active[cell] = value
    path = tmp_path / "plan.xlsx"
    wb.save(path)
    with pytest.raises(DataError) as exc:
        read_workbook(path)
    text = str(exc.value)
    assert expected in text and "不一致" not in text, text
    assert len(text) < 600


# ---------------------------------------------------------------- speed


def big_plan(rows: int) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    for i in range(rows):
        ws.append([i + 1, f"第{i}号小区", "东区", 1990, f"某路{i}号", 100, 200, "2018年", None])
    return saved(wb)


def test_import_is_linear_in_rows(tmp_path: Path) -> None:
    timings = []
    for rows in (1_000, 4_000):
        path = tmp_path / f"plan-{rows}.xlsx"
        path.write_bytes(big_plan(rows))
        # CPU seconds of this process, the best of three: other work on a busy machine adds none.
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            assert len(read_workbook(path)) == rows
            best = min(best, time.process_time() - start)
        timings.append(best)
    # four times the rows: about four times the work (quadratic would be sixteen)
    assert timings[1] < 8 * max(timings[0], 0.05), timings


def test_import_command_reports_a_hostile_workbook_without_internal_error(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    data = rewritten(GOOD, in_sheet(b"</mergeCells>", b'<mergeCell ref="J10:XFD1048576"/></mergeCells>'))
    (tmp_path / "计划表.xlsx").write_bytes(data)
    result = CliRunner().invoke(main, ["--data", str(dd.root), "import", str(tmp_path / "计划表.xlsx")])
    assert result.exit_code == 1 and "合并单元格" in result.output and "内部错误" not in result.output
    result = CliRunner().invoke(main, ["--data", str(dd.root), "import", "/dev/zero"])
    assert result.exit_code == 1 and "不是普通文件" in result.output, result.output
