"""Operations: integrity check, liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from api.deps import LedgerDep, MetricsDep, SettingsDep, authorize
from api.metrics import CONTENT_TYPE_LATEST
from api.openapi_docs import problems
from api.schemas import Health, Readiness, VerifyResult

router = APIRouter(tags=["operations"])
PROMETHEUS_TEXT: dict[int | str, dict[str, Any]] = {
    200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
          "description": "Prometheus text exposition format"},
}


@router.get("/verify", response_model=VerifyResult, dependencies=[Depends(authorize)],
            responses=problems(401, 403, 503))
def verify(ledger: LedgerDep) -> dict[str, Any]:
    """Check the hash chain, the streams table and snapshots; name the first bad position."""
    return ledger.verify()


@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    """Liveness: the process answers (no store access)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses=problems(503))
def readyz(ledger: LedgerDep, settings: SettingsDep) -> dict[str, str]:
    """Readiness: the event store answers a query (503 when it cannot be reached)."""
    ledger.ping()
    return {"status": "ready", "store": settings.backend}


@router.get("/metrics", response_class=Response, dependencies=[Depends(authorize)],
            responses=problems(401, 403) | PROMETHEUS_TEXT)
async def metrics(metrics: MetricsDep) -> Response:
    """Prometheus metrics: requests and latency by route and status, events appended."""
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
