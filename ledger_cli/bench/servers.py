"""Real servers in processes of their own, and the load generators that drive them.

``ledger_server`` runs ``claims-ledger serve`` (uvicorn, uvloop + httptools, the product's own
settings) on a free port; ``baseline_server`` runs the trivial app of ``baseline_app`` with
the same uvicorn flags. Both start with no ``CLAIMS_LEDGER_*`` variable of the caller's (no
API keys, no .env: the working directory is the benchmark's scratch directory) and log to a
file there.

``drive`` sends requests for a fixed time over N keep-alive connections. It uses ``wrk``
(with a Lua script: a random path per request, latency percentiles from wrk's histogram)
when it is on the PATH, otherwise an asyncio load generator in this process (plain sockets,
HTTP/1.1 keep-alive), which is slower and shares the machine's CPU with the server: the
report says which one ran, and both sides of every ratio are driven by the same one.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ledger_cli.bench.report import JSON, summary

UVICORN_FLAGS = ("--loop", "uvloop", "--http", "httptools", "--no-access-log")


class BenchError(Exception):
    """The benchmark cannot go on (a server did not start, a tool failed)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without the caller's CLAIMS_LEDGER_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_LEDGER_")}
    env.update(extra)
    return env


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_kib(self) -> int | None:
        """The process's peak resident set (VmHWM), or None where /proc cannot tell."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def _running(
    command: list[str], workdir: Path, name: str, timeout: float, **env: str
) -> Iterator[Server]:
    port = free_port()
    log = workdir / f"{name}-{port}.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=workdir,
            env=clean_environment(**env),
            stdout=sink,
            stderr=sink,
            start_new_session=True,  # its workers go with it, and ^C here is ours to handle
        )
    server = Server(process, port, log)
    try:
        _wait_ready(server, timeout)
        yield server
    finally:
        _stop(process)


def _wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise BenchError(f"the server exited before it was ready:\n{server.log_tail()}")
        try:
            status, _ = get(server.port, "/readyz", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise BenchError(f"the server was not ready in {timeout:.0f} s:\n{server.log_tail()}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:  # pragma: no cover
        pass


def ledger_server(
    store: str, workdir: Path, workers: int = 1, **env: str
) -> AbstractContextManager[Server]:
    """``claims-ledger --store STORE serve`` on a free port (a context manager: a Server);
    ``env``: settings for it (the caller's own ``CLAIMS_LEDGER_*`` are not passed on)."""
    command = [
        sys.executable, "-m", "ledger_cli", "--store", store, "serve",
        "--host", "127.0.0.1", "--no-demo", "--workers", str(workers),
    ]
    return _running(command, workdir, "ledger", timeout=120, **env)


def baseline_server(workdir: Path, workers: int = 1) -> AbstractContextManager[Server]:
    """The trivial FastAPI app under uvicorn with the API's flags (a context manager)."""
    command = [
        sys.executable, "-m", "uvicorn", "ledger_cli.bench.baseline_app:app",
        "--host", "127.0.0.1", *UVICORN_FLAGS, "--workers", str(workers), "--log-level", "info",
    ]
    return _running(command, workdir, "baseline", timeout=60)


def get(port: int, path: str, timeout: float = 600) -> tuple[int, bytes]:
    """One GET on a fresh connection (for readiness checks)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Client:
    """One keep-alive connection for sequential requests, timing each."""

    def __init__(self, port: int, timeout: float = 900) -> None:
        self.port, self.timeout = port, timeout
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def reconnect(self) -> None:
        self.connection.close()
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def timed_get(self, path: str) -> tuple[int, float, bytes]:
        start = time.perf_counter()
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        body = response.read()
        return response.status, time.perf_counter() - start, body

    def close(self) -> None:
        self.connection.close()


# -- load generators -----------------------------------------------------------------------


def load_generator() -> str:
    """``wrk`` if it is installed, else the in-process asyncio generator."""
    return "wrk" if shutil.which("wrk") else "python-asyncio"


def drive(
    port: int,
    paths: Sequence[str],
    body: bytes,
    connections: int,
    duration: float,
    headers: Mapping[str, str] | None = None,
) -> JSON:
    """POST ``body`` to random ``paths`` over ``connections`` connections for ``duration`` s
    (with ``headers`` besides the JSON content type).

    Returns the throughput of successful requests, their latency percentiles and the count
    of failed ones (``errors``: a status of 400 or more, or a socket error).
    """
    extra = dict(headers or {})
    if load_generator() == "wrk":
        return _wrk(port, paths, body, connections, duration, extra)
    return asyncio.run(_asyncio_load(port, paths, body, connections, duration, extra))


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%(headers)s
wrk.body = [==[%(body)s]==]
local paths = %(paths)s
local n = #paths
request = function()
  return wrk.format(nil, paths[math.random(n)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n{"requests": %%d, "duration_us": %%d, "status_errors": %%d, "socket_errors": %%d, ' ..
    '"p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "p99.9_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
"""


def _wrk(
    port: int,
    paths: Sequence[str],
    body: bytes,
    connections: int,
    duration: float,
    headers: Mapping[str, str],
) -> JSON:
    lua_paths = "{" + ", ".join(json.dumps(p) for p in paths) + "}"
    lua_headers = "\n".join(
        f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in headers.items()
    )
    script = _WRK_SCRIPT % {"body": body.decode(), "paths": lua_paths, "headers": lua_headers}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        threads = max(1, min(connections, os.cpu_count() or 1, 2))
        command = [
            "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
            "--timeout", "60s", "-s", handle.name, f"http://127.0.0.1:{port}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    finally:
        os.unlink(handle.name)
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"requests"')]
    if done.returncode != 0 or not lines:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    raw = json.loads(lines[-1])
    seconds = raw["duration_us"] / 1e6
    errors = raw["status_errors"] + raw["socket_errors"]
    ok = raw["requests"] - raw["status_errors"]
    figures: JSON = {
        "count": raw["requests"],
        "seconds": round(seconds, 3),
        "throughput": round(ok / seconds, 1) if seconds else None,
    }
    for name in ("p50", "p95", "p99", "p99.9"):
        figures[f"{name}_ms"] = round(raw[f"{name}_us"] / 1000, 3)
    figures["errors"] = errors
    return figures


async def _asyncio_load(
    port: int,
    paths: Sequence[str],
    body: bytes,
    connections: int,
    duration: float,
    headers: Mapping[str, str],
) -> JSON:
    more = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    requests = [
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{more}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for path in paths
    ]
    latencies: list[float] = []
    errors = 0
    rng = random.Random(0)

    async def connection(deadline: float) -> None:
        nonlocal errors
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            errors += 1
            return
        try:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                writer.write(requests[rng.randrange(len(requests))])
                status_line = await reader.readline()
                length = 0
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b""):
                        break
                    name, _, value = header.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                parts = status_line.split()
                if len(parts) < 2 or int(parts[1]) >= 400:
                    errors += 1
                else:
                    latencies.append(time.perf_counter() - start)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(connection(deadline) for _ in range(connections)))
    return summary(latencies, time.perf_counter() - started, errors=errors)
