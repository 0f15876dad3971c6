"""The change feeds against a real server: ``/events/stream`` through a SIGKILL and a
restart, its filters and heartbeats, and ``/claims/{id}/stream``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .live import AS_READER, Server, say, serving, setup_ledger, wait_until, write
from .sse import Follower

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    yield from serving(tmp_path)

def the_log(server: Server) -> list[dict[str, Any]]:
    response = httpx.get(f"{server.base}/events", params={"limit": "1000"}, headers=AS_READER)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def has(count: int) -> Any:
    return lambda follower: len(follower.events) >= count


def test_a_reader_sees_every_event_once_in_order_through_a_kill_and_restart(
    server: Server,
) -> None:
    setup_ledger(server)
    say(server, "troops", "zelensky", "asserted", 13)  # before the reader: its catch-up
    follower = Follower(f"{server.base}/events/stream", AS_READER).start()
    try:
        assert follower.wait_for(has(5)), follower.events
        for day in range(14, 20):  # live, while it reads
            say(server, "troops", "peskov" if day % 2 else "zelensky",
                "denied" if day % 2 else "asserted", day)
        assert follower.wait_for(has(11)), follower.events
        server.kill()
        server.start()  # same store, same port: the follower reconnects by itself
        for day in range(20, 25):
            say(server, "arms", "peskov", "denied", day)
        assert follower.wait_for(has(16)), follower.events
        assert follower.wait_for(lambda f: f.comments >= 1)  # heartbeats on an idle stream
    finally:
        follower.close()
    log = the_log(server)
    assert len(log) == 16
    assert [e.id for e in follower.events] == [str(p) for p in range(1, 17)]
    assert [e.data for e in follower.events] == log  # the same records as /events, once each
    assert follower.connections >= 2  # it did reconnect, with Last-Event-ID


def test_the_stream_filters_and_starts_where_asked(server: Server) -> None:
    setup_ledger(server)
    say(server, "troops", "zelensky", "asserted", 13)
    say(server, "arms", "peskov", "denied", 14)
    say(server, "troops", "peskov", "denied", 15)
    say(server, "arms", "zelensky", "asserted", 16)
    cases: list[tuple[dict[str, str], dict[str, str]]] = [
        ({"claim": "troops"}, {}),
        ({"source": "peskov"}, {}),
        ({"type": "denied", "claim": "arms"}, {}),
        ({"after": "6"}, {}),
        ({"after": "2"}, {"Last-Event-ID": "7"}),  # the header wins
    ]
    for day, (params, headers) in enumerate(cases, start=17):
        before = _selected(params, headers, the_log(server))
        follower = Follower(f"{server.base}/events/stream", {**AS_READER, **headers},
                            params).start()
        try:
            assert follower.wait_for(has(len(before))), (params, follower.events)
            say(server, "arms", "peskov", "denied", day)  # a later one, read live
            expected = _selected(params, headers, the_log(server))
            assert follower.wait_for(has(len(expected))), (params, follower.events)
        finally:
            follower.close()
        assert [e.data for e in follower.events] == expected, params


def _selected(
    params: dict[str, str], headers: dict[str, str], log: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """What a stream with ``params`` and ``headers`` should send of ``log``."""
    after = int(headers.get("Last-Event-ID", params.get("after", "0")))
    return [
        record for record in log
        if record["position"] > after
        and record.get("claim_id") == params.get("claim", record.get("claim_id"))
        and record.get("source") == params.get("source", record.get("source"))
        and record["type"] == params.get("type", record["type"])
    ]


def test_a_claim_stream_carries_its_credibility_changes_and_watches(server: Server) -> None:
    setup_ledger(server)
    write(server, "/sources", {"id": "nis", "name": "NIS", "reliability": "B"})
    say(server, "troops", "zelensky", "asserted", 13)
    say(server, "arms", "peskov", "denied", 14)
    watch = write(server, "/watches", {
        "condition": {"kind": "threshold", "threshold": 0.8, "direction": "up"},
        "scope": {"claim": "troops"}})
    follower = Follower(f"{server.base}/claims/troops/stream", AS_READER).start()
    try:
        assert follower.wait_for(has(1)), follower.events
        say(server, "troops", "peskov", "denied", 15)
        crossing = write(server, "/claims/troops/events", {
            "type": "assessed", "source": "nis", "occurred_at": "2024-10-18",
            "likelihood": "almost certain"})
        assert follower.wait_for(has(4)), follower.events
    finally:
        follower.close()
    audit = httpx.get(f"{server.base}/claims/troops/audit", headers=AS_READER).json()
    credibility = [e for e in follower.events if e.event == "credibility"]
    assert [e.data for e in credibility] == [
        {"claim_id": "troops", **entry} for entry in audit["entries"]]
    assert [e.event for e in follower.events] == [
        "credibility", "credibility", "credibility", "watch"]
    first, second, third = (e.data for e in credibility)
    assert second["before"] == first["after"] and second["reason"]
    assert second["after"]["probability"] < second["before"]["probability"]
    fired = follower.events[-1]
    deliveries = f"{server.base}/watches/{watch['id']}/deliveries"
    assert wait_until(lambda: httpx.get(deliveries, headers=AS_READER).json()["data"])
    owed = httpx.get(deliveries, headers=AS_READER).json()["data"]
    assert fired.data["delivery_id"] == owed[0]["delivery_id"]  # the webhook's id, too
    assert fired.data["position"] == third["position"] == crossing["position"]
    assert fired.data["before"] == third["before"] and fired.data["after"] == third["after"]
    # The id goes with the last message of a position: resuming after it, nothing is lost.
    assert follower.events[-2].id is None and fired.id == str(crossing["position"])


def test_a_head_of_a_stream_answers_its_headers_and_frees_the_connection(
    server: Server,
) -> None:
    with httpx.Client(base_url=server.base, headers=AS_READER, timeout=10) as client:
        head = client.head("/events/stream")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"].startswith("text/event-stream")
        assert client.get("/healthz").status_code == 200  # the same keep-alive connection
