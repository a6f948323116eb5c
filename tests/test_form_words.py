"""The 填报表's words come from templates/xlsx/form.xlsx under stable keys, which a city copies and changes."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.errors import TemplateError
from generator.intake import form
from generator.intake.form_import import import_forms
from generator.render.sheet_words import WORDING_SHEET
from generator.render.templates import BUILTIN
from tests.helpers import DataDir


def test_every_word_the_form_writes_is_a_key_of_the_built_in_template(bundled: DataSet) -> None:
    city2023 = load(Path(__file__).resolve().parent / "city2023")  # splits by item category
    listed = form.builtin_words()
    asked: set[str] = set()

    class Asked(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            asked.add(key)
            return listed.get(key, default)

    for data in (bundled, city2023):
        for community in list(data.communities.values())[:5]:
            form.export_form(data, community, Asked(listed))
    assert all(key.isascii() for key in listed)  # keys, not the Chinese text
    # every key is used (the numbered instructions are read by their prefix); two words only a
    # programme neither of these has says: several contributions in one category, items of no category
    unused = {k for k in set(listed) - asked if not k.startswith("instructions.")}
    assert unused == {"funds.which", "funds.other_items"}


def _city_words(folder: Path, changes: dict[str, str], old_style: bool = False) -> None:
    """A city's copy of form.xlsx with some words changed; old_style: keyed by the built-in text."""
    copy = folder / "templates" / "xlsx" / "form.xlsx"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(BUILTIN / "xlsx" / "form.xlsx", copy)
    wb = openpyxl.load_workbook(copy)
    ws = wb[WORDING_SHEET]
    if old_style:  # as copies were made before the words had keys: A built-in text, B the city's
        for row in ws.iter_rows(min_row=2):
            row[0].value = row[1].value
    for row in ws.iter_rows(min_row=2):
        if row[0].value in changes:
            row[1].value = changes[row[0].value]
    wb.save(copy)


