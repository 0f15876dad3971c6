"""``claims-ledger checkpoint``: sign the log's head and print the checkpoint as JSON.

Keep what it prints where the store's writers cannot change it; ``claims-ledger verify
--against FILE`` proves later that the log still extends it (``ledger.checkpoints``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.checkpoints import (
    SIGNING_NOT_CONFIGURED,
    CheckpointRefused,
    Checkpoints,
    signer_for,
)
from ledger_cli.session import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    fail,
    load_settings,
    open_ledger,
    print_json,
)


def checkpoint(
    ctx: typer.Context,
    latest: Annotated[
        bool,
        typer.Option(
            "--latest", help="Print the latest checkpoint signed before instead of signing one."
        ),
    ] = False,
) -> None:
    """Sign a checkpoint of the log's head (position, chain hash, time) and print it as JSON.

    Recomputes the hash chain first (from the last checkpoint this key signed) and signs
    nothing if it is broken (exit 1). Needs CLAIMS_LEDGER_SIGNING_KEY. Keep the output
    elsewhere; `claims-ledger verify --against FILE` proves the log still extends it.
    """
    signer = signer_for(load_settings(ctx))
    if signer is None and not latest:
        fail(EXIT_BAD_INPUT, SIGNING_NOT_CONFIGURED)
    with open_ledger(ctx, existing=True) as ledger:
        checkpoints = Checkpoints(ledger.store, signer)
        if latest:
            found = checkpoints.latest()
            if found is None:
                fail(EXIT_NOT_FOUND, "no checkpoint has been signed yet: run `claims-ledger "
                     "checkpoint` (or POST /checkpoints)")
        else:
            try:
                found = checkpoints.sign()
            except CheckpointRefused as error:
                fail(EXIT_FAILED, error.detail)
    print_json(found.to_json())
