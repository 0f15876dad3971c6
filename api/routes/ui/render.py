"""Rendering: the Jinja2 environment, the filters that put the ledger's values into words,
the page's own links, and the pages for a refusal.

Numbers are shown as a reader takes them: probabilities as percentages ("84%"), changes as
signed percentage points ("+3.2 pts"); the exact value stays in a ``data-`` or ``title``
attribute, so a page can always be held against the API.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.access import KeyRing
from api.routes.ui.session import COOKIE
from ledger.errors import InvalidInput
from ledger.likelihood import ICD203_TERMS
from ledger.statements import EVIDENCE_LABELS, OUTCOMES, STATUSES
from ledger.times import parse_instant

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
#: The Admiralty information-credibility grades. Grade 1 short of a resolution means
#: corroborated (by independent sources), not settled: the ledger's status says whether
#: the claim was resolved.
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
#: A falling number's sign: the minus sign, not a hyphen, as typesetting has it.
MINUS = "\N{MINUS SIGN}"
STATIC_TYPES = {"ui.css": "text/css; charset=utf-8", "ui.js": "text/javascript; charset=utf-8"}

#: The package's own folders, found from this file (not by the name "api", which a test
#: runner may have given to another package).
PACKAGE = Path(__file__).resolve().parent.parent.parent
templates = Environment(
    loader=FileSystemLoader(PACKAGE / "templates"),
    autoescape=select_autoescape(("html", "svg")),
    trim_blocks=True,
    lstrip_blocks=True,
)


def instant(text: str) -> datetime:
    """A time as the ledger prints it (RFC 3339, UTC) as a datetime."""
    year, rest = text.split("-", 1)
    return datetime.fromisoformat(f"{int(year):04d}-{rest}".replace("Z", "+00:00"))


def when(text: str | None) -> str:
    """``2026-11-27 08:45:37 UTC``: a recording time a reader can use."""
    if not text:
        return ""
    moment = instant(text)
    return f"{moment.year:04d}-{moment.strftime('%m-%d %H:%M:%S')} UTC"


def day(text: str | None) -> str:
    """``8 Oct 2024``, and the time of day when there is one."""
    if not text:
        return ""
    moment = instant(text)
    date = f"{moment.day} {moment.strftime('%b')} {moment.year}"
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return date
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (23, 59, 59, 999999):
        return f"{date} (end of day)"
    return f"{date} {moment.strftime('%H:%M')} UTC"


def percent(value: float | None) -> str:
    """``84%``; a tenth of a point near the ends, where whole points would say 100% or 0%."""
    if value is None:
        return ""
    shown = value * 100
    if 1 <= shown <= 99:
        return f"{shown:.0f}%"
    return f"{shown:.1f}%"


def points(value: float | None) -> str:
    """A change of probability in signed percentage points: ``+3.2 pts``, ``no change``."""
    if value is None:
        return ""
    shown = value * 100
    if shown == 0:
        return "no change"
    if abs(shown) < 0.05:
        return f"{'+' if shown > 0 else MINUS}<0.1 pts"
    return f"{'+' if shown > 0 else MINUS}{abs(shown):.1f} pts"


def verdict(credibility: Mapping[str, Any]) -> str:
    """One line a reader understands: ``Likely (84%) — leaning true``."""
    band = str(credibility["band"])
    status = str(credibility["status"])
    line = f"{band[0].upper()}{band[1:]} ({percent(credibility['probability'])})"
    if status in OUTCOMES:
        return f"{line} — resolved: {status}"
    if status == "unverified" and credibility.get("contributions") == []:
        return f"{line} — unverified: nothing said yet"
    return f"{line} — {status}, not resolved"


def grade_meaning(grade: int, status: str) -> str:
    """The Admiralty grade in words that agree with the status: a grade 1 short of a
    resolution is corroboration, not a settled fact."""
    meaning = GRADES[grade]
    if grade == 1 and status not in OUTCOMES:
        return "confirmed by other independent sources, though not resolved"
    return meaning


templates.filters.update(when=when, day=day, percent=percent, points=points)
templates.globals.update(
    admiralty=ADMIRALTY, grades=GRADES, statuses=STATUSES, bands=ICD203_TERMS, shapes=SHAPES,
    verdict=verdict, grade_meaning=grade_meaning, evidence_labels=EVIDENCE_LABELS,
)


@cache
def static_file(name: str) -> bytes:
    return (PACKAGE / "static" / name).read_bytes()


def static_url(name: str) -> str:
    return f"/ui/static/{name}?v={hashlib.sha256(static_file(name)).hexdigest()[:12]}"


templates.globals["static_url"] = static_url


def render(
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


def problem(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return render(
        request, "error.html", {"title": title, "status": status, "detail": detail}, status
    )


class Link:
    """The page's own address with some parameters changed (None or "" drops one)."""

    def __init__(self, path: str, params: Mapping[str, str | None]) -> None:
        self.path = path
        self.params = {k: v for k, v in params.items() if v not in (None, "")}

    def __call__(self, **changes: Any) -> str:
        params = {**self.params, **{k: (None if v is None else str(v)) for k, v in changes.items()}}
        kept = {k: v for k, v in params.items() if v not in (None, "")}
        return self.path + (f"?{urlencode(kept)}" if kept else "")


def query_time(field: str, value: str | None) -> datetime | None:
    """A query time by the ledger's rules (a bare date is the end of that day)."""
    return parse_instant(field, value, bare_date="end") if value else None


def blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


class Fields:
    """A form's times as given, and what was wrong with any of them: the page is drawn
    anyway (for now, where a time was refused), with the error beside its field."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def time(self, field: str, value: str | None) -> datetime | None:
        try:
            return query_time(field, value)
        except InvalidInput as error:
            self.errors[field] = error.detail
            return None

    @property
    def status(self) -> int:
        return 422 if self.errors else 200
