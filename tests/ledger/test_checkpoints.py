"""Signed checkpoints: signing, keeping, and proving that today's log extends one.

The hash chain alone does not catch a log cut short or rewritten and hashed again; a
checkpoint kept elsewhere does, and says which (truncated, rewritten, forked).
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr, ValidationError

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.checkpoints import (
    FORMAT,
    Checkpoint,
    CheckpointRefused,
    Checkpoints,
    Signer,
    SigningNotConfigured,
    key_id_of,
    load_private_key,
    signed_message,
    signer_for,
    trusted_key_id,
    verify_against,
)
from ledger.config import Settings
from ledger.errors import InvalidInput
from ledger.examples import load_article
from ledger.persistence.chain import GENESIS, chain_link

from .helpers import claim, say, source

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # fixed: tests repeat exactly
RAW = KEY.private_bytes(
    serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PUBLIC = KEY.public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw
)
SIGNER = Signer(KEY)


# Pure: keys, messages, signatures.


def test_the_signed_bytes_are_four_lines() -> None:
    assert signed_message(19, "ab" * 32, "2026-01-01T00:00:00.000000Z") == (
        f"{FORMAT}\nposition: 19\nhead: {'ab' * 32}\nsigned_at: 2026-01-01T00:00:00.000000Z\n"
    ).encode()


def test_a_checkpoint_verifies_and_any_change_breaks_it() -> None:
    checkpoint = SIGNER.sign(7, "cd" * 32)
    assert checkpoint.signature_valid()
    assert checkpoint.key_id == SIGNER.key_id == key_id_of(PUBLIC)
    assert checkpoint.key_id.startswith("SHA256:")
    assert Checkpoint.from_json(checkpoint.to_json()) == checkpoint
    for change in ({"position": 8}, {"head": "ce" * 32}, {"signed_at": "2020-01-01T00:00:00Z"}):
        forged = Checkpoint.from_json(checkpoint.to_json() | change)
        assert not forged.signature_valid(), change
    other = Signer(Ed25519PrivateKey.generate())
    swapped = checkpoint.to_json() | {"public_key": other.public_key, "key_id": other.key_id}
    assert not Checkpoint.from_json(swapped).signature_valid()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": "other/1"}, "format"),
        ({"algorithm": "RSA"}, "algorithm"),
        ({"position": -1}, "position"),
        ({"position": True}, "position"),
        ({"head": "XYZ"}, "head"),
        ({"signed_at": ""}, "signed_at"),
        ({"public_key": "c2hvcnQ="}, "public_key"),
        ({"signature": "not base64!"}, "signature"),
        ({"key_id": "SHA256:someone-else"}, "key_id"),
    ],
)
def test_a_malformed_checkpoint_names_its_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Checkpoint.from_json(SIGNER.sign(1, "ab" * 32).to_json() | change)
    assert refused.value.field == field


def test_a_checkpoint_must_be_an_object() -> None:
    with pytest.raises(InvalidInput):
        Checkpoint.from_json(["not", "an", "object"])


@pytest.mark.parametrize(
    "form",
    [
        PEM,
        RAW.hex(),
        base64.b64encode(RAW).decode(),
        base64.urlsafe_b64encode(RAW).decode(),
    ],
)
def test_a_private_key_is_read_in_every_form(form: str) -> None:
    assert Signer(load_private_key(form)).key_id == SIGNER.key_id


def test_a_private_key_is_read_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text(PEM)
    (tmp_path / "key.raw").write_bytes(RAW)
    (tmp_path / "key.hex").write_text(RAW.hex() + "\n")
    for name in ("key.pem", "key.raw", "key.hex"):
        assert Signer(load_private_key(f"file:{tmp_path / name}")).key_id == SIGNER.key_id
    with pytest.raises(ValueError, match="cannot read the key file"):
        load_private_key(f"file:{tmp_path / 'missing.pem'}")


def test_a_bad_private_key_is_refused_without_being_quoted() -> None:
    ecdsa = ec.derive_private_key(123456789, ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cut = PEM.replace("\n-----END", "AAAA\n-----END")
    for bad, why in (
        ("s3cret-not-a-key", "is not an Ed25519 private key"),
        (RAW.hex()[:-2], "is not an Ed25519 private key"),
        (ecdsa, "not an Ed25519 one"),
        (cut, "is not an unencrypted PEM private key"),
    ):
        with pytest.raises(ValueError, match=why) as refused:
            load_private_key(bad)
        assert bad not in str(refused.value) and "s3cret" not in str(refused.value)


def test_a_trusted_key_is_given_by_its_id_or_its_public_key(tmp_path: Path) -> None:
    pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    (tmp_path / "public.pem").write_text(pem)
    forms = [SIGNER.key_id, SIGNER.public_key, PUBLIC.hex(), pem, f"file:{tmp_path / 'public.pem'}"]
    assert {trusted_key_id(form) for form in forms} == {SIGNER.key_id}
    with pytest.raises(ValueError, match="not an Ed25519 public key"):
        trusted_key_id("nonsense")


def test_the_setting_takes_a_key_and_refuses_a_bad_one_without_echo(tmp_path: Path) -> None:
    settings = Settings(store="memory", signing_key=PEM, _env_file=None)  # type: ignore[call-arg]
    signer = signer_for(settings)
    assert signer is not None and signer.key_id == SIGNER.key_id
    blank = Settings(store="memory", signing_key=" ", _env_file=None)  # type: ignore[call-arg]
    assert blank.signing_key is None and signer_for(blank) is None
    with pytest.raises(ValidationError) as refused:
        Settings(store="memory", signing_key="s3cret-typo", _env_file=None)  # type: ignore[call-arg]
    assert "signing_key" in str(refused.value) and "s3cret" not in str(refused.value)
    assert "Ed25519" in str(refused.value)


def test_the_signing_key_setting_is_secret() -> None:
    settings = Settings(store="memory", signing_key=PEM, _env_file=None)  # type: ignore[call-arg]
    assert isinstance(settings.signing_key, SecretStr)
    assert "PRIVATE KEY" not in repr(settings) and "PRIVATE KEY" not in str(settings)
    assert "PRIVATE" not in repr(SIGNER)


# On a store.


def test_signing_needs_a_key(ledger: ClaimsLedger) -> None:
    with pytest.raises(SigningNotConfigured, match="CLAIMS_LEDGER_SIGNING_KEY"):
        Checkpoints(ledger.store).sign()
    assert Checkpoints(ledger.store).latest() is None


def test_a_checkpoint_of_the_head_is_signed_kept_and_extended(ledger: ClaimsLedger) -> None:
    checkpoints = Checkpoints(ledger.store, SIGNER)
    empty = checkpoints.sign()
    assert (empty.position, empty.head) == (0, GENESIS)
    load_article(ledger)
    first = checkpoints.sign()
    report = ledger.verify()
    assert (first.position, first.head) == (19, report["head"])
    assert first.signature_valid() and checkpoints.latest() == first
    claim(ledger, "later")
    second = checkpoints.sign()
    assert second.position == 20 and checkpoints.latest() == second
    assert Checkpoints(ledger.store).latest() == second  # read without a key
    for kept in (empty, first, second):
        answer = verify_against(ledger.store, kept)
        assert answer["ok"] is True and answer["checkpoint"]["extended"] is True
        assert answer["checkpoint"]["problem"] is None
        assert {k: answer[k] for k in report} == ledger.verify()


def test_a_checkpoint_by_another_key_is_refused_when_a_key_is_trusted(
    ledger: ClaimsLedger,
) -> None:
    load_article(ledger)
    checkpoint = Checkpoints(ledger.store, Signer(Ed25519PrivateKey.generate())).sign()
    assert verify_against(ledger.store, checkpoint)["ok"] is True
    answer = verify_against(ledger.store, checkpoint, {SIGNER.key_id})
    assert answer["ok"] is False
    assert answer["checkpoint"]["problem"] == "signature"
    assert SIGNER.key_id in answer["checkpoint"]["reason"]


def test_a_forged_signature_is_named(ledger: ClaimsLedger) -> None:
    load_article(ledger)
    checkpoint = Checkpoints(ledger.store, SIGNER).sign()
    forged = Checkpoint.from_json(checkpoint.to_json() | {"position": 18})
    answer = verify_against(ledger.store, forged)
    assert answer["checkpoint"]["problem"] == "signature"
    assert answer["ok"] is False and answer["first_bad_position"] is None


def test_a_kept_checkpoint_that_was_changed_is_never_used(ledger: ClaimsLedger) -> None:
    """A row of the checkpoints table is trusted only for its own signature."""
    load_article(ledger)
    checkpoints = Checkpoints(ledger.store, SIGNER)
    good = checkpoints.sign()
    forged = Checkpoint(99, "ab" * 32, good.signed_at, good.public_key, good.signature)
    checkpoints.table.add(forged)
    assert checkpoints.latest() == good
    claim(ledger, "later")
    assert checkpoints.sign().position == 20  # the forged row was not taken as the base


# Tampering, on SQLite and PostgreSQL.


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        return Settings(store=f"sqlite:///{tmp_path / 'l.sqlite3'}", _env_file=None)  # type: ignore[call-arg]
    return Settings(store=str(request.getfixturevalue("postgres_store")), _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def signed(sql_settings: Settings) -> Iterator[tuple[ClaimsLedger, Checkpoint]]:
    """The article, then a checkpoint at 19, then two more events."""
    ledger = open_ledger(sql_settings)
    try:
        load_article(ledger)
        checkpoint = Checkpoints(ledger.store, SIGNER).sign()
        source(ledger, "late-source")
        claim(ledger, "late-claim")
        say(ledger, "late-claim", "asserted", "late-source", "2024-10-20")
        yield ledger, checkpoint
    finally:
        ledger.close()


def execute(settings: Settings, statement: str, params: Any = ()) -> None:
    """Run SQL on the store behind the service's back ({events}, {log}: its tables)."""
    if settings.backend == "sqlite":
        names = {
            "events": "stored_events",
            "log": "stored_events_log",
            "streams": "stored_events_streams",
            "id": "rowid",
        }
        with sqlite3.connect(settings.sqlite_path()) as db:
            db.execute(statement.format(**names), params)
        return
    import psycopg

    schema = settings.eventsourcing_env()["POSTGRES_SCHEMA"]
    names = {
        "events": f"{schema}.claimsledger_events",
        "log": f"{schema}.claimsledger_events_log",
        "streams": f"{schema}.claimsledger_events_streams",
        "id": "notification_id",
    }
    with psycopg.connect(settings.store.split("?")[0], autocommit=True) as db:
        db.execute(statement.replace("?", "%s").format(**names), params)


