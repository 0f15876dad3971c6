"""Integrity: recompute the hash chain over every stored event, check the side tables and the
snapshots against it, and name the first bad position.

The side table ``<events>_log`` links every stored event to its predecessor by SHA-256
(``ledger.persistence.chain``); any byte of an event, its time, its place or its stream
changed behind the service's back breaks the link at that position. What is not in the
chain is checked against it:

- ``<events>_streams`` (where each claim and source starts, read by lists and "as known
  at" lookups): every row must name the stream its kind and public id give, and the
  position and recording time of that stream's first event in the chained log; every
  claim and source in the log must have its row;
- snapshots (what reads start from): each must equal the aggregate its events rebuild up
  to its version (``ledger.snapshots``).

``verify_chain`` answers ``{ok, checked, head, first_bad_position, reason}``; the reason of
a side table's or a snapshot's problem starts with "the streams table" or "the snapshot"
(``failed_part`` tells which). ``audit`` also gives the chain hash recomputed at chosen
positions, which ``ledger.checkpoints`` compares with signed checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from eventsourcing.popo import POPOAggregateRecorder
from eventsourcing.utils import get_topic

from ledger.answers import JSON
from ledger.domain import Claim, Source, claim_uuid, source_uuid
from ledger.persistence.backends import backend_of
from ledger.persistence.chain import GENESIS, LogEntry, chain_link, uuid_hex
from ledger.persistence.memory import POPOLedgerRecorder
from ledger.persistence.sql import IndexReads
from ledger.snapshots import SnapshotProblem, check_stream
from ledger.store import LedgerApplication, store_errors
from ledger.times import format_instant, from_micros

STREAMS_TABLE = "the streams table"
SNAPSHOT = "the snapshot"

#: The public id of each kind of stream the streams table registers, and the topic of
#: the event that starts such a stream.
STREAM_KINDS: dict[str, Callable[[str], UUID]] = {"claim": claim_uuid, "source": source_uuid}
KIND_OF_TOPIC = {
    f"{get_topic(Claim)}.Registered": "claim",
    f"{get_topic(Source)}.Registered": "source",
}


@dataclass
class ChainWalk:
    """What recomputing the chain found."""

    checked: int = 0
    head: str = GENESIS  # the last hash recomputed and found stored
    last_position: int = 0  # the position of that hash (0: none)
    broken_at: int | None = None
    reason: str | None = None
    #: The recomputed hash at each position asked for (up to a break).
    hashes: dict[int, str] = field(default_factory=dict)
    #: Each stream's first event: UUID hex -> (position, recorded_at, topic).
    first_entries: dict[str, tuple[int, int, str]] = field(default_factory=dict)


@dataclass
class Audit:
    """``verify``'s answer, and the chain walk it rests on."""

    report: JSON
    walk: ChainWalk


@store_errors
def verify_chain(store: LedgerApplication, page_size: int = 1000) -> JSON:
    """Recompute the hash chain, then check the streams table and the snapshots against it;
    name the first bad position."""
    return audit(store, page_size).report


@store_errors
def audit(
    store: LedgerApplication, page_size: int = 1000, marks: Collection[int] = ()
) -> Audit:
    """``verify``, keeping the recomputed chain hash at each position of ``marks``."""
    walk = walk_chain(store, page_size, marks=marks, first_entries=True)
    if walk.broken_at is not None:
        return Audit(_broken(walk.broken_at, walk.checked, walk.reason), walk)
    problem = check_streams(store, walk, page_size) or check_snapshots(store, page_size)
    if problem is not None:
        position, reason = problem
        return Audit(_broken(position, walk.checked, reason), walk)
    report = {
        "ok": True,
        "checked": walk.checked,
        "head": walk.head,
        "first_bad_position": None,
        "reason": None,
    }
    return Audit(report, walk)


def failed_part(report: JSON) -> Literal["log", "streams", "snapshots"] | None:
    """Which part ``verify`` found bad: the chained log, the streams table or a snapshot."""
    if report["ok"]:
        return None
    reason = str(report["reason"])
    if reason.startswith(STREAMS_TABLE):
        return "streams"
    if reason.startswith(SNAPSHOT):
        return "snapshots"
    return "log"


