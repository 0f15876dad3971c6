"""STIX import: a preview first, then the write; idempotent; the round trip keeps credibility."""

from __future__ import annotations

import json
from typing import Any

import stix2
from fastapi.testclient import TestClient

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.examples import load_article
from ledger.interop import stix_terms as terms
from ledger.interop.stix_export import StixExport, bundle_id, write_bundle
from ledger.interop.stix_import import apply_import, plan_import

from .conftest import MakeClient
from .helpers import TROOPS, assert_problem, assert_valid_stix, load_every_kind

CLAIMS = ("nk-troops-for-russia", "nk-arms-for-russia", "ru-kp-defence-pact")


def exported(ledger: ClaimsLedger) -> dict[str, Any]:
    return assert_valid_stix("".join(write_bundle(StixExport(ledger).stream(),
                                                  bundle_id("test"))))


def log_length(ledger: ClaimsLedger) -> int:
    return len(ledger.global_log(0, 1000)["events"])


def statements(ledger: ClaimsLedger, claim_id: str) -> list[tuple[Any, ...]]:
    return [(e["event_id"], e["type"], e["source"], e["occurred_at"], e.get("quote"),
             e.get("summary"), e.get("likelihood"), e.get("supersedes"))
            for e in ledger.claim_events(claim_id)["events"]]


def test_an_export_imported_into_an_empty_ledger_gives_the_same_answers(
    ledger: ClaimsLedger, settings: Settings
) -> None:
    load_every_kind(ledger)
    bundle = exported(ledger)
    empty = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    try:
        plan = plan_import(empty, bundle)
        assert log_length(empty) == 0  # a plan writes nothing
        assert apply_import(empty, plan, "bob")["count"] == log_length(ledger)
        for claim_id in CLAIMS:
            before, after = ledger.claim(claim_id), empty.claim(claim_id)
            assert after["credibility"] == before["credibility"]
            assert {k: after[k] for k in ("text", "tags", "parties", "beneficiaries")} == \
                {k: before[k] for k in ("text", "tags", "parties", "beneficiaries")}
            assert statements(empty, claim_id) == statements(ledger, claim_id)
        assert empty.get_source("peskov")["reliability"] == "E"
        assert {e["actor"] for e in empty.claim_events(TROOPS)["events"]} == {"bob"}
        # Idempotent by STIX id and version: everything is now skipped, and why.
        again = plan_import(empty, bundle)
        assert not again.appended
        assert all("already in the ledger" in s.reason or "own definition" in s.reason
                   for s in again.skipped)
    finally:
        empty.close()


def _foreign(ledger: ClaimsLedger) -> dict[str, Any]:
    """What another platform would send: its analyst, a note and an opinion on a claim."""
    analyst = stix2.v21.Identity(name="Example CTI desk", identity_class="organization")
    grouping = terms.claim_grouping_id(TROOPS)
    note = stix2.v21.Note(content="Satellite imagery shows troop trains near the border.",
                          abstract="Troop trains", object_refs=[grouping],
                          created_by_ref=analyst.id, created="2024-10-16T00:00:00Z",
                          external_references=[{"source_name": "desk",
                                                "url": "https://example.org/imagery"}])
    denial = stix2.v21.Note(content="No troops were sent.", object_refs=[grouping],
                            created_by_ref=analyst.id, labels=["denied"],
                            created="2024-10-17T00:00:00Z")
    opinion = stix2.v21.Opinion(opinion="agree", confidence=85, object_refs=[grouping],
                                created_by_ref=analyst.id, explanation="Consistent reports.",
                                created="2024-10-18T00:00:00Z")
    elsewhere = stix2.v21.Opinion(opinion="agree", object_refs=[analyst.id],
                                  created_by_ref=analyst.id)
    anonymous = stix2.v21.Note(content="Someone said so.", object_refs=[grouping])
    malware = stix2.v21.Malware(name="x", is_family=False)
    objects = [analyst, note, denial, opinion, elsewhere, anonymous, malware]
    return {"type": "bundle", "id": bundle_id("foreign"),
            "objects": [json.loads(o.serialize()) for o in objects]}


