"""Signed checkpoints of the log: the latest kept, and a new one signed (``ledger.checkpoints``).

Signing needs ``CLAIMS_LEDGER_SIGNING_KEY``; without it ``POST /checkpoints`` answers 501
saying so, and ``GET /checkpoints/latest`` serves a checkpoint signed before, if any.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from api.deps import AuthenticatedRoute, LedgerDep, SettingsDep, caller
from api.middleware import request_id_of
from api.openapi_docs import problems
from api.problems import problem_response
from api.schemas import SignedCheckpoint
from ledger.checkpoints import (
    SIGNING_NOT_CONFIGURED,
    CheckpointNotFound,
    Checkpoints,
    SigningNotConfigured,
    signer_for,
)

router = APIRouter(
    prefix="/checkpoints", tags=["operations"], dependencies=[Depends(caller)],
    route_class=AuthenticatedRoute,
)
NOT_CONFIGURED = problems(501, descriptions={501: "signing is not configured on this service"})
REFUSED = problems(409, examples={409: ("checkpoint-refused",)}, descriptions={
    409: "the log is broken, or no longer extends the checkpoint this key signed last: "
         "nothing was signed"})


@router.get("/latest", response_model=SignedCheckpoint,
            responses=problems(401, 403, 503) | problems(404, missing=("checkpoint",)))
def latest_checkpoint(ledger: LedgerDep, settings: SettingsDep) -> dict[str, Any]:
    """The latest checkpoint signed here (position, chain head, time), with its public key."""
    signer = signer_for(settings)
    found = Checkpoints(ledger.store, signer).latest()
    if found is None:
        how = ("POST /checkpoints (writer role) signs one" if signer is not None
               else SIGNING_NOT_CONFIGURED)
        raise CheckpointNotFound(f"no checkpoint has been signed yet; {how}")
    return found.to_json()


@router.post("", status_code=201, response_model=SignedCheckpoint,
             responses=problems(401, 403, 503) | REFUSED | NOT_CONFIGURED)
def sign_checkpoint(request: Request, ledger: LedgerDep, settings: SettingsDep) -> Any:
    """Recompute the chain to the log's head and sign it (writer role); keep the answer."""
    try:
        return Checkpoints(ledger.store, signer_for(settings)).sign().to_json()
    except SigningNotConfigured as error:
        return problem_response(
            501, error.title, error.detail, instance=request.url.path,
            request_id=request_id_of(request.scope),
        )
