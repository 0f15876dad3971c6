"""Live feeds: the global log and a claim's credibility changes, read page by page from a
position, and the signal that wakes a follower when this process stores events.

A follower holds the position of the last event it has seen and asks for what comes after
it: catch-up and live are the same read, so a reconnect (or a restart of the server) from
that position neither skips nor repeats an event. Writes by other processes are not
signalled here; a follower also reads again after a pause (its poll).

A server does not let each of its subscribers read the log: ``LogHub`` is the one reader of
a process. It follows the log (woken by this process's writes, by PostgreSQL's
LISTEN/NOTIFY, and by a short poll for other processes' writes on SQLite) and hands each
page it reads to every subscriber's bounded queue, each record encoded once for them all.
``follow`` is a subscriber: it joins the hub (noting the hub's position), catches up from
its own position by reading the log itself up to there, then takes the hub's pages, so
nothing is skipped and nothing repeated. A subscriber that falls behind by more than its
queue holds is cut loose by the hub and catches up from the log itself again, by position,
then joins anew: a slow client costs the others nothing and loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from ledger.application import ClaimsLedger
from ledger.errors import LedgerError, StoreUnavailable
from ledger.persistence.backends import backend_of
from ledger.statements import STATEMENT_TYPES
from ledger.store import LedgerApplication

JSON = dict[str, Any]
T = TypeVar("T")

#: The ``type`` of every record of the global log: a claim's events and the registry's.
LOG_TYPES = ("claim_registered", "source_registered", "source_rerated",
             *(str(kind) for kind in STATEMENT_TYPES))
PAGE = 100
#: The hub's page: the most records it reads (and hands on) at once.
HUB_PAGE = 500
#: The least time between two of the hub's reads: under a stream of writes it gathers them,
#: so each subscriber is woken (and written to) once per batch, not once per event.
HUB_GATHER = 0.05
#: The most of the server's time that handing pages to subscribers may take: with many
#: subscribers, the hub reads less often (bigger batches), so the writes keep the rest.
HUB_SHARE = 0.15
#: ... but it reads at least this often under writes (a slow subscriber's socket can make a
#: hand-off look long; it is cut loose once its queue is full).
HUB_SPACING_MAX = 1.0
#: How long stopping waits for a read under way (one stuck on a cut connection would hold
#: the server's shutdown for as long as the network takes to give up).
HUB_STOP_WAIT = 30.0
#: The most records a subscriber's queue holds before the hub cuts it loose.
QUEUE_LIMIT = 5000

log = logging.getLogger(__name__)


class Changes:
    """Calls its listeners after every save of this process (from the writer's thread:
    a listener must only hand the news on, e.g. set an event)."""

    def __init__(self, store: LedgerApplication) -> None:
        self._listeners: set[Callable[[], None]] = set()
        self._lock = threading.Lock()
        store.on_saved.append(self._notify)

    def listen(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.add(listener)

    def forget(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


@dataclass(frozen=True)
class Message:
    """One message of a feed: its ``name`` (None: the default), its data, and ``id``, the
    position a subscriber resumes after (None: the next message's, of the same position)."""

    name: str | None
    data: JSON
    id: int | None


@dataclass(frozen=True)
class Page:
    """What a feed read: its messages, the position to read after next, and ``full``:
    more may be waiting."""

    messages: list[Message]
    last: int
    full: bool


@dataclass(frozen=True)
class LogFilter:
    """Which records of the global log a subscriber wants: all of those given must match."""

    claim: str | None = None
    source: str | None = None
    type: str | None = None

    def admits(self, record: JSON) -> bool:
        return (
            (self.claim is None or record.get("claim_id") == self.claim)
            and (self.source is None or record.get("source") == self.source)
            and (self.type is None or record["type"] == self.type)
        )


#: The filter that admits every record.
EVERYTHING = LogFilter()


@dataclass(frozen=True)
class LogBatch:
    """The records after a position that a filter admits, and ``last``: the last position
    read (admitted or not), where the next read starts. ``full``: more may be waiting."""

    records: list[JSON]
    last: int
    full: bool


def log_after(ledger: ClaimsLedger, after: int, wanted: LogFilter, limit: int = PAGE) -> LogBatch:
    """One page of the global log after position ``after``, filtered."""
    page = ledger.global_log(after, limit)
    events: list[JSON] = page["events"]
    admitted = [record for record in events if wanted.admits(record)]
    return LogBatch(admitted, int(page["next"]), len(events) >= limit)


def log_feed(ledger: ClaimsLedger, after: int, wanted: LogFilter) -> Page:
    """The global log's feed: one message per record, its id the record's position."""
    batch = log_after(ledger, after, wanted)
    messages = [Message(None, record, record["position"]) for record in batch.records]
    return Page(messages, batch.last, batch.full)


def changes_after(ledger: ClaimsLedger, claim_id: str, after: int, limit: int = PAGE) -> list[JSON]:
    """The claim's credibility changes (audit entries: the event, before, after and the
    reason) recorded after position ``after``, at most ``limit``, each with its claim."""
    entries: list[JSON] = ledger.audit(claim_id, cursor=str(after), limit=limit)["entries"]
    return [{"claim_id": claim_id, **entry} for entry in entries]


def follow_log(
    ledger: ClaimsLedger,
    after: int,
    wanted: LogFilter,
    *,
    follow: bool,
    changes: Changes | None = None,
    poll: float = 1.0,
    stop: threading.Event | None = None,
) -> Iterator[JSON]:
    """The records after ``after`` that ``wanted`` admits; with ``follow``, then every one
    stored later, until ``stop`` is set (woken by this process's writes, which ``changes``
    signals, else every ``poll`` seconds: a ``stop`` set while it waits is seen then).
    While following, a store that cannot be reached
    is read again after a poll."""
    stop = stop or threading.Event()
    wake = threading.Event()
    if changes is not None:
        changes.listen(wake.set)
    try:
        while not stop.is_set():
            wake.clear()
            try:
                batch = log_after(ledger, after, wanted)
            except StoreUnavailable:
                if not follow:
                    raise
                stop.wait(poll)
                continue
            yield from batch.records
            after = batch.last
            if batch.full:
                continue
            if not follow or stop.is_set():
                return
            wake.wait(poll)
    finally:
        if changes is not None:
            changes.forget(wake.set)


# -- one reader per process, its pages handed to every subscriber -------------------------

Encode = Callable[[Message], bytes]


class HubPage:
    """A page the hub read: the log's records after the hub's last position up to ``last``.
    ``frames``: each record as its message of the log feed, encoded once for every
    subscriber (when the first one asks). ``taken`` is called when the last subscriber it
    was handed to has taken it, with the seconds that took (the cost of a fan-out)."""

    def __init__(self, records: list[JSON], last: int, encode: Encode) -> None:
        self.records, self.last, self._encode = records, last, encode
        self._frames: list[bytes] | None = None
        self._whole: bytes | None = None
        self._claims: dict[str | None, list[tuple[JSON, bytes]]] | None = None
        self.waiting = 0
        self.handed = 0.0
        self.taken: Callable[[float], None] | None = None

    @property
    def whole(self) -> bytes:
        """Every frame of the page, joined once for every subscriber that wants them all."""
        if self._whole is None:
            self._whole = b"".join(self.frames)
        return self._whole

    def after(self, position: int, wanted: LogFilter) -> bytes:
        """The frames of the records after ``position`` that ``wanted`` admits."""
        if wanted == EVERYTHING:
            if self.records[0]["position"] > position:
                return self.whole
            chosen = list(zip(self.records, self.frames, strict=True))
        elif wanted.source is None and wanted.type is None:  # one claim's: looked up
            chosen = self._by_claim().get(wanted.claim, [])
        else:
            chosen = [(record, frame) for record, frame
                      in zip(self.records, self.frames, strict=True) if wanted.admits(record)]
        return b"".join(frame for record, frame in chosen if record["position"] > position)

    def claims(self) -> set[str | None]:
        """The claims the page's events are of (None: an event of no claim)."""
        return {record.get("claim_id") for record in self.records}

    def _by_claim(self) -> dict[str | None, list[tuple[JSON, bytes]]]:
        if self._claims is None:
            self._claims = {}
            for record, frame in zip(self.records, self.frames, strict=True):
                self._claims.setdefault(record.get("claim_id"), []).append((record, frame))
        return self._claims

    def took(self) -> None:
        self.waiting -= 1
        if self.waiting == 0 and self.taken is not None:
            self.taken(time.monotonic() - self.handed)

    @property
    def frames(self) -> list[bytes]:
        if self._frames is None:
            self._frames = [self._encode(Message(None, record, record["position"]))
                            for record in self.records]
        return self._frames


class Subscriber:
    """A subscriber's place at the hub: the pages read since it joined (``joined``: the
    hub's position then), at most ``QUEUE_LIMIT`` records of them. Lives on the loop."""

    def __init__(self, joined: int, claim: str | None = None) -> None:
        self.joined = joined
        self.claim = claim  # handed only the pages that hold this claim's events (if given)
        self.pages: deque[HubPage] = deque()
        self.held = 0
        self.cut = False  # fell too far behind: the hub let it go
        self.error: LedgerError | None = None
        self.ready = asyncio.Event()

    def drop(self) -> None:
        """Give up the pages queued (they count as taken)."""
        while self.pages:
            self.pages.popleft().took()
        self.held = 0

    async def next(self) -> HubPage | None:
        """The next page, or None once the hub cut it loose (it must catch up by itself);
        the hub's error once the log cannot be read past damage."""
        while not self.pages:
            if self.cut:
                return None
            if self.error is not None:
                raise self.error
            self.ready.clear()
            await self.ready.wait()
        page = self.pages.popleft()
        self.held -= len(page.records)
        page.took()
        return page


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread; cancelled, it waits for the thread's call
    to end before the cancellation goes on (``asyncio.to_thread`` lets the call run on
    unseen, so a server stopping could close the store under a subscriber's read)."""
    call = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(call)
    except asyncio.CancelledError:
        # anyio's task groups (sse-starlette's) cancel again at every turn of the loop
        # until the task ends: wait through each of those too.
        while not call.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([call])
        raise


class LogHub:
    """The one reader of the global log in a server process; see the module's docstring.

    Runs on the server's event loop (``start`` there); reads in a worker thread. Woken by
    ``changes`` (this process's writes), by the store's LISTEN/NOTIFY on PostgreSQL, and
    every ``poll`` seconds (other processes' writes on SQLite); reads at most every
    ``gather`` seconds, so a stream of writes reaches subscribers in batches, and less often
    when handing a page to every subscriber takes more than ``share`` of the time between
    reads (measured: from the hand-off to the last subscriber taking the page).
    """

    def __init__(self, ledger: ClaimsLedger, changes: Changes, encode: Encode, *,
                 poll: float = 1.0, gather: float = HUB_GATHER, share: float = HUB_SHARE,
                 queue_limit: int = QUEUE_LIMIT) -> None:
        self.ledger, self.changes, self.encode = ledger, changes, encode
        self.poll, self.gather, self.share = poll, gather, share
        self.queue_limit = queue_limit
        self.fan_out = 0.0  # seconds the last hand-off took (until the last subscriber took it)
        self.position = 0
        self.subscribers: set[Subscriber] = set()
        self.error: LedgerError | None = None
        self.reads = 0  # pages read (for tests and metrics)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._subscription: Any = None
        # The hub's own reading thread: ``stop`` waits for a read under way to end, so the
        # store is never closed under a query (a cancelled ``to_thread`` read goes on
        # running; SQLite closed under it crashed the process).
        self._reader: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        if self._task is not None:  # started already
            return
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="log-hub")
        self.position = await in_thread(self._head)
        self.changes.listen(self._woken)
        await in_thread(self._listen)
        self._task = asyncio.create_task(self._run(), name="log-hub")

    async def stop(self) -> None:
        self.changes.forget(self._woken)
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                self._subscription.stop()
            self._subscription = None
        if self._task is not None:
            self._stopping = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._reader is not None:  # a read under way ends before the store may close
            reader, self._reader = self._reader, None
            ended = asyncio.ensure_future(asyncio.to_thread(reader.shutdown, wait=True))
            done, _ = await asyncio.wait([ended], timeout=HUB_STOP_WAIT)
            if not done:  # a read stuck on a cut connection: stop without it
                log.warning("the log hub's read did not end within %g s; stopping without "
                            "it", HUB_STOP_WAIT)

    def join(self, claim: str | None = None) -> Subscriber:
        """A new subscriber: every page the hub reads from now on is queued for it (with
        ``claim``: every page that holds an event of that claim)."""
        subscriber = Subscriber(self.position, claim)
        subscriber.error = self.error
        self.subscribers.add(subscriber)
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        subscriber.drop()

    def _head(self) -> int:
        return int(self.ledger.store.recorder.max_notification_id() or 0)

    def _woken(self) -> None:  # in the writer's thread, after its commit: must never raise
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed (the server stopped)
                self._loop.call_soon_threadsafe(self._wake.set)

    def _listen(self) -> None:
        """On PostgreSQL, wake on the library's LISTEN/NOTIFY subscription to the log (as
        the projector does); SQLite and memory cannot subscribe."""
        recorder = self.ledger.store.recorder
        if not backend_of(recorder).notifies:
            return
        try:
            subscription = recorder.subscribe(gt=self._head())
        except Exception as error:  # the poll still finds other processes' writes
            log.warning("the log hub cannot subscribe (%s); polling instead", error)
            return
        self._subscription = subscription

        def forward() -> None:
            with contextlib.suppress(Exception), subscription:
                for _ in subscription:
                    self._woken()

        threading.Thread(target=forward, name="log-hub-listener", daemon=True).start()

    async def _run(self) -> None:
        last_read = 0.0
        while not self._stopping:
            spacing = max(self.gather, min(self.fan_out / self.share, HUB_SPACING_MAX))
            pause = last_read + spacing - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            self._wake.clear()
            last_read = time.monotonic()
            try:
                page = await self._read(self.position)
            except StoreUnavailable:  # it may come back: read again after a poll
                await self._wait(self.poll)
                continue
            except LedgerError as error:  # damaged history: the subscribers' streams end
                self._fail(error)
                await self._wait(self.poll)
                continue
            except Exception:  # never let the one reader die: log, pause, read again
                log.exception("the log hub could not read the log; trying again")
                await self._wait(self.poll)
                continue
            self.reads += 1
            self.error = None
            events: list[JSON] = page["events"]
            if events:
                self._hand_on(HubPage(events, int(page["next"]), self.encode))
            if len(events) < HUB_PAGE:
                await self._wait(self.poll)

    async def _read(self, after: int) -> JSON:
        assert self._loop is not None and self._reader is not None
        return await self._loop.run_in_executor(
            self._reader, self.ledger.global_log, after, HUB_PAGE)

    async def _wait(self, seconds: float) -> None:
        # ``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for`` returns
        # normally, dropping a cancellation, when the wake-up completes as the task is
        # cancelled; ``stop`` then waited for ever for a reader that went on reading.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    def _taken(self, seconds: float) -> None:
        self.fan_out = seconds

    def _hand_on(self, page: HubPage) -> None:
        self.position = page.last
        page.handed, page.taken = time.monotonic(), self._taken
        claims = page.claims()
        handed = [s for s in self.subscribers if s.claim is None or s.claim in claims]
        page.waiting = len(handed)
        if not page.waiting:
            self.fan_out = 0.0
        for subscriber in handed:
            if subscriber.held + len(page.records) > self.queue_limit:
                # Too slow to keep up: let it go; it reads the log itself from its position.
                subscriber.drop()
                page.took()
                subscriber.cut = True
                self.subscribers.discard(subscriber)
            else:
                subscriber.pages.append(page)
                subscriber.held += len(page.records)
            subscriber.ready.set()

    def _fail(self, error: LedgerError) -> None:
        self.error = error
        for subscriber in self.subscribers:
            subscriber.error = error
            subscriber.ready.set()


async def follow(
    hub: LogHub,
    after: int,
    read: Callable[[int], Page],
    wants: LogFilter | Callable[[JSON], bool],
) -> AsyncIterator[bytes]:
    """A subscriber's feed from position ``after``, as encoded server-sent events (several
    at once when they came together); raises ``LedgerError`` where the log is damaged.

    ``read(after)`` reads the feed's page after a position from the store (the catch-up).
    ``wants`` a ``LogFilter``: the hub's records it admits are the feed's messages (the log
    feed), and the catch-up reads only up to where the hub stood when it joined. Otherwise
    (a claim's feed) a record that ``wants`` admits only means something changed: the
    subscriber reads again from its position.
    """
    # A subscriber of one claim's events is handed only the pages that hold some.
    claim = (wants.claim if isinstance(wants, LogFilter) and wants.source is None
             and wants.type is None else None)
    while True:
        subscriber = hub.join(claim)
        try:
            until = subscriber.joined if isinstance(wants, LogFilter) else None
            async for chunk in _read_up(hub, after, read, until):
                after, frames = chunk
                if frames:
                    yield frames
            while (page := await subscriber.next()) is not None:
                if isinstance(wants, LogFilter):
                    frames = page.after(after, wants)
                    after = max(after, page.last)
                    if frames:
                        yield frames
                elif any(map(wants, page.records)):
                    async for chunk in _read_up(hub, after, read, None):
                        after, frames = chunk
                        if frames:
                            yield frames
        finally:
            hub.leave(subscriber)
        # Cut loose: catch up from the log itself, by position, and join again.


async def _read_up(
    hub: LogHub, after: int, read: Callable[[int], Page], until: int | None
) -> AsyncIterator[tuple[int, bytes]]:
    """Read pages after ``after`` until the feed is caught up (or past ``until``): each as
    (its last position, its encoded messages). A store that cannot be reached is read
    again after the hub's poll."""
    while until is None or after < until:
        try:
            page = await in_thread(read, after)
        except StoreUnavailable:
            await asyncio.sleep(hub.poll)
            continue
        after = max(after, page.last)
        yield after, b"".join(hub.encode(message) for message in page.messages)
        if not page.full:
            return
