"""A body trickled slower than the time allowed is refused with 408, and nothing is written.

(Before: a 15 MiB body trickled at 64 KiB/s was read for 240 s and accepted.) The ASGI app
is called directly with a client that sends the start of a body and then nothing more.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import ValidationError

from api.main import create_app
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.examples import load_article

CLAIM = "nk-troops-for-russia"
DENIAL = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-20", "quote": "no"}


def post(app: Any, body: bytes, *, stall: bool) -> tuple[int, dict[str, str], bytes]:
    """POST ``body`` to the claim's events; with ``stall``, only its first half is sent
    and the client then waits without closing the connection."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": f"/claims/{CLAIM}/events", "raw_path": b"", "root_path": "",
        "query_string": b"", "server": ("testserver", 80), "client": ("127.0.0.1", 1),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }
    parts = [body[: len(body) // 2], body[len(body) // 2:]]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if parts:
            chunk = parts.pop(0)
            if stall and not parts:
                await asyncio.Event().wait()  # the rest never comes
            return {"type": "http.request", "body": chunk, "more_body": bool(parts)}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_a_body_that_does_not_arrive_in_time_is_refused_with_408() -> None:
    settings = Settings(store="memory", body_read_seconds=0.2, _env_file=None)  # type: ignore[call-arg]
    ledger = open_ledger(settings)
    try:
        load_article(ledger)
        app = create_app(settings, ledger)
        head = ledger.store.recorder.max_notification_id()
        status, headers, body = post(app, json.dumps(DENIAL).encode(), stall=True)
        assert status == 408, body
        assert headers["content-type"] == "application/problem+json"
        assert headers["connection"] == "close"
        problem = json.loads(body)
        assert problem["title"] == "Request timeout"
        assert problem["type"] == "/problems/request-timeout"
        assert "did not arrive within 0.2 s; nothing was written" in problem["detail"]
        assert ledger.store.recorder.max_notification_id() == head
        # The same body sent whole is taken.
        status, _, body = post(app, json.dumps(DENIAL).encode(), stall=False)
        assert status == 201, body
        assert ledger.store.recorder.max_notification_id() == head + 1
    finally:
        ledger.close()


def test_the_time_allowed_is_configurable_and_must_be_positive() -> None:
    assert Settings(_env_file=None).body_read_seconds == 60.0  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="body_read_seconds"):
        Settings(body_read_seconds=0, _env_file=None)  # type: ignore[call-arg]
