"""Recording times and a clock that is wrong: acknowledged writes are never hidden from reads.

Recording times strictly increase along the log, so a write after a log whose last time is
ahead of the clock is stamped just after that time. The rule (docs/trust.md): that is
allowed up to ``MAX_AHEAD_US`` ahead of the clock (a clock stepped back by NTP), and the
process's "now" never falls behind a time it wrote, so a default read sees the write;
beyond it (a log time moved a year ahead) the write is refused with 503, writing nothing.
(Before: the append answered 201 stamped a year ahead, and default reads never saw it.)
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger import times
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.examples import load_article
from ledger.persistence.chain import MAX_AHEAD_US

from .helpers import execute

ARMS, PACT = "nk-arms-for-russia", "ru-kp-defence-pact"
DENIAL = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-20", "quote": "no"}
YEAR_US = 365 * 86400 * 10**6


@pytest.fixture
def sql_settings(sql_store: str) -> Settings:
    return Settings(store=sql_store, _env_file=None)  # type: ignore[call-arg]


def test_a_clock_stepped_back_still_shows_every_acknowledged_write(
    sql_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = open_ledger(sql_settings)
    try:
        load_article(ledger)
        client = TestClient(create_app(sql_settings, ledger))
        first = client.post(f"/claims/{PACT}/events", json=DENIAL)
        assert first.status_code == 201, first.text
        last = ledger.store.index.log_entries(first.json()["position"] - 1, 1)[0].recorded_at
        # The clock steps back by half the allowance: the next write is stamped just after
        # the log's last time, ahead of the clock.
        monkeypatch.setattr(times, "clock_micros", lambda: last - MAX_AHEAD_US // 2)
        second = client.post(f"/claims/{PACT}/events",
                             json={**DENIAL, "occurred_at": "2024-10-21"})
        assert second.status_code == 201, second.text
        stamped = ledger.store.index.log_entries(second.json()["position"] - 1, 1)[0]
        assert stamped.recorded_at == last + 1
        # A default read sees it: "now" is never behind a write this process made.
        read = client.get(f"/claims/{PACT}")
        assert read.json()["version"] == second.json()["version"]
        events = client.get(f"/claims/{PACT}/events").json()["events"]
        assert events[-1]["event_id"] == second.json()["event_id"]
    finally:
        ledger.close()


def test_a_write_is_refused_rather_than_stamped_far_ahead_of_the_clock(
    sql_settings: Settings,
) -> None:
    ledger = open_ledger(sql_settings)
    try:
        load_article(ledger)
        before = ledger.claim(PACT)
    finally:
        ledger.close()
    # The log's last time moved a year ahead (the arms claim's last event, position 19).
    execute(sql_settings, "UPDATE {log} SET recorded_at = recorded_at + ? WHERE position = 19",
            (YEAR_US,))
    ledger = open_ledger(sql_settings)
    client = TestClient(create_app(sql_settings, ledger), raise_server_exceptions=False)
    try:
        with client:
            head = ledger.store.recorder.max_notification_id()
            for _ in range(3):
                refused = client.post(f"/claims/{PACT}/events", json=DENIAL)
                assert refused.status_code == 503, refused.text
                assert refused.headers["content-type"] == "application/problem+json"
                body = refused.json()
                assert body["title"] == "Clock behind the log"
                assert body["type"] == "/problems/clock-behind-the-log"
                assert "ahead of this server's clock" in body["detail"]
                assert "nothing was written" in body["detail"]
                assert refused.headers["Retry-After"]
            assert ledger.store.recorder.max_notification_id() == head
            read = client.get(f"/claims/{PACT}")
            assert read.status_code == 200
            assert read.json()["version"] == before["version"]
            # The moved time is damage too: the arms claim is not served, verify names it.
            arms = client.get(f"/claims/{ARMS}")
            assert arms.status_code == 500 and arms.json()["position"] == 19
            assert client.get("/verify").json()["first_bad_position"] == 19
    finally:
        ledger.close()
