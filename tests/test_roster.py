"""Household rosters: the bundled ones, their rules, and their way through Excel and back."""

from __future__ import annotations

import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from generator.cli import main
from generator.data.loader import BUNDLED_DATA, DataSet, load
from generator.data.roster import (
    ANSWERS,
    is_phone,
    mask_name,
    mask_phone,
    mask_room,
    read_csv,
    tally,
)
from generator.errors import DataError
from generator.intake.roster_io import export_roster, import_roster
from generator.rules.checks import check_all, meets_support, survey_tally


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, folder)
    return folder


def test_every_pilot_community_has_a_roster_of_its_households(bundled: DataSet) -> None:
    pilot = [c for c in bundled.active_communities() if c.year == bundled.programme.pilot.year]
    assert {c.id for c in pilot} == set(bundled.rosters)
    assert len(bundled.rosters["dongqu-02"].households) == 1130
    for c in pilot:
        roster = bundled.rosters[c.id]
        assert roster.illustrative
        assert len(roster.households) == c.households
        project = bundled.projects[c.id]
        per_building = {t.name: t.households for t in _buildings(roster)}
        assert per_building == {b.name: b.households for b in project.buildings}
        counted = tally(roster.households)
        s = project.survey
        assert s is not None
        assert (counted.asked, counted.support, counted.oppose, counted.no_answer) == (
            s.households_asked, s.support, s.oppose, s.no_answer)
        # made-up numbers from a range no carrier uses
        assert all(h.phone and re.fullmatch(r"100\d{8}", h.phone) for h in roster.households)


def _buildings(roster):  # type: ignore[no-untyped-def]
    from generator.data.roster import by_building

    return by_building(roster)


def test_support_rate_is_counted_from_the_roster(data_dir: Path) -> None:
    # Typed counts removed: the roster alone gives the survey's result.
    path = data_dir / "projects" / "dongqu-02.yaml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"  households_asked: \d+\n  support: \d+\n  oppose: \d+\n  no_answer: \d+\n", "", text)
    path.write_text(text, encoding="utf-8")
    data = load(data_dir)
    assert data.projects["dongqu-02"].survey.households_asked is None  # type: ignore[union-attr]
    counted = survey_tally(data, data.projects["dongqu-02"])
    assert counted is not None and (counted.support, counted.asked) == (1052, 1130)
    assert meets_support(data, data.projects["dongqu-02"])
    assert not [f for f in check_all(data) if f.severity == "error"]


def test_typed_counts_must_agree_with_the_roster(data_dir: Path) -> None:
    roster = data_dir / "rosters" / "xiqu-03.csv"
    lines = roster.read_text(encoding="utf-8-sig").splitlines()
    row = next(i for i, line in enumerate(lines) if ",同意," in line)
    lines[row] = lines[row].replace(",同意,", ",不同意,", 1)
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    findings = [f for f in check_all(load(data_dir)) if f.rule == "SURVEY-ROSTER"]
    assert {f.field for f in findings} == {"survey.support（同意户数）", "survey.oppose（反对户数）"}
    assert all(f.file == "data/projects/xiqu-03.yaml" and "住户名册" in f.message for f in findings)
    assert "填写为93户，住户名册（data/rosters/xiqu-03.csv）统计为92户" in findings[0].message


def test_area_threshold_is_data(data_dir: Path) -> None:
    programme = data_dir / "programme.yaml"
    text = programme.read_text(encoding="utf-8")
    programme.write_text(text.replace("min_support_percent: 90", "min_support_percent: 90\n"
                                      "  min_area_support_percent: 99.9"), encoding="utf-8")
    data = load(data_dir)
    assert str(data.programme.eligibility.min_area_support_percent) == "99.9"
    assert not meets_support(data, data.projects["dongqu-02"])
    counted = tally(data.rosters["dongqu-02"].households)
    pct = (counted.area_support * 100 / counted.area).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    support = [f for f in check_all(data) if f.rule == "ELIG-SUPPORT" and "dongqu-02" in f.where]
    assert support and f"按建筑面积计的居民支持率{pct}%低于99.9%" in support[0].message


