"""``claims-ledger checkpoint``: sign the log's head and print the checkpoint as JSON;
``claims-ledger keygen``: make the signing key.

Keep what it prints where the store's writers cannot change it; ``claims-ledger verify
--against FILE`` proves later that the log still extends it (``ledger.checkpoints``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoints import (
    SIGNING_NOT_CONFIGURED,
    CheckpointRefused,
    Checkpoints,
    Signer,
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
    say,
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


def keygen(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Where to write the private key (PEM).")
    ],
) -> None:
    """Make an Ed25519 signing key: write the private key to FILE (PEM, PKCS#8, readable
    by its owner only) and print its public half (PEM) on stdout, its key id on stderr.

    Never overwrites a file. Then: export CLAIMS_LEDGER_SIGNING_KEY=file:FILE.
    """
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        # Made 0600 from the first byte: never a moment when others could read it.
        handle = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fail(EXIT_BAD_INPUT, f"{file} exists; a signing key is never overwritten")
    except OSError as error:
        fail(EXIT_BAD_INPUT, f"cannot write {file}: {error.strerror or error}")
    with os.fdopen(handle, "wb") as out:
        out.write(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    typer.echo(public.decode(), nl=False)
    say(f"wrote the private key to {file} (key id {Signer(key).key_id}); give the public "
        f"key above to whoever keeps checkpoints; export CLAIMS_LEDGER_SIGNING_KEY=file:"
        f"{file.resolve()}")
