"""The web view under ``/ui``: pages for people, rendered on the server from the ledger's reads.

Every number on a page is what the API answers for the same ``as_of`` and ``known_at``:
the routes call the same read use cases (``list_claims``, ``claim``, ``claim_events``,
``audit``, ``timeline``, ``list_sources``) through the same ``LedgerDep``, and only shape
their answers for the templates (``api/templates``, Jinja2) and draw the timeline's chart.
Nothing here weighs evidence: that is the ledger's.

- ``/ui``: every claim with probability, ICD 203 band and status; sorted, filtered and
  paged here (the ledger answers in registration order, so the page reads every match,
  up to ``MAX_CLAIMS``, and sorts them); state in the query string;
- ``/ui/claims/{id}``: the credibility timeline (an inline SVG step chart, one focusable
  marker per event), the contributions, the audit trail and the raw events;
- ``/ui/sources``: each source, its Admiralty rating and rating history, and the claims
  it spoke on (from each claim's events);
- ``/ui/static/{name}``: the stylesheet and script, shipped in the package (no CDN).

With API keys configured, the pages need a key of any role (reader and above): sent as
``Authorization: Bearer``, or typed once into ``/ui/login``, which opens a session
(``api.access.Sessions``: the key's principal and role, for ``SESSION_SECONDS``, ended by
sign-out) kept in the ``ledger_session`` cookie (HttpOnly, path ``/ui``); the key itself
is never stored in the browser. The API never reads that cookie, so a page cannot be used
to write. ``/`` links here. The routes are left out of the OpenAPI schema.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.access import SESSION_SECONDS, KeyRing, NotAllowed, NotAuthenticated, Role, Sessions
from api.deps import LedgerDep
from ledger.application import ClaimsLedger
from ledger.errors import InvalidInput, NotFound
from ledger.likelihood import ICD203_BANDS, ICD203_TERMS, band_for
from ledger.reads import MAX_LIMIT
from ledger.statements import EVIDENCE_LABELS, STATUSES
from ledger.times import parse_instant

COOKIE = "ledger_session"
COOKIE_MAX_AGE = SESSION_SECONDS
#: The most claims a list page reads to sort and count (narrow the filters beyond that).
MAX_CLAIMS = 5000
#: Entries of a claim's audit trail on one page (the ledger works up to the page's end).
AUDIT_PAGE = 200
#: The most claims the sources page reads events of, to tell who spoke on what.
MAX_SCANNED_CLAIMS = 500
PAGE_SIZES = (25, 50, 100, 200)
SORTS = ("registered", "text", "probability", "status", "events")
#: The end of valid time: "every event known", whatever its date.
END_OF_TIME = datetime.max.replace(tzinfo=UTC)
ADMIRALTY = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}
GRADES = {
    1: "confirmed by other sources",
    2: "probably true",
    3: "possibly true",
    4: "doubtfully true",
    5: "improbable",
    6: "truth cannot be judged",
}
#: Marker shapes by event type (centred on 0,0), so the type is not told by colour alone.
SHAPES = {
    "asserted": "M0,-7L6.5,4.5L-6.5,4.5Z",
    "denied": "M0,7L6.5,-4.5L-6.5,-4.5Z",
    "assessed": "M0,-7L7,0L0,7L-7,0Z",
    "resolved": "M-5.5,-5.5H5.5V5.5H-5.5Z",
    "retracted": "M-5,-7L0,-2L5,-7L7,-5L2,0L7,5L5,7L0,2L-5,7L-7,5L-2,0L-7,-5Z",
    "corrected": "M-6,0A6,6 0 1,0 6,0A6,6 0 1,0 -6,0Z",
}
STATIC_TYPES = {"ui.css": "text/css; charset=utf-8", "ui.js": "text/javascript; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

#: The package's own folders, found from this file (not by the name "api", which a test
#: runner may have given to another package).
PACKAGE = Path(__file__).resolve().parent.parent
templates = Environment(
    loader=FileSystemLoader(PACKAGE / "templates"),
    autoescape=select_autoescape(("html", "svg")),
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- access -----------------------------------------------------------------------------


def _token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _sessions(request: Request) -> Sessions:
    keys: KeyRing = request.app.state.keys
    found = getattr(request.app.state, "sessions", None)
    if not isinstance(found, Sessions) or found.keys is not keys:
        found = request.app.state.sessions = Sessions(keys)
    return found


def _viewer(request: Request) -> str | None:
    """The principal reading the pages, or None when a key is needed and none was given:
    a bearer key, else the session of the cookie."""
    keys: KeyRing = request.app.state.keys
    token = _token(request)
    try:
        if token is not None or keys.open:
            principal = keys.authorize(token, Role.reader)
        else:
            session = _sessions(request).principal(request.cookies.get(COOKIE))
            if session is None:
                return None
            principal = keys.authorize_principal(session, Role.reader)
    except (NotAuthenticated, NotAllowed):
        return None
    request.state.principal = principal.name
    return principal.name


def _secured(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class PageRoute(APIRoute):
    """A page: the key is checked first (without one, the sign-in form, 401), and the
    ledger's refusals are pages too (404 for an unknown id, 422 for a bad time)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            if _viewer(request) is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return _sign_in(request, target, status=401)
            try:
                response = await handle(request)
            except NotFound as error:
                response = _problem(request, 404, error.title, error.detail)
            except InvalidInput as error:
                response = _problem(request, 422, error.title, error.detail)
            except RequestValidationError as error:
                detail = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors()
                )
                response = _problem(request, 422, "Invalid input", detail)
            return _secured(response)

        return page


