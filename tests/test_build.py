"""Building the community packet: files, folders, manifest, repeatability, safety."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.data.loader import DataSet, load
from generator.documents.kinds import kinds_of
from generator.errors import OutputError, TemplateError
from generator.output.pipeline import Result, Selection, build
from generator.output.writer import MANIFEST, Entry, manifest_text, sha256
from tests.golden import snapshots
from tests.snapshot import office_text


def _documents(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".docx", ".xlsx"))


def test_every_kind_is_built_for_the_bundled_data(full_build: Result, bundled: DataSet) -> None:
    assert set(full_build.written) == {k.name for k in kinds_of("community")}
    # survey forms: from a roster, or blank while the survey is still to be done
    assert full_build.written["居民意见征询表"] == sum(
        1 for c in bundled.active_communities()
        if c.id in bundled.rosters or bundled.projects[c.id].survey is None or bundled.projects[c.id].stage == "survey")
    files = _documents(full_build.out)
    assert len(files) == sum(full_build.written.values())


def test_folders_and_file_names_follow_the_workflow(full_build: Result) -> None:
    folder = full_build.out / "2018" / "东区" / "01-炳草岗园林苗圃小区"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "01-居民意见征询表.docx", "02-改造申请书.docx", "03-改造方案.docx",
        "04-工程预算及资金筹集表.xlsx", "05-改造方案公示.docx", "06-竣工验收表.docx",
        "10-意见征询结果汇总表.docx",
        # the illustrative elevator vote of 1栋2单元
        "20-业主表决票.docx", "21-业主表决签到及表决情况登记表.docx", "22-业主表决结果公示.docx",
        "23-加装电梯费用分摊表.docx",
        # and the illustrative satisfaction survey
        "24-居民满意度调查问卷.docx", "25-居民满意度调查结果汇总表.docx",
    ]


def test_every_document_opens_and_has_no_leftover_tags(full_build: Result) -> None:
    for path in _documents(full_build.out):
        text = office_text(path)
        assert "{{" not in text and "{%" not in text, path
        assert "None" not in text, path
        assert "示例" in text, f"{path} 由示例数据生成，却没有示例标记"


@pytest.mark.parametrize("count", [0, 1, 3])
def test_manifest_written_in_pieces_is_what_json_dumps_writes(count: int) -> None:
    entries = [Entry(path=f"2018/东区/{i}-小区\n“引号”\\/01-表.docx", kind="survey", kind_name="居民意见征询表",
                     community=f"c{i}", district="东区", year=None if i else 2018,
                     template="templates/docx/x.docx", sha256="0" * 64, data_hash="f" * 64)
               for i in range(count)]
    doc = {"generator": "gaizao", "documents": [asdict(e) for e in entries]}
    expected = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    assert b"".join(manifest_text(entries)) == expected.encode("utf-8")


def test_manifest_lists_every_document_with_its_hash(full_build: Result) -> None:
    manifest = json.loads((full_build.out / MANIFEST).read_text(encoding="utf-8"))
    entries = {e["path"]: e for e in manifest["documents"]}
    files = {str(p.relative_to(full_build.out)) for p in _documents(full_build.out)}
    assert set(entries) == files
    for rel, entry in entries.items():
        assert entry["sha256"] == sha256((full_build.out / rel).read_bytes())
        assert {"kind", "community", "district", "year", "template", "data_hash"} <= set(entry)


def test_skipped_documents_say_why(full_build: Result) -> None:
    reasons = {(s.community.id, s.kind.key): s.reason for s in full_build.skipped}
    assert reasons[("renhe-25", "application")].startswith("居民支持率低于")
    assert any(r == "缺少居民意见征询结果" for (_, k), r in reasons.items() if k == "application")
    assert all(r for r in reasons.values())


def test_building_twice_gives_identical_bytes(tmp_path: Path, bundled: DataSet) -> None:
    sel = Selection(project="dongqu-01")
    first = build(bundled, tmp_path / "a", sel)
    second = build(bundled, tmp_path / "b", sel)
    for path in _documents(first.out):
        twin = second.out / path.relative_to(first.out)
        assert path.read_bytes() == twin.read_bytes(), path
    again = build(bundled, tmp_path / "a", sel)
    assert sum(again.written.values()) == 0
    assert sum(again.unchanged.values()) == sum(first.written.values())


def test_a_hand_edited_document_is_never_overwritten(tmp_path: Path, bundled: DataSet) -> None:
    sel = Selection(project="dongqu-01", kinds=("notice",))
    result = build(bundled, tmp_path, sel)
    notice = _documents(result.out)[0]
    notice.write_bytes(notice.read_bytes() + b"clerk's edit")
    with pytest.raises(OutputError, match="手工修改"):
        build(bundled, tmp_path, sel)
    assert notice.read_bytes().endswith(b"clerk's edit")
    build(bundled, tmp_path, sel, force=True)
    assert not notice.read_bytes().endswith(b"clerk's edit")


def test_a_file_the_tool_did_not_write_is_never_overwritten(tmp_path: Path, bundled: DataSet) -> None:
    target = tmp_path / "2018" / "东区" / "01-炳草岗园林苗圃小区" / "05-改造方案公示.docx"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"clerk's own file")
    with pytest.raises(OutputError, match="不是本工具生成的文件"):
        build(bundled, tmp_path, Selection(project="dongqu-01", kinds=("notice",)))
    assert target.read_bytes() == b"clerk's own file"


def _copy_data(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(load().root, root)
    return root


def test_special_characters_in_names_print_as_written(tmp_path: Path) -> None:
    root = _copy_data(tmp_path)
    plan = root / "communities.yaml"
    name = '苗圃&<小区>"{{ x }}{% if %}'
    plan.write_text(plan.read_text(encoding="utf-8").replace(
        "name: 炳草岗园林苗圃小区", f"name: '{name}'"), encoding="utf-8")
    result = build(load(root), tmp_path / "out", Selection(project="dongqu-01"))
    files = _documents(result.out)
    assert len(files) == 13  # with the illustrative elevator vote's and satisfaction survey's papers
    for path in files:
        assert name in office_text(path), path


def test_a_missing_field_names_the_template_and_the_field(tmp_path: Path) -> None:
    from docx import Document

    templates = tmp_path / "templates" / "docx"
    templates.mkdir(parents=True)
    doc = Document()
    doc.add_paragraph("{{ community.no_such_field }}")
    doc.save(templates / "notice.docx")
    with pytest.raises(TemplateError, match="notice.docx.*no_such_field"):
        build(load(), tmp_path / "out", Selection(project="dongqu-01", kinds=("notice",)),
              templates_dir=tmp_path / "templates")


def test_golden_snapshots_are_unchanged() -> None:
    for path, text in snapshots().items():
        assert path.exists(), f"缺少快照 {path}：运行 python -m tests.golden --update"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} 与生成结果不同；确认改动无误后运行 python -m tests.golden --update")


def test_build_command_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--out", str(out), "--year", "2020", "--district", "东区", "-q"])
    assert result.exit_code == 0, result.output
    assert "共生成" in result.output and "跳过 改造方案：缺少工程预算（预算项目）" in result.output
    assert "manifest.json" in result.output


def test_build_command_rejects_unknown_selection(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", "--out", str(tmp_path), "--district", "北区"])
    assert result.exit_code == 1
    assert "未知的县（区）“北区”" in result.output


def test_the_output_is_the_same_whatever_the_number_of_workers(tmp_path: Path, bundled: DataSet) -> None:
    one = build(bundled, tmp_path / "one", Selection(year=2018), workers=1)
    two = build(bundled, tmp_path / "two", Selection(year=2018), workers=2)
    assert sum(one.written.values()) >= 24  # large enough for the process pool
    manifest_one = (one.out / MANIFEST).read_text(encoding="utf-8")
    assert manifest_one == (two.out / MANIFEST).read_text(encoding="utf-8")


def test_small_windows_keep_the_output_in_job_order(tmp_path: Path, bundled: DataSet,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The next window is queued while this one is written: many windows still give the same files."""
    from generator.output import pipeline

    one = build(bundled, tmp_path / "one", Selection(year=2018), workers=1)
    monkeypatch.setattr(pipeline, "WINDOW", 7)  # many windows, the last one short
    two = build(bundled, tmp_path / "two", Selection(year=2018), workers=2)
    assert sum(two.written.values()) > 3 * 7
    assert list(two.paths) == [two.out / rel for rel in one.paths.rels]
    manifest_one = (one.out / MANIFEST).read_text(encoding="utf-8")
    assert manifest_one == (two.out / MANIFEST).read_text(encoding="utf-8")


