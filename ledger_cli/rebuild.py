"""``rebuild``: drop the credibility projection and project the whole log again."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ledger_cli.session import EXIT_FAILED, fail, open_ledger, say

#: Statements a rebuild keeps in memory by default (about 1.5 GB at most).
HOLD = 1_000_000


def rebuild(
    ctx: typer.Context,
    hold: Annotated[
        int,
        typer.Option(
            min=1000,
            help="Most statements kept in memory while projecting: more is faster on a large "
            "ledger (a claim dropped from memory is reloaded from the store), about 1.5 KB each.",
        ),
    ] = HOLD,
) -> None:
    """Drop the credibility projection's tables and rebuild them from the log.

    The projection is derived: rebuilding gives the same rows, byte for byte. Stop any
    server on the store first (one process projects at a time). The in-memory store has
    no projection.
    """
    with open_ledger(ctx, existing=True) as ledger:
        projector = ledger.projector
        if projector is None:
            fail(EXIT_FAILED, "this store has no projection to rebuild (its lists replay)")
        total = projector.head()
        started = time.perf_counter()
        with Progress(
            TextColumn("projecting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
            console=None,
        ) as bar:
            task = bar.add_task("rebuild", total=total)
            try:
                done = projector.rebuild(progress=lambda n: bar.advance(task, n), hold=hold)
            except RuntimeError as error:
                fail(EXIT_FAILED, str(error))
        seconds = time.perf_counter() - started
        rate = done / seconds if seconds > 0 else 0.0
        say(
            f"rebuilt the credibility projection: {done} events in {seconds:.1f} s "
            f"({rate:,.0f} events/s)"
        )
