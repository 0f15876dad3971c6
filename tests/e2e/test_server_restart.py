"""The real server: uvicorn (uvloop + httptools) in a subprocess over an SQLite file.

Appends the article's events over a socket, restarts the server on the same store, and
gets the same answers, ETags and idempotent replays back, byte for byte.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.examples import article_records

pytestmark = pytest.mark.slow

TOKEN = "e2e-writer-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
AS_OF = "2024-10-15"
EXPORT_ONLY = ("event_id", "position", "recorded_at", "actor")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: How long a server may take to answer ``/readyz`` (a long crash run on a busy machine
#: may need more: ``CLAIMS_LEDGER_START_SECONDS``).
START_SECONDS = float(os.environ.get("CLAIMS_LEDGER_START_SECONDS", "30"))


def start(store: Path | str, port: int, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """A uvicorn process on ``store`` (an SQLite file, or a store URL), ready to answer."""
    env = {
        **os.environ,
        "CLAIMS_LEDGER_STORE": f"sqlite:///{store}" if isinstance(store, Path) else store,
        "CLAIMS_LEDGER_API_KEYS": f"desk:writer:{TOKEN}",
        "CLAIMS_LEDGER_LOG_FORMAT": "json",
        **env,
    }
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
        "--no-access-log",
    ]
    with log.open("a") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink,
                                   cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + START_SECONDS
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server did not start:\n" + log.read_text()
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
        process.kill()
        process.wait()


@contextmanager
def server(store: Path | str, port: int, log: Path, **env: str) -> Iterator[httpx.Client]:
    """A uvicorn process on ``store`` (an SQLite file, or a store URL) and a client for it."""
    process = start(store, port, log, **env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=HEADERS,
                          timeout=30) as client:
            yield client
    finally:
        stop(process)


def writes() -> list[tuple[str, str, dict[str, str], Any]]:
    """The article as API requests: (path, Idempotency-Key, extra headers, body)."""
    requests: list[tuple[str, str, dict[str, str], Any]] = []
    statements: list[dict[str, Any]] = []
    for record in article_records():
        # Export-format fields the server assigns itself are not part of a request.
        body = {k: v for k, v in record.items() if k not in EXPORT_ONLY}
        kind = body.pop("type")
        if kind == "source_registered":
            body["id"] = body.pop("source")
            requests.append(("/sources", f"source-{body['id']}", {}, body))
        elif kind == "claim_registered":
            body["id"] = body.pop("claim_id")
            requests.append(("/claims", f"claim-{body['id']}", {}, body))
        else:
            statements.append({"type": kind, **body})
    troops = [s for s in statements if s["claim_id"] == "nk-troops-for-russia"]
    for number, statement in enumerate(troops, start=1):
        body = {k: v for k, v in statement.items() if k != "claim_id"}
        requests.append(("/claims/nk-troops-for-russia/events", f"troops-{number}",
                         {"If-Match": f'"{number}"'}, body))
    rest = [s for s in statements if s["claim_id"] != "nk-troops-for-russia"]
    ndjson = "".join(json.dumps(s) + "\n" for s in rest)
    requests.append(("/events/batch", "batch-1", {"Content-Type": "application/x-ndjson"}, ndjson))
    return requests


def post(client: httpx.Client, path: str, key: str, headers: dict[str, str], body: Any
         ) -> httpx.Response:
    headers = {"Idempotency-Key": key, **headers}
    if isinstance(body, str):
        return client.post(path, content=body, headers=headers)
    return client.post(path, json=body, headers=headers)


def answer(response: httpx.Response) -> tuple[int, str | None, str | None, bytes]:
    return (response.status_code, response.headers.get("etag"),
            response.headers.get("location"), response.content)


def reads(known_at: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    at = {"as_of": AS_OF, "known_at": known_at}
    paths = [("/claims", at, {}), ("/sources", {"known_at": known_at, "as_of": known_at}, {}),
             ("/events", {"limit": "1000"}, {}), ("/verify", {}, {})]
    for claim in ("nk-troops-for-russia", "nk-arms-for-russia", "ru-kp-defence-pact"):
        paths += [
            (f"/claims/{claim}", at, {}),
            (f"/claims/{claim}/events", at, {}),
            (f"/claims/{claim}/audit", {"as_of": AS_OF, "known_at": known_at}, {}),
            (f"/claims/{claim}/timeline", {"known_at": known_at}, {}),
            (f"/claims/{claim}/timeline", {"known_at": known_at}, {"Accept": "image/svg+xml"}),
        ]
    return paths


def test_answers_survive_a_restart(tmp_path: Path) -> None:
    store, log, port = tmp_path / "ledger.sqlite3", tmp_path / "server.log", free_port()
    requests = writes()
    with server(store, port, log) as client:
        first = [post(client, *request) for request in requests]
        assert [r.status_code for r in first] == [201] * len(requests), [r.text for r in first]
        assert first[-1].json()["count"] == 4  # the arms claim (3) and the defence pact (1)
        known_at = first[-1].json()["known_at"]
        troops = client.get("/claims/nk-troops-for-russia", params={"known_at": known_at})
        assert troops.headers["etag"] == '"5"'
        assert troops.json()["credibility"]["band"] == "very likely"
        assert {e["actor"] for e in client.get("/events").json()["data"]} == {"desk"}
        before = [answer(client.get(path, params=params, headers=headers))
                  for path, params, headers in reads(known_at)]
        assert all(status == 200 for status, *_ in before)

    with server(store, port, log) as client:
        after = [answer(client.get(path, params=params, headers=headers))
                 for path, params, headers in reads(known_at)]
        assert after == before
        replays = [post(client, *request) for request in requests]
        assert [answer(r) for r in replays] == [answer(r) for r in first]
        reused = post(client, "/claims/nk-troops-for-russia/events", "troops-1", {},
                      {**requests[-2][3], "note": "a different request"})
        assert reused.status_code == 422
        assert reused.headers["content-type"] == "application/problem+json"
        assert client.get("/events", params={"limit": "1000"}).json()["data"][-1]["position"] == 19
        assert client.get("/verify").json()["ok"] is True
        # HEAD over a real socket: GET's status and headers, and no body after them.
        for path, params, headers in reads(known_at):
            head = client.head(path, params=params, headers=headers)
            assert (head.status_code, head.content) == (200, b""), path
            assert head.headers.get("etag") == answer(
                client.get(path, params=params, headers=headers))[1], path
        metrics = client.get("/metrics").text
        assert "claims_ledger_events_appended_total 0.0" in metrics

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    requests_logged = [line for line in lines if line["msg"] == "request"]
    assert len(requests_logged) >= 2 * len(before) + 2 * len(requests)
    assert all(line["request_id"] and line["duration_ms"] >= 0 for line in requests_logged)
    assert {line["principal"] for line in requests_logged} >= {"desk"}
    assert TOKEN not in log.read_text()


def test_concurrent_conditional_appends_one_wins(tmp_path: Path) -> None:
    store, log = tmp_path / "ledger.sqlite3", tmp_path / "server.log"
    with server(store, free_port(), log) as client:
        client.post("/sources", json={"id": "peskov", "name": "Dmitry Peskov", "affiliation": "RU"})
        etag = client.post("/claims", json={"id": "c", "text": "A claim"}).headers["etag"]

        def append(number: int) -> int:
            body = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-10",
                    "quote": f"hoax {number}"}
            return client.post("/claims/c/events", json=body, headers={"If-Match": etag}
                               ).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = sorted(pool.map(append, range(8)))
        assert statuses == [201] + [412] * 7
        assert client.get("/claims/c").headers["etag"] == '"2"'
