"""/openapi.json: valid OpenAPI 3.1 that a client generator can use, with examples that work."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from api import examples
from api.problems import KINDS
from ledger.examples import load_article

SUCCESS = ("200", "201")
#: Routes that answer the JSON media type of a format they speak, not plain JSON.
FORMATS = {("get", "/stix/bundle"): "application/stix+json;version=2.1",
           ("get", "/claims/{claim_id}/claimreview"): "application/ld+json"}


def media_type(method: str, path: str) -> str:
    if path.startswith("/taxii2/"):
        return "application/taxii+json;version=2.1"
    return FORMATS.get((method, path), "application/json")


@pytest.fixture
def spec(memory_client: TestClient) -> dict[str, Any]:
    answer = memory_client.get("/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_route_of_the_spec_table_is_there(spec: dict[str, Any]) -> None:
    found = {(method.upper(), path) for method, path, _ in operations(spec)}
    assert found == {
        ("POST", "/sources"), ("GET", "/sources"), ("GET", "/sources/{source_id}"),
        ("POST", "/sources/{source_id}/ratings"), ("POST", "/claims"), ("GET", "/claims"),
        ("GET", "/claims/{claim_id}"), ("POST", "/claims/{claim_id}/events"),
        ("GET", "/claims/{claim_id}/events/{event_id}"),
        ("POST", "/claims/{claim_id}/preview"),
        ("POST", "/events/batch"), ("GET", "/claims/{claim_id}/events"), ("POST", "/drafts"),
        ("GET", "/claims/{claim_id}/audit"), ("GET", "/claims/{claim_id}/timeline"),
        ("GET", "/claims/{claim_id}/timeline.svg"),
        ("GET", "/events"), ("GET", "/verify"), ("POST", "/checkpoints"),
        ("GET", "/checkpoints/latest"), ("GET", "/healthz"), ("GET", "/readyz"),
        ("GET", "/metrics"), ("GET", "/models"), ("GET", "/models/diff"),
        ("GET", "/events/stream"), ("GET", "/claims/{claim_id}/stream"),
        ("POST", "/watches"), ("GET", "/watches"), ("GET", "/watches/{watch_id}"),
        ("POST", "/watches/{watch_id}/pause"), ("POST", "/watches/{watch_id}/resume"),
        ("DELETE", "/watches/{watch_id}"), ("GET", "/watches/{watch_id}/deliveries"),
        ("GET", "/stix/bundle"), ("POST", "/stix/bundle"),
        ("GET", "/claims/{claim_id}/claimreview"), ("POST", "/claims/{claim_id}/claimreview"),
        ("GET", "/taxii2/"), ("GET", "/taxii2/ledger/"), ("GET", "/taxii2/ledger/collections/"),
        ("GET", "/taxii2/ledger/collections/{collection_id}/"),
        ("GET", "/taxii2/ledger/collections/{collection_id}/objects/"),
        ("GET", "/taxii2/ledger/collections/{collection_id}/objects/{object_id}/"),
        ("GET", "/taxii2/ledger/collections/{collection_id}/objects/{object_id}/versions/"),
        ("GET", "/taxii2/ledger/collections/{collection_id}/manifest/"),
    }


def test_every_operation_is_described_typed_and_named(spec: dict[str, Any]) -> None:
    ids = []
    for method, path, op in operations(spec):
        where = f"{method.upper()} {path}"
        assert op["description"] and "\n" not in op["description"], where
        ids.append(op["operationId"])
        (code,) = [c for c in op["responses"] if c in SUCCESS]
        content = op["responses"][code]["content"]
        if path in ("/metrics", "/claims/{claim_id}/timeline.svg") or path.endswith("/stream"):
            assert next(iter(content.values()))["schema"] == {"type": "string"}
            continue
        reference = content[media_type(method, path)]["schema"]["$ref"]
        assert reference.startswith("#/components/schemas/"), where
        for status, answer in op["responses"].items():
            if status[0] in "45":
                assert list(answer["content"]) == ["application/problem+json"], (where, status)
    assert len(set(ids)) == len(ids) and "append_event" in ids


def test_writes_document_their_headers_and_errors(spec: dict[str, Any]) -> None:
    append = spec["paths"]["/claims/{claim_id}/events"]["post"]
    headers = {p["name"] for p in append["parameters"] if p["in"] == "header"}
    assert headers == {"Idempotency-Key", "If-Match", "Prefer"}
    assert {"401", "403", "404", "412", "413", "415", "422"} <= set(append["responses"])
    batch = spec["paths"]["/events/batch"]["post"]["requestBody"]["content"]
    assert set(batch) == {"application/json", "application/x-ndjson"}
    assert batch["application/json"]["schema"]["items"]["$ref"] == (
        "#/components/schemas/BatchEventCreate")
    assert "claim_id" in spec["components"]["schemas"]["BatchEventCreate"]["required"]
    timeline = spec["paths"]["/claims/{claim_id}/timeline"]["get"]["responses"]["200"]
    assert set(timeline["content"]) == {"application/json", "image/svg+xml"}


def test_article_examples_are_documented(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/claims/{claim_id}/events"]["post"]["requestBody"]
    documented = body["content"]["application/json"]["examples"]
    assert documented["denied"]["value"]["quote"] == "another hoax"
    claims = spec["paths"]["/claims"]["post"]["requestBody"]["content"]["application/json"]
    assert claims["examples"]["troops"]["value"]["id"] == "nk-troops-for-russia"


def test_source_and_claim_examples_are_accepted(client: TestClient) -> None:
    for example in examples.SOURCES.values():
        assert client.post("/sources", json=example["value"]).status_code == 201
    for example in examples.CLAIMS.values():
        assert client.post("/claims", json=example["value"]).status_code == 201


def test_event_examples_are_accepted_on_the_article(article: TestClient) -> None:
    for name, example in examples.EVENTS.items():
        answer = article.post(f"/claims/{examples.CLAIM_ID}/events", json=example["value"])
        assert answer.status_code == 201, (name, answer.text)
    denial = next(e for e in article.get(f"/claims/{examples.CLAIM_ID}/events").json()["events"]
                  if e["source"] == "peskov")
    retraction = {**examples.RETRACTION["value"], "supersedes": denial["event_id"]}
    assert article.post(f"/claims/{examples.CLAIM_ID}/events", json=retraction).status_code == 201
    for example in examples.RATINGS.values():
        assert article.post("/sources/kr-nis/ratings", json=example["value"]).status_code == 201
    assert article.post("/events/batch", json=examples.BATCH).status_code == 201


def test_docs_page(memory_client: TestClient) -> None:
    page = memory_client.get("/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()


def test_load_article_helper_matches_the_examples(memory_client: TestClient,
                                                  memory_ledger: Any) -> None:
    load_article(memory_ledger)
    claim = memory_client.get(f"/claims/{examples.CLAIM_ID}").json()
    assert claim["text"] == examples.CLAIMS["troops"]["value"]["text"]


def test_the_documented_range_of_after_is_accepted(
    spec: dict[str, Any], memory_client: TestClient
) -> None:
    (after,) = [p for p in spec["paths"]["/events"]["get"]["parameters"] if p["name"] == "after"]
    (bounds,) = [s for s in after["schema"]["anyOf"] if s["type"] == "integer"]
    top = bounds["maximum"] if "maximum" in bounds else bounds["exclusiveMaximum"] - 1
    answer = memory_client.get("/events", params={"after": top})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"data": [], "next_cursor": None}


def test_each_error_status_has_its_own_example(
    spec: dict[str, Any], memory_client: TestClient
) -> None:
    """Every 4xx/5xx of every operation shows problems of its own status, each a type the
    API serves a page for, at that operation's path (not one "claim not found" for all)."""
    types = set()
    for method, path, op in operations(spec):
        where = f"{method.upper()} {path}"
        shown: dict[str, set[str]] = {}
        for status, answer in op["responses"].items():
            if status[0] not in "45":
                continue
            examples = answer["content"]["application/problem+json"]["examples"]
            assert examples, (where, status)
            for example in examples.values():
                value = example["value"]
                kind = KINDS[value["type"].removeprefix("/problems/")]
                assert value["status"] == kind.status == int(status), (where, status)
                assert value["title"].lower() == kind.title.lower()
                assert value["detail"] and example["summary"]
                assert "{" not in value["instance"] and value["instance"].startswith(
                    path.split("{")[0]), (where, value["instance"])
                shown.setdefault(status, set()).add(kind.slug)
                types.add(value["type"])
        if "{claim_id}" in path and "404" in shown:
            assert "claim-not-found" in shown["404"], where
        if "{source_id}" in path and "404" in shown:
            assert shown["404"] == {"source-not-found"}, where
    append = spec["paths"]["/claims/{claim_id}/events"]["post"]["responses"]
    examples = append["404"]["content"]["application/problem+json"]["examples"]
    assert set(examples) == {"claim-not-found", "source-not-found"}
    assert {"401", "403", "404", "409", "412", "413", "415", "422", "503"} <= set(append)
    for status, slug in (("409", "conflict"), ("412", "version-mismatch"),
                         ("413", "content-too-large"),
                         ("415", "unsupported-media-type"), ("401", "not-authenticated")):
        assert slug in append[status]["content"]["application/problem+json"]["examples"]
    claims = spec["paths"]["/claims"]["post"]["responses"]
    assert set(claims["409"]["content"]["application/problem+json"]["examples"]) == {
        "already-exists", "conflict"}
    assert len(types) >= 15
    for uri in types:
        assert memory_client.get(uri).status_code == 200, uri


