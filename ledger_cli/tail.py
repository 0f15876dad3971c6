"""``claims-ledger tail``: the global log from a position, filtered, and with ``--follow``
every event stored after it, as ``GET /events/stream`` sends them (``ledger.live``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ledger.live import LOG_TYPES, LogFilter, follow_log
from ledger_cli.session import open_ledger

EXIT_INTERRUPTED = 130  # as tail -f and shells report an interrupt


def _line(record: dict[str, Any]) -> str:
    said = (record.get("quote") or record.get("summary") or record.get("likelihood_phrase")
            or record.get("outcome") or record.get("text") or record.get("name") or "")
    return "  ".join([
        f"{record['position']:>7}", record["recorded_at"], f"{record['type']:<17}",
        f"{record.get('claim_id') or '-':<24}", f"{record.get('source') or '-':<16}",
        str(said),
    ]).rstrip()


def _known_type(value: str | None) -> str | None:
    if value is not None and value not in LOG_TYPES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(LOG_TYPES)}")
    return value


def tail(
    ctx: typer.Context,
    claim: Annotated[str | None, typer.Option(metavar="ID", help="Only this claim's events.")
                     ] = None,
    source: Annotated[str | None, typer.Option(metavar="ID", help="Only this source's events.")
                      ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--type", metavar="TYPE", callback=_known_type,
                     help=f"Only events of this type: {', '.join(LOG_TYPES)}."),
    ] = None,
    after: Annotated[int, typer.Option(min=0, metavar="POSITION",
                                       help="Start after this position (0: the start).")] = 0,
    follow: Annotated[bool, typer.Option("--follow", "-f",
                                         help="Keep printing events as they are stored.")
                      ] = False,
    poll: Annotated[float, typer.Option(min=0.05, max=60, metavar="SECONDS",
                                        help="With --follow: how often to read the log.")
                    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON record a line (NDJSON).")
                       ] = False,
) -> None:
    """Print the global log (one event a line), from --after; --follow keeps following it.

    The records are those of GET /events and GET /events/stream; each line starts with the
    event's position, so `--after POSITION` resumes where an interrupted tail stopped.
    """
    wanted = LogFilter(claim=claim, source=source, type=kind)
    with open_ledger(ctx, existing=True) as ledger:
        try:
            for record in follow_log(ledger, after, wanted, follow=follow, poll=poll):
                typer.echo(json.dumps(record, ensure_ascii=False) if as_json else _line(record))
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_INTERRUPTED) from None
