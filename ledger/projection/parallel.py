"""Projecting a log in several processes (``claims-ledger rebuild --jobs N``).

The claims are shared out among ``N`` worker processes, balanced by their events
(``share``). Each worker reads the whole log and projects the claims of its part with the
same ``CredibilityProjection`` one process runs, but its changes are data, not writes
(``PartProjection``): it keeps every source (a re-rating restates the claims of its part
that cite it) and, for a model version that learns from track records, the claims of other
parts from their first resolution on (a resolution changes the records every part weighs).

The parent merges the workers' changes page by page (``PAGE`` events of the log) in the
order one process makes them: by position, and within an event the event's own claim
first, then the others it moves by id. It gives each new row the id one process would give
it (the event's position, then the row's place among the rows the event made) and writes
the page with its tracking position in one transaction, as one process does, so a killed
rebuild resumes from it. The tables are those one process makes, row for row (ids
included): ``tests/ledger/test_parallel_rebuild.py``.

Workers are started with ``spawn`` (a fresh interpreter: no connection is shared across a
fork) and open the store themselves from the application's environment.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import queue
import time
import traceback
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking

from ledger import caching
from ledger.credibility.registry import VERSIONS
from ledger.domain import Claim
from ledger.projection.projection import RID_BITS, CredibilityProjection, Event, read_events
from ledger.projection.state import ProjectedClaim
from ledger.projection.tables import BEGINNING_OF_TIME, END_OF_TIME, Interval, Replaced
from ledger.projection.views import CredibilityView, open_view
from ledger.replay import ClaimData
from ledger.statements import Statement, StatementType
from ledger.store import LedgerApplication

log = logging.getLogger(__name__)

#: Seconds between looks at whether a worker that sends nothing is still alive.
POLL = 1.0
#: Pages a worker may run ahead of the parent's writes (bounds the memory of the queue).
AHEAD = 4

#: A row's value as shipped: (valid_from, valid_to, probability, band, status, grade).
Value = tuple[int, int, float, str, str, int]
#: Within an event, the order one process restates claims in: the event's own claim
#: first (``OWN``), then the others by id.
OWN = (0, "")


@dataclass(frozen=True)
class Plan:
    """What every worker is told: where the store is and which part of the log to project."""

    env: dict[str, str]
    snapshot_interval: int
    cache_mb: int
    model: str
    #: Project the events at positions in (``start``, ``until``].
    start: int
    until: int
    #: Claim id -> part; a claim not named goes by a checksum of its id.
    parts: dict[str, int]
    jobs: int
    #: Statements each worker keeps in memory (None: as its cache budget allows).
    hold: int | None
    #: Events read at a time: the parent writes each page's changes in one transaction.
    page: int


def share(sizes: list[tuple[str, int]], jobs: int) -> dict[str, int]:
    """Claims to parts, so each part's work is about even: the largest claims first, each
    to the part with the least work so far. A claim's work grows faster than its events
    (an event restates a stretch of it), so it counts as events to the power 1.5."""
    load = [0.0] * jobs
    parts: dict[str, int] = {}
    for claim_id, events in sorted(sizes, key=lambda item: (-item[1], item[0])):
        part = min(range(jobs), key=lambda k: (load[k], k))
        parts[claim_id] = part
        load[part] += events**1.5
    return parts


def part_of(claim_id: str, parts: Mapping[str, int], jobs: int) -> int:
    found = parts.get(claim_id)
    return found if found is not None else zlib.crc32(claim_id.encode()) % jobs


def _may_resolve(statement: Statement) -> bool:
    """Whether the statement may give its claim a resolution (so the claim may add to the
    sources' track records)."""
    resolved = StatementType.RESOLVED
    return statement.type == resolved or statement.corrected_type == resolved


class PartProjection(CredibilityProjection):
    """The projection of one part of the claims; its changes are kept as data
    (``changes``) for the parent to merge and write."""

    def __init__(self, view: Any, store: LedgerApplication, plan: Plan, part: int) -> None:
        super().__init__(view, store, VERSIONS[plan.model])
        self.plan = plan
        self.part = part
        self._parts: dict[str, bool] = {}
        #: This part's claims each source spoke on.
        self.cited: dict[str, set[str]] = {}
        #: Rows (and registration position) of this part's claims that left memory.
        self.kept: dict[str, tuple[list[Interval], int]] = {}
        #: Claims of other parts followed for the track records, from their first
        #: resolution on (a version that learns).
        self.shadows: dict[str, ProjectedClaim] = {}
        self.changes: list[tuple[Any, ...]] = []
        self.position = 0  # of the event being processed

    def owns(self, claim_id: str) -> bool:
        mine = self._parts.get(claim_id)
        if mine is None:
            mine = self._parts[claim_id] = (
                part_of(claim_id, self.plan.parts, self.plan.jobs) == self.part
            )
        return mine

    def load_citations(self) -> None:
        """The citations already projected of this part's claims (a resumed rebuild)."""
        with self.view.reading() as cursor:
            cursor.execute(f"SELECT source_id, claim_id FROM {self.view.tables.citations}")
            for row in cursor.fetchall():
                if self.owns(row["claim_id"]):
                    self.cited.setdefault(row["source_id"], set()).add(row["claim_id"])

    def process(self, event: Event) -> None:
        self.position = event.position
        registered = event.domain_event
        if isinstance(registered, Claim.Registered) and not self.owns(  # type: ignore[attr-defined]
            registered.claim_id
        ):
            self.recorded_at = event.recorded_at
            self.tracking = Tracking(self.view.tables.tracked, event.position)
            return
        super().process(event)

    def flush(self) -> None:
        """Nothing is written here: the parent writes ``changes``."""
        self.tracking = None

    def forget(self) -> None:
        super().forget()
        self.cited.clear()
        self.kept.clear()
        self.shadows.clear()
        self.changes.clear()

    def _statement(self, statement: Statement) -> None:
        claim_id = statement.claim_id or ""
        if self.owns(claim_id):
            if statement.source is not None:
                self.cited.setdefault(statement.source, set()).add(claim_id)
            super()._statement(statement)
            return
        if self.records is None:
            return  # another part's claim, and the version does not learn from records
        shadow = self.shadows.get(claim_id)
        if shadow is None:
            if not _may_resolve(statement):
                return  # adds nothing to the records before its first resolution
            shadow = self.shadows[claim_id] = self._loaded(claim_id)
        shadow.apply(statement)
        rerecorded = self._rerecord(shadow)
        if rerecorded:
            # Its own rows are its part's; this part restates its own claims.
            self._restate_citing(rerecorded, shadow, None)

    def _resolved_before(self, data: ClaimData) -> None:
        """Another part's claim resolved before a resumed rebuild's first event is followed
        from there (its later statements change the records)."""
        if not self.owns(data.claim_id):
            self.shadows[data.claim_id] = self._loaded(data.claim_id, data)

    def _rows_of(self, claim_id: str) -> tuple[list[Interval], int]:
        kept = self.kept.pop(claim_id, None)
        if kept is not None:
            return kept
        # Projected before this rebuild resumed: only this part changes its rows.
        with self.view.reading() as cursor:
            tables = self.view.tables
            rows = tables.current(cursor, claim_id, BEGINNING_OF_TIME, END_OF_TIME)
            return rows, tables.claim_position(cursor, claim_id)

    def _citing(self, source_ids: list[str]) -> list[str]:
        return sorted({c for source_id in source_ids for c in self.cited.get(source_id, ())})

    def _dropped(self, state: ProjectedClaim) -> None:
        self.kept[state.claim_id] = (state.rows, state.position)

    def _queue_claim(
        self, row: tuple[Any, ...], tags: list[str], first: Interval, recorded_at: int,
        position: int,
    ) -> None:
        self.changes.append(("claim", self.position, OWN, row, tags, _value(first),
                             recorded_at, position))

    def _queue_cite(self, source_id: str, claim_id: str) -> None:
        self.changes.append(("cite", source_id, claim_id))

    def _queue_replace(
        self,
        claim_id: str,
        ended: list[Interval],
        new: list[Interval],
        recorded_at: int,
        position: int,
        leading: bool,
    ) -> None:
        self.changes.append((
            "replace",
            self.position,
            OWN if leading else (1, claim_id),
            claim_id,
            [_value(row) for row in ended],
            [_value(row) for row in new],
            recorded_at,
            position,
        ))


def _value(row: Interval) -> Value:
    return (row.valid_from, row.valid_to, row.probability, row.band, row.status, row.grade)


def work(plan: Plan, part: int, out: Any) -> None:
    """A worker process: project ``part`` of the claims, sending each page's changes."""
    try:
        caching.configure(plan.cache_mb)
        store = LedgerApplication(plan.env, snapshot_interval=plan.snapshot_interval)
    except BaseException:
        with contextlib.suppress(SystemExit):
            _send(out, ("error", traceback.format_exc()))
        return
    try:
        view = open_view(store)
        assert view is not None  # the parent has a projection: so has the store
        if view.tables.model != plan.model:
            view = view.beside(plan.model, fresh=False)
        view.tables.log = store.index_log_table()
        projection = PartProjection(view, store, plan, part)
        projection.room = plan.hold
        if plan.start:
            projection.load_citations()
        after = plan.start
        while after < plan.until:
            page = [e for e in read_events(store, after, plan.page) if e.position <= plan.until]
            if not page:
                break
            for event in page:
                projection.process(event)
            after = page[-1].position
            _send(out, ("page", after, len(page), projection.changes))
            projection.changes = []
        _send(out, ("done", after, 0, [], time.process_time()))
    except BaseException:
        with contextlib.suppress(SystemExit):  # unless the parent is gone
            _send(out, ("error", traceback.format_exc()))
    finally:
        store.close()


def _send(out: Any, message: tuple[Any, ...]) -> None:
    """Put ``message`` for the parent, waiting while its queue is full. If the parent is
    gone (killed, it could not stop its workers), stop: nobody would write the rows."""
    parent = multiprocessing.parent_process()
    while True:
        if parent is not None and not parent.is_alive():
            out.cancel_join_thread()  # what is queued has no reader
            raise SystemExit("the rebuilding process is gone")
        try:
            out.put(message, timeout=POLL)
            return
        except queue.Full:
            continue


def write_page(tables: Any, cursor: Any, changes: list[tuple[Any, ...]]) -> None:
    """Write the merged changes of the parts for one page, in one process's order, each
    new row with the id one process gives it (``CredibilityTables.replace_all``: a row
    made and ended within the page is written once)."""
    for change in changes:
        if change[0] == "cite":
            tables.cite(cursor, change[1], change[2])
    made = sorted((c for c in changes if c[0] != "cite"), key=lambda c: (c[1], c[2]))
    rows: list[Replaced] = []
    position, rid, end = -1, 0, 0
    for change in made:
        if change[1] != position:
            position = change[1]
            rid, end = position << RID_BITS, (position + 1) << RID_BITS
        if change[0] == "claim":
            _, _, _, row, tags, value, recorded_at, registered = change
            tables.add_claim(cursor, row, tags)
            first = Interval(*value, rid=rid)  # type: ignore[misc]
            rows.append((row[0], [], [first], recorded_at, registered))
            rid += 1
            continue
        _, _, _, claim_id, ended, new, recorded_at, registered = change
        started = [Interval(*value, rid=rid + i) for i, value in enumerate(new)]  # type: ignore[misc]
        rid += len(started)
        if rid > end:
            raise RuntimeError(f"an event made more than {1 << RID_BITS} rows")
        rows.append((claim_id, [Interval(*value) for value in ended], started, recorded_at,
                     registered))
    tables.replace_all(cursor, rows)


def project(
    store: LedgerApplication,
    view: CredibilityView,
    jobs: int,
    until: int,
    page: int,
    progress: Callable[[int], None] | None = None,
    hold: int | None = None,
) -> int:
    """Project the events after the view's position up to ``until`` in ``jobs`` worker
    processes, ``page`` events at a time; returns how many. Call holding the projector
    lock, with the R-tree of rows not yet kept up to date (a rebuild's: it is filled at
    the end)."""
    start = view.position()
    if until <= start:
        return 0
    plan = Plan(
        env=dict(store.env),
        snapshot_interval=int(store.snapshotting_intervals[Claim]),
        cache_mb=caching.configured_mb(),
        model=view.tables.model,
        start=start,
        until=until,
        parts=share(store.index.claim_sizes(start, until), jobs),
        jobs=jobs,
        hold=None if hold is None else max(1, hold // jobs),
        page=page,
    )
    context = multiprocessing.get_context("spawn")
    queues = [context.Queue(maxsize=AHEAD) for _ in range(jobs)]
    workers = [
        context.Process(target=work, args=(plan, part, queues[part]), daemon=True,
                        name=f"rebuild-part-{part}")
        for part in range(jobs)
    ]
    for worker in workers:
        worker.start()
    done = 0
    try:
        while True:
            pages = [_receive(q, w) for q, w in zip(queues, workers, strict=True)]
            kinds = {page[0] for page in pages}
            if kinds == {"done"}:
                log.info("rebuild: %d events in %d processes, CPU seconds by part: %s", done,
                         jobs, ", ".join(f"{page[4]:.1f}" for page in pages))
                return done
            ends = {page[1] for page in pages}
            if kinds != {"page"} or len(ends) != 1:
                raise RuntimeError(f"the rebuild's workers went out of step: {kinds}, {ends}")
            changes = [change for page in pages for change in page[3]]
            count = pages[0][2]
            view.write(_writer(view, changes), Tracking(view.tables.tracked, ends.pop()))
            done += count
            if progress is not None:
                progress(count)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join(timeout=10)
        for q in queues:
            q.close()
            q.cancel_join_thread()


def _writer(view: CredibilityView, changes: list[tuple[Any, ...]]) -> Callable[[Any], None]:
    tables = view.tables
    return lambda cursor: write_page(tables, cursor, changes)


def _receive(source: Any, worker: Any) -> tuple[Any, ...]:
    while True:
        try:
            message: tuple[Any, ...] = source.get(timeout=POLL)
        except queue.Empty:
            if not worker.is_alive():
                raise RuntimeError(
                    f"a rebuild worker ({worker.name}) stopped (exit code {worker.exitcode})"
                ) from None
            continue
        if message[0] == "error":
            raise RuntimeError(f"a rebuild worker failed:\n{message[1]}")
        return message