def test_roster_rows_are_checked_with_file_and_row(data_dir: Path) -> None:
    roster = data_dir / "rosters" / "renhe-06.csv"
    lines = roster.read_text(encoding="utf-8-sig").splitlines()
    # lines[0] is the 示例 note, lines[1] the headings: households start on line 3
    first = lines[2].split(",")
    lines[3] = ",".join([*first[:3], "王五", "12345", *lines[3].split(",")[5:]])  # 房号 of row 3 again
    fields = lines[4].split(",")
    fields[7], fields[8] = "弃权", "游泳池"
    lines[4] = ",".join(fields)
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    findings = [f for f in check_all(load(data_dir)) if f.rule == "ROSTER-ROWS"]
    by_field = {(f.where.split()[-1], f.field): f.message for f in findings}
    assert by_field[("第4行", "房号")].endswith("与第3行重复")
    assert "不是电话号码" in by_field[("第4行", "联系电话")]
    assert "“弃权”不是可选的意见" in by_field[("第5行", "意见")]
    assert "“游泳池”不在项目分类表" in by_field[("第5行", "希望改造项目")]
    assert all(f.file == "data/rosters/renhe-06.csv" for f in findings)


def test_tenures_that_contradict_the_community_type_are_a_warning_naming_file_and_rows(data_dir: Path) -> None:
    # the bundled rosters agree with their communities, none of which is a commodity-housing estate
    assert not [f for f in check_all(load(data_dir)) if f.rule == "ELIG-HOUSING-ROSTER"]
    roster = data_dir / "rosters" / "renhe-06.csv"
    lines = roster.read_text(encoding="utf-8-sig").splitlines()
    for index in (2, 4):  # file lines 3 and 5
        fields = lines[index].split(",")
        fields[6] = "商品房"
        lines[index] = ",".join(fields)
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    [finding] = [f for f in check_all(load(data_dir)) if f.rule == "ELIG-HOUSING-ROSTER"]
    assert (finding.severity, finding.file, finding.field) == ("warning", "data/rosters/renhe-06.csv", "产权类型")
    assert finding.where.endswith("第3、5行") and "有2户产权类型为“商品房”" in finding.message
    assert "非商品房小区" in finding.message
    # said to be a commodity-housing estate, the other way round: no household is 商品房
    project = data_dir / "projects" / "xiqu-04.yaml"
    project.write_text(project.read_text(encoding="utf-8") + "commodity_housing: true\n", encoding="utf-8")
    found = {f.file: f for f in check_all(load(data_dir)) if f.rule == "ELIG-HOUSING-ROSTER"}
    assert "没有一户产权类型为“商品房”" in found["data/rosters/xiqu-04.csv"].message
    assert found["data/rosters/xiqu-04.csv"].where.endswith("等行")  # more rows than are named


def test_households_per_building_must_match(data_dir: Path) -> None:
    roster = data_dir / "rosters" / "renhe-06.csv"
    text = roster.read_text(encoding="utf-8-sig").replace("\n2栋,1,101,", "\n1栋,9,101,", 1)
    roster.write_text(text, encoding="utf-8-sig")
    messages = [f.message for f in check_all(load(data_dir)) if f.rule == "ROSTER-ROWS"]
    assert "1栋名册有19户，项目资料写18户" in messages
    assert "2栋名册有23户，项目资料写24户" in messages


def test_a_bad_cell_names_file_row_and_column(data_dir: Path) -> None:
    roster = data_dir / "rosters" / "renhe-06.csv"
    text = roster.read_text(encoding="utf-8-sig")
    text = text.replace(",2018-03-0", ",2018-02-3", 1)
    roster.write_text(text, encoding="utf-8-sig")
    with pytest.raises(DataError) as exc:
        load(data_dir)
    assert "renhe-06.csv 第3行“征询日期”列：日期不存在" in str(exc.value)


