"""The benchmark's scenarios; each measures the ledger and a baseline in the same run.

- ``http_append``: ``claims-ledger serve`` appending one event per request (the same
  ~256-byte body each time, to random claims, no Idempotency-Key) at 1, 4, 16 and 64
  connections, vs the trivial POST of ``baseline_app`` on the same uvicorn settings.
- ``load``: the ``claims-ledger load`` path in this process (``ledger_cli.records`` and the
  load command's batch loader, 500 events a transaction) over a synthetic ledger, vs raw
  ``sqlite3`` ``executemany`` of the same lines into one table in one transaction (on
  PostgreSQL: ``COPY`` of the same lines through psycopg).
- ``time_travel``: over HTTP, one claim (``GET /claims/{id}?as_of&known_at``: a random
  one, and the hottest) and the all-claims picture (``GET /claims``: first page,
  ``status=contested``, ``q=pipeline``) at random (as_of, known_at) on the large ledger vs
  the same on a small one (10,000 events); the ratio is of the medians. known_at is a
  moment the load had reached (taken after a batch), and the claim one registered by then,
  so every read finds its claim; as_of is anywhere in the synthetic ledger's dates. Both
  ledgers are listed in pages of the same size: 100, or fewer when the small ledger has
  fewer claims (10,000 events make 50), so a page holds as many claims on both.
- ``memory``: the server's peak RSS (VmHWM) after serving ``time_travel``, large vs small.
- ``rebuild``: ``claims-ledger rebuild`` on the large ledger, if the command exists, vs
  reading the notification log with the library recorder (pages of 1000). It runs right
  after the load (and on the small ledger too, unreported) so the servers of
  ``time_travel`` start with their projections up to date.
- ``scale_out``: on PostgreSQL only, ``serve --workers 2`` vs ``--workers 1`` appending.
- ``live``: appends at 16 connections to one server process with 1,000 subscribers to
  ``GET /events/stream`` (``subscribers``: raw asyncio sockets in a process of their own)
  vs the same appends with none (the mean of a run before the subscribers connect and one
  after they leave); and the delay from each event's ``recorded_at`` to its arrival at
  each subscriber.
- ``library``: the in-process figures of the first benchmark (``library.run``).
"""

from __future__ import annotations

import bisect
import http.client
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger_cli.bench import synthetic
from ledger_cli.bench.report import (
    CONCURRENCY,
    JSON,
    failed,
    ratio,
    summary,
)
from ledger_cli.bench.servers import (
    BenchError,
    Client,
    baseline_server,
    clean_environment,
    drive,
    ledger_server,
)
from ledger_cli.records import batches, read_records
from ledger_cli.session import say
from ledger_cli.transfer import _BatchLoader, fewer_collections

LOAD_BATCH = 500  # claims-ledger load's default --batch-size
STATUS_FILTER = "contested"
APPEND_CLAIMS = 100


@dataclass
class Plan:
    """Sizes and durations of one run."""

    events: int
    small_events: int
    seed: int
    quick: bool
    workdir: Path
    postgres: str | None = None
    duration: float = 10.0  # seconds per HTTP measurement
    claim_reads: int = 200  # samples per time-travel query kind (at most)
    list_reads: int = 20
    read_budget: float = 30.0  # seconds per time-travel query kind (at least 3 samples)
    read_timeout: float = 120.0  # seconds one time-travel read may take
    stores: list[str] = field(default_factory=list)
    subscribers: int = 1000  # the live scenario's SSE subscribers
    rebuild_available: bool | None = None  # found out on first use

    @property
    def backend(self) -> str:
        return "postgresql" if self.postgres else "sqlite"


def _settings(store: str) -> Settings:
    return Settings(store=store, _env_file=None)  # type: ignore[call-arg]


def _open(store: str) -> ClaimsLedger:
    return open_ledger(_settings(store))


@contextmanager
def opened(store: str) -> Iterator[ClaimsLedger]:
    ledger = _open(store)
    try:
        yield ledger
    finally:
        ledger.close()


