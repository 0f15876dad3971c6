"""Watches stored as events beside the ledger (ledger.watchdesk), on every backend: what
they owe as the log grows, pausing, a restart, and delivery attempts (ledger.webhooks)."""

from __future__ import annotations

import socket

import pytest

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.errors import ClaimNotFound, InvalidInput
from ledger.watchdesk import Watches, WatchNotFound
from ledger.webhooks import Policy, deliver_due

from .helpers import claim, say, source

THRESHOLD = {"kind": "threshold", "threshold": 0.8, "direction": "either"}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(name="watched")
def watched_ledger(ledger: ClaimsLedger) -> ClaimsLedger:
    return watched(ledger)


def watched(ledger: ClaimsLedger) -> ClaimsLedger:
    source(ledger, "nis", reliability="B")
    source(ledger, "zelensky")
    claim(ledger, "troops")
    claim(ledger, "arms")
    return ledger


def test_a_watch_owes_one_notification_per_firing_event(watched: ClaimsLedger) -> None:
    watches = Watches(watched)
    made = watches.create({"condition": THRESHOLD, "scope": {"claim": "troops"}}, "ana")
    say(watched, "troops", "asserted", "zelensky", "2024-10-13")  # 0.6: no crossing
    up = say(watched, "troops", "assessed", "nis", "2024-10-18", likelihood="almost certain")
    say(watched, "arms", "assessed", "nis", "2024-10-18", likelihood="almost certain")  # unwatched
    assert watches.scan() == 1
    assert watches.scan() == 0  # owed once
    (owed,) = watches.deliveries(made["id"])["data"]
    assert owed["position"] == up["position"] and owed["status"] == "stream-only"  # no url
    down = say(watched, "troops", "assessed", "nis", "2024-10-19", likelihood="unlikely")
    assert watches.scan() == 1
    assert [d["position"] for d in watches.deliveries(made["id"])["data"]] == [
        up["position"], down["position"]]


def test_a_paused_watch_owes_nothing_for_what_was_stored_meanwhile(
    watched: ClaimsLedger,
) -> None:
    watches = Watches(watched)
    made = watches.create({"condition": {"kind": "new_source"}, "scope": {"text": "troops"}},
                          "ana")
    assert watches.set_status(made["id"], "paused", "bob")["status"] == "paused"
    say(watched, "troops", "asserted", "zelensky", "2024-10-13")
    assert watches.scan() == 0
    resumed = watches.set_status(made["id"], "active", "bob")
    assert [(h["action"], h["actor"]) for h in resumed["history"]] == [
        ("created", "ana"), ("paused", "bob"), ("active", "bob")]
    assert watches.scan() == 0
    say(watched, "troops", "assessed", "nis", "2024-10-18", likelihood="likely")
    assert watches.scan() == 1  # a new source, after the resumption
    watches.set_status(made["id"], "deleted", "bob")
    assert watches.list_watches()["data"] == []
    with pytest.raises(WatchNotFound):
        watches.deliveries(made["id"])


def test_bad_watches_are_refused_and_nothing_is_stored(watched: ClaimsLedger) -> None:
    watches = Watches(watched)
    with pytest.raises(ClaimNotFound):
        watches.create({"condition": THRESHOLD, "scope": {"claim": "no-such-claim"}}, "ana")
    for body, field in (
        ({"condition": THRESHOLD, "scope": {"claim": "troops"}, "url": "ftp://x"}, "url"),
        ({"condition": THRESHOLD, "scope": {"claim": "troops"}, "secret": "short"}, "secret"),
        ({"condition": THRESHOLD, "scope": {"claim": "troops"}, "colour": "red"}, "colour"),
        ({"condition": {"kind": "band", "band": "sure"}, "scope": {"tag": "x"}},
         "condition.band"),
    ):
        with pytest.raises(InvalidInput) as refused:
            watches.create(body, "ana")
        assert refused.value.field == field
    assert watches.list_watches()["data"] == []


def test_a_restart_finds_the_watches_and_owes_nothing_twice(sql_store: str) -> None:
    """A store that outlives the process (SQLite, PostgreSQL), opened again."""
    settings = Settings(store=sql_store, _env_file=None)  # type: ignore[call-arg]
    first = open_ledger(settings)
    try:
        watched(first)
        watches = Watches(first)
        made = watches.create({"condition": THRESHOLD, "scope": {"claim": "troops"}}, "ana")
        say(first, "troops", "assessed", "nis", "2024-10-18", likelihood="almost certain")
        assert watches.scan() == 1
        owed = watches.deliveries(made["id"])
    finally:
        first.close()
    again = open_ledger(settings)
    try:
        restarted = Watches(again)
        assert [w["id"] for w in restarted.list_watches()["data"]] == [made["id"]]
        assert restarted.scan() == 0
        assert restarted.deliveries(made["id"]) == owed
        say(again, "troops", "assessed", "nis", "2024-10-19", likelihood="unlikely")
        assert restarted.scan() == 1
    finally:
        again.close()


def test_failed_deliveries_are_retried_with_growing_pauses_then_given_up(
    watched: ClaimsLedger,
) -> None:
    watches = Watches(watched, allow_private=True)  # a receiver on this machine
    made = watches.create({"condition": THRESHOLD, "scope": {"claim": "troops"},
                           "url": f"http://127.0.0.1:{_closed_port()}/hook"}, "ana")
    say(watched, "troops", "assessed", "nis", "2024-10-18", likelihood="almost certain")
    watches.scan()
    policy = Policy(retry_seconds=0.000001, max_attempts=3, timeout=5, allow_private=True)
    tried = [deliver_due(watches, policy) for _ in range(3)]
    (delivery,) = watches.deliveries(made["id"])["data"]
    assert delivery["status"] == "failed" and delivery["attempts"] == 3
    assert delivery["last_status"] is None and "no answer" in delivery["last_error"]
    assert deliver_due(watches, policy) == 0  # given up: tried no more
    assert tried == [1, 1, 1]


