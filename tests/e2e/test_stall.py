"""One request must not stall the server: /healthz answers while big bodies are processed.

A real uvicorn process (as in production: uvloop, httptools) gets the largest body each
write route allows, again and again, while this test probes ``/healthz``. Every probe must
answer while the big requests are still coming in, the best of them within 100 ms, and none
may wait for a big request to finish. The body that used to stall the server for 97 s (a
claim with 100,000 tags, 989 KB: the tags were de-duplicated in quadratic time holding the
interpreter lock) is one of the cases: it is now refused at once.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any

import httpx
import pytest

from ledger.inputs import MAX_AFFILIATION, MAX_BATCH, MAX_ID, MAX_ITEMS, MAX_TEXT

from .test_server_restart import server

pytestmark = pytest.mark.slow

BODY_LIMIT, BATCH_LIMIT = 1 << 20, 16 << 20  # the defaults
#: The best probe must meet it; it is the property the issue asks for.
DEADLINE = 0.1
#: No probe may come near what a big request takes (seconds, or 97 s before the fix); some
#: slack for a busy two-core machine, where the test's client shares the cores.
WORST = 1.0
PROBE_TIMEOUT = 5.0
WINDOW = 1.5  # seconds of big requests per case
#: One astral character: 1 code point, and 12 bytes as a JSON escape (\\ud83d\\ude00), so a
#: text at MAX_TEXT characters is as many bytes as a text can be.
WIDE = "\U0001f600"
SOURCE, CLAIM = "s" * MAX_ID, "c" * MAX_ID


def _id(prefix: str, n: int) -> str:
    return f"{prefix}-{n}".ljust(MAX_ID, "x")


def _text(n: int, length: int = MAX_TEXT) -> str:
    return (str(n) + WIDE * length)[:length]


def largest_source(n: int) -> dict[str, Any]:
    return {"id": _id("src", n), "name": _text(n), "role": _text(n),
            "affiliation": "A" * MAX_AFFILIATION, "reliability": "b"}


def largest_rating(n: int) -> dict[str, Any]:
    return {"reliability": "C", "occurred_at": "2024-10-14T00:00:00.000000+00:00",
            "note": _text(n)}


def largest_claim(n: int) -> dict[str, Any]:
    return {
        "id": _id("claim", n),
        "text": _text(n),
        "tags": [f"{i}-".ljust(MAX_ID, "t") for i in range(MAX_ITEMS)],
        "parties": [f"P{i}".ljust(MAX_AFFILIATION, "P") for i in range(MAX_ITEMS)],
        "beneficiaries": [f"B{i}".ljust(MAX_AFFILIATION, "B") for i in range(MAX_ITEMS)],
    }


def largest_event(n: int) -> dict[str, Any]:
    # The asserted event's text fields, each at MAX_TEXT: about 960 KB of a 1 MiB body.
    return {"type": "asserted", "source": SOURCE, "occurred_at": "2024-10-13T18:00:00Z",
            "quote": _text(n), "summary": _text(n), "note": _text(n),
            "reference": "https://example.org/" + _text(n, MAX_TEXT - 20)}


def largest_batch() -> bytes:
    """MAX_BATCH events filling the batch limit, in two-byte characters: the most text a
    16 MiB body can hold once decoded (and so the most for the ledger to read and hash)."""
    item = {"claim_id": CLAIM, "type": "asserted", "source": SOURCE, "occurred_at": "2024-10-13"}
    room = BATCH_LIMIT // MAX_BATCH - len(json.dumps(item)) - len(', "quote": ""') - 2
    quote = "\u00e9" * (room // 2)
    body = ("[" + ", ".join(json.dumps({**item, "quote": f"{quote}"}, ensure_ascii=False)
                            for _ in range(MAX_BATCH)) + "]").encode()
    assert BATCH_LIMIT - 2 * MAX_BATCH < len(body) <= BATCH_LIMIT, len(body)
    return body


def crowded_batch() -> bytes:
    """16 MiB of the smallest events: far more than MAX_BATCH of them (refused, but only
    after reading them; before the fix they were all parsed and checked in the event loop)."""
    item = json.dumps({"claim_id": CLAIM, "type": "asserted", "source": SOURCE,
                       "occurred_at": "2024-10-13", "quote": "q"}).encode()
    body = b"[" + b", ".join([item] * (BATCH_LIMIT // (len(item) + 2))) + b"]"
    assert BATCH_LIMIT - len(item) < len(body) <= BATCH_LIMIT, len(body)
    return body


def stalling_claim() -> bytes:
    """The body of the issue: 100,000 tags in 989 KB."""
    return json.dumps({"text": "x", "tags": [f"t{i}" for i in range(100_000)]}).encode()


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    body: Callable[[int], bytes]  # the n-th body to send
    statuses: frozenset[int]
    limit: int = BODY_LIMIT


def _json(make: Callable[[int], dict[str, Any]]) -> Callable[[int], bytes]:
    return lambda n: json.dumps(make(n)).encode()  # ensure_ascii: the widest encoding


_MADE: dict[str, bytes] = {}


def _once(make: Callable[[], bytes]) -> Callable[[int], bytes]:
    """The same body every time, made once."""

    def body(n: int) -> bytes:
        if make.__name__ not in _MADE:
            _MADE[make.__name__] = make()
        return _MADE[make.__name__]

    return body


CASES = [
    Case("the claim that stalled the server", "/claims", _once(stalling_claim),
         frozenset({422})),
    Case("largest source", "/sources", _json(largest_source), frozenset({201})),
    Case("largest rating", f"/sources/{SOURCE}/ratings", _json(largest_rating),
         frozenset({201})),
    Case("largest claim", "/claims", _json(largest_claim), frozenset({201})),
    Case("largest event", f"/claims/{CLAIM}/events", _json(largest_event), frozenset({201})),
    Case("largest batch", "/events/batch", _once(largest_batch), frozenset({201}), BATCH_LIMIT),
    Case("batch of too many small events", "/events/batch", _once(crowded_batch),
         frozenset({422}), BATCH_LIMIT),
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, str]]:
    from .test_server_restart import free_port

    folder = tmp_path_factory.mktemp("stall")
    with server(folder / "ledger.sqlite3", free_port(), folder / "server.log") as client:
        assert client.post("/sources", json={"id": SOURCE, "name": "S"}).status_code == 201
        assert client.post("/claims", json={"id": CLAIM, "text": "C"}).status_code == 201
        yield client, str(client.base_url)


def test_the_bodies_are_within_their_limits() -> None:
    for case in CASES:
        assert len(case.body(123)) <= case.limit, case.name
    assert len(_json(largest_event)(1)) > 0.9 * BODY_LIMIT
    assert 0.9 * BODY_LIMIT < len(stalling_claim()) <= BODY_LIMIT


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_healthz_answers_while_the_largest_bodies_are_processed(
    case: Case, api: tuple[httpx.Client, str]
) -> None:
    client, base = api
    numbers = count()
    statuses: list[int] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def send() -> None:
        try:
            started = time.monotonic()
            while not statuses or time.monotonic() - started < WINDOW:
                answer = client.post(case.path, content=case.body(next(numbers)), timeout=120,
                                     headers={"Content-Type": "application/json"})
                statuses.append(answer.status_code)
                assert answer.status_code in case.statuses, answer.text[:500]
        except BaseException as error:  # reported by the test below
            failures.append(error)
        finally:
            done.set()

    latencies: list[float] = []
    with httpx.Client(base_url=base, timeout=PROBE_TIMEOUT) as probe:
        assert probe.get("/healthz").status_code == 200  # the connection is open
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        time.sleep(0.05)  # let the first big request reach the server
        while not done.is_set():
            started = time.monotonic()
            try:
                answer = probe.get("/healthz")
            except httpx.TimeoutException:
                pytest.fail(f"/healthz did not answer within {PROBE_TIMEOUT} s during "
                            f"{case.name}: the server is stalled")
            latencies.append(time.monotonic() - started)
            assert answer.status_code == 200
            assert latencies[-1] < WORST, (
                f"/healthz took {latencies[-1]:.3f} s during {case.name}: it waited for the "
                "big request")
            time.sleep(0.01)
        sender.join()
    assert not failures, failures[0]
    assert statuses, "no big request was sent"
    assert len(latencies) >= 5, (latencies, statuses)
    summary = (f"{case.name}: {len(statuses)} requests, {len(latencies)} probes: best "
               f"{min(latencies):.3f} s, median {statistics.median(latencies):.3f} s, "
               f"worst {max(latencies):.3f} s")
    print(summary)
    assert min(latencies) < DEADLINE, summary
    assert statistics.median(latencies) < DEADLINE, summary
    assert max(latencies) < WORST, summary
