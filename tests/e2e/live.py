"""A real server for the live tests: uvicorn on one SQLite file, killed and restarted on
the same port, and the writes the tests make."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from ledger_cli.bench.servers import free_port

WRITER = "e2e-writer-token-0123456789"
READER = "e2e-reader-token-0123456789"
KEYS = f"desk:writer:{WRITER},viewer:reader:{READER}"
AS_WRITER = {"Authorization": f"Bearer {WRITER}"}
AS_READER = {"Authorization": f"Bearer {READER}"}


class Server:
    """``uvicorn --factory api.main:create_app`` on one SQLite file and one port."""

    def __init__(self, store: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.store, self.log, self.port = store, log, free_port()
        self.env = env or {}  # more settings
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_LEDGER_")},
            "CLAIMS_LEDGER_STORE": f"sqlite:///{self.store}",
            "CLAIMS_LEDGER_API_KEYS": KEYS,
            "CLAIMS_LEDGER_STREAM_PING_SECONDS": "0.5",
            "CLAIMS_LEDGER_STREAM_POLL_SECONDS": "0.2",
            "CLAIMS_LEDGER_WEBHOOK_RETRY_SECONDS": "0.2",
            "CLAIMS_LEDGER_WEBHOOK_ALLOW_PRIVATE": "true",  # the receivers are on 127.0.0.1
            **self.env,
        }
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app",
                   "--host", "127.0.0.1", "--port", str(self.port),
                   "--loop", "uvloop", "--http", "httptools", "--no-access-log"]
        with self.log.open("a") as sink:
            self.process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink,
                                            cwd=self.store.parent)
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start:\n" + self.log.read_text()
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no shutdown, no flush, no goodbye to the clients
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
                self.process.kill()
                self.process.wait()


def serving(tmp_path: Path) -> Iterator[Server]:
    """For a fixture: a server started in ``tmp_path``, stopped afterwards."""
    served = Server(tmp_path / "ledger.db", tmp_path / "server.log")
    served.start()
    yield served
    served.stop()


def write(server: Server, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{server.base}{path}", json=body, headers=AS_WRITER, timeout=30)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def say(server: Server, claim: str, source: str, kind: str, day: int) -> int:
    body = {"type": kind, "source": source, "occurred_at": f"2024-10-{day:02d}T12:00:00Z",
            "summary": f"{source} {kind} on day {day}"}
    return int(write(server, f"/claims/{claim}/events", body)["position"])


def setup_ledger(server: Server) -> None:
    for source in ("zelensky", "peskov"):
        write(server, "/sources", {"id": source, "name": source.title(), "reliability": "C"})
    for claim in ("troops", "arms"):
        write(server, "/claims", {"id": claim, "text": f"North Korea sends {claim} to Russia"})




def wait_until(done: Any, timeout: float = 60) -> bool:
    """Wait (at most ``timeout`` seconds) until ``done()`` is true."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
