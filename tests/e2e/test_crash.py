"""Crash: a real server is SIGKILLed at random moments under load and started again.

Writers append with an Idempotency-Key each and retry the same request (same key, same
body) until it is answered, through connection errors while the server is down, as a
client of an at-least-once queue would. After the kills, on SQLite and PostgreSQL: every
append that was answered 201 is stored (0 lost), none is stored twice (0 duplicated),
nothing unanswered is stored, a replay of each key answers the original event, and the
hash chain verifies. Readers read each claim's events all along, and the whole history
passes an Elle-style list-append check (``tests.e2e.history``): every read a prefix of
the final order, every acknowledged append read by every read sent after it.

``CLAIMS_LEDGER_CRASH_KILLS`` sets the number of kills (5 per backend in CI) and
``CLAIMS_LEDGER_CRASH_SEED`` the random moments (printed, to repeat a run).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from .history import History
from .test_server_restart import HEADERS, free_port, start, stop

pytestmark = pytest.mark.slow

KILLS = int(os.environ.get("CLAIMS_LEDGER_CRASH_KILLS", "5"))
WRITERS = 4


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def crash_store(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    if request.param == "sqlite":
        return tmp_path / "ledger.sqlite3"
    return str(request.getfixturevalue("postgres_store"))


def post_until_answered(
    client: httpx.Client, path: str, key: str, body: Any,
    on_503: Callable[[httpx.Response], None] = lambda _: None,
) -> httpx.Response:
    """Send one request until the server answers it: the same key and body every time."""
    while True:
        try:
            response = client.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:  # killed, or not started again yet
            time.sleep(0.05)
            continue
        if response.status_code == 503:  # the store is not ready yet
            on_503(response)
            time.sleep(0.05)
            continue
        return response


def events_of(client: httpx.Client, claim: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/claims/{claim}/events", params=params).json()
        events += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            return events


class Writers:
    """``count`` writers, each on a claim of its own, appending with an Idempotency-Key per
    append until ``stop``; ``on_503`` sees every 503 answer (then the request is sent again)."""

    def __init__(self, base: str, count: int, prefix: str,
                 on_503: Callable[[httpx.Response], None] = lambda _: None) -> None:
        self.base, self.count, self.prefix, self.on_503 = base, count, prefix, on_503
        self.answered: dict[str, str] = {}  # Idempotency-Key -> event_id
        self.failures: list[str] = []
        self.done = threading.Event()
        self._lock = threading.Lock()
        self.history = History()
        self._threads = [threading.Thread(target=self._write, args=(n,)) for n in range(count)]
        self._threads += [threading.Thread(target=self._read) for _ in range(2)]
        for thread in self._threads:
            thread.start()

    def body(self, number: int, n: int) -> dict[str, Any]:
        return {"type": "asserted" if n % 2 else "denied", "source": f"s-{number}",
                "occurred_at": "2024-10-13", "quote": f"w{number}-{n}"}

    def _write(self, number: int) -> None:
        claim = f"{self.prefix}-{number}"
        with httpx.Client(base_url=self.base, headers=HEADERS, timeout=60) as client:
            setup = [("/sources", f"source-{number}", {"id": f"s-{number}", "name": "S"}),
                     ("/claims", f"claim-{number}", {"id": claim, "text": "A claim"})]
            for path, key, body in setup:
                if not self._send(client, path, key, body):
                    return
            n = 0
            while not self.done.is_set():
                key = f"w{number}-{n}"
                if not self._send(client, f"/claims/{claim}/events", key, self.body(number, n)):
                    return
                n += 1

    def _send(self, client: httpx.Client, path: str, key: str, body: Any) -> bool:
        response = post_until_answered(client, path, key, body, self.on_503)
        if response.status_code != 201:
            self.failures.append(f"{key}: {response.status_code} {response.text}")
            return False
        if path.endswith("/events"):
            with self._lock:
                self.answered[key] = response.json()["event_id"]
            self.history.acknowledged(path.split("/")[2], response.json()["event_id"])
        return True

    def _read(self) -> None:
        """Read every claim's events over and over, through the kills, into the history."""
        with httpx.Client(base_url=self.base, headers=HEADERS, timeout=60) as client:
            while not self.done.is_set():
                for number in range(self.count):
                    claim = f"{self.prefix}-{number}"
                    sent = self.history.read_sent()
                    try:
                        seen = [e["event_id"] for e in events_of(client, claim)]
                    except (httpx.TransportError, KeyError, ValueError):
                        continue  # down, not there yet, or a 503: no read happened
                    self.history.read(claim, sent, seen)

    def stop(self) -> None:
        self.done.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def check_stored(self, client: httpx.Client) -> None:
        """Every answered append stored once, nothing unanswered stored; the chain verifies."""
        assert not self.failures, self.failures
        stored: dict[str, list[str]] = {}
        for number in range(self.count):
            for event in events_of(client, f"{self.prefix}-{number}"):
                stored.setdefault(event["quote"], []).append(event["event_id"])
        lost = set(self.answered) - set(stored)
        duplicated = {key for key, ids in stored.items() if len(ids) > 1}
        unanswered = set(stored) - set(self.answered)
        assert (lost, duplicated, unanswered) == (set(), set(), set())
        assert {key: ids[0] for key, ids in stored.items()} == self.answered
        report = client.get("/verify").json()
        assert report["ok"] is True, report
        assert report["checked"] == 2 * self.count + len(self.answered)
        final = {f"{self.prefix}-{n}": [e["event_id"] for e in events_of(client,
                                                                          f"{self.prefix}-{n}")]
                 for n in range(self.count)}
        assert self.history.anomalies(final) == []
        acks, reads = self.history.counts()
        assert reads > 0
        print(f"history: {acks} acknowledged appends, {reads} reads, 0 anomalies")


def test_sigkill_loses_and_duplicates_nothing(crash_store: Path | str, tmp_path: Path) -> None:
    seed = int(os.environ.get("CLAIMS_LEDGER_CRASH_SEED", str(time.time_ns() % 10**6)))
    print(f"crash: {KILLS} kills, CLAIMS_LEDGER_CRASH_SEED={seed}")
    rng = random.Random(seed)
    port, log = free_port(), tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    process = start(crash_store, port, log)
    writers = Writers(base, WRITERS, "crash")
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.2, 1.2))
            process.kill()  # SIGKILL: no shutdown, no flush, mid-request
            process.wait()
            process = start(crash_store, port, log)
        time.sleep(0.5)
    finally:
        writers.stop()
    answered = writers.answered
    try:
        assert len(answered) >= WRITERS  # every writer got appends through
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as client:
            writers.check_stored(client)
            # A retry after the crash still answers the original event.
            for key in rng.sample(sorted(answered), min(20, len(answered))):
                number, n = (int(part) for part in key[1:].split("-"))
                again = post_until_answered(client, f"/claims/crash-{number}/events", key,
                                            writers.body(number, n))
                assert (again.status_code, again.json()["event_id"]) == (201, answered[key])
        print(f"crash: {KILLS} SIGKILLs, {len(answered)} appends answered, 0 lost, "
              "0 duplicated, chain verified")
    finally:
        stop(process)