# -- stores --------------------------------------------------------------------------------


def new_store(plan: Plan, name: str) -> str:
    """A fresh, empty store: an SQLite file in the work directory, or a PostgreSQL schema."""
    if plan.postgres is None:
        store = f"sqlite:///{plan.workdir / f'{name}.sqlite3'}"
    else:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}_{name.replace('-', '_')}"
        with psycopg.connect(_plain_url(plan.postgres), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        parts = urlsplit(plan.postgres)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"schema": schema}
        store = urlunsplit(parts._replace(query=urlencode(query)))
    plan.stores.append(store)
    return store


def _plain_url(url: str) -> str:
    """A PostgreSQL URL without the ledger's own query parameters, for psycopg."""
    parts = urlsplit(url)
    query = {k: v for k, v in parse_qs(parts.query).items() if k != "schema"}
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def _schema(store: str) -> str:
    return parse_qs(urlsplit(store).query).get("schema", ["public"])[0]


def drop_stores(plan: Plan) -> None:
    """Drop the PostgreSQL schemas the run made (SQLite files go with the work directory)."""
    if plan.postgres is None:
        return
    import psycopg

    with psycopg.connect(_plain_url(plan.postgres), autocommit=True) as conn:
        for store in plan.stores:
            conn.execute(f"DROP SCHEMA IF EXISTS {_schema(store)} CASCADE")


# -- a: HTTP append ------------------------------------------------------------------------


def _append_body() -> bytes:
    event = {
        "type": "asserted",
        "source": "src-00000",
        "occurred_at": "2024-06-01T12:00:00Z",
        "quote": "",
    }
    event["quote"] = "reported movement of units near the crossing " * 5
    event["quote"] = event["quote"][: 256 - len(json.dumps({**event, "quote": ""}))]
    return json.dumps(event).encode()


def _prepare_appends(store: str) -> list[str]:
    """Register sources and claims for appends; returns the append paths."""
    records: list[dict[str, Any]] = [
        {"type": "source_registered", "source": f"src-{i:05d}", "name": f"Source {i}",
         "reliability": "C"}
        for i in range(5)
    ]
    claims = [f"append-{i:04d}" for i in range(APPEND_CLAIMS)]
    records += [
        {"type": "claim_registered", "claim_id": cid, "text": f"Benchmark claim {cid}"}
        for cid in claims
    ]
    with opened(store) as ledger:
        ledger.import_batch(records, "bench")
    return [f"/claims/{cid}/events" for cid in claims]


#: The header of an append that wants only where its event landed (RFC 7240).
MINIMAL = {"Prefer": "return=minimal"}


def http_append(plan: Plan) -> JSON:
    store = new_store(plan, "append")
    paths = _prepare_appends(store)
    body = _append_body()
    levels: JSON = {}
    with baseline_server(plan.workdir) as baseline, ledger_server(store, plan.workdir) as server:
        say(f"bench: HTTP append, {plan.duration:g} s per level, warming up")
        drive(server.port, paths, body, 4, 1)
        drive(baseline.port, ["/echo"], body, 4, 1)
        for connections in CONCURRENCY:
            led = drive(server.port, paths, body, connections, plan.duration)
            base = drive(baseline.port, ["/echo"], body, connections, plan.duration)
            lean = drive(server.port, paths, body, connections, plan.duration, MINIMAL)
            levels[str(connections)] = {
                "ledger": led,
                "baseline": base,
                "ratio": ratio(led["throughput"], base["throughput"]),
                "minimal": lean,
                "minimal_ratio": ratio(lean["throughput"], base["throughput"]),
            }
            say(
                f"bench: HTTP append, {connections} connections: {led['throughput']} req/s, "
                f"{lean['throughput']} with return=minimal, vs {base['throughput']} req/s "
                f"baseline ({led['errors'] + lean['errors']} errors)"
            )
    return {
        "baseline": "a separate minimal FastAPI app (ledger_cli.bench.baseline_app: async "
        "POST /echo of the same body) under uvicorn with the same flags",
        "minimal": "the same appends with Prefer: return=minimal (no credibility answered)",
        "body_bytes": len(body),
        "claims": len(paths),
        "levels": levels,
    }


