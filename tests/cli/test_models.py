"""``claims-ledger models`` (list, diff) and --model on the read commands: the ledger's own
answers, as the HTTP routes give them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ledger.application import ClaimsLedger
from ledger.models import listing
from ledger.times import parse_instant

from .helpers import Invoke

OpenLedger = Callable[[str], ClaimsLedger]
TROOPS = "nk-troops-for-russia"
V1, V2 = "credibility-v1", "credibility-v2"
AS_OF = datetime(2024, 10, 31, 23, 59, 59, 999999, tzinfo=UTC)


def as_json(invoke: Invoke, *args: str) -> dict[str, object]:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_models_lists_the_versions(invoke: Invoke) -> None:
    assert as_json(invoke, "models") == as_json(invoke, "models", "list") == listing()
    table = invoke("models")
    assert table.exit_code == 0
    assert V1 in table.stdout and V2 in table.stdout and "yes" in table.stdout


def test_models_diff_is_the_ledgers_diff(
    invoke: Invoke, loaded_store: str, open_ledger: OpenLedger
) -> None:
    shown = as_json(
        invoke, "--store", loaded_store, "models", "diff", V1, V2, "--as-of", "2024-10-31",
        "--min-difference", "0",
    )
    known = parse_instant("known_at", str(shown["known_at"]))
    expected = open_ledger(loaded_store).models_diff(
        V1, V2, as_of=AS_OF, known_at=known, min_difference=0, limit=1000
    )
    assert shown == expected and shown["data"]
    table = invoke("--store", loaded_store, "models", "diff", V1, V2, "--min-difference", "0")
    assert table.exit_code == 0 and TROOPS in table.stdout


def test_models_diff_refuses_an_unknown_version(invoke: Invoke, loaded_store: str) -> None:
    result = invoke("--store", loaded_store, "models", "diff", V1, "credibility-v9")
    assert result.exit_code == 2
    assert "credibility-v9" in result.stderr and V2 in result.stderr


@pytest.mark.parametrize("command", ["show", "audit", "timeline", "claims", "replay"])
def test_model_selects_the_version(invoke: Invoke, loaded_store: str, command: str) -> None:
    args = [command] if command in ("claims", "replay") else [command, TROOPS]
    for name in (V1, V2):
        shown = as_json(invoke, "--store", loaded_store, *args, "--model", name)
        if command in ("claims", "replay"):
            models = {item["credibility"]["model"] for item in shown["data"]}  # type: ignore[attr-defined]
        elif command == "show":
            models = {shown["credibility"]["model"]}  # type: ignore[index]
        else:
            models = {shown["model"]}
        assert models == {name}
    refused = invoke("--store", loaded_store, *args, "--model", "credibility-v9")
    assert refused.exit_code == 2 and "credibility-v1, credibility-v2" in refused.stderr
