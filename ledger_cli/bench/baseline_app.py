"""The HTTP baseline: a trivial FastAPI ``POST`` under the same uvicorn settings as the API.

The ledger's API has no trivial POST route, so the benchmark starts this app in a process of
its own with the flags ``claims-ledger serve`` uses (``--loop uvloop --http httptools``, no
access log) and sends it the same body as an append: what is left of the gap is the
ledger's own work, not the framework's. The route is ``async def`` (a ``def`` route would
pay for the thread pool) and validates the body with a small pydantic model, as the
framework does for an append, answering 201 with the body echoed.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

app = FastAPI(title="bench baseline", openapi_url=None, docs_url=None, redoc_url=None)


class Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    source: str | None = None
    occurred_at: str | None = None
    quote: str | None = None


@app.post("/echo", status_code=201)
async def echo(body: Event) -> Event:
    return body


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}
