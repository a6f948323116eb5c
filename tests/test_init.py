"""`gaizao init`: a data folder for another city, and that city's way from workbook to documents."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.cli.data import import_cmd, init
from generator.data.loader import BUNDLED_DATA, load
from generator.data.yamlio import dump_yaml, load_yaml
from generator.errors import OutputError
from generator.intake.init import NUMBER_PLACEHOLDER, init_data
from generator.intake.plan_import import import_workbook
from generator.output.pipeline import Selection, build
from generator.render.templates import BUILTIN
from generator.rules.checks import check_all

CITY = "青岚市"  # a made-up city


def test_init_makes_a_folder_that_loads_and_validates(tmp_path: Path) -> None:
    folder = tmp_path / "青岚"
    init_data(folder, CITY)
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.txt", "catalogue.yaml", "communities.yaml", "districts.yaml", "programme.yaml",
        "projects", "reports"]
    assert not any((folder / "projects").iterdir()) and not any((folder / "reports").iterdir())
    data = load(folder)
    assert data.communities == {} and list(data.districts) == ["示例区"]
    assert [f for f in check_all(data) if f.severity == "error"] == []
    catalogue = (BUNDLED_DATA / "catalogue.yaml").read_bytes()
    assert (folder / "catalogue.yaml").read_bytes() == catalogue


def test_programme_has_the_city_names_and_the_source_parameters(tmp_path: Path) -> None:
    init_data(tmp_path / "x", CITY)
    prog = load(tmp_path / "x").programme
    bundled = load().programme
    assert prog.city == CITY
    assert prog.title == "青岚市老旧小区改造工作方案"
    assert prog.issuance.title == "关于印发《青岚市老旧小区改造工作方案》的通知"
    assert prog.issuance.number == NUMBER_PLACEHOLDER and "待填写" in NUMBER_PLACEHOLDER
    assert prog.issuance.issuers == ["中共青岚市委办公室", "青岚市人民政府办公室"]
    assert prog.report_recipient == "青岚市住房城乡建设局"
    assert (prog.stated.communities, prog.stated.households, prog.stated.districts) == (0, 0, [])
    for same in ("years", "parties", "general_split", "pipeline_split", "eligibility",
                 "deadlines", "assessment", "notice"):
        assert getattr(prog, same) == getattr(bundled, same), same
    text = (tmp_path / "x" / "programme.yaml").read_text(encoding="utf-8")
    source = "攀枝花市方案（攀委办〔2018〕40号）"  # the comments name where the defaults come from
    assert "攀枝花" not in text.replace(source, "")


def test_readme_explains_the_next_steps_in_chinese(tmp_path: Path) -> None:
    init_data(tmp_path / "x", CITY)
    raw = (tmp_path / "x" / "README.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # opens in Windows Notepad
    text = raw.decode("utf-8-sig")
    steps = [text.index(word) for word in ("import", "validate", "build")]
    assert steps == sorted(steps)
    assert "青岚市" in text and "programme.yaml" in text and "districts.yaml" in text


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "note.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match="不是空文件夹"):
        init_data(tmp_path / "x", CITY)
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["note.txt"]
    (tmp_path / "empty").mkdir()
    init_data(tmp_path / "empty", CITY)  # an empty folder is fine


def test_cli_init(tmp_path: Path) -> None:
    main.add_command(import_cmd)
    main.add_command(init)
    runner = CliRunner()
    result = runner.invoke(main, ["init", str(tmp_path / "c"), "--city", CITY])
    assert result.exit_code == 0, result.output
    assert "已新建数据文件夹" in result.output and "import" in result.output
    again = runner.invoke(main, ["init", str(tmp_path / "c"), "--city", CITY])
    assert again.exit_code == 1 and "不是空文件夹" in again.output
    missing = runner.invoke(main, ["init", str(tmp_path / "d")])
    assert missing.exit_code == 2


def _districts() -> dict[str, object]:
    return {"districts": [
        {"name": "清河区", "body_type": "政府", "government": "青岚市清河区人民政府",
         "housing_bureau": "青岚市清河区住房和城乡建设局"},
        {"name": "青岚高新区", "body_type": "管委会",
         "government": "青岚高新技术产业开发区管理委员会",
         "housing_bureau": "青岚高新区规划建设局"},
    ]}


def _workbook(path: Path) -> Path:
    """The second city's plan table, typed the way a clerk would: title, merged years, totals."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "年度计划"
    ws.append(["附件1"])
    ws.append(["青岚市老旧小区改造年度实施计划表"])
    ws.merge_cells("A2:I2")
    ws.append(["序号", "老旧小区名称", "县（区）", "建成时间", "小区位置", "户数",
               "预计投资（万元）", "改造年度计划", "备注"])
    ws.append([1, "河畔小区", "清河区", "1988", "滨河路12号", 240, 480, "2018年（共2个）", None])
    ws.append([2, "纺织厂宿舍", "青岚高新区", None, "工业大道3号", 180, 360.5, None, "试点"])
    ws.merge_cells("H4:H5")
    ws.append(["合计", None, None, None, None, 420, 840.5])
    ws.append([3, "粮站家属院", "清河区", "1980 年代", "东风巷7号", 96, 192, "2019年（共1个）"])
    ws.append(["合计", None, None, None, None, 96, 192])
    ws.append(["总计", None, None, None, None, 516, 1032.5])
    wb.save(path)
    return path


def test_second_city_from_init_to_survey_forms(tmp_path: Path) -> None:
    folder = tmp_path / "青岚"
    init_data(folder, CITY)
    (folder / "districts.yaml").write_text(dump_yaml(_districts()), encoding="utf-8")
    result = import_workbook(_workbook(tmp_path / "计划表.xlsx"), folder)
    assert result.written and result.new_ids == 3

    data = load(folder)
    assert sorted(data.communities) == ["d1-01", "d1-03", "d2-02"]
    row = data.communities["d2-02"]
    assert (row.name, row.district, row.year, row.households, str(row.investment_wan)) == (
        "纺织厂宿舍", "青岚高新区", 2018, 180, "360.5")
    assert row.built is None and row.remarks == "试点"
    assert data.communities["d1-03"].built == "1980年代"
    assert [f for f in check_all(data) if f.severity == "error"] == []

    for c in data.communities.values():
        (folder / "projects" / f"{c.id}.yaml").write_text(dump_yaml({
            "community": c.id, "illustrative": True, "stage": "survey",
            "street_office": "清河街道办事处", "community_committee": "河畔社区居民委员会",
        }), encoding="utf-8")
    data = load(folder)
    assert [f for f in check_all(data) if f.severity == "error"] == []
    if not (BUILTIN / "docx" / "survey_form.docx").is_file():
        pytest.skip("templates/docx/survey_form.docx 尚不存在："
                    "只跳过最后一步（生成居民意见征询表）")
    built = build(data, tmp_path / "output", Selection())
    assert built.written["居民意见征询表"] == 3
    assert (tmp_path / "output" / "2018" / "青岚高新区" / "02-纺织厂宿舍" / "01-居民意见征询表.docx"
            ).is_file()


def test_programme_yaml_of_init_is_plain_yaml(tmp_path: Path) -> None:
    init_data(tmp_path / "x", CITY)
    data, _ = load_yaml(tmp_path / "x" / "programme.yaml")
    assert data["issuance"]["number"] == NUMBER_PLACEHOLDER
