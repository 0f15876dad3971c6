"""Two server processes sharing one PostgreSQL ledger, as behind a load balancer.

A client's retry may land on the other process: the Idempotency-Key still holds (the key is
unique in the store, written in the same transaction as the events), If-Match still guards
the claim's version, and both processes give the same answers.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .test_server_restart import free_port, server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SOURCE = {
    "id": "peskov",
    "name": "Dmitry Peskov",
    "role": "Kremlin spokesman",
    "affiliation": "RU",
    "reliability": "D",
}
CLAIM = {
    "id": "nk-troops-for-russia",
    "text": "North Korea is sending troops to fight for Russia",
    "parties": ["RU", "KP"],
    "beneficiaries": ["UA"],
}
DENIAL = {
    "type": "denied",
    "source": "peskov",
    "occurred_at": "2024-10-10",
    "quote": "another hoax",
}


def test_retries_across_two_processes_write_once(postgres_store: str, tmp_path: Path) -> None:
    log = tmp_path / "servers.log"
    with (
        server(postgres_store, free_port(), log) as one,
        server(postgres_store, free_port(), log) as two,
    ):
        assert one.post("/sources", json=SOURCE).status_code == 201
        assert two.post("/claims", json=CLAIM).status_code == 201
        path = f"/claims/{CLAIM['id']}/events"
        key = {"Idempotency-Key": "denial-2024-10-10"}

        # The same request, sent to both processes at once.
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda c: c.post(path, json=DENIAL, headers=key), (one, two)))
        assert [a.status_code for a in answers] == [201, 201]
        assert answers[0].content == answers[1].content
        assert answers[0].headers["etag"] == answers[1].headers["etag"]
        assert len(one.get(path).json()["events"]) == 1

        # The same key with another body is refused by either process.
        changed = two.post(path, json={**DENIAL, "quote": "nonsense"}, headers=key)
        assert changed.status_code == 422
        assert changed.headers["content-type"].startswith("application/problem+json")

        # If-Match is checked against the version in the shared store.
        stale = one.get(f"/claims/{CLAIM['id']}").headers["etag"]
        assert (
            two.post(
                path, json={**DENIAL, "occurred_at": "2024-10-11"}, headers={"If-Match": stale}
            ).status_code
            == 201
        )
        assert (
            one.post(
                path, json={**DENIAL, "occurred_at": "2024-10-12"}, headers={"If-Match": stale}
            ).status_code
            == 412
        )

        # Both processes answer the same, byte for byte, for the same concrete times.
        view = one.get(f"/claims/{CLAIM['id']}").json()
        times = {"as_of": view["as_of"], "known_at": view["known_at"]}
        assert (
            one.get(f"/claims/{CLAIM['id']}", params=times).content
            == two.get(f"/claims/{CLAIM['id']}", params=times).content
        )
        assert one.get("/verify").json()["ok"] is True
