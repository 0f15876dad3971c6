"""The live feeds' reads (ledger.live): the log after a position, filtered; a claim's
credibility changes; and a follower woken by this process's own writes."""

from __future__ import annotations

import threading
from typing import Any

from ledger.application import ClaimsLedger
from ledger.live import Changes, LogFilter, changes_after, follow_log, log_after

from .helpers import claim, say, source


def _ledger_with_two_claims(ledger: ClaimsLedger) -> None:
    source(ledger, "zelensky")
    source(ledger, "peskov")
    claim(ledger, "troops")
    claim(ledger, "arms")
    say(ledger, "troops", "asserted", "zelensky", "2024-10-13")
    say(ledger, "arms", "denied", "peskov", "2024-10-14")
    say(ledger, "troops", "denied", "peskov", "2024-10-15")


def test_the_log_after_a_position_is_the_global_log_filtered(ledger: ClaimsLedger) -> None:
    _ledger_with_two_claims(ledger)
    log = ledger.global_log(0, 100)["events"]
    everything = log_after(ledger, 0, LogFilter())
    assert everything.records == log and everything.last == 7 and not everything.full
    assert log_after(ledger, 5, LogFilter()).records == log[5:]
    troops = log_after(ledger, 0, LogFilter(claim="troops"))
    assert [r["position"] for r in troops.records] == [3, 5, 7]
    assert troops.last == 7  # the next read starts after what was read, admitted or not
    peskov = log_after(ledger, 0, LogFilter(source="peskov"))
    assert [(r["type"], r["position"]) for r in peskov.records] == [
        ("source_registered", 2), ("denied", 6), ("denied", 7)]
    denials = log_after(ledger, 0, LogFilter(type="denied", claim="arms"))
    assert [r["position"] for r in denials.records] == [6]


def test_a_page_says_more_may_be_waiting(ledger: ClaimsLedger) -> None:
    _ledger_with_two_claims(ledger)
    first = log_after(ledger, 0, LogFilter(claim="arms"), limit=3)
    assert first.records == [] and first.last == 3 and first.full
    second = log_after(ledger, first.last, LogFilter(claim="arms"), limit=3)
    assert [r["position"] for r in second.records] == [4, 6] and second.last == 6


def test_a_claims_changes_are_its_audit_entries(ledger: ClaimsLedger) -> None:
    _ledger_with_two_claims(ledger)
    entries = ledger.audit("troops")["entries"]
    changes = changes_after(ledger, "troops", 0)
    assert changes == [{"claim_id": "troops", **entry} for entry in entries]
    assert [c["position"] for c in changes] == [5, 7]
    assert changes[1]["before"] == changes[0]["after"] and changes[1]["reason"]
    assert changes_after(ledger, "troops", 5) == changes[1:]
    assert changes_after(ledger, "troops", 7) == []


def test_following_without_follow_is_the_catch_up(ledger: ClaimsLedger) -> None:
    _ledger_with_two_claims(ledger)
    read = list(follow_log(ledger, 2, LogFilter(), follow=False))
    assert read == ledger.global_log(2, 100)["events"]


def test_a_follower_is_woken_by_this_processs_writes(ledger: ClaimsLedger) -> None:
    _ledger_with_two_claims(ledger)
    changes = Changes(ledger.store)
    stop = threading.Event()
    seen: list[dict[str, Any]] = []
    arrived = threading.Condition()

    def read() -> None:
        # A poll far longer than the test: only the wake-up can bring the new event.
        for record in follow_log(ledger, 7, LogFilter(claim="arms"), follow=True,
                                 changes=changes, poll=3600, stop=stop):
            with arrived:
                seen.append(record)
                arrived.notify_all()
            stop.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    say(ledger, "troops", "asserted", "zelensky", "2024-10-16")  # not for this follower
    say(ledger, "arms", "asserted", "zelensky", "2024-10-17")
    with arrived:
        assert arrived.wait_for(lambda: seen, timeout=30)
    reader.join(timeout=30)
    assert [(r["claim_id"], r["position"]) for r in seen] == [("arms", 9)]
