"""GET /stix/bundle: a page of the log as a valid STIX bundle, paged as GET /events."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pydantic import SecretStr

from ledger.application import ClaimsLedger

from .conftest import MakeClient
from .helpers import assert_problem, assert_valid_stix, load_every_kind


def test_the_bundle_is_valid_stix_with_its_media_type(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    load_every_kind(ledger)
    response = client.get("/stix/bundle", params={"limit": 1000})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/stix+json;version=2.1"
    bundle = assert_valid_stix(response.json())
    assert [o["type"] for o in bundle["objects"][:2]] == ["identity", "extension-definition"]
    assert "link" not in response.headers
    assert client.get("/stix/bundle", params={"limit": 1000}).json() == bundle


def test_pages_follow_the_link_header_to_the_end(client: TestClient, ledger: ClaimsLedger) -> None:
    load_every_kind(ledger)
    whole = client.get("/stix/bundle", params={"limit": 1000}).json()["objects"][2:]
    url: str | None = "/stix/bundle?limit=5"
    objects = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        objects += assert_valid_stix(response.json())["objects"][2:]
        link = response.headers.get("link")
        url = link[1:link.index(">")] if link else None
    assert objects == whole
    after = client.get("/stix/bundle", params={"after": 11, "limit": 1}).json()
    assert after["objects"][2]["created_by_ref"].startswith("identity--")  # putin's note


def test_bad_paging_is_a_problem_naming_it(client: TestClient, ledger: ClaimsLedger) -> None:
    load_every_kind(ledger)
    assert_problem(client.get("/stix/bundle", params={"limit": 0}), 422)
    assert_problem(client.get("/stix/bundle", params={"cursor": "x"}), 422)
    body = assert_problem(client.get("/stix/bundle", params={"cursor": "3", "after": 2}), 422)
    assert "after" in body["detail"]


def test_reading_needs_a_readers_key(make_client: MakeClient) -> None:
    client = make_client(api_keys=SecretStr("ana:reader:ana-key-0123456789abcdef"))
    assert_problem(client.get("/stix/bundle"), 401)
    response = client.get("/stix/bundle", headers={"Authorization":
                                                   "Bearer ana-key-0123456789abcdef"})
    assert response.status_code == 200