def test_phone_check_and_masks() -> None:
    assert is_phone("13812341234") and is_phone("0812-3334444") and is_phone("3334444")
    assert not is_phone("12345") and not is_phone("138123412345") and not is_phone("电话")
    assert mask_phone("13812341234") == "138****1234" and mask_phone("0812-3334444") == "*******4444"
    assert mask_room("301") == "3**"
    assert ANSWERS == ("同意", "不同意", "未表态")


@pytest.mark.parametrize(("name", "shown"), [
    ("张小明", "张*明"), ("李四", "李*"), ("张", "张*"), ("张小小明", "张**明"),
    ("欧阳小明", "欧阳*明"), ("欧阳明", "欧阳*"), ("司马相如", "司马*如"),
    (" 张 小明 ", "张*明"), ("张\u3000小明", "张*明"),
    ("贾某（示例）", "贾*（示例）"), ("贾某某(代理人)", "贾*某(代理人)"), ("贾某某【代】", "贾*某【代】"),
    ("贾某某代理", "贾*某代理"), ("王五（代理人：李小四）", "王*（代理人：李*四）"),
    ("John Smith", "J*** S****"), ("Mary-Jane Li", "M***-**** L*"), ("热依拉·买买提", "热**·**提"),
    ("（空）", "（空）"), ("", ""), (None, ""),
])
def test_mask_name_shows_at_most_the_surname_and_the_last_character(name: str | None, shown: str) -> None:
    assert mask_name(name) == shown
    own = (name or "").split("（")[0].split("(")[0].split("【")[0].removesuffix("代理").strip()
    if len(own) >= 2:
        assert own not in shown  # never the whole name, whatever the note around it


# ---------------------------------------------------------------- Excel


def test_export_then_import_is_exact(data_dir: Path, tmp_path: Path) -> None:
    path = data_dir / "rosters" / "dongqu-02.csv"
    before = path.read_bytes()
    book = tmp_path / "金福.xlsx"
    result = export_roster(data_dir, "dongqu-02", book)
    assert result.households == 1130
    path.write_bytes(b"")  # whatever is there, the import writes the workbook's roster
    imported = import_roster(book, data_dir, "dongqu-02")
    assert imported.households == 1130 and imported.changed
    assert path.read_bytes() == before
    assert read_csv(path) == load(BUNDLED_DATA).rosters["dongqu-02"]


def test_import_reads_columns_in_any_order_merged_buildings_and_blank_rows(
    data_dir: Path, tmp_path: Path
) -> None:
    book = tmp_path / "r.xlsx"
    export_roster(data_dir, "renhe-06", book)
    wb = load_workbook(book)
    ws = wb.active
    ws.move_range("A2:A86", cols=14)  # 楼栋 moved to the last column
    ws["B1"] = ws["A1"].value
    ws.delete_cols(1)
    # a blank row after the first household, and 1栋's cells merged
    ws.insert_rows(4)
    building = ws.max_column
    first, last = 3, 3 + 18  # 18 households of 1栋, one blank row among them
    for row in range(first + 2, last + 1):
        ws.cell(row, building).value = None
    ws.merge_cells(start_row=first, end_row=last, start_column=building, end_column=building)
    wb.save(book)
    before = (data_dir / "rosters" / "renhe-06.csv").read_bytes()
    result = import_roster(book, data_dir, "renhe-06")
    assert result.households == 84 and not result.changed
    assert (data_dir / "rosters" / "renhe-06.csv").read_bytes() == before


