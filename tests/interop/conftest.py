"""HTTP clients over the test's ledger (the ``ledger`` fixture: every backend)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.config import Settings

MakeClient = Callable[..., TestClient]


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
