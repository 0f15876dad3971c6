"""Requests generated from the published schema are accepted, as a generated client's would be.

For each write route, bodies are drawn from its OpenAPI request schema and sent. Most must be
accepted: 2xx, or the domain's answer about a referenced id that does not exist (404 unknown
source or claim, 409 id taken, 422 on ``supersedes`` or ``relays`` naming no event of the
claim). None may be a 500, and none may be refused by FastAPI before the ledger.

The bodies are drawn by ``instances``, a small generator for the JSON Schema keywords the
API's request schemas use (hypothesis-jsonschema does not run with this Hypothesis), and
every drawn body is checked against the schema with ``jsonschema`` before it is sent.

Two rules are beyond a schema and are applied to the drawn bodies, as a client must: a time
is not in the future, and an event's source is one that is registered (else nearly every
event would be a 404 and test nothing more).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from api.bodies import DATE_TIME_PATTERN, TIME_PATTERN
from ledger import inputs
from ledger.application import ClaimsLedger
from ledger.errors import InvalidInput, InvalidTime
from ledger.examples import load_article
from ledger.statements import STATEMENT_TYPES, STATUSES
from ledger.times import parse_instant

TROOPS = "nk-troops-for-russia"
SOURCES = ["zelensky", "peskov", "kr-nis"]
#: How many of the drawn requests must be accepted: most, not all (see ``_verdict``).
ACCEPTED = 0.8
EXAMPLES = 40
#: Query times are cheap to send. The schema's only refusals are February 29th of a year
#: that has none (under 1% of 1,500 drawn), but a run draws variations of one such value in
#: bursts (CI once drew 5 in 40): enough of them that one burst does not decide the share.
TIME_EXAMPLES = 200


NULL = {"type": "null"}
#: Any text JSON can carry (no lone surrogates).
CHARACTERS = st.characters(codec="utf-8")


def instances(schema: Any, present: bool = False) -> st.SearchStrategy[Any]:
    """Values valid against ``schema`` (``present``: not null)."""
    assert schema is not False, "nothing is valid against false"
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema and "type" not in schema:
            choices = [c for c in schema[keyword] if not (present and c == NULL)]
            return st.one_of([instances(c) for c in choices])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "number":
        return st.floats(min_value=schema["exclusiveMinimum"], max_value=schema[
            "exclusiveMaximum"], exclude_min=True, exclude_max=True)
    if kind == "array":
        return st.lists(instances(schema["items"]), min_size=schema.get("minItems", 0),
                        max_size=min(schema["maxItems"], 5))
    if kind == "object":
        return _objects(schema)
    assert kind == "string", schema
    low, high = schema.get("minLength", 0), schema["maxLength"]
    pattern = schema.get("pattern")
    if pattern is None:
        return st.text(CHARACTERS, min_size=low, max_size=min(high, 40))
    if pattern.startswith("^") and pattern.endswith("$"):
        strings = st.from_regex(pattern, fullmatch=True, alphabet=CHARACTERS)
    else:
        strings = st.from_regex(pattern, alphabet=CHARACTERS)
    return strings.filter(lambda text: low <= len(text) <= high)


@st.composite
def _objects(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    properties = dict(schema["properties"])
    required, present = set(schema.get("required", ())), set()
    if "oneOf" in schema:  # one closed branch: only its fields, in its forms
        branch = draw(st.sampled_from(schema["oneOf"]))
        assert branch["additionalProperties"] is False
        properties = dict(branch["properties"])
        required |= set(branch["required"])
        if "not" in branch:  # not none of these: one of them given, not null
            names = [next(iter(a["anyOf"][1]["properties"])) for a in branch["not"]["allOf"]]
            chosen = draw(st.sampled_from(names))
            required.add(chosen)
            present.add(chosen)
    body = {}
    for name, rule in properties.items():
        if name in required or draw(st.booleans()):
            body[name] = draw(instances(rule, present=name in present))
    return body


def _resolve(spec: dict[str, Any], schema: Any) -> Any:
    """``schema`` with every ``$ref`` to the components inlined."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].removeprefix("#/components/schemas/")
            return _resolve(spec, spec["components"]["schemas"][name])
        return {key: _resolve(spec, value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_resolve(spec, value) for value in schema]
    return schema


def _body_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    content = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    schema: dict[str, Any] = _resolve(spec, content["schema"])
    for keyword in ("examples", "example"):
        schema.pop(keyword, None)
    return schema


def _past(body: Any) -> Any:
    """The drawn body with any time in the future (``occurred_at``, a claim's
    ``alleged_at``) moved to the year 2000."""
    if isinstance(body, list):
        return [_past(item) for item in body]
    for field in ("occurred_at", "alleged_at"):
        if isinstance(body, dict) and isinstance(body.get(field), str):
            try:
                when = parse_instant(field, body[field])
            except InvalidTime:  # left for the ledger to refuse
                continue
            if when > datetime.now(UTC):
                body = {**body, field: "2000" + body[field][4:]}
    return body


def _registered(body: Any, sources: list[str]) -> Any:
    """A drawn body with what the schema cannot say made true: its source registered, a
    source's single affiliation the first of its list when both are given, and no one both
    a party and a beneficiary of a claim (the ledger refuses each, naming it)."""
    if isinstance(body, list):
        return [_registered(item, sources) for item in body]
    if isinstance(body, dict) and isinstance(body.get("source"), str):
        body = {**body, "source": sources[len(body["source"]) % len(sources)]}
    if (
        isinstance(body, dict)
        and body.get("affiliation") not in (None, "")
        and isinstance(body.get("affiliations"), list)
    ):  # both given, they must agree: the single one is the first of the list
        if body["affiliations"]:
            body = {**body, "affiliation": body["affiliations"][0]}
        else:
            body = {**body, "affiliations": [body["affiliation"]]}
    if isinstance(body, dict) and isinstance(body.get("beneficiaries"), list):
        parties = {_as_stored(p) for p in body.get("parties") or []}
        body = {**body, "beneficiaries": [
            b for b in body["beneficiaries"] if _as_stored(b) not in parties
        ]}
    return body


def _as_stored(value: Any) -> Any:
    """A party or beneficiary as the ledger keeps it (a source id as is, a code upper-cased)."""
    try:
        return inputs.party("parties", value)
    except InvalidInput:
        return value


def _verdict(answer: Any) -> str:
    assert answer.status_code < 500, answer.text
    if answer.status_code < 300:
        return "accepted"
    problem = answer.json()
    if answer.status_code in (404, 409):
        return "unknown or taken id"
    fields = {e["field"].rsplit(".", 1)[-1] for e in problem.get("errors", [])}
    assert all(e.get("in") is None for e in problem.get("errors", [])), (
        "refused by FastAPI before the ledger, though the schema allows it", problem)
    if answer.status_code == 422 and fields and fields <= {"supersedes", "relays"}:
        return "unknown event"
    return f"refused: {answer.status_code} {problem['detail'][:200]}"


ROUTES = {
    "/sources": "/sources",
    "/sources/{source_id}/ratings": "/sources/kr-nis/ratings",
    "/claims": "/claims",
    "/claims/{claim_id}/events": f"/claims/{TROOPS}/events",
    "/events/batch": "/events/batch",
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_bodies_drawn_from_the_schema_are_accepted(
    route: str, memory_client: TestClient, memory_ledger: ClaimsLedger
) -> None:
    """On the in-memory store: what is tested is the schema, not the stores."""
    client, spec = memory_client, memory_client.get("/openapi.json").json()
    load_article(memory_ledger)
    schema = _body_schema(spec, route)
    if route == "/events/batch":
        schema = {**copy.deepcopy(schema), "maxItems": 4}  # the limit is 10,000: too slow
        # Every item about a registered claim.
        for item in (schema["items"], *schema["items"]["oneOf"]):
            item["properties"]["claim_id"] = {"enum": [TROOPS, "nk-arms-for-russia"]}
    valid = Draft202012Validator(schema)
    verdicts: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(st.data())
    def send(data: st.DataObject) -> None:
        body = _registered(_past(data.draw(instances(schema))), SOURCES)
        assert valid.is_valid(body), (body, [e.message for e in valid.iter_errors(body)])
        verdicts[_verdict(client.post(ROUTES[route], json=body))] += 1

    send()
    print(route, verdicts.most_common())
    total = sum(verdicts.values())
    good = sum(n for verdict, n in verdicts.items() if not verdict.startswith("refused"))
    assert good >= ACCEPTED * total, verdicts.most_common()
    assert verdicts["accepted"] > 0, verdicts.most_common()


def test_query_times_drawn_from_the_schema_are_accepted(
    memory_client: TestClient, memory_ledger: ClaimsLedger
) -> None:
    load_article(memory_ledger)
    spec = memory_client.get("/openapi.json").json()
    audit = spec["paths"]["/claims/{claim_id}/audit"]["get"]["parameters"]
    times = {p["name"]: next(s for s in p["schema"]["anyOf"] if s.get("type") == "string")
             for p in audit if p["name"] in ("as_of", "known_at", "since", "until")}
    assert set(times) == {"as_of", "known_at", "since", "until"}
    verdicts: Counter[str] = Counter()

    @settings(max_examples=TIME_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.data())
    def read(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(times)))
        value = data.draw(instances(times[name]))
        answer = memory_client.get(f"/claims/{TROOPS}/audit", params={name: value})
        # 404: the claim was not yet recorded at that known_at.
        assert answer.status_code in (200, 404, 422), answer.text
        if answer.status_code == 422:  # refused by the ledger, never by FastAPI's own check
            assert [e.get("in") for e in answer.json()["errors"]] == [None], answer.text
        verdicts[str(answer.status_code)] += 1

    read()
    assert verdicts["200"] + verdicts["404"] >= 0.9 * sum(verdicts.values()), verdicts


def test_the_schema_says_what_the_ledger_takes(memory_client: TestClient) -> None:
    spec = memory_client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    event = schemas["EventCreate"]
    assert event["properties"]["type"]["enum"] == list(STATEMENT_TYPES)
    assert {branch["properties"]["type"]["const"] for branch in event["oneOf"]} == set(
        STATEMENT_TYPES)
    occurred = event["properties"]["occurred_at"]["anyOf"][0]["anyOf"]
    assert [t["format"] for t in occurred] == ["date-time", "date"]
    likelihood = event["properties"]["likelihood"]["anyOf"][0]["oneOf"]
    assert likelihood[0] == {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
    assert "highly likely" in likelihood[1]["enum"]
    source = schemas["SourceCreate"]["properties"]
    assert source["reliability"]["anyOf"][0]["enum"] == ["A", "B", "C", "D", "E", "F"]
    assert "case-insensitive" in source["reliability"]["description"]
    affiliation = source["affiliation"]["anyOf"][0]
    # The ledger upper-cases affiliations, so the schema takes lower case too.
    assert re.fullmatch(affiliation["pattern"], "ua") and inputs.affiliation("a", "ua") == "UA"
    assert source["id"]["pattern"] == "^[a-z0-9-]{1,64}$"
    claim_id = next(p for p in spec["paths"]["/claims/{claim_id}"]["get"]["parameters"]
                    if p["name"] == "claim_id")
    assert claim_id["schema"]["pattern"] == "^[a-z0-9-]{1,64}$"
    status = next(p for p in spec["paths"]["/claims"]["get"]["parameters"]
                  if p["name"] == "status")
    assert status["schema"]["anyOf"][0]["enum"] == list(STATUSES)
    # What the patterns accept, the ledger's parser takes (up to the calendar).
    assert TIME_PATTERN.startswith("^") and DATE_TIME_PATTERN.startswith("^")
    for text in ("2024-10-13", "2024-10-13T18:00:00Z", "2024-10-13t18:00:00.123456+05:30",
                 "0001-01-01T00:00:00-00:00", "2024-02-29"):
        assert re.fullmatch(TIME_PATTERN, text)
        parse_instant("as_of", text)
    for text in ("2024-10-13T18:00:00", "2024-10-13T18:00:00.1234567Z", "2024-02-30", "20241013"):
        assert not re.fullmatch(TIME_PATTERN, text), text
