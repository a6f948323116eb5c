"""Ballots through Excel: exported pre-filled per household, imported with every problem named by sheet,
row and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.data.loader import BUNDLED_DATA, load
from generator.rules.votes import count

VOTE = "dongqu-01-dianti-1-2"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, root)
    return root


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data", str(root), *args])
    return result.exit_code, result.output


def export(root: Path, tmp_path: Path) -> Path:
    out = tmp_path / "票.xlsx"
    code, output = run(root, "vote", "export", "--vote", VOTE, "--out", str(out))
    assert code == 0, output
    assert "已导出 12 户" in output
    return out


def test_the_export_is_prefilled_and_reads_back_unchanged(root: Path, tmp_path: Path) -> None:
    book = export(root, tmp_path)
    ws = openpyxl.load_workbook(book).active
    assert [c.value for c in ws[2]][:6] == ["楼栋", "单元", "房号", "户主姓名", "建筑面积（㎡）", "表决意见"]
    assert [c.value for c in ws[3]][:6] == ["1栋", "2", "101", "毛春燕", 49.4, "不同意"]
    assert ws["F4"].value is None  # 102 did not take part
    assert ws["C3"].number_format == "@"  # user text cells stay text
    before = (root / "votes" / f"{VOTE}.csv").read_bytes()
    code, output = run(root, "vote", "import", str(book))
    assert code == 0 and "内容相同，未改动" in output
    assert (root / "votes" / f"{VOTE}.csv").read_bytes() == before


def test_every_problem_is_named_and_nothing_is_written(root: Path, tmp_path: Path) -> None:
    book = export(root, tmp_path)
    wb = openpyxl.load_workbook(book)
    ws = wb.active
    ws["F4"] = "同意"  # 102 now votes, through a proxy with no authority
    ws["G4"] = "代理人"
    ws["H4"] = "汤某"
    ws["F5"] = "赞成"  # not an answer
    ws["C6"] = "201"  # 202's row now says 201: two ballots for 201
    ws["J7"] = "2018-02-30"
    wb.save(book)
    before = (root / "votes" / f"{VOTE}.csv").read_bytes()
    code, output = run(root, "vote", "import", str(book))
    assert code != 0
    assert "工作表“表决票” 第7行“签署日期”列：日期不存在：“2018-02-30”" in output
    ws["J7"] = None
    wb.save(book)
    code, output = run(root, "vote", "import", str(book))
    assert code != 0
    assert "工作表“表决票” 第4行“签署人”列：1栋2单元102由代理人签署，但没有记录授权委托书" in output
    assert "第5行“表决意见”列：“赞成”不是可选的意见" in output
    assert "第6行“房号”列：1栋2单元201投了两次票（另见第5行）" in output
    assert (root / "votes" / f"{VOTE}.csv").read_bytes() == before


def test_a_corrected_workbook_is_imported_and_counted(root: Path, tmp_path: Path) -> None:
    book = export(root, tmp_path)
    wb = openpyxl.load_workbook(book)
    ws = wb.active
    ws["F4"], ws["G4"], ws["H4"], ws["I4"] = "同意", "代理人", "汤某", "委托书第2号"
    ws["F3"] = None  # 101's ballot taken back out: it did not take part after all
    ws["G3"] = None
    ws["J3"] = None
    wb.save(book)
    code, output = run(root, "vote", "import", str(book))
    assert code == 0, output
    text = (root / "votes" / f"{VOTE}.csv").read_text(encoding="utf-8-sig")
    assert text.startswith("# 示例数据")  # the file's note is kept
    assert "1栋,2,102,同意,代理人,汤某,委托书第2号" in text and "1栋,2,101," not in text
    group = count(load(root), VOTE).groups[0]
    assert (group.voted, group.yes, group.no) == (11, 10, 0)
    code, output = run(root, "vote", "count")
    assert code == 0 and "通过" in output and "参与11户（同意10、不同意0、弃权1）" in output


def test_a_workbook_of_another_vote_is_refused(root: Path, tmp_path: Path) -> None:
    book = export(root, tmp_path)
    code, output = run(root, "vote", "import", str(book), "--vote", "other-vote")
    assert code != 0 and "这是表决“dongqu-01-dianti-1-2”的表决票，不是“other-vote”的" in output
    code, output = run(root, "vote", "export", "--vote", "nope")
    assert code != 0 and "未知的表决编号“nope”" in output