def test_other_platforms_objects_become_statements_about_known_claims(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    load_article(ledger)
    bundle = _foreign(ledger)
    size = log_length(ledger)
    preview = client.post("/stix/bundle", json=bundle)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["committed"] is False and body["count"] == 0 and log_length(ledger) == size
    records = [a["record"] for a in body["appended"]]
    analyst = bundle["objects"][0]["id"]
    source = f"stix-{analyst.partition('--')[2]}"
    assert [r.get("type") for r in records] == [
        "source_registered", "asserted", "denied", "assessed"]
    assert records[0] == {"type": "source_registered", "source": source,
                          "name": "Example CTI desk", "role": None, "reliability": "F"}
    assert records[1]["reference"] == "https://example.org/imagery"
    assert records[3]["likelihood"] == "very likely"  # confidence 85 on the DNI scale
    reasons = {s["stix_id"].partition("--")[0]: s["reason"] for s in body["skipped"]}
    assert "not about a claim" in reasons["opinion"]
    assert "created_by_ref" in reasons["note"]
    assert "not a statement" in reasons["malware"]
    committed = client.post("/stix/bundle", params={"commit": "true"}, json=bundle)
    assert committed.status_code == 200, committed.text
    assert committed.json()["committed"] is True and committed.json()["count"] == 4
    events = ledger.claim_events(TROOPS)["events"]
    assert [(e["type"], e["source"], e["occurred_at"][:10]) for e in events[-3:]] == [
        ("asserted", source, "2024-10-16"), ("denied", source, "2024-10-17"),
        ("assessed", source, "2024-10-18")]
    assert events[-1]["likelihood"] == 0.875 and events[-1]["actor"] == "local"
    again = client.post("/stix/bundle", params={"commit": "true"}, json=bundle).json()
    assert again["count"] == 0 and not again["appended"]
    assert log_length(ledger) == size + 4


def test_bad_bundles_are_problems_and_write_nothing(
    client: TestClient, ledger: ClaimsLedger, make_client: MakeClient
) -> None:
    load_article(ledger)
    size = log_length(ledger)
    assert_problem(client.post("/stix/bundle", json={"type": "report"}), 422)
    assert_problem(client.post("/stix/bundle", json={"type": "bundle", "objects": 3}), 422)
    assert_problem(client.post("/stix/bundle", json=[1, 2]), 422)
    assert_problem(client.post("/stix/bundle", content=b"{not json",
                               headers={"Content-Type": "application/json"}), 422)
    assert_problem(client.post("/stix/bundle", content=b"<xml/>",
                               headers={"Content-Type": "application/xml"}), 415)
    broken = {"type": "bundle", "id": bundle_id("b"), "objects": [
        {"type": "note", "id": "note--1", "content": "x"}]}
    body = client.post("/stix/bundle", params={"commit": "true"}, json=broken).json()
    assert body["count"] == 0 and "not a valid STIX 2.1 object" in body["skipped"][0]["reason"]
    twice = _foreign(ledger)
    twice["objects"].append(twice["objects"][1])  # the same note, the same version, again
    reasons = [s["reason"] for s in client.post("/stix/bundle", json=twice).json()["skipped"]]
    assert "this version of it appears twice in this bundle" in reasons
    typed = client.post("/stix/bundle", content=json.dumps(_foreign(ledger)),
                        headers={"Content-Type": "application/stix+json;version=2.1"})
    assert typed.status_code == 200
    assert log_length(ledger) == size


def test_importing_needs_a_writers_key(make_client: MakeClient, ledger: ClaimsLedger) -> None:
    from pydantic import SecretStr

    client = make_client(api_keys=SecretStr("ana:reader:reader-key-0123456789"))
    response = client.post("/stix/bundle", json={"type": "bundle", "objects": []},
                           headers={"Authorization": "Bearer reader-key-0123456789"})
    assert_problem(response, 403)


def test_a_tampered_ledger_object_is_skipped_with_the_reason_never_a_500(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    load_every_kind(ledger)
    bundle = exported(ledger)
    empty_client_ledger = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    try:
        tampered = json.loads(json.dumps(bundle))
        opinion = next(o for o in tampered["objects"] if o["type"] == "opinion")
        event = terms.ledger_properties(opinion)
        assert event is not None
        event["ledger_event"]["likelihood"] = 7
        note = next(o for o in tampered["objects"] if o["type"] == "note")
        del terms.ledger_properties(note)["ledger_event"]["claim_id"]  # type: ignore[index]
        plan = plan_import(empty_client_ledger, tampered)
        reasons = {s.stix_id: s.reason for s in plan.skipped}
        assert "likelihood" in reasons[opinion["id"]]
        assert "claim_id" in reasons[note["id"]] or "not about a claim" in reasons[note["id"]]
        apply_import(empty_client_ledger, plan, "bob")  # what is left writes cleanly
    finally:
        empty_client_ledger.close()
    response = client.post("/stix/bundle", params={"commit": "true"}, json=tampered)
    assert response.status_code == 200, response.text
