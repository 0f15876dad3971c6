"""The ``eventsourcing`` Application underneath the use cases, and how aggregates are loaded.

``LedgerApplication`` opens the store (``ledger.persistence``), saves, snapshots, and loads:

- for a write, the current aggregate (``claim_for_update``, ``source_for_update``);
- for a read, a claim or a source as recorded by ``known_at``: its version is found
  through the log side table, then ``repository.get(id, version=v)`` (the pattern of the
  library's ``searchabletimestamps`` example), each statement carrying where and when it
  was recorded (``claim_as_known``, ``source_as_known``, ``sources_cited``).

Library errors stop here: connection failures become ``StoreUnavailable`` (``store_errors``).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from copy import deepcopy
from dataclasses import replace
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, project_aggregate
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)

from ledger.caching import AggregateCache, Bounded, budget, text_bytes
from ledger.credibility.sources import Recorded, SourceData
from ledger.domain import Claim, Source, claim_uuid, source_uuid
from ledger.errors import (
    ClaimNotFound,
    Conflict,
    DamagedHistory,
    SourceNotFound,
    StoreFailed,
    StoreUnavailable,
)
from ledger.groupcommit import GroupCommit
from ledger.persistence.backends import backend_of
from ledger.persistence.chain import (
    MISMATCH,
    UNCHAINED,
    LedgerIndex,
    LogEntry,
    chain_link,
    stream_problem,
    uuid_hex,
)
from ledger.replay import ClaimData, RecordedStatement
from ledger.resolutions import Resolutions
from ledger.snapshots import CheckedSnapshots, guard_snapshots
from ledger.statements import Statement
from ledger.times import note_recorded

F = TypeVar("F", bound=Callable[..., Any])


def store_errors(method: F) -> F:
    """Run a use case so that no persistence error of the library leaves it: each becomes
    the ledger's error for it (the table is in ``ledger.errors``).

    - ``OperationalError``, ``InterfaceError``: ``StoreUnavailable`` (cannot be reached);
    - ``InternalError``: ``StoreUnavailable`` (the store failed on its side; transient);
    - ``IntegrityError``: ``Conflict``; a write retries it (``ledger.idempotency``), so
      one that gets here is a race the retries lost, or an import's;
    - any other ``PersistenceError`` (``DataError``, ``ProgrammingError``,
      ``NotSupportedError``, ``DatabaseError``): ``StoreFailed``, which a retry will not mend;
      unless the use case's store no longer answers a query (``_unreachable``): then it is
      ``StoreUnavailable``. A connection cut mid-statement can surface as one of these
      (psycopg: "the last operation didn't produce records" when PostgreSQL stopped under
      a ``LOCK TABLE``), and an outage is a 503 to retry, not a 500.

    The ledger's own errors pass through, so use cases may call each other.
    """

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            raise StoreUnavailable(f"the event store cannot be reached: {error}") from None
        except InternalError as error:
            raise StoreUnavailable(f"the event store failed on its side: {error}") from None
        except IntegrityError:
            raise Conflict(
                "other writers kept changing the same records; retry the request"
            ) from None
        except PersistenceError as error:
            if _unreachable(args[0] if args else None):
                raise StoreUnavailable(
                    f"the event store cannot be reached ({type(error).__name__}): {error}"
                ) from None
            raise StoreFailed(
                f"the event store refused the work ({type(error).__name__}): {error}"
            ) from error

    return cast(F, guarded)


def _unreachable(owner: object) -> bool:
    """Whether the store of a use case's owner (itself, its ``store``, its ledger's or its
    reads') cannot be reached now: one query, not through a use case (a use case failing
    would ask again), failing as an outage does. False when there is no store to ask."""
    store = _store_of(owner)
    if store is None:
        return False
    try:
        store.index.log_entries(0, 1)
    except (OperationalError, InterfaceError, InternalError, StoreUnavailable):
        return True
    except Exception:  # failing otherwise is not being out of reach
        return False
    return False


def _store_of(owner: object) -> LedgerApplication | None:
    for candidate in (
        owner,
        getattr(owner, "store", None),
        getattr(getattr(owner, "ledger", None), "store", None),
        getattr(getattr(owner, "reads", None), "store", None),
    ):
        if isinstance(candidate, LedgerApplication):
            return candidate
    return None


#: Sources whose registration this process has seen (ids only, so many are kept).
SOURCES_KEPT = 10_000

#: What the caches count a log row, a trusted stream and a source rating as (bytes,
#: measured with ``tracemalloc``; see ``ledger.caching``).
ROW_BYTES = 150
TRUSTED_BYTES = 120
COMPLETE_BYTES = 120


def _claim_bytes(data: ClaimData) -> int:
    """About what a claim as read holds in memory: ~600 bytes a statement beside its text."""
    return 400 + sum(
        600 + text_bytes(r.statement.quote, r.statement.summary, r.statement.note,
                         r.statement.reference, r.statement.basis)
        for r in data.records
    ) + text_bytes(data.text)


def _source_bytes(data: SourceData) -> int:
    return 600 + 400 * len(data.ratings) + text_bytes(data.name)


def _aggregate_bytes(aggregate: Any) -> int:
    """About what an aggregate holds: its records (a claim's statements, a source's
    ratings) as dicts, ~700 bytes each beside their text, measured as ``_claim_bytes``."""
    records = getattr(aggregate, "records", None) or getattr(aggregate, "ratings", None) or ()
    return 600 + 700 * len(records)


def _stream_bytes(log: StreamLog) -> int:
    return 200 + ROW_BYTES * len(log)


#: A recording time (microseconds) later than any real one: "as known now, whatever now is".
END_OF_TIME = 2**62


class LedgerApplication(Application[UUID]):
    """The library Application: the store, the repository, snapshots and the side tables."""

    name = "ClaimsLedger"
    log_section_size = 1000

    def __init__(self, env: Mapping[str, str] | None = None, snapshot_interval: int = 100) -> None:
        self.snapshotting_intervals = {Claim: snapshot_interval, Source: snapshot_interval}  # type: ignore[misc]
        #: Called after every save (the credibility projector wakes on it).
        self.on_saved: list[Callable[[], None]] = []
        self.group_commit = GroupCommit(self._commit)
        # Writers to one aggregate in this process take turns (striped locks), so they
        # never make each other retry; writers in other processes still can.
        self._stripes = [threading.Lock() for _ in range(1024)]
        self._versions_lock = threading.Lock()
        # The caches share the process's memory budget (``ledger.caching``), each bounded
        # by bytes, least recently used out first.
        self._sources_seen: Bounded[tuple[UUID, int], SourceData] = Bounded(
            budget("sources") // 2, _source_bytes
        )
        # Each source at the latest version read: an earlier version is a slice of it.
        self._sources_latest: Bounded[UUID, SourceData] = Bounded(
            budget("sources") // 2, _source_bytes
        )
        # position -> log row, of this process's latest writes
        self._written: Bounded[int, LogEntry] = Bounded(budget("written"), lambda _: ROW_BYTES)
        self._sources_registered: set[str] = set()
        # Each stream's log rows read or written here.
        self._streams: Bounded[UUID, StreamLog] = Bounded(budget("streams"), _stream_bytes)
        # The log positions this process wrote last, one after the other, and which
        # streams they wrote (``OwnTail``): a read as known by then of a stream none of
        # them wrote asks the database nothing.
        self._tail = OwnTail()
        # For some of them, a log position up to which what is kept is known to be all
        # there is (``stream_logs``): only rows after it need be asked for.
        self._streams_complete: Bounded[UUID, int] = Bounded(
            budget("streams") // 8, lambda _: COMPLETE_BYTES
        )
        # Each claim as read at its latest version seen, so a read at that version or an
        # earlier one is a slice of it.
        self._claims_seen: Bounded[UUID, ClaimData] = Bounded(budget("claims"), _claim_bytes)
        #: The claims resolved, and when the sources' track records changed, read from the
        #: log once and then from what is written since (``ledger.resolutions``).
        self.resolutions = Resolutions(self)
        # Streams whose stored events were checked against the chain, up to a version
        # (``trust``); what this process writes extends what it trusts.
        self._trusted: Bounded[UUID, int] = Bounded(
            budget("trusted") // 2, lambda _: TRUSTED_BYTES
        )
        try:
            super().__init__(env)
        except (OperationalError, InterfaceError) as error:
            raise StoreUnavailable(f"cannot open the event store: {error}") from None
        guard_snapshots(self)  # a snapshot is used only if it matches its events
        if self.repository.cache is not None:  # bounded by bytes, as the other caches
            self.repository.cache = AggregateCache(  # type: ignore[assignment]
                budget("aggregates"), _aggregate_bytes
            )

    @store_errors
    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the store answers a query (readiness)."""
        self.index.log_entries(0, 1)

    def index_log_table(self) -> str:
        """The qualified name of the log side table (SQL stores only)."""
        return str(self.recorder.index.log)  # type: ignore[attr-defined]

    @property
    def index(self) -> LedgerIndex:
        """The recorder's side tables (every ledger recorder implements ``LedgerIndex``)."""
        return cast(LedgerIndex, self.recorder)

    def exists(self, aggregate_id: UUID) -> bool:
        return self.index.version_at(aggregate_id, END_OF_TIME) is not None

    def aggregate(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        *,
        copy: bool = True,
        subject: str | None = None,
    ) -> Any:
        """The aggregate (at ``version``), from its snapshot and events.

        If it cannot be rebuilt because its stored events no longer match the log (an
        event row deleted, moved or unreadable: ``damage``), ``DamagedHistory`` names
        ``subject`` (``claim 'x'``; by default the stream) and the position ``verify``
        reports, instead of the library's error. The stream's stored events are checked
        against the chain first (``trust``), so bytes that do not hash to it are never
        served as the aggregate. A stream checked here for the first time was read whole
        for that; the aggregate is then folded from those events (at ``version``), not
        read again from a snapshot, whose own check would read them once more.
        """
        checked = self.trust(aggregate_id, subject)
        try:
            found: Any = None
            if checked:
                found = self._folded(aggregate_id, checked, version)
                cache = self.repository.cache
                if found is not None and version is None and cache is not None:
                    cache.put(aggregate_id, found)  # as the library's get would
                    if copy and self.repository.deepcopy_from_cache:
                        found = deepcopy(found)
            if found is None:
                found = self.repository.get(
                    aggregate_id, version=version, projector_func=_project,
                    deepcopy_from_cache=copy,
                )
        except (OperationalError, InterfaceError) as error:
            raise StoreUnavailable(f"the event store cannot be reached: {error}") from None
        except PersistenceError:
            raise
        except Exception as error:
            self._raise_damage(aggregate_id, subject, error)
            raise
        if version is not None and found.version != version:  # its last events are gone
            self._raise_damage(aggregate_id, subject, None)
        return found

    def _folded(self, aggregate_id: UUID, checked: list[StoredEvent], version: int | None) -> Any:
        """The aggregate folded from its ``checked`` stored events (to ``version``); the
        latest snapshot a read would use is judged against it on the way, so a snapshot
        that does not match is named (and never used) as when reads take it."""
        snapshots = self.snapshots if isinstance(self.snapshots, CheckedSnapshots) else None
        latest = snapshots.latest(aggregate_id, version) if snapshots is not None else None
        aggregate: Any = None
        for stored in checked:
            if version is not None and stored.originator_version > version:
                break
            event: Any = self.mapper.to_domain_event(stored)
            aggregate = event.mutate(aggregate)
            if (
                snapshots is not None and latest is not None
                and stored.originator_version == latest.originator_version
            ):
                snapshots.check(latest, aggregate)
        return aggregate

    def _raise_damage(self, aggregate_id: UUID, subject: str | None, error: Any) -> None:
        found = self.damage(aggregate_id)
        if found is not None:
            position, reason = found
            raise DamagedHistory(
                subject or f"the stream {aggregate_id.hex}", position, reason
            ) from error

    def trust(self, aggregate_id: UUID, subject: str | None = None) -> list[StoredEvent]:
        """Raise ``DamagedHistory`` unless every stored event of the stream hashes to its log
        row, and every log row of it has its event (``stream_problem``). Returns the stored
        events checked if that was the whole stream (its first check here), else ``[]``.

        Checked once per process and version: later calls check only the events stored
        since, unless the store saw a row of the stream deleted or changed (``touched``),
        when the whole stream is checked again. One hash per event: the cost of reading
        only bytes the chain vouches for. (A log hashed again from start to end passes:
        only a checkpoint shows that.)
        """
        touched = self.index.touched(aggregate_id)
        with self._versions_lock:
            trusted = 0 if touched else (self._trusted.get(aggregate_id) or 0)
        # Events first, then log rows: a writer stores both in one transaction, so a row
        # read after its event is never missing; events stored since are read below.
        stored = list(self.recorder.select_events(aggregate_id, gt=trusted))
        if not stored and trusted:
            return []
        rows = self.index.chained_rows(aggregate_id, trusted)
        last = stored[-1].originator_version if stored else trusted
        if rows and rows[-1].entry.originator_version > last:
            stored += self.recorder.select_events(
                aggregate_id, gt=last, lte=rows[-1].entry.originator_version
            )
        problem = stream_problem(stored, rows)
        if problem is not None:
            position = problem.position
            if position is None:
                position = self.index.position_of(aggregate_id, problem.version) or 0
            raise DamagedHistory(subject or f"the stream {aggregate_id.hex}", position,
                                 problem.reason)
        if stored and not touched:
            self._trust(aggregate_id, trusted, stored[-1].originator_version)
        return stored if trusted == 0 else []

    def _trust(self, aggregate_id: UUID, after: int, version: int) -> None:
        """Note the stream trusted up to ``version``, if it was up to ``after``."""
        with self._versions_lock:
            if (self._trusted.peek(aggregate_id) or 0) != after:
                return
            self._trusted.put(aggregate_id, version)

    def stored_at(self, entries: Sequence[LogEntry]) -> list[tuple[LogEntry, Any, Any]]:
        """The stored event of each log entry (in order), matched by position: ``(entry,
        notification, domain_event)``, or ``(entry, None, reason)`` where the event is
        missing, in another stream, unreadable or not the bytes its row's hash was made of,
        or where a stored event has no log row (an entry made up for its position).
        ``reason`` is in ``verify``'s words. The log is served and exported from this, so
        neither skips an event nor serves one the chain does not vouch for."""
        if not entries:
            return []
        # From just after the log row before the first: an event whose row is gone may
        # lie between.
        start, previous = self.index.row_before(entries[0].position)
        notifications = self.recorder.select_notifications(
            start=start + 1, limit=entries[-1].position - start, stop=entries[-1].position
        )
        by_position = {n.id: n for n in notifications}
        logged = {entry.position for entry in entries}
        found: list[tuple[LogEntry, Any, Any]] = []
        unchained = sorted(set(by_position) - logged, reverse=True)
        for entry in entries:
            if unchained and unchained[-1] < entry.position:
                # An event whose log row is gone: the log must not close over it.
                lost = by_position[unchained[-1]]
                found.append((
                    LogEntry(lost.id, uuid_hex(lost.originator_id), lost.originator_version,
                             entry.recorded_at, ""),
                    None, UNCHAINED,
                ))
                while unchained and unchained[-1] < entry.position:
                    unchained.pop()
            stored = by_position.get(entry.position)
            link, previous = previous, entry.hash
            if stored is None:
                found.append((entry, None, "the stored event is missing"))
            elif (stored.originator_id.hex if isinstance(stored.originator_id, UUID)
                  else UUID(str(stored.originator_id)).hex) != entry.originator_id:
                found.append((entry, None, "the event was moved to another stream"))
            elif stored.originator_version != entry.originator_version:
                found.append((entry, None, "the log gives the event another version of its stream"))
            elif chain_link(link, entry.position, stored, entry.recorded_at) != entry.hash:
                found.append((entry, None, MISMATCH))
            else:
                try:
                    found.append((entry, stored, self.mapper.to_domain_event(stored)))
                except Exception:
                    found.append((entry, None, "stored bytes do not match the hash chain"))
        return found

    def log_reaches(self, position: int) -> bool:
        """Whether the log still holds a row at ``position`` (what a projection that went
        that far has seen): False once its end was cut off behind the service's back."""
        if position <= 0:
            return True
        found = self.index.log_entries(position - 1, 1)
        return bool(found) and found[0].position == position

    def require_log_end(self, after: int) -> None:
        """Raise ``DamagedHistory`` if events are stored after the log's last row, at
        ``after``: rows invented, or log rows cut off. The end of the log must not hide
        them (an export would silently leave them out). The head is read before the log:
        a writer stores an event and its row together."""
        head = self.recorder.max_notification_id() or 0
        if head > after and not self.index.log_entries(after, 1):
            (lost,) = self.recorder.select_notifications(start=after + 1, limit=1)
            raise DamagedHistory(f"the log after position {after}", lost.id, UNCHAINED)

    def damage(self, aggregate_id: UUID) -> tuple[int, str] | None:
        """Where a stream's stored events fail the log, in ``verify``'s words: the first
        log row whose event is missing, else the first stored event that cannot be read;
        None if neither (the stream is as the log says)."""
        gap = self.index.gaps([aggregate_id], screened=False).get(aggregate_id.hex)
        if gap is not None:
            return gap, "the stored event is missing"
        positions = {e.originator_version: e.position for e in self.index.entries_for(aggregate_id)}
        for stored in self.recorder.select_events(aggregate_id):
            try:
                self.mapper.to_domain_event(stored)
            except Exception:
                position = positions.get(stored.originator_version)
                if position is not None:
                    return position, "stored bytes do not match the hash chain"
        return None

    def claim_for_update(
        self, claim_id: str, field: str = "claim_id", *, held: bool = False
    ) -> Claim:
        """The claim as it stands, to record statements on.

        ``held``: the caller holds ``writing()`` for it and calls ``discard()`` if its
        write fails; it then gets the cached aggregate itself rather than a copy (copying
        a long claim costs more than the rest of an append).
        """
        try:
            claim = self.aggregate(
                claim_uuid(claim_id), copy=not held, subject=f"claim {claim_id!r}"
            )
        except AggregateNotFoundError:
            raise ClaimNotFound(
                f"{field}: no claim {claim_id!r}; register the claim first"
            ) from None
        assert isinstance(claim, Claim)
        return claim

    def discard(self, *aggregate_ids: UUID) -> None:
        """Forget cached aggregates a failed write may have changed."""
        cache = self.repository.cache
        if cache is not None:
            for aggregate_id in aggregate_ids:
                with contextlib.suppress(KeyError):
                    cache.get(aggregate_id, evict=True)

    def source_for_update(self, source_id: str) -> Source:
        try:
            source = self.aggregate(source_uuid(source_id), subject=f"source {source_id!r}")
        except AggregateNotFoundError:
            raise SourceNotFound(f"no source {source_id!r}; register the source first") from None
        assert isinstance(source, Source)
        return source

    @contextlib.contextmanager
    def writing(self, *aggregate_ids: UUID) -> Iterator[None]:
        """Hold the write turn of these aggregates (taken in one order: no deadlock)."""
        stripes = sorted({aggregate_id.int % len(self._stripes) for aggregate_id in aggregate_ids})
        with contextlib.ExitStack() as held:
            for stripe in stripes:
                held.enter_context(self._stripes[stripe])
            yield

    def require_source(self, source_id: str) -> None:
        """Raise ``SourceNotFound`` unless the source is registered (once it is, it stays:
        a source found is remembered)."""
        if source_id in self._sources_registered:
            return
        if not self.exists(source_uuid(source_id)):
            raise SourceNotFound(f"no source {source_id!r}; register the source first")
        if len(self._sources_registered) < SOURCES_KEPT:
            self._sources_registered.add(source_id)

    def entry(self, position: int) -> LogEntry:
        """Where and when the event at ``position`` was recorded (a log row is never
        changed: one this process wrote lately is answered from memory)."""
        with self._versions_lock:
            found = self._written.peek(position)
        return found if found is not None else self.index.log_entries(position - 1, 1)[0]

    def save_all(
        self,
        *objs: Any,
        streams: Sequence[tuple[str, str, UUID]] = (),
        idempotency: tuple[str, str] | None = None,
    ) -> list[int]:
        """Save aggregates or events durably; returns the positions written.

        Concurrent saves share one transaction (``ledger.groupcommit``). ``streams``
        registers public ids, ``idempotency`` a (key, fingerprint), in the same
        transaction (see ``ledger.persistence``). The library's ``IntegrityError`` passes
        through: the idempotency protocol decides what it means.
        """
        events: list[Any] = []
        saved: list[tuple[Any, list[Any]]] = []
        for obj in objs:
            if hasattr(obj, "collect_events"):
                collected = obj.collect_events()
                saved.append((obj, collected))
                events += collected
            else:
                events.append(obj)
        positions = self.group_commit.write(events, streams, idempotency)
        for aggregate, collected in saved:  # as the library's save() snapshots
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval and any(e.originator_version % interval == 0 for e in collected):
                self.snapshot(aggregate)
        for callback in self.on_saved:
            callback()
        return positions

    def _commit(
        self,
        events: list[Any],
        streams: list[tuple[str, str, UUID]],
        idempotency: list[tuple[str, str, int, int]],
    ) -> list[int]:
        written: list[LogEntry] = []  # the SQL recorders' log rows (``SqlIndex.record``)
        # Straight to the recorder: the library's save() would test each object against
        # its event Protocol (a runtime-checkable isinstance, ~13 us an event on Python
        # 3.11, the most of any one step of a bulk load) only to find that these are all
        # events, and with no aggregates given, saving them is the event store's put:
        # each event through the mapper, then the recorder's insert, whose positions are
        # all that is kept of the recordings put makes of them.
        stored = [self.mapper.to_stored_event(event) for event in events]
        ids = self.recorder.insert_events(
            stored, streams=streams, idempotency=idempotency, written=written
        )
        positions = list(ids or ())
        assert len(positions) == len(stored) or not positions
        if written:
            note_recorded(written[-1].recorded_at)  # "now" never falls behind a write
        with self._versions_lock:
            for entry in written:
                self._written.put(entry.position, entry)
            if written:
                self._tail.note(written)
        self.resolutions.note_written(stored, written)
        by_stream: dict[str, list[LogEntry]] = {}
        for entry in written:
            by_stream.setdefault(entry.originator_id, []).append(entry)
        for oid, rows in by_stream.items():
            aggregate_id = UUID(oid)
            self._extend(aggregate_id, rows, only_after=True)
            # Its own writes hash to the chain by construction.
            self._trust(aggregate_id, rows[0].originator_version - 1, rows[-1].originator_version)
        return positions

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: Any = project_aggregate,
    ) -> None:
        """The library's snapshot, then the aggregate's older snapshots pruned."""
        super().take_snapshot(aggregate_id, version, projector_func)
        self.prune_snapshots(aggregate_id)

    def snapshot(self, *aggregates: Any) -> None:
        """Snapshot aggregates held in memory as saved, without loading them again: one
        write for them all, then their older snapshots pruned in one transaction."""
        assert self.snapshots is not None
        if not aggregates:
            return
        taken = []
        for aggregate in aggregates:
            snapshot_class: Any = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
            taken.append(snapshot_class.take(aggregate))
        self.snapshots.put(taken)
        self.prune_snapshots(*(aggregate.id for aggregate in aggregates))

    def prune_snapshots(self, *aggregate_ids: UUID) -> None:
        """Keep each aggregate's latest snapshot and those at interval x 2^k; delete the rest
        (one transaction for all of them).

        A snapshot holds the whole aggregate, so keeping one every ``interval`` events
        would make a long claim's snapshots grow with the square of its length; these
        grow with its length, and a read as known at any time still starts from a
        snapshot at least half way to the version it needs. Snapshots are derived data.
        """
        recorder: Any = getattr(self.snapshots, "recorder", None)
        backend = backend_of(recorder)
        if not backend.sql:  # the in-memory store keeps them all
            return
        datastore = recorder.datastore
        interval = min(self.snapshotting_intervals.values())
        keep = [interval * 2**k for k in range(48)]
        marks = ", ".join(str(v) for v in keep)
        table = backend.qualified(datastore, recorder.events_table_name)
        mark = backend.placeholder
        statement = (
            f"DELETE FROM {table} WHERE originator_id = {mark} AND originator_version < "
            f"(SELECT MAX(originator_version) FROM {table} WHERE originator_id = {mark}) "
            f"AND originator_version NOT IN ({marks})"
        )
        with datastore.transaction(commit=True) as cursor:
            for aggregate_id in aggregate_ids:
                oid = backend.uuid(aggregate_id)
                cursor.execute(statement, (oid, oid))

    def snapshot_crossed(
        self,
        aggregates: Iterable[Any],
        events: Iterable[Any],
        owed: dict[UUID, Any] | None = None,
    ) -> None:
        """Snapshot aggregates whose version crossed an interval in a multi-event save.

        ``save()`` snapshots aggregates by itself, but a batch saves events in request
        order rather than aggregates, so the interval is checked here instead, with the
        number of ``events`` each aggregate got.

        With ``owed`` (a bulk load's), the aggregate is put there instead, to be snapshot
        once, at the latest version the load gives it (``Importer.finish``). A batch's
        snapshot is at the version the batch leaves, rarely one kept for good (interval x
        2^k, see ``prune_snapshots``), so each was pruned by the next: a load kept only
        the latest anyway, and encoded a long claim whole at every interval to get it.
        """
        if self.snapshots is None:
            return
        written = Counter(event.originator_id for event in events)
        for aggregate in aggregates:
            interval = self.snapshotting_intervals.get(type(aggregate))
            count = written[aggregate.id]
            before = aggregate.version - count
            if not (count and interval and aggregate.version // interval > before // interval):
                continue
            if owed is None:
                self.snapshot(aggregate)
            else:
                owed[aggregate.id] = aggregate

    def versions(self, aggregate_id: UUID, needed: int | None = None) -> Mapping[int, LogEntry]:
        """The stream's log rows by version.

        Rows read before are kept in memory (``StreamLog``), so only those written since are
        read; with ``needed``, not even that if the rows up to that version are known.
        """
        with self._versions_lock:
            kept = self._streams.get(aggregate_id)
        if kept is not None and needed is not None and len(kept) >= needed:
            return kept
        newer = self.index.entries_for(aggregate_id, after_version=len(kept) if kept else 0)
        if not newer:
            return kept if kept is not None else {}
        extended = self._extend(aggregate_id, newer)
        if extended is not None:
            return extended
        # Versions missing from the log (it was tampered with): not kept, as it is.
        return {e.originator_version: e for e in self.index.entries_for(aggregate_id)}

    def _extend(
        self, aggregate_id: UUID, newer: list[LogEntry], only_after: bool = False
    ) -> StreamLog | None:
        """Keep a stream's rows read or written (``newer``, in version order), if they
        continue what is kept (from version 1 if nothing is); None if they do not.
        ``only_after``: only if the stream is kept (this process's own write)."""
        with self._versions_lock:
            kept = self._streams.get(aggregate_id)
            if kept is None and only_after:
                return None
            extended = (kept or StreamLog(newer[0].originator_id)).extended(newer)
            if extended is None:
                return None
            self._streams.put(aggregate_id, extended)
            return extended

    @store_errors
    def resolved_claims(self, known_at_us: int) -> list[str]:
        """The claims with a resolution recorded by ``known_at_us`` (``Resolutions.claims``)."""
        return self.resolutions.claims(known_at_us)

    @store_errors
    def records_revision(self, known_at_us: int) -> int:
        """When, by ``known_at_us``, the sources' track records last changed
        (``Resolutions.revision``)."""
        return self.resolutions.revision(known_at_us)

    def claim_as_known(self, claim_id: str, known_at_us: int) -> ClaimData:
        """The claim as recorded by ``known_at``, each record with its position and time."""
        uid = claim_uuid(claim_id)
        entries = self.versions(uid)
        version = _version_at(entries, known_at_us)
        if version is None:
            if entries:
                raise ClaimNotFound(f"claim {claim_id!r} was not yet recorded at known_at")
            raise ClaimNotFound(f"no claim {claim_id!r}")
        return self.claim_at_version(uid, version, entries, subject=f"claim {claim_id!r}")

    def claim_at_version(
        self,
        uid: UUID,
        version: int,
        entries: Mapping[int, LogEntry] | None = None,
        *,
        loaded: Claim | None = None,
        subject: str | None = None,
    ) -> ClaimData:
        """The claim stream ``uid`` at ``version``, each record with its position and time.

        ``loaded``: the claim already in memory at ``version`` or later (it is not loaded
        again; only its records up to ``version`` are read). A claim read before at
        ``version`` or later is not read again either: its first statements are these.
        """
        with self._versions_lock:
            seen = self._claims_seen.get(uid)
        if seen is not None and self.index.touched(uid):
            seen = None  # what was kept may no longer be what is stored
        if seen is not None and seen.version >= version:
            return replace(seen, version=version, records=seen.records[: version - 1])
        if loaded is not None and loaded.version >= version:
            claim = loaded
        else:
            claim = self.aggregate(uid, version=version, subject=subject)
        # A stream's first versions never change: what was kept of them is reused, and only
        # the records since are turned into statements (an append answers in O(new)).
        kept = seen.records if seen is not None else []
        records = claim.records[len(kept) : version - 1]  # a slice: other writers may append
        entries = entries if entries is not None else self.versions(uid, needed=version)
        data = ClaimData(
            claim_id=claim.claim_id,
            text=claim.text,
            tags=list(claim.tags),
            parties=list(claim.parties),
            beneficiaries=list(getattr(claim, "beneficiaries", [])),
            alleged_at=getattr(claim, "alleged_at", None),
            version=version,
            records=kept
            + [
                RecordedStatement(
                    Statement.from_payload(r, position=entries[r["version"]].position),
                    entries[r["version"]].recorded_at,
                )
                for r in records
            ],
        )
        self._keep_claim(uid, data)
        return replace(data, records=list(data.records))

    def _keep_claim(self, uid: UUID, data: ClaimData) -> None:
        """Keep ``data`` if it is the latest version of the claim read here."""
        with self._versions_lock:
            kept = self._claims_seen.peek(uid)
            if kept is not None and kept.version >= data.version:
                return
            self._claims_seen.put(uid, data)

    def source_as_known(
        self, source_id: str, known_at_us: int, entries: Mapping[int, LogEntry] | None = None
    ) -> SourceData | None:
        uid = source_uuid(source_id)
        entries = entries if entries is not None else self.versions(uid)
        version = _version_at(entries, known_at_us)
        if version is None:
            return None
        # A stream at a version never changes: keep what was read (sources are small, and
        # every answer about a claim reads each of its sources).
        key = (uid, version)
        with self._versions_lock:
            found = self._sources_seen.get(key)
            latest = self._sources_latest.get(uid)
        if found is not None:
            return found
        if (
            latest is not None
            and len(latest.ratings) >= version
            and latest.ratings[version - 1].record["version"] == version
        ):
            # Every event of a source adds one rating, its version's: the source at an
            # earlier version is the one kept with the ratings up to that version.
            data = replace(latest, ratings=latest.ratings[:version])
        else:
            source = self.aggregate(uid, version=version, subject=f"source {source_id!r}")
            data = SourceData(
                source_id=source.source_id,
                name=source.name,
                role=source.role,
                affiliation=source.affiliation,
                affiliations=tuple(source.affiliations),
                ratings=[
                    Recorded(r, entries[r["version"]].position, entries[r["version"]].recorded_at)
                    for r in source.ratings
                ],
            )
        with self._versions_lock:
            self._sources_seen.put(key, data)
            if latest is None or len(data.ratings) > len(latest.ratings):
                self._sources_latest.put(uid, data)
            else:
                self._sources_latest.get(uid)  # marked used
        return data

    def sources_cited(self, claim: ClaimData, known_at_us: int) -> dict[str, SourceData]:
        cited = sorted({r.statement.speaker for r in claim.records})
        logs = self.stream_logs([source_uuid(sid) for sid in cited], known_at_us)
        found = {}
        for sid in cited:
            data = self.source_as_known(sid, known_at_us, logs[source_uuid(sid)])
            if data is not None:
                found[sid] = data
        return found

    def stream_logs(
        self, uids: Sequence[UUID], known_at_us: int | None = None
    ) -> dict[UUID, Mapping[int, LogEntry]]:
        """Many streams' log rows by version, in one query for all of them.

        Streams kept here and known complete up to a log position are asked only for the
        rows after it (the least such position among them): a claim's read asks for each
        cited source's log, and sources change seldom. Positions are assigned in commit
        order, so every row at or below the log's head, read first, is in the answer.

        With ``known_at_us`` (the rows that matter are those recorded by then), streams
        known complete up to where this process's own writes began, which none of those
        writes touched, are answered as kept when ``known_at_us`` is no later than the last
        of those writes (an append's answer): nothing is asked of the database.
        """
        with self._versions_lock:
            kept = {uid: self._streams.get(uid) for uid in uids}
            complete = {uid: self._streams_complete.get(uid) for uid in uids}
            settled = known_at_us is not None and bool(uids) and all(
                kept[u] is not None and self._tail.settles(u, complete[u], known_at_us)
                for u in uids
            )
        if settled:
            return {u: cast(Mapping[int, LogEntry], kept[u]) for u in uids}
        head = int(self.recorder.max_notification_id() or 0)
        known = {u for u in uids if kept[u] is not None and complete[u] is not None}
        rows = self.index.entries_for_many([u for u in uids if u not in known])
        if known:
            since = min(complete[u] or 0 for u in known)
            if since < head:
                rows += self.index.entries_for_many(sorted(known), after_position=since)
        by_stream: dict[str, list[LogEntry]] = {}
        for entry in rows:
            by_stream.setdefault(entry.originator_id, []).append(entry)
        logs: dict[UUID, Mapping[int, LogEntry]] = {}
        for uid in uids:
            log: Mapping[int, LogEntry] | None = kept[uid]
            newer = [e for e in by_stream.get(uid.hex, []) if e.originator_version > len(log or ())]
            if newer:
                log = self._extend(uid, newer)
            if log is None and newer:
                # Versions missing from the log (it was tampered with): as it is, not kept.
                logs[uid] = {e.originator_version: e for e in self.index.entries_for(uid)}
                continue
            logs[uid] = log if log is not None else {}
            if log is not None:
                with self._versions_lock:
                    self._streams_complete.put(uid, head)
        return logs


def _version_at(entries: Mapping[int, LogEntry], known_at_us: int) -> int | None:
    """The stream's version as recorded by ``known_at`` (None: not yet recorded)."""
    if isinstance(entries, StreamLog):
        return entries.version_at(known_at_us)
    versions = [v for v, e in entries.items() if e.recorded_at <= known_at_us]
    return max(versions) if versions else None


class OwnTail:
    """The log's positions after ``start`` up to ``end``: all written by this process;
    ``streams`` holds the last of those positions in each stream written (UUID hex), and
    ``end`` was recorded at ``time`` (microseconds). Used under the store's lock."""

    #: Streams remembered at most; past it the tail starts again (it only forgets).
    MAX_STREAMS = 4096

    def __init__(self) -> None:
        self.start, self.end, self.time = 0, -1, 0
        self.streams: dict[str, int] = {}

    def note(self, written: Sequence[LogEntry]) -> None:
        """This process wrote ``written`` (consecutive positions): the tail grows if they
        follow its end, else starts again (another process wrote between)."""
        first, last = written[0], written[-1]
        if first.position != self.end + 1 or len(self.streams) > self.MAX_STREAMS:
            self.start = first.position - 1
            self.streams = {}
        for entry in written:
            self.streams[entry.originator_id] = entry.position
        self.end, self.time = last.position, last.recorded_at

    def settles(self, uid: UUID, complete: int | None, known_at_us: int) -> bool:
        """Whether a stream kept complete up to position ``complete`` is complete as known
        at ``known_at_us``: every later position up to ``end`` is this process's and none
        of them the stream's, and every position after ``end`` was recorded after
        ``known_at_us`` (recording times increase along the log)."""
        return (
            complete is not None and complete >= self.start and known_at_us <= self.time
            and self.streams.get(uid.hex, -1) <= complete
        )


class StreamLog(Mapping[int, LogEntry]):
    """A stream's log rows, versions 1 to n, in arrays: no Python object per row (a process
    keeps many, and every object the garbage collector tracks lengthens its full
    collections, which stop every request). Never changed: ``extended`` makes a copy."""

    __slots__ = ("hashes", "originator_id", "positions", "recorded")

    def __init__(
        self,
        originator_id: str,
        positions: array[int] | None = None,
        recorded: array[int] | None = None,
        hashes: tuple[str, ...] = (),
    ) -> None:
        self.originator_id = originator_id
        self.positions = positions if positions is not None else array("q")
        self.recorded = recorded if recorded is not None else array("q")
        self.hashes = hashes

    def __len__(self) -> int:
        return len(self.positions)

    def __iter__(self) -> Iterator[int]:
        return iter(range(1, len(self.positions) + 1))

    def __getitem__(self, version: int) -> LogEntry:
        if not 1 <= version <= len(self.positions):
            raise KeyError(version)
        i = version - 1
        return LogEntry(
            self.positions[i], self.originator_id, version, self.recorded[i], self.hashes[i]
        )

    def version_at(self, known_at_us: int) -> int | None:
        """The last version recorded by ``known_at`` (recording time grows with version)."""
        return bisect_right(self.recorded, known_at_us) or None

    def extended(self, rows: Sequence[LogEntry]) -> StreamLog | None:
        """A copy with ``rows`` after the last version; None unless they continue it."""
        first = len(self.positions) + 1
        if [r.originator_version for r in rows] != list(range(first, first + len(rows))):
            return None
        return StreamLog(
            self.originator_id,
            self.positions + array("q", [r.position for r in rows]),
            self.recorded + array("q", [r.recorded_at for r in rows]),
            self.hashes + tuple(r.hash for r in rows),
        )


def _project(aggregate: Any, domain_events: Iterable[Any]) -> Any:
    """The library's ``project_aggregate`` without its per-event assertion: an
    ``isinstance`` against a runtime-checkable ``typing.Protocol``, which costs more than
    applying the event (a quarter of the time to load a long claim)."""
    for domain_event in domain_events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate

