"""``load`` and ``export``: moving events in and out of a store in the export format.

The format is the global log's (``ClaimsLedger.global_log``): one event per line, in log
order, keeping event ids and actors, so ``export`` then ``load`` into an empty store gives
the same answers. ``load`` writes one ``import_batch`` transaction per batch: a bad record
rejects its whole batch, and the batches before it stay written (the summary says which
lines, so the rest can be loaded once fixed).
"""

from __future__ import annotations

import getpass
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TextIO, cast

import typer

from ledger.application import ClaimsLedger
from ledger.errors import LedgerError
from ledger_cli.records import Numbered, batches, count_records, read_records
from ledger_cli.render import import_progress
from ledger_cli.session import (
    EXIT_BAD_INPUT,
    exit_code,
    fail,
    open_ledger,
    reported_errors,
    say,
)

EXPORT_PAGE = 1000


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # a container user without a name
        return "cli"


def load(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="NDJSON (one event per line) or a JSON array; '-' reads stdin."
        ),
    ],
    batch_size: Annotated[
        int,
        typer.Option(
            min=1, max=100_000, help="Events per transaction: a bad record rejects its batch."
        ),
    ] = 500,
    actor: Annotated[
        str | None,
        typer.Option(
            help="Who recorded the events, for records without an 'actor' (default: cli:$USER)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Import events from an export file, a batch at a time.

    Reads the export format (NDJSON, or a JSON array of the same records), writing each
    batch in one transaction: a bad record rejects its batch and stops the load, naming
    its line. Records keep their event ids and actors.
    """
    who = actor or _default_actor()
    # The input first: a file that cannot be read must not leave a new, empty store behind.
    with reported_errors(), _input(file) as (stream, total), open_ledger(ctx) as ledger:
        loader = _BatchLoader(ledger, who)
        with import_progress(total, batch_size) as advance:
            try:
                for batch in batches(read_records(stream), batch_size):
                    loader.write(batch)
                    advance(len(batch))
            except LedgerError as error:
                say(f"error: {error.detail}")
                say(loader.partial_summary())
                raise typer.Exit(exit_code(error)) from None
    say(loader.summary(file))


class _BatchLoader:
    """Writes batches and remembers what was written, for the summary."""

    def __init__(self, ledger: ClaimsLedger, actor: str) -> None:
        self.ledger, self.actor = ledger, actor
        self.count = self.batches = self.last_line = 0
        self.first_position: int | None = None
        self.last_position: int | None = None

    def write(self, batch: list[Numbered]) -> None:
        lines = [line for line, _ in batch]
        # Blank lines and multi-line array elements make file lines non-consecutive, so
        # each record's own line goes with it.
        records = cast(list[Mapping[str, Any]], [r for _, r in batch])  # checked there
        result = self.ledger.import_batch(records, self.actor, lines=lines)
        self.count += int(result["count"])
        self.batches += 1
        self.last_line = lines[-1]
        self.first_position = self.first_position or result.get("first_position")
        self.last_position = result.get("last_position", self.last_position)

    def partial_summary(self) -> str:
        if not self.count:
            return "nothing was written"
        return (
            f"{self.count} events up to line {self.last_line} were written (positions "
            f"{self.first_position}-{self.last_position}); nothing after line "
            f"{self.last_line} was: fix the record, then load the rest"
        )

    def summary(self, file: str) -> str:
        name = "stdin" if file == "-" else file
        if not self.count:
            return f"nothing to load: {name} holds no records"
        plural = "batch" if self.batches == 1 else "batches"
        return (
            f"loaded {self.count} events from {name} in {self.batches} {plural} "
            f"(positions {self.first_position}-{self.last_position})"
        )


@contextmanager
def _input(file: str) -> Iterator[tuple[TextIO, int | None]]:
    if file == "-":
        stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
        try:
            yield stdin, None
        finally:
            stdin.detach()  # leave sys.stdin open
        return
    try:
        with open(file, encoding="utf-8") as counting:
            total = count_records(counting)
        stream = open(file, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as error:
        fail(EXIT_BAD_INPUT, f"cannot read {file}: {error.strerror or error}")
    with stream:
        yield stream, total


def export(
    ctx: typer.Context,
    file: Annotated[
        str | None,
        typer.Argument(metavar="FILE", help="Where to write; '-' or nothing writes to stdout."),
    ] = None,
) -> None:
    """Write every event as NDJSON, in log order.

    The export keeps event ids and actors: `load` into an empty store gives the same
    answers. A FILE is replaced only once the export is complete.
    """
    with open_ledger(ctx, existing=True) as ledger, _output(file) as out:
        count = 0
        for event in _log(ledger):
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
            count += 1
    say(f"exported {count} events to {file if file not in (None, '-') else 'stdout'}")


def _log(ledger: ClaimsLedger) -> Iterator[dict[str, Any]]:
    after = 0
    while True:
        page = ledger.global_log(after, limit=EXPORT_PAGE)
        yield from page["events"]
        if len(page["events"]) < EXPORT_PAGE:
            return
        after = page["next"]


@contextmanager
def _output(file: str | None) -> Iterator[TextIO]:
    """stdout, or a file replaced only once the export is complete."""
    if file in (None, "-"):
        yield sys.stdout
        return
    target = Path(file)
    if target.is_dir():  # found now, not after the whole export was written
        fail(EXIT_BAD_INPUT, f"cannot write {file}: it is a directory; name a file in it")
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError as error:
        fail(EXIT_BAD_INPUT, f"cannot write {file}: {error.strerror or error}")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            yield out
        os.replace(temporary, target)
    except OSError as error:  # a full disk, or the target turned into a directory meanwhile
        fail(EXIT_BAD_INPUT, f"cannot write {file}: {error.strerror or error}")
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
