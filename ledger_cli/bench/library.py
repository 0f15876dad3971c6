"""The in-process scenario: the ledger's use cases against the bare library, in one run.

(This was the whole benchmark before the HTTP, load and time-travel scenarios.) The machine
is shared and noisy, so absolute numbers mean little: each figure is the median
of ``repeats`` runs, and each is set beside the same work done by the bare ``eventsourcing``
library on the same store (the ceiling the ledger's extra work is measured against):

- ``append``: one ``ClaimsLedger.append`` per event, over claims of about ten statements
  (validation, side tables, hash chain, the credibility answer) vs one library ``save()``
  of a one-event aggregate;
- ``batch``: ``append_batch`` of ``batch`` events over those claims vs the library loading
  as many aggregates, appending the same events and saving them in one ``save()``;
- ``read``: ``ClaimsLedger.claim`` of one of those claims (load, replay and the credibility
  model) vs library ``repository.get`` of an aggregate of as many events.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings


class _Counter(Aggregate):
    @event("Created")
    def __init__(self) -> None:
        self.n = 0

    @event("Incremented")
    def increment(self, note: str) -> None:
        self.n += 1


class _Baseline(Application[Any]):
    name = "Baseline"


def _timed(work: Callable[[], int]) -> float:
    """Run ``work`` (which returns how many operations it did); operations per second."""
    start = time.perf_counter()
    done = work()
    return done / (time.perf_counter() - start)


def _stores(workdir: Path, run: int, store: str) -> tuple[str, dict[str, str]]:
    """The ledger's store URL and the baseline's library environment, on the same backend."""
    if store == "sqlite":
        baseline = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": f"{workdir}/baseline-{run}.sqlite3",
        }
        return f"sqlite:///{workdir}/ledger-{run}.sqlite3", baseline
    # PostgreSQL: the library's own recorder, in tables of its own (baseline_events).
    env = Settings(store=store, _env_file=None).eventsourcing_env()  # type: ignore[call-arg]
    env.pop("APPLICATION_RECORDER_TOPIC")
    return store, env


def run(
    store: str = "sqlite", events: int = 500, batch: int = 100, repeats: int = 3
) -> dict[str, Any]:
    """Measure; returns {name: {"ledger": ops/s, "baseline": ops/s, "ratio": ledger/baseline}}."""
    results: dict[str, dict[str, list[float]]] = {
        k: {"ledger": [], "baseline": []} for k in ("append", "batch", "read")
    }
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            ledger_store, base_env = _stores(Path(tmp), r, store)
            settings = Settings(store=ledger_store, _env_file=None)  # type: ignore[call-arg]
            ledger = open_ledger(settings)
            baseline = _Baseline(base_env)
            try:
                _measure(ledger, baseline, results, events, batch)
            finally:
                ledger.close()
                baseline.close()
    report: dict[str, Any] = {}
    for name, pair in results.items():
        led, base = statistics.median(pair["ledger"]), statistics.median(pair["baseline"])
        report[name] = {
            "ledger": round(led, 1),
            "baseline": round(base, 1),
            "ratio": round(led / base, 3),
        }
    report["parameters"] = {"store": store, "events": events, "batch": batch, "repeats": repeats}
    return report


def _measure(
    ledger: ClaimsLedger,
    baseline: _Baseline,
    results: dict[str, dict[str, list[float]]],
    events: int,
    batch: int,
) -> None:
    source_id = f"bench-{uuid4().hex[:8]}"  # a shared PostgreSQL keeps earlier runs' ids
    ledger.register_source({"id": source_id, "name": "Bench", "reliability": "C"}, "bench")
    # Claims of ten statements each: a claim is argued over by a handful of sources.
    claim_ids = [f"bench-{uuid4().hex[:8]}" for _ in range(max(1, events // 10))]
    for claim_id in claim_ids:
        ledger.register_claim({"id": claim_id, "text": "Benchmark claim"}, "bench")
    body = {"type": "asserted", "source": source_id, "occurred_at": "2024-10-13", "quote": "x"}

    def ledger_appends() -> int:
        for i in range(events):
            ledger.append(claim_ids[i % len(claim_ids)], body, "bench")
        return events

    def baseline_saves() -> int:
        for _ in range(events):
            baseline.save(_Counter())
        return events

    results["append"]["ledger"].append(_timed(ledger_appends))
    results["append"]["baseline"].append(_timed(baseline_saves))

    items = [{**body, "claim_id": claim_ids[i % len(claim_ids)]} for i in range(batch)]

    def ledger_batches() -> int:
        for _ in range(max(1, events // batch)):
            ledger.append_batch(items, "bench")
        return max(1, events // batch) * batch

    # The same shape of work for the library: load the aggregates a batch touches, append
    # to them round-robin, save them all in one transaction.
    counters = [_Counter() for _ in claim_ids]
    baseline.save(*counters)

    def baseline_batches() -> int:
        for _ in range(max(1, events // batch)):
            touched: dict[Any, _Counter] = {}
            for i in range(batch):
                cid = counters[i % len(counters)].id
                if cid not in touched:
                    touched[cid] = baseline.repository.get(cid)
                touched[cid].increment("x")
            baseline.save(*touched.values())
        return max(1, events // batch) * batch

    results["batch"]["ledger"].append(_timed(ledger_batches))
    results["batch"]["baseline"].append(_timed(baseline_batches))

    # A claim as long as the benchmark's longest (appends plus batches), read back whole.
    longest = len(ledger.claim_events(claim_ids[0], limit=1000)["events"])
    counter = _Counter()
    for _ in range(longest - 1):
        counter.increment("x")
    baseline.save(counter)
    reads = 50

    def ledger_reads() -> int:
        for _ in range(reads):
            ledger.claim(claim_ids[0])
        return reads

    def baseline_reads() -> int:
        for _ in range(reads):
            baseline.repository.get(counter.id)
        return reads

    results["read"]["ledger"].append(_timed(ledger_reads))
    results["read"]["baseline"].append(_timed(baseline_reads))