# -- b: bulk load --------------------------------------------------------------------------


@dataclass
class Loaded:
    """A store loaded from a synthetic file, and when the load reached which line."""

    store: str
    events: int
    ledger: synthetic.SyntheticLedger
    checkpoints: list[tuple[int, datetime]]  # (last line written, a moment after it)


def generate(plan: Plan, events: int) -> tuple[Path, synthetic.SyntheticLedger]:
    path = plan.workdir / f"synthetic-{events}-{plan.seed}.ndjson"
    started = time.perf_counter()
    made = synthetic.generate(path, events, plan.seed)
    say(f"bench: generated {events:,} events in {time.perf_counter() - started:.1f} s")
    return path, made


def load_file(store: str, path: Path, made: synthetic.SyntheticLedger) -> tuple[JSON, Loaded]:
    """Load ``path`` the way ``claims-ledger load`` does; per-batch latencies.

    Besides the whole load's rate, the rates of its first and last tenth (by batches) say
    whether loading slows down as the ledger grows.
    """
    latencies: list[float] = []
    sizes: list[int] = []
    checkpoints: list[tuple[int, datetime]] = []
    with opened(store) as ledger, path.open(encoding="utf-8") as stream, fewer_collections():
        loader = _BatchLoader(ledger, "bench")
        started = time.perf_counter()
        for batch in batches(read_records(stream), LOAD_BATCH):
            begun = time.perf_counter()
            loader.write(batch)
            latencies.append(time.perf_counter() - begun)
            sizes.append(len(batch))
            checkpoints.append((batch[-1][0], datetime.now(UTC)))
        loader.finish()  # part of the load: the snapshots it owes
        elapsed = time.perf_counter() - started
    figures = summary(
        latencies, elapsed, latency_of=f"a batch of {LOAD_BATCH} events",
        count=loader.count, throughput=round(loader.count / elapsed, 1),
    )
    tenth = max(1, len(latencies) // 10)
    for name, part in (("first", slice(None, tenth)), ("last", slice(-tenth, None))):
        spent = sum(latencies[part])
        figures[f"throughput_{name}_tenth"] = round(sum(sizes[part]) / spent, 1) if spent else None
    return figures, Loaded(store, loader.count, made, checkpoints)


def _raw_sqlite(path: Path, target: Path) -> JSON:
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # as the library's store
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        with path.open(encoding="utf-8") as lines:
            started = time.perf_counter()
            conn.execute("BEGIN")
            cursor = conn.executemany("INSERT INTO events (body) VALUES (?)", ((b,) for b in lines))
            count = cursor.rowcount
            conn.execute("COMMIT")
            elapsed = time.perf_counter() - started
    finally:
        conn.close()
    return {"method": "sqlite3 executemany, one transaction", "count": count,
            "seconds": round(elapsed, 3), "throughput": round(count / elapsed, 1)}


def _raw_copy(plan: Plan, path: Path) -> JSON:
    import psycopg

    assert plan.postgres is not None
    store = new_store(plan, "raw")
    table = f"{_schema(store)}.raw_events"
    with psycopg.connect(_plain_url(plan.postgres)) as conn:
        conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, body text NOT NULL)")
        conn.commit()
        count = 0
        with path.open(encoding="utf-8") as lines:
            started = time.perf_counter()
            with conn.cursor() as cursor, cursor.copy(f"COPY {table} (body) FROM STDIN") as copy:
                for line in lines:
                    copy.write_row((line,))
                    count += 1
            conn.commit()
            elapsed = time.perf_counter() - started
    return {"method": "psycopg COPY, one transaction", "count": count,
            "seconds": round(elapsed, 3), "throughput": round(count / elapsed, 1)}


