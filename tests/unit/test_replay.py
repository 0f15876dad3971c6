"""Replay over plain records: a bad stored record is left out, never fatal to reads."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ledger.application import ClaimsLedger
from ledger.credibility import VERSIONS
from ledger.examples import load_article
from ledger.replay import (
    DERIVED_KEPT,
    ClaimData,
    RecordedStatement,
    credibility,
    evidence,
    weighable,
)
from ledger.statements import Statement

WHEN = datetime(2024, 10, 13, tzinfo=UTC)


def record(event_id: str, kind: str, **fields: object) -> RecordedStatement:
    body = {
        "event_id": event_id,
        "type": kind,
        "source": "s",
        "occurred_at": WHEN,
        "actor": "t",
        **fields,
    }
    return RecordedStatement(Statement.from_payload(body, position=1), recorded_at=1)


def test_a_record_the_model_cannot_weigh_is_left_out_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    claim = ClaimData(
        claim_id="c",
        text="text",
        tags=[],
        parties=["RU"],
        version=3,
        records=[
            record("ok", "asserted", summary="yes"),
            record("bad", "resolved"),  # no outcome: written by no current code path
        ],
    )
    with caplog.at_level(logging.WARNING, logger="ledger.replay"):
        result = credibility(claim, {}, WHEN, 10, VERSIONS["credibility-v1"])
    assert [c.event_id for c in result.contributions] == ["ok"]
    assert "event left out of the credibility" in caplog.text and "bad" in caplog.text


def _claim(*records: RecordedStatement) -> ClaimData:
    return ClaimData(claim_id="c", text="text", tags=[], parties=[], version=len(records) + 1,
                     records=list(records))


def _at(event_id: str, recorded_at: int, **fields: object) -> RecordedStatement:
    kept = record(event_id, "asserted", summary="yes", **fields)
    return RecordedStatement(kept.statement, recorded_at=recorded_at)


def test_what_a_read_works_out_is_kept_for_the_same_known_records_only() -> None:
    first, corrected = _at("a", 10), _at("b", 20)
    correction = RecordedStatement(
        Statement.from_payload({"event_id": "c1", "type": "corrected", "source": "s",
                                "occurred_at": WHEN, "actor": "t", "supersedes": "b",
                                "summary": "no, it was said otherwise"}, position=3), 30)
    claim = _claim(first, corrected, correction)
    now = weighable(claim, 40)
    assert [s.event_id for s in now] == ["a", "b"] and now[1].summary == "no, it was said otherwise"
    assert weighable(claim, 40) is now  # read again: kept, not corrected again
    before = weighable(claim, 25)  # known before the correction: the original record
    assert before[1].summary == "yes" and weighable(claim, 25) is before
    # A store's copy of the claim at an earlier version shares what was worked out (its
    # first records are the same events) and finds the same answers for them.
    earlier = replace(claim, version=2, records=claim.records[:1])
    assert [s.event_id for s in weighable(earlier, 40)] == ["a"]
    assert weighable(claim, 40) is now
    # No more than DERIVED_KEPT record counts are kept.
    for known_at in (5, 15, 25, 35, 45):
        weighable(claim, known_at)
    assert len(claim.derived) <= DERIVED_KEPT
    assert [s.summary for s in weighable(claim, 40)] == ["yes", "no, it was said otherwise"]


def test_a_preview_leaves_nothing_in_the_claims_reads(
    ledger: ClaimsLedger,
) -> None:
    load_article(ledger)
    claim = "nk-troops-for-russia"
    before = ledger.claim(claim)["credibility"]
    assertion = {"type": "asserted", "source": "kr-nis", "occurred_at": "2024-10-20",
                 "quote": "confirmed: troops are in Russia"}
    denial = {**assertion, "type": "denied", "quote": "no troops"}
    up = ledger.preview(claim, assertion, "t")
    down = ledger.preview(claim, denial, "t")  # the same proposed event id, other content
    assert up["after"]["probability"] > before["probability"] > down["after"]["probability"]
    assert ledger.claim(claim)["credibility"] == before


def test_the_kept_canonical_order_answers_as_the_model_orders_the_evidence_itself() -> None:
    days = [datetime(2024, 10, d, tzinfo=UTC) for d in (13, 11, 15, 11, 20, 12)]
    kinds = ["asserted", "denied", "assessed", "asserted", "denied", "asserted"]
    rows = []
    for n, (day, kind) in enumerate(zip(days, kinds, strict=True)):
        fields: dict[str, object] = {"likelihood": 0.8} if kind == "assessed" else {"summary": "x"}
        body = {"event_id": f"e{n}", "type": kind, "source": f"s{n % 4}", "occurred_at": day,
                "actor": "t", **fields}
        rows.append(RecordedStatement(Statement.from_payload(body, position=n + 2), n + 1))
    claim = _claim(*rows)
    model = VERSIONS["credibility-v1"]
    for as_of in [datetime(2024, 10, d, tzinfo=UTC) for d in (10, 11, 12, 14, 16, 21)]:
        kept = credibility(claim, {}, as_of, 100, model)  # the kept canonical prefix
        items = evidence(claim, as_of, 100)  # recording order: the model sorts them
        assert kept == model.assess(items, {}, claim.parties, claim.beneficiaries)
        assert [c.event_id for c in kept.contributions] == sorted(
            (i.event_id for i in items), key=lambda e: next(
                (i.at, i.position) for i in items if i.event_id == e))
