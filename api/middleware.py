"""Pure ASGI middleware: request ids, access log and metrics; HEAD; request body limits.

``RequestContext`` wraps everything: it gives each request an id (a sane incoming
``X-Request-ID`` is kept), returns it in the response header, and once the response is
done writes one log line and the request metrics.

``HeadAsGet`` answers HEAD on every GET route (RFC 9110 requires it; FastAPI's routes
answer only the methods they declare): the route runs as GET and the body is dropped, so
the status and headers are GET's.

``BodyLimit`` reads the whole request body before any route sees it, and stops reading as
soon as it passes the limit (``Settings.max_batch_bytes`` for ``/events/batch``,
``Settings.max_body_bytes`` elsewhere). A declared ``Content-Length`` over the limit is
not read at all, but a small or missing one is not trusted: the bytes are counted. An
oversized request still goes to the app, with no body: the route authenticates the caller
first (``api.deps.AuthenticatedRoute``), and reading the body raises ``BodyTooLarge``,
which ``api.errors`` answers with a 413; so a caller without a valid key gets its 401
whatever the size of its body. The connection is closed after such an answer, since the
rest of the body is never read. FastAPI's own ``max_body_size`` answers a declared
oversize in ``text/plain``; we want problem+json for every error, hence this.

The whole body must arrive within ``Settings.body_read_seconds``: a client that trickles
it holds a connection and a worker's memory for as long as it likes otherwise. One that
is too slow gets a 408 the same way (``BodyTimeout``), and nothing reaches a route.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})
BATCH_PATH = "/events/batch"


def request_id_of(scope: Scope) -> str | None:
    value = scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def route_template(scope: Scope) -> str:
    """The matched route's path template, for bounded metric labels."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    # FastAPI's own routes (/openapi.json, /docs) are plain Starlette routes that leave no
    # "route" in the scope; they have no path parameters, so their path is their template.
    return str(scope["path"]) if "endpoint" in scope else "unmatched"


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: Metrics, logger: logging.Logger) -> None:
        self.app = app
        self.metrics = metrics
        self.logger = logger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = incoming if incoming and _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # unless a response starts: an exception escaped to the server

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            if scope["state"].get("client_gone"):
                status = 499  # nginx's "client closed request"
            route = route_template(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            fields: dict[str, Any] = {
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                # The query as sent (its parameters decide the answer); never a secret:
                # keys travel in the Authorization header, which is not logged.
                "query": scope.get("query_string", b"").decode("latin-1") or None,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 3),
                "principal": scope["state"].get("principal"),
            }
            level = logging.ERROR if status >= 500 else logging.INFO
            self.logger.log(level, "request", extra={"fields": fields})


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        # A copy: the server reads its own scope's method to know not to send a body, and
        # the request log should say HEAD.
        as_get = {**scope, "method": "GET"}

        async def send_headers_only(message: Message) -> None:
            # A HEAD answer has no body: it is complete with its headers, so an endless
            # one (a server-sent event stream) neither holds the connection nor runs on
            # (the server then tells the app the client is gone).
            if message["type"] == "http.response.body":
                return
            await send(message)
            if message["type"] == "http.response.start":
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        try:
            await self.app(as_get, receive, send_headers_only)
        finally:
            if "route" in as_get:  # the matched route, for the log and the metrics
                scope["route"] = as_get["route"]


class BodyTooLarge(HTTPException):
    """The request's body is over the limit of its path (raised when it is read)."""

    def __init__(self, limit: int = 0) -> None:
        super().__init__(413)
        self.limit = limit


class BodyTimeout(HTTPException):
    """The request's body did not arrive within the time allowed (raised when it is read)."""

    def __init__(self, seconds: float = 0) -> None:
        super().__init__(408)
        self.seconds = seconds


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        max_batch_bytes: int,
        body_read_seconds: float = 60.0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_batch_bytes = max_batch_bytes
        self.body_read_seconds = body_read_seconds

    def limit_for(self, scope: Scope) -> int:
        return self.max_batch_bytes if scope["path"] == BATCH_PATH else self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODILESS:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        try:
            # A deadline on this task (no task of its own, as wait_for would make a request)
            async with asyncio.timeout(self.body_read_seconds):
                body = await self._read(scope, receive, limit)
        except BodyTooLarge as error:
            await self._refuse(scope, send, error)
            return
        except TimeoutError:
            await self._refuse(scope, send, BodyTimeout(self.body_read_seconds))
            return
        if body is None:
            # The client went away mid-body: a cut NDJSON batch may still parse, so the
            # request must not reach a route that could write part of it.
            scope.setdefault("state", {})["client_gone"] = True
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, error: HTTPException) -> None:
        """Let the app answer, with a body that cannot be read (see the module's docstring):
        reading it raises ``error``."""
        asked = False

        async def refuse() -> Message:
            nonlocal asked
            if asked:  # after the refusal, only a listener for the client's going away
                return {"type": "http.disconnect"}
            asked = True
            raise error

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Connection"] = "close"
            await send(message)

        await self.app(scope, refuse, closing)

    @staticmethod
    async def _read(scope: Scope, receive: Receive, limit: int) -> bytes | None:
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)
