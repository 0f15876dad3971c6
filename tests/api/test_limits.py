"""Every list and string of a request body is bounded, in the schema and in the ledger alike,
and every check is linear: no body under the size limit can keep the server busy for long.

The ledger's own checks (``ledger.inputs``) hold for the CLI's ``load``, which does not come
through the HTTP schema; HTTP refuses the same values with the same reasons.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger import inputs
from ledger.errors import InvalidInput
from ledger.inputs import (
    MAX_AFFILIATION,
    MAX_BATCH,
    MAX_EVENT_ID,
    MAX_ID,
    MAX_ITEMS,
    MAX_LIKELIHOOD_TERM,
    MAX_TEXT,
)

from .conftest import assert_problem, log_length

TROOPS = "nk-troops-for-russia"
EVENT = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-17", "quote": "hoax"}


def _claim(**fields: Any) -> dict[str, Any]:
    return inputs.claim_fields({"text": "A claim", **fields})


def _event(**fields: Any) -> Any:
    return inputs.statement({**EVENT, **fields}, event_id="e", actor="a")


def test_a_hundred_thousand_tags_are_refused_at_once() -> None:
    """The issue's body: de-duplicating these took 97 s (quadratic, holding the GIL)."""
    started = time.monotonic()
    with pytest.raises(InvalidInput) as refused:
        _claim(tags=[f"t{i}" for i in range(100_000)])
    assert time.monotonic() - started < 1
    assert refused.value.field == "tags"
    assert refused.value.reason == f"has more than {MAX_ITEMS} items"


def test_duplicates_are_dropped_in_one_pass_keeping_the_first() -> None:
    claim = _claim(tags=["b", "A", "a", "B", "c"], parties=["Ru", "KP", "RU"])
    assert claim["tags"] == ["b", "a", "c"] and claim["parties"] == ["RU", "KP"]
    # MAX_ITEMS items are allowed, duplicates or not.
    assert _claim(tags=["same"] * MAX_ITEMS)["tags"] == ["same"]


def test_de_duplication_is_linear() -> None:
    """The de-duplication itself, over more items than any request may hold."""
    many = [f"tag-{i % 50_000}" for i in range(100_000)]
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inputs, "MAX_ITEMS", len(many))
        tags = _claim(tags=many)["tags"]
    assert time.monotonic() - started < 2  # quadratic: minutes
    assert tags == many[:50_000]


