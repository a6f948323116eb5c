"""The 填报表: export every project, edit with openpyxl (and LibreOffice), import, and refuse the broken."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.documents.kinds import KINDS, community_target
from generator.intake import form as F
from generator.intake.form import export_form, export_forms, form_path
from generator.intake.form_import import import_forms
from generator.output.pipeline import Renderers, render_document

EXPORTED = BUNDLED_DATA  # forms are exported from the bundled data, imported into copies of it


@pytest.fixture(scope="session")
def forms(tmp_path_factory: pytest.TempPathFactory, bundled: DataSet) -> dict[str, Path]:
    """Every bundled community's form, exported once: community id → file."""
    out = tmp_path_factory.mktemp("forms")
    result = export_forms(bundled, out, bundled.active_communities())
    ids = [c.id for c in bundled.active_communities()]
    return dict(zip(ids, result.files, strict=True))


def copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, target)
    return target


def fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def edited(source: Path, target: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    wb = openpyxl.load_workbook(source)
    change(wb)
    wb.save(target)
    return target


def lo_resave(tmp_path: Path, files: list[Path]) -> list[Path]:
    """The files as LibreOffice saves them (open, save as .xlsx), in one LibreOffice run."""
    out = tmp_path / "lo"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), *map(str, files)],
                   check=True, capture_output=True, timeout=300)
    return [out / f.name for f in files]


# ---------------------------------------------------------------- export


