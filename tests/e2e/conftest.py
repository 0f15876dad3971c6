"""Real processes for the end-to-end tests: ``claims-ledger serve`` and a throwaway PostgreSQL.

``serve`` starts ``claims-ledger serve`` in a process group of its own (its workers go
with it) with only the ``CLAIMS_LEDGER_*`` variables a test gives, logging to a file.
``cluster`` is a throwaway PostgreSQL cluster, made once per session in a temporary
directory (``initdb`` as the ``postgres`` user when the tests run as root; the binaries of
``/usr/lib/postgresql/*/bin``, as Debian installs them, or on PATH), that a test may stop
and start again: each test gets it running, with a database of the test's own, and leaves
it running. Without PostgreSQL's binaries the test skips, or fails under
``CLAIMS_LEDGER_REQUIRE_POSTGRES=1``.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import pytest

from ledger_cli.bench.servers import Server, free_port


def lines(served: Server) -> list[str]:
    return served.log.read_text(errors="replace").splitlines()


def wait_ready(served: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert served.process.poll() is None, "serve exited:\n" + served.log.read_text()
        try:
            if httpx.get(f"{served.base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "serve did not start:\n" + served.log.read_text()
        time.sleep(0.1)


def stop(served: Server) -> int:
    """SIGTERM to the process group; its exit code."""
    if served.process.poll() is None:
        os.killpg(served.process.pid, signal.SIGTERM)
        try:
            served.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
            os.killpg(served.process.pid, signal.SIGKILL)
            served.process.wait()
    return served.process.returncode


Serve = Callable[..., Server]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """``serve(*args, env={...})`` starts ``claims-ledger ARGS serve --port P`` (not ready)."""
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None, serve_args: tuple[str, ...] = ()
              ) -> Server:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_LEDGER_")}
        environ.update(XDG_DATA_HOME=str(tmp_path / "xdg"), **(env or {}))
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "ledger_cli", *args, "serve", "--port", str(port),
                 *serve_args],
                env=environ, cwd=tmp_path, stdout=sink, stderr=sink, start_new_session=True,
            )
        served = Server(process, port, log)
        started.append(served)
        return served

    yield start
    for served in started:
        stop(served)


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1:``port``; ``url`` names ``database``."""

    bin: Path
    data: Path
    port: int
    run_as: str | None
    database: str = "postgres"
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.data.parent / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def running(self) -> bool:
        status = subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
            user=self.run_as, capture_output=True, timeout=120,
        )
        return status.returncode == 0

    def new_database(self) -> Cluster:
        """This cluster, its ``url`` naming a new empty database."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        subprocess.run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", name],
            check=True, capture_output=True, timeout=120,
        )
        return replace(self, database=name)

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), *args],
            check=True, user=self.run_as, capture_output=True, timeout=120,
        )

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off")
        self.ctl("-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        """Stop at once, as a crash or an outage would (``-m immediate``)."""
        self.ctl("-m", "immediate", "-w", "stop")


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = found[-1] if found else shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """The session's cluster (made on first use, removed at the end); see ``cluster``."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        message = "PostgreSQL's initdb is not installed (a throwaway cluster is needed)"
        if os.environ.get("CLAIMS_LEDGER_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    run_as = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
    root = Path(tempfile.mkdtemp(prefix="claims-ledger-pg-"))
    if run_as:
        shutil.chown(root, run_as)
    data = root / "data"
    subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--no-sync"],
        check=True, user=run_as, capture_output=True, timeout=120,
    )
    made = Cluster(bin_dir, data, free_port(), run_as)
    try:
        made.start()
        yield made
    finally:
        subprocess.run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            user=run_as, capture_output=True, timeout=120,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def cluster(postgres_cluster: Cluster) -> Cluster:
    """The session's cluster, running (a test that failed while it was stopped may have
    left it so), with a database of this test's own: what one test stores, another does
    not see. A test may stop and start the cluster; it leaves it running."""
    if not postgres_cluster.running():
        postgres_cluster.start()
    return postgres_cluster.new_database()
