"""One missing event row: the damaged claim answers a clear 500, everything else is served.

An event row is deleted from the events table behind the service's back (SQLite and
PostgreSQL). The claim it belonged to can no longer be rebuilt: each of its routes answers
a problem of type ``/problems/damaged-history`` naming the position ``verify`` reports, and
nothing is written to it; lists keep serving the other claims and flag the damaged one;
the projection goes on past it; the global log and the export stop before it rather than
skip it. (Before: every read of the claim, ``GET /events``, a projection catching up across
it and a list that replays were 500s with a stack trace in the log, and ``GET /events``
could pair a log row with the next event.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.domain import claim_uuid
from ledger.errors import DamagedHistory
from ledger.examples import load_article
from ledger.reads import LedgerReads
from ledger_cli.main import app as cli

from .helpers import ACTOR, execute

TROOPS = "nk-troops-for-russia"
OTHERS = ("nk-arms-for-russia", "ru-kp-defence-pact")
PROBLEM = "application/problem+json"
DENIAL = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-20", "quote": "no"}


@pytest.fixture
def sql_settings(sql_store: str) -> Settings:
    return Settings(store=sql_store, _env_file=None)  # type: ignore[call-arg]


def delete_event(settings: Settings, claim_id: str, version: int) -> None:
    """Delete one row of the events table (not its log row), behind the service's back."""
    oid: Any = claim_uuid(claim_id)
    execute(
        settings,
        "DELETE FROM {events} WHERE originator_id = ? AND originator_version = ?",
        (oid.hex if settings.backend == "sqlite" else oid, version),
    )


@pytest.fixture
def damaged(sql_settings: Settings) -> Iterator[tuple[ClaimsLedger, TestClient, int]]:
    """The article, its projection up to date, then the troops claim's third event deleted.
    Yields the ledger, a client and the position ``verify`` names."""
    ledger = open_ledger(sql_settings)
    load_article(ledger)
    assert ledger.list_claims()["data"]  # the projection has seen every event
    before = {cid: ledger.claim(cid)["credibility"] for cid in OTHERS}
    delete_event(sql_settings, TROOPS, 3)
    report = ledger.verify()
    assert report["ok"] is False and report["reason"] == "the stored event is missing"
    client = TestClient(create_app(sql_settings, ledger), raise_server_exceptions=False)
    with client:
        for cid in OTHERS:  # the other claims are untouched
            assert ledger.claim(cid)["credibility"] == before[cid]
        try:
            yield ledger, client, report["first_bad_position"]
        finally:
            ledger.close()


def assert_damaged(response: Any, position: int) -> None:
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "/problems/damaged-history"
    assert body["title"] == "Damaged history"
    assert (body["position"], body["reason"]) == (position, "the stored event is missing")
    assert f"damaged at position {position} (the stored event is missing)" in body["detail"]
    assert "Traceback" not in response.text and "OriginatorVersionError" not in response.text


def test_the_damaged_claim_answers_a_clear_500_naming_the_position(
    damaged: tuple[ClaimsLedger, TestClient, int],
) -> None:
    ledger, client, position = damaged
    for path in ("", "/events", "/audit", "/timeline"):
        response = client.get(f"/claims/{TROOPS}{path}")
        assert_damaged(response, position)
        assert f"claim {TROOPS!r} cannot be served" in response.json()["detail"]
    # Nothing is written to it, with or without If-Match.
    length = ledger.global_log(0, limit=1000)["next"]
    for headers in ({}, {"If-Match": '"5"'}):
        assert_damaged(client.post(f"/claims/{TROOPS}/events", json=DENIAL, headers=headers),
                       position)
    assert ledger.store.recorder.max_notification_id() == 19
    assert length == position - 1
    # The other claims are served as before.
    for cid in OTHERS:
        assert client.get(f"/claims/{cid}").status_code == 200
        assert client.get(f"/claims/{cid}/audit").status_code == 200
    assert client.get("/verify").json()["first_bad_position"] == position


def listed(client: TestClient, **params: str) -> dict[str, dict[str, Any]]:
    response = client.get("/claims", params=params)
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["data"]}


