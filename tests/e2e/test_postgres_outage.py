"""PostgreSQL going away under a real server, and a PostgreSQL that is not there at all.

While PostgreSQL is down, ``/readyz`` and every request that needs the store answer 503
with ``Retry-After`` at once: they do not wait for the pool. The pool's wait is set far
above the client's timeout here, so an answer at all proves that nothing waited for it.
When PostgreSQL is back, the same server serves again without a restart. A PostgreSQL
that drops connections (a listener that accepts and never answers, as a host that drops
packets; here a proxy) is answered the same way: no request waits for a connect that would last the
whole connect timeout. (Before: the first request after the outage waited for it.)
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import httpx
import pytest

from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.errors import StoreUnavailable
from ledger_cli.bench.servers import free_port

from .conftest import Cluster, Serve, wait_ready

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

POOL_WAIT = "600"  # seconds: far more than any client below waits
CLIENT_WAIT = 60  # seconds


def source(source_id: str) -> dict[str, str]:
    return {"id": source_id, "name": f"Source {source_id}", "role": "media",
            "affiliation": "US", "reliability": "B"}


def test_an_outage_answers_503_at_once_and_the_server_recovers(
    cluster: Cluster, serve: Serve
) -> None:
    served = serve("--store", cluster.url, serve_args=("--no-demo",),
                   env={"CLAIMS_LEDGER_POSTGRES_POOL_TIMEOUT": POOL_WAIT})
    wait_ready(served)
    with httpx.Client(base_url=served.base, timeout=CLIENT_WAIT) as client:
        assert client.post("/sources", json=source("before")).status_code == 201

        cluster.stop()
        for _ in range(20):  # the first may meet a connection that just broke
            ready = client.get("/readyz")
            assert ready.status_code == 503, ready.text
            if "PostgreSQL cannot be reached" in ready.json()["detail"]:
                break
        assert ready.headers["Retry-After"]
        assert ready.headers["Content-Type"] == "application/problem+json"
        assert "PostgreSQL cannot be reached" in ready.json()["detail"]
        write = client.post("/sources", json=source("during"))
        assert write.status_code == 503, write.text
        assert write.headers["Retry-After"]

        cluster.start()
        deadline = time.monotonic() + 120  # psycopg_pool retries with backoff
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.5)
        assert client.post("/sources", json=source("after")).status_code == 201
        ids = [s["id"] for s in client.get("/sources").json()["data"]]
        assert {"before", "after"} <= set(ids) and "during" not in ids


def test_a_closed_port_is_refused_with_libpqs_reason_not_after_the_pool_wait() -> None:
    pytest.importorskip("psycopg")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, store=f"postgresql://postgres@127.0.0.1:{free_port()}/test",
        postgres_pool_timeout=int(POOL_WAIT),
    )
    with pytest.raises(StoreUnavailable) as caught:
        open_ledger(settings)
    assert caught.value.detail.startswith("PostgreSQL cannot be reached: ")
    assert "Connection refused" in caught.value.detail


class Proxy:
    """A TCP proxy to PostgreSQL that can turn into a black hole: existing connections cut,
    new ones taken and never answered (a host that drops packets), with no moment between
    when a connection would be refused."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.dropping = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.every: list[socket.socket] = []  # closed by ``close``
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:  # ``close`` closes every socket made, even one made meanwhile
                if self.closed:
                    client.close()
                    return
                self.open.append(client)
                self.every.append(client)
                if self.dropping:
                    continue  # taken, never answered
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.target))
                except OSError:
                    client.close()
                    continue
                self.open.append(upstream)
                self.every.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def drop(self) -> None:
        self.dropping = True
        for conn in self.open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.open = []

    def close(self) -> None:
        with self.lock:
            self.closed = True
            for conn in [self.listener, *self.every]:
                conn.close()

    def restore(self) -> None:
        for conn in self.open:  # the connections held in the black hole are refused now
            with contextlib.suppress(OSError):
                conn.close()
        self.open = []
        self.dropping = False


def test_a_server_that_never_answers_gets_503_at_once_and_recovery_is_prompt(
    cluster: Cluster, serve: Serve
) -> None:
    proxy = Proxy(cluster.port)
    url = cluster.url.replace(f":{cluster.port}/", f":{proxy.port}/")
    served = serve("--store", url, serve_args=("--no-demo",),
                   env={"CLAIMS_LEDGER_POSTGRES_POOL_TIMEOUT": POOL_WAIT,
                        "CLAIMS_LEDGER_POSTGRES_CONNECT_TIMEOUT": POOL_WAIT})
    wait_ready(served)
    with contextlib.closing(proxy), httpx.Client(base_url=served.base,
                                                 timeout=CLIENT_WAIT) as client:
        assert client.post("/sources", json=source("before")).status_code == 201
        proxy.drop()
        # Connects now hang for POOL_WAIT seconds; every answer comes before the client's
        # far shorter wait, so none waited for one. More requests than the pool holds
        # connections: each broken one is used at most once.
        for path in ("/sources", "/readyz", "/claims") * 10:
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["Retry-After"]
        write = client.post("/sources", json=source("during"))
        assert write.status_code == 503, write.text
        proxy.restore()
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.2)
        assert client.post("/sources", json=source("after")).status_code == 201
        ids = [s["id"] for s in client.get("/sources").json()["data"]]
        assert {"before", "after"} <= set(ids) and "during" not in ids
