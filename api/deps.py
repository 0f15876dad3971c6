"""What routes take as parameters: ``Annotated[..., Depends()]`` aliases.

The app's objects (ledger, settings, metrics, keys) live on ``app.state`` (set by
``api.main.create_app``). Query times are parsed by the ledger's own rules
(``ledger.times.parse_time_option``: a bare date in ``as_of``/``known_at`` is the end of
that day; no zone is refused). Every dependency here is cheap and ``async``: none touches the
store, so none needs the thread pool.
"""

from __future__ import annotations

import email.message
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.access import KeyRing, Principal, Role
from api.bodies import SLUG_PATTERN, TIME_MAX_LENGTH, TIME_PATTERN, Published
from api.errors import UnsupportedMediaType
from api.metrics import Metrics
from api.turns import Turns
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.errors import InvalidInput
from ledger.inputs import MAX_ID
from ledger.models import DEFAULT, VERSIONS
from ledger.reads import MAX_LIMIT
from ledger.times import parse_time_option

JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_ETAG = re.compile(r'^(?:W/)?(?:"(\d{1,18})"|(\d{1,18}))$')
ETAG_PATTERN = r'^(\*|(W/)?("[0-9]{1,18}"|[0-9]{1,18}))$'


async def _ledger(request: Request) -> ClaimsLedger:
    ledger: ClaimsLedger = request.app.state.ledger
    return ledger


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def _turns(request: Request) -> Turns:
    turns: Turns = request.app.state.turns
    return turns


