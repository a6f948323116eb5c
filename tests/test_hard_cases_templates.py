"""Hard cases for templates: lookups that leave the template folders, templates that would hang
a build or exhaust its memory, DOCTYPE declarations, and Excel cells past their length limit."""

from __future__ import annotations

import io
import time
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.documents.template_check import check_docx, check_xlsx
from generator.errors import TemplateError
from generator.render import env, ziputil
from generator.render.docx import CompiledDocx
from generator.render.templates import BUILTIN, find_template
from generator.render.xlsx import CompiledXlsx
from tests.helpers import DataDir
from tests.resave import with_part


def word_template(path: Path, *paragraphs: str) -> Path:
    document = docx.Document()
    document.add_paragraph("第一段")
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def excel_template(path: Path, text: str) -> Path:
    wb = openpyxl.Workbook()
    assert wb.active is not None
    wb.active["A1"] = text
    wb.save(path)
    return path


def refused(path: Path, expected: str, paragraph: str | None = None) -> float:
    start = time.monotonic()
    with pytest.raises(TemplateError) as exc:
        CompiledDocx(path, "模板.docx").render({"n": 3})
    seconds = time.monotonic() - start
    message = str(exc.value)
    assert expected in message, message
    assert "模板.docx" in message
    if paragraph is not None:
        assert f"所在段落：“{paragraph}”" in message, message
    assert seconds < 30
    return seconds


# ---------------------------------------------------------------- 4. the sandbox's bounds


@pytest.mark.parametrize(("expression", "expected"), [
    ("{{ 10**(10**8) }}", "幂运算"),
    ("{{ (n * 1000)**(n * 100000) }}", "幂运算"),
    ("{{ 'x' * 10**9 }}", "重复"),
    ("{{ [1, 2] * 10**9 }}", "重复"),
    ("{{ ('x' * 900000) + ('y' * 900000) }}", "拼接"),
    ("{{ range(10**7)|list|length }}", "range 的长度"),
    ("{{ 'x'|center(10**9) }}", "参数过大"),
    ("{{ 'x'.ljust(10**9) }}", "参数过大"),
    ("{{ ('x' * 1000).replace('x', 'y' * 10000) }}", "替换后"),
    ("{{ '%0999999999d' % 1 }}", "宽度过大"),
    ("{{ '%0999999999d'|format(1) }}", "宽度过大"),
])
def test_expressions_that_would_exhaust_memory_are_refused_by_paragraph(tmp_path: Path, expression: str,
                                                                       expected: str) -> None:
    path = word_template(tmp_path / "t.docx", f"甲段{expression}乙段")
    refused(path, expected, paragraph=f"甲段{expression}乙段")


def test_nested_loops_stop_at_the_time_per_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env, "SECONDS_PER_DOCUMENT", 1.0)
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    path = word_template(tmp_path / "t.docx", loop)
    assert refused(path, "超过1秒") < 10


def test_loops_with_output_stop_at_the_time_per_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env, "SECONDS_PER_DOCUMENT", 1.0)
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}"
    path = word_template(tmp_path / "t.docx", loop)
    assert refused(path, "超过") < 10


def test_output_past_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env, "MAX_OUTPUT", 1024 * 1024)
    loop = "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}"
    refused(word_template(tmp_path / "t.docx", loop), "渲染结果超过")


DOUBLING = ("{%- set ns = namespace(s='x') -%}{%- for i in range(40) -%}{%- set ns.s = STEP -%}{%- endfor -%}"
            "{{ ns.s|length }}")


@pytest.mark.parametrize("step", ["ns.s ~ ns.s", "'%s%s' % (ns.s, ns.s)", "[ns.s, ns.s]|join", "''.join([ns.s, ns.s])",
                                  "(ns.s, ns.s)|join('')", "'{}{}'.format(ns.s, ns.s)"])
def test_a_text_doubled_in_a_loop_stops_at_the_bound_whatever_doubles_it(tmp_path: Path, step: str) -> None:
    # 40 doublings of one character would be a terabyte: each way of doubling stops near a million.
    loop = DOUBLING.replace("STEP", step)
    refused(word_template(tmp_path / "t.docx", loop), "模板生成的文字或列表超过1000000个字符或项")


def test_ordinary_arithmetic_and_text_still_render(tmp_path: Path) -> None:
    path = word_template(tmp_path / "t.docx", "{{ 2**10 }} {{ '-' * 20 }} {{ range(3)|list }} {{ 'a'|center(9) }}")
    text = "".join(p.text for p in docx.Document(io.BytesIO(CompiledDocx(path).render({}))).paragraphs)
    assert "1024" in text and "-" * 20 in text and "[0, 1, 2]" in text


@pytest.mark.parametrize(("expression", "expected"), [
    ("{{ 10**(10**8) }}", "幂运算"),
    ("{{ 'x' * 100000000 }}", "乘以100000000"),
    ("{% for i in range(1000000) %}{% endfor %}", "range 的长度"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "嵌套的 range"),
])
def test_templates_check_catches_what_it_can_statically(tmp_path: Path, expression: str, expected: str) -> None:
    findings = check_docx(word_template(tmp_path / "t.docx", expression), "t.docx", None)
    assert any(expected in f.problem for f in findings), findings
    excel = check_xlsx(excel_template(tmp_path / "t.xlsx", expression), "t.xlsx", None)
    assert any(expected in f.problem for f in excel), excel


def test_an_excel_template_past_the_bounds_names_its_cell(tmp_path: Path) -> None:
    path = excel_template(tmp_path / "t.xlsx", "{{ 'x' * 10**9 }}")
    with pytest.raises(TemplateError, match="A1.*重复"):
        CompiledXlsx(path).render({})


