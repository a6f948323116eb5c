"""The household roster beside the 填报表: exported with the forms, returned and imported with them."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.data.loader import BUNDLED_DATA, load
from generator.data.roster import read_csv
from generator.errors import DataError
from generator.intake import form as F
from generator.intake.form import export_forms
from generator.intake.form_import import import_forms
from generator.intake.roster_io import META_SHEET, SHEET, import_roster

CHOSEN = ("dongqu-02", "dongqu-10", "renhe-06")
"""金福小区 (1,130 households, a roster), one without a roster, and a small one with a roster."""


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """The chosen communities' forms and roster workbooks: id → (form, roster)."""
    data = load(BUNDLED_DATA)
    out = tmp_path_factory.mktemp("forms")
    result = export_forms(data, out, [data.communities[c] for c in CHOSEN])
    return dict(zip(CHOSEN, zip(result.files, result.rosters, strict=True), strict=True))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, target)
    return target


def test_each_form_has_its_roster_beside_it(exported: dict[str, tuple[Path, Path]]) -> None:
    form, roster = exported["dongqu-02"]
    assert roster.parent == form.parent and roster.name == "02-大渡口街道金福小区-住户名册.xlsx"
    wb = openpyxl.load_workbook(roster)
    assert wb.sheetnames == [SHEET, META_SHEET] and wb[META_SHEET].sheet_state == "hidden"
    assert wb[META_SHEET]["B3"].value == "dongqu-02"
    assert wb[SHEET].max_row == 2 + 1130
    survey = openpyxl.load_workbook(form)["意见征询"]
    assert "住户名册" in survey["A2"].value  # the sheet says where the households' answers go
    instructions = openpyxl.load_workbook(form)["填表说明"]
    assert any("住户名册.xlsx" in str(c.value) for c in instructions["A"])


def test_forms_and_rosters_import_together(exported: dict[str, tuple[Path, Path]], data_dir: Path,
                                           tmp_path: Path) -> None:
    form, roster = exported["renhe-06"]
    book = tmp_path / roster.name
    wb = openpyxl.load_workbook(roster)
    ws = wb[SHEET]
    heads = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    ws.cell(3, heads["意见"]).value = "不同意"
    wb.save(book)
    before = read_csv(data_dir / "rosters" / "renhe-06.csv")
    assert before.households[0].answer != "不同意"
    result = CliRunner().invoke(main, ["--data", str(data_dir), "form", "import", str(form), str(book)])
    assert result.exit_code == 0, result.output
    assert f"✓ {book} → {data_dir / 'rosters' / 'renhe-06.csv'}（住户名册 84 户，改动 1 处）" in result.output
    assert "    住户名册·1栋1单元101·意见：同意 → 不同意" in result.output
    assert f"✓ {form}：与 " in result.output  # the form itself, unchanged
    after = read_csv(data_dir / "rosters" / "renhe-06.csv")
    assert after.households[0].answer == "不同意"
    assert after.households[1:] == before.households[1:]


def test_a_roster_nobody_filled_in_is_passed_over(exported: dict[str, tuple[Path, Path]],
                                                  data_dir: Path) -> None:
    _, roster = exported["dongqu-10"]
    summary = import_forms(load(data_dir), [roster])
    assert summary.ok and not summary.files[0].written
    assert summary.files[0].note and "还没有填写" in summary.files[0].note
    assert not (data_dir / "rosters" / "dongqu-10.csv").exists()
    with pytest.raises(DataError, match="名册还没有填写"):  # on its own it is refused, not stored empty
        import_roster(roster, data_dir)