LedgerDep = Annotated[ClaimsLedger, Depends(_ledger)]
SettingsDep = Annotated[Settings, Depends(_settings)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
#: Where a route that writes runs its write: in turn (``api.turns``).
TurnsDep = Annotated[Turns, Depends(_turns)]

_BEARER = "An API key from CLAIMS_LEDGER_API_KEYS; none needed when no keys are configured"
_bearer = HTTPBearer(auto_error=False, description=_BEARER)


async def authorize(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, checked against the keys: reading needs reader, writing writer (a
    ``ReadingRoute`` only reads, whatever its method)."""
    keys: KeyRing = request.app.state.keys
    reads = request.method in ("GET", "HEAD", "OPTIONS") or getattr(
        request.state, "only_reads", False)
    needed = Role.reader if reads else Role.writer
    principal = keys.authorize(credentials.credentials if credentials else None, needed)
    request.state.principal = principal.name
    request.state.caller = principal
    return principal


class _Caller(HTTPBearer):
    """The caller as ``AuthenticatedRoute`` found it: the key is checked once a request.

    A security scheme (HTTP bearer, the scheme ``authorize`` publishes), so every route
    that takes it still says in the OpenAPI document that it needs a key. On a route that
    is not an ``AuthenticatedRoute`` it authorizes the caller itself.
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        principal: Principal | None = getattr(request.state, "caller", None)
        if principal is None:
            principal = await authorize(request, await _bearer(request))
        return principal


# The module's annotations are strings (``from __future__ import annotations``), and FastAPI
# before 0.116 resolves a callable instance's only through ``__globals__``, which an
# instance has not: it would take ``request`` for a query parameter. Real types here.
_Caller.__call__.__annotations__ = {"request": Request, "return": Principal}
caller = _Caller(auto_error=False, scheme_name="HTTPBearer", description=_BEARER)
#: The principal and its role: for a router's ``dependencies=[Depends(caller)]`` or a route.
Caller = Annotated[Principal, Depends(caller)]


class AuthenticatedRoute(APIRoute):
    """A route that checks the caller's key before anything else: before FastAPI reads and
    parses the body (which it does before it solves any dependency), so that a request
    without a valid key is a 401 (or a 403) whatever its body, never a 413, 415 or 422 that
    would tell an unknown caller how its body was judged. ``authorize`` still runs as the
    routes' dependency, to hand them the principal."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def authenticated_first(request: Request) -> Response:
            await authorize(request, await _bearer(request))
            return await handle(request)

        return authenticated_first


class ReadingRoute(AuthenticatedRoute):
    """A route that writes nothing whatever its method (a preview a body asks for): a
    reader's key is enough."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def reading(request: Request) -> Response:
            request.state.only_reads = True
            return await handle(request)

        return reading


_TIME = "RFC 3339 timestamp with a zone, or a date (the end of that day, UTC); default now"
#: A query time as the schema publishes it; the ledger checks it (``parse_time_option``), so a
#: refusal names the parameter and says how to fix it.
QueryTime = Annotated[str, Published(pattern=TIME_PATTERN, maxLength=TIME_MAX_LENGTH)]
#: A claim's or source's id in a path: any text is looked up (and not found), but only ids
#: of this form exist.
PathId = Annotated[str, Published(pattern=SLUG_PATTERN, maxLength=MAX_ID)]
ClaimId = Annotated[PathId, Path(description="the claim's id", examples=["nk-troops-for-russia"])]
SourceId = Annotated[PathId, Path(description="the source's id", examples=["peskov"])]


async def _as_of(
    as_of: Annotated[
        QueryTime | None,
        Query(description="valid time: count events that occurred by then. " + _TIME,
              examples=["2024-10-15"]),
    ] = None,
) -> datetime | None:
    return parse_time_option("as_of", as_of)


async def _known_at(
    known_at: Annotated[
        QueryTime | None,
        Query(description="recording time: as the ledger knew it then. " + _TIME,
              examples=["2026-01-01T00:00:00Z"]),
    ] = None,
) -> datetime | None:
    return parse_time_option("known_at", known_at)


async def _since(
    since: Annotated[
        QueryTime | None,
        Query(description="recorded at or after: an RFC 3339 timestamp with a zone, or a date "
                          "(the start of that day, UTC)"),
    ] = None,
) -> datetime | None:
    return parse_time_option("since", since, bare_date="start")


async def _until(
    until: Annotated[QueryTime | None, Query(description="recorded at or before. " + _TIME)] = None,
) -> datetime | None:
    return parse_time_option("until", until)


#: A credibility model version (GET /models); the ledger refuses another with a 422 that
#: lists the accepted ones.
ModelName = Annotated[str, Published(enum=list(VERSIONS), maxLength=64)]
ModelQuery = Annotated[
    ModelName | None,
    Query(description=f"the credibility model version to answer with (GET /models); default "
                      f"{DEFAULT}. A claim list in another version than the default replays "
                      "every claim (slower) instead of querying the projection",
          examples=["credibility-v1"]),
]
AsOf = Annotated[datetime | None, Depends(_as_of)]
KnownAt = Annotated[datetime | None, Depends(_known_at)]
Since = Annotated[datetime | None, Depends(_since)]
Until = Annotated[datetime | None, Depends(_until)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"page size, 1-{MAX_LIMIT}")]
# The pattern is the ledger's cursor format; it keeps a cursor the ledger cannot take (too
# big for a 64-bit column, non-ASCII digits) from reaching the store as a 500.
Cursor = Annotated[
    str | None,
    Query(description="next_cursor from the previous page", pattern=r"^[0-9]{1,18}$"),
]


_IDEMPOTENCY_HEADER = Header(
    alias="Idempotency-Key",
    description="retrying with the same key and body returns the first answer "
    "and writes nothing; 1-255 visible ASCII characters",
    examples=["5f0c7d1e-article-2024-10-13"],
)
IdempotencyHeader = Annotated[
    Annotated[str, Published(pattern=IDEMPOTENCY_KEY_PATTERN, maxLength=255)] | None,
    _IDEMPOTENCY_HEADER,
]
IfMatchHeader = Annotated[
    Annotated[str, Published(pattern=ETAG_PATTERN, maxLength=64)] | None,
    Header(alias="If-Match",
           description="the claim's ETag (its version): append only if it is still current",
           examples=['"5"']),
]
# Unbounded on purpose: RFC 7240 has a server ignore the preferences it does not know, so
# no Prefer header is a reason to refuse an append.
PreferHeader = Annotated[
    str | None,
    Header(alias="Prefer",
           description="RFC 7240; return=minimal answers 201 with Location, ETag and the "
           "event's position, without the credibility (cheaper, for bulk appends); other "
           "preferences are ignored",
           examples=["return=minimal"]),
]


@dataclass(frozen=True, slots=True)
class Writer:
    """Who writes (the key's principal, never a field of the body), and the request's key."""

    actor: str
    #: The Idempotency-Key as the ledger keeps it: in the caller's own namespace.
    key: str | None


@dataclass(frozen=True, slots=True)
class Appender(Writer):
    """A writer of one event: also the claim version it expects, and what it wants back."""

    expected_version: int | None
    minimal: bool


def _scoped_key(request: Request, principal: Principal, idempotency_key: str | None) -> str | None:
    """The key as the ledger keeps it: the client's, in the caller's own namespace.

    Keys are the principal's: another principal's use of the same key neither replays its
    answer nor is refused because of it (which would tell that the key was used). A
    principal's name holds no ':', so ``principal:key`` names one key of one principal.
    """
    if idempotency_key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise InvalidInput("Idempotency-Key", "must be 1-255 visible ASCII characters, e.g. a UUID")
    scoped = f"{principal.name}:{idempotency_key}"
    request.state.idempotency_key = (scoped, idempotency_key)  # for api.errors' messages
    return scoped


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    found = _ETAG.match(if_match.strip())
    if found is None:
        raise InvalidInput("If-Match", f"{if_match!r} is not one ETag of this API, such as \"5\"")
    return int(found.group(1) or found.group(2))


def wants_minimal(prefer: str | None) -> bool:
    """Whether an RFC 7240 ``Prefer`` header asks for ``return=minimal``."""
    if not prefer:
        return False
    for preference in prefer.split(","):
        name, _, value = preference.split(";", 1)[0].partition("=")
        if name.strip().lower() == "return" and value.strip().strip('"').lower() == "minimal":
            return True
    return False


async def _writer(
    request: Request, principal: Caller, idempotency_key: IdempotencyHeader = None
) -> Writer:
    return Writer(principal.name, _scoped_key(request, principal, idempotency_key))


async def _appender(
    request: Request,
    principal: Caller,
    idempotency_key: IdempotencyHeader = None,
    if_match: IfMatchHeader = None,
    prefer: PreferHeader = None,
) -> Appender:
    return Appender(
        principal.name,
        _scoped_key(request, principal, idempotency_key),
        _expected_version(if_match),
        wants_minimal(prefer),
    )


#: A write route's one dependency beyond the ledger: the actor and its idempotency key.
WriterDep = Annotated[Writer, Depends(_writer)]
#: An append's: also If-Match and Prefer.
AppenderDep = Annotated[Appender, Depends(_appender)]


def media_type(request: Request) -> str | None:
    value = request.headers.get("content-type")
    if not value:
        return None
    message = email.message.Message()
    message["content-type"] = value
    return message.get_content_type()


async def _json_body(request: Request) -> None:
    if media_type(request) not in JSON_TYPES:
        raise UnsupportedMediaType(request.headers.get("content-type"), JSON_TYPES)


#: For ``dependencies=[JsonBody]``: a body of any type but JSON is refused with 415.
JsonBody = Depends(_json_body)
