"""Outage: the PostgreSQL under a real server is stopped mid-load, then started again.

The test takes the throwaway PostgreSQL cluster of the end-to-end tests (``cluster`` in
``tests/e2e/conftest.py``: ``initdb`` into a temporary directory, as the ``postgres`` user
when run as root), serves a ledger on a database of its own there, and has writers append
with Idempotency-Keys while the cluster is stopped and started again. While it is down,
requests answer 503 problems with ``Retry-After``; once it is back the same server process
(not restarted) answers again, and every append answered 201 is stored exactly once.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from .conftest import Cluster
from .test_crash import Writers
from .test_server_restart import HEADERS, free_port, start, stop

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

WRITERS = 3


def test_an_outage_answers_503_and_recovers_without_a_restart(
    cluster: Cluster, tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    process = start(cluster.url, port, log)
    unavailable: list[httpx.Response] = []
    writers = Writers(base, WRITERS, "outage", on_503=unavailable.append)
    try:
        wait_for(lambda: len(writers.answered) >= 20, "appends before the outage")
        cluster.stop()
        wait_for(lambda: len(unavailable) >= WRITERS, "503s while PostgreSQL is down")
        with httpx.Client(base_url=base, headers=HEADERS, timeout=60) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.headers["retry-after"]
        before = len(writers.answered)
        cluster.start()
        wait_for(lambda: len(writers.answered) >= before + 20, "appends after PostgreSQL is back")
    finally:
        writers.stop()
    answered = writers.answered
    try:
        for response in unavailable:
            assert response.headers["content-type"] == "application/problem+json"
            assert int(response.headers["retry-after"]) > 0
            assert response.json()["status"] == 503
        assert process.poll() is None  # the same process, never restarted
        with httpx.Client(base_url=base, headers=HEADERS, timeout=60) as client:
            assert client.get("/readyz").status_code == 200
            writers.check_stored(client)
        print(f"outage: {len(unavailable)} answers 503 with Retry-After while PostgreSQL "
              f"was down; {len(answered)} appends answered, 0 lost, 0 duplicated, "
              "recovered without a restart")
    finally:
        stop(process)


def wait_for(condition: object, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)
