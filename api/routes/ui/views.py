"""Saved views of the claims list: a signed-in user names the list as it is shown (its
filters, order and times) and finds it again on the list page (``ledger.saved_views``).

``POST /ui/views`` saves the form's name and parameters for the viewer's principal (a
reader's key is enough: a view is the viewer's own, not the ledger's); ``POST
/ui/views/delete`` deletes one. Both are protected as the recording form is (``forms``: the
``ledger_form`` token and the Origin check) and answer with a redirect to the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from api.routes.ui.base import page_router
from api.routes.ui.forms import PostedForm, cross_site, form_token
from api.routes.ui.render import Link, problem
from api.routes.ui.session import viewer
from ledger.errors import InvalidInput, NotFound
from ledger.saved_views import VIEW_FIELDS, SavedViews

pages = page_router()


def saved_views(request: Request) -> SavedViews:
    """The saved views of the app's ledger."""
    found: SavedViews = request.app.state.ledger.saved_views
    return found


def shelf(request: Request, query: Mapping[str, str | None]) -> dict[str, Any] | None:
    """What the list page needs to show the viewer's views and save the one shown; None
    when no principal reads (never: the page route signs in first)."""
    principal = viewer(request)
    if principal is None:
        return None
    current = {k: v for k, v in query.items() if k in VIEW_FIELDS and v}
    return {
        "token": form_token(request),
        "query": current,
        "views": [
            {**view, "link": Link("/ui", view["query"])()}
            for view in saved_views(request).list_views(principal.name)
        ],
    }


def _refused(request: Request, form: Mapping[str, str]) -> Response | None:
    if cross_site(request, form):
        return problem(request, 403, "Not allowed",
                       "This form did not come from this site's own page: open the list "
                       "again and send it from there.")
    return None


@pages.post("/ui/views")
def save_view(request: Request, form: PostedForm) -> Response:
    """Save the list's parameters under a name, for the signed-in principal."""
    principal = viewer(request)
    assert principal is not None  # the page route signs in first
    refused = _refused(request, form)
    if refused is not None:
        return refused
    query = {name: form[name] for name in VIEW_FIELDS if form.get(name)}
    try:
        view = saved_views(request).save(principal.name, form.get("name", ""), query)
    except InvalidInput as error:
        return problem(request, 422, error.title, f"{error.detail}. Go back and try again.")
    return RedirectResponse(Link("/ui", view["query"])(), status_code=303)


@pages.post("/ui/views/delete")
def delete_view(request: Request, form: PostedForm) -> Response:
    """Delete one of the signed-in principal's views."""
    principal = viewer(request)
    assert principal is not None
    refused = _refused(request, form)
    if refused is not None:
        return refused
    try:
        saved_views(request).delete(principal.name, form.get("name", ""))
    except NotFound as error:
        return problem(request, 404, error.title, error.detail)
    return RedirectResponse("/ui", status_code=303)