def load(plan: Plan, path: Path, made: synthetic.SyntheticLedger) -> tuple[JSON, Loaded]:
    say(f"bench: loading {made.events:,} events through the load path")
    store = new_store(plan, "large")
    ledger_figures, loaded = load_file(store, path, made)
    say(f"bench: loaded at {ledger_figures['throughput']} events/s")
    if plan.postgres is None:
        raw = _raw_sqlite(path, plan.workdir / "raw.sqlite3")
    else:
        raw = _raw_copy(plan, path)
    return {
        "ledger": ledger_figures,
        "baseline": raw,
        "ratio": ratio(ledger_figures["throughput"], raw["throughput"]),
        "events_by_type": dict(made.counts),
        "claims": made.claims_n,
        "sources": made.sources_n,
        "store_bytes": (stored := _store_bytes(plan, store)),
        "file_bytes": path.stat().st_size,
        "store_bytes_per_event": None if stored is None else round(stored / made.events),
    }, loaded


def _store_bytes(plan: Plan, store: str) -> int | None:
    """The store's size on disk (the SQLite file and its WAL), or the PostgreSQL schema's."""
    if plan.postgres is None:
        base = _settings(store).sqlite_path()
        return sum(p.stat().st_size for p in base.parent.glob(base.name + "*"))
    import psycopg

    with psycopg.connect(_plain_url(plan.postgres)) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
            "AND c.relkind = 'r'",
            (_schema(store),),
        ).fetchone()
    return int(row[0]) if row else None


# -- c and e: time travel and the server's memory ------------------------------------------


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Moments:
    """Random (as_of, known_at) pairs, and a claim the ledger had by that known_at."""

    def __init__(self, loaded: Loaded, seed: int) -> None:
        self.rng = random.Random(seed)
        self.loaded = loaded
        order = sorted(loaded.ledger.claim_lines.items(), key=lambda item: item[1])
        self.claims = [cid for cid, _ in order]
        self.lines = [line for _, line in order]

        statements = loaded.ledger.claim_statements
        self.hottest = max(self.claims, key=lambda cid: statements.get(cid, 0))

    def pick(self, claim_id: str | None = None) -> tuple[str, str, str]:
        """(claim id, as_of, known_at): ``claim_id`` (if given) or a random known claim."""
        first = 0 if claim_id is None else self.lines[self.claims.index(claim_id)]
        while True:
            line, known = self.rng.choice(self.loaded.checkpoints)
            known_claims = bisect.bisect_right(self.lines, line)
            if known_claims and line >= first:
                break
        span = (synthetic.END - synthetic.START).total_seconds() + 60 * 86400
        as_of = synthetic.START + timedelta(seconds=self.rng.uniform(0, span))
        chosen = claim_id or self.claims[self.rng.randrange(known_claims)]
        return chosen, _instant(as_of), _instant(known)


def _sampled(
    client: Client, paths: Callable[[], str], samples: int, budget: float, pages: bool = False
) -> JSON:
    """Up to ``samples`` reads (at least 3, then while within ``budget`` seconds).

    A read that fails or takes longer than the client's timeout ends the sampling of its
    kind (the server is stuck there, more would only wait again) and is counted in
    ``errors``, with ``timed_out`` set. ``pages``: the reads are list pages; the figures
    add the median number of claims a page held (``claims_p50``), for a page of a filter
    holds fewer claims on a small ledger than on a large one.
    """
    latencies: list[float] = []
    held: list[int] = []
    errors = 0
    timed_out = False
    started = time.perf_counter()
    for i in range(samples):
        if i >= 3 and time.perf_counter() - started > budget:
            break
        try:
            status, seconds, body = client.timed_get(paths())
        except (OSError, http.client.HTTPException):
            errors += 1
            timed_out = True
            client.reconnect()
            break
        if status == 200:
            latencies.append(seconds)
            if pages:
                held.append(len(json.loads(body)["data"]))
        else:
            errors += 1
    extra: JSON = {"claims_p50": statistics.median(held) if held else None} if pages else {}
    return summary(
        latencies, time.perf_counter() - started, errors=errors, timed_out=timed_out, **extra
    )


