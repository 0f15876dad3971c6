"""Group commit: concurrent writes share one durable transaction.

Each write's commit waits for the disk (SQLite syncs the log; PostgreSQL flushes its WAL),
so under concurrent appends that wait, not the work, is what limits the rate. Here the
first writer to arrive leads: it takes every write queued at that moment (writes to
different aggregates; a second write to the same aggregate waits for the next group),
stores all their events in one transaction, hands each writer its own positions, and
passes the lead to the next writer in the queue. A write is acknowledged only after the
transaction holding it committed, so acknowledged still means on disk.

If the group's transaction fails, every write in it fails with that error; the writes'
own retry (``ledger.idempotency``) runs each again, and a write whose request was already
stored finds it by its idempotency key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

#: Stores ``events`` in one transaction with each write's streams and idempotency entries,
#: answering the positions, in order.
Commit = Callable[
    [list[Any], list[tuple[str, str, UUID]], list[tuple[str, str, int, int]]], list[int]
]


@dataclass(eq=False)
class Write:
    """One writer's events, waiting for a group."""

    events: list[Any]
    streams: Sequence[tuple[str, str, UUID]]
    idempotency: tuple[str, str] | None
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # handed the lead rather than a result
    positions: list[int] | None = None
    error: BaseException | None = None

    @property
    def aggregates(self) -> set[UUID]:
        return {event.originator_id for event in self.events}


class GroupCommit:
    """Joins concurrent writes into shared transactions (leader and followers)."""

    def __init__(self, commit: Commit, max_events: int = 10_000) -> None:
        self._commit = commit
        self._max_events = max_events
        self._mutex = threading.Lock()
        self._queue: list[Write] = []
        self._leading = False
        self.groups = 0  # transactions made, for tests and metrics
        self.writes = 0

    def write(
        self,
        events: list[Any],
        streams: Sequence[tuple[str, str, UUID]] = (),
        idempotency: tuple[str, str] | None = None,
    ) -> list[int]:
        """Store ``events`` (with a group); answer their positions once durable."""
        mine = Write(events, streams, idempotency)
        with self._mutex:
            self._queue.append(mine)
            leader = not self._leading
            self._leading = True
        while not leader:
            mine.done.wait()
            if not mine.lead:
                break
            mine.lead, leader = False, True
            mine.done.clear()
        if leader:
            self._lead(mine)
        if mine.error is not None:
            raise mine.error
        assert mine.positions is not None
        return mine.positions

    def _lead(self, mine: Write) -> None:
        while mine.positions is None and mine.error is None:
            group = self._take()
            self._run(group)
        with self._mutex:
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
                successor.done.set()
            else:
                self._leading = False

    def _take(self) -> list[Write]:
        """The queued writes that can share a transaction, oldest first."""
        with self._mutex:
            group: list[Write] = []
            touched: set[UUID] = set()
            count = 0
            for write in self._queue:
                if write.aggregates & touched:
                    continue
                if group and count + len(write.events) > self._max_events:
                    break
                group.append(write)
                touched |= write.aggregates
                count += len(write.events)
            self._queue = [write for write in self._queue if write not in group]
            return group

    def _run(self, group: list[Write]) -> None:
        events: list[Any] = []
        streams: list[tuple[str, str, UUID]] = []
        keys: list[tuple[str, str, int, int]] = []
        for write in group:
            if write.idempotency is not None:
                key, digest = write.idempotency
                keys.append((key, digest, len(events), len(events) + len(write.events) - 1))
            events += write.events
            streams += write.streams
        try:
            positions = self._commit(events, streams, keys)
        except BaseException as error:
            for write in group:
                write.error = error
        else:
            start = 0
            for write in group:
                write.positions = positions[start : start + len(write.events)]
                start += len(write.events)
        self.groups += 1
        self.writes += len(group)
        for write in group:
            if write.lead is False:
                write.done.set()
