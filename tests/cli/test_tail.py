"""``claims-ledger tail``: the global log from a position, filtered; --follow across
processes (another process appends, the tail prints it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ledger.application import ClaimsLedger

from .helpers import Invoke


def test_tail_prints_the_log_as_the_api_serves_it(
    invoke: Invoke, loaded_store: str, open_ledger: Callable[[str], ClaimsLedger]
) -> None:
    log = open_ledger(loaded_store).global_log(0, 1000)["events"]
    result = invoke("--store", loaded_store, "tail", "--json")
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == log

    result = invoke("--store", loaded_store, "tail", "--json", "--after", "10",
                    "--claim", "nk-troops-for-russia", "--type", "assessed")
    expected = [r for r in log if r["position"] > 10 and r["type"] == "assessed"
                and r.get("claim_id") == "nk-troops-for-russia"]
    assert expected and [json.loads(line) for line in result.stdout.splitlines()] == expected

    lines = invoke("--store", loaded_store, "tail", "--source", "kr-nis").stdout.splitlines()
    nis = [r for r in log if r.get("source") == "kr-nis"]
    assert [int(line.split()[0]) for line in lines] == [r["position"] for r in nis]
    assert nis and all("kr-nis" in line for line in lines)


def test_tail_refuses_an_unknown_type(invoke: Invoke, loaded_store: str) -> None:
    result = invoke("--store", loaded_store, "tail", "--type", "said")
    assert result.exit_code == 2
    assert "'said' is not one of" in result.stderr


def test_tail_follow_prints_what_another_process_appends(
    loaded_store: str, open_ledger: Callable[[str], ClaimsLedger], tmp_path: Path
) -> None:
    ledger = open_ledger(loaded_store)
    head = ledger.global_log(0, 1000)["next"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_LEDGER_")}
    got: list[dict[str, object]] = []
    arrived = threading.Event()
    with subprocess.Popen(
        [sys.executable, "-m", "ledger_cli", "--store", loaded_store, "tail", "--follow",
         "--json", "--poll", "0.1", "--after", str(head)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path, text=True,
    ) as tail:

        def read() -> None:
            assert tail.stdout is not None
            for line in tail.stdout:
                got.append(json.loads(line))
                arrived.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            written = ledger.append("nk-troops-for-russia", {
                "type": "asserted", "source": "kr-nis", "occurred_at": "2024-10-18",
                "summary": "NIS: North Korean troops are in Russia"}, "tester")
            assert arrived.wait(timeout=60), "tail --follow printed nothing"
        finally:
            tail.terminate()
            tail.wait(timeout=30)
            reader.join(timeout=30)
    assert [(r["position"], r["event_id"]) for r in got] == [
        (written["position"], written["event_id"])]
