"""Live feeds: the global log and a claim's credibility changes, read page by page from a
position, and the signal that wakes a follower when this process stores events.

A follower holds the position of the last event it has seen and asks for what comes after
it: catch-up and live are the same read, so a reconnect (or a restart of the server) from
that position neither skips nor repeats an event. Writes by other processes are not
signalled here; a follower also reads again after a pause (its poll).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ledger.application import ClaimsLedger
from ledger.errors import StoreUnavailable
from ledger.statements import STATEMENT_TYPES
from ledger.store import LedgerApplication

JSON = dict[str, Any]

#: The ``type`` of every record of the global log: a claim's events and the registry's.
LOG_TYPES = ("claim_registered", "source_registered", "source_rerated",
             *(str(kind) for kind in STATEMENT_TYPES))
PAGE = 100


class Changes:
    """Calls its listeners after every save of this process (from the writer's thread:
    a listener must only hand the news on, e.g. set an event)."""

    def __init__(self, store: LedgerApplication) -> None:
        self._listeners: set[Callable[[], None]] = set()
        self._lock = threading.Lock()
        store.on_saved.append(self._notify)

    def listen(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.add(listener)

    def forget(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


@dataclass(frozen=True)
class Message:
    """One message of a feed: its ``name`` (None: the default), its data, and ``id``, the
    position a subscriber resumes after (None: the next message's, of the same position)."""

    name: str | None
    data: JSON
    id: int | None


@dataclass(frozen=True)
class Page:
    """What a feed read: its messages, the position to read after next, and ``full``:
    more may be waiting."""

    messages: list[Message]
    last: int
    full: bool


@dataclass(frozen=True)
class LogFilter:
    """Which records of the global log a subscriber wants: all of those given must match."""

    claim: str | None = None
    source: str | None = None
    type: str | None = None

    def admits(self, record: JSON) -> bool:
        return (
            (self.claim is None or record.get("claim_id") == self.claim)
            and (self.source is None or record.get("source") == self.source)
            and (self.type is None or record["type"] == self.type)
        )


@dataclass(frozen=True)
class LogBatch:
    """The records after a position that a filter admits, and ``last``: the last position
    read (admitted or not), where the next read starts. ``full``: more may be waiting."""

    records: list[JSON]
    last: int
    full: bool


def log_after(ledger: ClaimsLedger, after: int, wanted: LogFilter, limit: int = PAGE) -> LogBatch:
    """One page of the global log after position ``after``, filtered."""
    page = ledger.global_log(after, limit)
    events: list[JSON] = page["events"]
    admitted = [record for record in events if wanted.admits(record)]
    return LogBatch(admitted, int(page["next"]), len(events) >= limit)


def log_feed(ledger: ClaimsLedger, after: int, wanted: LogFilter) -> Page:
    """The global log's feed: one message per record, its id the record's position."""
    batch = log_after(ledger, after, wanted)
    messages = [Message(None, record, record["position"]) for record in batch.records]
    return Page(messages, batch.last, batch.full)


def changes_after(ledger: ClaimsLedger, claim_id: str, after: int, limit: int = PAGE) -> list[JSON]:
    """The claim's credibility changes (audit entries: the event, before, after and the
    reason) recorded after position ``after``, at most ``limit``, each with its claim."""
    entries: list[JSON] = ledger.audit(claim_id, cursor=str(after), limit=limit)["entries"]
    return [{"claim_id": claim_id, **entry} for entry in entries]


def follow_log(
    ledger: ClaimsLedger,
    after: int,
    wanted: LogFilter,
    *,
    follow: bool,
    changes: Changes | None = None,
    poll: float = 1.0,
    stop: threading.Event | None = None,
) -> Iterator[JSON]:
    """The records after ``after`` that ``wanted`` admits; with ``follow``, then every one
    stored later, until ``stop`` is set (woken by this process's writes, which ``changes``
    signals, else every ``poll`` seconds: a ``stop`` set while it waits is seen then).
    While following, a store that cannot be reached
    is read again after a poll."""
    stop = stop or threading.Event()
    wake = threading.Event()
    if changes is not None:
        changes.listen(wake.set)
    try:
        while not stop.is_set():
            wake.clear()
            try:
                batch = log_after(ledger, after, wanted)
            except StoreUnavailable:
                if not follow:
                    raise
                stop.wait(poll)
                continue
            yield from batch.records
            after = batch.last
            if batch.full:
                continue
            if not follow or stop.is_set():
                return
            wake.wait(poll)
    finally:
        if changes is not None:
            changes.forget(wake.set)
