"""Outage: the PostgreSQL under a real server is stopped mid-load, then started again.

The test starts a throwaway PostgreSQL cluster of its own (``initdb`` into a temporary
directory, as the ``postgres`` user when run as root; the binaries of
``/usr/lib/postgresql/*/bin`` or on PATH), serves a ledger on it, and has writers append
with Idempotency-Keys while the cluster is stopped and started again. While it is down,
requests answer 503 problems with ``Retry-After``; once it is back the same server process
(not restarted) answers again, and every append answered 201 is stored exactly once.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .test_crash import Writers
from .test_server_restart import HEADERS, free_port, start, stop

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

WRITERS = 3


def postgres_binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        message = f"PostgreSQL's {name} is not installed (looked in /usr/lib/postgresql/*/bin)"
        if os.environ.get("CLAIMS_LEDGER_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found[-1]


class Cluster:
    """A PostgreSQL cluster in a temporary directory, on a port of its own."""

    def __init__(self, root: Path, port: int) -> None:
        self.data, self.port = root / "data", port
        self.log = root / "postgres.log"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=120)

    def create(self) -> None:
        self.run(postgres_binary("initdb"), "-D", str(self.data), "-A", "trust",
                 "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off")
        self.run(postgres_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                 "-o", options, "-w", "start")

    def stop(self) -> None:
        self.run(postgres_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="claims-ledger-outage-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    made = Cluster(root, free_port())
    try:
        made.create()
        made.start()
        yield made
    finally:
        subprocess.run([*made.as_user, postgres_binary("pg_ctl"), "-D", str(made.data),
                        "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def test_an_outage_answers_503_and_recovers_without_a_restart(
    cluster: Cluster, tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    process = start(cluster.url, port, log)
    unavailable: list[httpx.Response] = []
    writers = Writers(base, WRITERS, "outage", on_503=unavailable.append)
    try:
        wait_for(lambda: len(writers.answered) >= 20, "appends before the outage")
        cluster.stop()
        wait_for(lambda: len(unavailable) >= WRITERS, "503s while PostgreSQL is down")
        with httpx.Client(base_url=base, headers=HEADERS, timeout=60) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.headers["retry-after"]
        before = len(writers.answered)
        cluster.start()
        wait_for(lambda: len(writers.answered) >= before + 20, "appends after PostgreSQL is back")
    finally:
        writers.stop()
    answered = writers.answered
    try:
        for response in unavailable:
            assert response.headers["content-type"] == "application/problem+json"
            assert int(response.headers["retry-after"]) > 0
            assert response.json()["status"] == 503
        assert process.poll() is None  # the same process, never restarted
        with httpx.Client(base_url=base, headers=HEADERS, timeout=60) as client:
            assert client.get("/readyz").status_code == 200
            writers.check_stored(client)
        print(f"outage: {len(unavailable)} answers 503 with Retry-After while PostgreSQL "
              f"was down; {len(answered)} appends answered, 0 lost, 0 duplicated, "
              "recovered without a restart")
    finally:
        stop(process)


def wait_for(condition: object, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)
