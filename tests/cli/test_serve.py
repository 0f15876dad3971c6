"""``serve``: what it prepares and announces, and how it hands over to uvicorn.

uvicorn and the API are stand-ins here; ``tests/e2e/test_readme.py`` runs the real server.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ledger_cli.serve
from ledger.application import ClaimsLedger

from .helpers import Invoke

OpenLedger = Callable[[str], ClaimsLedger]


#: A text log line: ``2026-12-07T02:16:29.833Z INFO    message key=value``.
TEXT_LINE = re.compile(r"^[0-9-]{10}T[0-9:.]{12}Z (?P<level>[A-Z]+) +(?P<message>.*)$")


def messages(stderr: str) -> list[str]:
    """The messages of ``serve``'s text log lines, each checked to be one."""
    found = [TEXT_LINE.match(line) for line in stderr.splitlines()]
    assert all(found), stderr
    return [match["message"] for match in found if match]


class FakeApi:
    def __init__(self) -> None:
        self.built: list[dict[str, Any]] = []
        self.runs: list[tuple[Any, dict[str, Any]]] = []
        self.started = True
        self.projector_runs: list[tuple[str, dict[str, str]]] = []

    def create_app(
        self, settings: Any = None, ledger: Any = None, follow_log: bool = True
    ) -> str:
        self.built.append({"settings": settings, "ledger": ledger, "follow_log": follow_log})
        return "app-instance"

    def serve_here(self, app: Any, options: dict[str, Any]) -> bool:
        self.runs.append((app, {**options, "workers": 1}))
        return self.started

    def serve_workers(
        self, app: str, worker_env: dict[str, str], workers: int, options: dict[str, Any]
    ) -> bool:
        directory = Path(worker_env["PROMETHEUS_MULTIPROC_DIR"])
        assert directory.is_dir()  # made for the workers, before they start
        self.runs.append((app, {**options, "workers": workers, "env": worker_env}))
        return self.started


class FakeProjector:
    """Stands in for ``ledger_cli.projecting.ProjectorProcess``: records its lifetime."""

    def __init__(self, api: FakeApi) -> None:
        self.api = api

    def __call__(self, env: dict[str, str], tell: Any) -> FakeProjector:
        self.env = env
        return self

    def __enter__(self) -> FakeProjector:
        self.api.projector_runs.append(("started", self.env))
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.projector_runs.append(("stopped", self.env))


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()
    monkeypatch.setattr(ledger_cli.serve, "ProjectorProcess", FakeProjector(fake))
    module = types.ModuleType("api.main")
    module.create_app = fake.create_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "api.main", module)
    monkeypatch.setattr(ledger_cli.serve, "_serve_here", fake.serve_here)
    monkeypatch.setattr(ledger_cli.serve, "_serve_workers", fake.serve_workers)
    # Nothing listens here, so whether the port is free on this machine does not matter.
    monkeypatch.setattr(ledger_cli.serve, "_check_address", lambda settings: None)
    monkeypatch.setenv("CLAIMS_LEDGER_LOG_FORMAT", "text")  # the messages as a person reads them
    return fake


def test_first_run_on_the_default_store_loads_the_example_data(
    invoke: Invoke, api: FakeApi, tmp_path: Path
) -> None:
    result = invoke("serve", "--port", "8123")
    assert result.exit_code == 0, result.output
    path = tmp_path / "xdg" / "claims-ledger" / "ledger.sqlite3"
    # Whether API keys are configured, the app says as it starts (once: not here too).
    assert messages(result.stderr) == [
        "loaded the article's example data: 19 events",
        f"data: {path} (embedded SQLite)",
        "API on http://127.0.0.1:8123 (docs at /docs, the web view at /ui)",
    ]
    [(app, options)] = api.runs
    assert app == "app-instance"  # built here, over the settings resolved here
    [built] = api.built
    assert built["settings"].store == f"sqlite:///{path}" and built["ledger"] is None
    assert (options["host"], options["port"]) == ("127.0.0.1", 8123)
    assert (options["loop"], options["http"]) == ("uvloop", "httptools")
    assert "CLAIMS_LEDGER_STORE" not in os.environ  # nothing leaks into this process

    again = invoke("serve")
    assert again.exit_code == 0
    assert "example data" not in again.stderr


def test_a_configured_store_gets_example_data_only_when_asked(
    invoke: Invoke, api: FakeApi, sqlite_store: str, open_ledger: OpenLedger
) -> None:
    assert invoke("--store", sqlite_store, "serve").exit_code == 0
    assert "example data" not in invoke("--store", sqlite_store, "serve").stderr
    result = invoke("--store", sqlite_store, "serve", "--demo")
    assert "loaded the article's example data: 19 events" in result.stderr
    assert open_ledger(sqlite_store).claim("nk-troops-for-russia")["version"] == 5
    again = invoke("--store", sqlite_store, "serve", "--demo")
    assert "the store already holds claims: example data not loaded" in again.stderr