def _leaves_without_examples(
    spec: dict[str, Any], schema: dict[str, Any], where: str, seen: frozenset[str]
) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return []
        return _leaves_without_examples(
            spec, spec["components"]["schemas"][name], name, seen | {name})
    if any(key in schema for key in ("examples", "example", "enum", "const")):
        return []
    found = [leaf for alt in schema.get("anyOf", []) if alt.get("type") != "null"
             for leaf in _leaves_without_examples(spec, alt, where, seen)]
    kind = schema.get("type")
    if kind == "object":
        for name, sub in schema.get("properties", {}).items():
            found += _leaves_without_examples(spec, sub, f"{where}.{name}", seen)
    elif kind == "array":
        found += _leaves_without_examples(spec, schema.get("items", {}), f"{where}[]", seen)
    elif kind in ("string", "integer", "number", "boolean"):
        found.append(where)
    return found


def test_created_answers_show_real_values(spec: dict[str, Any]) -> None:
    """A 201's schema gives every field an example, so the docs show real values (an event
    id, a position, a chain head) where they would show "string" and 0."""
    for method, path, op in operations(spec):
        created = op["responses"].get("201")
        if created is None:
            continue
        schema = created["content"]["application/json"]["schema"]
        assert _leaves_without_examples(spec, schema, "", frozenset()) == [], (method, path)
        text = str(spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
        assert "'string'" not in text.replace("'type': 'string'", ""), (method, path)


def _boolean_schemas(schema: Any, where: str = "") -> list[str]:
    """Where ``schema`` holds ``true`` or ``false`` as a subschema (``additionalProperties:
    false`` aside: every generator reads that)."""
    found = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if isinstance(value, bool) and key == "additionalProperties":
                continue
            if isinstance(value, bool) and key in SUBSCHEMA_KEYWORDS:
                found.append(f"{where}/{key}")
            elif key == "properties" and isinstance(value, dict):
                found += [f"{where}/properties/{name}" for name, rule in value.items()
                          if isinstance(rule, bool)]
            found += _boolean_schemas(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            if isinstance(value, bool):
                found.append(f"{where}/{i}")
            else:
                found += _boolean_schemas(value, f"{where}/{i}")
    return found


SUBSCHEMA_KEYWORDS = ("items", "not", "contains", "propertyNames", "if", "then", "else",
                      "unevaluatedProperties", "unevaluatedItems")


def test_no_boolean_subschemas(spec: dict[str, Any]) -> None:
    """OpenAPI 3.1 allows them; the generators people use (openapi-python-client) refuse
    them, so "not allowed here" is said by closing each event type's branch."""
    assert _boolean_schemas(spec["components"]) == []
    for name in ("EventCreate", "BatchEventCreate"):
        event = spec["components"]["schemas"][name]
        for branch in event["oneOf"]:
            assert branch["additionalProperties"] is False
            kind = branch["properties"]["type"]["const"]
            if kind == "assessed":
                assert {"likelihood", "confidence"} <= set(branch["properties"])
                assert not {"outcome", "supersedes"} & set(branch["properties"])
            if kind == "resolved":
                assert {"outcome", "basis"} <= set(branch["required"])
                assert "likelihood" not in branch["properties"]
            assert ("claim_id" in branch["properties"]) is (name == "BatchEventCreate")