router = APIRouter(include_in_schema=False)
pages = APIRouter(include_in_schema=False, route_class=PageRoute)


# -- rendering helpers ------------------------------------------------------------------


def _instant(text: str) -> datetime:
    """A time as the ledger prints it (RFC 3339, UTC) as a datetime."""
    year, rest = text.split("-", 1)
    return datetime.fromisoformat(f"{int(year):04d}-{rest}".replace("Z", "+00:00"))


def _when(text: str | None) -> str:
    """``2026-11-27 08:45:37 UTC``: a recording time a reader can use."""
    if not text:
        return ""
    moment = _instant(text)
    return f"{moment.year:04d}-{moment.strftime('%m-%d %H:%M:%S')} UTC"


def _day(text: str | None) -> str:
    """``8 Oct 2024``, and the time of day when there is one."""
    if not text:
        return ""
    moment = _instant(text)
    day = f"{moment.day} {moment.strftime('%b')} {moment.year}"
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return day
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (23, 59, 59, 999999):
        return f"{day} (end of day)"
    return f"{day} {moment.strftime('%H:%M')} UTC"


def _probability(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.4f}"


templates.filters.update(when=_when, day=_day, probability=_probability, signed=_signed)
templates.globals.update(
    admiralty=ADMIRALTY, grades=GRADES, statuses=STATUSES, bands=ICD203_TERMS, shapes=SHAPES,
)


@cache
def _static(name: str) -> bytes:
    return (PACKAGE / "static" / name).read_bytes()


def _static_url(name: str) -> str:
    return f"/ui/static/{name}?v={hashlib.sha256(_static(name)).hexdigest()[:12]}"


templates.globals["static_url"] = _static_url


def _render(
    request: Request, template: str, context: Mapping[str, Any], status: int = 200
) -> HTMLResponse:
    keys: KeyRing = request.app.state.keys
    html = templates.get_template(template).render(
        {
            "request_path": request.url.path,
            "signed_in": not keys.open and request.cookies.get(COOKIE) is not None,
            "principal": getattr(request.state, "principal", None),
            **context,
        }
    )
    return HTMLResponse(html, status_code=status)


