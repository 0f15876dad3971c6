"""Ties in valid time break by recording order: a source's last recorded word on a day counts.

Statements with the same ``occurred_at`` (common with bare dates) used to be ordered by their
random event ids, so the position that counted was a lottery.
"""

from __future__ import annotations

from ledger.application import ClaimsLedger

from .helpers import claim, say, source

LIKELIHOODS = [0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.6]


def test_the_last_recorded_of_one_sources_same_day_assessments_counts(
    ledger: ClaimsLedger,
) -> None:
    source(ledger, "analyst", reliability="B")
    claim(ledger, "tie")
    answers = [
        say(ledger, "tie", "assessed", "analyst", "2024-10-13", likelihood=value)
        for value in LIKELIHOODS
    ]
    for answer in answers:  # every 201 answer counts the event it just wrote
        counted = [c for c in answer["credibility"]["contributions"] if c["delta"] != 0.0]
        assert [c["event_id"] for c in counted] == [answer["event_id"]]
    final = ledger.claim("tie")["credibility"]
    counted = [c["event_id"] for c in final["contributions"] if "superseded" not in c["reason"]]
    assert counted == [answers[-1]["event_id"]]
    # The same as the last assessment alone.
    claim(ledger, "alone")
    say(ledger, "alone", "assessed", "analyst", "2024-10-13", likelihood=LIKELIHOODS[-1])
    assert ledger.claim("alone")["credibility"]["probability"] == final["probability"]


def test_the_timeline_point_of_a_tied_moment_names_the_last_recorded(
    ledger: ClaimsLedger,
) -> None:
    source(ledger, "analyst", reliability="B")
    claim(ledger, "tie")
    ids = [
        say(ledger, "tie", "assessed", "analyst", "2024-10-13", likelihood=value)["event_id"]
        for value in LIKELIHOODS
    ]
    points = ledger.timeline("tie")["points"]
    assert [p["event_id"] for p in points] == [ids[-1]]
