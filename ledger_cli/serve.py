"""``serve``: the HTTP API under uvicorn, on the embedded SQLite store unless told otherwise.

The first run on the default store loads the article's example data, so a new user has
something to ask about; any other store gets it only with ``--demo`` (events are forever:
demo data must never land in a production ledger by surprise).

This process opens the store first (so its tables exist before any server starts), then
serves in itself (one process) or starts ``--workers`` processes under uvicorn's
supervisor; beside them, the credibility projector runs in a process of its own, started
again if it dies (``ledger_cli.projecting``), so the servers' interpreters serve requests
only. What the workers need is handed to them alone (``WorkerConfig``), never put
in this process's environment: the settings as resolved here, and
``PROMETHEUS_MULTIPROC_DIR``, a temporary directory where each worker keeps its metrics
(prometheus-client's multiprocess mode) so that a scrape of ``/metrics`` counts every
worker; it is removed when the server stops. A server process that fails to start ends
the command with exit code 1, whatever the number of workers, so a supervisor restarts it.

With ``CLAIMS_LEDGER_LOG_FORMAT=json`` (or ``auto`` when stderr is not a terminal) every
line the server prints is JSON: these announcements, uvicorn's own lines and tracebacks,
and the request log (``api.logs``).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import logging
import os
import signal
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any

import typer
import uvicorn
from uvicorn.server import HANDLED_SIGNALS

from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.examples import load_article
from ledger_cli.projecting import ProjectorProcess
from ledger_cli.session import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_PORT_IN_USE,
    fail,
    load_settings,
    open_ledger_with,
    reported_errors,
)

APP = "api.main:create_served_app"


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(
            help="Interface to bind; other than localhost it needs API keys. "
            "(default: $CLAIMS_LEDGER_HOST or 127.0.0.1)",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="Port to listen on. (default: $CLAIMS_LEDGER_PORT or 8000)", show_default=False
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Server processes sharing the store (not with the memory store)."),
    ] = 1,
    demo: Annotated[
        bool | None,
        typer.Option(
            "--demo/--no-demo",
            help="Load the article's example data if the store has no claims yet. "
            "(default: only on the first run on the default SQLite store)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the HTTP API (docs at /docs).

    Without configuration it uses an embedded SQLite file and, on the first run, loads
    the example data. Without API keys it listens on localhost only.
    """
    try:
        _serve(ctx, host, port, workers, demo)
    except Signalled as signalled:
        # As uvicorn would have done once it stopped, but after the projector has stopped.
        for caught in reversed(signalled.signals):
            signal.raise_signal(caught)


def _serve(
    ctx: typer.Context, host: str | None, port: int | None, workers: int, demo: bool | None
) -> None:
    settings = load_settings(ctx, host=host, port=port)
    if workers > 1 and settings.backend == "memory":
        fail(EXIT_BAD_INPUT, "--workers: processes cannot share the memory store")
    _check_address(settings)  # before the store is opened or demo data loaded
    try:
        from api.logs import configure_logging, uvicorn_log_config
        from api.main import create_app
    except ImportError as error:
        fail(EXIT_FAILED, f"the HTTP API cannot be imported ({error})")
    # One format for every line: these messages, uvicorn's and the request log.
    tell = _teller(configure_logging(settings, "claims_ledger.serve"))
    ledger = open_ledger_with(settings)  # creates the store's tables, before any worker
    options = _uvicorn_options(settings, uvicorn_log_config(settings))
    try:
        with reported_errors():
            _prepare(ledger, settings, demo, tell)
        _announce(settings, tell)
        if settings.backend == "memory":  # the server must share this very ledger
            started = _serve_here(create_app(settings=settings, ledger=ledger), options)
            return _started_or_fail(started, tell)
    finally:
        ledger.close()
    given = {f"CLAIMS_LEDGER_{name.upper()}": value for name, value in _given(settings).items()}
    with ProjectorProcess(given, tell):
        if workers == 1:
            app = create_app(settings=settings, follow_log=False)
            return _started_or_fail(_serve_here(app, options), tell)
        with tempfile.TemporaryDirectory(prefix="claims-ledger-metrics-") as metrics:
            worker_env = {**given, "PROMETHEUS_MULTIPROC_DIR": metrics}
            started = _serve_workers(APP, worker_env, workers, options)
    _started_or_fail(started, tell)


def _given(settings: Settings) -> dict[str, str]:
    """The settings as resolved here (flags, environment, .env), as the workers' variables
    spell them; secrets included, for the workers only."""
    values = settings.model_dump(mode="json")
    for name in ("api_keys", "signing_key"):
        secret = getattr(settings, name)
        values[name] = secret.get_secret_value() if secret is not None else None
    return {name: str(value) for name, value in values.items() if value is not None}


class WorkerConfig(uvicorn.Config):
    """uvicorn's configuration, carrying the variables each worker process starts with.

    uvicorn sends its configuration to every worker it spawns; ``load`` runs there, before
    the app is imported, and puts ``worker_env`` in that worker's environment only.
    """

    def __init__(self, app: str, *, worker_env: Mapping[str, str], **options: Any) -> None:
        self.worker_env = dict(worker_env)
        super().__init__(app, **options)

    def load(self) -> None:
        os.environ.update(self.worker_env)
        super().load()