def test_a_retry_waits_for_its_pause(watched: ClaimsLedger) -> None:
    watches = Watches(watched, allow_private=True)
    made = watches.create({"condition": THRESHOLD, "scope": {"claim": "troops"},
                           "url": f"http://127.0.0.1:{_closed_port()}/hook"}, "ana")
    say(watched, "troops", "assessed", "nis", "2024-10-18", likelihood="almost certain")
    watches.scan()
    policy = Policy(retry_seconds=3600, max_attempts=5, timeout=5, allow_private=True)
    assert deliver_due(watches, policy) == 1
    assert deliver_due(watches, policy) == 0  # not due for an hour
    (delivery,) = watches.deliveries(made["id"])["data"]
    assert delivery["status"] == "retrying" and delivery["next_attempt_at"] > delivery[
        "last_attempt_at"]


def test_a_re_rating_fires_the_watches_of_the_claims_its_source_spoke_on(
    watched: ClaimsLedger,
) -> None:
    """A source's re-rating moves every claim the source spoke on: the conditions are
    judged there too, with the re-rating as the cause (one notification per claim)."""
    claim(watched, "quiet")  # the source never speaks on it
    watches = Watches(watched)
    band = {"kind": "band"}
    on_troops = watches.create({"condition": band, "scope": {"claim": "troops"}}, "ana")
    on_all = watches.create({"condition": band, "scope": {"text": "claim"}}, "ana")
    on_quiet = watches.create({"condition": band, "scope": {"claim": "quiet"}}, "ana")
    say(watched, "troops", "assessed", "nis", "2024-10-18", likelihood="likely")
    say(watched, "arms", "assessed", "nis", "2024-10-18", likelihood="likely")
    assert watches.scan() == 3  # into "likely": troops for two watches, arms for one
    answer = watched.rerate_source("nis", {"reliability": "E", "occurred_at": "2024-10-01"},
                                   "ana")
    rerated = answer["ratings"][-1]
    assert watches.scan() == 3  # out of "likely" on both claims
    (firing,) = [d for d in watches.deliveries(on_troops["id"])["data"]
                 if d["position"] == rerated["position"]]
    both = [d for d in watches.deliveries(on_all["id"])["data"]
            if d["position"] == rerated["position"]]
    assert len(both) == 2 and len({d["delivery_id"] for d in both}) == 2
    assert watches.deliveries(on_quiet["id"])["data"] == []
    # What a subscriber (and a webhook) gets: the claim, before, after, the re-rating.
    feed = watches.claim_feed("troops", rerated["position"] - 1)
    said = [m.data for m in feed.messages if m.name == "watch"]
    assert {d["watch_id"] for d in said} == {on_troops["id"], on_all["id"]}
    for data in said:
        assert data["event"]["type"] == "source_rerated"
        assert data["event"]["position"] == rerated["position"]
        assert (data["before"]["band"], data["after"]["band"]) == (
            "likely", "roughly even chance")
        assert "re-rated E" in data["reason"]
    assert firing["delivery_id"] in {d["delivery_id"] for d in said}
    # A re-rating that moves no band owes nothing.
    watched.rerate_source("nis", {"reliability": "E", "occurred_at": "2024-10-02"}, "ana")
    assert watches.scan() == 0


def test_a_burst_of_writes_wakes_the_dispatcher_once_and_nothing_is_missed(
    watched: ClaimsLedger,
) -> None:
    """``Dispatcher`` scans at most once every ``gather`` seconds however many writes wake
    it; what the burst's last write owes is still owed."""
    import itertools
    import threading
    import time

    from ledger.live import Changes
    from ledger.webhooks import Dispatcher

    watches = Watches(watched, allow_private=True)
    watch = watches.create({"condition": THRESHOLD, "scope": {"claim": "troops"}}, "test")
    runs: list[float] = []
    scan = watches.scan

    def counted(listed: object = None) -> int:
        runs.append(time.monotonic())
        return scan(listed)  # type: ignore[arg-type]

    watches.scan = counted  # type: ignore[method-assign]
    changes = Changes(watched.store)
    dispatcher = Dispatcher(watches, changes, Policy(), poll=30.0, gather=0.5)
    dispatcher.start()
    try:
        deadline = time.monotonic() + 5
        while not runs and time.monotonic() < deadline:  # its first run, at start
            time.sleep(0.01)
        for i in range(20):  # a burst: each write wakes it
            say(watched, "arms", "asserted", "zelensky", f"2024-10-{1 + i:02d}")
        say(watched, "troops", "assessed", "nis", "2024-10-25", likelihood="almost certain")
        done = threading.Event()
        while not done.is_set() and time.monotonic() < deadline + 5:
            owed = watches.deliveries(watch["id"])["data"]
            if owed:
                done.set()
            time.sleep(0.05)
        assert done.is_set(), "the burst's last write was not scanned"
    finally:
        dispatcher.stop()
    # 21 writes within about a second: a run for the first wake, then at most one per 0.5 s.
    assert len(runs) <= 5, runs
    assert all(b - a >= 0.45 for a, b in itertools.pairwise(runs)), runs