LIMITS: list[tuple[str, Callable[[], Any], str, str]] = [
    ("tags", lambda: _claim(tags=["t"] * (MAX_ITEMS + 1)), "tags",
     f"has more than {MAX_ITEMS} items"),
    ("parties", lambda: _claim(parties=["RU"] * (MAX_ITEMS + 1)), "parties",
     f"has more than {MAX_ITEMS} items"),
    ("beneficiaries", lambda: _claim(beneficiaries=["UA"] * (MAX_ITEMS + 1)), "beneficiaries",
     f"has more than {MAX_ITEMS} items"),
    ("claim text", lambda: _claim(text="x" * (MAX_TEXT + 1)), "text",
     f"is longer than {MAX_TEXT} characters"),
    ("whitespace counts", lambda: _claim(text=" " * MAX_TEXT + "x"), "text",
     f"is longer than {MAX_TEXT} characters"),
    ("claim id", lambda: _claim(id="a" * (MAX_ID + 1)), "id", "is not an id"),
    ("tag", lambda: _claim(tags=["t" * (MAX_ID + 1)]), "tags[0]", "is not a tag"),
    ("party", lambda: _claim(parties=["A" * (MAX_AFFILIATION + 1)]), "parties[0]",
     "is not an affiliation code"),
    ("source name", lambda: inputs.source_fields({"id": "s", "name": "n" * (MAX_TEXT + 1)}),
     "name", f"is longer than {MAX_TEXT} characters"),
    ("rating note", lambda: inputs.rating_fields(
        {"reliability": "A", "occurred_at": "2024-10-14", "note": "n" * (MAX_TEXT + 1)}),
     "note", f"is longer than {MAX_TEXT} characters"),
    ("quote", lambda: _event(quote="q" * (MAX_TEXT + 1)), "quote",
     f"is longer than {MAX_TEXT} characters"),
    ("summary", lambda: _event(summary="q" * (MAX_TEXT + 1)), "summary",
     f"is longer than {MAX_TEXT} characters"),
    ("note", lambda: _event(note="q" * (MAX_TEXT + 1)), "note",
     f"is longer than {MAX_TEXT} characters"),
    ("reference", lambda: _event(reference="https://" + "q" * MAX_TEXT), "reference",
     f"is longer than {MAX_TEXT} characters"),
    ("basis", lambda: inputs.statement(
        {"type": "resolved", "source": "s", "occurred_at": "2024-10-17", "outcome": "confirmed",
         "basis": "b" * (MAX_TEXT + 1)}, event_id="e", actor="a"),
     "basis", f"is longer than {MAX_TEXT} characters"),
    ("supersedes", lambda: inputs.statement(
        {"type": "retracted", "source": "s", "occurred_at": "2024-10-17",
         "supersedes": "e" * (MAX_EVENT_ID + 1)}, event_id="e", actor="a"),
     "supersedes", f"is longer than {MAX_EVENT_ID} characters"),
    ("likelihood term", lambda: inputs.statement(
        {"type": "assessed", "source": "s", "occurred_at": "2024-10-17",
         "likelihood": "likely " * MAX_LIKELIHOOD_TERM}, event_id="e", actor="a"),
     "likelihood", f"is longer than {MAX_LIKELIHOOD_TERM} characters"),
    ("event source", lambda: _event(source="s" * (MAX_ID + 1)), "source", "is not an id"),
]


@pytest.mark.parametrize("make, field, reason", [c[1:] for c in LIMITS],
                         ids=[c[0] for c in LIMITS])
