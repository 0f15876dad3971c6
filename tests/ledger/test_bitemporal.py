"""The two times: as_of (valid time) and known_at (recording time), on every backend."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from ledger.application import ClaimsLedger
from ledger.errors import ClaimNotFound, InvalidTime
from ledger.times import format_instant, now, parse_instant

from .helpers import ACTOR, claim, say, source


def at(text: str) -> object:
    return parse_instant("t", text, bare_date="end")


def p(ledger: ClaimsLedger, cid: str, **times: object) -> float:
    return float(ledger.claim(cid, **times)["credibility"]["probability"])  # type: ignore[arg-type]


@pytest.fixture
def troops(ledger: ClaimsLedger) -> ClaimsLedger:
    source(ledger, "zelensky", "UA", "C")
    source(ledger, "peskov", "RU", "D")
    claim(ledger, "troops", ["RU", "KP"])
    return ledger


def test_backfilled_event_counts_by_valid_time_and_appears_only_after_it_was_recorded(
    troops: ClaimsLedger,
) -> None:
    before_recording = now()
    time.sleep(0.002)
    say(troops, "troops", "asserted", "zelensky", "2024-10-13")
    # As the ledger knows it now: the 2024 statement counts from 2024-10-13 on.
    assert p(troops, "troops", as_of=at("2024-10-12")) == 0.5
    assert p(troops, "troops", as_of=at("2024-10-13")) > 0.5
    # As the ledger knew it before the statement was recorded: nothing, whatever the as_of.
    assert p(troops, "troops", as_of=at("2024-10-13"), known_at=before_recording) == 0.5


def test_bare_dates_mean_end_of_day_for_as_of_and_start_of_day_for_occurred_at(
    troops: ClaimsLedger,
) -> None:
    say(troops, "troops", "asserted", "zelensky", "2024-10-13")
    events = troops.claim_events("troops")["events"]
    assert events[0]["occurred_at"] == "2024-10-13T00:00:00.000000Z"
    view = troops.claim("troops", as_of=at("2024-10-13"))
    assert view["as_of"] == "2024-10-13T23:59:59.999999Z"
    assert view["credibility"]["probability"] > 0.5


def test_every_answer_states_concrete_times_and_asking_again_gives_the_same_bytes(
    troops: ClaimsLedger,
) -> None:
    say(troops, "troops", "asserted", "zelensky", "2024-10-13")
    first = troops.claim("troops")
    say(troops, "troops", "denied", "peskov", "2024-10-14")
    again = troops.claim("troops", as_of=at(first["as_of"]), known_at=at(first["known_at"]))
    assert again == first
    assert troops.claim("troops")["credibility"] != first["credibility"]


def test_correction_acts_in_recording_time(troops: ClaimsLedger) -> None:
    wrong = say(troops, "troops", "asserted", "zelensky", "2024-10-13", quote="misquoted")
    before_fix = now()
    time.sleep(0.002)
    troops.append(
        "troops",
        {
            "type": "corrected",
            "supersedes": wrong["event_id"],
            "corrected_type": "denied",
            "quote": "what he really said",
        },
        ACTOR,
    )
    old = troops.claim("troops", known_at=before_fix)["credibility"]
    new = troops.claim("troops")["credibility"]
    assert old["probability"] > 0.5 and old["contributions"][0]["type"] == "asserted"
    assert new["probability"] < 0.5 and new["contributions"][0]["type"] == "denied"
    assert "corrected" in new["contributions"][0]["reason"]
    fix = troops.audit("troops")["entries"][-1]
    assert fix["type"] == "corrected" and fix["reason"].startswith(
        f"corrects event {wrong['event_id']}"
    )
    # The original record stays readable forever, next to its correction.
    history = troops.claim_events("troops")["events"]
    assert [e["type"] for e in history] == ["asserted", "corrected"]
    assert history[0]["quote"] == "misquoted"


def test_correction_can_move_a_statement_in_valid_time(troops: ClaimsLedger) -> None:
    wrong = say(troops, "troops", "asserted", "zelensky", "2024-10-01")
    troops.append(
        "troops",
        {"type": "corrected", "supersedes": wrong["event_id"], "occurred_at": "2024-10-13"},
        ACTOR,
    )
    assert p(troops, "troops", as_of=at("2024-10-05")) == 0.5
    assert p(troops, "troops", as_of=at("2024-10-13")) > 0.5


def test_retraction_acts_in_valid_time(troops: ClaimsLedger) -> None:
    statement = say(troops, "troops", "denied", "peskov", "2024-10-10")
    troops.append(
        "troops",
        {
            "type": "retracted",
            "source": "peskov",
            "occurred_at": "2024-11-01",
            "supersedes": statement["event_id"],
        },
        ACTOR,
    )
    assert p(troops, "troops", as_of=at("2024-10-20")) < 0.5  # still counts before the retraction
    assert p(troops, "troops", as_of=at("2024-11-01")) == 0.5  # withdrawn from then on


def test_source_rating_as_of_and_known_at(troops: ClaimsLedger) -> None:
    say(troops, "troops", "asserted", "zelensky", "2024-10-13")
    before_rerating = now()
    time.sleep(0.002)
    troops.rerate_source("zelensky", {"reliability": "A", "occurred_at": "2025-01-01"}, ACTOR)
    rated_c = p(troops, "troops", as_of=at("2024-12-31"))
    rated_a = p(troops, "troops", as_of=at("2025-01-01"))
    assert rated_a > rated_c
    # Re-rating never silently rewrites what the ledger said before.
    assert p(troops, "troops", as_of=at("2025-06-01"), known_at=before_rerating) == rated_c
    audit = troops.audit("troops")["entries"]
    assert [e["type"] for e in audit] == ["asserted", "rerated"]
    assert audit[1]["before"] == audit[0]["after"]
    assert audit[1]["reason"] == "zelensky re-rated A from 2025-01-01"


def test_recorded_at_is_server_assigned_and_strictly_increasing(troops: ClaimsLedger) -> None:
    for day in range(1, 6):
        say(troops, "troops", "asserted", "zelensky", f"2024-10-0{day}")
    troops.append_batch(
        [
            {
                "claim_id": "troops",
                "type": "denied",
                "source": "peskov",
                "occurred_at": "2024-10-10",
                "summary": "no",
            }
        ]
        * 3,
        ACTOR,
    )
    log = troops.global_log(0, 1000)["events"]
    stamps = [e["recorded_at"] for e in log]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    positions = [e["position"] for e in log]
    assert positions == sorted(set(positions))


def test_future_and_zoneless_times_are_refused(troops: ClaimsLedger) -> None:
    future = format_instant(now() + timedelta(minutes=5))
    with pytest.raises(InvalidTime, match="future"):
        say(troops, "troops", "asserted", "zelensky", future)
    with pytest.raises(InvalidTime, match="time zone"):
        say(troops, "troops", "asserted", "zelensky", "2024-10-13T18:00:00")
    # Clock skew of under a minute is tolerated.
    say(troops, "troops", "asserted", "zelensky", format_instant(now() + timedelta(seconds=20)))


def test_claim_unknown_before_it_was_recorded(ledger: ClaimsLedger) -> None:
    before = now()
    time.sleep(0.002)
    claim(ledger, "later")
    with pytest.raises(ClaimNotFound, match="not yet recorded"):
        ledger.claim("later", known_at=before)
    with pytest.raises(ClaimNotFound, match="no claim"):
        ledger.claim("never")


def test_a_future_known_at_is_answered_as_of_now_so_it_can_be_repeated(
    troops: ClaimsLedger,
) -> None:
    view = troops.claim("troops", known_at=at("2999-01-01"))
    assert view["known_at"] < "2999"
    say(troops, "troops", "asserted", "zelensky", "2024-10-13")
    again = troops.claim("troops", as_of=at(view["as_of"]), known_at=at(view["known_at"]))
    assert again == view