def _queries(plan: Plan, loaded: Loaded, page: int) -> JSON:
    """Serve ``loaded`` and time the reads (lists in pages of ``page``); the server's
    memory with them."""
    moments = _Moments(loaded, plan.seed)

    def claim() -> str:
        cid, as_of, known = moments.pick()
        return f"/claims/{cid}?{urlencode({'as_of': as_of, 'known_at': known})}"

    def hot_claim() -> str:
        cid, as_of, known = moments.pick(moments.hottest)
        return f"/claims/{cid}?{urlencode({'as_of': as_of, 'known_at': known})}"

    def listing(**filters: str) -> Callable[[], str]:
        def path() -> str:
            _, as_of, known = moments.pick()
            query = {**filters, "as_of": as_of, "known_at": known, "limit": str(page)}
            return f"/claims?{urlencode(query)}"

        return path

    with ledger_server(loaded.store, plan.workdir) as server:
        startup = server.peak_rss_kib()
        client = Client(server.port, timeout=plan.read_timeout)
        try:
            client.timed_get(claim())  # the first request pays for imports
            reads, budget = plan.list_reads, plan.read_budget
            figures = {
                "claim": _sampled(client, claim, plan.claim_reads, budget),
                "hot_claim": _sampled(client, hot_claim, reads, budget),
                "list_first_page": _sampled(client, listing(), reads, budget, pages=True),
                "list_status": _sampled(
                    client, listing(status=STATUS_FILTER), reads, budget, pages=True
                ),
                "list_q": _sampled(
                    client, listing(q=synthetic.QUERY_WORD), reads, budget, pages=True
                ),
            }
        finally:
            client.close()
        peak = server.peak_rss_kib()
    memory = {
        "startup_mib": None if startup is None else round(startup / 1024, 1),
        "vmhwm_mib": None if peak is None else round(peak / 1024, 1),
    }
    statements = loaded.ledger.claim_statements
    return {
        "queries": figures,
        "memory": memory,
        "hot_claim": {"id": moments.hottest, "statements": statements[moments.hottest]},
    }


#: Claims a page of ``GET /claims`` asks for (the API's default).
LIST_PAGE = 100


def time_travel(plan: Plan, large: Loaded, small: Loaded) -> tuple[JSON, JSON]:
    """The time-travel figures and the memory figures (both from the same servers)."""
    # Pages of the same size on both ledgers, however many claims the small one has.
    page = max(1, min(LIST_PAGE, small.ledger.claims_n))
    say(f"bench: time travel on {small.events:,} events")
    on_small = _queries(plan, small, page)
    say(f"bench: time travel on {large.events:,} events")
    on_large = _queries(plan, large, page)
    queries: JSON = {}
    for name, figures in on_large["queries"].items():
        base = on_small["queries"][name]
        queries[name] = {
            "large": figures,
            "small": base,
            "ratio": ratio(figures["p50_ms"], base["p50_ms"]),
        }
    travel = {
        "prepared": "projections rebuilt (claims-ledger rebuild) before serving"
        if plan.rebuild_available
        else "served as loaded (no rebuild command)",
        "large_events": large.events,
        "small_events": small.events,
        "ratio_is": "median latency on the large ledger / on the small one",
        "list_page_size": page,
        "status_filter": STATUS_FILTER,
        "q": synthetic.QUERY_WORD,
        "hot_claim": {"large": on_large["hot_claim"], "small": on_small["hot_claim"]},
        "queries": queries,
    }
    memory = {
        "measured": "peak RSS (VmHWM) of the serve process after the time-travel reads",
        "large": on_large["memory"],
        "small": on_small["memory"],
        "ratio": ratio(on_large["memory"]["vmhwm_mib"], on_small["memory"]["vmhwm_mib"]),
    }
    return travel, memory


# -- d: rebuild ----------------------------------------------------------------------------


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ledger_cli", *args]