def test_import_names_every_problem_and_leaves_the_roster_alone(data_dir: Path, tmp_path: Path) -> None:
    book = tmp_path / "r.xlsx"
    export_roster(data_dir, "renhe-06", book)
    wb = load_workbook(book)
    ws = wb.active
    ws["H5"] = "弃权"
    ws["E6"] = "12345"
    ws["F7"] = "很大"
    ws["M8"] = "2018-13-01"
    ws["I9"] = "游泳池"
    ws["C10"] = None
    wb.save(book)
    path = data_dir / "rosters" / "renhe-06.csv"
    before = path.read_bytes()
    with pytest.raises(DataError) as exc:
        import_roster(book, data_dir, "renhe-06")
    text = str(exc.value)
    assert "工作表“住户名册” 第7行“建筑面积（㎡）”列：应为数字" in text
    assert "第8行“征询日期”列：日期不存在" in text
    assert "第10行“房号”列：不能为空" in text
    assert path.read_bytes() == before
    # once the cells parse, the rules' problems are named the same way
    ws["F7"], ws["M8"], ws["C10"] = 80, "2018-03-01", "999"
    wb.save(book)
    with pytest.raises(DataError) as exc:
        import_roster(book, data_dir, "renhe-06")
    text = str(exc.value)
    assert "第5行“意见”列：“弃权”不是可选的意见" in text
    assert "第6行“联系电话”列：“12345”不是电话号码" in text
    assert "第9行“希望改造项目”列：“游泳池”不在项目分类表" in text
    assert path.read_bytes() == before


