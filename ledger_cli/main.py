"""The ``claims-ledger`` Typer application: global options and the list of commands."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from typing import Annotated

import typer

from ledger.bootstrap import DISTRIBUTION
from ledger_cli import (
    bench,
    checkpoints,
    draft,
    models,
    rebuild,
    serve,
    tail,
    transfer,
    views,
    watches,
)
from ledger_cli.evaluate import evaluate
from ledger_cli.session import EXIT_CODES_HELP, Options
from ledger_cli.usage import Command, Group

app = typer.Typer(
    name="claims-ledger",
    cls=Group,
    help="An event-sourced, bitemporal ledger of claims, statements and assessments, "
    "with explainable credibility.\n\n"
    "Start with: claims-ledger serve --demo, then open http://127.0.0.1:8000/docs",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold a database password
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version() -> str:
    try:
        return installed_version(DISTRIBUTION)
    except PackageNotFoundError:  # a bare checkout, not installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"claims-ledger {_version()}")
        raise typer.Exit()


@app.callback()
def options(
    ctx: typer.Context,
    store: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="The event store: memory, sqlite:///PATH or postgresql://USER@HOST/DB "
            "(default: $CLAIMS_LEDGER_STORE, else an SQLite file in ~/.local/share)",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Settings come from CLAIMS_LEDGER_* variables (or .env); --store overrides the store."""
    ctx.obj = Options(store=store)


SERVE, READ, DATA = "Service", "Read", "Data and integrity"
app.command(rich_help_panel=SERVE, cls=Command)(serve.serve)
app.command(rich_help_panel=READ, cls=Command)(views.show)
app.command(rich_help_panel=READ, cls=Command)(views.audit)
app.command(rich_help_panel=READ, cls=Command)(views.timeline)
app.command(rich_help_panel=READ, cls=Command)(views.claims)
app.command(rich_help_panel=READ, cls=Command)(views.sources)
app.command(rich_help_panel=READ, cls=Command)(views.replay)
app.command(rich_help_panel=READ, cls=Command)(tail.tail)
app.command(rich_help_panel=DATA, cls=Command)(transfer.load)
app.command(rich_help_panel=DATA, cls=Command)(draft.draft)
app.command(rich_help_panel=DATA, cls=Command)(transfer.export)
app.command(rich_help_panel=DATA, cls=Command)(views.verify)
app.command(rich_help_panel=DATA, cls=Command)(checkpoints.checkpoint)
app.command(rich_help_panel=DATA, cls=Command)(checkpoints.keygen)
app.command(rich_help_panel=DATA, cls=Command)(rebuild.rebuild)
app.command(rich_help_panel=DATA, cls=Command)(evaluate)
app.add_typer(models.app, name="models", rich_help_panel=READ)
app.add_typer(watches.app, name="watches", rich_help_panel=READ)
app.add_typer(bench.app, name="bench", rich_help_panel=SERVE)


def main() -> None:
    """The console script's entry point."""
    app()