def test_lists_serve_the_others_and_flag_the_damaged_claim(
    damaged: tuple[ClaimsLedger, TestClient, int],
) -> None:
    ledger, client, position = damaged
    items = listed(client)
    assert set(items) == {TROOPS, *OTHERS}
    assert items[TROOPS] == {
        "id": TROOPS, "version": 5, "as_of": items[TROOPS]["as_of"],
        "known_at": items[TROOPS]["known_at"],
        "damaged": {"position": position, "reason": "the stored event is missing"},
    }
    for cid in OTHERS:
        assert "damaged" not in items[cid]
        whole = client.get(f"/claims/{cid}").json()["credibility"]
        assert items[cid]["credibility"]["probability"] == whole["probability"]
    # Filters and pages still answer; the flag travels with the claim wherever it is listed.
    assert listed(client, tag="troops")[TROOPS]["damaged"]["position"] == position
    assert set(listed(client, tag="arms")) == {"nk-arms-for-russia"}
    first = client.get("/claims", params={"limit": "1"}).json()
    assert [item["id"] for item in first["data"]] == [TROOPS]
    assert first["data"][0]["damaged"]["position"] == position
    # The list that replays (the in-memory store's way, and the fallback while the
    # projection is behind) says the same.
    replayed = LedgerReads(ledger.store).list_claims()["data"]
    assert next(item for item in replayed if item["id"] == TROOPS)["damaged"] == {
        "position": position, "reason": "the stored event is missing"}
    assert {item["id"] for item in replayed} == {TROOPS, *OTHERS}


def test_the_projection_goes_on_past_a_damaged_event(sql_settings: Settings) -> None:
    """The row is gone before the projection reaches it: a rebuild, and a projection that
    catches up, skip it and project everything after it."""
    ledger = open_ledger(sql_settings)
    try:
        load_article(ledger)
        expected = {cid: ledger.claim(cid)["credibility"]["probability"] for cid in OTHERS}
        delete_event(sql_settings, TROOPS, 3)
        assert ledger.projector is not None
        assert ledger.projector.rebuild() == 19
        ledger.append(OTHERS[0], {**DENIAL, "occurred_at": "2024-10-21"}, ACTOR)
        items = {item["id"]: item for item in ledger.list_claims()["data"]}
        assert items[TROOPS]["damaged"]["position"] == 14
        assert items[OTHERS[1]]["credibility"]["probability"] == expected[OTHERS[1]]
        moved = ledger.claim(OTHERS[0])["credibility"]["probability"]
        assert items[OTHERS[0]]["credibility"]["probability"] == moved != expected[OTHERS[0]]
        assert ledger.projector.view.position() == 20
    finally:
        ledger.close()


def test_the_global_log_and_the_export_stop_before_the_damage(
    damaged: tuple[ClaimsLedger, TestClient, int], sql_settings: Settings, tmp_path: Path
) -> None:
    ledger, client, position = damaged
    page = client.get("/events", params={"limit": "1000"}).json()
    assert [e["position"] for e in page["data"]] == list(range(1, position))
    # Not the end of the log: the next page is the damaged position, which names itself.
    assert page["next_cursor"] == str(position - 1)
    # Each event is the one its log row names (not the next one moved into the gap).
    for event in page["data"]:
        assert event["event_id"] == ledger.global_log(event["position"] - 1, 1)["events"][0][
            "event_id"]
    after = client.get("/events", params={"cursor": page["next_cursor"]})
    assert_damaged(after, position)
    assert "the log after position 13 cannot be served" in after.json()["detail"]
    assert_damaged(client.get("/events", params={"after": str(position - 1)}), position)
    assert client.get("/events", params={"after": str(position)}).json()["data"][0][
        "position"] == position + 1
    assert ledger.global_log(0, 1000)["next"] == position - 1
    # A backup must not silently leave the damaged event (and all after it) out.
    out = tmp_path / "backup.ndjson"
    result = CliRunner().invoke(cli, ["--store", sql_settings.store, "export", str(out)])
    assert result.exit_code == 1, result.output
    assert f"damaged at position {position}" in result.output
    assert not out.exists()


def flagged(ledger: ClaimsLedger) -> dict[str, int]:
    """The listed claims flagged as damaged, with the position each flag names."""
    return {
        item["id"]: item["damaged"]["position"]
        for item in ledger.list_claims()["data"]
        if "damaged" in item
    }


