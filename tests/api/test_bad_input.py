"""Bad input, route by route: each answer is a problem naming what was wrong, never a 500,
and the log holds exactly as many events afterwards as before."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.application import ClaimsLedger
from ledger.examples import load_article

from .conftest import MakeClient, assert_problem, log_length

TROOPS = "nk-troops-for-russia"
EVENTS = f"/claims/{TROOPS}/events"
DENIAL = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-17", "quote": "hoax"}
ITEM = {"claim_id": TROOPS, **DENIAL}
JSON_TYPE = {"Content-Type": "application/json"}
NDJSON_TYPE = {"Content-Type": "application/x-ndjson"}
BODY_LIMIT, BATCH_LIMIT = 8192, 16384


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    status: int
    field: str | None = None
    json: Any = None
    content: bytes | Callable[[], Iterator[bytes]] | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Runs first (its writes are not counted); returns the body to send, if it decides it.
    setup: Callable[[TestClient], Any] | None = None


def _peskov_denial(client: TestClient) -> dict[str, Any]:
    events = client.get(EVENTS).json()["events"]
    denial = next(e for e in events if e["source"] == "peskov")
    return {"type": "retracted", "source": "zelensky", "occurred_at": "2024-10-20",
            "supersedes": denial["event_id"]}


def _first_use_of_key(client: TestClient) -> None:
    client.post(EVENTS, json=DENIAL, headers={"Idempotency-Key": "used-once"})


def _chunks(size: int) -> Callable[[], Iterator[bytes]]:
    def body() -> Iterator[bytes]:  # no Content-Length: the server must count
        yield b'{"text": "'
        for _ in range(size // 1000):
            yield b"x" * 1000
        yield b'"}'
    return body


CASES = [
    # POST /claims
    Case("claim: malformed JSON", "POST", "/claims", 422, "body", content=b'{"text": ',
         headers=JSON_TYPE),
    Case("claim: empty body", "POST", "/claims", 422, "body", content=b"", headers=JSON_TYPE),
    Case("claim: array, not object", "POST", "/claims", 422, "body", json=[{"text": "x"}]),
    Case("claim: nested too deeply", "POST", "/claims", 422, "body",
         content=b"[" * 1010 + b"]" * 1010, headers=JSON_TYPE),
    Case("claim: text/plain", "POST", "/claims", 415, content=b'{"text": "x"}',
         headers={"Content-Type": "text/plain"}),
    Case("claim: no content type", "POST", "/claims", 415, content=b'{"text": "x"}'),
    Case("claim: form", "POST", "/claims", 415, content=b"text=x",
         headers={"Content-Type": "application/x-www-form-urlencoded"}),
    Case("claim: lone surrogate in a tag", "POST", "/claims", 422, "tags[0]",
         content=b'{"text": "x", "tags": ["\\udc80"]}', headers=JSON_TYPE),
    Case("claim: NUL in the text", "POST", "/claims", 422, "text",
         content=b'{"text": "troops\\u0000"}', headers=JSON_TYPE),
    Case("claim: text missing", "POST", "/claims", 422, "text", json={"tags": ["x"]}),
    Case("claim: text not a string", "POST", "/claims", 422, "text", json={"text": 5}),
    Case("claim: unknown field", "POST", "/claims", 422, "colour", json={"text": "x", "colour": 1}),
    Case("claim: bad slug", "POST", "/claims", 422, "id", json={"id": "NK troops", "text": "x"}),
    Case("claim: bad party", "POST", "/claims", 422, "parties[0]",
         json={"text": "x", "parties": ["Russia!"]}),
    Case("claim: id taken", "POST", "/claims", 409, json={"id": TROOPS, "text": "x"}),
    Case("claim: over body limit", "POST", "/claims", 413, json={"text": "x" * BODY_LIMIT}),
    Case("claim: chunked over limit", "POST", "/claims", 413, content=_chunks(3 * BODY_LIMIT),
         headers=JSON_TYPE),
    # POST /claims/{id}/events
    Case("event: unknown claim", "POST", "/claims/no-such-claim/events", 404, json=DENIAL),
    Case("event: unknown type", "POST", EVENTS, 422, "type", json={**DENIAL, "type": "rumoured"}),
    Case("event: no quote or summary", "POST", EVENTS, 422, "quote",
         json={**DENIAL, "quote": None}),
    Case("event: unknown likelihood term", "POST", EVENTS, 422, "likelihood",
         json={"type": "assessed", "source": "kr-nis", "occurred_at": "2024-10-08",
               "likelihood": "perhaps maybe"}),
    Case("event: likelihood true", "POST", EVENTS, 422, "likelihood",
         json={"type": "assessed", "source": "kr-nis", "occurred_at": "2024-10-08",
               "likelihood": True}),
    Case("event: likelihood 1.5", "POST", EVENTS, 422, "likelihood",
         json={"type": "assessed", "source": "kr-nis", "occurred_at": "2024-10-08",
               "likelihood": 1.5}),
    Case("event: no zone", "POST", EVENTS, 422, "occurred_at",
         json={**DENIAL, "occurred_at": "2024-10-13T18:00:00"}),
    Case("event: in the future", "POST", EVENTS, 422, "occurred_at",
         json={**DENIAL, "occurred_at": "2999-01-01T00:00:00Z"}),
    Case("event: no occurred_at", "POST", EVENTS, 422, "occurred_at",
         json={k: v for k, v in DENIAL.items() if k != "occurred_at"}),
    Case("event: unknown source", "POST", EVENTS, 404, json={**DENIAL, "source": "nobody"}),
    Case("event: reference not a URL", "POST", EVENTS, 422, "reference",
         json={**DENIAL, "reference": "javascript:alert(1)"}),
    Case("event: actor is not a field", "POST", EVENTS, 422, "actor",
         json={**DENIAL, "actor": "mallory"}),
    Case("event: resolution without basis", "POST", EVENTS, 422, "basis",
         json={"type": "resolved", "source": "kr-nis", "occurred_at": "2024-10-20",
               "outcome": "confirmed"}),
    Case("event: lone surrogate in a string", "POST", EVENTS, 422, "quote",
         content=json.dumps({**DENIAL, "quote": "hoax \ud800"}).encode(), headers=JSON_TYPE),
    Case("event: body not UTF-8", "POST", EVENTS, 422, "body",
         content=json.dumps(DENIAL).encode()[:-2] + b'\xff"}', headers=JSON_TYPE),
    Case("event: integer too long for JSON", "POST", EVENTS, 422, "body",
         content=b'{"likelihood": ' + b"9" * 5000 + b"}", headers=JSON_TYPE),
    Case("event: stale If-Match", "POST", EVENTS, 412, json=DENIAL, headers={"If-Match": '"2"'}),
    Case("event: malformed If-Match", "POST", EVENTS, 422, "If-Match", json=DENIAL,
         headers={"If-Match": "version five"}),
    Case("event: Idempotency-Key too long", "POST", EVENTS, 422, "Idempotency-Key", json=DENIAL,
         headers={"Idempotency-Key": "k" * 300}),
    Case("event: Idempotency-Key reused", "POST", EVENTS, 422, json={**DENIAL, "quote": "other"},
         headers={"Idempotency-Key": "used-once"}, setup=_first_use_of_key),
    Case("event: retracting another source's statement", "POST", EVENTS, 422, "source",
         setup=_peskov_denial),
    # POST /events/batch
    Case("batch: one bad item", "POST", "/events/batch", 422, "[1].type",
         json=[ITEM, {**ITEM, "type": "rumoured"}]),
    Case("batch: one bad shape", "POST", "/events/batch", 422, "[1].quote",
         json=[ITEM, {**ITEM, "quote": 7}]),
    Case("batch: unknown claim", "POST", "/events/batch", 404,
         json=[ITEM, {**ITEM, "claim_id": "no-such-claim"}]),
    Case("batch: no claim_id", "POST", "/events/batch", 422, "[1].claim_id", json=[ITEM, DENIAL]),
    Case("batch: not an array", "POST", "/events/batch", 422, "body", json=ITEM),
    Case("batch: empty", "POST", "/events/batch", 422, "events", json=[]),
    Case("batch: NDJSON bad line", "POST", "/events/batch", 422, "line 2",
         content=(json.dumps(ITEM) + "\n{not json}\n").encode(), headers=NDJSON_TYPE),
    Case("batch: NDJSON not UTF-8", "POST", "/events/batch", 422, "body",
         content=b'{"quote": "\xff"}\n', headers=NDJSON_TYPE),
    Case("batch: over batch limit", "POST", "/events/batch", 413,
         json=[{**ITEM, "summary": "x" * 500}] * (BATCH_LIMIT // 500)),
    Case("batch: nested too deeply", "POST", "/events/batch", 422, "body",
         content=b"[" * 2000 + b"]" * 2000, headers=JSON_TYPE),
    Case("batch: NDJSON nested too deeply", "POST", "/events/batch", 422, "line 1",
         content=b"[" * 2000 + b"]" * 2000, headers=NDJSON_TYPE),
    Case("batch: text/csv", "POST", "/events/batch", 415, content=b"a,b\n",
         headers={"Content-Type": "text/csv"}),
    Case("batch: integer too long for JSON", "POST", "/events/batch", 422, "body",
         content=b'[{"likelihood": ' + b"9" * 5000 + b"}]", headers=JSON_TYPE),
    Case("batch: NDJSON integer too long", "POST", "/events/batch", 422, "line 2",
         content=(json.dumps(ITEM) + "\n").encode() + b'{"likelihood": ' + b"9" * 5000 + b"}\n",
         headers=NDJSON_TYPE),
    Case("batch: lone surrogate", "POST", "/events/batch", 422, "[0].quote",
         content=json.dumps([{**ITEM, "quote": "\ud800"}]).encode(), headers=JSON_TYPE),
    Case("batch: NDJSON lone surrogate", "POST", "/events/batch", 422, "[0].summary",
         content=json.dumps({**ITEM, "summary": "a\udfffb"}).encode(), headers=NDJSON_TYPE),
    # sources
    Case("source: bad reliability", "POST", "/sources", 422, "reliability",
         json={"id": "x", "name": "X", "reliability": "Z"}),
    Case("source: bad affiliation", "POST", "/sources", 422, "affiliation",
         json={"id": "x", "name": "X", "affiliation": "not a code"}),
    Case("source: id taken", "POST", "/sources", 409, json={"id": "peskov", "name": "Peskov"}),
    Case("rating: unknown source", "POST", "/sources/nobody/ratings", 404,
         json={"reliability": "A", "occurred_at": "2024-10-14"}),
    Case("source: lone surrogate in the name", "POST", "/sources", 422, "name",
         content=b'{"id": "x", "name": "\\ud83d"}', headers=JSON_TYPE),
    Case("rating: no reliability", "POST", "/sources/peskov/ratings", 422, "reliability",
         json={"occurred_at": "2024-10-14"}),
    # reads and routing
    Case("read: as_of without zone", "GET", "/claims?as_of=2024-10-13T00:00:00", 422, "as_of"),
    Case("read: known_at garbage", "GET", f"/claims/{TROOPS}?known_at=soon", 422, "known_at"),
    Case("read: limit 0", "GET", "/claims?limit=0", 422, "limit"),
    Case("read: limit over 1000", "GET", f"{EVENTS}?limit=1001", 422, "limit"),
    Case("read: foreign cursor", "GET", "/claims?cursor=abc", 422, "cursor"),
    Case("read: after negative", "GET", "/events?after=-1", 422, "after"),
    Case("read: audit until garbage", "GET", f"/claims/{TROOPS}/audit?until=x", 422, "until"),
    Case("read: cursor too big for the store", "GET", "/claims?cursor=" + "9" * 30, 422, "cursor"),
    Case("read: cursor of non-ASCII digits", "GET", "/sources?cursor=%C2%B2", 422, "cursor"),
    Case("read: after too big for the store", "GET", "/events?after=" + "9" * 30, 422, "after"),
    Case("read: known_at past year 9999", "GET",
         f"/claims/{TROOPS}/timeline?known_at=10000-01-01", 422, "known_at"),
    Case("read: as_of before year 1", "GET", "/claims?as_of=0001-01-01T00:00:00%2B14:00", 422,
         "as_of"),
    Case("read: unknown claim", "GET", "/claims/no-such-claim", 404),
    Case("read: unknown route", "GET", "/claimz", 404),
    Case("read: wrong method", "DELETE", "/claims", 405),
    Case("read: wrong method on events", "PUT", EVENTS, 405, json=DENIAL),
]


@pytest.fixture
def small(make_client: MakeClient, ledger: ClaimsLedger) -> TestClient:
    load_article(ledger)
    return make_client(max_body_bytes=BODY_LIMIT, max_batch_bytes=BATCH_LIMIT)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_a_problem_and_writes_nothing(
    case: Case, small: TestClient, ledger: ClaimsLedger
) -> None:
    body = case.setup(small) if case.setup else None
    written, etag = log_length(ledger), small.get(f"/claims/{TROOPS}").headers["etag"]
    kwargs: dict[str, Any] = {"headers": case.headers}
    if case.content is not None:
        kwargs["content"] = case.content() if callable(case.content) else case.content
    elif body is not None or case.json is not None:
        kwargs["json"] = body if body is not None else case.json
    problem = assert_problem(small.request(case.method, case.path, **kwargs),
                             case.status, case.field)
    assert log_length(ledger) == written
    assert small.get(f"/claims/{TROOPS}").headers["etag"] == etag
    if case.status == 405:
        assert "GET" in problem["detail"]


def test_unknown_likelihood_term_lists_the_accepted_ones(small: TestClient) -> None:
    problem = assert_problem(small.post(EVENTS, json={
        "type": "assessed", "source": "kr-nis", "occurred_at": "2024-10-08",
        "likelihood": "perhaps maybe"}), 422, "likelihood")
    assert "very likely" in problem["detail"] and "roughly even chance" in problem["detail"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (json.dumps(DENIAL).encode()[:-2] + b'\xff"}', "not UTF-8"),
        ('{"quote": "caf\u00e9"}'.encode("latin-1"), "not UTF-8"),
        (b'{"likelihood": ' + b"9" * 5000 + b"}", "digits"),
        (b"[" * 1010 + b"]" * 1010, "nested"),
    ],
    ids=["invalid byte", "latin-1", "long integer", "deep nesting"],
)
def test_a_body_that_cannot_be_parsed_says_why(
    small: TestClient, content: bytes, says: str
) -> None:
    problem = assert_problem(
        small.post(EVENTS, content=content, headers=JSON_TYPE), 422, "body")
    assert says in problem["detail"]


def test_405_names_every_allowed_method(small: TestClient) -> None:
    answer = small.delete("/claims")
    assert_problem(answer, 405)
    assert answer.headers["allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/sources", {"id": "new-source", "name": "N", "affiliation": ""}, "affiliation"),
        ("/sources", {"id": "new-source", "name": "N", "role": "  "}, "role"),
        ("/sources/peskov/ratings", {"reliability": "B", "occurred_at": "2024-10-14",
                                     "note": ""}, "note"),
        (f"/claims/{TROOPS}/events", {"type": "denied", "source": "peskov",
                                      "occurred_at": "2024-10-14", "quote": "no",
                                      "summary": " "}, "summary"),
    ],
)
def test_a_blank_optional_field_is_refused_as_the_schema_says(
    small: TestClient, ledger: ClaimsLedger, path: str, body: dict[str, Any], field: str
) -> None:
    """The schema publishes minLength 1 and a non-blank pattern; a blank value was taken as
    left out (201), which schemathesis's negative checks found (tests/api/test_fuzz.py)."""
    written = log_length(ledger)
    assert_problem(small.post(path, json=body), 422, field)
    assert log_length(ledger) == written


