"""Record books are kept between reads while the records they hold cannot have changed.

A version that learns weighs statements with the sources' track records, built from every
resolved claim; a read keeps the book for the next reads until a resolution, or another
event of a resolved claim, is recorded (``LedgerApplication.records_revision``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.credibility import VERSIONS
from ledger.times import to_micros

from .helpers import claim, say, source

V2 = "credibility-v2"


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[ClaimsLedger]:
    store = "memory" if request.param == "memory" else f"sqlite:///{tmp_path}/l.sqlite3"
    opened = open_ledger(Settings(store=store, _env_file=None))  # type: ignore[call-arg]
    try:
        yield opened
    finally:
        opened.close()


def book(ledger: ClaimsLedger) -> object:
    return ledger.reads.record_book(VERSIONS[V2], datetime.now(UTC))


def test_a_book_is_kept_until_a_resolved_claim_changes(ledger: ClaimsLedger) -> None:
    source(ledger, "a", reliability="C")
    source(ledger, "b", reliability="C")
    for cid in ("old", "new", "other"):
        claim(ledger, cid)
    say(ledger, "old", "asserted", "a", "2020-01-01")
    say(ledger, "old", "resolved", "b", "2020-02-01", outcome="confirmed", basis="found")
    say(ledger, "new", "asserted", "a", "2021-01-01")
    first = book(ledger)
    revision = ledger.store.records_revision(to_micros(datetime.now(UTC)))
    assert revision > 0

    say(ledger, "other", "denied", "a", "2021-02-01")  # no resolved claim: same records
    assert book(ledger) is first
    record = first(datetime(2021, 1, 1, tzinfo=UTC), to_micros(datetime.now(UTC))).get("a")
    assert record is not None and record.matched > 0

    say(ledger, "old", "denied", "a", "2020-01-15")  # a resolved claim changes: built anew
    second = book(ledger)
    assert second is not first
    assert ledger.store.records_revision(to_micros(datetime.now(UTC))) > revision
    # ... and what it holds is what the claim now adds: a's latest stance before the
    # resolution is the denial, so its record has a miss, not a match.
    record = second(datetime(2021, 1, 1, tzinfo=UTC), to_micros(datetime.now(UTC))).get("a")
    assert record is not None and record.missed > 0 and record.matched == 0

    say(ledger, "other", "resolved", "b", "2021-03-01", outcome="refuted", basis="found")
    assert book(ledger) is not second  # a new resolution
    # An earlier known_at still sees the records as they were then.
    assert ledger.store.records_revision(revision) == revision
    assert ledger.store.records_revision(revision - 1) == 0


def test_a_read_with_a_kept_book_answers_as_one_with_a_new_book(ledger: ClaimsLedger) -> None:
    source(ledger, "a", reliability="B")
    source(ledger, "b", reliability="C")
    for cid in ("done", "open"):
        claim(ledger, cid)
    say(ledger, "done", "asserted", "a", "2020-01-01")
    say(ledger, "done", "resolved", "b", "2020-02-01", outcome="refuted", basis="found")
    say(ledger, "open", "asserted", "a", "2021-01-01")
    say(ledger, "open", "denied", "b", "2021-01-02")
    kept = ledger.claim("open")  # builds the book
    again = ledger.claim("open", known_at=datetime.now(UTC))  # reuses it
    assert again["credibility"] == kept["credibility"]
    ledger.reads._books.clear()
    fresh = ledger.claim("open", known_at=datetime.now(UTC))
    assert fresh["credibility"] == kept["credibility"]
    reasons = " ".join(c["reason"] for c in kept["credibility"]["contributions"])
    assert "record" in reasons  # the record was weighed, and is the same either way


def test_a_kept_book_walked_through_many_known_at_keeps_few_indexes(
    ledger: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An audit asks a kept book at each event's recording time: its indexes by source
    stay bounded, and a record worked out again is the same."""
    from ledger import replay

    monkeypatch.setattr(replay, "INDEXES_KEPT", 2)
    source(ledger, "a", reliability="C")
    source(ledger, "b", reliability="C")
    claim(ledger, "done")
    stamps = [say(ledger, "done", "asserted", "a", "2020-01-01")["recorded_at"]]
    stamps.append(say(ledger, "done", "resolved", "b", "2020-02-01", outcome="confirmed",
                      basis="found")["recorded_at"])
    for day in range(2, 7):
        stamps.append(say(ledger, "done", "denied", "a", f"2020-01-0{day}")["recorded_at"])
    kept = book(ledger)
    moment = datetime(2021, 1, 1, tzinfo=UTC)
    first = [kept(moment, to_micros(datetime.fromisoformat(s))).get("a") for s in stamps]
    assert len(kept._by_source) <= 2  # type: ignore[attr-defined]
    kept._records.clear()  # type: ignore[attr-defined]
    again = [kept(moment, to_micros(datetime.fromisoformat(s))).get("a") for s in stamps]
    assert again == first and first[1] is not None
