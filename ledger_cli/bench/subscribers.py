"""Many server-sent event subscribers in one asyncio process, for the ``live`` scenario.

``python -m ledger_cli.bench.subscribers --port P --count N --after POSITION`` opens N
plain sockets to ``GET /events/stream?after=POSITION`` (with ``--claims A,B,...``: subscriber
i adds ``&claim=`` the i-th of them, round robin) (raw HTTP/1.1, no client library:
1,000 of them cost this process little, so the server under test keeps its core) and
prints ``ready N`` once every one has its 200. Each subscriber notes, for every chunk it
receives, when it came (wall clock) and the event ids in it; nothing is decoded while the
server is measured.

A line ``stop`` on stdin ends the run: the process reads ``GET /events`` after POSITION to
the end (the log's head and each event's ``recorded_at``), waits until every subscriber has
received every event up to the head (or ``--settle`` seconds), and prints one JSON line:
how many subscribers got every event exactly once and in order, and the percentiles of the
delay from each event's ``recorded_at`` to its arrival at each subscriber.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.client
import json
import re
import resource
import sys
import time
from array import array
from collections.abc import Callable
from datetime import datetime

from ledger_cli.bench.report import JSON, PERCENTILES, percentile

ID_LINE = re.compile(rb"(?:^|\n)id: (\d+)\r?\n")


def raise_fd_limit(needed: int) -> int:
    """Raise this process's open-file limit to ``needed`` (within the hard limit); the
    limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft)


class Subscriber(asyncio.Protocol):
    """One connection (a bare asyncio protocol: the loop hands it each chunk, no stream or
    coroutine in between): the chunks it received, as (arrival time, event ids)."""

    def __init__(self, claim: str | None, request: bytes, connected: Callable[[], None]
                 ) -> None:
        self.claim = claim  # the claim it follows (None: the whole log)
        self.request, self.connected = request, connected
        self.arrivals = array("d")  # one per chunk that held events
        self.ids: list[list[int]] = []
        self.error: str | None = None
        self.closed = False
        self.head: bytes | None = b""  # the response's head until it is whole, then None
        self.rest = b""

    def last(self) -> int:
        return self.ids[-1][-1] if self.ids else 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.request)  # type: ignore[attr-defined]  # uvloop's TCPTransport

    def data_received(self, data: bytes) -> None:
        at = time.time()
        if self.head is not None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            status, data = self.head[:end], self.head[end + 4:]
            self.head = None
            first = status.split(b"\r\n", 1)[0]
            if b" 200 " not in first:
                self.error = "status: " + first.decode(errors="replace")
            self.connected()
        data = self.rest + data if self.rest else data
        cut = data.rfind(b"\n") + 1
        found = [int(n) for n in ID_LINE.findall(data, 0, cut)]
        self.rest = data[cut:]
        if found:
            self.arrivals.append(at)
            self.ids.append(found)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if exc is not None and self.error is None:
            self.error = f"read: {exc}"
        if self.head is not None:  # it never got its answer
            self.error = self.error or "closed before an answer"
            self.head = None
            self.connected()


def _same(subscriber: Subscriber) -> Subscriber:
    return subscriber


def the_log(port: int, after: int) -> dict[int, tuple[float, str | None]]:
    """Each event's position after ``after``: its recorded_at (unix seconds) and claim."""
    recorded: dict[int, tuple[float, str | None]] = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        while True:
            connection.request("GET", f"/events?after={after}&limit=1000")
            page = json.loads(connection.getresponse().read())
            for record in page["data"]:
                at = datetime.fromisoformat(record["recorded_at"].replace("Z", "+00:00"))
                recorded[int(record["position"])] = (at.timestamp(), record.get("claim_id"))
            if not page.get("next_cursor") or not page["data"]:
                return recorded
            after = int(page["data"][-1]["position"])
    finally:
        connection.close()


def figures(subscribers: list[Subscriber], recorded: dict[int, tuple[float, str | None]]
            ) -> JSON:
    everything = sorted(recorded)
    expected: dict[str | None, list[int]] = {None: everything}
    for position in everything:
        expected.setdefault(recorded[position][1], []).append(position)
    delays = array("d")
    complete = 0
    # An append still in flight when the log was read may reach the subscribers after it:
    # what is judged is every event up to the last one the log read returned.
    upto = everything[-1] if everything else 0
    for subscriber in subscribers:
        got = [n for ids in subscriber.ids for n in ids if n <= upto]
        complete += got == expected.get(subscriber.claim, [])
        for at, ids in zip(subscriber.arrivals, subscriber.ids, strict=True):
            delays.extend(at - recorded[n][0] for n in ids if n in recorded)
    ordered = sorted(delays)
    result: JSON = {
        "subscribers": len(subscribers),
        "events": len(everything),
        "complete": complete,
        "errors": sorted({s.error for s in subscribers if s.error})[:5],
        "deliveries": len(ordered),
    }
    for name, pct in PERCENTILES:
        result[f"delay_{name}"] = round(percentile(ordered, pct) * 1000, 3) if ordered else None
    result["delay_max_ms"] = round(ordered[-1] * 1000, 3) if ordered else None
    return result


async def main(port: int, count: int, after: int, claims: list[str], settle: float) -> JSON:
    loop = asyncio.get_running_loop()
    connected, done = asyncio.Event(), [0]

    def counted() -> None:
        done[0] += 1
        if done[0] >= count:
            connected.set()

    subscribers: list[Subscriber] = []
    transports: list[asyncio.BaseTransport] = []
    for i in range(count):
        claim = claims[i % len(claims)] if claims else None
        path = f"/events/stream?after={after}" + (f"&claim={claim}" if claim else "")
        request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   "Accept: text/event-stream\r\n\r\n").encode()
        subscriber = Subscriber(claim, request, counted)
        subscribers.append(subscriber)
        try:
            opened, _ = await loop.create_connection(functools.partial(_same, subscriber),
                                                     "127.0.0.1", port)
        except OSError as error:
            subscriber.error = f"connect: {error}"
            counted()
        else:
            transports.append(opened)
    await connected.wait()
    failed = sum(1 for s in subscribers if s.error)
    print(f"ready {count - failed}", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # "stop" (or the end of stdin)
    recorded = await asyncio.to_thread(the_log, port, after)
    last: dict[str | None, int] = {
        claim: max((p for p, (_, c) in recorded.items() if c == claim), default=0)
        for claim in {*claims}}
    last[None] = max(recorded, default=after)
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline and any(
        s.last() < last[s.claim] and not s.closed for s in subscribers
    ):
        await asyncio.sleep(0.05)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    for each in transports:
        each.close()
    result = figures(subscribers, recorded)
    result["client_cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    return result


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--after", type=int, default=0)
    parser.add_argument("--claims", default="",
                        help="comma-separated claim ids: subscriber i follows the i-th (round "
                        "robin) with ?claim=; none: each follows the whole log")
    parser.add_argument("--settle", type=float, default=60.0)
    options = parser.parse_args()
    raise_fd_limit(options.count + 64)
    claims = [c for c in options.claims.split(",") if c]
    run_it = main(options.port, options.count, options.after, claims, options.settle)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        result = asyncio.run(run_it)
    else:
        result = uvloop.run(run_it)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    run()
