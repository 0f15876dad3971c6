"""``claims-ledger watches``: the same use cases as /watches, on a store."""

from __future__ import annotations

import json
from collections.abc import Callable

from ledger.application import ClaimsLedger
from ledger.watchdesk import Watches

from .helpers import Invoke

BAND = '{"kind": "band", "band": "almost certain"}'
TROOPS = '{"claim": "nk-troops-for-russia"}'


def test_add_list_pause_resume_delete(
    invoke: Invoke, loaded_store: str, open_ledger: Callable[[str], ClaimsLedger]
) -> None:
    added = invoke("--store", loaded_store, "watches", "add", "--condition", BAND,
                   "--scope", TROOPS, "--actor", "ana", "--json")
    assert added.exit_code == 0, added.output
    made = json.loads(added.stdout)
    assert made["actor"] == "ana" and made["secret"] and made["status"] == "active"
    listed = invoke("--store", loaded_store, "watches", "list", "--json")
    assert [w["id"] for w in json.loads(listed.stdout)["data"]] == [made["id"]]
    line = invoke("--store", loaded_store, "watches", "list").stdout
    assert made["id"] in line and "almost certain" in line
    for command, status in (("pause", "paused"), ("resume", "active"), ("delete", "deleted")):
        result = invoke("--store", loaded_store, "watches", command, made["id"], "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["status"] == status
    history = Watches(open_ledger(loaded_store))
    assert history.list_watches()["data"] == []


def test_deliveries_of_the_worked_example(
    invoke: Invoke, loaded_store: str, open_ledger: Callable[[str], ClaimsLedger]
) -> None:
    made = json.loads(invoke("--store", loaded_store, "watches", "add", "--condition", BAND,
                             "--scope", TROOPS, "--json").stdout)
    ledger = open_ledger(loaded_store)
    appended = ledger.append("nk-troops-for-russia", {
        "type": "assessed", "source": "kr-nis", "occurred_at": "2024-10-18",
        "likelihood": "almost certain"}, "tester")
    assert Watches(ledger).scan() == 1  # a server's dispatcher does this when woken
    result = invoke("--store", loaded_store, "watches", "deliveries", made["id"], "--json")
    (owed,) = json.loads(result.stdout)["data"]
    assert owed["position"] == appended["position"]
    text = invoke("--store", loaded_store, "watches", "deliveries", made["id"]).stdout
    assert owed["delivery_id"] in text and "stream-only" in text


def test_refusals_have_exit_codes(invoke: Invoke, loaded_store: str) -> None:
    bad_json = invoke("--store", loaded_store, "watches", "add", "--condition", "{band",
                      "--scope", TROOPS)
    assert bad_json.exit_code == 2 and "is not JSON" in bad_json.stderr
    bad_kind = invoke("--store", loaded_store, "watches", "add", "--condition",
                      '{"kind": "sudden"}', "--scope", TROOPS)
    assert bad_kind.exit_code == 2 and "condition.kind" in bad_kind.stderr
    unknown = invoke("--store", loaded_store, "watches", "add", "--condition", BAND,
                     "--scope", '{"claim": "no-such-claim"}')
    assert unknown.exit_code == 3 and "no-such-claim" in unknown.stderr
    missing = invoke("--store", loaded_store, "watches", "pause", "no-such-watch")
    assert missing.exit_code == 3
    assert invoke("--store", loaded_store, "watches", "list", "--json").stdout.strip() == (
        '{\n  "data": []\n}')
