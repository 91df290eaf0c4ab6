"""Small server-side SVG charts for the reports and the village map (no JavaScript, no CDN).

Every chart is a standalone, well-formed SVG element with `role="img"`, a <title> and a <desc> (named by
aria-labelledby), and a <title> on every bar, point and marker, so screen readers and tooltips get the
numbers. The pages always show the same numbers in a table below the chart. Colours are presentation
attributes (the CSP forbids inline style attributes); the text never relies on colour alone.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

BAR = "#0b5394"
LINE = "#b45309"
NEEDS = "#c2410c"
PROVIDERS = "#0b5394"
PLACES = "#15803d"
AXIS = "#595959"
GRID = "#d0d0d0"


def number(value: float | None, digits: int = 1) -> str:
    """Polish decimal comma; whole numbers without decimals."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}f}".replace(".", ",")


def _t(text: str) -> str:
    return escape(str(text))


def _a(value: object) -> str:
    return quoteattr(str(value))


def nice_max(value: float) -> float:
    """The axis top: 1, 2 or 5 × a power of ten at or above the largest value (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _open(uid: str, width: int, height: int, title: str, desc: str, css: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class={_a(css)} role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'aria-labelledby={_a(f"{uid}-title {uid}-desc")}>',
            f'<title id={_a(uid + "-title")}>{_t(title)}</title>',
            f'<desc id={_a(uid + "-desc")}>{_t(desc)}</desc>']


@dataclass(frozen=True)
class Frame:
    width: int = 720
    height: int = 300
    left: int = 96
    right: int = 16
    top: int = 16
    bottom: int = 96

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float, top_value: float) -> float:
        return self.top + self.plot_h * (1 - value / top_value)


def _axes(frame: Frame, top_value: float, unit: str, labels: Sequence[str], slot: float) -> list[str]:
    parts = ['<g class="axis" aria-hidden="true">']
    for i in range(5):
        v = top_value * i / 4
        y = frame.y(v, top_value)
        parts.append(f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
                     f'fill="{AXIS}">{_t(number(v))}{_t(unit)}</text>')
    every = max(1, math.ceil(len(labels) / 14))  # keep the x labels readable
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = frame.left + slot * (i + 0.5)
        y = frame.height - frame.bottom + 16
        short = label if len(label) <= 22 else label[:21] + "…"  # the full label is in the bar's title and the table
        parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="end" font-size="12" fill="{AXIS}" '
                     f'transform="rotate(-35 {x:.1f} {y})">{_t(short)}</text>')
    parts.append(f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{frame.height - frame.bottom}" '
                 f'y2="{frame.height - frame.bottom}" stroke="{AXIS}" stroke-width="1"/>')
    parts.append('</g>')
    return parts


def bar_chart(uid: str, labels: Sequence[str], values: Sequence[float | None], *, title: str, desc: str,
              unit: str = "", frame: Frame | None = None) -> Markup:
    """One bar per label (None: no bar, e.g. no data that week). Each bar is a <rect class="bar">."""
    frame = frame or Frame()
    top_value = nice_max(max([v for v in values if v is not None] or [0]))
    slot = frame.plot_w / max(1, len(labels))
    parts = _open(uid, frame.width, frame.height, title, desc, "chart bar-chart")
    parts += _axes(frame, top_value, unit, labels, slot)
    parts.append('<g class="bars">')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        if value is None:
            continue
        y = frame.y(value, top_value)
        h = frame.height - frame.bottom - y
        x = frame.left + slot * i + slot * 0.15
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                     f'fill="{BAR}"><title>{_t(label)}: {_t(number(value))}{_t(unit)}</title></rect>')
    parts.append('</g></svg>')
    return Markup("".join(parts))


def line_chart(uid: str, labels: Sequence[str], values: Sequence[float | None], *, title: str, desc: str,
               unit: str = "", top_value: float | None = None, frame: Frame | None = None) -> Markup:
    """A line through the known values (gaps where None), each value a <circle class="point">."""
    frame = frame or Frame()
    top_value = top_value or nice_max(max([v for v in values if v is not None] or [0]))
    slot = frame.plot_w / max(1, len(labels))
    parts = _open(uid, frame.width, frame.height, title, desc, "chart line-chart")
    parts += _axes(frame, top_value, unit, labels, slot)
    runs: list[list[tuple[float, float]]] = [[]]
    points = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        if value is None:
            runs.append([])
            continue
        x, y = frame.left + slot * (i + 0.5), frame.y(value, top_value)
        runs[-1].append((x, y))
        points.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{LINE}">'
                      f'<title>{_t(label)}: {_t(number(value))}{_t(unit)}</title></circle>')
    for run in runs:
        if len(run) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(f'<polyline class="line" points="{path}" fill="none" stroke="{LINE}" stroke-width="2.5"/>')
    parts += points
    parts.append('</svg>')
    return Markup("".join(parts))


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    lat: float
    lon: float
    needs: int
    providers: int
    places: int = 0  # the community's meeting places in the village
    accessible: int = 0  # of them, accessible
    kinds: str = ""  # e.g. "świetlica wiejska: 1, remiza OSP: 1"


def project(places: Sequence[Place], width: float, height: float, margin: float) -> dict[str, tuple[float, float]]:
    """Equirectangular projection: x ∝ lon·cos(mean latitude), y ∝ −lat, fitted into the box keeping the aspect."""
    if not places:
        return {}
    mean_lat = math.radians(sum(p.lat for p in places) / len(places))
    xs = {p.code: p.lon * math.cos(mean_lat) for p in places}
    ys = {p.code: p.lat for p in places}
    span_x = (max(xs.values()) - min(xs.values())) or 1e-9
    span_y = (max(ys.values()) - min(ys.values())) or 1e-9
    scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
    off_x = (width - scale * span_x) / 2
    off_y = (height - scale * span_y) / 2
    return {p.code: (off_x + (xs[p.code] - min(xs.values())) * scale,
                     off_y + (max(ys.values()) - ys[p.code]) * scale) for p in places}


def village_map(uid: str, places: Sequence[Place], *, title: str, desc: str, needs_label: str,
                providers_label: str, needs_legend: str, providers_legend: str, scale_note: str,
                places_label: str = "", accessible_label: str = "", places_legend: str = "",
                width: int = 900, height: int = 700) -> Markup:
    """Each village: a dot and its name; beside it two circles with area ∝ open needs (left) and providers
    (right), the number written inside. Zero draws no circle but the number still shows. With `places_legend`, a
    village with community places gets a square below its dot with their number (and "♿ n" for the accessible
    ones); its <title> names them by kind."""
    legend_h = 56
    pos = project(places, width, height - legend_h, 70)
    biggest = max([max(p.needs, p.providers) for p in places] or [1]) or 1
    max_r = 22.0

    def radius(count: int) -> float:
        return 0.0 if count <= 0 else max(5.0, max_r * math.sqrt(count / biggest))

    parts = _open(uid, width, height, title, desc, "chart village-map")
    parts.append(f'<rect x="0" y="0" width="{width}" height="{height - legend_h}" fill="#f4f7f2" stroke="{GRID}"/>')
    for p in places:
        x, y = pos[p.code]
        parts.append(f'<g class="village" data-village={_a(p.code)}>')
        about = f"{p.name}: {needs_label} {p.needs}, {providers_label} {p.providers}"
        if places_legend and p.places:
            about += f", {places_label} {p.places} ({p.kinds}), {accessible_label} {p.accessible}"
        parts.append(f'<title>{_t(about)}</title>')
        parts.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{AXIS}"/>')
        for kind, count, colour, dx in (("needs", p.needs, NEEDS, -1), ("providers", p.providers, PROVIDERS, 1)):
            r = radius(count)
            cx = x + dx * (max(r, 7) + 2)
            if r:
                parts.append(f'<circle class="marker {kind}" cx="{cx:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}" '
                             f'fill-opacity="0.8" stroke="#ffffff" stroke-width="1"/>')
            text_fill = "#ffffff" if r >= 8 else colour
            parts.append(f'<text class="count {kind}" x="{cx:.1f}" y="{y + 4:.1f}" text-anchor="middle" '
                         f'font-size="11" font-weight="700" fill="{text_fill}">{count}</text>')
        reach = max(radius(p.needs), radius(p.providers), 7)
        if places_legend and p.places:
            top = y + reach + 2
            parts.append(f'<rect class="marker places" x="{x - 8:.1f}" y="{top:.1f}" width="16" height="16" '
                         f'fill="{PLACES}" stroke="#ffffff" stroke-width="1"/>')
            parts.append(f'<text class="count places" x="{x:.1f}" y="{top + 12:.1f}" text-anchor="middle" '
                         f'font-size="11" font-weight="700" fill="#ffffff">{p.places}</text>')
            if p.accessible:
                parts.append(f'<text class="count accessible" x="{x + 11:.1f}" y="{top + 12:.1f}" font-size="11" '
                             f'font-weight="700" fill="{PLACES}">♿{p.accessible}</text>')
            reach += 18
        crowded_below = any(0 < pos[q.code][1] - y < 28 and abs(pos[q.code][0] - x) < 70 for q in places)
        label_y = y - reach - 5 if crowded_below else y + reach + 13  # keep neighbouring names apart
        parts.append(f'<text class="label" x="{x:.1f}" y="{label_y:.1f}" text-anchor="middle" font-size="11" '
                     f'fill="#1b1b1b">{_t(p.name)}</text>')
        parts.append('</g>')
    ly = height - legend_h + 20
    parts.append(f'<g class="legend" transform="translate(16 {ly})">'
                 f'<circle cx="8" cy="0" r="8" fill="{NEEDS}"/><text x="22" y="4" font-size="13">{_t(needs_legend)}</text>'
                 f'<circle cx="338" cy="0" r="8" fill="{PROVIDERS}"/><text x="352" y="4" font-size="13">'
                 f'{_t(providers_legend)}</text>'
                 + (f'<rect x="620" y="-8" width="16" height="16" fill="{PLACES}"/><text x="642" y="4" '
                    f'font-size="13">{_t(places_legend)}</text>' if places_legend else '')
                 + f'<text x="0" y="26" font-size="12" fill="{AXIS}">{_t(scale_note)}</text></g>')
    parts.append('</svg>')
    return Markup("".join(parts))
