"""Group commit: writes queued behind a commit share the next transaction."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger.groupcommit import GroupCommit


@dataclass
class Event:
    originator_id: UUID


class Store:
    """A commit that can be held open, to line writes up behind it."""

    def __init__(self) -> None:
        self.transactions: list[list[Any]] = []
        self.keys: list[list[tuple[str, str, int, int]]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail = False

    def commit(self, events: list[Any], streams: list[Any], keys: list[Any]) -> list[int]:
        self.entered.set()
        self.gate.wait()
        if self.fail:
            raise RuntimeError("disk full")
        start = sum(len(t) for t in self.transactions)
        self.transactions.append(list(events))
        self.keys.append(list(keys))
        return list(range(start + 1, start + len(events) + 1))


def run(group: GroupCommit, writes: list[list[Event]], keys: list[Any] | None = None) -> list[Any]:
    results: list[Any] = [None] * len(writes)

    def one(i: int) -> None:
        try:
            results[i] = group.write(writes[i], (), None if keys is None else keys[i])
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(writes))]
    for thread in threads:
        thread.start()
        time.sleep(0.01)  # let each queue up (order only; nothing asserts on time)
    return [threads, results]


def test_writes_queued_behind_a_commit_share_the_next_one() -> None:
    store = Store()
    group = GroupCommit(store.commit)
    store.gate.clear()
    first = [Event(uuid4())]
    threads, results = run(group, [first] + [[Event(uuid4()), Event(uuid4())] for _ in range(5)],
                           keys=[("k0", "d0")] + [(f"k{i}", f"d{i}") for i in range(1, 6)])
    assert store.entered.wait(5)
    store.gate.set()
    for thread in threads:
        thread.join(5)
    assert [len(t) for t in store.transactions] == [1, 10]  # one alone, then five together
    assert results[0] == [1]
    assert [results[i] for i in range(1, 6)] == [[2 + 2 * i, 3 + 2 * i] for i in range(5)]
    # Each write's idempotency key names its own events within the shared transaction.
    assert store.keys[1] == [(f"k{i}", f"d{i}", 2 * (i - 1), 2 * (i - 1) + 1) for i in range(1, 6)]
    assert (group.groups, group.writes) == (2, 6)


def test_two_writes_to_one_aggregate_never_share_a_transaction() -> None:
    store = Store()
    group = GroupCommit(store.commit)
    store.gate.clear()
    claim = uuid4()
    threads, results = run(group, [[Event(uuid4())], [Event(claim)], [Event(claim)]])
    assert store.entered.wait(5)
    store.gate.set()
    for thread in threads:
        thread.join(5)
    assert [len(t) for t in store.transactions] == [1, 1, 1]
    assert sorted(r[0] for r in results) == [1, 2, 3]


def test_a_failed_transaction_fails_every_write_in_it() -> None:
    store = Store()
    group = GroupCommit(store.commit)
    store.gate.clear()
    threads, results = run(group, [[Event(uuid4())] for _ in range(4)])
    assert store.entered.wait(5)
    store.fail = True
    store.gate.set()
    for thread in threads:
        thread.join(5)
    assert all(isinstance(r, RuntimeError) for r in results)
    store.fail = False
    assert group.write([Event(uuid4())]) == [1]  # and the next write goes through


@pytest.mark.parametrize("writers", [16])
def test_concurrent_appends_are_each_stored_once(writers: int, tmp_path: Any) -> None:
    from ledger.bootstrap import open_ledger
    from ledger.config import Settings

    ledger = open_ledger(Settings(store=f"sqlite:///{tmp_path / 'l.sqlite3'}", _env_file=None))  # type: ignore[call-arg]
    try:
        ledger.register_source({"id": "s", "name": "S", "reliability": "B"}, "t")
        for i in range(writers):
            ledger.register_claim({"id": f"c{i}", "text": "C"}, "t")
        answers: list[dict[str, Any]] = []

        def writer(i: int) -> None:
            for n in range(10):
                body = {"type": "asserted", "source": "s", "occurred_at": "2024-01-01",
                        "summary": f"{i}/{n}"}
                answers.append(ledger.append(f"c{i % 4}", body, "t", key=f"{i}-{n}"))

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({a["position"] for a in answers}) == writers * 10
        assert sum(len(ledger.claim_events(f"c{i}", limit=1000)["events"]) for i in range(4)) == (
            writers * 10
        )
        assert ledger.verify()["ok"]
        assert ledger.store.group_commit.groups <= ledger.store.group_commit.writes
    finally:
        ledger.close()