def rewrite_event(settings: Settings, position: int) -> None:
    """Change one stored event's bytes (its summary), leaving the chain as it was."""
    if settings.backend == "sqlite":
        execute(
            settings,
            "UPDATE {events} SET state = CAST(replace(CAST(state AS TEXT), 'Multiple', "
            "'Several') AS BLOB) WHERE {id} = ?",
            (position,),
        )
    else:
        execute(
            settings,
            "UPDATE {events} SET state = convert_to(replace(convert_from(state, 'UTF8'), "
            "'Multiple', 'Several'), 'UTF8') WHERE {id} = ?",
            (position,),
        )


def rehash(settings: Settings, ledger: ClaimsLedger) -> None:
    """Compute the whole hash chain again over what is stored now: a forger's move."""
    entries = ledger.store.index.log_entries(0, 1000)
    stored = {n.id: n for n in ledger.store.recorder.select_notifications(start=1, limit=1000)}
    previous = GENESIS
    for entry in entries:
        previous = chain_link(previous, entry.position, stored[entry.position], entry.recorded_at)
        execute(
            settings, "UPDATE {log} SET hash = ? WHERE position = ?", (previous, entry.position)
        )


def position_of(ledger: ClaimsLedger, text: str) -> int:
    return next(
        e["position"]
        for e in ledger.global_log(0, 100)["events"]
        if text in str(e.get("summary", ""))
    )


