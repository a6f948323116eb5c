"""Undo what Word, WPS and LibreOffice do to template tags when a clerk saves a template.

An office suite saving a document does not know that ``{{ x or '—' }}`` is code: it splits the
tag over runs (spell-checking marks, a change of script or font, an edit in the middle), puts
proofing marks and bookmarks between the pieces, writes quotes as XML entities (``&apos;``,
``&quot;``) and, typing, turns straight quotes into typographic ones and spaces into no-break or
full-width spaces. docxtpl's ``patch_xml`` joins split tags and turns ``&lt;``, ``&gt;`` and
every typographic quote into ASCII, but leaves ``&apos;``, ``&quot;`` and ``&amp;`` in the code
(LibreOffice writes every apostrophe so, and Jinja stops at the ``&``), and it also changes a
typographic quote a template prints on purpose (``{{ '“' ~ name ~ '”' }}``).

``normalize`` runs before ``patch_xml``: it joins each tag's pieces into its first run as
docxtpl does (and the whole of a ``{% filter %}`` block, whose body the filter reads as text),
then rewrites the code of each tag as the clerk meant it: entities decoded, typographic quotes
that delimit strings made ASCII and those inside a string kept as escapes that docxtpl leaves
alone, odd spaces made plain, full-width punctuation typed with a Chinese input method made
half-width outside strings.
"""

from __future__ import annotations

import re

_OPEN_SPLIT = re.compile(r"(?<=\{)(?:<[^>]*>)+(?=[{%#])|(?<=[%}#])(?:<[^>]*>)+(?=\})")
"""Markup between the two characters of a tag's opening or closing braces."""
_TAG_SPAN = re.compile(r"\{%(?:(?!%\}).)*%\}|\{#(?:(?!#\}).)*#\}|\{\{(?:(?!\}\}).)*\}\}", re.DOTALL)
_BETWEEN_TEXTS = re.compile(r"</w:t>.*?(?:<w:t>|<w:t [^>]*>)", re.DOTALL)
_FILTER_BLOCK = re.compile(r"\{%-?\s*filter\b.*?\{%-?\s*endfilter\s*-?%\}", re.DOTALL)
"""A filter block: its body is text the filter reads (a title it breaks into lines), so one run."""
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#(\d+)|#x([0-9a-fA-F]+));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2002\u2003\u2009\u200b\u3000\ufeff"), " ")
"""No-break, en, em, thin, zero-width, ideographic (full-width) spaces and the BOM."""
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\ufeff"), None)
SINGLE = "'‘’"
DOUBLE = '"“”'
_ESCAPES = {"‘": "\\u2018", "’": "\\u2019", "“": "\\u201c", "”": "\\u201d"}
_HALF_WIDTH = {ch: chr(ord(ch) - 0xFEE0) for ch in map(chr, range(0xFF01, 0xFF5F))
               if not ch.isalpha() and ch not in "＂＇"} | {"。": "."}
"""Punctuation and digits a Chinese input method types full-width (（2）、｜、，、．、。), as the clerk
meant them in a tag's code; inside a string they stay as typed (a 、 or （ the paper prints)."""


def _unentity(code: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m[1]:
            return _NAMED[m[1]]
        return chr(int(m[2])) if m[2] else chr(int(m[3], 16))

    return _ENTITY.sub(one, code)


def _quotes(code: str) -> str:
    """Typographic quotes delimiting strings made ASCII; those inside a string kept as escapes."""
    out: list[str] = []
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        family = SINGLE if ch in SINGLE else DOUBLE if ch in DOUBLE else None
        if family is None:
            out.append(_HALF_WIDTH.get(ch, ch))
            i += 1
            continue
        ascii_quote = family[0]
        typographic = ch != ascii_quote
        out.append(ascii_quote)
        i += 1
        while i < n:
            ch = code[i]
            if ch == "\\" and i + 1 < n:
                out.append(code[i:i + 2])
                i += 2
                continue
            closes = ch == ascii_quote or (ch in family and (
                # In a string a typographic quote opened, any of its family closes it; in one an
                # ASCII quote opened, a typographic one closes it only when no ASCII one follows.
                typographic or ascii_quote not in code[i + 1:]))
            if closes:
                out.append(ascii_quote)
                i += 1
                break
            if ch == ascii_quote:
                out.append("\\" + ch)
            else:
                out.append(_ESCAPES.get(ch, ch))
            i += 1
    return "".join(out)


def typed(tag: str) -> str:
    """One whole tag (braces included) as the clerk typed it, as plain text."""
    return tag[:2] + _quotes(_unentity(tag[2:-2]).translate(_ZERO_WIDTH).translate(_SPACES)) + tag[-2:]


def clean_code(tag: str) -> str:
    """One whole tag's XML text as the clerk typed it before the office suite saved it."""
    code = typed(tag)[2:-2]
    # Back into XML text: < and > as the entities docxtpl turns back into code after its own
    # patterns have run (a bare < could look like markup to them); & means nothing to them.
    return tag[:2] + code.replace("<", "&lt;").replace(">", "&gt;") + tag[-2:]


def normalize(xml: str) -> str:
    """A Word part's XML with every tag in one run and its code clean (see the module's note)."""
    if "{" not in xml:
        return xml
    xml = _OPEN_SPLIT.sub("", xml)

    def whole(m: re.Match[str]) -> str:
        if "</w:p>" in m[0]:  # a tag broken across paragraphs or cells: left for the check to name
            return m[0]
        return clean_code(_BETWEEN_TEXTS.sub("", m[0]))

    xml = _TAG_SPAN.sub(whole, xml)
    if "filter" not in xml:
        return xml

    def one_run(m: re.Match[str]) -> str:
        if "</w:p>" in m[0]:
            return m[0]
        return _BETWEEN_TEXTS.sub("", m[0])

    return _FILTER_BLOCK.sub(one_run, xml)