def test_a_bad_roster_writes_nothing_and_the_others_go_in(exported: dict[str, tuple[Path, Path]],
                                                          data_dir: Path, tmp_path: Path) -> None:
    _, good_source = exported["renhe-06"]
    _, bad_source = exported["dongqu-02"]
    good, bad = tmp_path / "good.xlsx", tmp_path / "bad.xlsx"
    wb = openpyxl.load_workbook(good_source)
    wb[SHEET]["K3"] = "专业化物业管理"
    wb.save(good)
    wb = openpyxl.load_workbook(bad_source)
    wb[SHEET]["H5"] = "弃权"
    wb[SHEET]["E6"] = "12345"
    wb.save(bad)
    before = (data_dir / "rosters" / "dongqu-02.csv").read_bytes()
    summary = import_forms(load(data_dir), [good, bad])
    assert [f.ok for f in summary.files] == [True, False]
    problems = [str(p) for p in summary.files[1].problems]
    assert any("bad.xlsx 工作表“住户名册” 第5行“意见”列：“弃权”不是可选的意见" in p for p in problems), problems
    assert any("第6行“联系电话”列：“12345”不是电话号码" in p for p in problems), problems
    assert (data_dir / "rosters" / "dongqu-02.csv").read_bytes() == before
    assert summary.files[0].written
    assert read_csv(data_dir / "rosters" / "renhe-06.csv").households[0].management == "专业化物业管理"


def test_a_roster_of_another_city_or_made_by_hand(exported: dict[str, tuple[Path, Path]], data_dir: Path,
                                                  tmp_path: Path) -> None:
    _, source = exported["renhe-06"]
    other, hand = tmp_path / "other.xlsx", tmp_path / "hand.xlsx"
    wb = openpyxl.load_workbook(source)
    wb[META_SHEET]["B2"] = "天长市"
    wb.save(other)
    del wb[META_SHEET]
    wb.save(hand)
    before = (data_dir / "rosters" / "renhe-06.csv").read_bytes()
    summary = import_forms(load(data_dir), [other, hand])
    assert not summary.files[0].ok and "这是“天长市”的住户名册" in str(summary.files[0].problems[0])
    assert not summary.files[1].ok and "gaizao roster import 文件 --project 小区编号" in str(
        summary.files[1].problems[0])
    with pytest.raises(DataError, match="名册中没有小区编号"):
        import_roster(hand, data_dir)
    assert import_roster(hand, data_dir, "renhe-06").households == 84  # --project names it
    assert (data_dir / "rosters" / "renhe-06.csv").read_bytes() == before


