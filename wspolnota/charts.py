"""A small server-side SVG column chart for the services' pages (no JavaScript, no CDN).

A standalone SVG with `role="img"`, a <title> and a <desc>, and a <title> on every column; the page shows the same
numbers in a table. Colours are presentation attributes (the CSP forbids inline styles). Used for a volunteer's
hours by month and a call series' outcomes.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

BAR = "#0b5394"
AXIS = "#595959"


def number(value: float) -> str:
    """Polish decimal comma; whole numbers without decimals."""
    return f"{round(value, 2):g}".replace(".", ",")


def columns(uid: str, title: str, labels: Sequence[str], values: Sequence[float], *, unit: str = "",
            fmt: Callable[[float], str] = number, label_zero: bool = True) -> Markup:
    """One labelled column per label, its value above it (written by `fmt`, with `unit` in the descriptions);
    `label_zero=False` leaves empty columns without a number."""
    width, left, bottom, top, height = 600, 8, 22, 18, 170
    slot = (width - 2 * left) / max(len(values), 1)
    plot_h = height - top - bottom
    top_value = max([*values, 1])
    suffix = f" {unit}" if unit else ""
    desc = "; ".join(f"{label}: {fmt(v)}{suffix}" for label, v in zip(labels, values, strict=True))
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
                   f'fill="{BAR}"><title>{escape(label)}: {escape(fmt(value))}{escape(suffix)}</title></rect>')
        if value or label_zero:
            out.append(f'<text x="{middle:.1f}" y="{base - h - 4:.1f}" text-anchor="middle">{escape(fmt(value))}</text>')
        out.append(f'<text x="{middle:.1f}" y="{height - 6}" text-anchor="middle">{escape(label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
