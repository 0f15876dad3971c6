"""``models``: the credibility model versions, and the claims two of them judge differently.

``claims-ledger models`` (or ``models list``) lists the versions; ``models diff FROM TO``
lists the claims whose band, status or probability differ between two versions at one
(--as-of, --known-at), with the contributions that explain it. Each calls the ledger
method the HTTP route calls (``GET /models``, ``GET /models/diff``), so ``--json`` prints
the same answer (the diff: every page, at the times of the first).
"""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.models import VERSIONS, listing
from ledger.reads import DIFFERENCE
from ledger_cli import render
from ledger_cli.session import instant, open_ledger
from ledger_cli.usage import Command
from ledger_cli.views import AsJson, AsOf, KnownAt, _show

app = typer.Typer(
    help="The credibility model versions (list), and the claims two judge differently (diff).",
    invoke_without_command=True,
    no_args_is_help=False,
)

_PAGE = 1000
Version = Annotated[
    str, typer.Argument(metavar="VERSION", help=f"A model version: {', '.join(VERSIONS)}.")
]


@app.callback()
def models(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The credibility model versions: name, description, and which is the default."""
    if ctx.invoked_subcommand is None:
        _list(as_json)


@app.command("list")
def list_models(as_json: AsJson = False) -> None:
    """The credibility model versions: name, description, and which is the default."""
    _list(as_json)


def _list(as_json: bool) -> None:
    _show(listing(), as_json, render.models)


@app.command(cls=Command)
def diff(
    ctx: typer.Context,
    from_model: Version,
    to_model: Version,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    min_difference: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Also list a claim whose band and status agree when its probabilities"
            " differ by at least this much.",
        ),
    ] = DIFFERENCE,
    as_json: AsJson = False,
) -> None:
    """The claims two model versions judge differently, and the contributions why.

    A claim is listed when its band or status differs, or its probability by at least
    --min-difference; each with both answers and every event whose weight in the pool or
    reason differs.
    """
    with open_ledger(ctx, existing=True) as ledger:
        view = ledger.models_diff(
            from_model,
            to_model,
            as_of=instant("--as-of", as_of),
            known_at=instant("--known-at", known_at),
            min_difference=min_difference,
            limit=_PAGE,
        )
        fixed = {
            "as_of": instant("as_of", view["as_of"]),
            "known_at": instant("known_at", view["known_at"]),
        }
        while view["next_cursor"] is not None:
            page = ledger.models_diff(
                from_model,
                to_model,
                min_difference=min_difference,
                limit=_PAGE,
                cursor=view["next_cursor"],
                **fixed,
            )
            view["data"] += page["data"]
            view["next_cursor"] = page["next_cursor"]
    _show(view, as_json, render.models_diff)
