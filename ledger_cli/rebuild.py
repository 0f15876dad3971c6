"""``rebuild``: drop the credibility projection and project the whole log again; with
``--model NAME``, build another model version's projection beside the served one and
switch to it when done."""

from __future__ import annotations

import os
import time
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ledger.models import VERSIONS
from ledger.projection.projector import PARALLEL_FROM
from ledger_cli.session import EXIT_BAD_INPUT, EXIT_FAILED, fail, open_ledger, say

#: Statements a rebuild keeps in memory by default (about 1.5 GB at most).
HOLD = 1_000_000


def rebuild(
    ctx: typer.Context,
    hold: Annotated[
        int,
        typer.Option(
            min=1000,
            help="Most statements kept in memory while projecting: more is faster on a large "
            "ledger (a claim dropped from memory is reloaded from the store), about 1.7 KB each.",
        ),
    ] = HOLD,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Keep what is projected and go on from where a killed rebuild stopped "
            "(each page of rows commits with its position).",
        ),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Processes projecting a part of the claims each (the same rows as one): "
            "the machine's cores by default. A log of fewer than "
            f"{PARALLEL_FROM:,} events to project, or one whose status index is already "
            "kept row by row, is projected in one process.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            metavar="VERSION",
            help=f"Build this model version's projection ({', '.join(VERSIONS)}) beside the "
            "served one, then serve it and drop the other's: a running server switches with "
            "no restart. (default: the version served)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Drop the credibility projection's tables and rebuild them from the log.

    The projection is derived: rebuilding gives the same rows, byte for byte. Stop any
    server on the store first (one process projects at a time). The in-memory store has
    no projection. With --resume, what is projected stays and the rebuild goes on from
    where a killed one stopped. With --model, another version's tables are built beside
    the served ones while a server goes on serving them; when they reach the head of the
    log that version is served (lists in it read its tables, the server's projector
    follows it) and the other's tables are dropped, in one transaction. With --jobs N
    (default: the machine's cores), N processes project a part of the claims each and
    this one writes their rows: the same rows as one process.
    """
    if model is not None and model not in VERSIONS:
        fail(EXIT_BAD_INPUT, f"--model: {model!r} is not one of {', '.join(VERSIONS)}")
    with open_ledger(ctx, existing=True) as ledger:
        projector = ledger.projector
        if projector is None:
            fail(EXIT_FAILED, "this store has no projection to rebuild (its lists replay)")
        projector.follow_served()
        served = projector.model.name
        beside = model is not None and model != served
        if beside and resume:
            assert model is not None
            position = projector.view.beside(model, fresh=False).position()
        else:
            position = projector.view.position() if resume else 0
        total = projector.head() - position
        started = time.perf_counter()
        with Progress(
            TextColumn("projecting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            transient=True,
            console=None,
        ) as bar:
            task = bar.add_task("rebuild", total=total, rate="")
            projected = 0

            def advance(count: int) -> None:
                nonlocal projected
                projected += count
                spent = time.perf_counter() - started
                rate = f"{projected / spent:,.0f} events/s" if spent > 0 else ""
                bar.update(task, advance=count, rate=rate)

            try:
                done = projector.rebuild(
                    progress=advance, hold=hold, resume=resume, model=model,
                    jobs=jobs or os.cpu_count() or 1,
                )
            except RuntimeError as error:
                fail(EXIT_FAILED, str(error))
        seconds = time.perf_counter() - started
        rate = done / seconds if seconds > 0 else 0.0
        processes = projector.rebuilt_in
        say(
            f"rebuilt the credibility projection: {done} events in {seconds:.1f} s "
            f"({rate:,.0f} events/s"
            + (f", {processes} processes)" if processes > 1 else ")")
        )
        if beside:
            say(f"serving {model} from its projection now (was {served}; its tables dropped)")
