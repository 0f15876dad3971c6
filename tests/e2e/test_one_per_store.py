"""Two server processes on one store run one webhook dispatcher and one checkpoint schedule
between them (each job holds a lock of the store: ``ledger.locks``); when the process that
holds one dies, the other takes it over.

Two dispatchers would both send a delivery that is still owed while its receiver takes its
time to answer (the attempt is recorded once the answer came), and two schedules would
both sign the same head: so each delivery reaching the receiver once, and each position
signed once, show one of each.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from .live import AS_READER, Server, setup_ledger, wait_until, write
from .test_webhooks import SECRET, Receiver, accepted, assess, verify

pytestmark = pytest.mark.slow

KEY = "11" * 32  # an Ed25519 private key, its 32 bytes in hex


def _signed(directory: Path) -> list[int]:
    return [json.loads(f.read_text())["position"] for f in directory.glob("checkpoint-*")]


def test_one_dispatcher_and_one_checkpoint_schedule_per_store_and_failover(
    tmp_path: Path,
) -> None:
    checkpoints = tmp_path / "checkpoints"
    env = {"CLAIMS_LEDGER_SIGNING_KEY": KEY, "CLAIMS_LEDGER_CHECKPOINT_EVERY": "0.2",
           "CLAIMS_LEDGER_CHECKPOINT_DIR": str(checkpoints)}
    one, two = (Server(tmp_path / "ledger.db", tmp_path / f"{name}.log", env)
                for name in ("one", "two"))
    receiver = Receiver()
    receiver.delay = 1.5  # several polls of both processes while each delivery is owed
    try:
        one.start()
        two.start()
        setup_ledger(one)
        write(one, "/sources", {"id": "nis", "name": "NIS", "reliability": "B"})
        watch = write(two, "/watches", {
            "condition": {"kind": "threshold", "threshold": 0.8, "direction": "either"},
            "scope": {"claim": "troops"}, "url": receiver.url, "secret": SECRET})
        crossings = [assess(two, "almost certain", 18),  # crosses 0.8, by one process
                     assess(one, "unlikely", 20)]  # crosses back, by the other

        def delivered(server: Server) -> None:
            """Every crossing so far reached the receiver, once, and the head is signed."""
            assert receiver.wait_for(lambda got: len(accepted(got)) >= len(crossings))
            assert wait_until(lambda: max(_signed(checkpoints), default=0)
                              >= crossings[-1]["position"])
            wait_until(lambda: False, timeout=2)  # room for a second sender or signer
            bodies: list[dict[str, Any]] = accepted(receiver.requests)
            assert [b["position"] for b in bodies] == [c["position"] for c in crossings]
            assert len(receiver.requests) == len(crossings)  # each sent once
            for headers, body, _ in receiver.requests:
                verify(headers, body)
            owed = httpx.get(f"{server.base}/watches/{watch['id']}/deliveries",
                             headers=AS_READER).json()["data"]
            assert [(d["status"], d["attempts"]) for d in owed] == [
                ("delivered", 1)] * len(crossings)
            twice = [p for p, n in Counter(_signed(checkpoints)).items() if n > 1]
            assert twice == []  # each head signed by one process

        delivered(one)
        # Whichever process holds either job, one of these kills takes it away: the
        # survivor (or the restarted one) goes on with it.
        one.kill()
        crossings.append(assess(two, "almost certain", 22))
        delivered(two)
        one.start()
        two.kill()
        crossings.append(assess(one, "unlikely", 24))
        delivered(one)
    finally:
        receiver.close()
        one.stop()
        two.stop()