def test_export_lays_out_the_workbook_in_workflow_order(forms: dict[str, Path], bundled: DataSet) -> None:
    path = forms["dongqu-01"]
    assert path.relative_to(path.parents[2]) == Path("2018/东区/01-炳草岗园林苗圃小区-填报表.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [*(F.builtin_words()[f"sheet.{k}"] for k in (*F.SHEETS, F.LISTS_KEY)), F.META_SHEET]
    assert [ws.sheet_state for ws in wb.worksheets][-2:] == ["hidden", "hidden"]
    assert all(ws.protection.sheet and not ws.protection.password for ws in wb.worksheets)
    assert wb.security is not None and wb.security.lockStructure
    basic = wb["基本情况"]
    assert [basic.cell(r, 2).value for r in range(4, 9)] == ["dongqu-01", "炳草岗园林苗圃小区", "东区", 2018, 300]
    assert basic["B4"].protection.locked and not basic["B13"].protection.locked  # facts fixed, inputs open
    assert basic["B4"].fill.fgColor.rgb != basic["B13"].fill.fgColor.rgb  # and they look different
    meta = {wb[F.META_SHEET].cell(r, 1).value: wb[F.META_SHEET].cell(r, 2).value for r in range(1, 7)}
    assert meta["小区编号"] == "dongqu-01" and meta["表单版本"] == F.FORM_VERSION
    assert meta["数据校验值"] == F.data_hash(F.plain_project(bundled, "dongqu-01"))


def test_drop_downs_use_named_ranges_never_long_inline_lists(forms: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(forms["dongqu-01"])
    lists = [dv for ws in wb.worksheets for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and all(dv.formula1.lstrip("=") in F.LISTS for dv in lists)
    assert all(len(dv.formula1) < 255 for ws in wb.worksheets for dv in ws.data_validations.dataValidation)
    names = {dv.formula1 for dv in lists}
    assert {"=改造项目", "=进度阶段", "=是否", "=验收结果"} <= names
    errors = [dv.error for ws in wb.worksheets for dv in ws.data_validations.dataValidation]
    assert all(e and any("\u4e00" <= ch <= "\u9fff" for ch in e) for e in errors)  # messages in Chinese
    kinds = {dv.type for ws in wb.worksheets for dv in ws.data_validations.dataValidation}
    assert {"list", "whole", "decimal", "date"} <= kinds
    assert set(wb.defined_names) >= {*F.LISTS, F.CATALOGUE_NAME}


def test_computed_cells_are_formulas_with_the_programme_values_cached(forms: dict[str, Path],
                                                                       bundled: DataSet) -> None:
    formulas = openpyxl.load_workbook(forms["dongqu-01"])
    values = openpyxl.load_workbook(forms["dongqu-01"], data_only=True)
    budget = formulas["预算项目"]
    assert budget["G5"].value == '=IF(OR(D5="",F5=""),"",ROUND(D5*F5,2))'
    assert budget["G5"].protection.locked
    assert values["预算项目"]["G5"].value == 714000
    funding = values["其他资金"]
    shown = {funding.cell(r, 1).value: funding.cell(r, 2).value for r in range(4, 18)}
    assert shown["工程预算合计（元）"] == 7500000
    assert shown["市级财政分担（5：4：1）"] == 3351000 and shown["小区居民分担（5：4：1）"] == 670200
    assert shown["管线单位承担表前（80%）"] == 321408
    assert shown["改造范围建筑面积（㎡）"] is None
    assert formulas["其他资金"]["B10"].value.startswith("=ROUND(")


RECALCULATED = ("dongqu-01", "xiqu-03", "renhe-05")
"""Gas in the gas company's area, an ordinary pipeline split, public-service items."""
RESAVED = ("dongqu-02", "xiqu-03", "renhe-05", "fantai-09")


def _without_cached_values(raw: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            blob = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                blob = re.sub(rb'( t="str")?><f>(.*?)</f><v>[^<]*</v>', rb"><f>\2</f><v></v>", blob)
            target.writestr(info.filename, blob)
    return out.getvalue()


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory: pytest.TempPathFactory, forms: dict[str, Path],
                bundled: DataSet) -> dict[str, Path]:
    """One LibreOffice run for every test that needs one: forms stripped of their cached values
    (LibreOffice computes every formula), untouched forms and an edited one, each opened and saved."""
    work = tmp_path_factory.mktemp("lo")
    files: dict[str, Path] = {}
    for cid in RECALCULATED:
        files[f"stripped-{cid}"] = work / f"stripped-{cid}.xlsx"
        files[f"stripped-{cid}"].write_bytes(_without_cached_values(forms[cid].read_bytes()))
    for cid in RESAVED:
        files[f"plain-{cid}"] = work / f"plain-{cid}.xlsx"
        shutil.copyfile(forms[cid], files[f"plain-{cid}"])
    _, change = _edit_quantity_and_survey(bundled, "dongqu-01")
    files["edited-dongqu-01"] = edited(forms["dongqu-01"], work / "edited-dongqu-01.xlsx", change)
    resaved = lo_resave(work, list(files.values()))
    return dict(zip(files, resaved, strict=True))


@pytest.mark.libreoffice
def test_formulas_compute_the_cached_values_in_libreoffice(forms: dict[str, Path],
                                                           libreoffice: dict[str, Path]) -> None:
    """With the cached values removed LibreOffice must compute the same numbers."""
    checked = 0
    for cid in RECALCULATED:
        cached = openpyxl.load_workbook(forms[cid], data_only=True)
        formulas = openpyxl.load_workbook(forms[cid])
        result = openpyxl.load_workbook(libreoffice[f"stripped-{cid}"], data_only=True)
        for ws in formulas.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type != "f":
                        continue
                    want = cached[ws.title][cell.coordinate].value
                    got = result[ws.title][cell.coordinate].value
                    want, got = (None if v == "" else v for v in (want, got))
                    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
                        assert abs(want - got) < 1e-6, (cid, ws.title, cell.coordinate)
                    else:
                        assert want == got, (cid, ws.title, cell.coordinate, want, got)
                    checked += 1
    assert checked > 300


# ---------------------------------------------------------------- import: the round trip


def test_every_bundled_project_round_trips_without_a_change(tmp_path: Path, forms: dict[str, Path]) -> None:
    folder = copy_data(tmp_path)
    before = fingerprint(folder)
    summary = import_forms(load(folder), list(forms.values()))
    assert summary.ok, [str(p) for f in summary.files for p in f.problems]
    assert [f.changes for f in summary.files if f.changes] == []
    assert not any(f.written for f in summary.files)
    assert fingerprint(folder) == before


def _budget_cells(data: DataSet, cid: str, renderers: Renderers) -> dict[tuple[str, str], Any]:
    raw = render_document(data, KINDS["budget"], community_target(data, cid), renderers)
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}


def _edit_quantity_and_survey(bundled: DataSet, cid: str) -> tuple[int, Callable[[openpyxl.Workbook], None]]:
    """An edit of one budget quantity (a line without a meter split) and one survey count."""
    project = bundled.projects[cid]
    index = next(i for i, ln in enumerate(project.items) if ln.before_meter is None)
    survey = project.survey
    assert survey is not None
    moved = "no_answer" if survey.no_answer else "oppose"

    def change(wb: openpyxl.Workbook) -> None:
        cell = wb["预算项目"].cell(5 + index, 4)
        cell.value = float(Decimal(str(cell.value)) + 1)
        counts = wb["意见征询"]
        counts["B6"] = counts["B6"].value + 1
        row = 8 if moved == "no_answer" else 7
        counts[f"B{row}"] = counts[f"B{row}"].value - 1

    return index, change


def test_edits_in_every_form_change_exactly_those_fields(tmp_path: Path, forms: dict[str, Path],
                                                         bundled: DataSet) -> None:
    """The done-when test: quantity and survey count edited in every form with openpyxl; the
    YAML changes in exactly those lines (and the amount they make), the budget in those cells."""
    folder = copy_data(tmp_path)
    edits = {}
    for cid, path in forms.items():
        project = bundled.projects[cid]
        if not project.items or project.survey is None:
            continue
        index, change = _edit_quantity_and_survey(bundled, cid)
        edits[cid] = (index, edited(path, tmp_path / path.name, change))
    assert len(edits) >= 10
    summary = import_forms(load(folder), [p for _, p in edits.values()])
    assert summary.ok, [str(p) for f in summary.files for p in f.problems]
    after = load(folder)
    for result in summary.files:
        cid = result.community
        assert cid is not None and result.written
        index, _ = edits[cid]
        old, new = bundled.projects[cid], after.projects[cid]
        line = old.items[index]
        moved = "no_answer" if old.survey and old.survey.no_answer else "oppose"
        labels = [c.loc for c in result.changes]
        assert labels == [("survey", "support"), ("survey", moved),
                          ("items", index, "quantity"), ("items", index, "amount")], (cid, labels)
        assert new.items[index].quantity == line.quantity + 1
        assert new.items[index].amount == (line.quantity + 1) * line.unit_price
        assert new.model_copy(update={"items": old.items, "survey": old.survey}) == old
        old_text = (BUNDLED_DATA / "projects" / f"{cid}.yaml").read_text(encoding="utf-8").splitlines()
        new_text = (folder / "projects" / f"{cid}.yaml").read_text(encoding="utf-8").splitlines()
        assert len(old_text) == len(new_text)
        assert sum(a != b for a, b in zip(old_text, new_text, strict=True)) == 4, cid
    # the rebuilt budgets (one per district): the edited quantity's cell, and the total in words, only
    renderers_before, renderers_after = Renderers(bundled, None), Renderers(after, None)
    one_per_district = {bundled.communities[c].district: c for c in edits}
    for cid in one_per_district.values():
        index = edits[cid][0]
        before, rebuilt = _budget_cells(bundled, cid, renderers_before), _budget_cells(after, cid, renderers_after)
        changed = {k: rebuilt.get(k) for k in before.keys() | rebuilt.keys() if before.get(k) != rebuilt.get(k)}
        quantity = float(bundled.projects[cid].items[index].quantity + 1)
        assert [k for k, v in changed.items() if v == quantity and k[1].startswith("E")], cid
        # Besides the quantity: the words that spell the new amounts (大写, how the shares come out).
        assert all(v == quantity or (isinstance(v, str) and ("大写" in v or "各方金额计算" in v))
                   for v in changed.values()), changed


def test_the_cli_shows_before_and_after_and_exits_1_on_a_bad_file(tmp_path: Path, forms: dict[str, Path],
                                                                   bundled: DataSet) -> None:
    folder = copy_data(tmp_path)
    _, change = _edit_quantity_and_survey(bundled, "dongqu-01")
    good = edited(forms["dongqu-01"], tmp_path / "good.xlsx", change)
    bad = edited(forms["dongqu-02"], tmp_path / "bad.xlsx",
                 lambda wb: wb["意见征询"].__setitem__("B5", "三百"))
    result = CliRunner().invoke(main, ["--data", str(folder), "form", "import", str(good), str(bad)])
    assert result.exit_code == 1
    assert "居民意见征询·同意户数（有住户名册时可不填）：284 → 285" in result.output
    assert "bad.xlsx 工作表“意见征询” 第5行 B列（征询户数）：应为数字，现为文本“三百”" in result.output
    assert "共 2 个文件：写入 1 个，未改动 0 个，有问题 1 个。" in result.output
    assert (folder / "projects" / "dongqu-02.yaml").read_bytes() == (
        BUNDLED_DATA / "projects" / "dongqu-02.yaml").read_bytes()


def test_cli_export_selects_and_never_overwrites_a_filled_form(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "填报表"
    result = runner.invoke(main, ["form", "export", "--district", "东区", "--year", "2018", "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.rglob("*-填报表.xlsx"))
    assert files and all(f.parts[-3:-1] == ("2018", "东区") for f in files)
    again = runner.invoke(main, ["form", "export", "--district", "东区", "--year", "2018", "--out", str(out)])
    assert again.exit_code == 0  # the same bytes: nothing to lose
    edited(files[0], files[0], lambda wb: wb["基本情况"].__setitem__("B14", "某街道办事处"))
    refused = runner.invoke(main, ["form", "export", "--district", "东区", "--out", str(out)])
    assert refused.exit_code == 1 and "已存在" in refused.output
    none = runner.invoke(main, ["form", "export", "--district", "北区", "--out", str(out)])
    assert none.exit_code == 1 and "没有符合条件的小区" in none.output


def test_a_community_without_a_project_file_gets_one(tmp_path: Path, bundled: DataSet) -> None:
    folder = copy_data(tmp_path)
    (folder / "projects" / "dongqu-02.yaml").unlink()
    data = load(folder)
    path = tmp_path / "f.xlsx"
    path.write_bytes(export_form(data, data.communities["dongqu-02"]))

    def fill(wb: openpyxl.Workbook) -> None:
        basic = wb["基本情况"]
        basic["B13"], basic["B14"], basic["B15"], basic["B18"] = "意见征询", "某街道办事处", "某社区居委会", "是"

    summary = import_forms(data, [edited(path, path, fill)])
    assert summary.ok, [str(p) for f in summary.files for p in f.problems]
    text = (folder / "projects" / "dongqu-02.yaml").read_text(encoding="utf-8")
    assert text.startswith("# 由填报表“f.xlsx”导入")
    project = load(folder).projects["dongqu-02"]
    assert (project.stage, project.street_office, project.illustrative) == ("survey", "某街道办事处", True)


def test_yaml_changed_since_export_is_not_overwritten_without_force(tmp_path: Path,
                                                                    forms: dict[str, Path],
                                                                    bundled: DataSet) -> None:
    folder = copy_data(tmp_path)
    project_file = folder / "projects" / "dongqu-01.yaml"
    project_file.write_text(project_file.read_text(encoding="utf-8").replace("support: 284", "support: 283")
                            .replace("no_answer: 10", "no_answer: 11")
                            .replace("person: 王晓红", "person: 李明"), encoding="utf-8")
    _, change = _edit_quantity_and_survey(bundled, "dongqu-01")
    form = edited(forms["dongqu-01"], tmp_path / "f.xlsx", change)
    before = project_file.read_bytes()
    summary = import_forms(load(folder), [form])
    problem = str(summary.files[0].problems[0])
    assert "在导出填报表之后已被修改" in problem
    assert ("双方都改过的项目：居民意见征询·未表态户数（有住户名册时可不填）；"  # in the file's order
            "居民意见征询·同意户数（有住户名册时可不填）。") in problem
    assert "只在数据文件中改过的项目：公示联系·联系人。" in problem
    assert project_file.read_bytes() == before
    forced = import_forms(load(folder), [form], force=True)
    assert forced.ok and forced.files[0].written
    assert load(folder).projects["dongqu-01"].survey.support == 285  # type: ignore[union-attr]


@pytest.mark.libreoffice
def test_libreoffice_resaved_forms_import_the_same(tmp_path: Path, libreoffice: dict[str, Path]) -> None:
    """Forms opened and saved by LibreOffice: unchanged ones change nothing, an edited one its edit."""
    folder = copy_data(tmp_path)
    before = fingerprint(folder)
    summary = import_forms(load(folder), [libreoffice[f"plain-{cid}"] for cid in RESAVED])
    assert summary.ok and not any(f.written for f in summary.files)
    assert fingerprint(folder) == before
    summary = import_forms(load(folder), [libreoffice["edited-dongqu-01"]])
    assert summary.ok, [str(p) for f in summary.files for p in f.problems]
    assert [c.loc[-1] for c in summary.files[0].changes] == ["support", "no_answer", "quantity", "amount"]


# ---------------------------------------------------------------- broken workbooks


def _cell(sheet: str, ref: str, value: Any) -> Callable[[openpyxl.Workbook], None]:
    return lambda wb: wb[sheet].__setitem__(ref, value)


def _rename(wb: openpyxl.Workbook) -> None:
    wb["预算项目"].title = "预算"


def _delete(wb: openpyxl.Workbook) -> None:
    del wb["竣工验收"]


def _meta(row: int, value: str) -> Callable[[openpyxl.Workbook], None]:
    return lambda wb: wb[F.META_SHEET].__setitem__(f"B{row}", value)


def _not_a_form(wb: openpyxl.Workbook) -> None:
    del wb[F.META_SHEET]


def _inserted_row(wb: openpyxl.Workbook) -> None:
    wb["意见征询"].insert_rows(5)


def _zip_with(extra: dict[str, Any], drop: tuple[str, ...] = ()) -> Callable[[bytes], bytes]:
    """The form's zip with parts added or replaced (a part may be given as a function making it)."""
    def build(raw: bytes) -> bytes:
        source = zipfile.ZipFile(io.BytesIO(raw))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if info.filename not in drop and info.filename not in extra:
                    target.writestr(info.filename, source.read(info.filename))
            for name, blob in extra.items():
                target.writestr(name, blob() if callable(blob) else blob)
        return out.getvalue()
    return build


def _bomb() -> bytes:
    """A sheet part of 60 MB of spaces: it packs to some 60 KB."""
    return (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + b" " * (60 * 1024 * 1024) + b"</sheetData></worksheet>")


def _rows_inside() -> bytes:
    """A sheet part of 200,000 rows: inside Excel's grid and the plan's cap, far past any form."""
    return (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in range(1, 200_001))
            + b"</sheetData></worksheet>")


def _rows() -> bytes:
    """A sheet part reaching row 2,000,000."""
    return (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + b"".join(b'<row r="%d"/>' % r for r in range(1, 2_000_001, 50))
            + b'<row r="2000000"><c r="A2000000"><v>1</v></c></row></sheetData></worksheet>')


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504

CASES: list[tuple[str, Any, str]] = [
    ("text-in-number", _cell("预算项目", "D7", "一百"), "工作表“预算项目” 第7行 D列（数量）：应为数字，现为文本“一百”"),
    ("full-width", _cell("意见征询", "B6", "２８４"),
     "第6行 B列（同意户数）：应为数字，现为“２８４”（这是文本，不是数字：Excel 求和时会漏掉文本。如应为 284"),
    ("negative", _cell("其他资金", "B4", -5), "第4行 B列（动用维修资金（元））：不能为负数"),
    ("three-decimals", _cell("预算项目", "F5", 2380.123), "第5行 F列（单价（元））：金额最多保留两位小数"),
    ("impossible-date", _cell("意见征询", "B4", "2018-02-30"), "第4行 B列（征询日期）：日期不存在：“2018-02-30”"),
    ("not-a-date", _cell("参建单位与日期", "B8", "下周一"),
     "第8行 B列（申请日期）：应为日期，如 2018-06-01，现为“下周一”"),
    ("unknown-item", _cell("预算项目", "B6", "空中花园"), "第6行 B列（改造项目）：“空中花园”不在改造项目分类表"),
    ("meter-split", _cell("预算项目", "H5", 1000), "第5行 H列、I列（表（箱）前、后金额）：表前1000+表后214200"),
    ("survey-sum", _cell("意见征询", "B7", 7),
     "第5行 B列（征询户数）：同意284+反对7+未表态10=301户，与征询户数300户不一致"),
    ("stage", _cell("基本情况", "B13", "快完了"), "第13行 B列（进度阶段）：“快完了”不是进度阶段"),
    ("yes-no", _cell("基本情况", "B16", "可能"), "第16行 B列（位于燃气公司供气区域）：只能填“是”或“否”"),
    ("missing-required", _cell("预算项目", "D6", None), "预算项目” 第6行 D列（数量）：缺少必填字段"),
    ("formula-input", _cell("预算项目", "D5", "=150*2"), "第5行 D列（数量）：是公式“=150*2”"),
    ("renamed-sheet", _rename, "缺少工作表“预算项目”（可能被改名或删除）"),
    ("deleted-sheet", _delete, "缺少工作表“竣工验收”（可能被改名或删除）"),
    ("moved-rows", _inserted_row, "工作表“意见征询” 第5行 A列：应为“征询户数”"),
    ("unknown-version", _meta(2, "9"), "填报表版本“9”本工具不认识"),
    ("other-city", _meta(3, "青岚市"), "这是“青岚市”的填报表"),
    ("unknown-community", _meta(4, "beiqu-01"), "小区编号“beiqu-01”不在计划表"),
    ("other-community", _meta(4, "dongqu-02"), "与表单信息中的“大渡口街道金福小区”（dongqu-02）不符"),
    ("tampered-meta", _meta(5, "0" * 64), "表单信息被改动过"),
    ("not-a-form", _not_a_form, "不是本工具导出的填报表（没有“表单信息”工作表）"),
]
RAW: list[tuple[str, Any, str]] = [
    ("zip-bomb", _zip_with({"xl/worksheets/sheet2.xml": _bomb}), "压缩比异常"),
    ("million-rows", _zip_with({"xl/worksheets/sheet2.xml": _rows}), "超出 Excel 表格的范围"),
    ("too-many-rows", _zip_with({"xl/worksheets/sheet2.xml": _rows_inside}), "达到第 200000 行"),
    ("external-link", _zip_with({"xl/externalLinks/externalLink1.xml": b"<externalLink/>"}), "外部链接"),
    ("macro", _zip_with({"xl/vbaProject.bin": b"\x00" * 100}), "含有宏"),
    ("encrypted", lambda raw: _OLE + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 1000, "设置了打开密码"),
    ("xls-renamed", lambda raw: _OLE + b"Workbook".ljust(1000, b"\x00"), "旧版 Excel（.xls）"),
    ("word-file", _zip_with({"word/document.xml": b"<w/>"}, drop=("xl/workbook.xml",)), "这是Word 文件"),
    ("truncated", lambda raw: raw[: len(raw) // 2], "文件可能已损坏"),
    ("empty", lambda raw: b"", "文件是空的"),
]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DataSet, dict[str, str]]:
    folder = copy_data(tmp_path_factory.mktemp("broken"))
    return folder, load(folder), fingerprint(folder)


@pytest.mark.parametrize(("name", "change", "message"), CASES, ids=[c[0] for c in CASES])
def test_broken_workbooks_are_refused_by_place(tmp_path: Path, forms: dict[str, Path], name: str,
                                               change: Any, message: str,
                                               target: tuple[Path, DataSet, dict[str, str]]) -> None:
    folder, data, before = target
    path = edited(forms["dongqu-01"], tmp_path / f"{name}.xlsx", change)
    summary = import_forms(data, [path])
    problems = [str(p) for p in summary.files[0].problems]
    assert not summary.ok and any(message in p for p in problems), problems
    assert all(p.startswith(str(path)) for p in problems)
    assert fingerprint(folder) == before


@pytest.mark.parametrize(("name", "change", "message"), RAW, ids=[c[0] for c in RAW])
def test_hostile_files_are_refused_fast(tmp_path: Path, forms: dict[str, Path], name: str, change: Any,
                                        message: str, target: tuple[Path, DataSet, dict[str, str]]) -> None:
    import time

    folder, data, before = target
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(change(forms["dongqu-01"].read_bytes()))
    start = time.perf_counter()
    summary = import_forms(data, [path])
    assert time.perf_counter() - start < 3
    problems = [str(p) for p in summary.files[0].problems]
    assert not summary.ok and any(message in p for p in problems), problems
    assert fingerprint(folder) == before


def test_the_same_community_twice_in_one_import(tmp_path: Path, forms: dict[str, Path]) -> None:
    folder = copy_data(tmp_path)
    copy = tmp_path / "copy.xlsx"
    shutil.copyfile(forms["dongqu-01"], copy)
    summary = import_forms(load(folder), [forms["dongqu-01"], copy])
    assert summary.files[0].ok and not summary.files[1].ok
    assert "同一个小区（dongqu-01）" in str(summary.files[1].problems[0])


def test_form_path_is_safe_for_windows_names(bundled: DataSet) -> None:
    c = bundled.communities["miyi-08"]
    assert form_path(c).name == "08-米易县教师园区（一期）-填报表.xlsx"
    odd = c.model_copy(update={"name": 'a/b:c*"d'})
    assert "/" not in form_path(odd).name[:-5] and ":" not in form_path(odd).name
