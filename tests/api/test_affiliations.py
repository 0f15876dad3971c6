"""A source's ``affiliations`` and a claim's parties and beneficiaries that name sources, over
HTTP: written, read back, checked (a 422 naming the field, nothing written), published."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.bodies import PARTY_PATTERN
from ledger.application import ClaimsLedger
from ledger.inputs import MAX_ITEMS

from .conftest import assert_problem, log_length

MINISTER = {"id": "minister", "name": "A minister", "role": "minister",
            "affiliations": ["GB", "gb-gov"]}


def _logged(client: TestClient, **match: Any) -> dict[str, Any]:
    logged = client.get("/events", params={"limit": 1000}).json()["data"]
    [event] = [e for e in logged if all(e.get(k) == v for k, v in match.items())]
    return dict(event)


def test_a_source_holds_several_affiliations(client: TestClient, ledger: ClaimsLedger) -> None:
    created = client.post("/sources", json={**MINISTER, "affiliations": ["GB", "gb-gov", "GB"]})
    assert created.status_code == 201, created.text
    assert created.json()["affiliation"] == "GB"  # the first, for clients of one affiliation
    assert client.get("/sources/minister").json()["affiliation"] == "GB"
    stored = ledger.store.source_for_update("minister")
    assert stored.affiliations == ["GB", "GB-GOV"]  # upper-cased, duplicates dropped
    registered = _logged(client, type="source_registered", source="minister")
    assert registered["affiliations"] == ["GB", "GB-GOV"]
    assert registered["affiliation"] == "GB"


@pytest.mark.parametrize("body, expected", [
    ({"affiliation": "ua"}, ["UA"]),
    ({}, []),
    ({"affiliation": "GB", "affiliations": ["gb", "GB-GOV"]}, ["GB", "GB-GOV"]),  # they agree
    ({"affiliations": []}, []),
])
def test_one_affiliation_still_means_a_list_of_it(
    client: TestClient, ledger: ClaimsLedger, body: dict[str, Any], expected: list[str]
) -> None:
    created = client.post("/sources", json={"id": "someone", "name": "Someone", **body})
    assert created.status_code == 201, created.text
    assert ledger.store.source_for_update("someone").affiliations == expected
    assert _logged(client, type="source_registered")["affiliations"] == expected
    assert created.json()["affiliation"] == (expected[0] if expected else None)


@pytest.mark.parametrize("body, field", [
    ({"affiliation": "FR", "affiliations": ["GB", "FR"]}, "affiliation"),  # not their first
    ({"affiliation": "GB", "affiliations": []}, "affiliation"),
    ({"affiliations": ["GB", "not a code"]}, "affiliations[1]"),
    ({"affiliations": ["GB", ""]}, "affiliations[1]"),
    ({"affiliations": "GB"}, "affiliations"),
    ({"affiliations": [f"C{i:02d}" for i in range(MAX_ITEMS + 1)]}, "affiliations"),
])
def test_bad_affiliations_are_a_422_naming_the_field_and_write_nothing(
    client: TestClient, ledger: ClaimsLedger, body: dict[str, Any], field: str
) -> None:
    written = log_length(ledger)
    assert_problem(client.post("/sources", json={"id": "someone", "name": "S", **body}), 422,
                   field)
    assert log_length(ledger) == written
    assert client.get("/sources/someone").status_code == 404


def test_parties_and_beneficiaries_may_name_sources_registered_or_not(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    assert client.post("/sources", json={"id": "luckin", "name": "Luckin Coffee"}).status_code \
        == 201
    body = {"id": "luckin-sales", "text": "Luckin Coffee fabricated its 2019 sales",
            "parties": ["luckin", "CN"], "beneficiaries": ["muddy-waters"]}
    created = client.post("/claims", json=body)
    assert created.status_code == 201, created.text
    for answer in (created.json(), client.get("/claims/luckin-sales").json()):
        assert answer["parties"] == ["luckin", "CN"]
        assert answer["beneficiaries"] == ["muddy-waters"]  # not (yet) a registered source
    registered = _logged(client, type="claim_registered", claim_id="luckin-sales")
    assert registered["parties"] == ["luckin", "CN"]
    assert registered["beneficiaries"] == ["muddy-waters"]
    later = client.post("/sources", json={"id": "muddy-waters", "name": "Muddy Waters"})
    assert later.status_code == 201, later.text


def test_a_capital_letter_makes_a_code_and_lower_case_a_source(client: TestClient) -> None:
    body = {"id": "c", "text": "A claim", "parties": ["Luckin", "gb-gov"]}
    created = client.post("/claims", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["parties"] == ["LUCKIN", "gb-gov"]


@pytest.mark.parametrize("body, field", [
    ({"parties": ["no spaces"]}, "parties[0]"),
    ({"parties": ["GB", "x" * 65]}, "parties[1]"),
    ({"beneficiaries": ["A" * 17]}, "beneficiaries[0]"),
    ({"parties": ["luckin"], "beneficiaries": ["luckin"]}, "beneficiaries"),
])
def test_a_bad_party_is_a_422_naming_it_and_writes_nothing(
    client: TestClient, ledger: ClaimsLedger, body: dict[str, Any], field: str
) -> None:
    written = log_length(ledger)
    problem = assert_problem(client.post("/claims", json={"id": "c", "text": "T", **body}),
                             422, field)
    assert log_length(ledger) == written
    if field != "beneficiaries":
        reasons = " ".join(e["reason"] for e in problem["errors"])
        assert ("source id" in reasons and "affiliation code" in reasons) or "64" in reasons


def test_the_schema_publishes_both_forms(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    claim = schemas["ClaimCreate"]["properties"]
    for name in ("parties", "beneficiaries"):
        assert claim[name]["maxItems"] == MAX_ITEMS
        assert claim[name]["items"]["pattern"] == PARTY_PATTERN
        assert "source id" in claim[name]["items"]["description"]
    pattern = re.compile(PARTY_PATTERN)
    for good in ("luckin", "muddy-waters", "GB", "GB-GOV", "ua", "x"):
        assert pattern.fullmatch(good), good
    for bad in ("no spaces", "X", "A" * 17, "a" * 65, "é"):
        assert not pattern.fullmatch(bad), bad
    source = schemas["SourceCreate"]["properties"]
    listed = source["affiliations"]["anyOf"][0]
    assert listed["type"] == "array" and listed["maxItems"] == MAX_ITEMS
    assert listed["items"]["pattern"] == source["affiliation"]["anyOf"][0]["pattern"]
    log = schemas["LogEvent"]["properties"]
    assert "affiliations" in log and "affiliation" in log
