"""The timeline as an SVG step chart: probability (0-1) against valid time.

A pure function of the timeline JSON, so the chart says exactly what the JSON says: the
line starts at 0.5 (no events) and steps at each point's ``valid_from``; each point has a
tooltip with its band, status and the event that moved it. ICD 203 bands are shaded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ledger.likelihood import ICD203_BANDS

WIDTH, HEIGHT = 760, 380
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 48, 48
# ICD 203 bands, the outer two stretched to the chart's edges (0 and 1).
BANDS = tuple(
    (0.0 if i == 0 else b.low, 1.0 if i == len(ICD203_BANDS) - 1 else b.high, b.term)
    for i, b in enumerate(ICD203_BANDS)
)


def _when(text: str) -> datetime:
    # ledger.times.format_instant prints years before 1000 unpadded ("1-01-01T..."); pad
    # them so a statement dated in antiquity still draws.
    year, rest = text.split("-", 1)
    return datetime.fromisoformat(f"{int(year):04d}-{rest}".replace("Z", "+00:00"))


def _span(points: list[dict[str, Any]], known_at: datetime) -> tuple[datetime, datetime]:
    if not points:
        return known_at - timedelta(days=1), known_at + timedelta(days=1)
    first, last = _when(points[0]["valid_from"]), _when(points[-1]["valid_from"])
    pad = max((last - first) / 10, timedelta(days=1))
    low, high = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    # Statements dated at the ends of the calendar must not push the axis off it.
    return (first - pad if first - low > pad else low), (last + pad if high - last > pad else high)


def timeline_svg(timeline: dict[str, Any]) -> str:
    points: list[dict[str, Any]] = timeline["points"]
    start, end = _span(points, _when(timeline["known_at"]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return round(LEFT + plot_w * (moment - start) / (end - start), 2)

    def y(probability: float) -> float:
        return round(TOP + plot_h * (1 - probability), 2)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11" role="img">',
        f"<title>{escape(timeline['claim_id'])}: credibility over valid time, as known at "
        f"{escape(timeline['known_at'])} ({escape(timeline['model'])})</title>",
        f'<text x="{LEFT}" y="20" font-size="14">{escape(timeline["claim_id"])}</text>',
        f'<text x="{LEFT}" y="36" fill="#555">as known at {escape(timeline["known_at"])}; '
        f'{escape(timeline["model"])}</text>',
    ]
    for i, (low, high, term) in enumerate(BANDS):
        shade = "#f4f4f4" if i % 2 else "#ffffff"
        out.append(f'<rect x="{LEFT}" y="{y(high)}" width="{plot_w}" '
                   f'height="{round(y(low) - y(high), 2)}" fill="{shade}"/>')
        out.append(f'<text x="{LEFT + plot_w + 6}" y="{round((y(low) + y(high)) / 2 + 4, 2)}" '
                   f'fill="#777">{term}</text>')
    for p in (0.0, 0.5, 1.0):
        out.append(f'<text x="{LEFT - 8}" y="{y(p) + 4}" text-anchor="end">{p:.1f}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
               'stroke="#999"/>')
    for moment in (start, end):
        out.append(f'<text x="{x(moment)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                   f'{moment.date().isoformat()}</text>')
    path = [f"M {LEFT} {y(0.5)}"]
    for point in points:
        px = x(_when(point["valid_from"]))
        path += [f"H {px}", f"V {y(point['probability'])}"]
    path.append(f"H {LEFT + plot_w}")
    out.append(f'<path d="{" ".join(path)}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    for point in points:
        tip = (f"{point['valid_from']}: {point['probability']} ({point['band']}, "
               f"{point['status']}); event {point['event_id']}")
        out.append(f'<circle cx="{x(_when(point["valid_from"]))}" cy="{y(point["probability"])}" '
                   f'r="4" fill="#1f5fa8" data-event-id={quoteattr(point["event_id"])}>'
                   f"<title>{escape(tip)}</title></circle>")
    if not points:
        out.append(f'<text x="{LEFT + plot_w / 2}" y="{y(0.5) - 8}" text-anchor="middle" '
                   'fill="#555">no events in scope</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
