"""Tamper, served: what a server answers after each kind of change behind its back.

``test_tamper_kinds`` proves ``verify`` names every kind; this proves what a server started
on the changed store then *serves*: a claim's ``GET``, the claim list, an append to the
claim, and ``claims-ledger export``. The rule (docs/trust.md): bytes that do not hash to
the chain are never served or exported; the claim answers ``damaged-history`` naming the
position, an append to it is refused and writes nothing, the export fails rather than
leave an event out; the rest of the ledger is served. Changes to derived data (snapshots,
the streams table) are served around, from the chained log. Truncation and a rewrite
hashed again leave a valid chain: they are served, and only a checkpoint tells (signing a
new one is refused).

The article is stored with a snapshot every 2 versions, then changed straight in the
database, then a new ledger is opened on it (a server started on a copy of the file).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import create_app
from ledger.bootstrap import open_ledger
from ledger.checkpoints import CheckpointRefused, Checkpoints, Signer
from ledger.config import Settings
from ledger.examples import load_article
from ledger_cli.main import app as cli

from .helpers import execute
from .test_tamper_kinds import forge, oid, replace_in

SIGNER = Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64))))
TROOPS, ARMS = "nk-troops-for-russia", "nk-arms-for-russia"
DENIAL = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-20", "quote": "no"}
MISMATCH = "stored bytes do not match the hash chain"
UNCHAINED = "an event is not in the hash chain"
MISSING = "the stored event is missing"
YEAR_US = 365 * 86400 * 10**6


def where(settings: Settings, claim_id: str, version: int) -> tuple[str, tuple[Any, ...]]:
    return ("WHERE originator_id = ? AND originator_version = ?",
            (oid(settings, claim_id), version))


def flip_a_bit(s: Settings) -> None:
    """Kim Yong-hyun's "highly likely" (.875) made .975: one bit of one byte (position 13)."""
    replace_in(s, "events", '"likelihood":0.875', '"likelihood":0.975', *where(s, TROOPS, 2))


def deny_to_assert(s: Settings) -> None:
    """Peskov's denial of the troops claim (position 15) made an assertion."""
    replace_in(s, "events", '"type":"denied"', '"type":"asserted"', *where(s, TROOPS, 4))


def swap_rows(s: Settings) -> None:
    """The stored bytes of the troops claim's versions 2 and 3 (positions 13, 14) swapped."""
    execute(s, "UPDATE {events} SET state = o.state FROM {events} o WHERE "
               "{events}.originator_id = ? AND o.originator_id = {events}.originator_id AND "
               "{events}.originator_version IN (2, 3) AND "
               "o.originator_version = 5 - {events}.originator_version", (oid(s, TROOPS),),
            postgres_sql="UPDATE {events} e SET state = o.state FROM {events} o WHERE "
                         "e.originator_id = %s AND o.originator_id = e.originator_id AND "
                         "e.originator_version IN (2, 3) AND "
                         "o.originator_version = 5 - e.originator_version")


def invent_row(s: Settings) -> None:
    """A sixth event of the troops claim stored without a log row (position 20)."""
    execute(s, "INSERT INTO {events} (originator_id, originator_version, topic, state) "
               "SELECT originator_id, 6, topic, state FROM {events} "
               "WHERE originator_id = ? AND originator_version = 5", (oid(s, TROOPS),))


def truncate_last(s: Settings) -> None:
    """The log's last event (the arms claim's version 4, position 19) gone, with its log row
    and its snapshot: what is left is a valid chain."""
    for table in ("events", "snapshots"):
        execute(s, f"DELETE FROM {{{table}}} WHERE originator_id = ? AND originator_version = 4",
                (oid(s, ARMS),))
    execute(s, "DELETE FROM {log} WHERE position = 19")


@dataclass(frozen=True)
class Kind:
    name: str
    tamper: Callable[[Settings, Any], None]
    #: The troops claim's damage (position, reason), or None if it is served.
    damaged: tuple[int, str] | None
    #: Where the export stops (its damage's position), or None if it writes every event.
    export_stops: int | None
    listed_flag: bool = False  # the list flags the troops claim as damaged


KINDS = [
    Kind("a bit flipped in an event", lambda s, _: flip_a_bit(s), (13, MISMATCH), 13),
    Kind("a denial made an assertion", lambda s, _: deny_to_assert(s), (15, MISMATCH), 15),
    Kind("an event row deleted",
         lambda s, _: execute(s, "DELETE FROM {events} " + where(s, TROOPS, 3)[0],
                              where(s, TROOPS, 3)[1]),
         (14, MISSING), 14, listed_flag=True),
    Kind("two event rows swapped", lambda s, _: swap_rows(s), (13, MISMATCH), 13),
    Kind("an event row invented", lambda s, _: invent_row(s), (20, UNCHAINED), 20),
    Kind("a log time moved",
         lambda s, _: execute(s, "UPDATE {log} SET recorded_at = recorded_at + ? "
                                 "WHERE position = 16", (YEAR_US,)),
         (16, MISMATCH), 16),
    Kind("a log row deleted",
         lambda s, _: execute(s, "DELETE FROM {log} WHERE position = 15"), (15, UNCHAINED), 15),
    Kind("the streams table changed",
         lambda s, _: execute(s, "UPDATE {streams} SET recorded_at = recorded_at + ? "
                                 "WHERE public_id = ?", (YEAR_US, TROOPS)),
         None, None),
    Kind("a snapshot edited",
         lambda s, _: replace_in(s, "snapshots", "North Korea is sending", "Nobody sends"),
         None, None),
    Kind("a snapshot deleted",
         lambda s, _: execute(s, "DELETE FROM {snapshots} WHERE originator_id = ?",
                              (oid(s, TROOPS),)),
         None, None),
    Kind("the last events truncated", lambda s, _: truncate_last(s), None, None),
    Kind("a rewrite hashed again", forge, None, None),
]


