"""Tamper: every kind of change behind the service's back, on SQLite and PostgreSQL, is found.

The article is stored (snapshots every 2 versions) and a checkpoint of its head is signed
and kept. Then one kind of tampering is done straight on the database, and ``verify``
(with the checkpoint, as ``claims-ledger verify --against`` does) must say what and where.
The first eleven kinds break the chain or what is checked against it; the last two leave
a valid chain (truncation, and a rewrite hashed again) and only the checkpoint catches
them. The other tests of each part (tests/ledger/test_integrity.py, test_tamper.py,
test_checkpoints.py, test_damaged.py) go into the details; this is the suite's list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.checkpoints import Checkpoints, Signer, verify_against
from ledger.config import Settings
from ledger.domain import claim_uuid
from ledger.examples import load_article
from ledger.integrity import failed_part
from ledger.persistence.chain import GENESIS, chain_link

from .helpers import execute

SIGNER = Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64))))
TROOPS, PACT = "nk-troops-for-russia", "ru-kp-defence-pact"


def replace_in(
    settings: Settings, table: str, old: str, new: str, where: str = "", params: tuple = ()
) -> None:
    """Replace text inside the stored bytes of ``table``'s ``state`` column."""
    execute(
        settings,
        f"UPDATE {{{table}}} SET state = CAST(replace(CAST(state AS TEXT), ?, ?) AS BLOB) {where}",
        (old, new, *params),
        postgres_sql=f"UPDATE {{{table}}} SET state = "
        f"convert_to(replace(convert_from(state, 'UTF8'), %s, %s), 'UTF8') "
        f"{where.replace('?', '%s')}",
    )


def oid(settings: Settings, claim_id: str) -> object:
    uid = claim_uuid(claim_id)
    return uid.hex if settings.backend == "sqlite" else uid


def rehash(settings: Settings, ledger: ClaimsLedger) -> None:
    """Compute the whole chain again over what is stored now: a forger's move."""
    stored = {n.id: n for n in ledger.store.recorder.select_notifications(start=1, limit=1000)}
    previous = GENESIS
    for entry in ledger.store.index.log_entries(0, 1000):
        previous = chain_link(previous, entry.position, stored[entry.position], entry.recorded_at)
        execute(settings, "UPDATE {log} SET hash = ? WHERE position = ?",
                (previous, entry.position))


@dataclass(frozen=True)
class Kind:
    name: str
    tamper: Callable[[Settings, ClaimsLedger], None]
    part: str  # what names it: "log", "streams", "snapshots", or the checkpoint's problem
    reason: str  # in the answer's reason
    position: int | None = None  # the first bad position verify names


def edit_13(settings: Settings) -> None:
    """Position 13: the troops claim's second event (Kim Yong-hyun's "highly likely")."""
    replace_in(settings, "events", "highly likely", "not likely",
               "WHERE originator_id = ? AND originator_version = 2", (oid(settings, TROOPS),))


def truncate(settings: Settings) -> None:
    """The last event gone, with its log row and the snapshot taken at it."""
    arms = oid(settings, "nk-arms-for-russia")
    for table in ("events", "snapshots"):
        execute(settings, f"DELETE FROM {{{table}}} WHERE originator_id = ? AND "
                          "originator_version = 4", (arms,))
    execute(settings, "DELETE FROM {log} WHERE position = 19")


def forge(settings: Settings, ledger: ClaimsLedger) -> None:
    """Position 13 rewritten, the snapshots that hold it too, and the chain hashed again."""
    edit_13(settings)
    replace_in(settings, "snapshots", "highly likely", "not likely")
    rehash(settings, ledger)


KINDS = [
    Kind("an event's bytes edited",
         lambda s, _: edit_13(s),
         "log", "stored bytes do not match the hash chain", 13),
    Kind("a denial turned into an assertion",
         lambda s, _: replace_in(s, "events", '"type":"denied"', '"type":"asserted"'),
         "log", "stored bytes do not match the hash chain"),
    Kind("an event row deleted",
         lambda s, _: execute(s, "DELETE FROM {events} WHERE originator_id = ? AND "
                                 "originator_version = 3", (oid(s, TROOPS),)),
         "log", "the stored event is missing", 14),
    Kind("an event moved to another claim",
         lambda s, _: execute(s, "UPDATE {events} SET originator_id = ? WHERE "
                                 "originator_id = ? AND originator_version = 5",
                              (oid(s, PACT), oid(s, TROOPS))),
         "log", "the event was moved to another stream", 16),
    Kind("an event inserted outside the chain",
         lambda s, _: execute(s, "INSERT INTO {events} (originator_id, originator_version, "
                                 "topic, state) SELECT originator_id, 99, topic, state FROM "
                                 "{events} WHERE originator_id = ? AND originator_version = 5",
                              (oid(s, TROOPS),)),
         "log", "an event is not in the hash chain", 20),
    Kind("a recording time in the log changed",
         lambda s, _: execute(s, "UPDATE {log} SET recorded_at = recorded_at - 1 "
                                 "WHERE position = 10"),
         "log", "stored bytes do not match the hash chain", 10),
    Kind("a row of the log deleted",
         lambda s, _: execute(s, "DELETE FROM {log} WHERE position = 10"),
         "log", "an event is not in the hash chain", 10),
    Kind("a claim moved in time in the streams table",
         lambda s, _: execute(s, "UPDATE {streams} SET recorded_at = recorded_at + 86400000000 "
                                 "WHERE public_id = ?", (TROOPS,)),
         "streams", "recorded at", 9),
    Kind("a row of the streams table deleted",
         lambda s, _: execute(s, "DELETE FROM {streams} WHERE public_id = ?", (PACT,)),
         "streams", f"the streams table's row for the claim {PACT!r} is missing", 11),
    Kind("a snapshot's claim text edited",
         lambda s, _: replace_in(s, "snapshots", "North Korea is supplying", "Nobody supplies"),
         "snapshots", "its 'text' differs from what its events give"),
    Kind("a denial in a snapshot turned into an assertion",
         lambda s, _: replace_in(s, "snapshots", '"type":"denied"', '"type":"asserted"'),
         "snapshots", "does not match its events"),
    Kind("the log truncated", lambda s, _: truncate(s),
         "truncated", "the log ends at position 18, before the checkpoint's position 19"),
    Kind("an event rewritten and the chain hashed again",
         forge, "forked", "chain hash at position 19"),
]


@pytest.fixture
def sql_settings(sql_store: str) -> Settings:
    return Settings(store=sql_store, snapshot_interval=2, _env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_every_kind_of_tampering_is_found(kind: Kind, sql_settings: Settings) -> None:
    ledger = open_ledger(sql_settings)
    try:
        load_article(ledger)
        checkpoint = Checkpoints(ledger.store, SIGNER).sign()
        assert checkpoint.position == 19
        assert verify_against(ledger.store, checkpoint)["ok"] is True
        kind.tamper(sql_settings, ledger)
        answer = verify_against(ledger.store, checkpoint, {SIGNER.key_id})
        assert answer["ok"] is False
        if kind.part in ("truncated", "forked"):
            assert ledger.verify()["ok"] is True  # a valid chain: only the checkpoint tells
            assert answer["checkpoint"]["problem"] == kind.part
            assert kind.reason in answer["checkpoint"]["reason"]
            return
        report = ledger.verify()
        assert failed_part(report) == kind.part, report
        assert kind.reason in report["reason"], report
        if kind.position is not None:
            assert report["first_bad_position"] == kind.position, report
        assert answer["first_bad_position"] == report["first_bad_position"]
    finally:
        ledger.close()