def test_the_rosters_exported_with_the_forms_are_recorded_once_with_their_purpose(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    from generator.web.audit import AuditLog

    monkeypatch.setattr(getpass, "getuser", lambda: "clerk")
    out, instance = tmp_path / "填报表", tmp_path / "inst"
    args = ["form", "export", "--district", "东区", "--year", "2018", "--out", str(out)]
    done = CliRunner().invoke(main, [*args, "--instance", str(instance), "--purpose", "入户核对"])
    assert done.exit_code == 0, done.output
    rosters = len(list(out.rglob("*-住户名册.xlsx")))
    (event,) = [e for e in AuditLog(instance).events() if e.action == "roster-export"]
    assert event.user == "命令行:clerk" and event.detail == (
        f"用途：入户核对；随填报表导出{rosters}个小区的住户名册（东区 2018年度）；文件夹：{out.resolve()}")
    alone = CliRunner().invoke(main, args)  # no instance folder: said, not recorded
    assert alone.exit_code == 0 and "未记入操作记录" in alone.output


def test_form_export_never_overwrites_a_filled_roster(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "填报表"
    args = ["form", "export", "--project", "renhe-06", "--out", str(out)]
    first = runner.invoke(main, args)
    assert first.exit_code == 0 and "填报表和住户名册" in first.output, first.output
    roster = next(out.rglob("*-住户名册.xlsx"))
    assert runner.invoke(main, args).exit_code == 0  # the same bytes again
    wb = openpyxl.load_workbook(roster)
    wb[SHEET]["H3"] = "不同意"
    wb.save(roster)
    refused = runner.invoke(main, args)
    assert refused.exit_code == 1 and "已存在" in refused.output
    assert openpyxl.load_workbook(roster)[SHEET]["H3"].value == "不同意"
    assert F.roster_file(load(BUNDLED_DATA).communities["renhe-06"]).name == roster.name


@pytest.mark.libreoffice
def test_roster_workbooks_saved_by_libreoffice_import_the_same(data_dir: Path, tmp_path: Path) -> None:
    """Every bundled roster, a blank one and an edited one, opened and saved again by LibreOffice."""
    from generator.intake.roster_io import export_roster
    from tests.test_form import lo_resave

    data = load(data_dir)
    books = []
    for community in [*sorted(data.rosters), "dongqu-10"]:
        books.append(export_roster(data_dir, community, tmp_path / "out" / f"{community}.xlsx").path)
    edited = tmp_path / "out" / "edited-renhe-06.xlsx"
    wb = openpyxl.load_workbook(tmp_path / "out" / "renhe-06.xlsx")
    wb[SHEET]["H3"], wb[SHEET]["F4"], wb[SHEET]["M5"] = "未表态", 101.25, "2018-04-02"
    wb.save(edited)
    resaved = dict(zip([b.stem for b in [*books, edited]], lo_resave(tmp_path, [*books, edited]), strict=True))
    with zipfile.ZipFile(resaved["dongqu-02"]) as saved:
        assert b"LibreOffice" in saved.read("docProps/app.xml")
    before = {p.name: p.read_bytes() for p in (data_dir / "rosters").iterdir()}
    for community in sorted(data.rosters):
        result = import_roster(resaved[community], data_dir)  # the hidden sheet survives: no --project
        assert result.households == data.communities[community].households
        assert not result.changed, community
    assert {p.name: p.read_bytes() for p in (data_dir / "rosters").iterdir()} == before
    blank = import_forms(load(data_dir), [resaved["dongqu-10"]])
    assert blank.ok and blank.files[0].note and not blank.files[0].written
    result = import_roster(resaved["edited-renhe-06"], data_dir)
    assert result.changed
    households = read_csv(data_dir / "rosters" / "renhe-06.csv").households
    original = data.rosters["renhe-06"].households
    assert households[0].answer == "未表态" and str(households[1].area) == "101.25"
    assert str(households[2].date) == "2018-04-02"
    assert households[3:] == original[3:]


def test_a_districts_whole_export_imports_back_without_a_change(data_dir: Path, tmp_path: Path) -> None:
    """Forms and rosters of 东区 (two with rosters, the others blank), all returned unedited."""
    import hashlib

    from generator.intake.writelock import LOCK_FILE

    def fingerprint() -> dict[str, str]:  # the files, not the empty writer-lock file the import takes
        return {str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(data_dir.rglob("*")) if p.is_file() and p.name != LOCK_FILE}

    runner = CliRunner()
    out = tmp_path / "填报表"
    exported = runner.invoke(main, ["--data", str(data_dir), "form", "export", "--district", "东区",
                                    "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    forms, rosters = sorted(out.rglob("*-填报表.xlsx")), sorted(out.rglob("*-住户名册.xlsx"))
    assert len(forms) == len(rosters) >= 3
    before = fingerprint()
    result = runner.invoke(main, ["--data", str(data_dir), "form", "import", *map(str, forms + rosters)])
    assert result.exit_code == 0, result.output
    blank = result.output.count("住户名册还没有填写")
    stored = sum(1 for r in rosters if (data_dir / "rosters" / f"{_community_of(r)}.csv").exists())
    assert blank == len(rosters) - stored and stored >= 2
    assert f"共 {len(forms) + len(rosters)} 个文件：写入 0 个，未改动 {len(forms) + len(rosters)} 个，有问题 0 个。" \
        in result.output
    assert fingerprint() == before


def _community_of(roster: Path) -> str:
    return str(openpyxl.load_workbook(roster)[META_SHEET]["B3"].value)
