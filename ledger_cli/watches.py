"""``watches``: set, list, pause, resume and delete watches, and read their deliveries.

Each calls the use case the HTTP routes call (``ledger.watchdesk``), on the store the
options name; a running server delivers what the watches owe (its dispatcher).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ledger.watchdesk import Watches
from ledger_cli.session import load_settings, open_ledger, print_json
from ledger_cli.transfer import _default_actor
from ledger_cli.usage import Command

app = typer.Typer(help="Watches on claims: add, list, pause, resume, delete, deliveries.",
                  no_args_is_help=True)

WatchId = Annotated[str, typer.Argument(metavar="WATCH", help="The watch's id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the ledger's JSON answer.")]
Actor = Annotated[str | None, typer.Option(metavar="NAME", help="Who does it "
                                           "(default: cli:$USER).", show_default=False)]


def _line(watch: dict[str, Any]) -> str:
    return "  ".join([watch["id"], f"{watch['status']:<7}", json.dumps(watch["condition"]),
                      json.dumps(watch["scope"]), watch["url"] or "-"])


@app.command("add", cls=Command)
def add(
    ctx: typer.Context,
    condition: Annotated[str, typer.Option(
        metavar="JSON", help='When it fires, e.g. \'{"kind": "band", "band": "almost '
        'certain"}\' (kinds: band, threshold, move, new_source, resolved)')],
    scope: Annotated[str, typer.Option(
        metavar="JSON", help='Which claims: \'{"claim": "ID"}\', or a filter '
        '\'{"tag": ..., "party": ..., "text": ...}\'')],
    url: Annotated[str | None, typer.Option(metavar="URL", help="The webhook to POST to.")
                   ] = None,
    secret: Annotated[str | None, typer.Option(
        metavar="SECRET", help="The signatures' key (default: made, and printed once).")] = None,
    actor: Actor = None,
    as_json: AsJson = False,
) -> None:
    """Set a watch; it fires on events stored after now."""
    body: dict[str, Any] = {"condition": _json("--condition", condition),
                            "scope": _json("--scope", scope)}
    body.update({k: v for k, v in (("url", url), ("secret", secret)) if v is not None})
    allow_private = load_settings(ctx).webhook_allow_private
    with open_ledger(ctx, existing=True) as ledger:
        made = Watches(ledger, allow_private=allow_private).create(body, actor or _default_actor())
    if as_json:
        print_json(made)
    else:
        typer.echo(_line(made))
        typer.echo(f"secret (shown once): {made['secret']}")


def _json(option: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"is not JSON: {error}", param_hint=option) from None


@app.command("list", cls=Command)
def list_watches(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Every watch not deleted: id, status, condition, scope, webhook."""
    with open_ledger(ctx, existing=True) as ledger:
        listed = Watches(ledger).list_watches()
    if as_json:
        print_json(listed)
    for watch in [] if as_json else listed["data"]:
        typer.echo(_line(watch))


def _status(ctx: typer.Context, watch_id: str, status: str, actor: str | None,
            as_json: bool) -> None:
    with open_ledger(ctx, existing=True) as ledger:
        changed = Watches(ledger).set_status(watch_id, status, actor or _default_actor())
    print_json(changed) if as_json else typer.echo(_line(changed))


@app.command("pause", cls=Command)
def pause(ctx: typer.Context, watch_id: WatchId, actor: Actor = None, as_json: AsJson = False
          ) -> None:
    """Pause a watch: it owes nothing for what is stored while it is paused."""
    _status(ctx, watch_id, "paused", actor, as_json)


@app.command("resume", cls=Command)
def resume(ctx: typer.Context, watch_id: WatchId, actor: Actor = None, as_json: AsJson = False
           ) -> None:
    """Resume a paused watch."""
    _status(ctx, watch_id, "active", actor, as_json)


@app.command("delete", cls=Command)
def delete(ctx: typer.Context, watch_id: WatchId, actor: Actor = None, as_json: AsJson = False
           ) -> None:
    """Delete a watch: it fires no more (its history stays stored)."""
    _status(ctx, watch_id, "deleted", actor, as_json)


@app.command("deliveries", cls=Command)
def deliveries(ctx: typer.Context, watch_id: WatchId, as_json: AsJson = False) -> None:
    """The notifications a watch owes or made: position, status, attempts, last error."""
    with open_ledger(ctx, existing=True) as ledger:
        owed = Watches(ledger).deliveries(watch_id)
    if as_json:
        print_json(owed)
    for d in [] if as_json else owed["data"]:
        typer.echo("  ".join([d["delivery_id"], f"{d['position']:>7}", f"{d['status']:<11}",
                              f"attempts {d['attempts']}", d["last_error"] or ""]).rstrip())