class Signalled(Exception):
    """The server stopped on these signals (SIGTERM, SIGINT), to be raised again once
    ``serve`` has stopped what it started beside the server (its projector)."""

    def __init__(self, signals: list[int]) -> None:
        super().__init__(f"stopped by signals {signals}")
        self.signals = signals


class FrozenStartServer(uvicorn.Server):
    """uvicorn's server that, once started, sets what startup made aside from the garbage
    collector (``gc.freeze``): the app, its schemas, the modules, the opened store.

    They live as long as the process, yet every full collection walks each object it
    tracks while every request waits: about 96,000 objects after startup, 67 ms a
    collection on this project's machine, none once frozen.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            gc.collect()
            gc.freeze()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's, but keeping the signals that stopped it rather than raising them
        again on its way out, which would end ``serve`` before it stopped its projector
        (``_serve_here`` hands them on)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def _serve_here(app: object, options: Mapping[str, Any]) -> bool:
    """Serve in this process; whether the server started."""
    server = FrozenStartServer(uvicorn.Config(app, **options))  # type: ignore[arg-type]
    try:
        server.run()
    except SystemExit:  # uvicorn's way of saying that startup failed
        return False
    if server._captured_signals:
        raise Signalled(list(server._captured_signals))
    return server.started


def _serve_workers(
    app: str, worker_env: Mapping[str, str], workers: int, options: Mapping[str, Any]
) -> bool:
    """Serve in ``workers`` processes under uvicorn's supervisor; False if one failed to
    start (the supervisor then stops them all)."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    config = WorkerConfig(app, worker_env=worker_env, factory=True, workers=workers, **options)
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    return not any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes)


def _started_or_fail(started: bool, tell: Callable[[str], None]) -> None:
    if not started:
        tell("error: the server failed to start (the reason is above)")
        raise typer.Exit(EXIT_FAILED)


def _teller(logger: logging.Logger) -> Callable[[str], None]:
    """The command's messages as log lines, in the format of the server's (JSON or text),
    so every line the server prints has one format."""

    def tell(message: str) -> None:
        if message.startswith("error: "):
            logger.error(message.removeprefix("error: "))
        else:
            logger.info(message)

    return tell


def _check_address(settings: Settings) -> None:
    """Fail in one line if the server could not listen (uvicorn says it in a log and exit 3).

    Binds as uvicorn will (SO_REUSEADDR, so a port in TIME_WAIT is free) and lets go; a
    process that takes the port in between still makes uvicorn fail.
    """
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    address = f"{host}:{settings.port}"
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((settings.host, settings.port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            fail(
                EXIT_PORT_IN_USE,
                f"cannot listen on {address}: the port is already in use (another server?); "
                "choose another with --port or CLAIMS_LEDGER_PORT",
            )
        fail(
            EXIT_BAD_INPUT,
            f"cannot listen on {address}: {error.strerror or error}; "
            "check --host and --port (or CLAIMS_LEDGER_HOST, CLAIMS_LEDGER_PORT)",
        )


def _prepare(
    ledger: ClaimsLedger, settings: Settings, demo: bool | None, tell: Callable[[str], None]
) -> None:
    empty = not ledger.global_log(0, limit=1)["events"]
    default_store = "store" not in settings.model_fields_set
    if demo or (demo is None and empty and default_store):
        count = load_article(ledger, actor="example-data")
        if count:
            tell(f"loaded the article's example data: {count} events")
        else:
            tell("the store already holds claims: example data not loaded (the answers are "
                 "the store's, not the README's; for a fresh start: claims-ledger --store "
                 "memory serve --demo, or remove the store's file)")


def _announce(settings: Settings, tell: Callable[[str], None]) -> None:
    if settings.backend == "sqlite":
        tell(f"data: {settings.sqlite_path().resolve()} (embedded SQLite)")
    elif settings.backend == "postgres":
        tell(f"data: {settings.redacted_store()} (PostgreSQL)")
    else:
        tell("data: in memory, lost when the server stops")
    # Whether API keys are configured the app says as it starts (api.main), once.
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    tell(f"API on http://{host}:{settings.port} (docs at /docs, the web view at /ui)")
    if settings.host in ("0.0.0.0", "::"):  # every interface: not an address to browse to
        tell(f"open http://127.0.0.1:{settings.port}/ui in a browser on this machine, "
             f"or http://{socket.gethostname()}:{settings.port}/ui from another")


def _uvicorn_options(settings: Settings, log_config: dict[str, Any] | None) -> dict[str, Any]:
    options: dict[str, Any] = dict(
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",  # with several workers the asyncio loop adds ~40 ms a request
        log_level=settings.log_level.lower(),
        access_log=False,  # the API logs each request itself
    )
    if log_config is not None:
        options["log_config"] = log_config
    return options
