"""The two times' text forms: strict RFC 3339 in, RFC 3339 with microseconds out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.errors import InvalidTime
from ledger.times import format_instant, parse_instant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-10-13T18:00:00Z", datetime(2024, 10, 13, 18, tzinfo=UTC)),
        ("2024-10-13t18:00:00z", datetime(2024, 10, 13, 18, tzinfo=UTC)),
        ("2024-10-13 21:00:00+03:00", datetime(2024, 10, 13, 18, tzinfo=UTC)),
        ("2024-10-13T18:00:00.5Z", datetime(2024, 10, 13, 18, 0, 0, 500000, tzinfo=UTC)),
        ("2024-10-13", datetime(2024, 10, 13, tzinfo=UTC)),
    ],
)
def test_rfc3339_and_bare_dates_are_read(text: str, expected: datetime) -> None:
    assert parse_instant("t", text) == expected


def test_a_bare_date_is_the_end_of_the_day_when_asked() -> None:
    end = parse_instant("as_of", "2024-10-13", bare_date="end")
    assert format_instant(end) == "2024-10-13T23:59:59.999999Z"
    assert parse_instant("as_of", "9999-12-31", bare_date="end").year == 9999


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2024-10-13T18:00:00", "no time zone"),
        ("2024-W41-7T00:00:00Z", "not an RFC 3339"),
        ("20241013T180000Z", "not an RFC 3339"),
        ("2024-10-13T18Z", "not an RFC 3339"),
        ("2024-10-13T18:00:00.Z", "not an RFC 3339"),
        ("2024-10-13T18:00:00.1234567Z", "finer than the microseconds"),
        ("2024-02-30T00:00:00Z", "not a valid date"),
        ("2024-02-30", "not a valid calendar date"),
        ("0001-01-01T00:00:00+14:00", "outside the calendar"),
        ("yesterday", "not an RFC 3339"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidTime, match=reason):
        parse_instant("occurred_at", text)


def test_output_pads_early_years() -> None:
    assert format_instant(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000000Z"
