"""``serve``: the HTTP API under uvicorn, on the embedded SQLite store unless told otherwise.

The first run on the default store loads the article's example data, so a new user has
something to ask about; any other store gets it only with ``--demo`` (events are forever:
demo data must never land in a production ledger by surprise).
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Annotated

import typer

from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.examples import load_article
from ledger_cli.session import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_PORT_IN_USE,
    fail,
    load_settings,
    open_ledger_with,
    reported_errors,
    say,
)


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
    settings = load_settings(ctx, host=host, port=port)
    if workers > 1 and settings.backend == "memory":
        fail(EXIT_BAD_INPUT, "--workers: processes cannot share the memory store")
    _check_address(settings)  # before the store is opened or demo data loaded
    try:
        from api.main import create_app
    except ImportError as error:
        fail(EXIT_FAILED, f"the HTTP API cannot be imported ({error})")
    ledger = open_ledger_with(settings)
    try:
        with reported_errors():
            _prepare(ledger, settings, demo)
        _announce(settings)
        if settings.backend == "memory":  # the server must share this very ledger
            _run(create_app(settings=settings, ledger=ledger), settings)
            return
    finally:
        ledger.close()
    # The server builds its own Settings from the environment, so hand ours on there.
    os.environ.update(
        CLAIMS_LEDGER_STORE=settings.store,
        CLAIMS_LEDGER_HOST=settings.host,
        CLAIMS_LEDGER_PORT=str(settings.port),
    )
    _run("api.main:create_app", settings, factory=True, workers=workers)


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


def _prepare(ledger: ClaimsLedger, settings: Settings, demo: bool | None) -> None:
    empty = not ledger.global_log(0, limit=1)["events"]
    default_store = "store" not in settings.model_fields_set
    if demo or (demo is None and empty and default_store):
        count = load_article(ledger, actor="example-data")
        if count:
            say(f"loaded the article's example data: {count} events")
        else:
            say("the store already holds claims: example data not loaded")


def _announce(settings: Settings) -> None:
    if settings.backend == "sqlite":
        say(f"data: {settings.sqlite_path().resolve()} (embedded SQLite)")
    elif settings.backend == "postgres":
        say(f"data: {settings.redacted_store()} (PostgreSQL)")
    else:
        say("data: in memory, lost when the server stops")
    if settings.api_keys is None:
        say(
            f"no API keys configured (CLAIMS_LEDGER_API_KEYS): listening on "
            f"{settings.host} only, open to every local user"
        )
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    say(f"API on http://{host}:{settings.port} (docs at /docs)")


def _run(app: object, settings: Settings, factory: bool = False, workers: int = 1) -> None:
    import uvicorn

    uvicorn.run(
        app,  # type: ignore[arg-type]
        factory=factory,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",  # with several workers the asyncio loop adds ~40 ms a request
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,  # the API logs each request itself
    )