def test_an_intact_log_extends_its_checkpoint(signed: tuple[ClaimsLedger, Checkpoint]) -> None:
    ledger, checkpoint = signed
    answer = verify_against(ledger.store, checkpoint, {SIGNER.key_id})
    assert answer["ok"] is True and answer["checkpoint"]["extended"] is True


def test_a_truncated_log_is_named(
    sql_settings: Settings, signed: tuple[ClaimsLedger, Checkpoint]
) -> None:
    ledger, checkpoint = signed
    execute(sql_settings, "DELETE FROM {events} WHERE {id} > 15")
    execute(sql_settings, "DELETE FROM {log} WHERE position > 15")
    assert ledger.verify()["first_bad_position"] != 15  # the chain alone: no break at 15
    answer = verify_against(ledger.store, checkpoint)
    assert answer["ok"] is False
    assert answer["checkpoint"]["problem"] == "truncated"
    assert "the log ends at position 15, before the checkpoint's position 19" in (
        answer["checkpoint"]["reason"]
    )
    with pytest.raises(CheckpointRefused, match="no longer holds the head"):
        Checkpoints(ledger.store, SIGNER).sign()


def test_a_rewritten_event_is_named(
    sql_settings: Settings, signed: tuple[ClaimsLedger, Checkpoint]
) -> None:
    ledger, checkpoint = signed
    position = position_of(ledger, "Multiple governments")
    assert position < checkpoint.position
    rewrite_event(sql_settings, position)
    answer = verify_against(ledger.store, checkpoint)
    assert answer["ok"] is False
    assert answer["checkpoint"]["problem"] == "rewritten"
    assert f"changed at position {position}" in answer["checkpoint"]["reason"]
    assert answer["first_bad_position"] == position