@pytest.mark.parametrize(("value", "expected"), [
    ("第一行\n第二行", "<w:br/>"),
    ("甲\t乙", "<w:tab/>"),
    ("没有特殊字符", None),
])
def test_tabs_and_line_breaks_in_values_become_word_breaks(tmp_path: Path, value: str,
                                                           expected: str | None) -> None:
    from docx import Document

    from generator.render.docx import CompiledDocx

    doc = Document()
    doc.add_paragraph("{{ text }}")
    doc.save(tmp_path / "t.docx")
    rendered = CompiledDocx(tmp_path / "t.docx").render_part("word/document.xml", {"text": value})
    if expected is None:
        assert "<w:br" not in rendered and "<w:tab/>" not in rendered and value in rendered
    else:
        assert expected in rendered and value not in rendered


def test_a_header_rendered_from_few_values_is_kept_and_gives_the_same_bytes(tmp_path: Path) -> None:
    """A header of a few plain values is rendered once per value set; the files are byte for byte
    those of a fresh template, and a value that prints differently (1.0, True) is rendered anew."""
    from docx import Document

    from generator.render.docx import CompiledDocx

    doc = Document()
    doc.add_paragraph("{{ name }}：{{ amount }}")
    doc.sections[0].header.paragraphs[0].text = "{% if flag %}示例{% endif %}{{ city }}{{ amount }}"
    doc.save(tmp_path / "t.docx")
    kept = CompiledDocx(tmp_path / "t.docx")
    contexts = [{"name": f"小区{i}", "flag": flag, "city": "某市", "amount": amount}
                for i, (flag, amount) in enumerate([(True, 1), (True, 1), (False, 1), (1, 1), (True, 1.0),
                                                     (True, Decimal("1.00")), (True, 1)])]
    for context in contexts:
        assert kept.render(context) == CompiledDocx(tmp_path / "t.docx").render(context)
    header = [key for name, key in kept.kept if name == "word/header1.xml"]
    assert len(header) == 5  # True/1, False/1, 1/1, True/1.0, True/1.00: each printed its own way
    import zipfile
    from io import BytesIO

    def header_xml(context: dict[str, object]) -> str:
        return zipfile.ZipFile(BytesIO(kept.render(context))).read("word/header1.xml").decode("utf-8")

    assert "示例某市1<" in header_xml(contexts[0]) and ">某市1<" in header_xml(contexts[2])
    assert "示例某市1.00<" in header_xml(contexts[5])