def test_roster_commands(data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    book = tmp_path / "r.xlsx"
    out = runner.invoke(main, ["--data", str(data_dir), "roster", "export", "--project", "xiqu-03",
                               "--purpose", "入户征询", "--out", str(book)])
    assert out.exit_code == 0 and "已导出 96 户" in out.output
    out = runner.invoke(main, ["--data", str(data_dir), "roster", "import", str(book), "--project", "xiqu-03"])
    assert out.exit_code == 0 and "内容相同，未改动" in out.output
    out = runner.invoke(main, ["--data", str(data_dir), "roster", "import", str(book), "--project", "xiqu-04"])
    assert out.exit_code == 1 and "不是水泥厂家属区（xiqu-04）的" in out.output, out.output
    out = runner.invoke(main, ["--data", str(data_dir), "roster", "import", str(book)])  # the workbook names it
    assert out.exit_code == 0 and "内容相同，未改动" in out.output


def test_a_community_without_a_roster_exports_a_blank_one_by_building(data_dir: Path, tmp_path: Path) -> None:
    book = tmp_path / "r.xlsx"
    result = export_roster(data_dir, "dongqu-10", book)
    project = load(data_dir).projects["dongqu-10"]
    assert result.households == sum(b.households for b in project.buildings)
    ws = load_workbook(book).active
    assert ws["A3"].value == project.buildings[0].name and ws["C3"].value is None


def test_an_export_reads_the_plan_and_its_own_project_only(data_dir: Path, tmp_path: Path) -> None:
    book = tmp_path / "r.xlsx"
    # another community's broken project is not what the export writes: it goes out all the same
    (data_dir / "projects" / "dongqu-02.yaml").write_text("community: [不成样子\n", encoding="utf-8")
    assert export_roster(data_dir, "dongqu-10", book).households > 0
    # its own project is read and checked as load() checks it
    own = data_dir / "projects" / "dongqu-10.yaml"
    own.write_text(own.read_text(encoding="utf-8").replace("buildings:", "buildings: 3\nx_buildings:", 1),
                   encoding="utf-8")
    with pytest.raises(DataError) as exc:
        export_roster(data_dir, "dongqu-10", tmp_path / "s.xlsx")
    assert "dongqu-10.yaml" in str(exc.value) and not (tmp_path / "s.xlsx").exists()
    # a project file not named after its community: the whole folder is loaded, and the broken file found
    own.rename(data_dir / "projects" / "renamed.yaml")
    with pytest.raises(DataError) as exc:
        export_roster(data_dir, "dongqu-10", tmp_path / "s.xlsx")
    assert "dongqu-02.yaml" in str(exc.value)
    with pytest.raises(DataError, match="未知的小区编号“nowhere”"):
        export_roster(data_dir, "nowhere", tmp_path / "s.xlsx")


@pytest.mark.parametrize("name", ['=HYPERLINK("http://example.invalid","点我")', "=cmd|' /C calc'!A0",
                                  "+1+1", "@SUM(1)", "-2+3"])
def test_exported_names_that_read_like_formulas_stay_text(data_dir: Path, tmp_path: Path, name: str) -> None:
    from generator.data.roster import write_csv

    path = data_dir / "rosters" / "renhe-06.csv"
    roster = read_csv(path)
    first = roster.households[0].model_copy(update={"head": name})
    path.write_bytes(write_csv(roster.model_copy(update={"households": (first, *roster.households[1:])})))
    book = tmp_path / "r.xlsx"
    export_roster(data_dir, "renhe-06", book)
    import zipfile

    with zipfile.ZipFile(book) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()
    ws = load_workbook(book).active
    cells = [c for row in ws.iter_rows() for c in row if c.value == name]
    assert len(cells) == 1 and cells[0].data_type == "s"
    assert import_roster(book, data_dir, "renhe-06").households == len(roster.households)
    assert read_csv(path).households[0].head == name


def test_a_formula_typed_into_the_roster_is_refused_naming_its_cell(data_dir: Path, tmp_path: Path) -> None:
    book = tmp_path / "r.xlsx"
    export_roster(data_dir, "renhe-06", book)
    wb = load_workbook(book)
    wb.active["D3"] = "=A3&B3"  # a live formula in 户主姓名
    wb.save(book)
    with pytest.raises(DataError, match="第3行“户主姓名”列：是公式（=A3&B3），请改为数值"):
        import_roster(book, data_dir, "renhe-06")


@pytest.mark.skipif(not hasattr(Path, "symlink_to"), reason="no symbolic links here")
def test_a_roster_linking_out_of_the_data_folder_is_refused_unread(tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, root)
    secret = tmp_path / "secret.csv"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    roster = root / "rosters" / "dongqu-01.csv"
    roster.unlink()
    roster.symlink_to(secret)
    result = CliRunner().invoke(main, ["--data", str(root), "validate"])
    assert result.exit_code != 0
    assert "链接到数据文件夹以外" in result.output and "root:x" not in result.output


def test_a_roster_export_is_recorded_with_who_what_for_and_where(data_dir: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    from generator.web.audit import AuditLog

    runner = CliRunner()
    monkeypatch.setattr(getpass, "getuser", lambda: "clerk")
    book, instance = tmp_path / "r.xlsx", tmp_path / "inst"
    base = ["--data", str(data_dir), "roster", "export", "--project", "xiqu-03", "--out", str(book)]
    missing = runner.invoke(main, base)
    assert missing.exit_code == 2 and "--purpose" in missing.output and not book.exists()
    assert runner.invoke(main, [*base, "--purpose", " "]).exit_code == 2 and not book.exists()
    done = runner.invoke(main, [*base, "--purpose", "入户  征询", "--instance", str(instance)])
    assert done.exit_code == 0 and book.is_file()
    event = AuditLog(instance).events()[-1]
    assert (event.user, event.action, event.project, event.outcome) == ("命令行:clerk", "roster-export", "xiqu-03",
                                                                        "成功")
    assert event.detail == f"用途：入户 征询；文件：{book.resolve()}" and event.action_name == "命令行导出住户名册"
    # the default instance folder when it exists, and nothing recorded (said so) when it does not
    monkeypatch.chdir(tmp_path)
    book.unlink()
    alone = runner.invoke(main, [*base, "--purpose", "核对"])
    assert alone.exit_code == 0 and "未记入操作记录" in alone.output and book.is_file()
    instance.rename(tmp_path / "instance")
    assert runner.invoke(main, [*base, "--purpose", "核对"]).exit_code == 0
    assert AuditLog(tmp_path / "instance").events()[-1].detail.startswith("用途：核对；")
    # a damaged database stops the export before any file is written
    book.unlink()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "gaizao.sqlite3").write_bytes(b"not a database" * 100)
    broken = runner.invoke(main, [*base, "--purpose", "核对", "--instance", str(tmp_path / "broken")])
    assert broken.exit_code == 1 and "实例数据库" in broken.output and not book.exists()