# ---------------------------------------------------------------- 6. Excel's cell limit


@pytest.mark.parametrize("text", ["{{ 'x' * 40000 }}", "前缀{{ 'x' * 32767 }}"])
def test_a_cell_past_32767_characters_is_refused(tmp_path: Path, text: str) -> None:
    path = excel_template(tmp_path / "t.xlsx", text)
    with pytest.raises(TemplateError, match="超过 Excel 单元格的上限"):
        CompiledXlsx(path).render({})


def test_a_cell_of_exactly_32767_characters_is_written(tmp_path: Path) -> None:
    data = CompiledXlsx(excel_template(tmp_path / "t.xlsx", "{{ 'x' * 32767 }}")).render({})
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws is not None and len(str(ws["A1"].value)) == 32767


# ---------------------------------------------------------------- 5. DOCTYPE and inflated parts


def _doctype(blob: bytes) -> bytes:
    head, sep, rest = blob.partition(b"?>")
    return head + sep + b'<!DOCTYPE w:document [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + rest


@pytest.fixture
def doctype_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates" / "docx"
    folder.mkdir(parents=True)
    with_part(BUILTIN / "docx" / "notice.docx", folder / "notice.docx", "word/document.xml", _doctype)
    return folder.parent


def test_a_template_with_a_doctype_is_refused_by_build_print_and_check(tmp_path: Path, doctype_templates: Path) -> None:
    out = tmp_path / "out"
    for args in (["build", "-q", "--kind", "notice", "--district", "东区"], ["print", "--kind", "notice"]):
        result = CliRunner().invoke(main, [*args, "--out", str(out), "--templates", str(doctype_templates)])
        assert result.exit_code == 1, result.output
        assert "DOCTYPE" in result.output and "内部错误" not in result.output
    assert not list(out.rglob("*.docx")) if out.exists() else True
    result = CliRunner().invoke(main, ["templates", "check", str(doctype_templates)])
    assert result.exit_code == 1 and "DOCTYPE" in result.output and "内部错误" not in result.output


@pytest.mark.parametrize("part", ["word/styles.xml", "[Content_Types].xml", "word/_rels/document.xml.rels"])
def test_a_doctype_in_any_template_part_is_refused(tmp_path: Path, part: str) -> None:
    path = with_part(BUILTIN / "docx" / "notice.docx", tmp_path / "t.docx", part, _doctype)
    with pytest.raises(TemplateError, match="DOCTYPE"):
        CompiledDocx(path)


def test_an_excel_template_with_a_doctype_is_refused(tmp_path: Path) -> None:
    source = excel_template(tmp_path / "s.xlsx", "{{ 1 }}")
    path = with_part(source, tmp_path / "t.xlsx", "xl/worksheets/sheet1.xml", _doctype)
    with pytest.raises(TemplateError, match="DOCTYPE"):
        CompiledXlsx(path)


def test_a_template_part_inflating_too_far_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ziputil, "MAX_TEMPLATE_PART", 4 * 1024 * 1024)
    path = with_part(BUILTIN / "docx" / "notice.docx", tmp_path / "t.docx", "word/styles.xml",
                     lambda blob: blob + b" " * (8 * 1024 * 1024))
    start = time.monotonic()
    with pytest.raises(TemplateError, match="word/styles.xml 解压后达"):
        CompiledDocx(path)
    assert time.monotonic() - start < 5
    monkeypatch.setattr(ziputil, "MAX_TEMPLATE_TOTAL", 10 * 1024)
    with pytest.raises(TemplateError, match="模板 t.docx 解压后达"):
        CompiledDocx(word_template(tmp_path / "small.docx", "x"), "t.docx")


def test_a_bomb_ratio_template_part_is_refused(tmp_path: Path) -> None:
    path = with_part(BUILTIN / "docx" / "notice.docx", tmp_path / "t.docx", "word/styles.xml",
                     lambda blob: blob + b" " * (3 * 1024 * 1024))
    with pytest.raises(TemplateError, match="不是正常的模板文件"):
        CompiledDocx(path)


# ---------------------------------------------------------------- 3. lookups stay inside the template folders


@pytest.mark.parametrize("district", ["..", "../..", "/etc", "a/../../b"])
def test_a_district_folder_leading_out_is_refused(district: str) -> None:
    with pytest.raises(TemplateError, match="不在模板文件夹内"):
        find_template("docx/notice.docx", [BUILTIN], district)


def test_a_template_linked_to_outside_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.docx"
    word_template(outside, "x")
    folder = tmp_path / "mine" / "docx"
    folder.mkdir(parents=True)
    (folder / "notice.docx").symlink_to(outside)
    with pytest.raises(TemplateError, match="链接到模板文件夹"):
        find_template("docx/notice.docx", [tmp_path / "mine", BUILTIN])


def test_a_district_named_like_an_absolute_path_takes_no_templates_from_there(tmp_path: Path) -> None:
    evil = tmp_path / "evil"
    (evil / "docx").mkdir(parents=True)
    (evil / "docx" / "notice.docx").write_bytes(b"PK\x03\x04 not a template")
    dd = DataDir(tmp_path / "data")
    dd.project()
    for name in ("districts.yaml", "communities.yaml"):
        path = dd.path(name)
        path.write_text(path.read_text("utf-8").replace("name: 东区\n", f"name: '{evil}'\n")
                        .replace("district: 东区\n", f"district: '{evil}'\n"), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--data", str(dd.root), "build", "--out", str(out), "-q", "--kind", "notice"])
    assert result.exit_code == 0, result.output
    assert list(out.rglob("*.docx"))  # from the built-in template: the planted one is broken
