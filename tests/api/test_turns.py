"""Writes take turns (``api.turns``, ``CLAIMS_LEDGER_WRITE_CONCURRENCY``): at most that many
requests of a process write at once, every route that appends shares the turns, the others
wait and are all written, and reads do not wait for a turn."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pydantic import ValidationError

from api.turns import Turns
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.examples import load_article

from .conftest import MakeClient, log_length

TROOPS = "nk-troops-for-russia"


def _denial(n: int) -> dict[str, Any]:
    return {"type": "denied", "source": "peskov", "occurred_at": f"2024-10-{10 + n % 10:02d}",
            "quote": f"hoax {n}"}


class Overlap:
    """Counts the writes running at once, each held ``hold`` seconds or until released."""

    def __init__(self, hold: float = 0.05) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.hold = hold
        self.release = threading.Event()

    def wrap(self, write: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                self.release.wait(self.hold)
                return write(*args, **kwargs)
            finally:
                with self.lock:
                    self.now -= 1

        return counted


@pytest.fixture
def overlap(ledger: ClaimsLedger, monkeypatch: pytest.MonkeyPatch) -> Iterator[Overlap]:
    """Every write a route can make, counted by one ``Overlap``."""
    load_article(ledger)
    counter = Overlap()
    monkeypatch.setattr(ledger.writes, "append", counter.wrap(ledger.writes.append))
    monkeypatch.setattr(ledger.writes, "append_batch", counter.wrap(ledger.writes.append_batch))
    for name in ("register_claim", "register_source", "rerate_source"):
        monkeypatch.setattr(ledger, name, counter.wrap(getattr(ledger, name)))
    yield counter
    counter.release.set()


def test_no_more_appends_run_at_once_than_the_setting_and_all_are_written(
    make_client: MakeClient, ledger: ClaimsLedger, overlap: Overlap
) -> None:
    client = make_client(write_concurrency=2)
    before = log_length(ledger)
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(
            lambda n: client.post(f"/claims/{TROOPS}/events", json=_denial(n)), range(12)))
    assert [a.status_code for a in answers] == [201] * 12, [a.text for a in answers]
    assert overlap.most == 2  # they overlapped, two at a time and never more
    assert log_length(ledger) == before + 12
    assert len({a.json()["position"] for a in answers}) == 12


def test_every_route_that_appends_shares_the_turns(
    make_client: MakeClient, ledger: ClaimsLedger, overlap: Overlap
) -> None:
    client = make_client(write_concurrency=1)
    writes: list[Callable[[], Any]] = [
        lambda: client.post(f"/claims/{TROOPS}/events", json=_denial(1)),
        lambda: client.post("/events/batch", json=[{**_denial(2), "claim_id": TROOPS}]),
        lambda: client.post("/claims", json={"id": "turns-claim", "text": "A claim"}),
        lambda: client.post("/sources", json={"id": "turns-source", "name": "A source"}),
        lambda: client.post("/sources/peskov/ratings",
                            json={"reliability": "D", "occurred_at": "2024-10-01"}),
    ]
    with ThreadPoolExecutor(len(writes)) as pool:
        answers = list(pool.map(lambda write: write(), writes))
    assert [a.status_code for a in answers] == [201] * len(writes), [a.text for a in answers]
    assert overlap.most == 1


def test_reads_do_not_wait_for_a_turn(
    make_client: MakeClient, ledger: ClaimsLedger, overlap: Overlap
) -> None:
    client = make_client(write_concurrency=1)
    overlap.hold = 30.0  # the writes hold their turn until released
    with ThreadPoolExecutor(3) as pool:
        appends = [pool.submit(client.post, f"/claims/{TROOPS}/events", json=_denial(n))
                   for n in range(3)]
        deadline = time.monotonic() + 10
        while overlap.now < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert overlap.now == 1  # one write has its turn, two wait
        read = client.get(f"/claims/{TROOPS}")
        assert read.status_code == 200
        assert not any(a.done() for a in appends)  # the read answered while they waited
        overlap.release.set()
        assert [a.result().status_code for a in appends] == [201] * 3


def test_the_setting_is_at_least_one() -> None:
    with pytest.raises(ValidationError, match="write_concurrency"):
        Settings(write_concurrency=0, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="at least 1"):
        Turns(0)
