"""Snapshots are derived data: a snapshot is used only once it is known to match its events.

A snapshot holds a whole aggregate as it stood at one version, so a read can start from it
instead of replaying every event. It is not part of the hash chain (``ledger.integrity``):
a snapshot edited behind the service's back would be served as the claim. Two defences,
both resting on one rule (``snapshot_difference``): a snapshot is right when it equals the
aggregate its events rebuild up to its version.

- ``verify`` rebuilds every stored snapshot from its events and names the first that
  differs (``ledger.integrity``, through ``check_stream``);
- reads: ``guard_snapshots(app)`` puts ``CheckedSnapshots`` in front of the application's
  snapshot store. A snapshot this process wrote is trusted (the digest of its stored
  bytes is remembered); any other is checked against its events once, the first time it
  is read (starting from an older snapshot already trusted, so a process checks each
  aggregate's events about once), and remembered if it matches. One that does not match
  is ignored and logged: the read replays the events instead, so what is served is what
  the events say.

Attributes whose names start with ``_`` (other than the library's ``_created_on`` and
``_modified_on``) are caches an aggregate rebuilds when they are missing (``Claim``'s
index of its records): a snapshot taken before such a cache existed may lack it, but one
that holds it must hold what the events give.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import EventStore, Recording, StoredEvent

from ledger.caching import Bounded, budget

logger = logging.getLogger("claims_ledger.snapshots")

#: The library's own private attributes: part of the state, never a cache.
LIBRARY_STATE = frozenset({"_created_on", "_modified_on"})
#: What the cache of snapshots judged (``ledger.caching``) counts one as, in bytes.
JUDGED_BYTES = 120


def digest(stored: StoredEvent) -> bytes:
    """A digest of a stored snapshot: its stream, version, topic and bytes."""
    oid = stored.originator_id
    hexid = oid.hex if isinstance(oid, UUID) else UUID(str(oid)).hex
    state = stored.state if isinstance(stored.state, bytes) else str(stored.state).encode()
    header = f"{hexid}|{stored.originator_version}|{stored.topic}|".encode()
    return hashlib.sha256(header + state).digest()


def state_difference(snapshot: Mapping[str, Any], rebuilt: Mapping[str, Any]) -> str | None:
    """How a snapshot's state differs from the state its events give (None: it does not)."""
    for name in sorted(set(snapshot) | set(rebuilt)):
        if name not in snapshot:
            if name.startswith("_") and name not in LIBRARY_STATE:
                continue  # a cache the aggregate rebuilds when it is missing
            return f"it lacks {name!r}"
        if name not in rebuilt:
            return f"it holds {name!r}, which its events never set"
        if snapshot[name] != rebuilt[name]:
            return f"its {name!r} differs from what its events give"
    return None


def snapshot_difference(app: Application[UUID], stored: StoredEvent, aggregate: Any) -> str | None:
    """How the stored snapshot differs from ``aggregate`` rebuilt from events to its version
    (None: it does not); see ``judged_snapshot``."""
    return judged_snapshot(app, stored, aggregate)[1]


def judged_snapshot(
    app: Application[UUID], stored: StoredEvent, aggregate: Any
) -> tuple[Any | None, str | None]:
    """The stored snapshot decoded, and how it differs from ``aggregate`` rebuilt from
    events to its version (None: it does not).

    First the decoded state is compared with the state ``aggregate`` gives as it is; only
    if they differ are both compared as the store would hold them (the rebuilt aggregate's
    snapshot through the application's mapper and back), so types the transcoder changes
    (a tuple read back as a list) do not count as a difference.
    """
    try:
        snapshot: Any = app.mapper.to_domain_event(stored)
        state, topic = snapshot.state, snapshot.topic
        if not isinstance(state, Mapping):
            return None, "its state is not an aggregate's"
    except Exception as error:  # a tampered snapshot may not even decode
        return None, f"it cannot be read ({type(error).__name__})"
    if aggregate is None or aggregate.version != stored.originator_version:
        have = 0 if aggregate is None else aggregate.version
        return snapshot, f"its stream has {have} events, not {stored.originator_version}"
    snapshot_class: Any = getattr(type(aggregate), "Snapshot", None)
    if snapshot_class is None:
        return snapshot, "its aggregate takes no snapshots"
    taken: Any = snapshot_class.take(aggregate)
    try:
        if topic == taken.topic and state == taken.state:
            return snapshot, None  # equal as they are: no need to go through the mapper
    except Exception:  # values that cannot even be compared: the careful way says why
        pass
    rebuilt: Any = app.mapper.to_domain_event(app.mapper.to_stored_event(taken))
    if topic != rebuilt.topic:
        return snapshot, f"it is of {topic!r}, its events make a {rebuilt.topic!r}"
    try:
        # An older version of the aggregate class stored it: compare it as it is read.
        state = upcast_state(snapshot)
    except Exception as error:  # a tampered state the class's upcasting cannot read
        return snapshot, f"it cannot be read ({type(error).__name__})"
    try:
        return snapshot, state_difference(state, upcast_state(rebuilt))
    except Exception as error:  # values that cannot even be compared
        return snapshot, f"its state cannot be compared ({type(error).__name__})"


#: What ``Snapshot.mutate`` sets beside the stored state (compared apart: the version).
_PLACED = frozenset({"_id", "_version", "_pending_events"})


def upcast_state(snapshot: Any) -> dict[str, Any]:
    """A snapshot's state as today's aggregate class reads it: upcast by the library
    (``class_version``, ``upcast_vX_vY``) from the version of the class that took it."""
    return {k: v for k, v in vars(snapshot.mutate(None)).items() if k not in _PLACED}


