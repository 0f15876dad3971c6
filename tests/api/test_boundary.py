"""The HTTP layer stands on the ledger alone: it imports nothing of the ``eventsourcing``
library and handles no library exception, since none passes the ledger's boundary
(``ledger.store.store_errors``; the mapping is in ``ledger.errors``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError, ProgrammingError
from fastapi.testclient import TestClient

import ledger
from ledger.application import ClaimsLedger

API = Path(ledger.__file__).parent.parent / "api"


def library_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [
            f"{path.relative_to(API.parent)}:{node.lineno}: {name}"
            for name in names
            if name == "eventsourcing" or name.startswith("eventsourcing.")
        ]
    return found


def test_the_api_imports_nothing_from_the_library() -> None:
    paths = sorted(API.rglob("*.py"))
    assert API / "errors.py" in paths
    assert [found for path in paths for found in library_imports(path)] == []


def test_the_api_handles_no_library_exception(memory_client: TestClient) -> None:
    handled = memory_client.app.exception_handlers  # type: ignore[attr-defined]
    library = [k for k in handled if getattr(k, "__module__", "").startswith("eventsourcing")]
    assert library == []


def _broken(error: Exception) -> object:
    def raise_it(*_args: object, **_kwargs: object) -> None:
        raise error

    return raise_it


def test_a_failed_store_is_500_and_its_words_stay_in_the_log(
    memory_ledger: ClaimsLedger, memory_client: TestClient, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = 'relation "secret_table" does not exist'
    monkeypatch.setattr(memory_ledger.store.recorder, "stream_ids",
                        _broken(ProgrammingError(secret)))
    answer = memory_client.get("/claims")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "Event store failed"
    assert answer.json()["request_id"] and "secret_table" not in answer.text
    assert "secret_table" in capsys.readouterr().err


def test_a_write_that_keeps_losing_races_is_409(
    memory_ledger: ClaimsLedger, memory_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ledger.idempotency.RETRY_BUDGET", 0.01)
    monkeypatch.setattr(memory_ledger.store.recorder, "version_at",
                        _broken(IntegrityError("duplicate key")))
    answer = memory_client.post("/sources", json={"id": "s", "name": "S"})
    assert answer.status_code == 409
    assert answer.json()["title"] == "Conflict"
