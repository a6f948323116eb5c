"""Charts drawn on the server as SVG: no script, no library, printable, allowed by the CSP.

Colours and sizes are SVG presentation attributes (the CSP forbids inline style); every bar
carries its figure as text, so a chart printed in black and white still reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from markupsafe import Markup

from generator.render.filters import percent

PALETTE = ("#9aa5b1", "#c7d7e8", "#a7c4e0", "#7ea8d1", "#5a8cc0", "#3a6fa8", "#1f4e79", "#1d6b2f")
"""One colour per stage, from not yet begun (grey) to accepted (green)."""
PAIR = ("#a7c4e0", "#1f4e79")
"""Planned and done."""
FONT = 'font-family="Noto Sans CJK SC, Microsoft YaHei, sans-serif"'


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "start", fill: str = "#1d2733") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" {FONT}>'
            f"{escape(text)}</text>")


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
                  f'width="{width}" height="{height}"><title>{escape(title)}</title>{"".join(body)}</svg>')


def legend(x: float, y: float, names: Sequence[str], colours: Sequence[str]) -> list[str]:
    out, at = [], x
    for name, colour in zip(names, colours, strict=True):
        out.append(f'<rect x="{at:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{colour}" stroke="#37475a" '
                   'stroke-width="0.5"/>')
        out.append(_text(at + 16, y, name))
        at += 22 + 13 * len(name)
    return out


def stacked(title: str, rows: Sequence[tuple[str, Sequence[int]]], names: Sequence[str],
            unit: str = "个") -> Markup:
    """One horizontal bar per row, split into parts (the communities at each stage)."""
    label_w, bar_w, row_h = 110, 560, 26
    top = 34
    height = top + row_h * len(rows) + 12
    body = legend(label_w, 16, names, PALETTE[:len(names)])
    biggest = max((sum(parts) for _, parts in rows), default=0) or 1
    for i, (label, parts) in enumerate(rows):
        y = top + i * row_h
        body.append(_text(label_w - 8, y + 15, label, anchor="end"))
        x = float(label_w)
        for k, part in enumerate(parts):
            if not part:
                continue
            w = bar_w * part / biggest
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{row_h - 8}" fill="{PALETTE[k]}" '
                        'stroke="#37475a" stroke-width="0.5"/>')
            if w >= 14:
                body.append(_text(x + w / 2, y + 14, str(part), size=11, anchor="middle",
                                  fill="#fff" if k >= 4 else "#1d2733"))
            x += w
        body.append(_text(x + 6, y + 14, f"{sum(parts)}{unit}", size=11))
    return _svg(label_w + bar_w + 70, height, title, body)


def rates(title: str, rows: Sequence[tuple[str, Sequence[Decimal | None]]], names: Sequence[str]) -> Markup:
    """Grouped vertical bars of percentages (0–100%) per row, the figure above each bar (in %, to 0.1)."""
    colours = ("#a7c4e0", "#7ea8d1", "#3a6fa8", "#1f4e79")[:len(names)]
    left, plot_h, top = 40, 160, 36
    group_w = 24 * len(names) + 28
    width = left + group_w * len(rows) + 10
    body = legend(left, 16, names, colours)
    base = top + plot_h
    for pct in (0, 50, 100):
        y = base - plot_h * pct / 100
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 6}" y2="{y:.1f}" stroke="#d4dbe3" stroke-width="1"/>')
        body.append(_text(left - 4, y + 4, f"{pct}%", size=10, anchor="end"))
    for i, (label, values) in enumerate(rows):
        x0 = left + i * group_w + 14
        for k, value in enumerate(values):
            share = float(min(value, Decimal(1))) if value is not None else 0.0
            h = plot_h * share
            x = x0 + 24 * k
            body.append(f'<rect x="{x}" y="{base - h:.1f}" width="20" height="{h:.1f}" fill="{colours[k]}" '
                        'stroke="#37475a" stroke-width="0.5"/>')
            shown = "—" if value is None else percent(value).rstrip("%")  # as the tables round it
            body.append(_text(x + 10, base - h - 3, shown, size=8, anchor="middle"))
        body.append(_text(x0 + 12 * len(values) - 2, base + 16, label, anchor="middle"))
    return _svg(width, base + 26, title, body)


def pairs(title: str, rows: Sequence[tuple[str, Decimal, Decimal]], names: Sequence[str]) -> Markup:
    """Two horizontal bars per row (planned against done), the figure at each bar's end."""
    label_w, bar_w, row_h = 110, 480, 40
    top = 34
    biggest = max((max(a, b) for _, a, b in rows), default=Decimal(0)) or Decimal(1)
    body = legend(label_w, 16, names, PAIR)
    for i, (label, planned, done) in enumerate(rows):
        y = top + i * row_h
        body.append(_text(label_w - 8, y + 20, label, anchor="end"))
        for k, value in enumerate((planned, done)):
            w = float(bar_w * value / biggest)
            yy = y + k * 16
            body.append(f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="14" fill="{PAIR[k]}" '
                        'stroke="#37475a" stroke-width="0.5"/>')
            body.append(_text(label_w + w + 5, yy + 11, f"{value:,.2f}", size=10))
    return _svg(label_w + bar_w + 90, top + row_h * len(rows) + 6, title, body)
