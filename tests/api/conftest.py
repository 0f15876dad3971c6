"""HTTP test fixtures: a TestClient over the ``ledger`` fixture, on every backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.problems import KINDS
from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.examples import load_article

PROBLEM = "application/problem+json"
MakeClient = Callable[..., TestClient]


def log_length(ledger: ClaimsLedger) -> int:
    """How many events the store holds: bad input must leave it unchanged."""
    return int(ledger.store.recorder.max_notification_id() or 0)


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status``, naming ``field`` if given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    # Its type is a page of the API that explains it (tests/api/test_reference.py reads them).
    assert body["type"].removeprefix("/problems/") in KINDS, body["type"]
    assert body["title"] and body["detail"] and body["instance"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    if field is not None:
        fields = [e["field"] for e in body.get("errors", [])]
        assert field in fields, (field, body)
        assert all(e["reason"] for e in body["errors"])
    return body


@pytest.fixture
def make_client(settings: Settings, ledger: ClaimsLedger) -> Iterator[MakeClient]:
    """Build clients over the test's ledger, with settings changed as a test needs."""
    clients: list[TestClient] = []

    def make(**changes: Any) -> TestClient:
        client = TestClient(create_app(settings.model_copy(update=changes), ledger))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


@pytest.fixture
def article(client: TestClient, ledger: ClaimsLedger) -> TestClient:
    """A client over a ledger holding the article's example events."""
    load_article(ledger)
    return client


@pytest.fixture
def memory_ledger() -> Iterator[ClaimsLedger]:
    """For tests of the HTTP layer alone (auth, OpenAPI, logs): the in-memory store only."""
    ledger = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    yield ledger
    ledger.close()


@pytest.fixture
def memory_client(memory_ledger: ClaimsLedger) -> Iterator[TestClient]:
    settings = Settings(store="memory", _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, memory_ledger)) as client:
        yield client
