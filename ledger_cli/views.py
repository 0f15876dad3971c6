"""The read commands: one claim, its audit trail and timeline, lists, replay, verify.

Each calls the ledger method the matching HTTP route calls, so the answers are the same;
``--json`` prints that method's dict as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.application import ClaimsLedger
from ledger.checkpoints import Checkpoint, signer_for, trusted_key_id, verify_against
from ledger.config import Settings
from ledger.errors import InvalidInput
from ledger.integrity import failed_part
from ledger.models import DEFAULT, VERSIONS
from ledger.statements import Statement, Status, with_corrections
from ledger_cli import render
from ledger_cli.session import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    fail,
    instant,
    load_settings,
    open_ledger,
    print_json,
    say,
)

JSON = dict[str, Any]


_PAGE = 1000

Claim = Annotated[str, typer.Argument(metavar="CLAIM", help="The claim's id.")]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="TIME",
        help="Valid time: count what was said by then. RFC 3339 with a zone, or a date "
        "(the end of that day, UTC). (default: now)",
    ),
]
KnownAt = Annotated[
    str | None,
    typer.Option(
        "--known-at",
        metavar="TIME",
        help="Transaction time: as the ledger knew it then. RFC 3339 or a date. (default: now)",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the ledger's JSON answer.")]
Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        metavar="VERSION",
        help=f"The credibility model version ({', '.join(VERSIONS)}; see `claims-ledger"
        f" models`). (default: {DEFAULT})",
        show_default=False,
    ),
]


def _show(data: JSON, as_json: bool, table: Callable[[JSON], None]) -> None:
    if as_json:
        print_json(data)
    else:
        table(data)


def show(
    ctx: typer.Context,
    claim: Claim,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    as_json: AsJson = False,
    model: Model = None,
) -> None:
    """One claim's credibility and what moved it (and what backs each statement)."""
    with open_ledger(ctx, existing=True) as ledger:
        view = ledger.claim(
            claim,
            as_of=instant("--as-of", as_of),
            known_at=instant("--known-at", known_at),
            model=model,
        )
        evidence = {} if as_json else _evidence(ledger, view)
    _show(view, as_json, lambda data: render.claim(data, evidence))


def _evidence(ledger: ClaimsLedger, view: JSON) -> dict[str, str]:
    """Each statement's evidence kind, as corrected, at the view's (as_of, known_at)."""
    times = {name: instant(name, view[name]) for name in ("as_of", "known_at")}
    events, cursor = [], None
    while True:
        page = ledger.claim_events(view["id"], limit=_PAGE, cursor=cursor, **times)
        events += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    said = with_corrections(Statement.from_payload(event) for event in events)
    return {s.event_id: s.evidence for s in said if s.evidence is not None}


def audit(
    ctx: typer.Context,
    claim: Claim,
    as_of: AsOf = None,
    since: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="Only events recorded from then on (a date: its start)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="Only events recorded by then (a date: its end)."),
    ] = None,
    source: Annotated[
        str | None, typer.Option(metavar="SOURCE", help="Only events by this source.")
    ] = None,
    known_at: KnownAt = None,
    as_json: AsJson = False,
    model: Model = None,
) -> None:
    """Every change of a claim's credibility and its cause.

    Entries are in recording order; before/after are the credibility at --as-of as the
    ledger knew it just before and just after each event was recorded. With --known-at,
    the trail as it stood then.
    """
    filters: dict[str, Any] = {
        "since": instant("--since", since, bare_date="start"),
        "until": instant("--until", until),
        "source": source,
        "model": model,
    }
    with open_ledger(ctx, existing=True) as ledger:
        view = ledger.audit(
            claim,
            as_of=instant("--as-of", as_of),
            known_at=instant("--known-at", known_at),
            limit=_PAGE,
            **filters,
        )
        # Every page, at the (as_of, known_at) the first one was answered for.
        fixed_as_of = instant("as_of", view["as_of"])
        fixed_known_at = instant("known_at", view["known_at"])
        while view["next_cursor"] is not None:
            page = ledger.audit(
                claim,
                as_of=fixed_as_of,
                known_at=fixed_known_at,
                limit=_PAGE,
                cursor=view["next_cursor"],
                **filters,
            )
            view["entries"] += page["entries"]
            view["next_cursor"] = page["next_cursor"]
    del view["next_cursor"]  # the whole trail: the ledger's answer without a limit
    _show(view, as_json, render.audit)


