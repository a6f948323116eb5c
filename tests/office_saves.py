"""Templates as Word, WPS and Excel save them again. Neither runs where the tests run, so these
fixtures write what those programs are known to write when a clerk opens a template, edits it
and saves it:

- Word: revision ids (``w:rsidR``, ``w:rsidRPr``, ``w14:paraId``) on every paragraph and run; a tag
  cut where the clerk once typed, with spelling marks (``w:proofErr``), a bookmark (``_GoBack``,
  where the cursor was) or ``w:lastRenderedPageBreak`` (where the page ended when saved) between
  its pieces; AutoCorrect's typographic quotes over the quotes the clerk typed in a tag; a text
  box, as ``mc:AlternateContent`` with a drawing and its VML fallback, each with the tag.
- WPS: every run cut where the script changes (Chinese, Latin), each with ``w:rFonts w:hint``,
  and its own namespace declared ignorable.
- Excel: the inline strings written as shared strings, ``x14ac:dyDescent`` on the rows, an
  ``x14`` extension list, a calculation chain (``xl/calcChain.xml``) and the cell styles
  renumbered.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from html import escape, unescape
from pathlib import Path

DOCUMENT = "word/document.xml"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
WPS_DATA = "http://www.wps.cn/officeDocument/2013/wpsCustomData"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"

_CUT = ('</w:t></w:r>{between}<w:r w:rsidR="00D83A21" w:rsidRPr="00D83A21">{lead}'
        '<w:rPr><w:rFonts w:hint="eastAsia"/></w:rPr><w:t xml:space="preserve">')
SPELLING = '<w:proofErr w:type="spellStart"/>'
BOOKMARK = '<w:bookmarkStart w:id="0" w:name="_GoBack"/><w:bookmarkEnd w:id="0"/>'
PAGE_END = "<w:lastRenderedPageBreak/>"


def rewrite(source: Path, target: Path, changes: dict[str, Callable[[str], str]],
            added: dict[str, str] | None = None) -> Path:
    """A copy of an Office file with some parts changed and some added."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            blob = zin.read(info.filename)
            change = changes.get(info.filename)
            zout.writestr(info.filename, change(blob.decode("utf-8")).encode("utf-8") if change else blob)
        for name, text in (added or {}).items():
            zout.writestr(name, text.encode("utf-8"))
    return target


def cut(xml: str, tag: str, at: str, between: str = "", lead: str = "") -> str:
    """The first run text holding tag, cut inside it before at, with between (marks, a bookmark)
    outside the runs and lead (a page-end mark) at the start of the second run."""
    assert tag in xml, tag
    head, tail = tag.split(at, 1)
    return xml.replace(tag, head + _CUT.format(between=between, lead=lead) + at + tail, 1)


def with_revision_ids(xml: str) -> str:
    """Every paragraph and run marked with Word's revision ids."""
    xml = re.sub(r"<w:p>", '<w:p w:rsidR="00A2417B" w:rsidRDefault="00A2417B" w:rsidP="00C6190E" '
                           'w14:paraId="1A2B3C4D" w14:textId="77777777">', xml)
    return re.sub(r"<w:r>", '<w:r w:rsidRPr="00B0355F" w:rsidR="00A2417B">', xml)


def with_text_box(xml: str, paragraph_text: str, box_text: str) -> str:
    """A text box holding box_text anchored in the paragraph whose run says paragraph_text, as Word
    writes one: a drawing for Word 2010 and later, a VML shape for older readers."""
    content = f'<w:txbxContent><w:p><w:r><w:t xml:space="preserve">{box_text}</w:t></w:r></w:p></w:txbxContent>'
    box = (
        '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        '<wp:anchor distT="0" distB="0" distL="114300" distR="114300" simplePos="0" relativeHeight="251659264" '
        'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/>'
        '<wp:positionH relativeFrom="margin"><wp:align>right</wp:align></wp:positionH>'
        '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '<wp:extent cx="1440000" cy="360000"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
        '<wp:docPr id="101" name="文本框 101"/><wp:cNvGraphicFramePr/>'
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1440000" cy="360000"/>'
        '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln></wps:spPr>'
        f'<wps:txbx>{content}</wps:txbx><wps:bodyPr rot="0" vert="horz" wrap="square" anchor="t"/></wps:wsp>'
        '</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>'
        '<mc:Fallback><w:pict><v:shape id="文本框 101" o:spid="_x0000_s1026" type="#_x0000_t202" '
        'style="position:absolute;margin-left:0;margin-top:0;width:113.4pt;height:28.35pt;z-index:251659264;'
        'mso-position-horizontal:right;mso-position-horizontal-relative:margin" filled="f" stroked="f">'
        f'<v:textbox>{content}</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>'
    )
    run = f"<w:t>{paragraph_text}</w:t></w:r>"
    assert run in xml, paragraph_text
    return xml.replace(run, run + box, 1)


def word_resave(source: Path, target: Path, edit: Callable[[str], str] = lambda xml: xml) -> Path:
    """The template as Word saves it after the clerk's edit (a change to the document's XML)."""
    return rewrite(source, target, {DOCUMENT: lambda xml: with_revision_ids(edit(xml))})


