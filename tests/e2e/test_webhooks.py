"""Watches delivered by webhook from a real server: a local receiver gets each crossing once
(by delivery id) through a SIGKILL and a restart, and checks every signature with hmac."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from .live import AS_READER, AS_WRITER, Server, serving, setup_ledger, wait_until, write

pytestmark = pytest.mark.slow

SECRET = "whsec-0123456789abcdef-e2e"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    yield from serving(tmp_path)


class Receiver:
    """A webhook receiver on 127.0.0.1 in a thread: answers 500 while ``failing``, else 204,
    after ``delay`` seconds; keeps every request (headers and body) it got."""

    def __init__(self) -> None:
        self.failing = False
        self.delay = 0.0
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                status = 500 if receiver.failing else 204
                with receiver.changed:
                    receiver.requests.append((dict(self.headers), body, status))
                    receiver.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()

    def wait_for(self, done: Any, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not done(self.requests):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.2))
        return True


def accepted(requests: list[tuple[dict[str, str], bytes, int]]) -> list[dict[str, Any]]:
    return [json.loads(body) for _, body, status in requests if status == 204]


def verify(headers: dict[str, str], body: bytes) -> None:
    """What a receiver does, with the standard library: Stripe's scheme, then GitHub's."""
    fields = dict(part.split("=", 1) for part in headers["Ledger-Signature"].split(","))
    signed = fields["t"].encode() + b"." + body
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    github = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(github, headers["X-Hub-Signature-256"])
    assert abs(time.time() - int(fields["t"])) < 600


def assess(server: Server, likelihood: str, day: int) -> dict[str, Any]:
    return write(server, "/claims/troops/events", {
        "type": "assessed", "source": "nis", "occurred_at": f"2024-10-{day:02d}",
        "likelihood": likelihood})


def test_each_crossing_reaches_the_receiver_once_through_a_kill_and_restart(
    server: Server,
) -> None:
    receiver = Receiver()
    try:
        setup_ledger(server)
        write(server, "/sources", {"id": "nis", "name": "NIS", "reliability": "B"})
        watch = write(server, "/watches", {
            "condition": {"kind": "threshold", "threshold": 0.8, "direction": "either"},
            "scope": {"claim": "troops"}, "url": receiver.url, "secret": SECRET})
        assert watch["secret"] == SECRET and watch["status"] == "active"
        deliveries = f"{server.base}/watches/{watch['id']}/deliveries"

        receiver.failing = True
        up = assess(server, "almost certain", 18)  # crosses 0.8 upwards
        assert up["credibility"]["probability"] > 0.8
        assert receiver.wait_for(lambda got: len(got) >= 2)  # refused, and tried again
        owed = httpx.get(deliveries, headers=AS_READER).json()["data"]
        assert [(d["position"], d["status"]) for d in owed] == [(up["position"], "retrying")]
        assert owed[0]["attempts"] >= 1 and "500" in owed[0]["last_error"]

        server.kill()  # the notification is owed in the store, not in the dead process
        receiver.failing = False
        server.start()
        assert receiver.wait_for(lambda got: len(accepted(got)) >= 1)
        write(server, "/claims/troops/events", {  # moves it, crosses nothing
            "type": "asserted", "source": "zelensky", "occurred_at": "2024-10-19",
            "summary": "more troops"})
        down = assess(server, "unlikely", 20)  # crosses 0.8 downwards
        assert down["credibility"]["probability"] < 0.8
        assert receiver.wait_for(lambda got: len(accepted(got)) >= 2)
        sent = len(receiver.requests)
        assert wait_until(lambda: all(
            d["status"] == "delivered"
            for d in httpx.get(deliveries, headers=AS_READER).json()["data"]))
        server.kill()
        server.start()  # nothing is owed any more: nothing is sent again
        write(server, "/claims/troops/events", {
            "type": "denied", "source": "peskov", "occurred_at": "2024-10-21",
            "summary": "a hoax"})
        assert not receiver.wait_for(lambda got: len(got) > sent, timeout=2)  # time to resend
        final = httpx.get(deliveries, headers=AS_READER).json()["data"]
    finally:
        receiver.close()

    # At least once: a kill between a receiver's answer and its record may send one again,
    # with the same id, which the receiver de-duplicates on.
    got = list({d["delivery_id"]: d for d in accepted(receiver.requests)}.values())
    assert [d["position"] for d in got] == [up["position"], down["position"]]
    for headers, body, _ in receiver.requests:
        verify(headers, body)
        assert headers["Ledger-Delivery"] == json.loads(body)["delivery_id"]
    first, second = got
    assert first["claim"]["id"] == "troops" and first["event"]["position"] == up["position"]
    assert first["before"]["probability"] < 0.8 <= first["after"]["probability"]
    assert second["after"]["probability"] < 0.8 <= second["before"]["probability"]
    assert first["reason"] and second["event"]["likelihood_phrase"] == "unlikely"
    assert [(d["delivery_id"], d["status"]) for d in final] == [
        (first["delivery_id"], "delivered"), (second["delivery_id"], "delivered")]
    assert final[0]["attempts"] >= 2 and final[1]["attempts"] == 1


def test_watches_are_listed_paused_and_deleted_with_their_history(server: Server) -> None:
    setup_ledger(server)
    made = write(server, "/watches", {"condition": {"kind": "new_source"},
                                      "scope": {"tag": "nk"}})
    assert len(made["secret"]) >= 32  # made by the server, answered once
    listed = httpx.get(f"{server.base}/watches", headers=AS_READER).json()["data"]
    assert [w["id"] for w in listed] == [made["id"]] and "secret" not in listed[0]
    paused = httpx.post(f"{server.base}/watches/{made['id']}/pause", headers=AS_WRITER).json()
    assert paused["status"] == "paused"
    gone = httpx.delete(f"{server.base}/watches/{made['id']}", headers=AS_WRITER)
    assert gone.status_code == 200 and gone.json()["status"] == "deleted"
    assert httpx.get(f"{server.base}/watches", headers=AS_READER).json()["data"] == []
    missing = httpx.get(f"{server.base}/watches/{made['id']}", headers=AS_READER)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