@dataclass(frozen=True)
class SnapshotProblem:
    """A stored snapshot that does not match its events."""

    originator_id: UUID
    version: int
    name: str | None  # the aggregate's public id, when its events give one
    reason: str


def check_stream(app: Application[UUID], originator_id: UUID) -> SnapshotProblem | None:
    """Check every stored snapshot of one stream against its events (replayed once)."""
    assert app.snapshots is not None
    stored = sorted(
        app.snapshots.recorder.select_events(originator_id),
        key=lambda s: s.originator_version,
    )
    if not stored:
        return None
    aggregate: Any = None
    events: Iterator[Any] = app.events.get(originator_id, lte=stored[-1].originator_version)
    pending = iter(stored)
    snapshot: StoredEvent | None = next(pending)
    for event in events:
        aggregate = event.mutate(aggregate)  # project_aggregate, without its protocol check
        while snapshot is not None and snapshot.originator_version == aggregate.version:
            reason = snapshot_difference(app, snapshot, aggregate)
            if reason is not None:
                return SnapshotProblem(
                    originator_id, snapshot.originator_version, _public_id(aggregate), reason
                )
            snapshot = next(pending, None)
        if snapshot is None:
            return None
    assert snapshot is not None
    reason = snapshot_difference(app, snapshot, aggregate)
    return SnapshotProblem(
        originator_id, snapshot.originator_version, _public_id(aggregate), reason or "unmatched"
    )


def _public_id(aggregate: Any) -> str | None:
    for name in ("claim_id", "source_id"):
        value = getattr(aggregate, name, None)
        if isinstance(value, str):
            return value
    return None


class CheckedSnapshots(EventStore[UUID]):
    """The snapshot store as reads see it: a snapshot that does not match its events is
    never used (see the module's docstring). Writes pass through and are trusted."""

    def __init__(self, app: Application[UUID], snapshots: EventStore[UUID]) -> None:
        super().__init__(snapshots.mapper, snapshots.recorder)
        self.app = app
        #: How many stored snapshots reads refused, since the process started.
        self.refused = 0
        #: Digests of the snapshots judged so far: True if trusted, False if refused.
        self._judged: Bounded[bytes, bool] = Bounded(
            budget("trusted") // 2, lambda _: JUDGED_BYTES
        )
        self._lock = threading.Lock()

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        stored = [self.mapper.to_stored_event(e) for e in domain_events]
        self.recorder.insert_events(stored, **kwargs)
        for s in stored:
            self._judge(digest(s), True)
        return []

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[Any]:
        """The snapshots asked for, without those that do not match their events; asked
        for the latest (``desc``, ``limit``), a refused one gives way to an older one."""
        found: list[Any] = []
        upper = lte
        while True:
            batch = self.recorder.select_events(
                originator_id, gt=gt, lte=upper, desc=desc, limit=limit
            )
            refused = False
            for stored in batch:
                snapshot = self._checked(stored)
                if snapshot is None:
                    refused = True
                else:
                    found.append(snapshot)
            if not (refused and desc and limit is not None and len(found) < limit):
                break
            upper = min(s.originator_version for s in batch) - 1
        return iter(found[:limit] if limit is not None else found)

    def latest(self, originator_id: UUID, version: int | None = None) -> StoredEvent | None:
        """The stream's latest stored snapshot (at ``version`` or before), unchecked."""
        found = self.recorder.select_events(originator_id, lte=version, desc=True, limit=1)
        return found[0] if found else None

    def check(self, stored: StoredEvent, aggregate: Any) -> None:
        """Judge the snapshot against ``aggregate``, folded from its checked events to the
        snapshot's version, unless it was judged before (a refusal is counted and logged
        once, as reads do)."""
        if self._judged.get(digest(stored)) is None:
            self._checked(stored, aggregate)

    def _checked(self, stored: StoredEvent, folded: Any = None) -> Any | None:
        """The snapshot, decoded, if it matches its events; else None (logged once).
        ``folded``: the aggregate at the snapshot's version, if the caller has it."""
        key = digest(stored)
        judged = self._judged.get(key)
        if judged is None:
            oid = UUID(str(stored.originator_id))
            aggregate = (
                folded if folded is not None else self._rebuild(oid, stored.originator_version)
            )
            snapshot, reason = judged_snapshot(self.app, stored, aggregate)
            judged = reason is None
            if reason is not None:
                with self._lock:
                    self.refused += 1
                logger.warning(
                    "snapshot of stream %s at version %d ignored: %s; its events are read "
                    "instead (run `claims-ledger verify`)",
                    oid, stored.originator_version, reason,
                )
            self._judge(key, judged)
            return snapshot if judged else None  # decoded once, by the check
        return self.mapper.to_domain_event(stored) if judged else None

    def _rebuild(self, originator_id: UUID, version: int) -> Any:
        """The aggregate at ``version`` from its events, starting from an older snapshot
        that is itself checked (so each is checked from the one before it)."""
        older = list(self.get(originator_id, lte=version - 1, desc=True, limit=1))
        aggregate: Any = older[0].mutate(None) if older else None
        start = older[0].originator_version if older else None
        events: Iterator[Any] = self.app.events.get(originator_id, gt=start, lte=version)
        for event in events:
            aggregate = event.mutate(aggregate)
        return aggregate

    def _judge(self, key: bytes, trusted: bool) -> None:
        self._judged.put(key, trusted)


def guard_snapshots(app: Application[UUID]) -> None:
    """Put ``CheckedSnapshots`` in front of ``app``'s snapshot store, for its repository
    and its own snapshot writes (a no-op without snapshots, or when already done)."""
    if app.snapshots is None or isinstance(app.snapshots, CheckedSnapshots):
        return
    checked = CheckedSnapshots(app, app.snapshots)
    app.snapshots = checked
    app.repository.snapshot_store = checked