def test_an_event_moved_by_an_update_is_flagged_and_one_put_back_is_not(
    sql_settings: Settings,
) -> None:
    """The store records rows moved out of their place as well as deleted ones, and a list
    checks what it recorded against the rows: a row put back is no longer damage."""
    ledger = open_ledger(sql_settings)
    try:
        load_article(ledger)
        oid: Any = claim_uuid(TROOPS)
        oid = oid.hex if sql_settings.backend == "sqlite" else oid
        move = ("UPDATE {events} SET originator_version = ? "
                "WHERE originator_id = ? AND originator_version = ?")
        assert flagged(ledger) == {}
        execute(sql_settings, move, (1000, oid, 3))
        assert flagged(ledger) == {TROOPS: 14}
        assert ledger.verify()["first_bad_position"] == 14
        execute(sql_settings, move, (3, oid, 1000))
        assert flagged(ledger) == {}
        assert ledger.verify()["ok"] is True
    finally:
        ledger.close()


def test_a_store_damaged_before_it_was_watched_is_screened_in_full_on_opening(
    sql_settings: Settings,
) -> None:
    """A store made before its events table recorded removed rows (here: the trigger
    dropped) has its damage found when it is next opened, once."""
    ledger = open_ledger(sql_settings)
    load_article(ledger)
    ledger.close()
    execute(sql_settings, "DROP TRIGGER stored_events_damage_watch",
            postgres_sql="DROP TRIGGER claimsledger_events_damage_watch ON {events}")
    delete_event(sql_settings, TROOPS, 3)
    ledger = open_ledger(sql_settings)
    try:
        assert flagged(ledger) == {TROOPS: 14}
        delete_event(sql_settings, OTHERS[0], 2)  # watched again from now on
        assert set(flagged(ledger)) == {TROOPS, OTHERS[0]}
    finally:
        ledger.close()


def test_a_claim_read_before_its_events_were_deleted_is_read_again_not_served_from_memory(
    sql_settings: Settings,
) -> None:
    """A process keeps what it read of a claim; once a row of it is deleted behind the
    service's back, the claim is read from the store again, and is damaged."""
    ledger = open_ledger(sql_settings)
    try:
        load_article(ledger)
        answer = ledger.claim(TROOPS)  # now kept in memory
        assert ledger.claim(TROOPS)["credibility"] == answer["credibility"]
        delete_event(sql_settings, TROOPS, 3)
        with pytest.raises(DamagedHistory) as caught:
            ledger.claim(TROOPS)
        assert (caught.value.position, caught.value.reason) == (14, "the stored event is missing")
        assert ledger.claim(OTHERS[0])["version"] > 1  # the others are served as before
    finally:
        ledger.close()


def test_a_damaged_resolved_claim_adds_nothing_to_the_records_and_the_others_are_served(
    sql_settings: Settings,
) -> None:
    """credibility-v2 reads every resolved claim for the sources' records: one whose history
    is damaged is left out of them (its own reads answer the damage), so the other claims
    are still served, as if it were not resolved."""
    ledger = open_ledger(sql_settings)
    try:
        load_article(ledger)
        # Peskov's record: the troops claim resolved as confirmed, which he denied.
        ledger.append(TROOPS, {"type": "resolved", "source": "kim-yong-hyun",
                               "occurred_at": "2024-10-16", "outcome": "confirmed",
                               "basis": "troops seen"}, ACTOR)
        ledger.append(OTHERS[0], {**DENIAL, "occurred_at": "2024-10-25"}, ACTOR)
        recorded = ledger.claim(OTHERS[0])["credibility"]
        assert any("its record when it said so" in c["reason"] and "missed" in c["reason"]
                   for c in recorded["contributions"] if c["source"] == "peskov")
    finally:
        ledger.close()
    delete_event(sql_settings, TROOPS, 3)
    ledger = open_ledger(sql_settings)
    client = TestClient(create_app(sql_settings, ledger), raise_server_exceptions=False)
    try:
        with client:
            for path in ("", "/audit", "/timeline"):
                assert client.get(f"/claims/{OTHERS[0]}{path}").status_code == 200, path
            served = client.get(f"/claims/{OTHERS[0]}").json()["credibility"]
            assert not any("record" in c["reason"] for c in served["contributions"])
            assert served["probability"] < recorded["probability"]  # Peskov heard again
            # The list is served too, the damaged claim flagged. (Its rows of the others
            # are those projected while the history was whole, until a rebuild.)
            listed = {i["id"]: i for i in client.get("/claims").json()["data"]}
            assert set(listed) == {TROOPS, *OTHERS} and "damaged" in listed[TROOPS]
    finally:
        ledger.close()
