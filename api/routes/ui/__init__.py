"""The web view under ``/ui``: pages for people, rendered on the server from the ledger's reads.

Every number on a page is what the API answers for the same ``as_of`` and ``known_at``:
the pages call the same read use cases through the same ``LedgerDep`` and only shape their
answers for the templates (``api/templates``, Jinja2). Nothing here weighs evidence.

- ``claims``: ``/ui``, every claim; ``claim``: ``/ui/claims/{id}``; ``sources``:
  ``/ui/sources`` and ``/ui/sources/{id}``; ``log``: ``/ui/log``; ``forms``: recording
  a statement from a claim's page (writer role), with its preview; ``drafts``:
  ``/ui/drafts``, statements drafted from an article, reviewed and appended in one batch
  (writer role); ``register``: ``/ui/register/source`` and ``/ui/register/claim``,
  registering a source or a claim (writer role); ``views``: saved views of the list
  (``POST /ui/views``, ``POST /ui/views/delete``);
- ``chart``: the timeline's geometry; ``describe``: events in words; ``render``: templates
  and filters; ``reading``: whole answers from the paged reads;
- ``session`` and ``auth``: who reads (a bearer key or a session) and signing in and out;
  ``base``: the page route (sign-in first, refusals as pages); ``static``: the assets.

Every other path under ``/ui`` answers an HTML 404 page. The routes stay out of OpenAPI.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.routes.ui import (
    auth,
    claim,
    claims,
    drafts,
    forms,
    log,
    register,
    sources,
    static,
    views,
)
from api.routes.ui.base import page_router
from api.routes.ui.render import problem

router = APIRouter(include_in_schema=False)
missing = page_router()


@missing.get("/ui/{rest:path}")
def not_found(request: Request, rest: str) -> Response:
    """Any other address under /ui: a page saying so, not the API's problem JSON."""
    return problem(request, 404, "Not found", f"There is no page at {request.url.path}.")


#: The routers of the pages, in the order they are tried: the catch-all comes last, so
#: every page and asset is found before it.
PARTS = (auth.router, static.router, claims.router, claims.pages, claim.pages, sources.pages,
         forms.pages, drafts.pages, register.pages, views.pages, log.pages, missing)
for part in PARTS:
    router.include_router(part)
