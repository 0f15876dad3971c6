"""``claims-ledger draft``: proposed statements from an article, as ``POST /drafts`` answers.

Nothing is written. The proposals are matched against the sources the store knows; the
table shows who, what type, the likelihood words, when (and how that date was read) and
the quoted words; ``--json`` prints the answer itself, whose ``event`` bodies can be
appended with ``claims-ledger load`` or ``POST /events/batch`` once accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ledger.answers import JSON
from ledger.drafts import draft_article
from ledger_cli.session import EXIT_BAD_INPUT, fail, open_ledger, print_json


def draft(
    ctx: typer.Context,
    article: Annotated[
        Path, typer.Argument(metavar="ARTICLE", help="The article's text, a UTF-8 file.")
    ],
    date: Annotated[
        str, typer.Option("--date", metavar="DATE",
                          help="The article's publication date (YYYY-MM-DD, or an RFC 3339 "
                          "time); relative dates in the text are read from it.")
    ],
    claim: Annotated[
        str | None, typer.Option("--claim", metavar="ID",
                                 help="The claim the statements are about (must exist).")
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", metavar="URL", help="The article's URL.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON answer.")] = False,
) -> None:
    """Propose statements from an article's text and date (nothing is written)."""
    try:
        text = article.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(EXIT_BAD_INPUT, f"cannot read {article}: {error}")
    with open_ledger(ctx, existing=True) as ledger:
        answer = draft_article(ledger, text, date, claim, reference)
    if as_json:
        print_json(answer)
    else:
        show(answer)


def show(answer: JSON) -> None:
    """A table of who, what and when; then each proposal's words and why it was proposed."""
    console = Console(highlight=False)
    table = Table(title=f"{answer['count']} proposed statements, article of {answer['date']}"
                  + (f", claim {answer['claim_id']}" if answer["claim_id"] else "")
                  + " (nothing written)")
    table.add_column("#", no_wrap=True)
    table.add_column("source", overflow="fold")  # an id: folded, not cut
    table.add_column("type", no_wrap=True)
    table.add_column("likelihood")
    table.add_column("when")
    for number, p in enumerate(answer["proposals"], start=1):
        source = p["source"] + (" (new)" if p["new_source"] else "")
        likelihood = p["likelihood_term"] or ""
        if p["likelihood_phrase"] and p["likelihood_phrase"] != likelihood:
            likelihood += f" ({p['likelihood_phrase']!r})"
        when = p["occurred_at"] + ("" if p["date_precision"] == "day"
                                   else f" ({p['date_precision']})")
        when += "" if p["dated"] else " (article date)"
        table.add_row(str(number), escape(source), p["type"], escape(likelihood), when)
    console.print(table)
    for number, p in enumerate(answer["proposals"], start=1):
        console.print(f"{number}. \u201c{escape(p['quote'])}\u201d\n   [dim]{escape(p['reason'])}; "
                      f"date: {escape(p['date_basis'])}[/dim]")
    for new in answer["new_sources"]:
        typer.echo(f"new source to register first: {new['id']} ({new['name']})", err=True)
