"""The HTTP face of the ledger: ``create_app`` builds a FastAPI app over a ``ClaimsLedger``.

Nothing happens at import. ``create_app(settings, ledger)`` wires one app; given no ledger,
the app opens one from ``settings`` when it starts and closes it when it stops (so
``uvicorn --factory api.main:create_app`` serves the store ``CLAIMS_LEDGER_STORE`` names).
``create_served_app`` is the factory of ``claims-ledger serve``'s processes, whose
projector runs in a process of its own.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from api import errors, examples
from api.access import KeyRing, parse_api_keys
from api.bodies import BatchEventCreate
from api.logs import configure_logging
from api.metrics import Metrics
from api.middleware import BodyLimit, HeadAsGet, RequestContext
from api.problems import MEDIA_TYPE
from api.query import query_checks
from api.routes import (
    checkpoints,
    claimreview,
    claims,
    drafts,
    events,
    history,
    models,
    reference,
    sources,
    stix,
    stream,
    system,
    taxii,
    ui,
    watches,
)
from api.turns import Turns
from ledger.application import ClaimsLedger
from ledger.bootstrap import DISTRIBUTION, open_ledger
from ledger.checkpointing import CheckpointSchedule
from ledger.checkpoints import signer_for
from ledger.config import Settings
from ledger.interop.taxii import COLLECTION_ID
from ledger.live import Changes, LogHub
from ledger.locks import StoreLock
from ledger.watchdesk import Watches
from ledger.webhooks import Dispatcher, Policy

DESCRIPTION = """\
An event-sourced, bitemporal ledger of claims and of everything said about them.

Every fact is an immutable event with two times: `occurred_at` (when it was said, given by
the client) and `recorded_at` (when the ledger stored it). Reads take `as_of` (valid time)
and `known_at` (recording time), both defaulting to now, and state the values they used.
Errors are RFC 9457 `application/problem+json`; each `type` is a page of this server
(`/problems/<slug>`) that says what the problem means and what to do. Writes take an
`Idempotency-Key`; appends take `If-Match` with the claim's ETag and answer `Location`, the
event's URL.