def test_no_demo_leaves_the_default_store_empty(invoke: Invoke, api: FakeApi) -> None:
    result = invoke("serve", "--no-demo")
    assert result.exit_code == 0
    assert "example data" not in result.stderr


def test_memory_store_serves_the_ledger_it_loaded(invoke: Invoke, api: FakeApi) -> None:
    result = invoke("--store", "memory", "serve", "--demo")
    assert result.exit_code == 0, result.output
    assert "data: in memory, lost when the server stops" in result.stderr
    [built] = api.built
    assert built["settings"].store == "memory"
    assert built["ledger"] is not None
    assert api.runs[0][0] == "app-instance"


def test_the_projector_runs_in_a_process_of_its_own_while_the_server_serves(
    invoke: Invoke, api: FakeApi, sqlite_store: str
) -> None:
    result = invoke("--store", sqlite_store, "serve", "--no-demo")
    assert result.exit_code == 0, result.output
    [built] = api.built
    assert built["follow_log"] is False and built["ledger"] is None
    runs = api.projector_runs
    assert [state for state, _ in runs] == ["started", "stopped"]
    assert runs[0][1]["CLAIMS_LEDGER_STORE"] == sqlite_store


def test_the_memory_store_has_no_projector_process(invoke: Invoke, api: FakeApi) -> None:
    assert invoke("--store", "memory", "serve", "--demo").exit_code == 0
    assert api.projector_runs == []


