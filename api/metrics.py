"""Prometheus metrics, one registry per app so tests can build many apps in one process.

Requests are labelled by route template (``/claims/{claim_id}``), never by the raw path, so
the number of series stays bounded whatever clients send; unknown paths share ``unmatched``.

Under ``serve --workers N`` each worker is a process of its own: ``serve`` gives them a
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode), each writes its
numbers there, and a scrape, whichever worker answers it, sums every worker's (those of a
worker that has stopped included: counts do not go back). A worker that stops marks
itself dead (``close``).
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "claims_ledger_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "claims_ledger_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events_appended = Counter(
            "claims_ledger_events_appended",
            "Events appended to claims through the API (idempotent replays not counted)",
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def exposition(self) -> bytes:
        if not os.environ.get(MULTIPROCESS_DIR):
            return generate_latest(self.registry)
        every_worker = CollectorRegistry()
        multiprocess.MultiProcessCollector(every_worker)  # type: ignore[no-untyped-call]
        return generate_latest(every_worker)

    def close(self) -> None:
        """This process serves no more (multiprocess mode: its live gauges are dropped)."""
        if os.environ.get(MULTIPROCESS_DIR):
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
