"""Loading a data folder: malformed input gives a DataError naming file, line, field and problem."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from generator.data.loader import DataSet, load
from generator.errors import DataError, Problem
from tests.helpers import GOOD_PROJECT, DataDir


@pytest.fixture
def dd(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


# Words a message may hold in Latin letters: names of formats and the values true / false.
ALLOWED_LATIN = {"YAML", "UTF", "GBK", "WPS", "true", "false"}


def latin_words(problem: str) -> set[str]:
    """Latin words of a message outside what it repeats: “values”, file names, allowed choices."""
    bare = re.sub(r"“[^”]*”", "", problem)
    bare = re.sub(r"[\w-]+\.yaml", "", bare)
    bare = re.sub(r"以下之一：[^（]*", "", bare)
    return set(re.findall(r"[A-Za-z]{2,}", bare)) - ALLOWED_LATIN


def load_error(dd: DataDir) -> DataError:
    with pytest.raises(DataError) as info:
        dd.load()
    return info.value


def problem_in(err: DataError, name: str) -> Problem:
    """The one problem reported for a file."""
    found = [p for p in err.problems if Path(p.file).name == name]
    assert len(found) == 1, err.problems
    return found[0]


@dataclass
class Bad:
    """A malformed input: how to make it, and what the message must say."""

    make: Callable[[DataDir], int | None]
    """Changes the folder; returns the line the problem is on, or None if no line applies."""
    file: str
    field: str
    problem: str


def row_value(key: str, old: str, new: str) -> Callable[[DataDir], int]:
    """Change 'key: old' to 'key: new' in the first plan row."""
    return lambda dd: dd.replace("communities.yaml", f"    {key}: {old}\n", f"    {key}: {new}\n")


def project_with(old: str, new: str) -> Callable[[DataDir], int]:
    def make(dd: DataDir) -> int:
        dd.project(GOOD_PROJECT.replace(old, new, 1), name="dongqu-01")
        return dd.line_of("projects/dongqu-01.yaml", new.splitlines()[-1])

    return make


def first_row_start(dd: DataDir) -> int:
    return dd.line_of("communities.yaml", "  - id: dongqu-01")


def drop_households(dd: DataDir) -> int:
    dd.replace("communities.yaml", "    households: 300\n", "")
    return first_row_start(dd)


def misspell_households(dd: DataDir) -> int:
    return dd.replace("communities.yaml", "    households: 300\n", "    househods: 300\n")


def duplicate_key(dd: DataDir) -> int:
    return dd.replace("communities.yaml", "    households: 300\n",
                      "    households: 300\n    households: 301\n") + 1


def duplicate_id(dd: DataDir) -> int:
    return dd.replace("communities.yaml", "  - id: dongqu-02\n", "  - id: dongqu-01\n")


def yaml_syntax(dd: DataDir) -> int:
    dd.replace("communities.yaml", "    households: 300\n", "    households: 300\n   location: x\n")
    return first_row_start(dd) + 6


def gbk(dd: DataDir) -> int:
    path = dd.path("districts.yaml")
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    return 1  # the first line already holds Chinese


def empty(dd: DataDir) -> None:
    dd.path("districts.yaml").write_text("", encoding="utf-8")


def bad_date(dd: DataDir) -> int:
    return dd.replace("programme.yaml", "  date: 2018-05-04\n", "  date: 2018-02-30\n")


BAD = {
    "yaml-syntax": Bad(yaml_syntax, "communities.yaml", "", "YAML 格式错误：缩进不一致"),
    "text-for-number": Bad(row_value("investment_wan", "750", "七百五十万元"), "communities.yaml",
                           "communities[0].investment_wan（小区[0].预计投资(万元)）",
                           "应为数字（现为：“七百五十万元”）"),
    "negative-households": Bad(row_value("households", "300", "-300"), "communities.yaml",
                               "communities[0].households（小区[0].户数）",
                               "必须大于0（现为：-300）"),
    "non-numeric-households": Bad(row_value("households", "300", "约300户"), "communities.yaml",
                                  "communities[0].households（小区[0].户数）",
                                  "应为整数（现为：“约300户”）"),
    "chinese-numerals": Bad(row_value("households", "300", "三百"), "communities.yaml",
                            "communities[0].households（小区[0].户数）",
                            "应为整数，请用阿拉伯数字（现为：“三百”）"),
    "thousands-separator": Bad(row_value("households", "1130", "1,130"), "communities.yaml",
                               "communities[1].households（小区[1].户数）",
                               "应为整数，数字中不要写千位分隔符“,”（现为：“1,130”）"),
    "full-width-digits": Bad(row_value("households", "300", "１２３"), "communities.yaml",
                             "communities[0].households（小区[0].户数）",
                             "应为整数，请用半角数字（不要用全角数字）（现为：“１２３”）"),
    "quoted-number": Bad(row_value("households", "300", '"300"'), "communities.yaml",
                         "communities[0].households", "应为整数，数字不要加引号（现为：“300”）"),
    "fraction-of-a-household": Bad(row_value("households", "300", "300.5"), "communities.yaml",
                                   "communities[0].households", "应为整数（现为：300.5）"),
    "too-many-decimals": Bad(row_value("investment_wan", "750", "750.1234567"), "communities.yaml",
                             "communities[0].investment_wan",
                             "最多保留6位小数（现为：750.1234567）"),
    "unknown-district": Bad(row_value("district", "东区", "东城区"), "communities.yaml",
                            "communities[0].district（小区[0].县(区)）",
                            "未知的县（区）“东城区”（districts.yaml 中没有）"),
    "unknown-catalogue-item": Bad(project_with("  - {item: 道路,", "  - {item: 道路硬化,"),
                                  "dongqu-01.yaml", "items[1].item（预算项目[1].改造项目）",
                                  "改造项目“道路硬化”不在项目分类表（catalogue.yaml）中"),
    "unknown-community": Bad(project_with("community: dongqu-01", "community: dongqu-99"),
                             "dongqu-01.yaml", "community（小区编号）",
                             "小区编号“dongqu-99”在 communities.yaml 中不存在"),
    "negative-money": Bad(project_with("amount: 120000", "amount: -120000"), "dongqu-01.yaml",
                          "items[0].amount（预算项目[0].金额（元））",
                          "不能为负数（现为：-120000）"),
    "money-below-a-fen": Bad(project_with("unit_price: 180.5,", "unit_price: 180.505,"),
                             "dongqu-01.yaml", "items[1].unit_price（预算项目[1].单价（元））",
                             "最多保留2位小数（现为：180.505）"),
    "not-one-of": Bad(project_with("stage: accepted", "stage: 已验收"), "dongqu-01.yaml",
                      "stage（进度阶段）", "只能是以下之一：survey、application、plan、notice、"
                      "construction、completed、accepted（现为：“已验收”）"),
    "duplicate-community-id": Bad(duplicate_id, "communities.yaml",
                                  "communities[1].id（小区[1].编号）", "编号“dongqu-01”重复"),
    "duplicate-yaml-key": Bad(duplicate_key, "communities.yaml", "",
                              "YAML 格式错误：字段“households”重复出现"),
    "missing-required-field": Bad(drop_households, "communities.yaml",
                                  "communities[0].households（小区[0].户数）", "缺少必填字段"),
    "gbk-file": Bad(gbk, "districts.yaml", "",
                    "文件不是 UTF-8 编码，看起来是 GBK 编码，请用记事本或 WPS “另存为” UTF-8 编码"),
    "empty-file": Bad(empty, "districts.yaml", "", "文件是空的"),
    "date-does-not-exist": Bad(bad_date, "programme.yaml", "issuance.date（印发文件.成文日期）",
                               "日期不存在：2018-02-30"),
    "misspelt-field": Bad(misspell_households, "communities.yaml", "communities[0].househods",
                          "未知字段，是否应为“households”（户数）？"),
    "chinese-key": Bad(project_with("stage: accepted", "stage: accepted\n进度阶段: 已验收"),
                       "dongqu-01.yaml", "进度阶段", "未知字段，是否应为“stage”（进度阶段）？"),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_input_is_reported_in_chinese_with_its_place(dd: DataDir, case: Bad) -> None:
    line = case.make(dd)
    err = load_error(dd)
    text = str(err)
    found = [p for p in err.problems
             if Path(p.file).name == case.file and case.problem in p.problem]
    assert len(found) == 1, text
    p = found[0]
    assert str(p) in text
    assert Path(p.file).is_absolute() and str(p.file) in text  # the file, as the user can open it
    assert p.line == line
    if line is not None:
        assert f"第{line}行" in str(p)
    if case.field:
        assert p.field.startswith(case.field)
        assert case.field in str(p)
    assert latin_words(p.problem) == set(), p.problem


def test_a_misspelt_field_also_reports_the_field_it_leaves_missing(dd: DataDir) -> None:
    misspell_households(dd)
    fields = [p.field.split("（")[0] for p in load_error(dd).problems]
    assert fields == ["communities[0].households", "communities[0].househods"]


def test_a_quote_left_open_points_back_to_where_it_started(dd: DataDir) -> None:
    at = dd.replace("communities.yaml", "    location: 临江路", '    location: "临江路')
    p = problem_in(load_error(dd), "communities.yaml")
    assert p.problem.startswith("YAML 格式错误：")
    assert p.line is not None and p.line > at  # PyYAML notices the open quote further down
    assert re.search(r"相关内容从第\d+行开始", p.problem)


def test_tab_indentation_is_explained(dd: DataDir) -> None:
    line = dd.replace("communities.yaml", "    households: 300\n", "\thouseholds: 300\n")
    p = problem_in(load_error(dd), "communities.yaml")
    assert (p.line, p.problem) == (line, "YAML 格式错误：不能用 Tab 缩进，请用空格")


def test_a_file_with_only_comments_has_no_data(dd: DataDir) -> None:
    dd.path("districts.yaml").write_text("# 还没有填写\n", encoding="utf-8")
    assert problem_in(load_error(dd), "districts.yaml").problem == "文件里没有数据"


def test_a_missing_file_is_named(dd: DataDir) -> None:
    dd.path("catalogue.yaml").unlink()
    assert problem_in(load_error(dd), "catalogue.yaml").problem == "文件不存在"


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="数据文件夹不存在"):
        load(tmp_path / "nowhere")


def test_every_problem_of_every_file_is_reported_at_once(dd: DataDir) -> None:
    row_value("households", "300", "-300")(dd)
    empty(dd)
    project_with("stage: accepted", "stage: 已验收")(dd)
    files = {Path(p.file).name for p in load_error(dd).problems}
    assert files == {"communities.yaml", "districts.yaml", "dongqu-01.yaml"}


def test_a_utf8_file_with_bom_loads(dd: DataDir) -> None:
    for name in ("districts.yaml", "communities.yaml"):
        path = dd.path(name)
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    data = dd.load()
    assert len(data.districts) == 6
    assert data.communities["dongqu-01"].name == "炳草岗园林苗圃小区"


def test_numbers_stay_exact(dd: DataDir) -> None:
    data = dd.load()
    assert data.communities["dongqu-11"].investment_wan == Decimal("2387.5")
    assert isinstance(data.programme.stated.investment_yi_approx, Decimal)


def test_good_project_loads_and_records_its_file(dd: DataDir) -> None:
    path = dd.project()
    data = dd.load()
    assert data.projects["dongqu-01"].items[1].unit_price == Decimal("180.5")
    assert data.sources["project:dongqu-01"] == path.resolve()


def test_the_items_table_is_kept_read_only_and_follows_a_replaced_catalogue(bundled: DataSet) -> None:
    items = bundled.items
    assert items is not bundled.items and dict(items) == dict(bundled.items)  # one table behind both views
    name = next(iter(items))
    with pytest.raises(TypeError):
        items[name] = items[name]  # type: ignore[index]
    copy = dataclasses.replace(bundled)
    assert dict(copy.items) == dict(items)
    first = bundled.catalogue.categories[0]
    renamed = first.model_copy(update={"items": [first.items[0].model_copy(update={"name": "新加的项目"})]})
    other = bundled.catalogue.model_copy(update={"categories": [renamed]})
    changed = dataclasses.replace(bundled, catalogue=other)
    assert list(changed.items) == ["新加的项目"] and name in bundled.items
    copy.catalogue = other  # the shared bundled data set stays as it is
    assert list(copy.items) == ["新加的项目"] and name in bundled.items
