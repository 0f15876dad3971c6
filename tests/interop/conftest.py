"""HTTP clients over the test's ledger (the ``ledger`` fixture: every backend)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
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


@pytest.fixture
def live_server(settings: Settings, ledger: ClaimsLedger) -> Iterator[Callable[..., str]]:
    """Serve the test's ledger over real HTTP (uvicorn in a thread, on a free port), for
    clients that speak HTTP themselves (taxii2-client uses requests). Answers the URL."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def serve(**changes: Any) -> str:
        app = create_app(settings.model_copy(update=changes), ledger)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                               log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        servers.append((server, thread))
        port = server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=20)
