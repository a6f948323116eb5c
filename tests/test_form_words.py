"""The 填报表's words come from templates/xlsx/form.xlsx, which a city copies and changes."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import openpyxl

from generator.data.loader import DataSet, load
from generator.intake import form
from generator.intake.form_import import import_forms
from generator.render.sheet_words import WORDING_SHEET
from generator.render.templates import BUILTIN
from tests.helpers import DataDir


def test_every_word_the_form_writes_is_listed_in_the_built_in_template(bundled: DataSet) -> None:
    listed = form.form_words(bundled)
    asked: set[str] = set()

    class Asked(dict[str, str]):
        def __contains__(self, key: object) -> bool:
            asked.add(str(key))
            return False

    for community in list(bundled.communities.values())[:5]:
        form.export_form(bundled, community, Asked())
    assert len(asked) > 60
    assert sorted(asked - set(listed)) == []


def _city_words(folder: Path, changes: dict[str, str]) -> None:
    copy = folder / "templates" / "xlsx" / "form.xlsx"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(BUILTIN / "xlsx" / "form.xlsx", copy)
    wb = openpyxl.load_workbook(copy)
    ws = wb[WORDING_SHEET]
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
    _city_words(dd.root, {"征询户数": "实际征询户数", "改造项目": "改造内容（项目）",
                          "填表说明": "本市填表须知"})
    data = load(dd.root)
    after = form.export_form(data, data.communities["dongqu-01"])
    (tmp_path / "old.xlsx").write_bytes(before)
    (tmp_path / "new.xlsx").write_bytes(after)
    texts = _texts(tmp_path / "new.xlsx")
    assert {"实际征询户数", "改造内容（项目）", "本市填表须知"} <= set(texts)
    assert "征询户数" not in texts and "征询户数" in _texts(tmp_path / "old.xlsx")
    for name in ("old.xlsx", "new.xlsx"):
        summary = import_forms(load(dd.root), [tmp_path / name])
        assert summary.ok, [str(p) for f in summary.files for p in f.problems]
        assert [f.changes for f in summary.files if f.changes] == []


def test_the_exported_form_names_the_system_as_the_clerk_knows_it_not_the_program(bundled: DataSet) -> None:
    community = next(iter(bundled.communities.values()))
    wb = openpyxl.load_workbook(io.BytesIO(form.export_form(bundled, community)))
    texts = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert any("老旧小区改造文书系统导出" in t for t in texts)
    assert [t for t in texts if "gaizao" in t.lower()] == []