def test_a_query_parameter_given_twice_is_refused(small: TestClient) -> None:
    """One value each, as the schema says: ``?tag=a&tag=b`` answered for the last tag only
    (schemathesis's negative checks found it, tests/api/test_fuzz.py)."""
    assert_problem(small.get("/claims", params=[("tag", "troops"), ("tag", "arms")]), 422, "tag")
    assert small.get("/claims", params={"tag": "troops"}).status_code == 200


def test_a_resolution_in_year_one_is_no_server_error(small: TestClient) -> None:
    """An occurred_at early in year 1 is valid input; model v2 then subtracted its record
    lead from it and overflowed: every v2 audit and timeline of the claim was a 500
    (schemathesis found it, tests/api/test_fuzz.py)."""
    resolved = {"type": "resolved", "source": "zelensky", "occurred_at": "0001-01-01T00:00:00Z",
                "outcome": "confirmed", "basis": "a test"}
    assert small.post(f"/claims/{TROOPS}/events", json=resolved).status_code == 201
    for path in ("", "/audit", "/timeline"):
        answer = small.get(f"/claims/{TROOPS}{path}", params={"model": "credibility-v2"})
        assert answer.status_code == 200, (path, answer.text)


@pytest.mark.parametrize("reference", [
    "https://\u0013\u0081", "https://exa mple.org/x", "https:///no-host", "ftp://example.org",
])
def test_a_report_address_without_a_host_or_with_control_characters_is_refused(
    reference: str, small: TestClient, ledger: ClaimsLedger
) -> None:
    """``reference`` is an http(s) URL or IRI with a host: the fuzzer found one made of
    control characters accepted. An IRI with non-ASCII letters stays accepted."""
    written = log_length(ledger)
    for path in (EVENTS, f"/claims/{TROOPS}/preview"):
        assert_problem(small.post(path, json={**DENIAL, "reference": reference}), 422,
                       "reference")
    assert log_length(ledger) == written
    kept = small.post(EVENTS, json={**DENIAL, "reference": "https://exemple.fr/été"})
    assert kept.status_code == 201, kept.text
