"""Replay over plain records: a bad stored record is left out, never fatal to reads."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from ledger.credibility import VERSIONS
from ledger.replay import ClaimData, RecordedStatement, credibility
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