def test_the_ledger_enforces_every_limit(make: Callable[[], Any], field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        make()
    assert refused.value.field == field
    assert reason in refused.value.reason
    assert len(refused.value.reason) < 400  # a refused value is not echoed whole


def test_values_at_the_limits_are_accepted() -> None:
    claim = _claim(
        id="c" * MAX_ID, text="x" * MAX_TEXT, tags=[f"{i}".ljust(MAX_ID, "t") for i in range(32)],
        parties=[f"{i}".ljust(MAX_AFFILIATION, "P") for i in range(32)],
    )
    assert len(claim["tags"]) == len(claim["parties"]) == MAX_ITEMS
    statement = _event(quote="q" * MAX_TEXT, note="n" * MAX_TEXT, summary="s" * MAX_TEXT)
    assert statement.quote == "q" * MAX_TEXT


@pytest.mark.parametrize("value", ["abc\n", "UA\n"])
def test_ids_and_codes_are_matched_whole(value: str) -> None:
    """``$`` also matches before a final newline; an id with one is not an id."""
    with pytest.raises(InvalidInput):
        _claim(id=value) if value.islower() else _claim(parties=[value])


# -- over HTTP: the same limits, the same reasons, and the schema says so ----------------


@pytest.mark.parametrize("body, field, reason", [
    ({"text": "x", "tags": ["t"] * (MAX_ITEMS + 1)}, "tags", f"has more than {MAX_ITEMS} items"),
    ({"text": "x", "parties": ["RU"] * 100_000}, "parties", f"has more than {MAX_ITEMS} items"),
    ({"text": "x" * (MAX_TEXT + 1)}, "text", f"is longer than {MAX_TEXT} characters"),
    ({"text": "x", "id": "a" * (MAX_ID + 1)}, "id", f"is longer than {MAX_ID} characters"),
    ({"text": "x", "tags": ["t" * (MAX_ID + 1)]}, "tags[0]",
     f"is longer than {MAX_ID} characters"),
])
def test_http_refuses_the_same_values_with_the_same_reasons(
    client: TestClient, body: dict[str, Any], field: str, reason: str
) -> None:
    problem = assert_problem(client.post("/claims", json=body), 422, field)
    assert [e["reason"] for e in problem["errors"] if e["field"] == field] == [reason]


def test_a_long_likelihood_is_one_error(client: TestClient) -> None:
    body = {"type": "assessed", "source": "s", "occurred_at": "2024-10-13",
            "likelihood": "likely " * MAX_LIKELIHOOD_TERM}
    problem = assert_problem(client.post(f"/claims/{TROOPS}/events", json=body), 422)
    assert problem["errors"] == [{"field": "likelihood", "in": "body",
                                  "reason": f"is longer than {MAX_LIKELIHOOD_TERM} characters"}]


def test_a_batch_holds_at_most_max_batch_events(article: TestClient, ledger: Any) -> None:
    written = log_length(ledger)
    events = [{"claim_id": TROOPS, **EVENT}] * (MAX_BATCH + 1)
    for content, kind in [(json.dumps(events), "application/json"),
                          ("\n".join(map(json.dumps, events)), "application/x-ndjson")]:
        problem = assert_problem(article.post("/events/batch", content=content,
                                              headers={"Content-Type": kind}), 422, "events")
        assert f"at most {MAX_BATCH} events" in problem["detail"]
    assert log_length(ledger) == written


def test_a_json_array_batch_is_read_as_before(article: TestClient) -> None:
    """The batch is decoded item by item; its answers are those of ``json.loads``."""
    item = json.dumps({"claim_id": TROOPS, **EVENT})
    spaced = f" \n[ {item} ,\n\t{item} ]\r\n "
    assert article.post("/events/batch", content=spaced,
                        headers={"Content-Type": "application/json"}).status_code == 201
    for content, says in [(f"[{item},]", "Expecting value"), (f"[{item}] x", "Extra data"),
                          (f"[{item} {item}]", "Expecting ',' delimiter"), ("[", "Expecting value"),
                          ("\ufeff[]", "BOM")]:
        problem = assert_problem(article.post("/events/batch", content=content.encode(),
                                              headers={"Content-Type": "application/json"}),
                                 422, "body")
        assert says in problem["detail"], (content, problem["detail"])
    problem = assert_problem(article.post("/events/batch", json={"claim_id": TROOPS}), 422, "body")
    assert "must be a JSON array" in problem["detail"]


def _strings(schema: Any, where: str, found: list[tuple[str, dict[str, Any]]]) -> None:
    if isinstance(schema, dict):
        if schema.get("type") == "string":
            found.append((where, schema))
        if schema.get("type") == "array":
            found.append((where, schema))
        for key, value in schema.items():
            if key not in ("examples", "example", "default"):
                _strings(value, f"{where}.{key}", found)
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            _strings(value, f"{where}[{i}]", found)


def test_the_schema_bounds_every_string_and_list_of_every_body(memory_client: TestClient) -> None:
    spec = memory_client.get("/openapi.json").json()
    bodies = ["SourceCreate", "RatingCreate", "ClaimCreate", "EventCreate", "BatchEventCreate"]
    found: list[tuple[str, dict[str, Any]]] = []
    for name in bodies:
        _strings(spec["components"]["schemas"][name], name, found)
    batch = spec["paths"]["/events/batch"]["post"]["requestBody"]["content"]["application/json"]
    _strings(batch["schema"], "batch", found)
    assert len(found) > 20
    unbounded = [where for where, schema in found
                 if not ({"maxLength", "enum", "maxItems", "const"} & set(schema))]
    assert unbounded == []
    claim = spec["components"]["schemas"]["ClaimCreate"]["properties"]
    assert claim["tags"]["maxItems"] == MAX_ITEMS and claim["tags"]["items"]["maxLength"] == MAX_ID
    assert claim["parties"]["items"]["maxLength"] == MAX_ID  # a source id, or a code (16)
    assert claim["text"]["maxLength"] == MAX_TEXT
    assert batch["schema"]["maxItems"] == MAX_BATCH