def rebuild_available(plan: Plan) -> bool:
    """Whether ``claims-ledger rebuild --help`` succeeds (asked once a run)."""
    if plan.rebuild_available is None:
        done = subprocess.run(
            _cli("rebuild", "--help"), cwd=plan.workdir, env=clean_environment(),
            capture_output=True, timeout=120,
        )
        plan.rebuild_available = done.returncode == 0
    return plan.rebuild_available


def _notification_read(store: str) -> JSON:
    with opened(store) as ledger:
        recorder = ledger.store.recorder  # the library Application's
        count = 0
        start = 1
        began = time.perf_counter()
        while True:
            page = recorder.select_notifications(start, 1000)
            count += len(page)
            if len(page) < 1000:
                break
            start = page[-1].id + 1
        elapsed = time.perf_counter() - began
    return {"method": "recorder.select_notifications, pages of 1000", "count": count,
            "seconds": round(elapsed, 3), "throughput": round(count / elapsed, 1)}


def run_rebuild(plan: Plan, store: str, events: int) -> JSON:
    """``claims-ledger --store STORE rebuild`` in a process of its own, timed."""
    began = time.perf_counter()
    done = subprocess.run(
        _cli("--store", store, "rebuild"), cwd=plan.workdir,
        env=clean_environment(), capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - began
    said = (done.stderr or done.stdout or "").strip().splitlines()
    if done.returncode != 0:
        raise BenchError(f"claims-ledger rebuild exited {done.returncode}: {' '.join(said[-1:])}")
    return {"method": "claims-ledger rebuild (a process of its own, start-up included; "
                      f"--jobs as the machine's cores: {os.cpu_count()})",
            "count": events, "seconds": round(elapsed, 3),
            "throughput": round(events / elapsed, 1), "said": said[-1] if said else None}


def rebuild(plan: Plan, large: Loaded) -> JSON:
    """The rebuild figures of the large ledger; its projections are up to date afterwards."""
    raw = _notification_read(large.store)
    figures: JSON = {"baseline": raw, "ledger": None, "ratio": None}
    if not rebuild_available(plan):
        return {**figures, "reason": "not available"}
    say(f"bench: claims-ledger rebuild of {large.events:,} events")
    try:
        led = run_rebuild(plan, large.store, raw["count"])
    except BenchError as error:
        return {**figures, "reason": str(error)}
    say(f"bench: rebuilt at {led['throughput']} events/s")
    return {**figures, "ledger": led, "ratio": ratio(led["throughput"], raw["throughput"])}


# -- f: scale-out ----------------------------------------------------------------------------


def scale_out(plan: Plan) -> JSON:
    if plan.postgres is None:
        return {"ratio": None, "reason": "PostgreSQL only: run with --postgres URL"}
    store = new_store(plan, "scale")
    paths = _prepare_appends(store)
    body = _append_body()
    connections = CONCURRENCY[-1]
    runs: JSON = {}
    for workers, name in ((1, "one"), (2, "two")):
        with ledger_server(store, plan.workdir, workers=workers) as server:
            drive(server.port, paths, body, 4, 1)
            runs[name] = drive(server.port, paths, body, connections, plan.duration)
        say(f"bench: {workers} server process(es): {runs[name]['throughput']} req/s")
    return {
        "connections": connections,
        "method": "claims-ledger serve --workers 2 vs --workers 1, appends as in http_append",
        **runs,
        "ratio": ratio(runs["two"]["throughput"], runs["one"]["throughput"]),
    }


# -- g: live subscribers -------------------------------------------------------------------

#: Append connections of the live scenario.
LIVE_CONNECTIONS = 16


@contextmanager
def subscribers(port: int, count: int, after: int, workdir: Path, claims: list[str] | None = None
                ) -> Iterator[Crowd]:
    """``count`` subscribers to the log stream after ``after`` (each to one of ``claims``,
    round robin, if given), in a process of their own, connected (a context manager)."""
    with subprocess.Popen(
        _subscribers_command(port, count, after, claims or []), cwd=workdir,
        env=clean_environment(),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:  # its pipes are closed, and it is waited for, on the way out
        crowd = Crowd(process, count)
        try:
            crowd.wait_ready()
            yield crowd
        finally:
            if process.poll() is None:
                process.kill()


def _subscribers_command(port: int, count: int, after: int, claims: list[str]) -> list[str]:
    return [sys.executable, "-m", "ledger_cli.bench.subscribers", "--port", str(port),
            "--count", str(count), "--after", str(after), "--claims", ",".join(claims)]


@dataclass
class Crowd:
    process: subprocess.Popen[str]
    count: int

    def wait_ready(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if line[:1] != ["ready"] or int(line[1]) != self.count:
            raise BenchError(f"the subscribers did not all connect ({' '.join(line) or 'no word'}):"
                             f" {self._stderr()}")

    def finish(self) -> JSON:
        """Stop them (once they have every event stored by now); their figures."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stop\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        self.process.wait(timeout=120)
        if not line.startswith("{"):
            raise BenchError(f"the subscribers failed: {self._stderr()}")
        figures: JSON = json.loads(line)
        return figures

    def _stderr(self) -> str:
        if self.process.poll() is None:
            self.process.kill()
        assert self.process.stderr is not None
        return self.process.stderr.read()[-2000:]


def _log_head(port: int) -> int:
    """The position of the last event the server has stored."""
    after = 0
    client = Client(port)
    try:
        while True:
            status, _, body = client.timed_get(f"/events?after={after}&limit=1000")
            if status != 200:
                raise BenchError(f"GET /events answered {status}")
            page = json.loads(body)
            if not page["data"]:
                return after
            after = int(page["data"][-1]["position"])
            if not page.get("next_cursor"):
                return after
    finally:
        client.close()


def live(plan: Plan) -> JSON:
    from ledger_cli.bench.subscribers import raise_fd_limit

    count = plan.subscribers
    raise_fd_limit(count + 256)  # the server (started from here) holds one per subscriber
    store = new_store(plan, "live")
    paths = _prepare_appends(store)
    claims = [path.split("/")[2] for path in paths]
    body = _append_body()
    runs: JSON = {}
    with ledger_server(store, plan.workdir) as server:
        say(f"bench: live, appends at {LIVE_CONNECTIONS} connections without subscribers")
        drive(server.port, paths, body, 4, 1)  # warm-up
        before = drive(server.port, paths, body, LIVE_CONNECTIONS, plan.duration)
        for name, followed in (("claims", claims), ("whole_log", None)):
            head = _log_head(server.port)
            say(f"bench: live, {count:,} subscribers to /events/stream"
                f"{'?claim=' if followed else ' (the whole log)'}, appending")
            with subscribers(server.port, count, head, plan.workdir, followed) as crowd:
                time.sleep(1)  # the connections settle (their catch-up reads are done)
                loaded = drive(server.port, paths, body, LIVE_CONNECTIONS, plan.duration)
                runs[name] = {"appends": loaded, "delivery": crowd.finish()}
        after = drive(server.port, paths, body, LIVE_CONNECTIONS, plan.duration)
    alone = [f["throughput"] for f in (before, after) if f["throughput"]]
    baseline = sum(alone) / len(alone) if alone else None
    for name, found in runs.items():
        found["ratio"] = ratio(found["appends"]["throughput"], baseline)
        say(f"bench: live ({name}): {found['appends']['throughput']} req/s with {count:,} "
            f"subscribers vs {baseline} without; delivery p99 "
            f"{found['delivery']['delay_p99_ms']} ms")
    return {
        "method": f"claims-ledger serve (one process) appending over {LIVE_CONNECTIONS} "
        f"connections to {len(claims)} claims, with {count:,} subscribers to GET "
        "/events/stream (raw asyncio sockets in a process of their own) vs with none (the "
        "mean of a run before they connect and one after they leave). claims: each "
        "subscriber follows one of the claims (?claim=, round robin); whole_log: each "
        "follows the whole log. Delay: from each event's recorded_at to its arrival at "
        "each subscriber that follows it",
        "subscribers": count,
        "connections": LIVE_CONNECTIONS,
        "without": {"before": before, "after": after, "throughput": baseline},
        **runs,
        "ratio": runs["claims"]["ratio"],
    }


# -- the run -------------------------------------------------------------------------------

SCENARIOS = ("http", "load", "time-travel", "memory", "rebuild", "scale-out", "live",
             "library")
#: Scenarios that need the large ledger loaded (and so run the load scenario).
NEEDS_LOAD = frozenset({"load", "time-travel", "memory", "rebuild"})


def _guarded(name: str, work: Callable[[], JSON]) -> JSON:
    """``work()``'s figures, or (when it fails) the reason, so the other scenarios go on."""
    try:
        return work()
    except Exception as error:
        return _failure(name, error)


def _failure(name: str, error: Exception) -> JSON:
    figures = failed(error)
    say(f"bench: {name} {figures['reason']}")
    return figures


def run(plan: Plan, selected: frozenset[str]) -> JSON:
    """Run the ``selected`` scenarios; returns {name: figures} in the report's names.

    A scenario that fails is reported with ``failed``, a None ratio and the reason (a
    server that did not start, a store error), and the run goes on with the next one.
    """
    scenarios: JSON = {}
    try:
        if "http" in selected:
            scenarios["http_append"] = _guarded("http", lambda: http_append(plan))
        if selected & NEEDS_LOAD:
            _load_scenarios(plan, selected, scenarios)
        if "scale-out" in selected:
            scenarios["scale_out"] = _guarded("scale-out", lambda: scale_out(plan))
        if "live" in selected:
            scenarios["live"] = _guarded("live", lambda: live(plan))
        if "library" in selected:
            scenarios["library"] = _guarded("library", lambda: _library(plan))
    finally:
        drop_stores(plan)
    return scenarios


def _load_scenarios(plan: Plan, selected: frozenset[str], scenarios: JSON) -> None:
    """Load the large ledger, then the scenarios that read it.

    Where ``claims-ledger rebuild`` exists, it runs right after the load (the rebuild
    scenario's figure): a loaded store's projections are then up to date, so the time-travel
    reads measure reading, not a server catching up with the log it was just given.
    """
    names = {"time-travel": "time_travel", "memory": "memory", "rebuild": "rebuild"}
    try:
        path, made = generate(plan, plan.events)
        scenarios["load"], large = load(plan, path, made)
    except Exception as error:
        failure = _failure("load", error)
        scenarios["load"] = failure
        scenarios.update({names[n]: failure for n in selected & set(names)})
        return
    if "rebuild" in selected or (
        selected & {"time-travel", "memory"} and rebuild_available(plan)
    ):
        rebuilt = _guarded("rebuild", lambda: rebuild(plan, large))
        if "rebuild" in selected:
            scenarios["rebuild"] = rebuilt
    if selected & {"time-travel", "memory"}:
        try:
            small_path, small_made = generate(plan, plan.small_events)
            say(f"bench: loading the small ledger ({plan.small_events:,} events)")
            _, small = load_file(new_store(plan, "small"), small_path, small_made)
            if rebuild_available(plan):
                run_rebuild(plan, small.store, small.events)
            travel, memory = time_travel(plan, large, small)
        except Exception as error:
            travel = memory = _failure("time-travel", error)
        if "time-travel" in selected:
            scenarios["time_travel"] = travel
        if "memory" in selected:
            scenarios["memory"] = memory


def _library(plan: Plan) -> JSON:
    from ledger_cli.bench import library

    say("bench: in-process appends, batches and reads vs the bare library")
    store = "sqlite" if plan.postgres is None else new_store(plan, "library")
    sizes = (50, 10, 1) if plan.quick else (500, 100, 3)
    return library.run(store=store, events=sizes[0], batch=sizes[1], repeats=sizes[2])