def test_a_rewritten_and_rehashed_log_is_a_fork(
    sql_settings: Settings, signed: tuple[ClaimsLedger, Checkpoint]
) -> None:
    """The forgery the chain alone cannot see: verify passes, the checkpoint does not."""
    ledger, checkpoint = signed
    rewrite_event(sql_settings, position_of(ledger, "Multiple governments"))
    rehash(sql_settings, ledger)
    assert ledger.verify()["ok"] is True
    answer = verify_against(ledger.store, checkpoint)
    assert answer["ok"] is False
    assert answer["checkpoint"]["problem"] == "forked"
    assert f"chain hash at position {checkpoint.position}" in answer["checkpoint"]["reason"]
    with pytest.raises(CheckpointRefused, match="no longer holds the head"):
        Checkpoints(ledger.store, SIGNER).sign()


def test_a_log_cut_and_grown_again_is_a_fork(
    sql_settings: Settings, signed: tuple[ClaimsLedger, Checkpoint]
) -> None:
    """Events after a cut, written again: the log is long enough, its history differs."""
    ledger, checkpoint = signed
    execute(sql_settings, "DELETE FROM {events} WHERE {id} > 17")
    execute(sql_settings, "DELETE FROM {log} WHERE position > 17")
    execute(sql_settings, "DELETE FROM {streams} WHERE position > 17")
    ledger.close()
    reopened = open_ledger(sql_settings)
    try:
        for n in range(4):
            claim(reopened, f"replacement-{n}")
        assert reopened.verify()["ok"] is True
        answer = verify_against(reopened.store, checkpoint)
        assert answer["checkpoint"]["problem"] == "forked"
        assert answer["ok"] is False
    finally:
        reopened.close()


def test_signing_refuses_a_broken_chain(
    sql_settings: Settings, signed: tuple[ClaimsLedger, Checkpoint]
) -> None:
    ledger, _ = signed
    last = ledger.store.index.log_entries(19, 10)[-1].position
    execute(sql_settings, "UPDATE {log} SET recorded_at = recorded_at + 1 WHERE position = ?",
            (last,))
    with pytest.raises(CheckpointRefused, match=f"broken at position {last}"):
        Checkpoints(ledger.store, SIGNER).sign()
