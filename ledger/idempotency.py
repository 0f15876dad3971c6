"""The idempotency protocol: a write runs once per key; a retry gets the original answer.

A write hands its ``(key, fingerprint)`` to the store, which records it in the same
transaction as the events (``ledger.persistence``), under a unique key. So a retry, from
this process or another sharing the store, finds the positions the first attempt wrote and
rebuilds the same answer from them; a different request under the same key is refused; and
a write that lost a race to another writer of the same aggregate is run again, after a
jittered pause that grows, within a time budget.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from eventsourcing.persistence import IntegrityError

from ledger.errors import Conflict, IdempotencyKeyReused
from ledger.persistence.chain import IdempotencyRecord, LedgerIndex

T = TypeVar("T")
#: How long a write keeps trying when writers elsewhere keep getting to its aggregate first.
RETRY_BUDGET = 10.0  # seconds
_FIRST_PAUSE, _LONGEST_PAUSE = 0.002, 0.25


def fingerprint(*parts: object) -> str:
    """A stable digest of a request, to tell a retry from a different request."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def fingerprint_items(kind: str, actor: str, items: Sequence[object]) -> str:
    """``fingerprint`` of a request of many items, digested one item at a time.

    One ``json.dumps`` of a 16 MiB batch holds the interpreter for half a second, and
    every other request (``/healthz`` too) waits; item by item, they take turns.
    """
    digest = hashlib.sha256(json.dumps([kind, actor], default=str).encode())
    for item in items:
        digest.update(
            hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).digest()
        )
    return digest.hexdigest()


@dataclass(frozen=True)
class Written(Generic[T]):
    """A write's answer, and whether it was replayed from an earlier write with the same key."""

    answer: T
    replayed: bool


def run_once(
    index: LedgerIndex,
    key: str | None,
    fingerprint_of: Callable[[], str],
    write: Callable[[tuple[str, str] | None], list[int]],
    result: Callable[[int, int], T],
) -> Written[T]:
    """Run ``write`` once per ``key``; a retry gets ``result`` of the original positions.

    ``fingerprint_of`` digests the request (called only when there is a key: a large
    batch's digest is not free). ``write`` takes the ``(key, digest)`` to store with its
    events (None without a key) and returns the positions it wrote; ``result`` builds the
    answer from the first and last.
    """
    digest = "" if key is None else fingerprint_of()
    if key is not None:
        found = index.find_idempotency(key)
        if found is not None:
            return Written(_replayed(found, digest, result), replayed=True)
    deadline, pause, attempts = time.monotonic() + RETRY_BUDGET, _FIRST_PAUSE, 0
    while True:
        try:
            positions = write(None if key is None else (key, digest))
            return Written(result(positions[0], positions[-1]), replayed=False)
        except IntegrityError:
            if key is not None:
                found = index.find_idempotency(key)
                if found is not None:
                    return Written(_replayed(found, digest, result), replayed=True)
            attempts += 1
            if time.monotonic() + pause > deadline:
                raise Conflict(
                    f"gave up after {attempts} attempts in {RETRY_BUDGET:g} s: other writers "
                    "kept changing the same claim or source; retry the request"
                ) from None
            # Jittered, growing pauses: writers that collided do not collide again in step.
            time.sleep(random.uniform(0, pause))
            pause = min(pause * 2, _LONGEST_PAUSE)


def _replayed(found: IdempotencyRecord, digest: str, result: Callable[[int, int], T]) -> T:
    if found.fingerprint != digest:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {found.key!r} was used for a different request; "
            "use a new key for a new request"
        )
    return result(found.first_position, found.last_position)
