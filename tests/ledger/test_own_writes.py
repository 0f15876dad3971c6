"""What a process knows from its own writes: the cited sources' log rows as known at the
last of them (``LedgerApplication.stream_logs`` with ``OwnTail``) are answered without
asking the database, and never when another process wrote between."""

from __future__ import annotations

import pytest

from ledger.application import ClaimsLedger
from ledger.times import parse_instant, to_micros

from .helpers import ACTOR, claim, say, source


def _known(answer: dict) -> int:  # type: ignore[type-arg]
    return to_micros(parse_instant("known_at", answer["known_at"]))


def _spoken(first: ClaimsLedger) -> None:
    for sid in ("a", "b"):
        source(first, sid)
    claim(first, "x")
    say(first, "x", "asserted", "a", "2024-01-01")
    say(first, "x", "denied", "b", "2024-01-02")


def test_an_answer_as_known_at_its_own_write_asks_nothing_for_the_sources(
    opened: list[ClaimsLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _, fresh = opened
    _spoken(first)
    last = say(first, "x", "asserted", "a", "2024-01-03")
    known = _known(last)
    data = first.store.claim_as_known("x", known)
    expected = fresh.store.sources_cited(fresh.store.claim_as_known("x", known), known)

    def asked() -> int:
        raise AssertionError("the log's head was asked for")

    monkeypatch.setattr(first.store.recorder, "max_notification_id", asked)
    assert first.store.sources_cited(data, known) == expected
    with pytest.raises(AssertionError, match="head was asked"):  # later than its writes
        first.store.sources_cited(data, known + 1)


def test_a_rerating_by_another_process_counts_in_the_next_answer(
    opened: list[ClaimsLedger],
) -> None:
    first, second, fresh = opened
    _spoken(first)
    second.rerate_source("a", {"reliability": "A", "occurred_at": "2024-01-01"}, ACTOR)
    answer = say(first, "x", "denied", "b", "2024-01-03")
    read = fresh.claim("x", as_of=parse_instant("as_of", answer["as_of"]),
                       known_at=parse_instant("known_at", answer["known_at"]))
    assert answer["credibility"] == read["credibility"]
    grades = {c["source"]: c["reason"] for c in answer["credibility"]["contributions"]}
    assert "reliability A" in grades["a"], grades  # the re-rating, not the C it had
