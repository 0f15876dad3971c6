"""Signing in and out of the web view: a key typed once opens a session (``session``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from api.access import KeyRing, NotAllowed, NotAuthenticated, Role
from api.routes.ui.base import safe_next, sign_in
from api.routes.ui.forms import PostedForm
from api.routes.ui.session import COOKIE, COOKIE_MAX_AGE, secured, sessions

router = APIRouter(include_in_schema=False)


@router.get("/ui/login")
def login_form(request: Request, next: str | None = None) -> Response:
    keys: KeyRing = request.app.state.keys
    if keys.open:
        return RedirectResponse(safe_next(next), status_code=303)
    return sign_in(request, safe_next(next))


@router.post("/ui/login")
def login(request: Request, form: PostedForm) -> Response:
    """Check the key typed in and open a session for it (the ``ledger_session`` cookie)."""
    target = safe_next(form.get("next"))
    keys: KeyRing = request.app.state.keys
    if keys.open:
        return RedirectResponse(target, status_code=303)
    token = form.get("key", "").strip()
    try:
        principal = keys.authorize(token or None, Role.reader)
    except (NotAuthenticated, NotAllowed):
        return sign_in(request, target, status=401, failed=True)
    request.state.principal = principal.name
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, sessions(request).open(principal), max_age=COOKIE_MAX_AGE, path="/ui",
        httponly=True, samesite="lax", secure=request.url.scheme == "https",
    )
    return secured(response)


@router.post("/ui/logout")
def logout(request: Request) -> Response:
    if not request.app.state.keys.open:
        sessions(request).close(request.cookies.get(COOKIE))
    response = RedirectResponse("/ui/login" if not request.app.state.keys.open else "/ui",
                                status_code=303)
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="lax")
    return secured(response)
