"""``claims-ledger serve --workers 2`` for real: PostgreSQL, metrics of every worker, JSON logs.

(What ``serve`` hands uvicorn, and its exit codes, with uvicorn as a stand-in:
``tests/cli/test_serve.py``.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ledger_cli.bench.servers import free_port

from .conftest import Serve, lines, stop, wait_ready

pytestmark = pytest.mark.slow


def healthz_count(scrape: str) -> float:
    for family in text_string_to_metric_families(scrape):
        for sample in family.samples:
            if (sample.name == "claims_ledger_http_requests_total"
                    and sample.labels.get("route") == "/healthz"):
                return sample.value
    return 0.0


@pytest.mark.postgres
def test_two_workers_count_together_and_print_only_json(
    serve: Serve, postgres_store: str
) -> None:
    served = serve("--store", postgres_store, serve_args=("--workers", "2", "--no-demo"),
                   env={"CLAIMS_LEDGER_LOG_FORMAT": "json"})
    wait_ready(served)
    sent = 0
    pids: set[int] = set()
    while len(pids) < 2:  # until both workers have answered some (fresh connections)
        assert sent < 2000, "one worker answered every request"
        assert httpx.get(f"{served.base}/healthz", headers={"Connection": "close"}).is_success
        sent += 1
        if sent % 20 == 0:
            logged = [json.loads(line) for line in lines(served)]
            pids = {line["pid"] for line in logged if line.get("route") == "/healthz"}
    for _ in range(4):  # whichever worker answers the scrape counts both
        assert healthz_count(httpx.get(f"{served.base}/metrics").text) == sent

    stop(served)
    printed = lines(served)
    assert printed, "serve printed nothing"
    for line in printed:
        json.loads(line)  # every line: uvicorn's, the supervisor's, serve's own
    messages = [json.loads(line)["msg"] for line in printed]
    assert any(m.startswith("Started parent process") for m in messages)
    assert any(m.startswith("API on http://") for m in messages)


def test_a_worker_that_fails_to_start_stops_serve_with_a_failure_logged_as_json(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken_app.py").write_text(textwrap.dedent("""
        from contextlib import asynccontextmanager
        from fastapi import FastAPI

        @asynccontextmanager
        async def lifespan(app):
            raise RuntimeError("the store cannot be opened")
            yield

        def create():
            return FastAPI(lifespan=lifespan)
    """))
    program = textwrap.dedent(f"""
        import sys
        from api.logs import uvicorn_log_config
        from ledger.config import Settings
        from ledger_cli.serve import _serve_workers
        log_config = uvicorn_log_config(Settings(_env_file=None, log_format="json"))
        options = dict(host="127.0.0.1", port={free_port()}, log_level="info",
                       log_config=log_config)
        sys.exit(0 if _serve_workers("broken_app:create", {{}}, 2, options) else 1)
    """)
    done = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(tmp_path),
                                                       "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1, done.stderr
    printed = [json.loads(line) for line in done.stderr.splitlines()]  # the traceback too
    assert any("RuntimeError: the store cannot be opened" in line["msg"] for line in printed)
