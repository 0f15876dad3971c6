"""Checkpoints signed by the server itself: every so often and on shutdown, into a directory.

(Before: with a key configured nothing was signed until someone POSTed /checkpoints.)
No test waits for the clock: the schedule's period is long, and what is checked is the
checkpoint signed on shutdown and what ``sign_if_moved`` does when called.
"""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.bootstrap import open_ledger
from ledger.checkpointing import CheckpointSchedule
from ledger.checkpoints import Checkpoint, Checkpoints, Signer, verify_against
from ledger.config import Settings
from ledger.examples import load_article

from .helpers import execute

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
DENIAL = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-20", "quote": "no"}


def written(directory: Path) -> list[Checkpoint]:
    return [Checkpoint.from_json(json.loads(p.read_text()))
            for p in sorted(directory.glob("checkpoint-*.json"))]


def test_a_server_with_a_key_signs_on_shutdown_into_the_directory(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    settings = Settings(  # type: ignore[call-arg]
        store=f"sqlite:///{tmp_path / 'l.db'}", signing_key=PEM, checkpoint_every=3600,
        checkpoint_dir=outbox, _env_file=None,
    )
    with TestClient(create_app(settings)) as client:
        assert client.post("/sources", json={"id": "peskov", "name": "Peskov",
                                             "reliability": "C"}).status_code == 201
        assert outbox.is_dir() and written(outbox) == []  # the period has not come
    (checkpoint,) = written(outbox)  # signed as the server stopped
    assert checkpoint.position == 1 and checkpoint.signature_valid()
    assert checkpoint.key_id == Signer(KEY).key_id
    ledger = open_ledger(settings)
    try:
        assert verify_against(ledger.store, checkpoint)["ok"] is True
        assert Checkpoints(ledger.store).latest() == checkpoint  # kept in the store too
    finally:
        ledger.close()


def test_the_period_and_the_key_are_what_turn_it_on(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'l.db'}"
    assert Settings(_env_file=None).checkpoint_every == 3600  # type: ignore[call-arg]
    for settings in (
        Settings(store=store, _env_file=None),  # type: ignore[call-arg]
        Settings(store=store, signing_key=PEM, checkpoint_every=0, _env_file=None),  # type: ignore[call-arg]
    ):
        with TestClient(create_app(settings)):
            pass
        ledger = open_ledger(settings)
        try:
            assert Checkpoints(ledger.store).latest() is None
        finally:
            ledger.close()


def test_the_schedule_signs_only_a_moved_head_and_a_refusal_is_logged(
    tmp_path: Path, caplog: object
) -> None:
    settings = Settings(store=f"sqlite:///{tmp_path / 'l.db'}", _env_file=None)  # type: ignore[call-arg]
    ledger = open_ledger(settings)
    try:
        load_article(ledger)
        schedule = CheckpointSchedule(ledger.store, Signer(KEY), 3600, tmp_path / "out")
        schedule.start()
        first = schedule.sign_if_moved()
        assert first is not None and first.position == 19
        assert schedule.sign_if_moved() is None  # nothing new: nothing signed
        ledger.append("nk-troops-for-russia", DENIAL, "tester")
        second = schedule.sign_if_moved()
        assert second is not None and second.position == 20
        assert [c.position for c in written(tmp_path / "out")] == [19, 20]
        # The log cut back behind what the key signed: refused, logged, nothing written.
        execute(settings, "DELETE FROM {events} WHERE rowid = 20")
        execute(settings, "DELETE FROM {log} WHERE position = 20")
        assert schedule.stop() is None
        assert [c.position for c in written(tmp_path / "out")] == [19, 20]
        assert "checkpoint refused: the log no longer holds the head" in caplog.text  # type: ignore[attr-defined]
    finally:
        ledger.close()
