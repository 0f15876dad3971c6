"""The ledger's two times, parsed and printed one way everywhere.

``occurred_at`` (valid time) comes from the caller; ``recorded_at`` (transaction time) from
the store. Both are kept as timezone-aware UTC datetimes and printed as RFC 3339 with
microseconds and ``Z``. A timestamp without a zone is refused: guessing a zone would
silently move a statement by hours. A bare date means the start of that day for
``occurred_at`` and the end of it for ``as_of``/``known_at``, so "as of 2024-10-13"
includes everything said on the 13th.
"""

from __future__ import annotations

import re
import threading
import time as _time
from datetime import UTC, date, datetime, time, timedelta

from ledger.errors import InvalidTime

#: How far in the future an ``occurred_at`` may be, to allow for clock skew.
CLOCK_SKEW = timedelta(minutes=1)
ONE_MICROSECOND = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339's date-time, strictly: datetime.fromisoformat alone also takes ISO 8601 forms
# such as week dates, basic format or hours without minutes.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?P<fraction>\.\d+)?(?P<zone>[Zz]|[+-]\d{2}:\d{2})?$"
)


def clock_micros() -> int:
    """This server's clock, in microseconds since the epoch (UTC)."""
    return _time.time_ns() // 1000


#: The latest recording time this process wrote: "now" never falls behind it, so a
#: default read (``known_at`` = now) sees every write this process acknowledged, even
#: when the clock was stepped back (NTP) and writes are stamped just after the log's
#: last time instead (``ledger.persistence.chain.stamp``).
_latest_recorded = 0
_latest_lock = threading.Lock()


def note_recorded(micros: int) -> None:
    global _latest_recorded
    with _latest_lock:
        _latest_recorded = max(_latest_recorded, micros)


def now() -> datetime:
    """The ledger's "now": this server's clock, but never before a recording time it wrote."""
    return from_micros(max(clock_micros(), _latest_recorded))


def parse_instant(field: str, value: object, *, bare_date: str = "start") -> datetime:
    """Parse an RFC 3339 timestamp or a bare date into an aware UTC datetime.

    ``bare_date`` is ``"start"`` (00:00 UTC) or ``"end"`` (the day's last microsecond).
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidTime(field, "timestamp has no time zone; add 'Z' or an offset like +00:00")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return _day_bound(value, bare_date)
    if not isinstance(value, str) or not value.strip():
        raise InvalidTime(field, "expected an RFC 3339 timestamp or a date (YYYY-MM-DD)")
    text = value.strip()
    if _BARE_DATE.match(text):
        try:
            return _day_bound(date.fromisoformat(text), bare_date)
        except ValueError:
            raise InvalidTime(field, f"{text!r} is not a valid calendar date") from None
    shape = _RFC3339.match(text)
    if shape is None:
        raise InvalidTime(
            field, f"{text!r} is not an RFC 3339 timestamp (e.g. 2024-10-13T18:00:00Z)"
        )
    if shape["zone"] is None:
        raise InvalidTime(field, f"{text!r} has no time zone; add 'Z' or an offset like +00:00")
    if shape["fraction"] and len(shape["fraction"]) > 7:
        raise InvalidTime(field, f"{text!r} is finer than the microseconds the ledger keeps")
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise InvalidTime(field, f"{text!r} is not a valid date and time") from None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 is before the calendar starts
        raise InvalidTime(field, f"{text!r} is outside the calendar the ledger keeps") from None


def parse_time_option(name: str, value: str | None, bare_date: str = "end") -> datetime | None:
    """A query time as a caller names it (an HTTP parameter, a CLI option), or None if not
    given. A bare date is the end of that day (``as_of``, ``known_at``, ``until``); pass
    ``bare_date="start"`` for the start of it (``since``). A refusal names ``name``.
    """
    return None if value is None else parse_instant(name, value, bare_date=bare_date)


def _day_bound(day: date, bare_date: str) -> datetime:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    if bare_date == "end":
        try:
            return start + timedelta(days=1) - ONE_MICROSECOND
        except OverflowError:  # 9999-12-31: the day's end is the calendar's end
            return datetime.max.replace(tzinfo=UTC)
    return start


def format_instant(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds: ``2024-10-13T18:00:00.000000Z``."""
    m = moment.astimezone(UTC)
    # strftime's %Y does not pad years before 1000, which RFC 3339 requires.
    return f"{m.year:04d}-{m.strftime('%m-%dT%H:%M:%S.%f')}Z"


def to_micros(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)