_CHINESE = re.compile("[\u2e80-\uffef]")


def _scripts(text: str) -> list[str]:
    """Text cut where it changes between Chinese (and full-width) and Latin characters."""
    return [m[0] for m in re.finditer("[\u2e80-\uffef]+|[^\u2e80-\uffef]+", text)]


def wps_resave(source: Path, target: Path, edit: Callable[[str], str] = lambda xml: xml) -> Path:
    """The template as WPS saves it: each run cut by script, each piece with its font hint."""

    def runs(xml: str) -> str:
        def piece(text: str) -> str:
            hint = "eastAsia" if _CHINESE.match(text) else "default"
            return (f'<w:r><w:rPr><w:rFonts w:hint="{hint}"/></w:rPr>'
                    f'<w:t xml:space="preserve">{escape(text, quote=False)}</w:t></w:r>')

        def one(m: re.Match[str]) -> str:
            return "".join(piece(p) for p in _scripts(unescape(m[2])))

        xml = re.sub(r"<w:r>(<w:rPr>.*?</w:rPr>)?<w:t(?: [^>]*)?>([^<]*)</w:t></w:r>", one, edit(xml))
        return xml.replace('mc:Ignorable="', f'xmlns:wpsCustomData="{WPS_DATA}" mc:Ignorable="wpsCustomData ', 1)

    return rewrite(source, target, {DOCUMENT: runs})


# ---------------------------------------------------------------- Excel


def excel_resave(source: Path, target: Path, edit: Callable[[str], str] = lambda xml: xml) -> Path:
    """The workbook as Excel saves it: shared strings, x14ac row heights, an x14 extension list,
    a calculation chain and the cell styles numbered afresh (edit: a change to the first sheet)."""
    with zipfile.ZipFile(source) as z:
        names = z.namelist()
        sheets = sorted(n for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
        styles = z.read("xl/styles.xml").decode("utf-8")
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.DOTALL)
    assert xfs is not None
    count = len(re.findall(r"<xf\b", xfs[1]))
    # Excel keeps the default style first and writes the others in the order it meets them: here
    # the others reversed, so every cell's style number changes.
    order = [0, *range(count - 1, 0, -1)]
    new_of = {old: new for new, old in enumerate(order)}
    strings: list[str] = []

    def shared(m: re.Match[str]) -> str:
        text = m[2]
        if text not in strings:
            strings.append(text)
        return f'<c{m[1]} t="s"><v>{strings.index(text)}</v></c>'

    def sheet(xml: str, first: bool) -> str:
        if first:
            xml = edit(xml)
        xml = re.sub(r'<c([^>]*?) t="inlineStr"><is><t(?: [^>]*)?>(.*?)</t></is></c>', shared, xml, flags=re.DOTALL)
        xml = re.sub(r'\bs="(\d+)"', lambda m: f's="{new_of[int(m[1])]}"', xml)
        xml = re.sub(r"<row ", '<row x14ac:dyDescent="0.25" ', xml)
        xml = xml.replace("<sheetFormatPr ", '<sheetFormatPr x14ac:dyDescent="0.25" ', 1)
        xml = xml.replace("<worksheet ", f'<worksheet xmlns:mc="{MC}" xmlns:x14ac="{X14AC}" '
                                         'mc:Ignorable="x14ac" ', 1)
        ext = (f'<extLst><ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}" xmlns:x14="{X14}">'
               '<x14:dataValidations count="0" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"/>'
               '</ext></extLst>')
        return xml.replace("</worksheet>", ext + "</worksheet>")

    def styles_of(xml: str) -> str:
        pieces = re.findall(r"<xf\b[^>]*/>|<xf\b[^>]*>.*?</xf>", xfs[1], re.DOTALL)
        return xml.replace(xfs[1], "".join(pieces[i] for i in order))

    changes: dict[str, Callable[[str], str]] = {n: (lambda xml, first=(n == sheets[0]): sheet(xml, first))
                                                for n in sheets}
    changes["xl/styles.xml"] = styles_of
    changes["[Content_Types].xml"] = lambda xml: xml.replace("</Types>", (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/calcChain.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>'))
    changes["xl/_rels/workbook.xml.rels"] = lambda xml: xml.replace("</Relationships>", (
        '<Relationship Id="rId90" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId91" Type="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>'))
    # The shared strings are known once the sheets are rewritten: a first pass collects them.
    with zipfile.ZipFile(source) as z:
        for n in sheets:
            sheet(z.read(n).decode("utf-8"), n == sheets[0])
    table = "".join(f'<si><t xml:space="preserve">{s}</t></si>' for s in strings)
    added = {
        "xl/sharedStrings.xml": (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://'
                                 f'schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
                                 f'uniqueCount="{len(strings)}">{table}</sst>'),
        "xl/calcChain.xml": ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="http://'
                             'schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="A1" i="1"/></calcChain>'),
    }
    return rewrite(source, target, changes, added)
