"""The page route: the key is checked first (without one, the sign-in form, 401), and the
ledger's refusals are pages too (404 for an unknown id, 422 for a bad input)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from api.routes.ui.render import problem, render
from api.routes.ui.session import secured, viewer
from ledger.errors import InvalidInput, NotFound


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of this view, never another site."""
    if target and target.startswith("/ui") and not target.startswith("/ui/login"):
        return target
    return "/ui"


def sign_in(request: Request, target: str, status: int = 200, failed: bool = False) -> Response:
    page = render(request, "login.html", {"next": safe_next(target), "failed": failed}, status)
    if status == 401:  # RFC 9110: a 401 names how to authenticate
        page.headers["WWW-Authenticate"] = 'Bearer realm="claims-ledger"'
    return secured(page)


class PageRoute(APIRoute):
    """A page: signed in first, and every refusal an HTML page, never problem JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            if viewer(request) is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return sign_in(request, target, status=401)
            try:
                response = await handle(request)
            except NotFound as error:
                response = problem(request, 404, error.title, error.detail)
            except InvalidInput as error:
                response = problem(request, 422, error.title, error.detail)
            except RequestValidationError as error:
                detail = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors()
                )
                response = problem(request, 422, "Invalid input", detail)
            return secured(response)

        return page


def page_router() -> APIRouter:
    return APIRouter(include_in_schema=False, route_class=PageRoute)
