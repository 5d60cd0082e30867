"""The account chart as an SVG drawn on the server: Connects (left axis) and available
earnings (right axis) as step lines over time, with charges, failed payments, refunds and
expiries marked below the plot. No script, no library: the page stays readable printed,
zoomed or read by a screen reader (title, description and a text list beside it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from html import escape

from service.queries import Marker, Point

WIDTH, HEIGHT = 960, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 80, 36, 92
CONNECTS_COLOUR = "#1f5fbf"
MONEY_COLOUR = "#17803d"
MARKER_STYLE = {  # shape and colour per kind, all with at least 4.5:1 contrast on white
    "charge": ("#5b3fb5", "triangle"),
    "failed payment": ("#b3261e", "cross"),
    "refund": ("#9a5b00", "diamond"),
    "expiry": ("#4d4d4d", "circle"),
}


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= value:
            return float(top)
    return float(10 * magnitude)


def _shape(kind: str, x: float, y: float) -> str:
    colour, shape = MARKER_STYLE[kind]
    if shape == "triangle":
        return (f'<path d="M{x:.1f},{y - 6:.1f} L{x + 6:.1f},{y + 5:.1f} '
                f'L{x - 6:.1f},{y + 5:.1f} Z" fill="{colour}"/>')
    if shape == "cross":
        return (f'<path d="M{x - 5:.1f},{y - 5:.1f} L{x + 5:.1f},{y + 5:.1f} '
                f'M{x + 5:.1f},{y - 5:.1f} L{x - 5:.1f},{y + 5:.1f}" '
                f'stroke="{colour}" stroke-width="2.5"/>')
    if shape == "diamond":
        return (f'<path d="M{x:.1f},{y - 6:.1f} L{x + 6:.1f},{y:.1f} L{x:.1f},{y + 6:.1f} '
                f'L{x - 6:.1f},{y:.1f} Z" fill="{colour}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>'


def render_chart(account_id: str, points: Sequence[Point], markers: Sequence[Marker]) -> str:
    """The SVG document (inline in the page)."""
    title = f"{account_id}: Connects and available earnings over time"
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'role="img" aria-labelledby="chart-title chart-desc" class="chart">'
            f'<title id="chart-title">{escape(title)}</title>'
            f'<desc id="chart-desc">Step lines of Connects held (blue, left axis) and '
            f'available earnings in USD (green, right axis); {len(markers)} marked events '
            f'below the plot.</desc>')
    if not points:
        return head + (f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" '
                       'font-size="16">No history at this point in time</text></svg>')
    t0 = min(p.at for p in points).timestamp()
    t1 = max(max(p.at for p in points).timestamp(), t0 + 86400)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    c_max = _nice_max(max(p.connects for p in points) * 1.1)
    m_max = _nice_max(float(max(p.available for p in points)) * 1.1)

    def x_of(moment: datetime) -> float:
        return LEFT + (moment.timestamp() - t0) / (t1 - t0) * plot_w

    def y_connects(v: int) -> float:
        return TOP + plot_h - v / c_max * plot_h

    def y_money(v: Decimal) -> float:
        return TOP + plot_h - float(v) / m_max * plot_h

    parts = [head, f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" '
             'fill="#ffffff" stroke="#6b6b6b"/>']
    for i in range(5):  # horizontal grid and both axes' labels
        frac = i / 4
        y = TOP + plot_h - frac * plot_h
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#e3e3e3"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" '
                     f'fill="{CONNECTS_COLOUR}" font-size="12">{c_max * frac:g}</text>')
        parts.append(f'<text x="{LEFT + plot_w + 8}" y="{y + 4:.1f}" fill="{MONEY_COLOUR}" '
                     f'font-size="12">{m_max * frac:,.2f}</text>')
    # Dates along the bottom; over less than a week, with the hour (the six ticks would
    # otherwise repeat one or two dates).
    tick = "%Y-%m-%d" if t1 - t0 > 6 * 86400 else "%m-%d %H:%M"
    for i in range(6):
        moment = datetime.fromtimestamp(t0 + (t1 - t0) * i / 5, tz=points[0].at.tzinfo)
        x = LEFT + plot_w * i / 5
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + plot_h}" '
                     f'y2="{TOP + plot_h + 5}" stroke="#6b6b6b"/>')
        parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle" '
                     f'font-size="12" fill="#222">{moment.strftime(tick)}</text>')
    parts.append(f'<text transform="translate(16 {TOP + plot_h / 2}) rotate(-90)" '
                 f'text-anchor="middle" font-size="13" fill="{CONNECTS_COLOUR}">'
                 'Connects held</text>')
    parts.append(f'<text transform="translate({WIDTH - 10} {TOP + plot_h / 2}) rotate(90)" '
                 f'text-anchor="middle" font-size="13" fill="{MONEY_COLOUR}">'
                 'available earnings (USD)</text>')
    parts.append(_step(points, x_of, lambda p: y_connects(p.connects), CONNECTS_COLOUR,
                       plot_w + LEFT))
    parts.append(_step(points, x_of, lambda p: y_money(p.available), MONEY_COLOUR,
                       plot_w + LEFT, dashed=True))
    lane = TOP + plot_h + 40
    parts.append(f'<text x="{LEFT - 8}" y="{lane + 4}" text-anchor="end" font-size="12" '
                 'fill="#222">events</text>')
    for m in markers:
        x = x_of(m.at)
        parts.append(f'<g><title>{escape(m.label)} on {m.at:%Y-%m-%d %H:%M}</title>'
                     f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
                     f'stroke="{MARKER_STYLE[m.kind][0]}" stroke-opacity="0.25"/>'
                     f'{_shape(m.kind, x, lane)}</g>')
    parts.append(_legend(lane + 28))
    parts.append("</svg>")
    return "".join(parts)


def _step(points: Sequence[Point], xs: Callable[[datetime], float],
          ys: Callable[[Point], float], colour: str, x_end: float, dashed: bool = False) -> str:
    path: list[str] = []
    last_y = 0.0
    for i, p in enumerate(points):
        x, y = xs(p.at), ys(p)
        path.append(f"{'M' if i == 0 else 'H'}{x:.1f}" + ("" if i == 0 else f" V{y:.1f}"))
        if i == 0:
            path.append(f" {y:.1f}")
        last_y = y
    path.append(f" H{x_end:.1f} V{last_y:.1f}")
    dash = ' stroke-dasharray="7 4"' if dashed else ""
    return (f'<path d="{"".join(path)}" fill="none" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/>')


def _legend(y: float) -> str:
    items = [(CONNECTS_COLOUR, "line", "Connects"), (MONEY_COLOUR, "dash", "available USD")]
    items += [(colour, kind, kind) for kind, (colour, _) in MARKER_STYLE.items()]
    out = []
    x = float(LEFT)
    for colour, kind, label in items:
        if kind == "line":
            out.append(f'<line x1="{x}" x2="{x + 22}" y1="{y}" y2="{y}" stroke="{colour}" '
                       'stroke-width="2.5"/>')
        elif kind == "dash":
            out.append(f'<line x1="{x}" x2="{x + 22}" y1="{y}" y2="{y}" stroke="{colour}" '
                       'stroke-width="2.5" stroke-dasharray="7 4"/>')
        else:
            out.append(_shape(kind, x + 11, y))
        out.append(f'<text x="{x + 28}" y="{y + 4}" font-size="12" fill="#222">'
                   f'{escape(label)}</text>')
        x += 40 + 7.2 * len(label)
    return "".join(out)
