"""Who reads the pages: a bearer key, or the session the sign-in form opened.

With API keys configured, the pages need a key of any role (reader and above): sent as
``Authorization: Bearer``, or typed once into ``/ui/login``, which opens a session
(``api.access.Sessions``: the key's principal and role, for ``SESSION_SECONDS``, ended by
sign-out) kept in the ``ledger_session`` cookie (HttpOnly, path ``/ui``); the key itself
is never stored in the browser. The API never reads that cookie.
"""

from __future__ import annotations

from fastapi import Request, Response

from api.access import (
    SESSION_SECONDS,
    KeyRing,
    NotAllowed,
    NotAuthenticated,
    Principal,
    Role,
    Sessions,
)

COOKIE = "ledger_session"
COOKIE_MAX_AGE = SESSION_SECONDS
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def sessions(request: Request) -> Sessions:
    keys: KeyRing = request.app.state.keys
    found = getattr(request.app.state, "sessions", None)
    if not isinstance(found, Sessions) or found.keys is not keys:
        found = request.app.state.sessions = Sessions(keys)
    return found


def viewer(request: Request, role: Role = Role.reader) -> Principal | None:
    """The principal reading the pages, if it holds ``role``; None when a key is needed
    and none was given: a bearer key, else the session of the cookie."""
    keys: KeyRing = request.app.state.keys
    token = bearer(request)
    try:
        if token is not None or keys.open:
            principal = keys.authorize(token, role)
        else:
            session = sessions(request).principal(request.cookies.get(COOKIE))
            if session is None:
                return None
            principal = keys.authorize_principal(session, role)
    except (NotAuthenticated, NotAllowed):
        return None
    request.state.principal = principal.name
    return principal


def secured(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
