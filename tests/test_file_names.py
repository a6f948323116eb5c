"""The names of the files a build writes come from the wording file: a city renames a kind in its
data folder and the build, the manifest, the web download and the print files follow; a name
Windows refuses or two documents under one name are refused when the wording is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.data.loader import DataSet, load
from generator.documents.kinds import KINDS, community_target, kinds_of
from generator.documents.report import report_path, statistics_path
from generator.output.pipeline import Renderers
from generator.output.printing import plan_prints
from generator.render.naming import name_problems
from generator.render.wording import BUILTIN_WORDING, CITY_WORDING, _builtin, _merged, _stamped, wording, wording_files
from generator.web.store import build as build_state
from generator.web.store import document, documents_of

BUILT_IN = {
    "survey": "01-居民意见征询表.docx", "application": "02-改造申请书.docx", "plan": "03-改造方案.docx",
    "budget": "04-工程预算及资金筹集表.xlsx", "notice": "05-改造方案公示.docx", "acceptance": "06-竣工验收表.docx",
    "survey-tally": "10-意见征询结果汇总表.docx", "ballot": "20-业主表决票.docx",
    "vote-register": "21-业主表决签到及表决情况登记表.docx", "vote-result": "22-业主表决结果公示.docx",
    "elevator-costs": "23-加装电梯费用分摊表.docx", "satisfaction-form": "24-居民满意度调查问卷.docx",
    "satisfaction-tally": "25-居民满意度调查结果汇总表.docx",
}


def _city_names(data_root: Path, text: str) -> None:
    path = data_root / CITY_WORDING
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_built_in_names_are_todays_and_pass_their_own_check(bundled: DataSet) -> None:
    assert name_problems(_builtin(), BUILTIN_WORDING) == []
    target = community_target(bundled, "dongqu-01")
    assert {k.key: k.file_name(bundled, target) for k in kinds_of("community")} == BUILT_IN
    assert statistics_path(bundled, 2018, 6) == "2018/全市/2018年06月老旧小区改造进展统计月报.xlsx"
    assert report_path(bundled, 2018, None) == "2018/全市/2018年老旧小区改造试点工作报告（汇总）.docx"
    assert report_path(bundled, 2019, "东区") == "2019/东区/2019年老旧小区改造年度工作总结.docx"
    assert KINDS["plan-table"].where(bundled, target) == "计划/老旧小区改造年度实施计划表.xlsx"
    files, _ = plan_prints(bundled, "notice", district="东区")
    assert [f.path for f in files] == ["打印/东区-改造方案公示.docx"]


def test_a_city_renames_the_notice_and_the_build_manifest_and_download_follow(data_root: Path,
                                                                              tmp_path: Path) -> None:
    _city_names(data_root, '# 本市的文件名\nfile.notice: "{{ seq }}-{{ community }}-改造方案公示.docx"\n'
                           'file.print: "{{ district }}{{ street_office }}{{ kind }}（打印）"\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--data", str(data_root), "build", "--out", str(out),
                                       "--project", "dongqu-01", "--kind", "notice"])
    assert result.exit_code == 0, result.output
    data = load(data_root)
    c = data.communities["dongqu-01"]
    written = [p.name for p in out.rglob("*.docx")]
    assert written == [f"{c.seq:02d}-{c.name}-改造方案公示.docx"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert any(str(d.get("path", "")).endswith(written[0]) for d in manifest["documents"]), manifest
    loaded = build_state(data, Renderers(data, None), {})
    name, _ = document(loaded, "dongqu-01", "notice")
    assert name == written[0]  # the web's download, and its list, name the file as the build does
    shown = {a.kind.key: a.name for a in documents_of(loaded, "dongqu-01")}
    assert shown["notice"] == written[0] and shown["plan"] == "03-改造方案.docx"
    files, _ = plan_prints(data, "notice", district="东区")
    assert [f.path for f in files] == ["打印/东区改造方案公示（打印）.docx"]


@pytest.mark.parametrize("text, words", [
    ('file.notice: "03-改造方案"\n', ["file.notice", "file.plan", "同一个文件"]),
    ('file.notice: "con"\n', ["file.notice", "保留名称"]),
    ('file.assessment: "COM1.xlsx"\n', ["file.assessment", "保留名称"]),
    ('file.notice: "公示:{{ community }}?"\n', ["file.notice", "不允许的字符", ": ?"]),
    ('file.notice: "改造方案公示."\n', ["file.notice", "句点结尾"]),
    ('file.statistics: "{{ year }}年进展统计月报"\n', ["file.statistics", "month（月份）", "覆盖"]),
    ('file.print: "{{ district }}-{{ kind }}"\n', ["file.print", "street_office（街道办事处）"]),
    ('file.notice: "' + "公示" * 61 + '"\n', ["file.notice", "122个字符", "超过120个"]),
])
def test_a_bad_file_name_is_refused_with_the_file_the_key_and_the_problem(
        data_root: Path, tmp_path: Path, text: str, words: list[str]) -> None:
    _city_names(data_root, text)
    result = CliRunner().invoke(main, ["--data", str(data_root), "validate"])
    assert result.exit_code != 0
    assert str(data_root / CITY_WORDING) in result.output or "wording.yaml" in result.output, result.output
    assert all(w in result.output for w in words), result.output
    built = CliRunner().invoke(main, ["--data", str(data_root), "build", "--out", str(tmp_path / "out"),
                                      "--project", "dongqu-01", "--kind", "notice"])
    assert built.exit_code != 0
    assert not list((tmp_path / "out").rglob("*.docx"))


def test_a_name_using_the_community_is_filled_once_per_community_and_the_default_once(bundled: DataSet) -> None:
    said = wording(None)
    before = len(said._memo)
    for cid in list(bundled.communities)[:20]:
        KINDS["notice"].file_name(bundled, community_target(bundled, cid))
    assert len(said._memo) - before <= 1  # the built-in name uses no field: one memo entry for all


def test_templates_check_of_a_folder_checks_the_names_its_wording_gives(tmp_path: Path, data_root: Path) -> None:
    folder = tmp_path / "东区模板"
    folder.mkdir()
    (folder / "wording.yaml").write_text('file.acceptance: "05-改造方案公示"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--data", str(data_root), "templates", "check", str(folder)])
    assert result.exit_code != 0
    assert "file.acceptance" in result.output and "file.notice" in result.output, result.output


def test_a_clash_is_told_against_the_citys_key_whichever_comes_first(data_root: Path) -> None:
    _city_names(data_root, 'file.survey: "03-改造方案"\n')  # the survey comes before the plan
    found = [str(p) for p in name_problems(wording_entries(data_root), BUILTIN_WORDING)]
    assert found == [f"{data_root / CITY_WORDING} file.survey：与 file.plan 的文件名都是“03-改造方案”，"
                     "两份文书会写到同一个文件；请改用可区分的文件名"]


def wording_entries(data_root: Path) -> dict:
    """The data folder's wording over the built-in one, as a build reads it."""
    return _merged(_stamped(wording_files(data_root)))
