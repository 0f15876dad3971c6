"""Recording a statement from the browser: the form on a claim's page, for a writer.

``POST /ui/claims/{id}/events`` takes the form, checks it as the API checks its body
(``api.bodies.EventCreate``), and appends it through the same use case as
``POST /claims/{id}/events``, with the signed-in principal as its actor. A refusal is
shown beside the field it names (the API's problem details: title, detail, field), with
what was typed kept; a success goes back to the claim's page, at the new event.

The form's "Preview" button sends the same form with ``action=preview``: the statement is
checked the same way and the ledger's preview (``ledger.preview``, ``POST
/claims/{id}/preview``) answers how the number would move; the form comes back
filled in, with that answer above it, and nothing is written. "Record" then appends it.

Cross-site requests are refused: the form carries a token that must equal the
``ledger_form`` cookie (SameSite=Strict, HttpOnly, path ``/ui``), and a request whose
``Origin`` names another site is refused outright.
"""

from __future__ import annotations

import contextlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.access import Role
from api.bodies import EventCreate
from api.deps import LedgerDep, MetricsDep
from api.routes.ui.base import page_router
from api.routes.ui.describe import EventNames
from api.routes.ui.reading import every_event, sources_named
from api.routes.ui.render import instant, problem, render
from api.routes.ui.session import viewer
from ledger.errors import InvalidInput, LedgerError, NotFound
from ledger.likelihood import ICD203_TERMS
from ledger.reads import MAX_LIMIT
from ledger.statements import CONFIDENCE_LEVELS, EVIDENCE_LABELS, STANCE_TYPES

FORM_COOKIE = "ledger_form"
#: The statement types the form records (retractions and corrections name an event: the API).
RECORDED_TYPES = STANCE_TYPES
FIELDS = ("type", "source", "occurred_at", "quote", "summary", "evidence", "likelihood",
          "confidence", "reference", "note")

pages = page_router()


def form_token(request: Request) -> str:
    """The token this browser's forms carry: its ``ledger_form`` cookie, or a new one."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)


def keep_token(request: Request, response: Response, token: str) -> Response:
    if request.cookies.get(FORM_COOKIE) != token:
        response.set_cookie(FORM_COOKIE, token, path="/ui", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
    return response


def recorder(request: Request, ledger: LedgerDep, claim_id: str) -> dict[str, Any] | None:
    """What the claim page needs to offer the form: None unless the reader may write."""
    if viewer(request, Role.writer) is None:
        return None
    sources = ledger.list_sources(limit=MAX_LIMIT)["data"]
    return {
        "action": f"/ui/claims/{quote(claim_id)}/events",
        "token": form_token(request),
        "sources": [(s["id"], s["name"]) for s in sources],
        "types": RECORDED_TYPES,
        "evidence": EVIDENCE_LABELS,
        "confidences": CONFIDENCE_LEVELS,
        "terms": ICD203_TERMS,
        "typed": {},
        "errors": {},
        "preview": None,
    }


async def posted_form(request: Request) -> dict[str, str]:
    """The fields a page's form posted (blank ones kept as ""), read on the event loop, so
    the handler that takes them can be a plain function: FastAPI runs it in a worker thread,
    and the ledger's writes (their retries, a store's timeouts) never hold the loop."""
    body = (await request.body()).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


#: A page handler's posted form (``posted_form``).
PostedForm = Annotated[dict[str, str], Depends(posted_form)]


def cross_site(request: Request, form: Mapping[str, str]) -> bool:
    """Whether a form post came from another site: an Origin naming another host, or no
    token equal to this browser's ``ledger_form`` cookie."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.url.netloc:
        return True
    cookie = request.cookies.get(FORM_COOKIE, "")
    return not cookie or not hmac.compare_digest(cookie, form.get("token", ""))


