"""The timeline as an SVG step chart: probability (0-1) against valid time.

A pure function of the timeline JSON (and the claim's text, its title), so the chart says
exactly what the JSON says: the line starts at 0.5 (no events) and steps at each point's
``valid_from``; each point has a tooltip with its band, status and the event that moved it.
ICD 203 bands are shaded. The time axis is labelled with dates at round steps (days, weeks,
months or years, whichever gives at most ``MAX_TICKS`` labels), each with a grid line.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
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


MAX_TICKS = 7
SHOWN_TITLE = 90  # characters of the claim's text drawn as the heading (all in <title>)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Steps of the time axis, finest first: (days, months, years); one of the three is set.
_STEPS = (
    [(d, 0, 0) for d in (1, 2, 7, 14)]
    + [(0, m, 0) for m in (1, 2, 3, 6)]
    + [(0, 0, y) for y in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)]
)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _ticks(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Dates at a round step between ``start`` and ``end``, labelled for a reader: at most
    ``MAX_TICKS`` of them, at whole days (``13 Oct 2024``), months (``Oct 2024``) or
    years (``2024``)."""
    first_day = start.date()
    if start.time() != time(0) and first_day < date.max:
        first_day += timedelta(days=1)
    for days, months, years in _STEPS:
        ticks: list[tuple[datetime, str]] = []
        if days:
            day = first_day
            if days == 7 or days == 14:  # weeks start on Mondays
                day += timedelta(days=-day.weekday() % 7)
            while len(ticks) <= MAX_TICKS and _midnight(day) <= end:
                ticks.append((_midnight(day), f"{day.day} {_MONTHS[day.month - 1]} {day.year}"))
                if date.max - day < timedelta(days=days):
                    break
                day += timedelta(days=days)
        elif months:
            index = first_day.year * 12 + first_day.month - 1 + (first_day.day > 1)
            index += -index % months
            while len(ticks) <= MAX_TICKS and index < 10000 * 12:
                moment = datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
                if moment > end:
                    break
                ticks.append((moment, f"{_MONTHS[index % 12]} {index // 12}"))
                index += months
        else:
            year = first_day.year + (first_day != date(first_day.year, 1, 1))
            year += -year % years or (years if year == 0 else 0)
            while len(ticks) <= MAX_TICKS and year < 10000:
                moment = datetime(year, 1, 1, tzinfo=UTC)
                if moment > end:
                    break
                ticks.append((moment, str(year)))
                year += years
        if len(ticks) <= MAX_TICKS:
            return ticks
    return []


def _plain(text: str) -> str:
    """``2026-12-07 02:59 UTC``, or ``18 Oct 2024`` at midnight or the end of a day: a time
    in the words a reader of the chart uses, not the ledger's microseconds."""
    moment = _when(text)
    date = f"{moment.day} {moment:%b} {moment.year}"
    if moment.time() in (time.min, time.max):
        return date
    return f"{date} {moment:%H:%M} UTC"


def timeline_svg(timeline: dict[str, Any], title: str | None = None) -> str:
    """The chart of ``timeline``, headed by ``title`` (the claim's text; default its id)."""
    points: list[dict[str, Any]] = timeline["points"]
    heading = title or timeline["claim_id"]
    shown = heading if len(heading) <= SHOWN_TITLE else heading[: SHOWN_TITLE - 1] + "…"
    start, end = _span(points, _when(timeline["known_at"]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return round(LEFT + plot_w * (moment - start) / (end - start), 2)

    def y(probability: float) -> float:
        return round(TOP + plot_h * (1 - probability), 2)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11" role="img">',
        f"<title>{escape(heading)}: credibility over valid time, as known at "
        f"{escape(_plain(timeline['known_at']))} ({escape(timeline['claim_id'])}, "
        f"{escape(timeline['model'])})</title>",
        f'<text x="{LEFT}" y="20" font-size="14">{escape(shown)}</text>',
        f'<text x="{LEFT}" y="36" fill="#555">{escape(timeline["claim_id"])}: probability '
        f'by the date statements were made, as known at {escape(_plain(timeline["known_at"]))}; '
        f'{escape(timeline["model"])}</text>',
    ]
    for i, (low, high, term) in enumerate(BANDS):
        shade = "#f4f4f4" if i % 2 else "#ffffff"
        out.append(f'<rect x="{LEFT}" y="{y(high)}" width="{plot_w}" '
                   f'height="{round(y(low) - y(high), 2)}" fill="{shade}"/>')
        out.append(f'<text x="{LEFT + plot_w + 6}" y="{round((y(low) + y(high)) / 2 + 4, 2)}" '
                   f'fill="#777">{term}</text>')
    for p in (0.0, 0.5, 1.0):
        out.append(f'<text x="{LEFT - 8}" y="{y(p) + 4}" text-anchor="end">{p:.0%}</text>')
    out.append(f'<text transform="translate(14 {TOP + plot_h / 2}) rotate(-90)" '
               'text-anchor="middle" fill="#555" class="axis-title">probability</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
               'stroke="#999"/>')
    for moment, label in _ticks(start, end):
        out.append(f'<line x1="{x(moment)}" y1="{TOP}" x2="{x(moment)}" y2="{TOP + plot_h + 4}" '
                   'stroke="#ddd" class="tick"/>')
        out.append(f'<text x="{x(moment)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                   f'class="date" data-date="{moment.date().isoformat()}">{label}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 10}" text-anchor="middle" '
               'fill="#555">date the statements were made (valid time, UTC)</text>')
    path = [f"M {LEFT} {y(0.5)}"]
    for point in points:
        px = x(_when(point["valid_from"]))
        path += [f"H {px}", f"V {y(point['probability'])}"]
    path.append(f"H {LEFT + plot_w}")
    out.append(f'<path d="{" ".join(path)}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    for point in points:
        tip = (f"{_plain(point['valid_from'])}: {point['probability']:.0%} ({point['band']}, "
               f"{point['status']}); event {point['event_id']}")
        out.append(f'<circle cx="{x(_when(point["valid_from"]))}" cy="{y(point["probability"])}" '
                   f'r="4" fill="#1f5fa8" data-event-id={quoteattr(point["event_id"])}>'
                   f"<title>{escape(tip)}</title></circle>")
    if not points:
        out.append(f'<text x="{LEFT + plot_w / 2}" y="{y(0.5) - 8}" text-anchor="middle" '
                   'fill="#555">no events in scope</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
