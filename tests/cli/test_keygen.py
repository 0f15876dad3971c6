"""``claims-ledger keygen``: a signing key the server takes, readable by its owner only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ledger.checkpoints import Signer, load_private_key

from .helpers import Invoke


def test_keygen_writes_a_private_key_0600_and_prints_its_public_half(
    invoke: Invoke, tmp_path: Path, loaded_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "signing.pem"
    result = invoke("keygen", str(target))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    key = load_private_key(f"file:{target}")
    public = serialization.load_pem_public_key(result.stdout.encode())
    assert public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ) == key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert Signer(key).key_id in result.stderr
    assert f"CLAIMS_LEDGER_SIGNING_KEY=file:{target}" in result.stderr
    # The key signs: `checkpoint` takes it from the environment.
    monkeypatch.setenv("CLAIMS_LEDGER_SIGNING_KEY", f"file:{target}")
    signed = invoke("--store", loaded_store, "checkpoint")
    assert signed.exit_code == 0, signed.output
    assert Signer(key).key_id in signed.stdout


def test_keygen_never_overwrites_a_key(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "signing.pem"
    target.write_text("the key in use\n")
    result = invoke("keygen", str(target))
    assert result.exit_code == 2
    assert "exists; a signing key is never overwritten" in result.stderr
    assert target.read_text() == "the key in use\n"
