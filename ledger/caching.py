"""One bounded cache for what the ledger keeps in memory between reads.

``Bounded`` is a least-recently-used map bounded by the total size of its values: an
estimate of their bytes (``size``), so every cache of the process together stays within
the memory budget (``CLAIMS_LEDGER_CACHE_MB``; ``budget`` splits it). The eviction order
and the accounting are cachetools' ``LRUCache``; this adds a lock (readers run in threads),
a call for each value evicted (``evicted``), and one value larger than the whole bound
kept beside it, so the latest claim read is never read twice in a row however large.

The estimates are deliberately coarse (measured with ``tracemalloc`` on synthetic
ledgers of 256-byte records; ``tests/ledger/test_caching.py`` holds them within a factor
of two of what Python allocates).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

from cachetools import Cache, LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: The budget of every cache in a process, in MiB, unless configured.
DEFAULT_CACHE_MB = 64

#: Each cache's share of the budget.
SHARES = {
    "claims": 0.33,  # claims as read (statements), LedgerApplication
    "aggregates": 0.15,  # the library's aggregates, as appends load them (AggregateCache)
    "streams": 0.12,  # streams' log rows, LedgerApplication
    "sources": 0.05,  # sources as read at a version
    "records": 0.10,  # what resolved claims add to the track records (replay)
    "written": 0.02,  # log rows this process wrote
    "trusted": 0.03,  # streams checked against the chain, snapshots judged
    "projector": 0.20,  # claims the projector keeps between events
}

_budget_mb = DEFAULT_CACHE_MB
#: Called with ``budget`` when the budget changes: process-wide caches made anew.
_listeners: list[Callable[[Callable[[str], int]], None]] = []


def configure(cache_mb: int) -> None:
    """Set the process's memory budget for caches (MiB): caches made after use it, and
    the process-wide ones (``on_configure``) are made anew with it."""
    global _budget_mb
    if cache_mb < 1:
        raise ValueError("the cache budget is at least 1 MiB")
    if cache_mb != _budget_mb:
        _budget_mb = cache_mb
        for listener in _listeners:
            listener(budget)


def configured_mb() -> int:
    """The process's memory budget for caches (MiB), as ``configure`` set it."""
    return _budget_mb


def on_configure(listener: Callable[[Callable[[str], int]], None]) -> None:
    """Call ``listener`` with ``budget`` whenever the budget changes."""
    _listeners.append(listener)


def budget(name: str) -> int:
    """The bytes cache ``name`` may hold: its share of the process's budget."""
    return max(1, int(_budget_mb * 1024 * 1024 * SHARES[name]))


def text_bytes(*texts: object) -> int:
    """About what strings take in memory: the object's header and one byte a character
    (most of the ledger's text is ASCII); anything else counts as a small object."""
    return sum(
        49 + len(text) if isinstance(text, str) else sys.getsizeof(text) if text else 0
        for text in texts
    )


class Bounded(Generic[K, V]):
    """A least-recently-used map whose values' sizes (``size``) sum to at most ``limit``.

    ``get`` marks a value used; ``put`` adds or replaces one, evicting the least recently
    used (``evicted`` is called with each); ``pop`` and ``clear`` drop values without
    calling it. Safe to share between threads.
    """

    def __init__(
        self,
        limit: int,
        size: Callable[[V], int] | None = None,
        evicted: Callable[[K, V], None] | None = None,
    ) -> None:
        self._evicted = evicted
        self._lock = threading.RLock()
        self._big: tuple[K, V] | None = None  # one value larger than ``limit``
        owner = self

        class _LRU(LRUCache):  # type: ignore[type-arg]
            def popitem(self) -> tuple[K, V]:
                key, value = super().popitem()
                if owner._evicted is not None:
                    owner._evicted(key, value)
                return key, value

        self._lru = _LRU(maxsize=limit, getsizeof=size or (lambda value: 1))

    @property
    def limit(self) -> int:
        return int(self._lru.maxsize)

    @property
    def size(self) -> int:
        """The sum of the sizes of the values held."""
        with self._lock:
            big = int(self._lru.getsizeof(self._big[1])) if self._big is not None else 0
            return int(self._lru.currsize) + big

    def get(self, key: K) -> V | None:
        with self._lock:
            if self._big is not None and self._big[0] == key:
                return self._big[1]
            found: V | None = self._lru.get(key)
            return found

    def peek(self, key: K) -> V | None:
        """The value without marking it used."""
        with self._lock:
            if self._big is not None and self._big[0] == key:
                return self._big[1]
            if key in self._lru:
                found: V = Cache.__getitem__(self._lru, key)  # no reordering
                return found
            return None

    def put(self, key: K, value: V) -> None:
        with self._lock:
            if self._big is not None and self._big[0] == key:
                self._big = None
            try:
                self._lru[key] = value
            except ValueError:  # larger than the whole bound: kept alone, beside it
                self._lru.pop(key, None)
                if self._big is not None and self._evicted is not None:
                    self._evicted(*self._big)
                self._big = (key, value)

    def pop(self, key: K) -> V | None:
        with self._lock:
            if self._big is not None and self._big[0] == key:
                value = self._big[1]
                self._big = None
                return value
            found: V | None = self._lru.pop(key, None)
            return found

    def clear(self) -> None:
        """Drop everything (``evicted`` is not called)."""
        with self._lock:
            hook, self._evicted = self._evicted, None
            try:
                self._lru.clear()  # cachetools empties it through ``popitem``
            finally:
                self._evicted = hook
            self._big = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._lru) + (self._big is not None)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._lru or (self._big is not None and self._big[0] == key)

    def items(self) -> Iterator[tuple[K, V]]:
        """A copy of what is held, least recently used first."""
        with self._lock:
            held = list(self._lru.items())
            if self._big is not None:
                held.append(self._big)
        return iter(held)

    def values(self) -> Iterator[V]:
        """A copy of the values held, least recently used first."""
        return iter([value for _, value in self.items()])


class AggregateCache(Generic[K, V]):
    """The ``eventsourcing`` repository's aggregate cache (``get`` raising ``KeyError``
    on a miss, ``put``) as a ``Bounded``: the library bounds its own by a count of
    aggregates, whatever their size."""

    def __init__(self, limit: int, size: Callable[[V], int]) -> None:
        self._held: Bounded[K, V] = Bounded(limit, size)

    def __bool__(self) -> bool:  # the repository asks ``if self.cache``
        return True

    def get(self, key: K, *, evict: bool = False) -> V:
        found = self._held.pop(key) if evict else self._held.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def put(self, key: K, value: V | None) -> None:
        if value is not None:
            self._held.put(key, value)

    @property
    def size(self) -> int:
        return self._held.size
