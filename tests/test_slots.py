"""Household forms filled by substitution (generator/render/slots.py): the same bytes as Jinja's
render for every survey document of the bundled data, and Jinja wherever substitution cannot follow."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from generator.data.loader import DataSet
from generator.documents.kinds import KINDS
from generator.output.pipeline import Renderers, Selection, plan_jobs
from generator.render.docx import CompiledDocx, jinja_source
from generator.render.slots import compile_frame

DOCUMENT = "word/document.xml"


def _jinja(compiled: CompiledDocx, context: dict[str, Any]) -> bytes:
    frames, compiled.frames = compiled.frames, {}
    try:
        return compiled.render(context)
    finally:
        compiled.frames = frames


def test_every_bundled_survey_document_is_the_same_bytes_filled_as_rendered(bundled: DataSet) -> None:
    renderers = Renderers(bundled, None)
    kind = KINDS["survey"]
    jobs, _ = plan_jobs(bundled, Selection(kinds=("survey",), all_forms=True))
    assert len(jobs) >= 30
    households = 0
    for job in jobs:
        compiled = renderers.docx(renderers.locate(kind, job.community.district))
        assert DOCUMENT in compiled.frames
        context = kind.context(bundled, job.target)
        households += len(context["households"])
        assert compiled._filled(DOCUMENT, context) is not None, job.community.id  # substitution was used
        assert compiled.render(context) == _jinja(compiled, context), job.community.id
    assert households > 13_000  # rosters and blank forms alike


def _template(tmp_path: Path, body: str) -> CompiledDocx:
    """The survey form's template with its document part replaced by a body of our own."""
    source = Path(__file__).parent.parent / "templates" / "docx" / "survey_form.docx"
    target = tmp_path / "t.docx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == DOCUMENT:
                xml = data.decode("utf-8")
                start, end = xml.index("<w:body>") + len("<w:body>"), xml.index("</w:body>")
                data = (xml[:start] + body + xml[end:]).encode("utf-8")
            zout.writestr(info, data)
    return CompiledDocx(target)


def _para(text: str) -> str:
    return f"<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>"


HOUSEHOLDS = [{"no": i, "head": name, "area": area}
              for i, (name, area) in enumerate([("张三", 80), ("李<四>&", None), ("王五", 0), ("赵六", 95),
                                                ("钱七", None)], start=1)]


@pytest.mark.parametrize("body", [
    _para("{%p for h in households %}") + _para("{{ h.head }}{% if h.area %}{{ h.area }}㎡{% endif %}"
                                                "{{ '%04d'|format(h.no) }}{{ h.area or '' }}{{ title }}")
    + _para("{%p if not loop.last %}") + _para("—") + _para("{%p endif %}") + _para("{%p endfor %}"),
])
def test_a_loop_of_fields_tests_and_formats_is_filled_the_same_as_jinja_renders_it(tmp_path: Path, body: str) -> None:
    compiled = _template(tmp_path, body)
    assert DOCUMENT in compiled.frames
    context = {"households": HOUSEHOLDS, "title": "标题"}
    filled = compiled._filled(DOCUMENT, context)
    assert filled is not None and len(filled) == len(HOUSEHOLDS) + 2
    assert compiled.render(context) == _jinja(compiled, context)
    text = compiled.render_part(DOCUMENT, context)
    assert "李&lt;四&gt;&amp;" in text and "0005" in text and "80㎡" in text


@pytest.mark.parametrize("inner", [
    "{% filter upper %}{{ h.head }}{% endfilter %}",  # a filter over the value: its length could matter
    "{{ h.head|upper }}",
    "{% set x = h.head %}{{ x }}",
    "{{ h }}",
    "{{ loop.cycle('a', 'b') }}",
])
def test_a_loop_substitution_cannot_follow_renders_through_jinja(tmp_path: Path, inner: str) -> None:
    body = _para("{%p for h in households %}") + _para(inner) + _para("{%p endfor %}")
    assert compile_frame(jinja_source(body)) is None
    compiled = _template(tmp_path, body)
    assert DOCUMENT not in compiled.frames


def test_a_value_with_a_line_break_falls_back_to_jinja_and_gets_a_word_break(tmp_path: Path) -> None:
    body = _para("{%p for h in households %}") + _para("{{ h.head }}") + _para("{%p endfor %}")
    compiled = _template(tmp_path, body)
    households = [*HOUSEHOLDS[:4], {"no": 5, "head": "孙\n八", "area": None}]
    context = {"households": households}
    assert compiled._filled(DOCUMENT, context) is None
    assert "<w:br/>" in compiled.render_part(DOCUMENT, context)


def test_a_missing_field_is_reported_as_jinja_reports_it(tmp_path: Path) -> None:
    from generator.errors import TemplateError

    body = _para("{%p for h in households %}") + _para("{{ h.phone }}") + _para("{%p endfor %}")
    compiled = _template(tmp_path, body)
    with pytest.raises(TemplateError, match="phone"):
        compiled.render({"households": HOUSEHOLDS})
