"""Runs the credibility projection (``ledger.projection.projection``) for a store.

``Projector`` runs it. Only the process holding the projector lock projects (an advisory
lock on PostgreSQL, a file lock beside the SQLite file); the others read. It reads the
log in pages through the library's recorder (``select_notifications``), resuming from the
tracking position, and waits between pages on a wake-up: this process's own writes
(``LedgerApplication.on_saved``), the library's LISTEN/NOTIFY subscription on PostgreSQL,
and a short poll for other processes' writes on SQLite, which cannot subscribe. A rebuild
may project in several processes (``ledger.projection.parallel``).

We do not use the library's ``ProjectionRunner``: it builds a second application and
connection pool in the process, projects one event per transaction (too slow for a
rebuild of millions of events) and cannot follow an SQLite store.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from ledger.credibility.registry import VERSIONS, ModelVersion
from ledger.locks import StoreLock
from ledger.persistence.backends import backend_of
from ledger.projection import parallel
from ledger.projection.projection import CredibilityProjection, Event, read_events
from ledger.projection.views import CredibilityView
from ledger.store import LedgerApplication

log = logging.getLogger(__name__)
#: Events read and projected at a time (each page's rows commit with its position).
PAGE = 1000
#: Events to project from which a rebuild asked for several jobs uses them (starting a
#: worker process costs about a second).
PARALLEL_FROM = 20_000
#: A parallel rebuild writes this many of one process's pages in each transaction (a row
#: made and ended within one is written once: ``CredibilityTables.replace_all``).
PARALLEL_PAGES = 5
#: How long the runner gathers new events before projecting them, unless a reader waits.
GATHER = 0.05


class ProjectorLock(StoreLock):
    """One projector per model version's projection in a store: a file lock beside the
    SQLite file (``.projector.<prefix>.lock``), or a PostgreSQL advisory lock on a
    connection of its own (``ledger.locks``). Released when the process dies."""

    def __init__(self, store: LedgerApplication, prefix: str = "credibility") -> None:
        super().__init__(store, prefix, file=f".projector.{prefix}.lock")
        #: The projection's tables' prefix (``tables.table_prefix``): what it locks.
        self.prefix = prefix


class Projector:
    """Runs the credibility projection for one store; serves the reads of its tables."""

    def __init__(self, store: LedgerApplication, view: CredibilityView, poll: float = 0.1) -> None:
        self.store = store
        self.view = view
        self.view.tables.log = store.index_log_table()
        self.projection = CredibilityProjection(view, store, VERSIONS[view.tables.model])
        self.lock = ProjectorLock(store, view.tables.prefix)
        self.poll = poll
        self.wake = threading.Event()  # new events were stored
        self.urgent = threading.Event()  # a reader waits for them
        self.stopping = threading.Event()
        self._mutex = threading.Lock()  # one catch-up at a time in this process
        self._thread: threading.Thread | None = None
        self._listener: Any = None
        self._owned: ProjectorLock | None = None  # the lock the runner holds
        #: How many processes the last rebuild here projected in (1: this one alone).
        self.rebuilt_in = 1
        store.on_saved.append(self.wake.set)

    # -- following the log ---------------------------------------------------------------

    @property
    def model(self) -> ModelVersion:
        """The model version it projects."""
        return self.projection.model

    def follow_served(self) -> bool:
        """Project the version the store serves from now on, if another than this one
        (``rebuild --model`` switched it): its tables, its position, its lock. True if
        it changed. The lock of the version followed before is left to its holder to
        release (``_run``)."""
        name = self.view.served()
        if name == self.model.name:
            return False
        with self._mutex:
            if name == self.model.name:
                return False
            log.info("the store serves the model version %s now (was %s): following it",
                     name, self.model.name)
            self.view.tables = self.view.tables.beside(name)
            self.view.tables.log = self.store.index_log_table()
            self.projection = CredibilityProjection(self.view, self.store, VERSIONS[name])
            self.lock = ProjectorLock(self.store, self.view.tables.prefix)
        return True

    def head(self) -> int:
        return int(self.store.recorder.max_notification_id() or 0)

    def events(self, after: int, limit: int) -> list[Event]:
        return read_events(self.store, after, limit)

    def catch_up(
        self,
        until: int | None = None,
        progress: Callable[[int], None] | None = None,
        interrupt: threading.Event | None = None,
    ) -> int:
        """Project every event after the tracking position (to ``until``); returns how many.

        Call only while holding the lock. ``interrupt`` stops it between pages.
        """
        done = 0
        with self._mutex:
            if not self.store.log_reaches(self.view.position()):  # the log was cut short
                log.error("the log no longer reaches the credibility projection's position "
                          "%d: events were removed behind the service's back (run claims-ledger "
                          "verify --against a checkpoint); projecting the log again",
                          self.view.position())
                self.view.drop()
                self.projection.forget()
            self.view.tables.forget_points()
            while interrupt is None or not interrupt.is_set():
                after = self.view.position()
                if until is not None and after >= until:
                    break
                page = self.events(after, PAGE)
                if not page:
                    break
                for event in page:
                    self.projection.process(event)
                self.projection.flush()
                done += len(page)
                if progress is not None:
                    progress(len(page))
            if interrupt is None or not interrupt.is_set():
                self.view.index_points()
        return done

    def caught_up(self, timeout: float = 2.0) -> bool:
        """Make the tables reflect every event stored now, within ``timeout`` seconds.

        With the lock free (no projector running), this process projects what is missing
        itself; otherwise it waits for the one that holds it. False: still behind.
        """
        head = self.head()
        if self.view.position() >= head and self.store.log_reaches(self.view.position()):
            return True
        with self.lock.holding() as mine:
            if mine:
                self.catch_up(until=head)
                return True
        self.urgent.set()
        self.wake.set()
        return self.view.wait_for(head, timeout)

    def rebuild(
        self,
        progress: Callable[[int], None] | None = None,
        hold: int | None = None,
        resume: bool = False,
        model: str | None = None,
        jobs: int = 1,
    ) -> int:
        """Drop the tables and project the whole log again; returns the events projected.

        ``hold``: the most statements kept in memory meanwhile (more is faster on a large
        ledger: a claim dropped from memory is reloaded from the store when next spoken of).
        ``resume``: keep what is projected and go on from the tracking position (a rebuild
        that was killed: each page's rows commit with its position, so what is there is a
        consistent prefix of the log).
        ``model``: a version other than the one served is built in tables of its own
        beside the served ones (which a running server keeps serving and following), then
        recorded as served, and the tables of the version served before dropped, in one
        transaction: a server follows the switch (``follow_served``).
        ``jobs``: worker processes projecting a part of the claims each
        (``ledger.projection.parallel``; the same rows), when the log holds at least
        ``PARALLEL_FROM`` events to project; ``hold`` is shared among them. They are
        started with ``spawn``, so a script that calls this with ``jobs`` > 1 must do so
        under ``if __name__ == "__main__":`` (as for any ``multiprocessing`` use).
        """
        self.follow_served()
        if model is None or model == self.model.name:
            return self._rebuild(progress, hold, resume, jobs=jobs)
        if model not in VERSIONS:
            raise KeyError(model)
        view = self.view.beside(model, fresh=not resume)
        view.tables.log = self.store.index_log_table()
        builder = Projector(self.store, view, self.poll)
        try:
            done = builder._rebuild(progress, hold, resume=True, serve=True, jobs=jobs)
        finally:
            self.store.on_saved.remove(builder.wake.set)
            self.rebuilt_in = builder.rebuilt_in
        self.follow_served()
        return done

    def _rebuild(
        self,
        progress: Callable[[int], None] | None,
        hold: int | None,
        resume: bool,
        serve: bool = False,
        jobs: int = 1,
    ) -> int:
        with self.lock.holding() as mine:
            if not mine:
                raise RuntimeError(
                    f"another process is projecting {self.model.name} on this store: stop it "
                    "first"
                )
            with self._mutex:
                if not resume:
                    self.view.drop()
                self.projection.forget()
            self.projection.room = hold
            try:
                done = self._in_parallel(jobs, progress, hold)
                done += self.catch_up(progress=progress)
                if serve:
                    # The events stored meanwhile, then the switch: lists answer from these
                    # tables from the next read on, whatever was stored since.
                    done += self.catch_up(progress=progress)
                    self.view.serve()
                return done
            finally:
                self.projection.room = None
                self.projection.forget()  # back to what a server holds

    def _in_parallel(
        self, jobs: int, progress: Callable[[int], None] | None, hold: int | None
    ) -> int:
        """Project up to the head in ``jobs`` processes if that is worth it; returns how
        many events (``catch_up`` does the rest: the events stored meanwhile, the R-tree)."""
        self.rebuilt_in = 1
        if jobs < 2:
            return 0
        with self._mutex:
            head, position = self.head(), self.view.position()
            if head - position < PARALLEL_FROM or not self.store.log_reaches(position):
                return 0
            with self.view.reading() as cursor:
                if self.view.tables.points_ready(cursor):
                    return 0  # kept up to date row by row: one process (it needs row ids)
            done = parallel.project(
                self.store, self.view, jobs, head, PAGE * PARALLEL_PAGES, progress, hold
            )
            self.rebuilt_in = jobs
            return done

    # -- the background runner -------------------------------------------------------------

    def start(self) -> None:
        """Follow the log in a background thread (a server does), until ``stop``."""
        if self._thread is not None and self._thread.is_alive():
            return
        self.stopping.clear()
        self._thread = threading.Thread(target=self._run, name="credibility-projector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.urgent.set()
        self.wake.set()
        if self._listener is not None:
            with contextlib.suppress(Exception):
                self._listener.stop()
            self._listener = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.lock.release()
        if self._owned is not None:
            self._owned.release()
            self._owned = None

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._follow()
                if self.lock.acquire():
                    self._owned = self.lock
                    self._listen()
                    self.catch_up(interrupt=self.stopping)
            except Exception:  # the store may be down: log, back off, resume from tracking
                with contextlib.suppress(Exception):
                    if self._follow():  # the tables it wrote were dropped by a switch
                        continue
                log.exception("credibility projection failed; retrying from its position")
                self.projection.forget()
                self.stopping.wait(1.0)
            self.wake.wait(self.poll)
            # Under a stream of writes, gather them: one projection transaction for many
            # events, not one per write competing with the writes for the disk. A reader
            # waiting for its own write cuts the gathering short.
            if not self.urgent.is_set():
                self.urgent.wait(GATHER)
            self.wake.clear()
            self.urgent.clear()

    def _follow(self) -> bool:
        """``follow_served``, releasing the lock of the version followed before (this
        runner's, whichever thread saw the switch first)."""
        changed = self.follow_served()
        held = self._owned
        if held is not None and held is not self.lock:
            held.release()
            self._owned = None
            changed = True
        return changed

    def _listen(self) -> None:
        """On PostgreSQL, wake on the library's LISTEN/NOTIFY subscription to the log."""
        if self._listener is not None or not backend_of(self.store.recorder).notifies:
            return  # SQLite cannot subscribe: the poll and this process's writes wake us
        subscription = self.store.recorder.subscribe(gt=self.head())
        self._listener = subscription

        def forward() -> None:
            with contextlib.suppress(Exception), subscription:
                for _ in subscription:
                    self.wake.set()

        threading.Thread(target=forward, name="credibility-listener", daemon=True).start()
