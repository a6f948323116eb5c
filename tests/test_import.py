"""`gaizao import`: reading an annex-1-shaped plan workbook into communities.yaml."""

from __future__ import annotations

import importlib.util
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.cli.data import import_cmd, init
from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.data.models import Community
from generator.errors import DataError, OutputError
from generator.intake.plan_import import import_workbook, read_workbook
from tests.helpers import DataDir

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["序号", "老旧小区名称", "县(区)", "建成时间", "小区位置", "户数", "预计投资(万元)",
          "改造年度计划", "备注"]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_plan_workbook",
                                                  ROOT / "tools" / "make_plan_workbook.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_plan = _tool()


def write_sheet(path: Path, rows: Sequence[Sequence[Any]], merges: Sequence[str] = (),
                hidden_rows: Sequence[int] = (), title: str = "Sheet1") -> Path:
    """A one-sheet workbook from rows of cell values (None for an empty cell)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for row in rows:
        ws.append(list(row))
    for rng in merges:
        ws.merge_cells(rng)
    for r in hidden_rows:
        ws.row_dimensions[r].hidden = True
    wb.save(path)
    return path


def bundled_workbook(path: Path, bundled: DataSet) -> Path:
    """The bundled plan as annex 1 lays it out: 附件1, title, header on row 3, rows from row 4."""
    make_plan.plan_workbook(bundled.active_communities()).save(path)
    return path


def edit(path: Path, change: Any) -> Path:
    wb = openpyxl.load_workbook(path)
    change(wb.active)
    wb.save(path)
    return path


def problems(exc: pytest.ExceptionInfo[DataError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


@pytest.fixture
def folder(tmp_path: Path) -> DataDir:
    """A copy of the bundled plan files (no projects)."""
    return DataDir(tmp_path / "data")


@pytest.fixture
def plan(tmp_path: Path, bundled: DataSet) -> Path:
    return bundled_workbook(tmp_path / "计划表.xlsx", bundled)


# ---------------------------------------------------------------- round trip


def test_bundled_plan_round_trips_exactly(plan: Path, tmp_path: Path, bundled: DataSet) -> None:
    out = tmp_path / "communities.yaml"
    result = import_workbook(plan, BUNDLED_DATA, out=out)
    assert result.written and result.kept_ids == 30 and result.new_ids == 0
    folder = DataDir(tmp_path / "copy")
    folder.write("communities.yaml", out.read_text(encoding="utf-8"))
    assert list(folder.load().communities.values()) == list(bundled.communities.values())


def test_reimporting_the_same_plan_leaves_the_file_alone(plan: Path, tmp_path: Path) -> None:
    folder = DataDir(tmp_path / "data")
    before = folder.path("communities.yaml").read_bytes()
    result = import_workbook(plan, folder.root)
    assert not result.written
    assert folder.path("communities.yaml").read_bytes() == before  # comments kept too


def test_new_folder_gets_the_bundled_ids_from_district_slugs(plan: Path, folder: DataDir,
                                                              bundled: DataSet) -> None:
    folder.write("communities.yaml", "communities: []\n")  # nothing to lose: no --force needed
    result = import_workbook(plan, folder.root)
    assert result.written and result.kept_ids == 0
    loaded = list(folder.load().communities.values())
    assert loaded == list(bundled.communities.values())
    again = import_workbook(plan, folder.root)
    assert not again.written  # same workbook, same ids


def test_slug_in_districts_yaml_is_used_for_new_ids(plan: Path, tmp_path: Path) -> None:
    from generator.intake.plan_import import assign_ids, district_slugs

    folder = DataDir(tmp_path / "data")
    def drop_slugs(d: dict) -> None:
        for index, district in enumerate(d["districts"]):
            if index:
                district.pop("slug", None)

    folder.edit("districts.yaml", drop_slugs)
    rows = read_workbook(plan)
    ids, kept = assign_ids(rows, [], district_slugs(folder.root))
    assert kept == 0 and ids[:3] == ["dongqu-01", "dongqu-02", "d2-03"]  # 西区 is district 2


def test_seq_restarting_each_year_still_gives_unique_ids(tmp_path: Path, folder: DataDir) -> None:
    folder.write("communities.yaml", "communities: []\n")
    book = write_sheet(tmp_path / "p.xlsx", [
        HEADER,
        [1, "甲小区", "东区", None, None, 10, 1, "2018年", None],
        [1, "乙小区", "东区", None, None, 20, 2, "2019年", None],
    ])
    import_workbook(book, folder.root, force=True)
    assert sorted(folder.load().communities) == ["dongqu-01", "dongqu-2019-01"]


# ---------------------------------------------------------------- layout


def test_header_in_another_order_below_title_rows(tmp_path: Path) -> None:
    order = [7, 0, 2, 1, 5, 6, 3, 4, 8]
    header = ["改造年度 计划", "序号", "县（区）", "老旧小区\n名称", "户 数", "预计投资（万元）",
              "建成时间", "小区位置", "备注"]
    rows = [
        ["2018年（共2个）", 1, "东区", "甲小区", 100, 250.5, "1980 年代", "某路 3号", None],
        [None, 2, "西 区", "乙小区", 50, 80, None, None, "试点"],
    ]
    assert [HEADER[i] for i in order][0] == "改造年度计划"
    titles = [["附件1"], ["某市老旧小区改造年度实施计划表"], []]
    book = write_sheet(tmp_path / "p.xlsx", [*titles, header, *rows], merges=["A2:I2", "A5:A6"])
    got = read_workbook(book, districts=["东区", "西区"], years=[2018])
    assert [(r.seq, r.name, r.district, r.year, r.households, r.investment_wan) for r in got] == [
        (1, "甲小区", "东区", 2018, 100, Decimal("250.5")), (2, "乙小区", "西区", 2018, 50, 80)]
    assert got[0].built == "1980年代" and got[0].location == "某路3号"  # layout spaces go
    assert got[1].built is None and got[1].remarks == "试点"  # blank 建成时间 is allowed


def test_merged_year_cells_apply_to_the_rows_they_span(tmp_path: Path) -> None:
    book = write_sheet(tmp_path / "p.xlsx", [
        HEADER,
        [1, "甲", "东区", None, None, 1, 1, "2018年(共2个)", None],
        [2, "乙", "东区", None, None, 1, 1, None, None],
        ["合计", None, None, None, None, 2, 2, None, None],
        [3, "丙", "东区", None, None, 1, 1, 2019, None],
        [4, "丁", "东区", None, None, 1, 1, "２０１９年", None],
    ], merges=["H2:H3"])
    assert [r.year for r in read_workbook(book)] == [2018, 2018, 2019, 2019]


def test_unmerged_blank_year_is_reported_not_guessed(tmp_path: Path) -> None:
    book = write_sheet(tmp_path / "p.xlsx", [
        HEADER,
        [1, "甲", "东区", None, None, 1, 1, "2018年", None],
        [2, "乙", "东区", None, None, 1, 1, None, None],
    ])
    with pytest.raises(DataError) as exc:
        read_workbook(book)
    assert problems(exc) == [f"{book} 工作表“Sheet1” 第3行 H列（改造年度计划）：必须填写，现为空"
                             "（若该年度应覆盖多行，请把这些行的年度单元格合并）"]


def test_count_written_in_the_year_cell_is_checked(tmp_path: Path) -> None:
    book = write_sheet(tmp_path / "p.xlsx", [
        HEADER,
        [1, "甲", "东区", None, None, 1, 1, "2018年（共3个）", None],
        [2, "乙", "东区", None, None, 1, 1, None, None],
    ], merges=["H2:H3"])
    with pytest.raises(DataError) as exc:
        read_workbook(book)
    assert problems(exc) == [f"{book} 工作表“Sheet1” 第2行 H列（改造年度计划）："
                             "写明“共3个”，而表中2018年度的小区行有2行"]


def test_footnote_and_repeated_header_are_skipped(tmp_path: Path) -> None:
    book = write_sheet(tmp_path / "p.xlsx", [
        HEADER,
        [1, "甲", "东区", None, None, 1, 1, 2018, None],
        HEADER,
        [2, "乙", "东区", None, None, 1, 1, 2018, None],
        ["备注：各县（区）可根据实际情况调整计划项目，但计划项目个数不变"],
    ])
    assert [r.name for r in read_workbook(book)] == ["甲", "乙"]


def test_no_header_row(tmp_path: Path) -> None:
    book = write_sheet(tmp_path / "p.xlsx", [["名称", "户"], ["甲", 1]])
    with pytest.raises(DataError) as exc:
        read_workbook(book)
    assert "没有找到计划表的表头行" in problems(exc)[0] and "Sheet1" in problems(exc)[0]


def test_missing_required_column(tmp_path: Path) -> None:
    book = write_sheet(tmp_path / "p.xlsx", [HEADER[:6] + HEADER[7:], [1, "甲", "东区", None,
                                                                      None, 1, 2018, None]])
    with pytest.raises(DataError) as exc:
        read_workbook(book)
    assert problems(exc) == [f"{book} 工作表“Sheet1” 第1行：表头缺少列：预计投资(万元)"
                             "（现有列：序号、老旧小区名称、县(区)、建成时间、小区位置、户数、改造年度计划、备注）"]


# ---------------------------------------------------------------- 合计 and 总计


def test_subtotal_mismatch_names_the_cell_and_both_numbers(plan: Path) -> None:
    edit(plan, lambda ws: ws.cell(13, 6, 4000))  # 2018 合计 of households, really 4071
    with pytest.raises(DataError) as exc:
        read_workbook(plan)
    assert problems(exc) == [f"{plan} 工作表“Sheet1” 第13行 F列（户数）：合计为4000，"
                             "上方第4—12行（9个小区）逐行相加为4071，两者不一致"]


def test_grand_total_mismatch(plan: Path) -> None:
    def change(ws: Any) -> None:
        assert ws.cell(37, 1).value == "总计"
        ws.cell(37, 7, 25765)

    edit(plan, change)
    with pytest.raises(DataError) as exc:
        read_workbook(plan)
    assert problems(exc) == [f"{plan} 工作表“Sheet1” 第37行 G列（预计投资(万元)）：总计为25765，"
                             "本表各小区行相加为25765.5，两者不一致"]


def test_district_subtotals_inside_a_year(tmp_path: Path) -> None:
    book = write_sheet(tmp_path / "p.xlsx", [
        HEADER,
        [1, "甲", "东区", None, None, 10, 1, 2018, None],
        [2, "乙", "东区", None, None, 20, 2, 2018, None],
        ["东区小计", None, None, None, None, 30, 3],
        [3, "丙", "西区", None, None, 5, 1, 2018, None],
        ["小计", None, None, None, None, 5, 1],
        ["2018年合计", None, None, None, None, 35, 4],
        [4, "丁", "西区", None, None, 1, 1, 2019, None],
        ["合 计", None, None, None, None, 1, 1],
        ["总计", None, None, None, None, 36, 4],
    ])
    with pytest.raises(DataError) as exc:
        read_workbook(book)
    assert problems(exc) == [f"{book} 工作表“Sheet1” 第10行 G列（预计投资(万元)）：总计为4，"
                             "本表各小区行相加为5，两者不一致"]


def _cache(path: Path, cell: str, value: str) -> None:
    """Give a formula cell the result Excel would have saved with it."""
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    start = sheet.index(f'<c r="{cell}"')
    end = sheet.index("</c>", start)
    sheet = sheet[:start] + sheet[start:end].replace("<v></v>", f"<v>{value}</v>") + sheet[end:]
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_subtotal_formulas_are_checked_by_their_saved_result(plan: Path) -> None:
    edit(plan, lambda ws: ws.cell(13, 6, "=SUM(F4:F11)"))  # a wrong range, as clerks do
    assert len(read_workbook(plan)) == 30  # no saved result (never opened in Excel): not checked
    _cache(plan, "F13", "3371")
    with pytest.raises(DataError) as exc:
        read_workbook(plan)
    assert problems(exc) == [f"{plan} 工作表“Sheet1” 第13行 F列（户数）：合计为3371，"
                             "上方第4—12行（9个小区）逐行相加为4071，两者不一致"]


# ---------------------------------------------------------------- cell problems


def test_full_width_digits_are_refused_by_row_and_column(tmp_path: Path) -> None:
    book = write_sheet(tmp_path / "计划表.xlsx", [
        ["附件1"], HEADER,
        [1, "甲", "东区", None, None, "１２３", "1,130", 2018, None],
    ])
    with pytest.raises(DataError) as exc:
        read_workbook(book)
    hint = ("（这是文本，不是数字：Excel 求和时会漏掉文本。"
            "如应为 {}，请改为数字格式并用半角数字输入）")
    assert problems(exc) == [
        f"{book} 工作表“Sheet1” 第3行 F列（户数）：应为正整数，现为“１２３”" + hint.format(123),
        f"{book} 工作表“Sheet1” 第3行 G列（预计投资(万元)）：应为数字（万元），现为“1,130”"
        + hint.format(1130),
    ]


def test_a_missing_investment_is_reported_not_guessed(plan: Path) -> None:
    edit(plan, lambda ws: setattr(ws.cell(5, 7), "value", None))
    with pytest.raises(DataError) as exc:
        read_workbook(plan)
    assert f"{plan} 工作表“Sheet1” 第5行 G列（预计投资(万元)）：必须填写，现为空" in problems(exc)


def test_a_pasted_page_in_a_cell_is_quoted_only_in_part(plan: Path) -> None:
    edit(plan, lambda ws: ws.cell(4, 6, "户" * 32000))
    with pytest.raises(DataError) as exc:
        read_workbook(plan)
    [message] = problems(exc)
    quoted = f"现为“{'户' * 60}…（共 32000 个字符）”"
    assert message.startswith(f"{plan} 工作表“Sheet1” 第4行 F列（户数）：应为正整数，{quoted}")
    assert len(message) < 400


def test_formula_in_a_community_row_is_refused(plan: Path) -> None:
    edit(plan, lambda ws: ws.cell(4, 6, "=150*2"))
    with pytest.raises(DataError) as exc:
        read_workbook(plan)
    assert problems(exc) == [f"{plan} 工作表“Sheet1” 第4行 F列（户数）：是公式“=150*2”。"
                             "计划表的小区行应填写数值或文字，不能用公式（公式保存的结果可能缺失或过时）；"
                             "请选中后“复制—选择性粘贴—数值”再导入"]


def test_hidden_rows_are_reported(plan: Path) -> None:
    edit(plan, lambda ws: setattr(ws.row_dimensions[7], "hidden", True))
    with pytest.raises(DataError) as exc:
        read_workbook(plan)
    assert problems(exc)[0].startswith(f"{plan} 工作表“Sheet1” 第7行：该行被隐藏")


def test_hidden_sheets_and_columns_are_reported(plan: Path) -> None:
    def change(ws: Any) -> None:
        ws.column_dimensions["E"].hidden = True
        copy = ws.parent.copy_worksheet(ws)
        copy.title = "旧表"
        copy.sheet_state = "hidden"

    edit(plan, change)
    with pytest.raises(DataError) as exc:
        read_workbook(plan)
    assert problems(exc) == [
        f"{plan} 工作表“Sheet1” 第3行 E列（小区位置）：该列被隐藏，容易漏看；"
        "请取消隐藏并核对后再导入",
        f"{plan} 工作表“旧表”：该工作表被隐藏，其中的计划表容易被漏看；"
        "请取消隐藏后核对（不需要的工作表请删除）",
    ]


def test_a_number_merged_over_two_rows_is_refused(tmp_path: Path) -> None:
    book = write_sheet(tmp_path / "p.xlsx", [
        HEADER,
        [1, "甲", "东区", None, None, 10, 1, 2018, None],
        [2, "乙", "东区", None, None, None, 1, 2018, None],
    ], merges=["F2:F3"])
    with pytest.raises(DataError) as exc:
        read_workbook(book)
    assert problems(exc) == [f"{book} 工作表“Sheet1” 第3行 F列（户数）：与单元格 F2 合并在一起，"
                             "无法确定本行的值；请取消合并，每行分别填写"]


def test_merged_district_cells_apply_to_each_row(tmp_path: Path) -> None:
    book = write_sheet(tmp_path / "p.xlsx", [
        HEADER,
        [1, "甲", "东区", None, "盐边县城", 10, 1, 2018, None],
        [2, "乙", None, None, None, 5, 1, 2018, None],
    ], merges=["C2:C3", "E2:E3"])
    assert [(r.district, r.location) for r in read_workbook(book)] == [("东区", "盐边县城")] * 2


def test_unknown_district_and_year_outside_the_programme(tmp_path: Path, folder: DataDir) -> None:
    book = write_sheet(tmp_path / "p.xlsx", [
        HEADER,
        [1, "甲", "北区", None, None, 10, 1, 2021, None],
        [2, "乙", "北区", None, None, 10, 1, 2018, None],
    ])
    with pytest.raises(DataError) as exc:
        import_workbook(book, folder.root)
    assert problems(exc) == [
        f"{book} 工作表“Sheet1” 第2行 H列（改造年度计划）："
        "改造年度 2021 不在 programme.yaml 的计划年度 [2018, 2019, 2020] 内"
        "（新城市的计划表：可用 gaizao init 新文件夹 --city 城市 --plan 计划表.xlsx，按计划表建立县（区）和计划年度）",
        f"{book} 工作表“Sheet1” 第2行 C列（县(区)）：未知的县（区）“北区”（另见第3行）："
        "districts.yaml 中只有东区、西区、仁和区、米易县、盐边县、钒钛高新区；"
        "请核对写法，或先在 districts.yaml 中添加",
    ]


def test_duplicate_rows_are_reported(tmp_path: Path) -> None:
    book = write_sheet(tmp_path / "p.xlsx", [
        HEADER,
        [1, "甲小区", "东区", None, None, 10, 1, 2018, None],
        [1, "甲 小区", "东区", None, None, 10, 1, 2018, None],
    ])
    with pytest.raises(DataError) as exc:
        read_workbook(book)
    assert problems(exc) == [
        f"{book} 工作表“Sheet1” 第3行 B列（老旧小区名称）："
        "与第2行的小区重名（同一县（区）中名称相同）",
        f"{book} 工作表“Sheet1” 第3行 A列（序号）：2018年度的序号 1 与第2行重复",
    ]


# ---------------------------------------------------------------- not a workbook


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("plan.csv", "序号,老旧小区名称\n1,甲\n".encode(), "这是CSV（逗号分隔的文本）文件"),
    ("plan.xlsx", "序号,老旧小区名称\n1,甲\n".encode("gbk"), "这是CSV（逗号分隔的文本）文件"),
    ("plan.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, "这是旧版 Excel（.xls）"),
    ("plan.xls", b"<html><table><tr><td>1</td></tr></table></html>", "这是网页（HTML/XML）文件"),
    ("plan.xlsx", b"PK\x03\x04broken", "无法作为 Excel 工作簿（.xlsx）打开"),
])
def test_files_that_are_not_xlsx_are_refused_clearly(tmp_path: Path, name: str, content: bytes,
                                                     expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as exc:
        read_workbook(path)
    assert problems(exc)[0].startswith(f"{path}：{expected}")
    assert "另存为" in problems(exc)[0]


def test_a_real_xlsx_named_xls_is_read(plan: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "plan.xls"
    renamed.write_bytes(plan.read_bytes())
    assert len(read_workbook(renamed)) == 30


# ---------------------------------------------------------------- writing


def test_changed_plan_needs_force_and_says_what_changes(plan: Path, tmp_path: Path) -> None:
    folder = DataDir(tmp_path / "data")
    before = folder.path("communities.yaml").read_bytes()

    def change(ws: Any) -> None:
        ws.cell(4, 6, 301)     # 东区 炳草岗园林苗圃小区: 300 → 301 households
        ws.cell(13, 6, 4072)   # and its 合计 and 总计
        ws.cell(37, 6, 13786)
        ws.cell(14, 2, "新的小区")  # 2019 seq 10 renamed: one removed, one added
        ws.cell(5, 2, "大渡口街道 金福小区")  # only a layout space: the same community

    edit(plan, change)
    with pytest.raises(OutputError) as exc:
        import_workbook(plan, folder.root)
    assert str(exc.value) == (f"{folder.path('communities.yaml')} 已存在且内容不同"
                              "（新增 1 个、修改 1 个、删除 1 个小区）。"
                              "未写入任何文件；确认要覆盖请加 --force")
    assert folder.path("communities.yaml").read_bytes() == before
    result = import_workbook(plan, folder.root, force=True)
    assert result.written and (result.added, result.changed, result.removed) == (1, 1, 1)
    data = folder.load()
    assert data.communities["dongqu-01"].households == 301
    assert data.communities["dongqu-02"].name == "大渡口街道金福小区"
    assert data.communities["dongqu-2019-10"].name == "新的小区" and "dongqu-10" not in data.communities
    assert folder.path("communities.yaml").read_text(encoding="utf-8").startswith("# 附件1")


def test_a_result_that_does_not_load_is_not_written(plan: Path, tmp_path: Path) -> None:
    folder = DataDir(tmp_path / "data")
    folder.project()  # projects/dongqu-01.yaml
    before = folder.path("communities.yaml").read_bytes()
    edit(plan, lambda ws: ws.cell(4, 2, "改了名的小区"))
    with pytest.raises(DataError) as exc:
        import_workbook(plan, folder.root, force=True)
    text = problems(exc)
    assert text[0].endswith("导入结果不能通过数据检查，没有写入任何文件。问题如下")
    assert text[1].startswith(str(folder.path("projects/dongqu-01.yaml")))
    assert "dongqu-01" in text[1]
    assert folder.path("communities.yaml").read_bytes() == before


def test_withdrawn_communities_are_kept(plan: Path, tmp_path: Path) -> None:
    folder = DataDir(tmp_path / "data")

    def swap(data: Any) -> None:
        old = next(r for r in data["communities"] if r["id"] == "dongqu-01")
        data["communities"].append({**old, "id": "dongqu-01-old", "name": "原计划小区",
                                    "seq": 31, "status": "withdrawn"})
        old["replaces"] = "dongqu-01-old"

    folder.edit("communities.yaml", swap)
    result = import_workbook(plan, folder.root)
    assert result.carried == 1 and not result.written
    assert folder.load().communities["dongqu-01"].replaces == "dongqu-01-old"


def test_cli_import_writes_and_reports(plan: Path, tmp_path: Path) -> None:
    main.add_command(import_cmd)
    main.add_command(init)
    out = tmp_path / "out.yaml"
    result = CliRunner().invoke(main, ["--data", str(BUNDLED_DATA), "import", str(plan),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "读到 30 个小区（2018年 9 个、2019年 11 个、2020年 10 个）" in result.output
    assert "沿用原编号 30 个" in result.output
    assert f"已写入 {out}（新建文件）" in result.output
    rows = [Community.model_validate(r) for r in load_yaml_rows(out)]
    assert len(rows) == 30
    edit(plan, lambda ws: ws.cell(4, 6, "三百"))
    result = CliRunner().invoke(main, ["--data", str(BUNDLED_DATA), "import", str(plan),
                                       "--out", str(out)])
    assert result.exit_code == 1
    assert "错误：" in result.output
    assert "第4行 F列（户数）：应为正整数，现为“三百”" in result.output


def test_commands_have_help_texts() -> None:
    for command in (import_cmd, init):
        assert command.help and command.help.strip()
        for param in command.params:
            if param.param_type_name == "option":
                assert getattr(param, "help", None), f"{command.name} {param.name}"


def load_yaml_rows(path: Path) -> list[dict[str, Any]]:
    from generator.data.yamlio import load_yaml

    data, _ = load_yaml(path)
    rows: list[dict[str, Any]] = data["communities"]
    return rows


def test_plan_workbook_tool_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "sample.xlsx"
    make_plan.main([str(out)])
    assert len(read_workbook(out)) == len(load().active_communities())
