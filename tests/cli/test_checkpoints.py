"""``claims-ledger checkpoint`` and ``claims-ledger verify --against FILE``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.persistence.chain import GENESIS, chain_link

from .helpers import Invoke

OpenLedger = Callable[[str], ClaimsLedger]
KEY = Ed25519PrivateKey.generate()
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PUBLIC_PEM = KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
).decode()


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The signing key, configured as a key file."""
    path = tmp_path / "signing.pem"
    path.write_text(PEM)
    monkeypatch.setenv("CLAIMS_LEDGER_SIGNING_KEY", f"file:{path}")
    return path


@pytest.fixture
def checkpoint(invoke: Invoke, loaded_store: str, key_file: Path, tmp_path: Path) -> Path:
    """A checkpoint of the loaded store (19 events), kept in a file."""
    result = invoke("--store", loaded_store, "checkpoint")
    assert result.exit_code == 0, result.output
    path = tmp_path / "checkpoint.json"
    path.write_text(result.stdout)
    return path


def database(store: str) -> sqlite3.Connection:
    return sqlite3.connect(Settings(store=store, _env_file=None).sqlite_path())  # type: ignore[call-arg]


def test_checkpoint_needs_a_signing_key(invoke: Invoke, loaded_store: str) -> None:
    result = invoke("--store", loaded_store, "checkpoint")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: signing is not configured: set CLAIMS_LEDGER_SIGNING_KEY"
    )
    result = invoke("--store", loaded_store, "checkpoint", "--latest")
    assert result.exit_code == 3 and "no checkpoint has been signed yet" in result.stderr


