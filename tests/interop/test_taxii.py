"""The TAXII 2.1 API root, read by taxii2-client over HTTP and checked header by header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient
from pydantic import SecretStr
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from ledger.application import ClaimsLedger
from ledger.interop import stix_terms as terms
from ledger.interop.stix_export import StixExport
from ledger.interop.taxii import COLLECTION_ID

from .helpers import assert_problem, assert_valid_stix, load_every_kind

TAXII = "application/taxii+json;version=2.1"
KEY = "reader-key-0123456789abcdef"
KEYS = SecretStr(f"ana:reader:{KEY}")
OBJECTS = f"/taxii2/ledger/collections/{COLLECTION_ID}/objects/"


class Bearer(requests.auth.AuthBase):
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {KEY}"
        return request


@pytest.fixture
def collection(live_server: Callable[..., str], ledger: ClaimsLedger) -> Collection:
    load_every_kind(ledger)
    server = Server(f"{live_server(api_keys=KEYS)}/taxii2/", auth=Bearer())
    [root] = server.api_roots
    assert server.default is root and isinstance(root, ApiRoot)
    [found] = root.collections
    return found


def every_version(ledger: ClaimsLedger) -> list[dict[str, Any]]:
    from ledger.interop.stix_export import definitions

    return definitions() + list(StixExport(ledger).stream())


def test_discovery_api_root_and_collection(collection: Collection) -> None:
    assert collection.id == COLLECTION_ID and collection.title == "Claims Ledger"
    assert collection.can_read and not collection.can_write
    assert collection.media_types == ["application/stix+json;version=2.1"]


def test_paging_with_limit_and_next_reads_every_version(
    collection: Collection, ledger: ClaimsLedger
) -> None:
    read: list[dict[str, Any]] = []
    pages = 0
    for envelope in as_pages(collection.get_objects, per_request=4, version="all"):
        read += envelope.get("objects", [])
        pages += 1
    assert pages > 5
    assert read == every_version(ledger)
    assert_valid_stix({"type": "bundle", "id": terms.stix_id("bundle", "t"), "objects": read})


def test_added_after_reads_on_from_where_a_poller_left_off(
    collection: Collection, ledger: ClaimsLedger
) -> None:
    first = collection.get_objects(limit=10)
    manifest = collection.get_manifest(limit=10)
    assert [e["id"] for e in manifest["objects"]] == [o["id"] for o in first["objects"]]
    last_added = manifest["objects"][-1]["date_added"]
    read, polls = list(first["objects"]), 0
    while True:  # a poller: added_after = the last date_added it saw, until nothing is new
        envelope = collection.get_objects(added_after=last_added, limit=2)
        objects = envelope.get("objects", [])
        if not objects:
            break
        seen = collection.get_manifest(added_after=last_added, limit=2)["objects"]
        last_added = seen[-1]["date_added"]
        read += objects
        polls += 1
    # An event's objects share its date_added, and pages end between events, not inside
    # them: what the poller reads is every latest version, in order, once.
    expected = [o for o in every_version(ledger)
                if StixExport(ledger).is_latest(_item(o, ledger))]
    assert polls >= 4 and [o["id"] for o in read] == [o["id"] for o in expected]


def _item(obj: dict[str, Any], ledger: ClaimsLedger) -> Any:
    from ledger.interop.stix_export import StixItem

    event = (terms.ledger_properties(obj) or {}).get("ledger_event") or {}
    return StixItem(obj, event.get("position", 0), "")


def test_object_and_versions(collection: Collection, ledger: ClaimsLedger) -> None:
    ids = ledger.claim_events("nk-troops-for-russia")["events"]
    denial = terms.statement_object_id("denied", ids[2]["event_id"])
    latest = collection.get_object(denial)["objects"]
    assert [o.get("revoked") for o in latest] == [True]
    versions = collection.object_versions(denial)
    assert len(versions["versions"]) == 2 and not versions["more"]
    first = collection.get_object(denial, version="first")["objects"]
    assert first[0]["modified"] == versions["versions"][0] and "revoked" not in first[0]
    notes = collection.get_objects(type="note", limit=1000)["objects"]
    assert {o["type"] for o in notes} == {"note"} and len(notes) == 6


def test_headers_media_type_and_bad_requests(make_client: Callable[..., TestClient],
                                             ledger: ClaimsLedger) -> None:
    load_every_kind(ledger)
    client = make_client()
    response = client.get(OBJECTS, params={"limit": 3}, headers={"Accept": TAXII})
    assert response.status_code == 200 and response.headers["content-type"] == TAXII
    body = response.json()
    assert body["more"] is True and body["next"]
    log = ledger.global_log(0, 10)["events"]
    assert response.headers["X-TAXII-Date-Added-First"] == log[0]["recorded_at"]
    assert response.headers["X-TAXII-Date-Added-Last"] == log[0]["recorded_at"]
    assert_problem(client.get(OBJECTS, headers={"Accept": "application/json"}), 406)
    assert_problem(client.get(OBJECTS, headers={"Accept": "application/taxii+json;version=2.0"}),
                   406)
    assert_problem(client.get(OBJECTS, params={"next": "x"}), 422)
    assert_problem(client.get(OBJECTS, params={"limit": 0}), 422)
    assert_problem(client.get(OBJECTS, params={"added_after": "2024-10-13T00:00:00"}), 422)
    assert_problem(client.get(OBJECTS, params={"match[version]": "newest"}), 422)
    assert_problem(client.get(OBJECTS, params={"match[spec_version]": "2.0"}), 422)
    assert_problem(client.get("/taxii2/ledger/collections/nope/objects/"), 404)
    assert_problem(client.get(f"{OBJECTS}note--00000000-0000-4000-8000-000000000000/"), 404)
    empty = client.get(OBJECTS, params={"added_after": "2999-01-01T00:00:00Z"}).json()
    assert empty == {"more": False, "objects": []}


def test_reading_needs_a_readers_key(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_keys=KEYS)
    assert_problem(client.get("/taxii2/"), 401)
    assert client.get("/taxii2/", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