@store_errors
def walk_chain(
    store: LedgerApplication,
    page_size: int = 1000,
    *,
    after: int = 0,
    previous: str = GENESIS,
    marks: Collection[int] = (),
    first_entries: bool = False,
) -> ChainWalk:
    """Recompute the chain from the entry after ``after`` (whose hash is ``previous``) to
    the end of the log; stop at the first position whose stored hash, place, stream or
    bytes do not match what is recomputed."""
    walk = ChainWalk(head=previous, last_position=after)
    if after in marks:
        walk.hashes[after] = previous
    while True:
        entries = store.index.log_entries(after, page_size)
        notifications = store.recorder.select_notifications(start=after + 1, limit=page_size)
        if not entries and not notifications:
            return walk
        by_position = {n.id: n for n in notifications}
        # Stored events without a log row, in order: the first one before an entry is the
        # first bad position (a deleted log row, not the entry whose link it breaks).
        unchained = sorted(set(by_position) - {e.position for e in entries})
        for entry in entries:
            if unchained and unchained[0] < entry.position:
                return _stop(walk, unchained[0], "an event is not in the hash chain")
            stored = by_position.get(entry.position)
            reason = None
            if stored is None:
                reason = "the stored event is missing"
            elif uuid_hex(stored.originator_id) != entry.originator_id:
                reason = "the event was moved to another stream"
            elif stored.originator_version != entry.originator_version:
                reason = "the log gives the event another version of its stream"
            if reason is not None:
                return _stop(walk, entry.position, reason)
            assert stored is not None
            expected = chain_link(walk.head, entry.position, stored, entry.recorded_at)
            if expected != entry.hash:
                return _stop(walk, entry.position, "stored bytes do not match the hash chain")
            walk.head, walk.last_position = expected, entry.position
            walk.checked += 1
            if entry.position in marks:
                walk.hashes[entry.position] = expected
            if first_entries and entry.originator_id not in walk.first_entries:
                walk.first_entries[entry.originator_id] = (
                    entry.position, entry.recorded_at, stored.topic
                )
        extra = set(by_position) - {e.position for e in entries}
        if extra:
            return _stop(walk, min(extra), "an event is not in the hash chain")
        after = max([after, *by_position, *(e.position for e in entries)])


def _stop(walk: ChainWalk, position: int, reason: str) -> ChainWalk:
    walk.broken_at, walk.reason = position, reason
    return walk


def _broken(position: int, checked: int, reason: str | None) -> JSON:
    return {
        "ok": False,
        "checked": checked,
        "head": None,
        "first_bad_position": position,
        "reason": reason,
    }


# The streams table.


@dataclass(frozen=True)
class StreamRow:
    kind: str
    public_id: str
    originator_id: str  # UUID hex
    position: int
    recorded_at: int


def check_streams(
    store: LedgerApplication, walk: ChainWalk, page_size: int = 1000
) -> tuple[int, str] | None:
    """The first problem of the streams table (by position): a row that does not match the
    first event of its stream in the chained log, or a claim or source without a row."""
    worst: tuple[int, str] | None = None

    def found(position: int, reason: str) -> None:
        nonlocal worst
        if worst is None or position < worst[0]:
            worst = (position, f"{STREAMS_TABLE}'s {reason}")

    covered: set[str] = set()
    for row in stream_rows(store, page_size):
        what = f"{row.kind} {row.public_id!r}"
        derive = STREAM_KINDS.get(row.kind)
        if derive is None:
            found(row.position, f"row for {what} is of no kind the ledger has")
            continue
        expected = derive(row.public_id).hex
        first = walk.first_entries.get(expected)
        if row.originator_id != expected:
            found(
                first[0] if first else row.position,
                f"row for {what} names stream {row.originator_id}, not its own ({expected})",
            )
            continue
        covered.add(expected)
        if first is None:
            # A stream registered after the walk ended (a live store) is compared with the
            # log as it is now.
            entries = store.index.entries_for(derive(row.public_id))
            if entries and entries[0].position > walk.last_position:
                first = (entries[0].position, entries[0].recorded_at, _topic(store, entries[0]))
        if first is None:
            found(row.position, f"row for {what} names a stream without events in the log")
        elif KIND_OF_TOPIC.get(first[2]) != row.kind:
            found(first[0], f"row for {what} names a stream that does not start as a {row.kind}")
        elif row.position != first[0]:
            found(
                first[0],
                f"row for {what} says it starts at position {row.position}; "
                f"its first event is at position {first[0]}",
            )
        elif row.recorded_at != first[1]:
            found(
                first[0],
                f"row for {what} says it was recorded at {_time(row.recorded_at)}; its first "
                f"event was recorded at {_time(first[1])}",
            )
    missing = [
        (position, oid, KIND_OF_TOPIC[topic])
        for oid, (position, _, topic) in walk.first_entries.items()
        if topic in KIND_OF_TOPIC and oid not in covered
    ]
    if missing:
        position, _, kind = min(missing)
        found(position, f"row for the {kind} {_named(store, position, kind)} is missing")
    return worst


