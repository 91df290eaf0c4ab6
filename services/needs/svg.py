"""A small server-side SVG chart for the call series page (no JavaScript, no CDN), as the other services draw theirs.

A standalone SVG with `role="img"`, a <title> and a <desc>, and a <title> on every bar; the page shows the same
numbers in a table. Colours are presentation attributes (the CSP forbids inline styles).
"""
from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

BAR = "#0b5394"
AXIS = "#595959"


def bars(uid: str, title: str, labels: Sequence[str], values: Sequence[int]) -> Markup:
    """A column chart of counts: one labelled column per label, its number above it."""
    width, left, bottom, top, height = 600, 8, 22, 18, 170
    slot = (width - 2 * left) / max(len(values), 1)
    plot_h = height - top - bottom
    top_value = max([*values, 1])
    desc = "; ".join(f"{label}: {value}" for label, value in zip(labels, values, strict=True))
    base = height - bottom
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" aria-labelledby={quoteattr(f"{uid}-t {uid}-d")}>',
           f'<title id={quoteattr(uid + "-t")}>{escape(title)}</title>',
           f'<desc id={quoteattr(uid + "-d")}>{escape(desc)}</desc>',
           f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" stroke="{AXIS}"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot
        h = plot_h * value / top_value
        middle = x + slot / 2
        out.append(f'<rect x="{x + slot * 0.15:.1f}" y="{base - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                   f'fill="{BAR}"><title>{escape(label)}: {value}</title></rect>')
        out.append(f'<text x="{middle:.1f}" y="{base - h - 4:.1f}" text-anchor="middle">{value}</text>')
        out.append(f'<text x="{middle:.1f}" y="{height - 6}" text-anchor="middle">{escape(label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