def _body(values: Mapping[str, str]) -> dict[str, Any]:
    """The form as the API's body: blank fields left out, a likelihood that is a number
    sent as one (else the words, which the ledger maps to a probability)."""
    body: dict[str, Any] = {name: values[name] for name in FIELDS if values.get(name)}
    if "likelihood" in body:
        with contextlib.suppress(ValueError):
            body["likelihood"] = float(body["likelihood"])
    return body


def _errors(error: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        found.setdefault(field if field in FIELDS else "form", f"{field}: {item['msg']}")
    return found


def _preview(ledger: LedgerDep, answer: dict[str, Any]) -> dict[str, Any]:
    """The ledger's preview as the form shows it: the move, and each contribution with its
    source's name and its reason in words (events named, not numbered by id)."""
    claim_id = answer["claim_id"]
    known = instant(answer["known_at"])
    events = every_event(ledger, claim_id, instant(answer["as_of"]), known)
    contributions = answer["credibility"]["contributions"]
    sources = sources_named(ledger, [c["source"] for c in contributions if c["source"]],
                            instant(answer["as_of"]), known)
    names = EventNames(events, sources)
    # The proposed statement, as a reason names it ("proposed of 2024-10-21"), in words.
    event_id = re.escape(answer["event"]["event_id"])
    proposed = re.compile(rf"\b{event_id}(?: of \d{{4}}-\d{{2}}-\d{{2}})?")
    return {
        **answer,
        "reasons": [
            {**c, "who": sources[c["source"]]["name"] if c["source"] in sources else c["source"],
             "proposed": c["event_id"] == answer["event"]["event_id"],
             "why": names.linked(proposed.sub("(the one previewed)", c["reason"]))}
            for c in contributions
        ],
    }


@pages.post("/ui/claims/{claim_id}/events")
def record_statement(
    request: Request, claim_id: str, ledger: LedgerDep, metrics: MetricsDep, form: PostedForm
) -> Response:
    """Append the form's statement to the claim (writer role), or show what to mend."""
    principal = viewer(request, Role.writer)
    if principal is None:
        return problem(request, 403, "Not allowed",
                       "Recording a statement needs a writer's key: sign in with one.")
    if cross_site(request, form):
        return problem(request, 403, "Not allowed",
                       "This form did not come from this site's own page: open the claim's "
                       "page again and send it from there.")
    claim = ledger.claim(claim_id)  # an unknown claim: the 404 page
    values = {name: form.get(name, "").strip() for name in FIELDS}
    previewing = form.get("action") == "preview"
    errors: dict[str, str] = {}
    preview: dict[str, Any] | None = None
    if values["type"] not in RECORDED_TYPES:
        errors["type"] = f"type: one of {', '.join(RECORDED_TYPES)}"
    else:
        try:
            body = EventCreate(**_body(values))
            if previewing:
                preview = _preview(ledger, ledger.preview(claim_id, body.fields(),
                                                          principal.name))
            else:
                written = ledger.writes.append(claim_id, body.fields(), principal.name)
        except ValidationError as error:
            errors = _errors(error)
        except InvalidInput as error:
            field = error.field.split(".")[0]
            errors[field if field in FIELDS else "form"] = f"{error.title}: {error.detail}"
        except NotFound as error:  # the source named is not registered
            errors["source" if "source" in error.detail else "form"] = (
                f"{error.title}: {error.detail}")
        except LedgerError as error:
            errors["form"] = f"{error.title}: {error.detail}"
        else:
            if not previewing:
                metrics.events_appended.inc()  # counted as the API's appends are
                event_id = written.answer["event_id"]
                return RedirectResponse(
                    f"/ui/claims/{quote(claim_id)}?recorded={event_id}#event-{event_id}",
                    status_code=303)
    state = recorder(request, ledger, claim_id)
    assert state is not None  # the writer was checked above
    state.update(typed=values, errors=errors, preview=preview)
    page: HTMLResponse = render(request, "record.html", {
        "title": f"Record a statement: {claim['text']}", "claim": claim, "recorder": state,
    }, status=200 if preview is not None else 422)
    return keep_token(request, page, state["token"])