def timeline(
    ctx: typer.Context,
    claim: Claim,
    known_at: KnownAt = None,
    as_json: AsJson = False,
    model: Model = None,
) -> None:
    """A claim's credibility over valid time (a step function)."""
    with open_ledger(ctx, existing=True) as ledger:
        view = ledger.timeline(claim, known_at=instant("--known-at", known_at), model=model)
    _show(view, as_json, render.timeline)


def claims(
    ctx: typer.Context,
    status: Annotated[Status | None, typer.Option(help="Only claims with this status.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only claims with this tag.")] = None,
    query: Annotated[
        str | None,
        typer.Option(
            "--query", "--text", metavar="WORDS", help="Only claims whose text contains WORDS."
        ),
    ] = None,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    as_json: AsJson = False,
    old_query: Annotated[
        str | None,
        typer.Option("--q", metavar="WORDS", hidden=True, help="The former name of --query."),
    ] = None,
    model: Model = None,
) -> None:
    """Every claim and its credibility, filtered."""
    q = query if query is not None else old_query
    with open_ledger(ctx, existing=True) as ledger:
        view = _all_claims(
            ledger, as_of, known_at, status=status and status.value, tag=tag, q=q, model=model
        )
    _show(view, as_json, render.claims)


def replay(
    ctx: typer.Context,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    as_json: AsJson = False,
    model: Model = None,
) -> None:
    """Every claim's credibility at a moment of both times.

    The picture of the whole ledger at --as-of (valid time), as it was known at --known-at
    (transaction time): "what did we believe on 2024-10-15, as we knew it on 2026-01-01".
    With --model, in that model version (another than the default replays every claim).
    """
    with open_ledger(ctx, existing=True) as ledger:
        view = _all_claims(ledger, as_of, known_at, model=model)
    _show(view, as_json, render.replay)


def _all_claims(
    ledger: ClaimsLedger, as_of: str | None, known_at: str | None, **filters: Any
) -> JSON:
    """Every page of ``list_claims``, at one (as_of, known_at) fixed by the first page."""
    view = ledger.list_claims(
        as_of=instant("--as-of", as_of),
        known_at=instant("--known-at", known_at),
        limit=_PAGE,
        **filters,
    )
    fixed_as_of = instant("as_of", view["as_of"])
    fixed_known_at = instant("known_at", view["known_at"])
    while view["next_cursor"] is not None:
        page = ledger.list_claims(
            as_of=fixed_as_of,
            known_at=fixed_known_at,
            limit=_PAGE,
            cursor=view["next_cursor"],
            **filters,
        )
        view["data"] += page["data"]
        view["next_cursor"] = page["next_cursor"]
    return view


def sources(
    ctx: typer.Context, as_of: AsOf = None, known_at: KnownAt = None, as_json: AsJson = False
) -> None:
    """Every source and its Admiralty reliability at --as-of."""
    with open_ledger(ctx, existing=True) as ledger:
        view = ledger.list_sources(
            known_at=instant("--known-at", known_at), as_of=instant("--as-of", as_of), limit=_PAGE
        )
        moment = instant("known_at", view["known_at"])
        valid = instant("as_of", view["as_of"])
        while view["next_cursor"] is not None:
            page = ledger.list_sources(
                known_at=moment, as_of=valid, limit=_PAGE, cursor=view["next_cursor"]
            )
            view["data"] += page["data"]
            view["next_cursor"] = page["next_cursor"]
    _show(view, as_json, render.sources)


