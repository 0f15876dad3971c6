"""The process's one reader of the log (``ledger.live.LogHub``) and its subscribers
(``ledger.live.follow``): many subscribers, one read of each page; a subscriber that joins
late catches up from the log itself, then takes the hub's pages with no gap and no
duplicate; one too slow for its queue is cut loose and catches up by position."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from typing import Any

from ledger.application import ClaimsLedger
from ledger.live import Changes, LogFilter, LogHub, Message, follow, in_thread, log_feed

from .helpers import claim, say, source


def _encode(message: Message) -> bytes:
    return f"id: {message.id}\ndata: {json.dumps(message.data)}\n\n".encode()


def _positions(chunks: list[bytes]) -> list[int]:
    text = b"".join(chunks).decode()
    return [int(line[4:]) for line in text.splitlines() if line.startswith("id: ")]


def _setup(ledger: ClaimsLedger) -> None:
    source(ledger, "zelensky")
    source(ledger, "peskov")
    claim(ledger, "troops")
    claim(ledger, "arms")


async def _collect(hub: LogHub, ledger: ClaimsLedger, after: int, wanted: LogFilter,
                   into: list[bytes]) -> None:
    async for chunk in follow(hub, after, lambda p: log_feed(ledger, p, wanted), wanted):
        into.append(chunk)


async def _until(done: Any, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not done():
            await asyncio.sleep(0.01)


def _write(ledger: ClaimsLedger, count: int, start: int = 1) -> None:
    for day in range(start, start + count):
        say(ledger, "troops" if day % 3 else "arms", "asserted" if day % 2 else "denied",
            "zelensky" if day % 2 else "peskov", f"2024-10-{day % 28 + 1:02d}")


def test_many_subscribers_share_one_reader_and_see_every_event_once(
    ledger: ClaimsLedger,
) -> None:
    _setup(ledger)

    async def scenario() -> None:
        # A poll far longer than the test: only this process's writes wake the hub.
        hub = LogHub(ledger, Changes(ledger.store), _encode, poll=3600, gather=0.01)
        await hub.start()
        try:
            got: list[list[bytes]] = [[] for _ in range(20)]
            arms: list[bytes] = []
            tasks = [asyncio.create_task(_collect(hub, ledger, 0, LogFilter(), into))
                     for into in got]
            tasks.append(asyncio.create_task(_collect(hub, ledger, 0, LogFilter(claim="arms"),
                                                      arms)))
            await _until(lambda: all(_positions(g) == [1, 2, 3, 4] for g in got))
            reads = hub.reads
            # Written from another thread while the subscribers follow.
            await asyncio.to_thread(_write, ledger, 30)
            await _until(lambda: all(len(_positions(g)) == 34 for g in got))
            for chunks in got:
                assert _positions(chunks) == list(range(1, 35))
            log = ledger.global_log(0, 100)["events"]
            arms_positions = [r["position"] for r in log if r.get("claim_id") == "arms"]
            await _until(lambda: _positions(arms) == arms_positions)
            # The hub read each new page once for all 21 subscribers: at most one read per
            # wake-up (a write wakes it, and on PostgreSQL its NOTIFY once more), not 21.
            assert hub.reads - reads <= 2 * 30 + 1
            # A subscriber that joins late, from an old position: the catch-up, then live.
            late: list[bytes] = []
            tasks.append(asyncio.create_task(_collect(hub, ledger, 10, LogFilter(), late)))
            await _until(lambda: _positions(late) == list(range(11, 35)))
            await asyncio.to_thread(_write, ledger, 5, 40)
            await _until(lambda: len(_positions(late)) == 29)
            assert _positions(late) == list(range(11, 40))
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            assert not hub.subscribers  # each left the hub as it ended
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_a_subscriber_too_slow_for_its_queue_catches_up_from_the_log(
    ledger: ClaimsLedger,
) -> None:
    _setup(ledger)

    async def scenario() -> None:
        hub = LogHub(ledger, Changes(ledger.store), _encode, poll=3600, gather=0.01,
                     queue_limit=3)
        await hub.start()
        try:
            wanted = LogFilter()
            feed = follow(hub, 0, lambda p: log_feed(ledger, p, wanted), wanted)
            first = await anext(feed)  # the catch-up: positions 1-4; then it stops reading
            assert _positions([first]) == [1, 2, 3, 4]
            joined = next(iter(hub.subscribers))
            for day in range(1, 7):  # one page each (the hub reads after every write)
                await asyncio.to_thread(_write, ledger, 1, day)
                await _until(lambda: hub.position == 4 + day)  # noqa: B023
            assert joined.cut and joined not in hub.subscribers  # more than 3 records behind
            rest: list[bytes] = []
            while len(_positions(rest)) < 6:
                rest.append(await anext(feed))
            assert _positions(rest) == [5, 6, 7, 8, 9, 10]  # from the log itself, nothing lost
            assert len(hub.subscribers) == 1 and next(iter(hub.subscribers)) is not joined
            await asyncio.to_thread(_write, ledger, 1, 20)
            assert _positions([await anext(feed)]) == [11]  # and live again
            await feed.aclose()
            assert not hub.subscribers
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_a_subscriber_of_one_claim_is_handed_only_the_pages_that_hold_it(
    ledger: ClaimsLedger,
) -> None:
    _setup(ledger)

    async def scenario() -> None:
        hub = LogHub(ledger, Changes(ledger.store), _encode, poll=3600, gather=0.01)
        await hub.start()
        try:
            arms, anyone = hub.join("arms"), hub.join()
            await asyncio.to_thread(say, ledger, "troops", "asserted", "zelensky", "2024-10-13")
            await _until(lambda: hub.position == 5)
            assert not arms.pages and len(anyone.pages) == 1
            await asyncio.to_thread(say, ledger, "arms", "denied", "peskov", "2024-10-14")
            await _until(lambda: hub.position == 6)
            assert [p.last for p in arms.pages] == [6] and len(anyone.pages) == 2
            hub.leave(arms)
            hub.leave(anyone)
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_the_reader_stops_whenever_it_is_told_even_as_a_poll_times_out(
    ledger: ClaimsLedger,
) -> None:
    """``stop`` ends the reader at any moment of its poll. (A server's shutdown once
    waited for ever: on Python 3.11 ``asyncio.wait_for`` returns normally, dropping the
    cancellation, when the awaited wake-up completes as the task is cancelled; the reader
    now waits with ``asyncio.timeout`` and checks a stop flag. That race is rare: this
    stops the reader at many points, with a bound that fails the test rather than hang.)"""
    _setup(ledger)

    async def scenario() -> None:
        for n in range(150):
            hub = LogHub(ledger, Changes(ledger.store), _encode, poll=0.001, gather=0.0)
            await hub.start()
            await asyncio.sleep(0.001 * (n % 7))  # stop at many points of the poll
            async with asyncio.timeout(30):  # a hang fails the test, not the suite
                await hub.stop()

    asyncio.run(scenario())


def test_stop_waits_for_a_read_under_way_before_the_store_may_close(
    ledger: ClaimsLedger, monkeypatch: Any
) -> None:
    """A stopped hub's read still running in its thread when the store closed crashed the
    process (SQLite closed under a query); ``stop`` returns only once that read ended."""
    _setup(ledger)
    reading, release = threading.Event(), threading.Event()
    ended: list[bool] = []
    read = ledger.global_log

    def slow(after: int = 0, limit: int = 100, **kw: Any) -> Any:
        reading.set()
        release.wait(10)
        page = read(after, limit, **kw)
        ended.append(True)
        return page

    async def scenario() -> None:
        hub = LogHub(ledger, Changes(ledger.store), _encode, poll=3600, gather=0.01)
        await hub.start()
        monkeypatch.setattr(ledger, "global_log", slow)
        hub._woken()  # as a write wakes it: it reads
        await asyncio.to_thread(reading.wait, 10)
        assert reading.is_set() and not ended
        stopping = asyncio.create_task(hub.stop())
        await asyncio.sleep(0.2)
        assert not stopping.done()  # the read is still under way: stop waits for it
        release.set()
        await asyncio.wait_for(stopping, 10)
        assert ended == [True]

    asyncio.run(scenario())


def test_a_cancelled_subscriber_ends_only_once_its_read_has_ended(ledger: ClaimsLedger) -> None:
    """A subscriber cancelled (its client gone, the server stopping) while it catches up
    from the log ends only once that read ended, so the store is never closed under it."""
    _setup(ledger)
    reading, release = threading.Event(), threading.Event()
    ended: list[bool] = []

    def slow_read(after: int) -> Any:
        reading.set()
        release.wait(10)
        page = log_feed(ledger, after, LogFilter())
        ended.append(True)
        return page

    async def scenario() -> None:
        hub = LogHub(ledger, Changes(ledger.store), _encode, poll=3600, gather=0.01)
        await hub.start()
        try:
            async def subscribe() -> None:
                async for _ in follow(hub, 0, slow_read, LogFilter()):
                    pass

            task = asyncio.create_task(subscribe())
            await asyncio.to_thread(reading.wait, 10)
            task.cancel()
            await asyncio.sleep(0.2)
            assert not task.done()  # its read is still under way
            release.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
            assert task.cancelled() and ended == [True]
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_a_call_in_a_thread_ends_before_an_anyio_cancellation_goes_on() -> None:
    """sse-starlette runs each stream in an anyio task group, which cancels again at every
    turn of the loop until the task ends: ``in_thread`` still returns only once the
    thread's call has ended."""
    import anyio

    ended: list[float] = []

    def slow() -> None:
        time.sleep(0.5)
        ended.append(time.monotonic())

    async def scenario() -> float:
        async with anyio.create_task_group() as group:
            group.start_soon(in_thread, slow)
            await anyio.sleep(0.1)
            group.cancel_scope.cancel()
        return time.monotonic()

    left = asyncio.run(scenario())
    assert ended and ended[0] <= left  # the group was left after the call ended


def test_stop_waits_a_bounded_time_and_start_twice_starts_once(
    ledger: ClaimsLedger, monkeypatch: Any, caplog: Any
) -> None:
    """A read stuck (a cut connection) holds a stop only ``HUB_STOP_WAIT`` seconds, said in
    the log; a second ``start`` leaves the one reader there is."""
    import ledger.live as live

    _setup(ledger)
    monkeypatch.setattr(live, "HUB_STOP_WAIT", 0.2)
    reading, release = threading.Event(), threading.Event()
    read = ledger.global_log

    def stuck(after: int = 0, limit: int = 100, **kw: Any) -> Any:
        reading.set()
        release.wait(10)
        return read(after, limit, **kw)

    async def scenario() -> None:
        hub = LogHub(ledger, Changes(ledger.store), _encode, poll=3600, gather=0.01)
        await hub.start()
        task = hub._task
        await hub.start()
        assert hub._task is task  # one reader
        monkeypatch.setattr(ledger, "global_log", stuck)
        hub._woken()
        await asyncio.to_thread(reading.wait, 10)
        began = time.monotonic()
        await hub.stop()
        assert time.monotonic() - began < 5
        release.set()

    asyncio.run(scenario())
    assert "did not end within 0.2 s" in caplog.text
