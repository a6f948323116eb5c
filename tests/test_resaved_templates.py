"""A template a clerk opens and saves again still builds the same paper: Word's, WPS's and
LibreOffice's ways of saving tags (split runs, proofing marks, bookmarks, entities, typographic
quotes, odd spaces) are undone when the template is compiled."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from generator.data.loader import DataSet
from generator.documents.template_check import check_folder
from generator.render.docx import CompiledDocx
from generator.render.layout import REFERENCE
from generator.render.templates import BUILTIN
from generator.render.word_tags import clean_code, normalize
from tests.resave import libreoffice_resave, paper_text, with_part

WORD = {f"docx/{p.name}": p for p in sorted((BUILTIN / "docx").glob("*.docx"))}
DOCUMENT = "word/document.xml"


def _typographic(tag: str) -> str:
    """Straight quotes in a tag as Word's AutoFormat types them: ‘…’ and “…”."""
    out, open_single, open_double = [], True, True
    for ch in tag:
        if ch == "'":
            out.append("‘" if open_single else "’")
            open_single = not open_single
        elif ch == '"':
            out.append("“" if open_double else "”")
            open_double = not open_double
        else:
            out.append(ch)
    return "".join(out)


def _as_saved(xml: str, how: str) -> str:
    """Document XML as an office suite saves it: every text cut into runs of one character (Word)
    or two (LibreOffice), with changed formatting, spelling marks and a bookmark between them;
    quotes in tags typographic (Word) or every quote an entity (LibreOffice); a no-break or
    full-width space after each tag's opening."""
    import re

    def text(m: re.Match[str]) -> str:
        body = m[1]
        if how == "word":
            body = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", lambda t: _typographic(t[0]), body)
        body = body.replace("{{ ", "{{\u00a0").replace("{% ", "{%\u3000")
        size = 1 if how == "word" else 2
        pieces = [body[i:i + size] for i in range(0, len(body), size)] or [""]
        if how == "libreoffice":
            pieces = [p.replace("'", "&apos;").replace('"', "&quot;") for p in pieces]
        joint = ('</w:t></w:r><w:proofErr w:type="spellStart"/><w:bookmarkStart w:id="0" w:name="_GoBack"/>'
                 '<w:bookmarkEnd w:id="0"/><w:r><w:rPr><w:i/></w:rPr><w:t xml:space="preserve">')
        return '<w:t xml:space="preserve">' + joint.join(pieces) + "</w:t>"

    return re.sub(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", text, xml)


@pytest.mark.parametrize("how", ["word", "libreoffice"])
@pytest.mark.parametrize("rel", sorted(WORD))
def test_a_template_saved_again_builds_the_same_paper(tmp_path: Path, bundled: DataSet, rel: str,
                                                      how: str) -> None:
    original = WORD[rel]
    xml = zipfile.ZipFile(original).read(DOCUMENT).decode("utf-8")
    saved = _as_saved(xml, how)
    assert saved.count("<w:r>") > xml.count("<w:r>") * 2  # really cut up
    resaved = with_part(original, tmp_path / rel, DOCUMENT, lambda _: saved.encode("utf-8"))
    assert paper_text(resaved, rel, bundled) == paper_text(original, rel, bundled)


@pytest.mark.parametrize(("saved", "meant"), [
    ("{{ x or &apos;—&apos; }}", "{{ x or '—' }}"),
    ("{{ a|join(&quot;、&quot;) }}", '{{ a|join("、") }}'),
    ("{% if n &gt; 1 and m &lt; 2 %}", "{% if n &gt; 1 and m &lt; 2 %}"),
    ("{{ x or ‘—’ }}", "{{ x or '—' }}"),
    ("{{ x|trim(’。’) }}", "{{ x|trim('。') }}"),
    ("{{ “a” ~ b }}", '{{ "a" ~ b }}'),
    ("{{ '“' ~ name ~ '”' }}", "{{ '\\u201c' ~ name ~ '\\u201d' }}"),
    ("{{\u00a0name\u3000}}", "{{ name }}"),
    ("{{ name&#160;}}", "{{ name }}"),
    ("{{ 'it’s' }}", "{{ 'it\\u2019s' }}"),
    ("{{ a &amp;&amp; b }}", "{{ a && b }}"),
])
def test_the_code_of_a_tag_is_what_the_clerk_typed(saved: str, meant: str) -> None:
    assert clean_code(saved) == meant


def test_a_quote_a_template_prints_on_purpose_stays(bundled: DataSet, tmp_path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.add_paragraph("{{ '“' ~ community.name ~ '”' }}")
    doc.save(str(tmp_path / "t.docx"))
    context = {"community": {"name": "金福小区"}}
    assert "“金福小区”" in CompiledDocx(tmp_path / "t.docx").render_part(DOCUMENT, context)


def test_a_tag_across_paragraphs_is_left_for_the_check() -> None:
    xml = "<w:p><w:r><w:t>{{ commu</w:t></w:r></w:p><w:p><w:r><w:t>nity }}</w:t></w:r></w:p>"
    assert normalize(xml) == xml


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_every_built_in_template_resaved_by_libreoffice_builds_the_same_paper(
        tmp_path: Path, bundled: DataSet) -> None:
    folder = tmp_path / "city"
    resaved = libreoffice_resave(list(WORD.values()), folder / "docx")
    # LibreOffice writes every apostrophe as an entity, inside tags too
    assert "&apos;" in zipfile.ZipFile(folder / "docx" / "plan.docx").read(DOCUMENT).decode("utf-8")
    for rel, path in zip(WORD, resaved, strict=True):
        assert paper_text(path, rel, bundled) == paper_text(WORD[rel], rel, bundled), rel
    findings, checked = check_folder(folder, bundled, REFERENCE)
    assert findings == [] and len(checked) == len(WORD)


# ---------------------------------------------------------------- a clerk's edit in a data-folder override

OPENING = "现将本小区老旧小区改造方案的主要内容公示如下："
REWORDED = "现将本小区老旧小区改造方案公示如下，请广大居民监督："


def _clerk_edits_the_notice(target: Path) -> Path:
    """Open the built-in notice, change the text of the opening sentence's run, save: as a clerk does."""
    from docx import Document

    doc = Document(str(WORD["docx/notice.docx"]))
    (run,) = [r for p in doc.paragraphs for r in p.runs if r.text == OPENING]
    run.text = REWORDED
    target.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(target))
    return target


def _notice_built_from(data_root: Path, out: Path) -> str:
    from generator.data.loader import load
    from generator.output.pipeline import Selection, build
    from tests.snapshot import docx_text

    result = build(load(data_root), out, Selection(project="dongqu-01", kinds=("notice",)))
    return docx_text(result.paths[0])


def test_a_clerks_reworded_sentence_is_in_the_next_notice(data_root: Path, tmp_path: Path) -> None:
    before = _notice_built_from(data_root, tmp_path / "before")
    assert OPENING in before
    _clerk_edits_the_notice(data_root / "templates" / "docx" / "notice.docx")
    after = _notice_built_from(data_root, tmp_path / "after")
    assert after == before.replace(OPENING, REWORDED)


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_clerks_edit_saved_again_by_libreoffice_is_in_the_next_notice(data_root: Path, tmp_path: Path) -> None:
    before = _notice_built_from(data_root, tmp_path / "before")
    edited = _clerk_edits_the_notice(tmp_path / "edited" / "notice.docx")
    (resaved,) = libreoffice_resave([edited], data_root / "templates" / "docx")
    assert resaved == data_root / "templates" / "docx" / "notice.docx"
    after = _notice_built_from(data_root, tmp_path / "after")
    assert REWORDED in after and OPENING not in after
    # the rest of the notice as before, but for the page-number caches LibreOffice saved
    mask = re.compile(r"(页脚\d*\] — )\d+")
    assert mask.sub(r"\1#", after) == mask.sub(r"\1#", before.replace(OPENING, REWORDED))