def verify(
    ctx: typer.Context,
    as_json: AsJson = False,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            metavar="FILE",
            help="Also prove the log extends this checkpoint (JSON from `claims-ledger "
            "checkpoint` or GET /checkpoints/latest, kept elsewhere): its signature is valid, "
            "the log reaches its position and has its chain hash there.",
        ),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            metavar="KEY",
            help="With --against: the key the checkpoint must be signed by, as its key id "
            "(SHA256:...) or public key (PEM, 32 bytes in hex or base64, or file:PATH). "
            "(default: the configured signing key's; else the checkpoint's own, named)",
        ),
    ] = None,
) -> None:
    """Check the log's hash chain, the streams table and snapshots; name the first bad position.

    Recomputes the SHA-256 chain over every stored event (any byte changed behind the
    service's back breaks it), checks that each claim's and source's row of the streams
    table matches its first event, and that each snapshot equals what its events rebuild.
    With --against, also that the log extends a signed checkpoint: a log cut short, rewritten
    or replaced and hashed again (a fork) fails, named. Exits 1 if anything is wrong.
    """
    settings = load_settings(ctx)
    checkpoint, trusted = None, set()
    if against is not None:
        checkpoint = _read_checkpoint(against)
        trusted = _trusted_keys(settings, public_key)
    elif public_key is not None:
        fail(EXIT_BAD_INPUT, "--public-key: only with --against FILE")
    with open_ledger(ctx, existing=True) as ledger:
        if checkpoint is None:
            result = ledger.verify()
        else:
            result = verify_against(ledger.store, checkpoint, trusted)
    if as_json:
        print_json(result)
    elif result["first_bad_position"] is None:
        typer.echo(f"ok: {result['checked']} events checked, chain head {result['head']}")
    if checkpoint is not None:
        _report_checkpoint(result["checkpoint"], trusted, quiet=as_json)
    part = failed_part(result) if result["first_bad_position"] is not None else None
    if part == "log":
        say(
            f"error: the log is broken at position {result['first_bad_position']}: "
            f"{result['reason']} ({result['checked']} events before it are intact)"
        )
    elif part is not None:
        say(
            f"error: verify failed at position {result['first_bad_position']}: "
            f"{result['reason']} (the hash chain of {result['checked']} events is intact)"
        )
    if not result["ok"]:
        raise typer.Exit(EXIT_FAILED)


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        fail(EXIT_BAD_INPUT, f"--against: cannot read {path}: {error.strerror or error}")
    except (UnicodeDecodeError, ValueError) as error:
        fail(EXIT_BAD_INPUT, f"--against: {path} is not a JSON checkpoint ({error})")
    try:
        return Checkpoint.from_json(data)
    except InvalidInput as error:
        fail(EXIT_BAD_INPUT, f"--against: {path} is not a checkpoint: {error.detail}")


def _trusted_keys(settings: Settings, public_key: str | None) -> set[str]:
    """The key ids a checkpoint may be signed by: --public-key's, else the configured
    signing key's, else none (the checkpoint's own key is then taken, and named)."""
    if public_key is not None:
        try:
            return {trusted_key_id(public_key)}
        except ValueError as error:
            fail(EXIT_BAD_INPUT, f"--public-key: {error}")
    signer = signer_for(settings)
    return {signer.key_id} if signer is not None else set()


def _report_checkpoint(found: JSON, trusted: set[str], quiet: bool) -> None:
    where = f"the checkpoint at position {found['position']} (signed at {found['signed_at']})"
    if not found["extended"]:
        say(f"error: the log does not extend {where}: {found['problem']}: {found['reason']}")
        return
    if not quiet:
        typer.echo(f"ok: the log extends {where}, signed by key {found['key_id']}")
    if not trusted:
        say(
            f"note: the signature was checked with the checkpoint's own key {found['key_id']}; "
            "make sure it is the ledger's (or pass --public-key)"
        )