@pytest.fixture
def sql_settings(sql_store: str) -> Settings:
    return Settings(store=sql_store, snapshot_interval=2, _env_file=None)  # type: ignore[call-arg]


def problem_of(response: Any) -> tuple[int, str]:
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/damaged-history", body
    assert "Traceback" not in response.text
    return body["position"], body["reason"]


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_what_is_served_after_each_kind_of_tampering(
    kind: Kind, sql_settings: Settings, tmp_path: Path
) -> None:
    ledger = open_ledger(sql_settings)
    try:
        load_article(ledger)
        Checkpoints(ledger.store, SIGNER).sign()
        whole = {cid: ledger.claim(cid) for cid in (TROOPS, ARMS)}
        kind.tamper(sql_settings, ledger)
    finally:
        ledger.close()

    ledger = open_ledger(sql_settings)  # a server started on the changed store
    client = TestClient(create_app(sql_settings, ledger), raise_server_exceptions=False)
    try:
        with client:
            head = ledger.store.recorder.max_notification_id()
            got = client.get(f"/claims/{TROOPS}")
            append = client.post(f"/claims/{TROOPS}/events", json=DENIAL)
            listed = client.get("/claims")
            assert listed.status_code == 200, listed.text
            items = {item["id"]: item for item in listed.json()["data"]}
            if kind.damaged is not None:
                assert problem_of(got) == kind.damaged
                assert f"claim {TROOPS!r} cannot be served" in got.json()["detail"]
                assert problem_of(append) == kind.damaged  # refused, and nothing written
                assert ledger.store.recorder.max_notification_id() == head
                # A retry with an Idempotency-Key is refused the same way.
                retry = client.post(f"/claims/{TROOPS}/events", json=DENIAL,
                                    headers={"Idempotency-Key": "k1"})
                assert problem_of(retry) == kind.damaged
                assert ledger.store.recorder.max_notification_id() == head
                assert ("damaged" in items[TROOPS]) == kind.listed_flag
            else:
                assert got.status_code == 200, got.text
                if kind.name.startswith("a snapshot"):  # served from the events
                    assert got.json()["text"] == whole[TROOPS]["text"]
                    assert got.json()["credibility"] == whole[TROOPS]["credibility"]
                assert append.status_code == 201, append.text
                assert append.json()["position"] > head
            # The other claims are served as before (the arms claim lost its last event
            # to the truncation, which only a checkpoint shows).
            arms = client.get(f"/claims/{ARMS}")
            assert arms.status_code == 200, arms.text
            if kind.name == "the last events truncated":
                assert arms.json()["version"] == whole[ARMS]["version"] - 1
            elif kind.name != "a rewrite hashed again":
                assert arms.json()["credibility"] == whole[ARMS]["credibility"]
        # A backup never leaves an event out: it stops, naming the damage, or is whole.
        out = tmp_path / "backup.ndjson"
        result = CliRunner().invoke(cli, ["--store", sql_settings.store, "export", str(out)])
        if kind.export_stops is not None:
            assert result.exit_code == 1, result.output
            assert f"damaged at position {kind.export_stops}" in result.output
            assert not out.exists()
        else:
            assert result.exit_code == 0, result.output
            lines = out.read_text().splitlines()
            assert len(lines) == len(ledger.store.index.log_entries(0, 1000))
        if kind.name in ("the last events truncated", "a rewrite hashed again"):
            # A valid chain is served, but the key never signs a log that does not
            # extend what it signed.
            with pytest.raises(CheckpointRefused):
                Checkpoints(ledger.store, SIGNER).sign()
    finally:
        ledger.close()


def test_a_projection_ahead_of_a_truncated_log_is_projected_again(
    sql_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """(Before: the projection kept position 19 while the log ended at 18: lists served the
    removed event's values, and new events at positions it had passed were never
    projected.)"""
    ledger = open_ledger(sql_settings)
    try:
        load_article(ledger)
        assert ledger.list_claims()["data"]  # projected up to 19
    finally:
        ledger.close()
    truncate_last(sql_settings)
    ledger = open_ledger(sql_settings)
    try:
        def listed() -> dict[str, Any]:
            return {item["id"]: item for item in ledger.list_claims()["data"]}

        arms = ledger.claim(ARMS)
        assert listed()[ARMS]["version"] == arms["version"] == 3
        assert listed()[ARMS]["credibility"]["probability"] == arms["credibility"]["probability"]
        assert "the log no longer reaches the credibility projection's position 19" in caplog.text
        written = ledger.append(ARMS, DENIAL, "tester")  # at a position the log had before
        assert listed()[ARMS]["version"] == written["version"] == 4
        assert listed()[ARMS]["credibility"]["probability"] == (
            ledger.claim(ARMS)["credibility"]["probability"])
    finally:
        ledger.close()
