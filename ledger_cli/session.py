"""What every command shares: settings, an open ledger, times, and errors as exit codes.

A ledger error is printed as one line on stderr and ends the command with the exit code of
its branch of ``ledger.errors``, never with a traceback; the codes are part of the CLI's
contract (scripts branch on them) and are listed in ``claims-ledger --help``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import typer
from pydantic import ValidationError

from ledger import bootstrap
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidInput,
    LedgerError,
    NotFound,
    StoreUnavailable,
)
from ledger.times import parse_time_option

EXIT_OK = 0
EXIT_FAILED = 1  # verify found a break in the chain; any other failure
EXIT_BAD_INPUT = 2  # bad option, file, record, time or configuration (click uses 2 too)
EXIT_NOT_FOUND = 3
EXIT_UNAVAILABLE = 4
EXIT_CONFLICT = 5
EXIT_PORT_IN_USE = 6  # serve: another process listens on the host and port

EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 failed (e.g. verify found a broken chain), 2 bad input or "
    "configuration, 3 not found, 4 store unavailable, 5 conflict (already exists), "
    "6 port already in use (serve)."
)


@dataclass
class Options:
    """Global options, kept on the Typer context for the commands."""

    store: str | None = None


def say(message: str) -> None:
    """A message for the person at the terminal: stderr, so stdout stays data."""
    typer.echo(message, err=True)


def fail(code: int, message: str) -> NoReturn:
    say(f"error: {message}")
    raise typer.Exit(code)


def exit_code(error: LedgerError) -> int:
    if isinstance(error, InvalidInput):
        return EXIT_BAD_INPUT
    if isinstance(error, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, StoreUnavailable):
        return EXIT_UNAVAILABLE
    if isinstance(error, Conflict | IdempotencyKeyReused):
        return EXIT_CONFLICT
    return EXIT_FAILED


def load_settings(ctx: typer.Context, **overrides: Any) -> Settings:
    """``Settings`` from the environment, ``--store`` and the command's own options."""
    options = ctx.find_object(Options) or Options()
    given = {name: value for name, value in overrides.items() if value is not None}
    if options.store is not None:
        given["store"] = options.store
    try:
        return Settings(**given)
    except ValidationError as error:
        fail(EXIT_BAD_INPUT, configuration_problem(error, set(given)))


def configuration_problem(error: ValidationError, given: set[str]) -> str:
    """Name the variable (or option) to change, without echoing secret values."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["loc"]:
            field = str(item["loc"][0])
            variable = f"CLAIMS_LEDGER_{field.upper()}"
            where = f"--{field.replace('_', '-')}" if field in given else variable
            problems.append(f"{where}: {message}")
        else:
            problems.append(message)
    return "invalid configuration: " + "; ".join(problems)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a ledger error into its one-line message and exit code."""
    try:
        yield
    except LedgerError as error:
        fail(exit_code(error), error.detail)


def open_ledger_with(settings: Settings) -> ClaimsLedger:
    """``ledger.bootstrap.open_ledger``, its failure a message that names the store."""
    try:
        return bootstrap.open_ledger(settings)
    except StoreUnavailable as error:
        fail(
            EXIT_UNAVAILABLE,
            f"{error.detail} (store {settings.redacted_store()}; "
            "change it with --store or CLAIMS_LEDGER_STORE)",
        )


@contextmanager
def open_ledger(ctx: typer.Context, *, existing: bool = False) -> Iterator[ClaimsLedger]:
    """The ledger for one command, closed afterwards; ledger errors become exit codes.

    ``existing`` is for commands that only read: they refuse an SQLite file that is not
    there rather than create an empty ledger (a typo in --store would look like no data).
    """
    settings = load_settings(ctx)
    if existing and settings.backend == "sqlite" and not settings.sqlite_path().exists():
        fail(
            EXIT_UNAVAILABLE,
            f"no ledger at {settings.sqlite_path()}: check --store, or create it with "
            "`claims-ledger load FILE` or `claims-ledger serve --demo`",
        )
    ledger = open_ledger_with(settings)
    try:
        with reported_errors():
            yield ledger
    finally:
        ledger.close()


#: A time option (``--as-of``, ``--known-at``, ``--since``...), by the ledger's rule: a bare
#: date is the end of that day (the start, for ``--since``), a timestamp needs a zone.
instant = parse_time_option


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