def _texts(path: Path) -> list[Any]:
    wb = openpyxl.load_workbook(path)
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_a_citys_words_print_and_forms_of_both_wordings_import_unchanged(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    dd.project()
    before = form.export_form(dd.load(), dd.load().communities["dongqu-01"])
    _city_words(dd.root, {"field.survey.households_asked": "实际征询户数", "column.items.item": "改造内容（项目）",
                          "title.instructions": "本市填表须知", "sheet.survey": "入户征询",
                          "choice.yes": "是的"})
    data = load(dd.root)
    after = form.export_form(data, data.communities["dongqu-01"])
    (tmp_path / "old.xlsx").write_bytes(before)
    (tmp_path / "new.xlsx").write_bytes(after)
    texts = _texts(tmp_path / "new.xlsx")
    assert {"实际征询户数", "改造内容（项目）", "本市填表须知", "是的"} <= set(texts)
    assert "征询户数" not in texts and "征询户数" in _texts(tmp_path / "old.xlsx")
    assert "入户征询" in openpyxl.load_workbook(tmp_path / "new.xlsx").sheetnames
    assert "意见征询" in openpyxl.load_workbook(tmp_path / "old.xlsx").sheetnames
    for name in ("old.xlsx", "new.xlsx"):
        summary = import_forms(load(dd.root), [tmp_path / name])
        assert summary.ok, [str(p) for f in summary.files for p in f.problems]
        assert [f.changes for f in summary.files if f.changes] == []


def test_a_renamed_sheet_is_in_the_next_export_and_its_formulas_follow(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    dd.project()
    _city_words(dd.root, {"sheet.basic": "小区 基本情况", "sheet.items": "工程预算", "sheet.lists": "下拉选项"})
    data = load(dd.root)
    (tmp_path / "f.xlsx").write_bytes(form.export_form(data, data.communities["dongqu-01"]))
    wb = openpyxl.load_workbook(tmp_path / "f.xlsx")
    assert wb.sheetnames[:3] == ["小区 基本情况", "意见征询", "工程预算"] and "下拉选项" in wb.sheetnames
    formulas = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
    assert any("'小区 基本情况'!$B$" in f for f in formulas)
    assert any("工程预算!$G$" in f for f in formulas)
    assert not any("基本情况!" in f.replace("'小区 基本情况'!", "") or "预算项目!" in f for f in formulas)
    assert str(wb.defined_names["是否"].attr_text).startswith("'下拉选项'!")


def test_an_older_copy_keyed_by_the_built_in_text_keeps_its_words(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    dd.project()
    _city_words(dd.root, {"征询户数": "实际征询户数", "整数": "整数（个）"}, old_style=True)
    copy = dd.root / "templates/xlsx/form.xlsx"
    wb = openpyxl.load_workbook(copy)
    for row in wb[WORDING_SHEET].iter_rows(min_row=2):  # a word the older copy never had
        if row[0].value == "请填写日期，如 2018-06-01（1990年至2100年之间）":
            row[0].value = row[1].value = None
    wb.save(copy)
    words = form.form_words(load(dd.root))
    assert words["field.survey.households_asked"] == "实际征询户数"
    assert words["hint.int"] == words["prompt.int"] == "整数（个）"  # both words once said 整数
    assert words["sheet.survey"] == "意见征询"  # older copies did not name sheets
    assert words["error.date"] == form.builtin_words()["error.date"]


def test_a_sheet_name_excel_refuses_is_named(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    dd.project()
    _city_words(dd.root, {"sheet.units": "参建单位/日期"})
    with pytest.raises(TemplateError, match="sheet.units.*不能作工作表名称"):
        form.form_words(load(dd.root))
    _city_words(dd.root, {"sheet.units": "基本情况"})
    with pytest.raises(TemplateError, match="工作表名称“基本情况”重复"):
        form.form_words(load(dd.root))


def test_export_fill_import_gives_the_same_project_in_a_citys_words(tmp_path: Path) -> None:
    """A form exported in a city's words (sheets, labels, drop-down choices renamed) and imported
    into a folder that lost the project file gives back the very same project."""
    source = tmp_path / "a"
    shutil.copytree(BUNDLED_DATA, source)
    changes = {"sheet.management": "管理", "sheet.acceptance": "验收", "choice.yes": "有",
               "choice.no": "无", "choice.pass": "通过", "choice.owners_committee": "业委会",
               "field.management.body": "自治组织形式", "column.acceptance.results.result": "结果"}
    _city_words(source, changes)
    data = load(source)
    original = data.projects["dongqu-01"]
    assert original.management is not None and original.management.body == "业主委员会"
    assert original.acceptance is not None and original.acceptance.results
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(form.export_form(data, data.communities["dongqu-01"]))
    wb = openpyxl.load_workbook(filled)
    shown = _texts(filled)
    assert {"业委会", "通过", "有"} <= set(shown) and "业主委员会" not in [
        c.value for c in wb["管理"]["B"]]
    target = tmp_path / "b"
    shutil.copytree(source, target)
    (target / "projects" / "dongqu-01.yaml").unlink()
    summary = import_forms(load(target), [filled], force=True)
    assert summary.ok, [str(p) for f in summary.files for p in f.problems]
    again, first = load(target).projects["dongqu-01"].model_dump(), original.model_dump()
    paths = [f.path for _, _, f in form.iter_fields()] + [tuple(t.key.split(".")) for t in form.TABLES]
    held = [(path, form.get(again, path)) for path in paths]
    assert held == [(path, form.get(first, path)) for path in paths]
    assert dict(held)[("management", "body")] == "业主委员会" and dict(held)[("illustrative",)] is True


def test_templates_check_names_a_misspelt_key_and_a_bad_sheet_name(tmp_path: Path) -> None:
    from generator.documents.template_check import check_folder

    dd = DataDir(tmp_path / "data")
    dd.project()
    _city_words(dd.root, {"sheet.units": "参建[单位]"})
    copy = dd.root / "templates/xlsx/form.xlsx"
    wb = openpyxl.load_workbook(copy)
    wb[WORDING_SHEET].append(("field.survey.suport", "同意的户数"))
    wb.save(copy)
    findings, _ = check_folder(dd.root / "templates", load(dd.root))
    said = [str(f) for f in findings]
    assert any("没有这个键“field.survey.suport”" in s and "form.xlsx" in s for s in said), said
    assert any("sheet.units" in s and "不能作工作表名称" in s for s in said), said


def test_the_exported_form_names_the_system_as_the_clerk_knows_it_not_the_program(bundled: DataSet) -> None:
    community = next(iter(bundled.communities.values()))
    wb = openpyxl.load_workbook(io.BytesIO(form.export_form(bundled, community)))
    texts = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert any("老旧小区改造文书系统导出" in t for t in texts)
    assert [t for t in texts if "gaizao" in t.lower()] == []
