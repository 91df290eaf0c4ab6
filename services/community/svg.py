"""Small server-side SVG bar charts for survey results (no JavaScript, no CDN).

Each chart is a standalone SVG with `role="img"`, a <title> and a <desc>, and a <title> on every bar; the page
shows the same numbers in a table. Colours are presentation attributes (the CSP forbids inline styles).
"""
from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

BAR = "#0b5394"
AXIS = "#595959"


def number(value: float | None, digits: int = 1) -> str:
    """Polish decimal comma; whole numbers without decimals."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}f}".replace(".", ",")


def _short(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def bars(uid: str, title: str, labels: Sequence[str], values: Sequence[float], *, unit: str = "odp.") -> Markup:
    """A horizontal bar chart: one labelled bar per value, the number at its end."""
    width, label_w, right, row_h, top = 640, 240, 56, 26, 8
    height = top * 2 + row_h * max(len(values), 1)
    top_value = max([*values, 1])
    plot_w = width - label_w - right
    desc = "; ".join(f"{label}: {number(v)} {unit}" for label, v in zip(labels, values, strict=True))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" aria-labelledby={quoteattr(f"{uid}-t {uid}-d")}>',
           f'<title id={quoteattr(uid + "-t")}>{escape(title)}</title>',
           f'<desc id={quoteattr(uid + "-d")}>{escape(desc)}</desc>',
           f'<line x1="{label_w}" y1="{top}" x2="{label_w}" y2="{height - top}" stroke="{AXIS}"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row_h
        w = plot_w * value / top_value
        out.append(f'<text x="{label_w - 6}" y="{y + row_h / 2 + 4}" text-anchor="end">{escape(_short(label))}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{BAR}">'
                   f'<title>{escape(label)}: {number(value)} {escape(unit)}</title></rect>')
        out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + row_h / 2 + 4}">{number(value)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
