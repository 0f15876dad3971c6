"""The one bounded cache (``ledger.caching``): least recently used out first, bounded by
an estimate of bytes that holds within a factor of two of what Python allocates, and the
process's budget set by ``CLAIMS_LEDGER_CACHE_MB``."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest

from ledger import caching, replay
from ledger.application import ClaimsLedger
from ledger.caching import Bounded
from ledger.config import Settings
from ledger.store import END_OF_TIME, _claim_bytes

from .helpers import ACTOR, claim, source


def test_the_least_recently_used_go_first_within_the_bound() -> None:
    evicted: list[tuple[str, int]] = []
    cache: Bounded[str, int] = Bounded(10, lambda v: v, lambda k, v: evicted.append((k, v)))
    cache.put("a", 4)
    cache.put("b", 4)
    assert cache.get("a") == 4  # now b is the least recently used
    cache.put("c", 4)
    assert evicted == [("b", 4)]
    assert "b" not in cache and cache.get("a") == 4 and cache.get("c") == 4
    assert cache.size == 8 <= cache.limit
    assert cache.peek("a") == 4  # peeking does not make a the most recent
    cache.put("d", 3)  # 11 > 10: the least recently used (a, then c) go
    assert [k for k, _ in evicted] == ["b", "a"]
    assert cache.size <= cache.limit


def test_a_value_larger_than_the_bound_is_kept_alone_until_the_next() -> None:
    evicted: list[str] = []
    cache: Bounded[str, int] = Bounded(10, lambda v: v, lambda k, v: evicted.append(k))
    cache.put("small", 2)
    cache.put("huge", 50)
    assert cache.get("huge") == 50 and cache.get("small") == 2
    cache.put("huger", 60)  # one value beyond the bound at a time
    assert cache.get("huge") is None and cache.get("huger") == 60
    assert evicted == ["huge"]
    assert cache.pop("huger") == 60 and "huger" not in cache


def test_clear_drops_everything_without_calling_evicted() -> None:
    evicted: list[str] = []
    cache: Bounded[str, int] = Bounded(10, lambda v: v, lambda k, v: evicted.append(k))
    cache.put("a", 1)
    cache.put("big", 20)
    cache.clear()
    assert len(cache) == 0 and evicted == []


def test_the_budget_is_split_between_the_caches_and_refuses_less_than_a_mib() -> None:
    before = caching._budget_mb
    try:
        caching.configure(100)
        total = sum(caching.budget(name) for name in caching.SHARES)
        assert 0.95 * 100 * 2**20 <= total <= 100 * 2**20
        old = replay._ENTRIES
        caching.configure(10)  # the process-wide caches are made anew with it
        assert replay._ENTRIES is not old
        assert replay._ENTRIES.limit == caching.budget("records") // 2
        with pytest.raises(ValueError, match="at least 1 MiB"):
            caching.configure(0)
    finally:
        caching.configure(before)
    with pytest.raises(ValueError, match="cache_mb"):
        Settings(store="memory", cache_mb=0, _env_file=None)  # type: ignore[call-arg]


def _allocated(make: Any) -> tuple[Any, int]:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        made = make()
        gc.collect()
        return made, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("statements", [5, 200])
def test_a_claims_estimate_is_within_a_factor_of_two_of_what_it_allocates(
    ledger: ClaimsLedger, statements: int
) -> None:
    source(ledger, "zelensky", "UA", "B")
    claim(ledger, "troops", ["RU"])
    body = {"type": "asserted", "source": "zelensky", "quote": "q " * 100}
    for day in range(statements):
        ledger.append(
            "troops", {**body, "occurred_at": f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}"},
            ACTOR,
        )
    store = ledger.store
    store.claim_as_known("troops", END_OF_TIME)  # its log rows read, and kept
    store._claims_seen.clear()
    data, allocated = _allocated(lambda: store.claim_as_known("troops", END_OF_TIME))
    estimate = _claim_bytes(data)
    assert allocated / 2 <= estimate <= allocated * 2, (estimate, allocated)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_reads_with_a_tiny_budget_answer_as_with_a_large_one(settings: Settings) -> None:
    """Evicting everything all the time changes no answer."""
    answers = []
    before = caching._budget_mb
    try:
        for mib in (64, 1):
            caching.configure(mib)
            ledger = ClaimsLedger(settings.eventsourcing_env())
            try:
                if mib == 64:
                    source(ledger, "zelensky", "UA", "B")
                    source(ledger, "peskov", "RU", "C")
                    for n in range(30):
                        claim(ledger, f"c{n}", ["RU"])
                        for sid, kind in (("zelensky", "asserted"), ("peskov", "denied")):
                            ledger.append(f"c{n}", {"type": kind, "source": sid,
                                                    "quote": "x" * 2000,
                                                    "occurred_at": "2024-10-13"}, ACTOR)
                answers.append([ledger.claim(f"c{n}") for n in range(30)])
                if mib == 1:
                    assert ledger.store._claims_seen.size <= caching.budget("claims") * 2
            finally:
                ledger.close()
    finally:
        caching.configure(before)
    strip = [[{**a, "as_of": None, "known_at": None} for a in run] for run in answers]
    assert strip[0] == strip[1]


def test_the_live_projector_keeps_as_many_statements_as_its_share_of_the_budget() -> None:
    from ledger.projection import projection as projector

    before = caching._budget_mb
    try:
        caching.configure(1000)
        assert projector._statements_room() == caching.budget("projector") // 1700
        caching.configure(1)  # never less than a floor: a claim or two stays in memory
        assert projector._statements_room() == projector.MIN_STATEMENTS
    finally:
        caching.configure(before)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_librarys_aggregate_cache_is_bounded_by_bytes_too(settings: Settings) -> None:
    """Appends load claims through the library's repository cache: it is an
    ``AggregateCache`` whose estimate holds within a factor of two of what a claim's
    aggregate allocates, and stays within its share of the budget."""
    from ledger.caching import AggregateCache
    from ledger.domain import claim_uuid
    from ledger.store import _aggregate_bytes

    before = caching._budget_mb
    try:
        caching.configure(1)
        ledger = ClaimsLedger(settings.eventsourcing_env())
        try:
            cache = ledger.store.repository.cache
            assert isinstance(cache, AggregateCache)
            source(ledger, "zelensky", "UA", "B")
            body = {"type": "asserted", "source": "zelensky", "quote": "q " * 100,
                    "occurred_at": "2024-10-13"}
            for n in range(40):
                claim(ledger, f"c{n}", ["RU"])
                for _ in range(5):
                    ledger.append(f"c{n}", body, ACTOR)
            assert cache.size <= caching.budget("aggregates")
            uid = claim_uuid("c0")
            aggregate, allocated = _allocated(lambda: ledger.store.repository.get(uid))
            estimate = _aggregate_bytes(aggregate)
            assert allocated / 2 <= estimate <= allocated * 2, (estimate, allocated)
        finally:
            ledger.close()
    finally:
        caching.configure(before)