def _problem(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return _render(
        request, "error.html", {"status": status, "title": title, "detail": detail}, status
    )


def _sign_in(request: Request, target: str, status: int = 200, failed: bool = False
             ) -> Response:
    page = _render(request, "login.html", {"next": _safe_next(target), "failed": failed}, status)
    if status == 401:  # RFC 9110: a 401 names how to authenticate
        page.headers["WWW-Authenticate"] = 'Bearer realm="claims-ledger"'
    return _secured(page)


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of this view, never another site."""
    if target and target.startswith("/ui") and not target.startswith("/ui/login"):
        return target
    return "/ui"


class Link:
    """The page's own address with some parameters changed (None or "" drops one)."""

    def __init__(self, path: str, params: Mapping[str, str | None]) -> None:
        self.path = path
        self.params = {k: v for k, v in params.items() if v not in (None, "")}

    def __call__(self, **changes: Any) -> str:
        params = {**self.params, **{k: (None if v is None else str(v)) for k, v in changes.items()}}
        kept = {k: v for k, v in params.items() if v not in (None, "")}
        return self.path + (f"?{urlencode(kept)}" if kept else "")


def _time(field: str, value: str | None) -> datetime | None:
    """A query time by the ledger's rules (a bare date is the end of that day)."""
    return parse_instant(field, value, bare_date="end") if value else None


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


# -- the claims page --------------------------------------------------------------------


def _all_claims(
    ledger: ClaimsLedger, as_of: datetime | None, known_at: datetime | None, **filters: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
    """Every claim passing the filters (up to MAX_CLAIMS), read page by page at the times
    the first page fixed; and whether there were more."""
    first = ledger.list_claims(as_of=as_of, known_at=known_at, limit=MAX_LIMIT, **filters)
    items, cursor = list(first["data"]), first["next_cursor"]
    fixed_as_of, fixed_known = _instant(first["as_of"]), _instant(first["known_at"])
    while cursor is not None and len(items) < MAX_CLAIMS:
        answer = ledger.list_claims(
            as_of=fixed_as_of, known_at=fixed_known, limit=MAX_LIMIT, cursor=cursor, **filters
        )
        items += answer["data"]
        cursor = answer["next_cursor"]
    return first, items[:MAX_CLAIMS], cursor is not None or len(items) > MAX_CLAIMS


def _sorted(items: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    orders: dict[str, Callable[[dict[str, Any]], Any]] = {
        "text": lambda c: c["text"].casefold(),
        "probability": lambda c: c["credibility"]["probability"],
        "status": lambda c: STATUSES.index(c["credibility"]["status"]),
        "events": lambda c: c["version"],
    }
    if key not in orders:  # registration order, as the ledger answers
        return list(reversed(items)) if descending else items
    return sorted(items, key=orders[key], reverse=descending)


def _number(value: str | None, default: int, choices: Iterable[int] | None = None) -> int:
    try:
        number = int(value) if value else default
    except ValueError:
        return default
    if choices is not None:
        return number if number in choices else default
    return max(number, 1)


@router.get("/")
def home(request: Request) -> Response:
    """The service's front door: where the web view and the API's docs are."""
    return _secured(_render(request, "home.html", {}))


@pages.get("/ui")
def claims_page(
    request: Request,
    ledger: LedgerDep,
    as_of: str | None = None,
    known_at: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    band: str | None = None,
    q: str | None = None,
    sort: str | None = None,
    page: str | None = None,
    per: str | None = None,
) -> Response:
    """Every claim with its credibility at (as_of, known_at), sortable, filtered, paged."""
    as_of, known_at, tag, status, band, q = (
        _blank(v) for v in (as_of, known_at, tag, status, band, q)
    )
    sort = sort if sort and sort.lstrip("-") in SORTS else "registered"
    size = _number(per, 50, PAGE_SIZES)
    first, items, truncated = _all_claims(
        ledger, _time("as_of", as_of), _time("known_at", known_at),
        tag=tag, status=status, band=band, q=q,
    )
    ordered = _sorted(items, sort)
    pages_count = max(1, math.ceil(len(ordered) / size))
    number = min(_number(page, 1), pages_count)
    shown = ordered[(number - 1) * size : number * size]
    params = {"as_of": as_of, "known_at": known_at, "tag": tag, "status": status,
              "band": band, "q": q, "sort": None if sort == "registered" else sort,
              "per": None if size == 50 else str(size)}
    link = Link("/ui", params)
    claim_times = {"as_of": as_of, "known_at": known_at}
    return _render(request, "claims.html", {
        "title": "Claims",
        "answer": first,
        "claims": shown,
        "total": len(ordered),
        "truncated": truncated,
        "max_claims": MAX_CLAIMS,
        "first_index": (number - 1) * size + 1,
        "page": number,
        "pages": pages_count,
        "per": size,
        "page_sizes": PAGE_SIZES,
        "sort": sort,
        "form": params,
        "link": link,
        "claim_link": lambda claim_id: Link(f"/ui/claims/{claim_id}", claim_times)(),
        "pinned": link(as_of=first["as_of"], known_at=first["known_at"], page=None),
        "tags": sorted({t for c in items for t in c["tags"]}),
    })


# -- the claim page ---------------------------------------------------------------------


def _every_event(
    ledger: ClaimsLedger, claim_id: str, as_of: datetime, known_at: datetime | None
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = ledger.claim_events(
            claim_id, as_of=as_of, known_at=known_at, limit=MAX_LIMIT, cursor=cursor
        )
        events += answer["events"]
        cursor = answer["next_cursor"]
        if cursor is None:
            return events


def _supersession(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """For each event id, the events that retract or correct it."""
    by_target: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        if event.get("supersedes"):
            by_target.setdefault(event["supersedes"], []).append(event)
    return by_target


def _moments(
    events: list[dict[str, Any]], sources: Mapping[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The recording times at which the claim's picture may have changed, latest first:
    each of its events, and each re-rating of a source it cites."""
    seen: dict[str, str] = {}
    for e in events:
        seen[e["recorded_at"]] = f"after #{e['position']} {e['type']}" + (
            f" by {e['source']}" if e.get("source") else "")
    for source_id, source in sources.items():
        for rating in source["ratings"]:
            if rating["occurred_at"] is not None:
                seen.setdefault(rating["recorded_at"], f"after #{rating['position']} "
                                f"{source_id} re-rated {rating['reliability']}")
    return [{"value": recorded_at, "label": f"{_when(recorded_at)} · {label}"}
            for recorded_at, label in sorted(seen.items(), reverse=True)]


def _sources_named(
    ledger: ClaimsLedger, ids: Iterable[str], as_of: datetime, known_at: datetime | None
) -> dict[str, dict[str, Any]]:
    found = {}
    for source_id in sorted(set(ids)):
        try:
            found[source_id] = ledger.get_source(source_id, known_at=known_at, as_of=as_of)
        except NotFound:
            continue
    return found


def _likelihood_words(event: Mapping[str, Any]) -> str:
    if event.get("likelihood") is None:
        return ""
    value = float(event["likelihood"])
    phrase = event.get("likelihood_phrase")
    words = f"{band_for(value)} ({value:g})"
    return f"“{phrase}”: {words}" if phrase and phrase != band_for(value) else words


def _tip(
    event: Mapping[str, Any],
    source: Mapping[str, Any] | None,
    contribution: Mapping[str, Any] | None,
    as_of: str,
) -> str:
    """What a marker says: who, what, in what words, and what it did to the number."""
    who = event["source"]
    if source is not None:
        who = f"{source['name']} ({event['source']}; "
        who += (f"{source['affiliation']}, " if source.get("affiliation") else "")
        who += f"reliability {source['reliability']})"
    lines = [f"{_day(event['occurred_at'])}: {event['type']} by {who}"]
    words = _likelihood_words(event)
    if words:
        confidence = event.get("confidence") or "not stated"
        lines.append(f"Likelihood: {words}; confidence {confidence}")
    if event.get("outcome"):
        lines.append(f"Outcome: {event['outcome']}; basis: {event.get('basis', '')}")
    if event.get("evidence"):
        lines.append(f"Evidence: {EVIDENCE_LABELS[event['evidence']]}")
    if event.get("quote"):
        lines.append(f"“{event['quote']}”")
    elif event.get("summary"):
        lines.append(f"Summary: {event['summary']}")
    if event.get("supersedes"):
        verb = "withdraws" if event["type"] == "retracted" else "corrects"
        lines.append(f"{verb.capitalize()} event {event['supersedes']}")
    if contribution is not None:
        lines.append(f"Contribution as of {_day(as_of)}: moved the probability"
                     f" {contribution['delta']:+.4f} on arrival; weighs"
                     f" {contribution['log_odds']:+.4g} log-odds in the pool now."
                     f" {contribution['reason']}")
    elif event["occurred_at"] > as_of:
        lines.append(f"Not counted as of {_day(as_of)}: it occurred after that")
    else:
        lines.append(f"No contribution of its own as of {_day(as_of)}")
    lines.append(f"Recorded {_when(event['recorded_at'])} by {event['actor']} "
                 f"(#{event['position']})")
    return "\n".join(lines)


# The chart's frame, in SVG user units (the SVG scales to its box).
WIDTH, HEIGHT = 760, 360
LEFT, RIGHT, TOP, BOTTOM = 48, 132, 16, 40
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


def _span(moments: list[datetime], fallback: datetime) -> Scale:
    if not moments:
        moments = [fallback]
    first, last = min(moments), max(moments)
    pad = max((last - first) / 12, timedelta(days=2))
    low, high = datetime.min.replace(tzinfo=UTC), END_OF_TIME
    # Statements dated at the ends of the calendar must not push the axis off it.
    return Scale(first - pad if first - low > pad else low,
                 last + pad if high - last > pad else high)


def _ticks(scale: Scale) -> list[dict[str, Any]]:
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
        x, y = scale.x(_instant(point["valid_from"])), scale.y(point["probability"])
        path += [f"H {x}", f"V {y}"]
    path.append(f"H {LEFT + PLOT_W}")
    return " ".join(path)


def _at(points: list[dict[str, Any]], moment: str) -> float:
    """The step line's value at a moment of valid time (0.5 before the first point)."""
    value = 0.5
    for point in points:
        if point["valid_from"] <= moment:
            value = point["probability"]
    return float(value)


def _chart(
    timeline: dict[str, Any],
    overlay: dict[str, Any] | None,
    events: list[dict[str, Any]],
    tips: Mapping[str, str],
    as_of: str,
) -> dict[str, Any]:
    """The timeline chart's geometry: bands, axis, step lines, one marker per event."""
    points = timeline["points"]
    moments = [_instant(p["valid_from"]) for p in points]
    moments += [_instant(e["occurred_at"]) for e in events]
    if overlay is not None:
        moments += [_instant(p["valid_from"]) for p in overlay["points"]]
    scale = _span(moments, _instant(timeline["known_at"]))
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
        x = scale.x(_instant(event["occurred_at"]))
        spread[x] = spread.get(x, 0) + 1
    placed: dict[float, int] = {}
    for event in events:
        x = scale.x(_instant(event["occurred_at"]))
        nth = placed.get(x, 0)
        placed[x] = nth + 1
        # Events on one date sit side by side, 10 units apart, centred on the date.
        shifted = round(x + 10 * (nth - (spread[x] - 1) / 2), 2)
        probability = _at(points, event["occurred_at"])
        markers.append({
            "event": event, "x": shifted, "y": scale.y(probability),
            "probability": probability, "tip": tips[event["event_id"]],
            "later": event["occurred_at"] > as_of,
        })
    as_of_moment = _instant(as_of)
    rule = None
    if scale.start <= as_of_moment <= scale.end:
        rule = {"x": scale.x(as_of_moment), "past_end": False}
    elif as_of_moment > scale.end:
        rule = {"x": LEFT + PLOT_W, "past_end": True}
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP, "plot_w": PLOT_W,
        "plot_h": PLOT_H, "bottom": TOP + PLOT_H,
        "bands": bands, "ticks": _ticks(scale),
        "y_ticks": [{"y": scale.y(p), "label": f"{p:.2f}"} for p in (0, 0.25, 0.5, 0.75, 1)],
        "path": _step_path(scale, points),
        "overlay_path": None if overlay is None else _step_path(scale, overlay["points"]),
        "markers": markers, "as_of_rule": rule,
        "start": scale.start, "end": scale.end,
    }


@pages.get("/ui/claims/{claim_id}")
def claim_page(
    request: Request,
    claim_id: str,
    ledger: LedgerDep,
    as_of: str | None = None,
    known_at: str | None = None,
    compare: Annotated[str | None, Query(description="a second known_at to overlay")] = None,
    audit_after: Annotated[str | None, Query(description="the audit page's cursor")] = None,
) -> Response:
    """One claim: its timeline as known then (and another time), its audit, its events."""
    as_of, known_at, compare = _blank(as_of), _blank(known_at), _blank(compare)
    audit_after = _blank(audit_after)
    claim = ledger.claim(
        claim_id, as_of=_time("as_of", as_of), known_at=_time("known_at", known_at)
    )
    fixed_as_of, fixed_known = _instant(claim["as_of"]), _instant(claim["known_at"])
    timeline = ledger.timeline(claim_id, known_at=fixed_known)
    overlay = None
    if compare:
        overlay = ledger.timeline(
            claim_id, known_at=None if compare == "now" else _time("compare", compare)
        )
    # Every event known then, whatever its date, for the chart; those by as_of for the table.
    known_events = _every_event(ledger, claim_id, END_OF_TIME, fixed_known)
    events = [e for e in known_events if e["occurred_at"] <= claim["as_of"]]
    audit = ledger.audit(claim_id, as_of=fixed_as_of, known_at=fixed_known, limit=AUDIT_PAGE,
                         cursor=audit_after)
    cited = [e["source"] for e in known_events if e.get("source")]
    sources = _sources_named(ledger, cited, fixed_as_of, fixed_known)
    # Every recording moment so far, for the known_at control.
    if known_at is None:
        moments = _moments(known_events, sources)
    else:
        now_events = _every_event(ledger, claim_id, END_OF_TIME, None)
        moments = _moments(now_events, _sources_named(
            ledger, [e["source"] for e in now_events if e.get("source")], fixed_as_of, None))
    contributions = {c["event_id"]: c for c in claim["credibility"]["contributions"]}
    tips = {
        e["event_id"]: _tip(e, sources.get(e["source"]), contributions.get(e["event_id"]),
                            claim["as_of"])
        for e in known_events
    }
    values = {m["value"] for m in moments}
    link = Link(f"/ui/claims/{claim_id}", {"as_of": as_of, "known_at": known_at,
                                            "compare": compare, "audit_after": audit_after})
    return _render(request, "claim.html", {
        "title": claim["text"],
        "claim": claim,
        "chart": _chart(timeline, overlay, known_events, tips, claim["as_of"]),
        "timeline": timeline,
        "overlay": overlay,
        "events": events,
        "later_events": len(known_events) - len(events),
        "superseded_by": _supersession(known_events),
        "event_ids": {e["event_id"] for e in events},
        "positions": {e["event_id"]: e["position"] for e in known_events},
        "audit": audit,
        "sources": sources,
        "moments": moments,
        "form": {"as_of": as_of, "known_at": known_at, "compare": compare,
                 "audit_after": audit_after},
        "known_at_is_moment": known_at is None or known_at in values,
        "compare_is_moment": compare in (None, "now") or compare in values,
        "link": link,
        "pinned": link(as_of=claim["as_of"], known_at=claim["known_at"]),
        "list_link": Link("/ui", {"as_of": as_of, "known_at": known_at})(),
        "likelihood_words": _likelihood_words,
        "evidence_labels": EVIDENCE_LABELS,
    })


# -- the sources page -------------------------------------------------------------------


def _spoke_on(
    ledger: ClaimsLedger, claims: list[dict[str, Any]], as_of: datetime, known_at: datetime
) -> dict[str, list[dict[str, Any]]]:
    """For each source, the claims it has events on (by as_of, as known at known_at)."""
    spoke: dict[str, dict[str, dict[str, Any]]] = {}
    for claim in claims:
        for event in _every_event(ledger, claim["id"], as_of, known_at):
            if not event.get("source"):
                continue
            entry = spoke.setdefault(event["source"], {}).setdefault(
                claim["id"], {"claim": claim, "types": {}}
            )
            entry["types"][event["type"]] = entry["types"].get(event["type"], 0) + 1
    return {source: list(on.values()) for source, on in spoke.items()}


@pages.get("/ui/sources")
def sources_page(
    request: Request, ledger: LedgerDep, as_of: str | None = None, known_at: str | None = None
) -> Response:
    """Every source: affiliation, Admiralty rating and its history, the claims it spoke on."""
    as_of, known_at = _blank(as_of), _blank(known_at)
    first = ledger.list_sources(as_of=_time("as_of", as_of), known_at=_time("known_at", known_at),
                                limit=MAX_LIMIT)
    fixed_as_of, fixed_known = _instant(first["as_of"]), _instant(first["known_at"])
    sources, cursor = list(first["data"]), first["next_cursor"]
    while cursor is not None:
        answer = ledger.list_sources(as_of=fixed_as_of, known_at=fixed_known, limit=MAX_LIMIT,
                                     cursor=cursor)
        sources += answer["data"]
        cursor = answer["next_cursor"]
    _, claims, _ = _all_claims(ledger, fixed_as_of, fixed_known)
    scanned = claims[:MAX_SCANNED_CLAIMS]
    times = {"as_of": as_of, "known_at": known_at}
    return _render(request, "sources.html", {
        "title": "Sources",
        "answer": first,
        "sources": sources,
        "spoke_on": _spoke_on(ledger, scanned, fixed_as_of, fixed_known),
        "unscanned": len(claims) - len(scanned),
        "form": times,
        "pinned": Link("/ui/sources", {})(as_of=first["as_of"], known_at=first["known_at"]),
        "claim_link": lambda claim_id: Link(f"/ui/claims/{claim_id}", times)(),
    })


# -- sign-in, sign-out and the static files -------------------------------------------


@router.get("/ui/login")
def login_form(request: Request, next: str | None = None) -> Response:
    keys: KeyRing = request.app.state.keys
    if keys.open:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _sign_in(request, _safe_next(next))


@router.post("/ui/login")
async def login(request: Request) -> Response:
    """Check the key typed in and open a session for it (the ``ledger_session`` cookie)."""
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    target = _safe_next(form.get("next"))
    keys: KeyRing = request.app.state.keys
    if keys.open:
        return RedirectResponse(target, status_code=303)
    token = form.get("key", "").strip()
    try:
        principal = keys.authorize(token or None, Role.reader)
    except (NotAuthenticated, NotAllowed):
        return _sign_in(request, target, status=401, failed=True)
    request.state.principal = principal.name
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, _sessions(request).open(principal), max_age=COOKIE_MAX_AGE, path="/ui",
        httponly=True, samesite="lax", secure=request.url.scheme == "https",
    )
    return _secured(response)


@router.post("/ui/logout")
def logout(request: Request) -> Response:
    if not request.app.state.keys.open:
        _sessions(request).close(request.cookies.get(COOKIE))
    response = RedirectResponse("/ui/login" if not request.app.state.keys.open else "/ui",
                                status_code=303)
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="lax")
    return _secured(response)


@router.get("/ui/static/{name}")
def static(name: str) -> Response:
    """The stylesheet and the script: package data, served from here (no CDN)."""
    if name not in STATIC_TYPES:
        return Response("not found\n", status_code=404, media_type="text/plain")
    return Response(
        _static(name), media_type=STATIC_TYPES[name],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


router.include_router(pages)