def test_a_public_bind_without_keys_is_refused(invoke: Invoke, api: FakeApi) -> None:
    result = invoke("serve", "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert "CLAIMS_LEDGER_API_KEYS" in result.stderr
    assert api.runs == []


def test_a_public_bind_with_keys_says_nothing_of_localhost(
    invoke: Invoke, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMS_LEDGER_API_KEYS", "ops:admin:secret-token")
    result = invoke("serve", "--host", "0.0.0.0", "--no-demo")
    assert result.exit_code == 0, result.output
    assert "localhost" not in result.stderr and "127.0.0.1 only" not in result.stderr
    assert api.runs[0][1]["host"] == "0.0.0.0"


def test_an_unusable_store_stops_before_the_server(
    invoke: Invoke, api: FakeApi, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a directory")
    result = invoke("--store", f"sqlite:///{tmp_path}/file/ledger.sqlite3", "serve")
    assert result.exit_code == 4
    assert "cannot create the data directory" in result.stderr
    assert api.runs == []


def test_a_port_in_use_is_one_line_and_exit_6(invoke: Invoke, tmp_path: Path) -> None:
    store = tmp_path / "new" / "ledger.sqlite3"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("--store", f"sqlite:///{store}", "serve", "--port", str(port), "--demo")
    assert result.exit_code == 6
    assert result.stderr == (
        f"error: cannot listen on 127.0.0.1:{port}: the port is already in use (another "
        "server?); choose another with --port or CLAIMS_LEDGER_PORT\n"
    )
    assert not store.parent.exists()  # stopped before the store was opened


def test_a_host_that_is_not_here_is_exit_2(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMS_LEDGER_API_KEYS", "ops:admin:secret-token")
    result = invoke("--store", "memory", "serve", "--host", "192.0.2.1", "--port", "8000")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot listen on 192.0.2.1:8000: ")


def test_a_missing_api_is_reported(
    invoke: Invoke, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "api.main", None)  # import api.main raises ImportError
    result = invoke("serve")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the HTTP API cannot be imported")


def test_an_unknown_log_level_names_the_variable(
    invoke: Invoke, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMS_LEDGER_LOG_LEVEL", "chatty")
    result = invoke("serve")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid configuration: CLAIMS_LEDGER_LOG_LEVEL:")
    assert "'debug'" in result.stderr
    assert api.runs == []


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        ("just-a-token-no-colons", "entry 1 is not principal:role:token"),
        ("ops:superuser:secret-token-0123", "role 'superuser' is not reader, writer or admin"),
        ("a:admin:same-token-0123,b:reader:same-token-0123", "two entries share one token"),
    ],
)
def test_malformed_api_keys_stop_serve_with_one_line(
    invoke: Invoke, api: FakeApi, monkeypatch: pytest.MonkeyPatch, keys: str, reason: str
) -> None:
    monkeypatch.setenv("CLAIMS_LEDGER_API_KEYS", keys)
    for store in ("memory", "sqlite"):
        extra = ["--store", "memory"] if store == "memory" else []
        result = invoke(*extra, "serve", "--no-demo")
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: invalid configuration: CLAIMS_LEDGER_API_KEYS: ")
        assert reason in result.stderr and len(result.stderr.splitlines()) == 1
        assert "secret-token" not in result.stderr and "same-token" not in result.stderr
    assert api.runs == [] and api.built == []


def test_workers_cannot_share_the_memory_store(invoke: Invoke, api: FakeApi) -> None:
    result = invoke("--store", "memory", "serve", "--workers", "2")
    assert result.exit_code == 2
    assert "--workers" in result.stderr


def test_workers_get_the_settings_resolved_here_and_a_metrics_directory(
    invoke: Invoke, api: FakeApi, sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMS_LEDGER_API_KEYS", "ops:admin:secret-token-0123")
    result = invoke("--store", sqlite_store, "serve", "--workers", "3", "--port", "8124",
                    "--host", "0.0.0.0")
    assert result.exit_code == 0, result.output
    [(app, options)] = api.runs
    assert (app, options["workers"]) == ("api.main:create_served_app", 3)
    env = options["env"]
    assert env["CLAIMS_LEDGER_STORE"] == sqlite_store  # --store, not the environment's
    assert (env["CLAIMS_LEDGER_HOST"], env["CLAIMS_LEDGER_PORT"]) == ("0.0.0.0", "8124")
    assert env["CLAIMS_LEDGER_API_KEYS"] == "ops:admin:secret-token-0123"
    assert not Path(env["PROMETHEUS_MULTIPROC_DIR"]).exists()  # removed when serve ends
    for name in ("CLAIMS_LEDGER_STORE", "CLAIMS_LEDGER_PORT", "PROMETHEUS_MULTIPROC_DIR"):
        assert name not in os.environ  # handed to the workers alone


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_server_that_fails_to_start_exits_1(
    invoke: Invoke, api: FakeApi, sqlite_store: str, workers: str
) -> None:
    api.started = False
    result = invoke("--store", sqlite_store, "serve", "--workers", workers)
    assert result.exit_code == 1
    last = TEXT_LINE.match(result.stderr.splitlines()[-1])
    assert last is not None and last["level"] == "ERROR", result.stderr
    assert last["message"] == "the server failed to start (the reason is above)"


def test_json_logs_make_every_line_of_serve_json(
    invoke: Invoke, api: FakeApi, sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMS_LEDGER_LOG_FORMAT", "json")
    result = invoke("--store", sqlite_store, "serve", "--demo")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [line["msg"] for line in lines][-1] == (
        "API on http://127.0.0.1:8000 (docs at /docs, the web view at /ui)")
    assert {line["logger"] for line in lines} == {"claims_ledger.serve"}
    assert api.runs[0][1]["log_config"]["formatters"]["json"]["()"] == "api.logs.JsonFormatter"


def test_the_real_server_sets_what_startup_made_aside_from_the_garbage_collector() -> None:
    """``serve`` runs uvicorn's server that, once started, freezes what startup made, so
    full collections no longer walk the app, its schemas and the opened store."""
    import gc
    import threading
    import time

    import uvicorn

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    gc.unfreeze()
    server = ledger_cli.serve.FrozenStartServer(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    )
    runner = threading.Thread(target=server.run)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while not gc.get_freeze_count() and runner.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started
        assert gc.get_freeze_count() > 0  # right after the server said it started
    finally:
        server.should_exit = True
        runner.join(timeout=10)
        gc.unfreeze()
    assert not runner.is_alive()


def test_text_logs_are_one_format_with_uvicorns(
    invoke: Invoke, api: FakeApi, sqlite_store: str
) -> None:
    """At a terminal, serve's messages, uvicorn's lines and the request log share the text
    format (not plain lines beside uvicorn's ``INFO:`` and the request log's)."""
    result = invoke("--store", sqlite_store, "serve")
    assert result.exit_code == 0, result.output
    assert messages(result.stderr)
    config = api.runs[0][1]["log_config"]
    assert config["formatters"] == {"text": {"()": "api.logs.TextFormatter"}}
    assert {config["handlers"]["stderr"]["formatter"]} == {"text"}


def test_trace_log_level_serves(
    invoke: Invoke, api: FakeApi, sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMS_LEDGER_LOG_LEVEL", "trace")
    result = invoke("--store", sqlite_store, "serve")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert api.runs[0][1]["log_level"] == "trace"


def test_every_interface_is_announced_with_an_address_a_browser_opens(
    invoke: Invoke, api: FakeApi, sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMS_LEDGER_API_KEYS", "ops:admin:secret-token-0123")
    result = invoke("--store", sqlite_store, "serve", "--host", "0.0.0.0", "--port", "8125")
    assert result.exit_code == 0, result.output
    said = messages(result.stderr)
    assert "API on http://0.0.0.0:8125 (docs at /docs, the web view at /ui)" in said
    assert said[-1].startswith("open http://127.0.0.1:8125/ui in a browser on this machine")