def stream_rows(store: LedgerApplication, page_size: int = 1000) -> Iterator[StreamRow]:
    """Every row of the streams table, in (kind, public id) order."""
    recorder: Any = store.recorder
    if isinstance(recorder, POPOLedgerRecorder):
        with recorder._database_lock:
            rows = sorted(recorder.streams.items())
        for (kind, public), (position, recorded_at) in rows:
            derive = STREAM_KINDS.get(kind)
            oid = derive(public).hex if derive else ""
            yield StreamRow(kind, public, oid, position, recorded_at)
        return
    if not isinstance(recorder, IndexReads):
        return
    index = recorder.index
    columns = f"SELECT kind, public_id, originator_id, position, recorded_at FROM {index.streams}"
    last: tuple[str, str] | None = None
    while True:
        with recorder.reading() as cursor:
            if last is None:
                cursor.execute(
                    index.sql(f"{columns} ORDER BY kind, public_id LIMIT ?"), (page_size,)
                )
            else:
                cursor.execute(
                    index.sql(
                        f"{columns} WHERE kind > ? OR (kind = ? AND public_id > ?) "
                        "ORDER BY kind, public_id LIMIT ?"
                    ),
                    (last[0], last[0], last[1], page_size),
                )
            rows = cursor.fetchall()
        if not rows:
            return
        for row in rows:
            yield StreamRow(
                str(row["kind"]),
                str(row["public_id"]),
                str(row["originator_id"]),
                int(row["position"]),
                int(row["recorded_at"]),
            )
        last = (str(rows[-1]["kind"]), str(rows[-1]["public_id"]))


def _topic(store: LedgerApplication, entry: LogEntry) -> str:
    """The topic of the stored event a log entry stands for ("" if it is not there)."""
    found = store.recorder.select_notifications(start=entry.position, limit=1)
    return found[0].topic if found and found[0].id == entry.position else ""


def _named(store: LedgerApplication, position: int, kind: str) -> str:
    """The public id that the event at ``position`` registers, quoted, if it can be read."""
    try:
        (notification,) = store.recorder.select_notifications(start=position, limit=1)
        value = getattr(store.mapper.to_domain_event(notification), f"{kind}_id", None)
    except Exception:  # naming is best effort: the position is what counts
        value = None
    return repr(value) if isinstance(value, str) else f"registered at position {position}"


def _time(micros: int) -> str:
    try:
        return format_instant(from_micros(micros))
    except (OverflowError, ValueError):
        return f"{micros} µs"


# Snapshots.


def check_snapshots(store: LedgerApplication, page_size: int = 1000) -> tuple[int, str] | None:
    """The first stored snapshot (by position) that does not match its events."""
    worst: tuple[int, str] | None = None
    for originator_id in snapshot_streams(store, page_size):
        problem = check_stream(store, originator_id)
        if problem is None:
            continue
        position = _position_of(store, problem)
        if worst is None or position < worst[0]:
            worst = (position, _snapshot_reason(problem))
    return worst


def _snapshot_reason(problem: SnapshotProblem) -> str:
    if problem.name is not None:
        what = f"{SNAPSHOT} of {problem.name!r}"
    else:
        what = f"{SNAPSHOT} of stream {problem.originator_id.hex}"
    return f"{what} at version {problem.version} does not match its events: {problem.reason}"


def _position_of(store: LedgerApplication, problem: SnapshotProblem) -> int:
    """The log position of the event a snapshot stands at (else its stream's last)."""
    entries = store.index.entries_for(problem.originator_id)
    at = [e.position for e in entries if e.originator_version == problem.version]
    if at:
        return at[0]
    return entries[-1].position if entries else 0


def snapshot_streams(store: LedgerApplication, page_size: int = 1000) -> Iterator[UUID]:
    """The id of every stream that has a stored snapshot."""
    snapshots = store.snapshots
    if snapshots is None:
        return
    recorder: Any = snapshots.recorder
    if isinstance(recorder, POPOAggregateRecorder):
        with recorder._database_lock:
            ids = sorted(oid for oid, versions in recorder._stored_events_index.items() if versions)
        yield from (UUID(oid) for oid in ids)
        return
    backend = backend_of(recorder)
    if not backend.sql:
        return
    datastore = recorder.datastore
    table = backend.qualified(datastore, recorder.events_table_name)
    mark = backend.placeholder
    select = f"SELECT DISTINCT originator_id AS oid FROM {table}"
    after: Any = None
    while True:
        with datastore.transaction(commit=False) as cursor:
            if after is None:
                cursor.execute(f"{select} ORDER BY originator_id LIMIT {int(page_size)}")
            else:
                cursor.execute(
                    f"{select} WHERE originator_id > {mark} ORDER BY originator_id "
                    f"LIMIT {int(page_size)}",
                    (after,),
                )
            rows = cursor.fetchall()
        if not rows:
            return
        for row in rows:
            yield UUID(str(row["oid"]))
        after = rows[-1]["oid"]