def test_a_bad_signing_key_is_a_configuration_error(
    invoke: Invoke, loaded_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMS_LEDGER_SIGNING_KEY", "s3cret-but-no-key")
    result = invoke("--store", loaded_store, "checkpoint")
    assert result.exit_code == 2
    assert "CLAIMS_LEDGER_SIGNING_KEY" in result.stderr and "s3cret" not in result.stderr


def test_checkpoint_prints_a_signed_checkpoint_and_keeps_it(
    invoke: Invoke, loaded_store: str, checkpoint: Path, open_ledger: OpenLedger
) -> None:
    printed = json.loads(checkpoint.read_text())
    assert printed["position"] == 19
    assert printed["head"] == open_ledger(loaded_store).verify()["head"]
    assert printed["key_id"].startswith("SHA256:") and printed["algorithm"] == "Ed25519"
    latest = invoke("--store", loaded_store, "checkpoint", "--latest")
    assert latest.exit_code == 0 and json.loads(latest.stdout) == printed


def test_verify_against_a_checkpoint(
    invoke: Invoke, loaded_store: str, checkpoint: Path, tmp_path: Path
) -> None:
    result = invoke("--store", loaded_store, "verify", "--against", str(checkpoint))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok: 19 events checked, chain head ")
    assert lines[1].startswith("ok: the log extends the checkpoint at position 19 (signed at ")
    assert result.stderr == ""  # the configured key is the trusted one
    report = json.loads(
        invoke("--store", loaded_store, "verify", "--against", str(checkpoint), "--json").stdout
    )
    assert report["ok"] is True and report["checkpoint"]["extended"] is True


def test_verify_against_names_the_key_it_trusted(
    invoke: Invoke,
    loaded_store: str,
    checkpoint: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CLAIMS_LEDGER_SIGNING_KEY")
    key_id = json.loads(checkpoint.read_text())["key_id"]
    result = invoke("--store", loaded_store, "verify", "--against", str(checkpoint))
    assert result.exit_code == 0
    assert f"the checkpoint's own key {key_id}" in result.stderr
    (tmp_path / "public.pem").write_text(PUBLIC_PEM)
    for given in (key_id, f"file:{tmp_path / 'public.pem'}"):
        pinned = invoke("--store", loaded_store, "verify", "--against", str(checkpoint),
                        "--public-key", given)
        assert pinned.exit_code == 0 and pinned.stderr == ""
    other = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ).hex()
    refused = invoke("--store", loaded_store, "verify", "--against", str(checkpoint),
                     "--public-key", other)
    assert refused.exit_code == 1
    assert "error: the log does not extend the checkpoint at position 19" in refused.stderr
    assert ": signature: the checkpoint is signed by key" in refused.stderr


def test_verify_against_a_truncated_log(
    invoke: Invoke, loaded_store: str, checkpoint: Path
) -> None:
    with database(loaded_store) as db:
        db.execute("DELETE FROM stored_events WHERE rowid > 12")
        db.execute("DELETE FROM stored_events_log WHERE position > 12")
        db.execute("DELETE FROM stored_events_streams WHERE position > 12")
        db.execute("DELETE FROM stored_snapshots")
    assert invoke("--store", loaded_store, "verify").exit_code == 0  # the chain alone: fine
    result = invoke("--store", loaded_store, "verify", "--against", str(checkpoint))
    assert result.exit_code == 1
    assert result.stdout.startswith("ok: 12 events checked")
    assert "error: the log does not extend the checkpoint at position 19" in result.stderr
    assert ": truncated: the log ends at position 12" in result.stderr
    refused = invoke("--store", loaded_store, "checkpoint")
    assert refused.exit_code == 1 and "no longer holds the head" in refused.stderr


def test_verify_against_a_rewritten_and_rehashed_log(
    invoke: Invoke, loaded_store: str, checkpoint: Path, open_ledger: OpenLedger
) -> None:
    with database(loaded_store) as db:
        db.execute(
            "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), 'hoax', 'fact') "
            "AS BLOB) WHERE CAST(state AS TEXT) LIKE '%another hoax%'"
        )
    broken = invoke("--store", loaded_store, "verify", "--against", str(checkpoint))
    assert broken.exit_code == 1
    assert ": rewritten: the log was changed at position" in broken.stderr
    assert "error: the log is broken at position" in broken.stderr
    ledger = open_ledger(loaded_store)
    stored = {n.id: n for n in ledger.store.recorder.select_notifications(start=1, limit=100)}
    previous = GENESIS
    with database(loaded_store) as db:
        for entry in ledger.store.index.log_entries(0, 100):
            previous = chain_link(previous, entry.position, stored[entry.position],
                                  entry.recorded_at)
            db.execute("UPDATE stored_events_log SET hash = ? WHERE position = ?",
                       (previous, entry.position))
    assert invoke("--store", loaded_store, "verify").exit_code == 0  # a perfect forgery...
    forked = invoke("--store", loaded_store, "verify", "--against", str(checkpoint))
    assert forked.exit_code == 1  # ... but not for the checkpoint
    assert ": forked: the log's chain hash at position 19 is " in forked.stderr


def test_verify_names_a_bad_streams_table_row(invoke: Invoke, loaded_store: str) -> None:
    with database(loaded_store) as db:
        db.execute("UPDATE stored_events_streams SET recorded_at = recorded_at + 1 "
                   "WHERE public_id = 'peskov'")
    result = invoke("--store", loaded_store, "verify")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: verify failed at position 2: the streams table's row "
                                    "for source 'peskov' says it was recorded at ")
    assert result.stderr.rstrip().endswith("(the hash chain of 19 events is intact)")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "--against: cannot read"),
        ("not json", "is not a JSON checkpoint"),
        ('{"format": "claims-ledger-checkpoint/1"}', "is not a checkpoint: position: "),
    ],
)
def test_a_bad_checkpoint_file_is_bad_input(
    invoke: Invoke, loaded_store: str, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "given.json"
    if content is not None:
        path.write_text(content)
    result = invoke("--store", loaded_store, "verify", "--against", str(path))
    assert result.exit_code == 2 and message in result.stderr


def test_public_key_needs_against(invoke: Invoke, loaded_store: str) -> None:
    result = invoke("--store", loaded_store, "verify", "--public-key", "SHA256:x")
    assert result.exit_code == 2 and "only with --against" in result.stderr


def test_a_bad_public_key_is_bad_input(
    invoke: Invoke, loaded_store: str, checkpoint: Path
) -> None:
    result = invoke("--store", loaded_store, "verify", "--against", str(checkpoint),
                    "--public-key", "nonsense")
    assert result.exit_code == 2 and result.stderr.startswith("error: --public-key: ")
