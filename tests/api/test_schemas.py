"""Response models drop nothing: every read route answers the ledger's own dict, field for
field, and a claim registered over HTTP takes every field the ledger takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.schemas import ClaimPublic, ClaimsPublic
from ledger.application import ClaimsLedger
from ledger.times import format_instant, now, parse_instant

TROOPS = "nk-troops-for-russia"
AS_OF = "2024-10-31"
Read = Callable[[ClaimsLedger, dict[str, Any]], dict[str, Any]]

# Each route with the query it takes and the ledger call it must answer field for field;
# "at" holds the concrete as_of and known_at (a known_at after the data was loaded, and
# not in the future, where the ledger answers as of now).
READS: dict[str, tuple[str, tuple[str, ...], Read]] = {
    "claim": (
        f"/claims/{TROOPS}",
        ("as_of", "known_at"),
        lambda ledger, at: ledger.claim(TROOPS, **at),
    ),
    "claims": ("/claims", ("as_of", "known_at"), lambda ledger, at: ledger.list_claims(**at)),
    "claim events": (
        f"/claims/{TROOPS}/events",
        ("as_of", "known_at"),
        lambda ledger, at: ledger.claim_events(TROOPS, **at),
    ),
    "audit": (
        f"/claims/{TROOPS}/audit",
        ("as_of", "known_at"),
        lambda ledger, at: ledger.audit(TROOPS, limit=100, **at),  # the API pages by 100
    ),
    "timeline": (
        f"/claims/{TROOPS}/timeline",
        ("known_at",),
        lambda ledger, at: ledger.timeline(TROOPS, known_at=at["known_at"]),
    ),
    "source": (
        "/sources/kr-nis",
        ("as_of", "known_at"),
        lambda ledger, at: ledger.get_source("kr-nis", **at),
    ),
    "sources": ("/sources", ("as_of", "known_at"), lambda ledger, at: ledger.list_sources(**at)),
    "log": ("/events", (), lambda ledger, at: ledger.log_page(limit=1000)),
    "verify": ("/verify", (), lambda ledger, at: ledger.verify()),
}


@pytest.mark.parametrize("name", READS)
def test_every_read_answers_the_ledgers_dict(
    name: str, article: TestClient, ledger: ClaimsLedger
) -> None:
    path, names, read = READS[name]
    known_at = format_instant(now())
    texts = {"as_of": AS_OF, "known_at": known_at}
    at = {
        "as_of": parse_instant("as_of", AS_OF, bare_date="end"),
        "known_at": parse_instant("known_at", known_at),
    }
    params = {n: texts[n] for n in names} | ({"limit": 1000} if name == "log" else {})
    assert article.get(path, params=params).json() == read(ledger, {n: at[n] for n in names})


#: Routes that answer the ledger's dict serialized once, without their response model: the
#: dict must be what the model would make of it (the OpenAPI schema), nothing more or less.
SERIALIZED_ONCE: dict[str, type[BaseModel]] = {"claim": ClaimPublic, "claims": ClaimsPublic}


@pytest.mark.parametrize("name", SERIALIZED_ONCE)
@pytest.mark.parametrize("as_of", ["2024-10-13", AS_OF])
def test_a_read_serialized_once_is_its_models_answer(
    name: str, as_of: str, article: TestClient, ledger: ClaimsLedger
) -> None:
    path, _, read = READS[name]
    at = {"as_of": parse_instant("as_of", as_of, bare_date="end"), "known_at": now()}
    answer = read(ledger, at)
    model = SERIALIZED_ONCE[name]
    assert model.model_validate(answer).model_dump(mode="json", exclude_unset=True) == answer
    served = article.get(path, params={"as_of": as_of})
    assert served.status_code == 200 and served.json()["as_of"] == answer["as_of"]
    if name == "claim":
        assert served.headers["etag"] == f'"{answer["version"]}"'


def test_a_claim_takes_and_shows_its_beneficiaries(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    body = {
        "id": "aid-diverted",
        "text": "Aid was diverted",
        "parties": ["RU"],
        "beneficiaries": ["Ua"],  # a code with a capital letter is upper-cased (all lower-case
    }  # would name a source: tests/api/test_affiliations.py)
    created = client.post("/claims", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["beneficiaries"] == ["UA"]
    assert client.get("/claims/aid-diverted").json()["beneficiaries"] == ["UA"]
    registered = client.get("/events").json()["data"][-1]
    assert registered["type"] == "claim_registered" and registered["beneficiaries"] == ["UA"]


def test_the_contract_fields_are_there(article: TestClient) -> None:
    """The HTTP contract's shapes (docs/http-api.md, "Shapes"): the field names a client
    relies on."""
    claim = article.get(f"/claims/{TROOPS}").json()
    assert {"id", "text", "tags", "parties", "version", "as_of", "known_at", "credibility"} <= set(
        claim
    )
    assert {"probability", "band", "status", "grade", "model", "contributions"} <= set(
        claim["credibility"]
    )
    entry = article.get(f"/claims/{TROOPS}/audit").json()["entries"][0]
    assert {
        "position",
        "event_id",
        "recorded_at",
        "occurred_at",
        "type",
        "source",
        "actor",
        "before",
        "after",
        "reason",
    } <= set(entry)
    assert entry["reason"]
