"""Race: two server processes on one PostgreSQL, eight clients with If-Match on one claim.

Each round, the eight clients (four on each process) read nothing new: they all send an
append conditional on the version the round starts at, at the same moment. Exactly one
wins (201) and seven get 412 naming the current version; over the rounds the claim's
versions are gapless and every winning append is stored once, with the event id its 201
gave. Two readers (one on each process) read the claim's events at the same moment as the
appends, and the history passes an Elle-style list-append check (``tests.e2e.history``).
``CLAIMS_LEDGER_RACE_ROUNDS`` sets the rounds (20 in CI).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .history import History
from .test_server_restart import free_port, server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROUNDS = int(os.environ.get("CLAIMS_LEDGER_RACE_ROUNDS", "20"))
CLIENTS = 8
READERS = 2


def test_one_winner_per_round_and_gapless_versions(postgres_store: str, tmp_path: Path) -> None:
    log = tmp_path / "servers.log"
    with (
        server(postgres_store, free_port(), log) as one,
        server(postgres_store, free_port(), log) as two,
    ):
        assert one.post("/sources", json={"id": "s", "name": "S"}).status_code == 201
        assert two.post("/claims", json={"id": "c", "text": "A claim"}).status_code == 201
        clients = [one if n % 2 else two for n in range(CLIENTS)]
        barrier = threading.Barrier(CLIENTS + READERS)
        winners: list[tuple[int, str]] = []  # (version, event_id)
        history = History()

        def append(number: int, version: int, round_: int) -> httpx.Response:
            body = {"type": "asserted", "source": "s", "occurred_at": "2024-10-13",
                    "quote": f"round {round_} client {number}"}
            barrier.wait()
            answer = clients[number].post("/claims/c/events", json=body,
                                          headers={"If-Match": f'"{version}"'})
            if answer.status_code == 201:
                history.acknowledged("c", answer.json()["event_id"])
            return answer

        def read(number: int) -> None:
            barrier.wait()
            sent = history.read_sent()
            page = (one, two)[number % 2].get("/claims/c/events", params={"limit": "1000"})
            assert page.status_code == 200, page.text
            history.read("c", sent, [e["event_id"] for e in page.json()["events"]])

        with ThreadPoolExecutor(CLIENTS + READERS) as pool:
            for round_ in range(ROUNDS):
                version = 1 + round_
                reads = [pool.submit(read, n) for n in range(READERS)]
                answers = list(pool.map(append, range(CLIENTS), [version] * CLIENTS,
                                        [round_] * CLIENTS))
                for done in reads:
                    done.result()
                statuses = Counter(a.status_code for a in answers)
                assert statuses == {201: 1, 412: CLIENTS - 1}, (round_, statuses,
                                                               [a.text for a in answers])
                (won,) = [a for a in answers if a.status_code == 201]
                assert won.json()["version"] == version + 1
                assert won.headers["etag"] == f'"{version + 1}"'
                for lost in answers:
                    if lost.status_code == 412:
                        assert lost.json()["current_version"] == version + 1
                winners.append((version + 1, won.json()["event_id"]))

        events = one.get("/claims/c/events", params={"limit": "1000"}).json()
        assert events["version"] == ROUNDS + 1
        stored = [(e["position"], e["event_id"]) for e in events["events"]]
        assert [event_id for _, event_id in stored] == [event_id for _, event_id in winners]
        assert history.anomalies({"c": [event_id for _, event_id in stored]}) == []
        assert one.get("/claims/c").headers["etag"] == two.get("/claims/c").headers["etag"]
        assert one.get("/verify").json()["ok"] is True
        print(f"race: {ROUNDS} rounds of {CLIENTS} conditional appends on two processes: "
              f"one winner each, versions 2..{ROUNDS + 1} gapless")
