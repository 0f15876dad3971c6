"""The STIX export: every bundle valid, every event an object version, on every backend."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from ledger.application import ClaimsLedger
from ledger.interop import stix_terms as terms
from ledger.interop.stix_export import StixExport, bundle_id, write_bundle
from ledger.times import parse_instant

from .helpers import TROOPS, assert_valid_stix, load_every_kind


def export(ledger: ClaimsLedger) -> dict[str, Any]:
    text = "".join(write_bundle(StixExport(ledger).stream(), bundle_id("test")))
    return assert_valid_stix(text)


def instant(text: str) -> datetime:
    return parse_instant("time", text)


def versions(bundle: dict[str, Any], object_id: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["id"] == object_id]


def ledger_event(obj: dict[str, Any]) -> dict[str, Any]:
    found = terms.ledger_properties(obj)
    assert found is not None
    event: dict[str, Any] = found["ledger_event"]
    return event


def test_the_article_exports_as_a_valid_bundle_of_sources_statements_and_claims(
    ledger: ClaimsLedger,
) -> None:
    load_every_kind(ledger)
    bundle = export(ledger)
    kinds = Counter(o["type"] for o in bundle["objects"])
    # 8 sources + peskov's re-rating; the ledger's own identity and extension definition.
    assert kinds["identity"] == 8 + 1 + 1 and kinds["extension-definition"] == 1
    # Statements: 6 notes (asserted, denied) + the revoked version of peskov's denial;
    # opinions: 2 assessments + the corrected version of one + the resolution.
    assert kinds["note"] == 7 and kinds["opinion"] == 4
    assert kinds["grouping"] == 3  # one per claim, at its latest statement
    log = ledger.global_log(0, 1000)["events"]
    assert {ledger_event(o)["event_id"] for o in bundle["objects"]
            if terms.ledger_properties(o) and "ledger_event" in terms.ledger_properties(o)
            } == {e["event_id"] for e in log if e["type"] != "claim_registered"}


def test_statements_keep_their_times_source_and_words(ledger: ClaimsLedger) -> None:
    load_every_kind(ledger)
    bundle = export(ledger)
    kim = next(o for o in bundle["objects"] if o["type"] == "opinion"
               and ledger_event(o)["source"] == "kim-yong-hyun")
    assert kim["created"].startswith("2024-10-08T00:00:00")  # occurred_at
    assert kim["confidence"] == 85 and kim["opinion"] == "strongly-agree"  # "highly likely"
    assert kim["created_by_ref"] == terms.source_identity_id("kim-yong-hyun")
    assert kim["object_refs"] == [terms.claim_grouping_id(TROOPS)]
    assert "highly likely" in kim["explanation"]
    recorded = ledger_event(kim)
    assert kim["external_references"][0] == {
        "source_name": "claims-ledger", "external_id": recorded["event_id"],
        "description": f"recorded at {recorded['recorded_at']} by example-data, "
                       f"position {recorded['position']}"}
    zelensky = next(o for o in bundle["objects"] if o["type"] == "note"
                    and ledger_event(o)["source"] == "zelensky")
    assert zelensky["labels"] == ["asserted"] and zelensky["authors"] == ["Volodymyr Zelensky"]
    assert "transferring people from North Korea" in zelensky["content"]


def test_a_retraction_revokes_and_a_correction_versions_the_object(
    ledger: ClaimsLedger,
) -> None:
    ids = load_every_kind(ledger)
    bundle = export(ledger)
    denial = versions(bundle, terms.statement_object_id("denied", ids["peskov"]))
    assert [v.get("revoked", False) for v in denial] == [False, True]
    assert denial[0]["created"] == denial[1]["created"] < denial[1]["modified"]
    assert ledger_event(denial[1])["event_id"] == ids["retracted"]
    nis = versions(bundle, terms.statement_object_id("assessed", ids["nis"]))
    assert [(v["confidence"], v["opinion"]) for v in nis] == [(70, "agree"), (70, "agree")]
    assert "likely (0.675)" in nis[1]["explanation"]  # the corrected likelihood
    assert nis[0]["modified"] < nis[1]["modified"]
    assert ledger_event(nis[1])["event_id"] == ids["corrected"]


def test_a_re_rating_is_a_new_version_of_the_sources_identity(ledger: ClaimsLedger) -> None:
    load_every_kind(ledger)
    bundle = export(ledger)
    peskov = versions(bundle, terms.source_identity_id("peskov"))
    assert [ledger_event(v)["reliability"] for v in peskov] == ["D", "E"]
    assert peskov[0]["created"] == peskov[1]["created"] < peskov[1]["modified"]
    assert "Admiralty reliability E" in peskov[1]["description"]


def test_a_claims_grouping_holds_its_statements_and_its_credibility(
    ledger: ClaimsLedger,
) -> None:
    ids = load_every_kind(ledger)
    bundle = export(ledger)
    [grouping] = versions(bundle, terms.claim_grouping_id(TROOPS))
    statements = ledger.claim_events(TROOPS)["events"]
    originals = [e for e in statements if e["type"] not in ("retracted", "corrected")]
    assert grouping["object_refs"] == [
        terms.statement_object_id(e["type"], e["event_id"]) for e in originals]
    assert grouping["name"] == "North Korea is sending troops to fight for Russia in Ukraine"
    extension = terms.ledger_properties(grouping)
    assert extension is not None
    claim = ledger.claim(TROOPS)
    assert extension["claim"]["parties"] == ["RU", "KP"]
    assert extension["credibility"]["probability"] == claim["credibility"]["probability"]
    assert instant(grouping["modified"]) == instant(statements[-1]["recorded_at"])
    assert ids["corrected"] == statements[-1]["event_id"]


def test_pages_make_the_same_objects_as_the_whole_and_each_page_is_a_valid_bundle(
    ledger: ClaimsLedger,
) -> None:
    load_every_kind(ledger)
    whole = list(StixExport(ledger).stream())
    paged: list[dict[str, Any]] = []
    after, pages = 0, 0
    while True:
        page = StixExport(ledger).page(after=after, limit=4)
        objects = [item.obj for item in page.items]
        assert_valid_stix({"type": "bundle", "id": bundle_id("page", after),
                           "objects": objects or [whole[0]]})
        paged += objects
        pages += 1
        if page.next_cursor is None:
            break
        after = page.last_position
    assert pages > 4 and paged == whole


def test_the_same_ledger_exports_the_same_bytes(ledger: ClaimsLedger) -> None:
    load_every_kind(ledger)
    first = json.dumps(list(StixExport(ledger).stream()))
    assert first == json.dumps(list(StixExport(ledger).stream()))
