"""``bench``: the ledger's throughput as ratios to the bare library, measured in one run."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger_cli import render
from ledger_cli.session import EXIT_BAD_INPUT, fail, print_json, reported_errors


def bench(
    events: Annotated[int, typer.Option(min=10, help="Events appended one at a time.")] = 500,
    batch: Annotated[int, typer.Option(min=1, help="Events per batch append.")] = 100,
    repeats: Annotated[int, typer.Option(min=1, help="Runs; each figure is the median.")] = 3,
    postgres: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Measure on this PostgreSQL store instead of a throw-away SQLite file. "
            "It writes benchmark claims there: use a scratch database.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Measure appends, batches and reads against the bare eventsourcing library.

    The machine's speed varies, so each figure is set beside the same work done by the
    library alone on the same kind of store, in the same run: the ratio is what to compare.
    """
    from ledger.bench import run

    if postgres is not None and not postgres.startswith(("postgresql://", "postgres://")):
        fail(EXIT_BAD_INPUT, f"--postgres: {postgres!r} is not a postgresql:// URL")
    with reported_errors():
        report = run(store=postgres or "sqlite", events=events, batch=batch, repeats=repeats)
    if as_json:
        print_json(report)
    else:
        render.bench(report)
