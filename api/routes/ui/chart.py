"""The timeline chart's geometry: ICD 203 bands behind, dates below, the step line (and a
second recording time's, dashed), one focusable marker per event.

Markers of events on one date sit side by side, ``MARKER_GAP`` units apart, wider than a
marker's hit circle, so each can be hovered and reached on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from api.routes.ui.render import END_OF_TIME, instant
from ledger.likelihood import ICD203_BANDS

#: A marker's hit circle's radius; same-day markers sit two radii and a little apart.
HIT_RADIUS = 11
MARKER_GAP = 2 * HIT_RADIUS + 2


# The chart's frame, in SVG user units (the SVG scales to its box).
WIDTH, HEIGHT = 760, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 132, 16, 58
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Tick steps: (count, unit), from a day to a millennium.
STEPS = (
    (1, "day"), (2, "day"), (7, "day"), (14, "day"), (1, "month"), (2, "month"), (3, "month"),
    (6, "month"), (1, "year"), (2, "year"), (5, "year"), (10, "year"), (25, "year"),
    (50, "year"), (100, "year"), (250, "year"), (500, "year"), (1000, "year"),
)
UNIT_DAYS = {"day": 1, "month": 30.44, "year": 365.25}


@dataclass(frozen=True)
class Scale:
    start: datetime
    end: datetime

    def x(self, moment: datetime) -> float:
        return round(LEFT + PLOT_W * ((moment - self.start) / (self.end - self.start)), 2)

    @staticmethod
    def y(probability: float) -> float:
        return round(TOP + PLOT_H * (1 - probability), 2)


def span(moments: list[datetime], fallback: datetime) -> Scale:
    if not moments:
        moments = [fallback]
    first, last = min(moments), max(moments)
    pad = max((last - first) / 12, timedelta(days=2))
    low, high = datetime.min.replace(tzinfo=UTC), END_OF_TIME
    # Statements dated at the ends of the calendar must not push the axis off it.
    return Scale(first - pad if first - low > pad else low,
                 last + pad if high - last > pad else high)


def ticks(scale: Scale) -> list[dict[str, Any]]:
    """Dates on the axis: whole days, months or years, as many as fit; the year is written
    on the first tick and wherever it changes."""
    days = (scale.end - scale.start) / timedelta(days=1)
    room = max(2, PLOT_W // 64)
    count, unit = next(
        ((n, u) for n, u in STEPS if days / (n * UNIT_DAYS[u]) <= room), STEPS[-1]
    )
    moments: list[datetime] = []
    if unit == "day":
        day = scale.start.date() + timedelta(days=1)
        if count == 7:
            day += timedelta(days=(7 - day.weekday()) % 7)  # Mondays
        while len(moments) < 40:
            moment = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
            if moment > scale.end:
                break
            moments.append(moment)
            try:
                day += timedelta(days=count)
            except OverflowError:
                break
    else:
        months = count if unit == "month" else 12 * count
        index = scale.start.year * 12 + scale.start.month  # the month after start's, from 0
        index += (-index) % months
        while len(moments) < 40:
            year, month = divmod(index, 12)
            if not 1 <= year <= 9999:
                break
            moment = datetime(year, month + 1, 1, tzinfo=UTC)
            if moment > scale.end:
                break
            if moment >= scale.start:
                moments.append(moment)
            index += months
    ticks = []
    year_shown = None
    for moment in moments:
        if unit == "year":
            label = str(moment.year)
        else:
            label = f"{moment.day} {MONTHS[moment.month - 1]}" if unit == "day" else (
                MONTHS[moment.month - 1])
            if moment.year != year_shown:
                label += f" {moment.year}"
        year_shown = moment.year
        ticks.append({"x": scale.x(moment), "label": label, "datetime": moment.date().isoformat()})
    return ticks


def _step_path(scale: Scale, points: list[dict[str, Any]]) -> str:
    path = [f"M {LEFT} {scale.y(0.5)}"]
    for point in points:
        x, y = scale.x(instant(point["valid_from"])), scale.y(point["probability"])
        path += [f"H {x}", f"V {y}"]
    path.append(f"H {LEFT + PLOT_W}")
    return " ".join(path)


def _steps(timeline: Mapping[str, Any]) -> list[tuple[str, float]]:
    return [(p["valid_from"], p["probability"]) for p in timeline["points"]]


def _at(points: list[dict[str, Any]], moment: str) -> float:
    """The step line's value at a moment of valid time (0.5 before the first point)."""
    value = 0.5
    for point in points:
        if point["valid_from"] <= moment:
            value = point["probability"]
    return float(value)


def chart(
    timeline: dict[str, Any],
    overlay: dict[str, Any] | None,
    events: list[dict[str, Any]],
    tips: Mapping[str, str],
    as_of: str,
) -> dict[str, Any]:
    """The timeline chart's geometry: bands, axis, step lines, one marker per event."""
    points = timeline["points"]
    moments = [instant(p["valid_from"]) for p in points]
    moments += [instant(e["occurred_at"]) for e in events]
    if overlay is not None:
        moments += [instant(p["valid_from"]) for p in overlay["points"]]
    scale = span(moments, instant(timeline["known_at"]))
    bands = []
    for i, band in enumerate(ICD203_BANDS):
        low = 0.0 if i == 0 else band.low
        high = 1.0 if i == len(ICD203_BANDS) - 1 else band.high
        bands.append({
            "term": band.term, "index": i, "y": scale.y(high),
            "height": round(scale.y(low) - scale.y(high), 2),
            "label_y": round((scale.y(low) + scale.y(high)) / 2 + 4, 2),
        })
    markers = []
    spread: dict[float, int] = {}
    for event in events:
        x = scale.x(instant(event["occurred_at"]))
        spread[x] = spread.get(x, 0) + 1
    placed: dict[float, int] = {}
    for event in events:
        x = scale.x(instant(event["occurred_at"]))
        nth = placed.get(x, 0)
        placed[x] = nth + 1
        # Events on one date sit side by side, centred on the date, none over another.
        shifted = round(x + MARKER_GAP * (nth - (spread[x] - 1) / 2), 2)
        probability = _at(points, event["occurred_at"])
        markers.append({
            "event": event, "x": shifted, "y": scale.y(probability),
            "probability": probability, "tip": tips[event["event_id"]],
            "later": event["occurred_at"] > as_of,
        })
    as_of_moment = instant(as_of)
    rule = None
    if scale.start <= as_of_moment <= scale.end:
        rule = {"x": scale.x(as_of_moment), "past_end": False}
    elif as_of_moment > scale.end:
        rule = {"x": LEFT + PLOT_W, "past_end": True}
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP, "plot_w": PLOT_W,
        "plot_h": PLOT_H, "bottom": TOP + PLOT_H,
        "bands": bands, "ticks": ticks(scale),
        "y_ticks": [{"y": scale.y(p), "label": f"{p:.0%}"} for p in (0, 0.25, 0.5, 0.75, 1)],
        "hit_radius": HIT_RADIUS,
        "path": _step_path(scale, points),
        "overlay_path": None if overlay is None else _step_path(scale, overlay["points"]),
        # Where the two lines are one, the dashed line is drawn over the solid one; when
        # they are one throughout, the legend says so.
        "overlay_same": overlay is not None and _steps(overlay) == _steps(timeline),
        "markers": markers, "as_of_rule": rule,
        "start": scale.start, "end": scale.end,
    }