Every list pages the same way: `limit` (default 100, at most 1000) and `cursor` in the
query; `next_cursor` in the answer (null on the last page) and, while there is more, a
`Link: <...>; rel="next"` header. The timeline's chart has its own URL,
`/claims/{claim_id}/timeline.svg`.
"""


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def checkpoint_schedule(settings: Settings, ledger: ClaimsLedger) -> CheckpointSchedule | None:
    """Checkpoints signed by the server itself, when a key is configured (docs/trust.md)."""
    signer = signer_for(settings)
    if signer is None or not settings.checkpoint_every:
        return None
    return CheckpointSchedule(
        ledger.store, signer, settings.checkpoint_every, settings.checkpoint_dir,
        lock=StoreLock(ledger.store, "checkpoints"),  # one schedule per store
    )


def create_served_app() -> FastAPI:
    """The app of a server process that ``claims-ledger serve`` started: its settings from
    the environment, and no projector thread (``serve`` runs the projector in a process of
    its own, ``ledger_cli.projecting``)."""
    return create_app(follow_log=False)


def create_app(
    settings: Settings | None = None,
    ledger: ClaimsLedger | None = None,
    *,
    follow_log: bool = True,
) -> FastAPI:
    """An app over ``ledger`` (or, from start to stop, one opened from ``settings``).

    ``follow_log``: while serving, follow the log into the credibility projection in a
    thread of this process (if no other process does: one projector per store). Without
    it, lists wait for the process that does, or bring the projection up to date
    themselves when none does.
    """
    settings = settings or Settings()
    keys = KeyRing(parse_api_keys(settings.api_keys))
    logger = configure_logging(settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = None
        if app.state.ledger is None:
            opened = app.state.ledger = await run_in_threadpool(open_ledger, settings)
        _announce(logger, settings, keys)
        app.state.changes = Changes(app.state.ledger.store)  # wakes the streams, the watches
        # The one reader of the log that every stream of this process follows.
        app.state.hub = LogHub(app.state.ledger, app.state.changes, stream.encode,
                               poll=settings.stream_poll_seconds)
        await app.state.hub.start()
        app.state.watches = await run_in_threadpool(
            lambda: Watches(app.state.ledger, allow_private=settings.webhook_allow_private))
        dispatcher = Dispatcher(
            app.state.watches, app.state.changes,
            Policy(settings.webhook_retry_seconds, settings.webhook_max_attempts,
                   allow_private=settings.webhook_allow_private),
            poll=settings.stream_poll_seconds,
            lock=StoreLock(app.state.ledger.store, "webhooks"),  # one dispatcher per store
        )
        dispatcher.start()
        projector = app.state.ledger.projector if follow_log else None
        if projector is not None:  # the credibility projection follows the log while we serve
            projector.start()
        schedule = checkpoint_schedule(settings, app.state.ledger)
        if schedule is not None:
            schedule.start()
        try:
            yield
        finally:
            if schedule is not None:  # the shutdown checkpoint: the log as it is left
                await run_in_threadpool(schedule.stop)
            metrics.close()
            await app.state.hub.stop()
            await run_in_threadpool(dispatcher.stop)
            if projector is not None:
                await run_in_threadpool(projector.stop)
            if opened is not None:
                app.state.ledger = None
                await run_in_threadpool(opened.close)

    app = FastAPI(
        title="Claims Ledger", version=_version(), description=DESCRIPTION, lifespan=lifespan,
        # operationId = the route function's name (register_claim, append_event, ...), so a
        # generated client has readable method names.
        generate_unique_id_function=lambda route: route.name,
        # /docs is api.routes.reference's: Swagger UI from the package, not from a CDN.
        docs_url=None, redoc_url=None,
        dependencies=[Depends(query_checks)],
    )
    app.state.settings = settings
    app.state.ledger = ledger
    app.state.keys = keys
    app.state.metrics = metrics
    app.state.turns = Turns(settings.write_concurrency)
    errors.install(app)
    app.add_middleware(
        BodyLimit, max_body_bytes=settings.max_body_bytes, max_batch_bytes=settings.max_batch_bytes,
        body_read_seconds=settings.body_read_seconds,
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(RequestContext, metrics=metrics, logger=logger)
    for module in (sources, claims, events, stream, watches, history, models, system, ui,
                   checkpoints, reference, stix, claimreview, taxii, drafts):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _announce(logger: logging.Logger, settings: Settings, keys: KeyRing) -> None:
    fields = {"store": settings.redacted_store(), "keys": len(keys.keys)}
    if keys.open:
        logger.warning(
            "no API keys configured: every request is allowed and acts as 'local'; "
            "the service binds to localhost only (set CLAIMS_LEDGER_API_KEYS to open it up)",
            extra={"fields": fields},
        )
    else:
        logger.info("API keys configured: requests need a bearer token", extra={"fields": fields})
    for name in keys.weak():
        logger.warning("the API key of %r is short enough to guess: use 16+ random characters",
                       name)


def _example_path(template: str) -> str:
    """The path of an example request to ``template``: ids from the article."""
    return (template.replace("{claim_id}", examples.CLAIM_ID)
            .replace("{source_id}", "peskov")
            .replace("{event_id}", "2c5d6ec8-3eee-4068-80d9-9371bc37dd78")
            .replace("{watch_id}", "5b0e9a43-7c1d-4f2a-9e6b-3d8c2a1f0e77")
            .replace("{collection_id}", COLLECTION_ID)
            .replace("{object_id}", taxii.EXAMPLE_OBJECT_ID))


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, plus the batch item schema (its body is read by hand) and errors
    declared as ``application/problem+json``, which is what they are."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = FastAPI.openapi(app)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    batch_item = BatchEventCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(batch_item.pop("$defs", {}))
    components["BatchEventCreate"] = batch_item
    open_mode = app.state.keys.open
    for path, operations in schema["paths"].items():
        instance = _example_path(path)
        for operation in operations.values():
            if open_mode and "security" in operation:
                # No keys configured: no request needs one (an empty requirement is
                # OpenAPI's "or none"), so a generated client must not ask for one.
                operation["security"] = [{}, *operation["security"]]
            for code, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if code[0] in "45" and "application/json" in content:
                    # Only problem+json: not also the media type of a route's own answers.
                    answer["content"] = {MEDIA_TYPE: content.pop("application/json")}
                    examples = answer["content"][MEDIA_TYPE].get("examples", {})
                    for name, example in examples.items():  # api.openapi_docs.PATH
                        examples[name] = {**example,
                                          "value": {**example["value"], "instance": instance}}
    app.openapi_schema = schema
    return schema
