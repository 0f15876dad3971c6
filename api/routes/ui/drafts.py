"""Drafting statements from an article in the browser: paste it, review the proposals,
accept some, and append them in one batch. For a signed-in writer.

- ``GET /ui/drafts[?claim=ID]``: the paste form (the article's text and date, the claim,
  the article's URL). The claim is a registered one, or a new one (its id and text),
  checked as ``POST /claims`` checks it (``api.routes.ui.register``) and registered only
  when the accepted statements are appended.
- ``POST /ui/drafts``: the proposals of ``ledger.drafts`` (as ``POST /drafts`` answers
  them) as an editable form: source, type, likelihood, date, quote and note of each, and
  accept or reject. Nothing is written.
- ``POST /ui/drafts/accept``: the accepted rows, each checked as the API checks a batch
  item (``api.bodies.EventCreate``); a row whose source is not registered is refused unless
  its proposed new source is ticked for registration, and ticked ones are registered first
  (checked as ``POST /sources`` checks them), then the new claim, if one was described.
  Then every accepted row is appended in one batch, all or none (as ``POST
  /events/batch``), with the article's URL as its reference, and the claim's page is shown
  at the first of them. Nothing is written while any row, source or the new claim is
  refused; a batch refused after that says which sources and claim stay registered.

Cross-site requests are refused as the recording form refuses them (``api.routes.ui.forms``:
the ``ledger_form`` token and the ``Origin`` check).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.access import Principal, Role
from api.bodies import EventCreate, SourceCreate
from api.deps import LedgerDep, MetricsDep
from api.routes.ui.base import page_router
from api.routes.ui.forms import PostedForm, cross_site, form_token, keep_token
from api.routes.ui.reading import all_claims
from api.routes.ui.register import CLAIM, checked
from api.routes.ui.render import problem, render
from api.routes.ui.session import viewer
from ledger.application import ClaimsLedger
from ledger.drafts import MAX_ARTICLE, draft_article
from ledger.errors import AlreadyExists, InvalidInput, LedgerError, NotFound
from ledger.inputs import source_fields, statement
from ledger.likelihood import ICD203_TERMS
from ledger.reads import MAX_LIMIT
from ledger.statements import STANCE_TYPES

pages = page_router()

#: The most proposals one review form carries back.
MAX_ROWS = 1000
#: Each row's fields, named ``{field}-{row}`` in the form.
ROW_FIELDS = ("decision", "source", "type", "likelihood", "likelihood_phrase", "occurred_at",
              "quote", "note", "reason", "basis", "sentence", "new_id", "new_name",
              "new_role", "new_affiliation", "register")
EVENT_FIELDS = ("type", "source", "occurred_at", "quote", "likelihood", "likelihood_phrase",
                "note")
NOT_A_WRITER = ("Drafting statements needs a writer's key: sign out and sign in with one. "
                "Nothing was written.")
#: The paste form's fields, and what the review form carries back of them.
PASTE_FIELDS = ("text", "date", "claim_id", "reference", "new_claim_id", "new_claim_text")
CONTEXT_FIELDS = ("claim_id", "reference", "date", "new_claim_id", "new_claim_text")
CROSS_SITE = ("This form did not come from this site's own page: open the drafts page again "
              "and send it from there. Nothing was written.")


def _claims(ledger: ClaimsLedger) -> list[tuple[str, str]]:
    _, items, _ = all_claims(ledger, None, None)
    return [(c["id"], c["text"]) for c in items]


def _source_ids(ledger: ClaimsLedger) -> list[tuple[str, str]]:
    found, cursor = [], None
    while True:
        page = ledger.list_sources(limit=MAX_LIMIT, cursor=cursor)
        found += [(s["id"], s["name"]) for s in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def _paste(request: Request, ledger: ClaimsLedger, typed: Mapping[str, str],
           errors: Mapping[str, str], status: int = 200) -> Response:
    token = form_token(request)
    page = render(request, "drafts.html", {
        "title": "Draft statements from an article", "step": "paste", "token": token,
        "claims": _claims(ledger), "typed": typed, "errors": errors,
        "max_article": MAX_ARTICLE,
    }, status)
    return keep_token(request, page, token)


def _review(request: Request, ledger: ClaimsLedger, context: Mapping[str, Any],
            rows: list[dict[str, Any]], errors: Mapping[str, str], status: int = 200,
            ) -> Response:
    token = form_token(request)
    if context["claim_id"]:
        claim = ledger.claim(context["claim_id"])
    else:  # a new claim, registered when the statements are appended
        claim = {"id": context["new_claim_id"], "text": context["new_claim_text"] or "A new claim",
                 "new": True}
    page = render(request, "drafts.html", {
        "title": f"Review drafted statements: {claim['text']}", "step": "review",
        "token": token, "claim": claim, "context": context, "rows": rows, "errors": errors,
        "sources": _source_ids(ledger), "types": STANCE_TYPES, "terms": ICD203_TERMS,
    }, status)
    return keep_token(request, page, token)


def _writer(request: Request) -> Principal | None:
    return viewer(request, Role.writer)


@pages.get("/ui/drafts")
def drafts_page(request: Request, ledger: LedgerDep, claim: str | None = None) -> Response:
    """The paste form: an article's text and date, the claim, its URL."""
    if _writer(request) is None:
        return problem(request, 403, "Not allowed", NOT_A_WRITER)
    return _paste(request, ledger, {"claim_id": claim or ""}, {})


@pages.post("/ui/drafts")
def propose(request: Request, ledger: LedgerDep, form: PostedForm) -> Response:
    """The article's proposals as an editable form; nothing written."""
    if _writer(request) is None:
        return problem(request, 403, "Not allowed", NOT_A_WRITER)
    if cross_site(request, form):
        return problem(request, 403, "Not allowed", CROSS_SITE)
    typed = {name: form.get(name, "").strip() for name in PASTE_FIELDS}
    errors: dict[str, str] = {}
    new = typed["new_claim_id"] or typed["new_claim_text"]
    if typed["claim_id"] and new:
        errors["claim_id"] = ("claim: choose a registered claim or describe a new one below, "
                              "not both")
    elif not typed["claim_id"] and not new:
        errors["claim_id"] = ("claim: choose the claim the statements are about, or describe "
                              "a new one below")
    elif new:
        errors.update(_new_claim(ledger, typed)[1])
    if not errors:
        try:
            answer = draft_article(ledger, typed["text"], typed["date"],
                                   typed["claim_id"] or None, typed["reference"] or None)
        except InvalidInput as error:
            field = error.field if error.field in typed else "form"
            errors[field] = f"{error.title}: {error.detail}"
        except LedgerError as error:  # an unknown claim
            errors["claim_id"] = f"{error.title}: {error.detail}"
    if errors:
        return _paste(request, ledger, typed, errors, status=422)
    rows = [_row(p) for p in answer["proposals"]]
    return _review(request, ledger, typed, rows, {})


def _new_claim(ledger: ClaimsLedger, typed: Mapping[str, str]
               ) -> tuple[dict[str, Any], dict[str, str]]:
    """The new claim described (its id and text) as ``POST /claims`` takes it, checked as
    the registration form checks it, and its id not taken: the body, and what is wrong."""
    body, found = checked(CLAIM, {"id": typed["new_claim_id"], "text": typed["new_claim_text"]})
    errors = {f"new_claim_{'id' if name == 'id' else 'text'}": message
              for name, message in found.items()}
    if not errors and "id" in body:
        try:
            ledger.claim(body["id"])
        except NotFound:
            pass  # free
        else:
            errors["new_claim_id"] = (f"claim: {body['id']!r} is already registered: choose it "
                                      "in the list above instead, or give another id")
    return body, errors


def _row(proposal: Mapping[str, Any]) -> dict[str, Any]:
    event = proposal["event"]
    new = proposal["new_source"] or {}
    likelihood = event.get("likelihood")
    return {
        "decision": "accept", "source": event["source"], "type": event["type"],
        "likelihood": "" if likelihood is None else str(likelihood),
        "likelihood_phrase": event.get("likelihood_phrase", ""),
        "occurred_at": event["occurred_at"], "quote": event["quote"], "note": event["note"],
        "reason": proposal["reason"], "basis": proposal["date_basis"],
        "sentence": proposal["sentence"], "new_id": new.get("id", ""),
        "new_name": new.get("name", ""), "new_role": new.get("role") or "",
        "new_affiliation": new.get("affiliation") or "", "register": "on" if new else "",
        "new": bool(new),
    }


def _rows(form: Mapping[str, str]) -> list[dict[str, Any]]:
    try:
        count = min(max(int(form.get("rows", "0")), 0), MAX_ROWS)
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        row: dict[str, Any] = {name: form.get(f"{name}-{i}", "").strip() for name in ROW_FIELDS}
        row["new"] = bool(row["new_id"] or row["new_name"])
        rows.append(row)
    return rows


def _event(row: Mapping[str, Any], reference: str) -> dict[str, Any]:
    """A row as an event body: blank fields left out, a likelihood only on an assessment
    (a number sent as one, else the words), the article's URL as the reference."""
    body: dict[str, Any] = {name: row[name] for name in EVENT_FIELDS if row.get(name)}
    if body.get("type") != "assessed":
        body.pop("likelihood", None)
        body.pop("likelihood_phrase", None)
    elif "likelihood" in body:
        with contextlib.suppress(ValueError):
            body["likelihood"] = float(body["likelihood"])
        if isinstance(body["likelihood"], str):
            body.pop("likelihood_phrase", None)  # the words are their own phrase
    else:
        body.pop("likelihood_phrase", None)
    if reference:
        body["reference"] = reference
    return body


def _shape_errors(error: ValidationError, prefix: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        found.setdefault(f"{field}-{prefix}", f"{field}: {item['msg']}")
    return found


@pages.post("/ui/drafts/accept")
def accept(
    request: Request, ledger: LedgerDep, metrics: MetricsDep, form: PostedForm
) -> Response:
    """Register the ticked new sources, then append every accepted row in one batch."""
    principal = _writer(request)
    if principal is None:
        return problem(request, 403, "Not allowed", NOT_A_WRITER)
    if cross_site(request, form):
        return problem(request, 403, "Not allowed", CROSS_SITE)
    context = {name: form.get(name, "").strip() for name in CONTEXT_FIELDS}
    errors: dict[str, str] = {}
    new_claim: dict[str, Any] | None = None
    if context["claim_id"]:
        ledger.claim(context["claim_id"])  # an unknown claim: the 404 page
    else:
        new_claim, found = _new_claim(ledger, context)
        errors.update(found)
    rows = _rows(form)
    chosen = [i for i, row in enumerate(rows) if row["decision"] == "accept"]
    if not chosen:
        errors["form"] = "Accept at least one proposal: nothing was written."
    known = {source_id for source_id, _ in _source_ids(ledger)}
    bodies: list[dict[str, Any]] = []
    register: dict[str, dict[str, Any]] = {}
    for i in chosen:
        row = rows[i]
        try:
            body = EventCreate(**_event(row, context["reference"])).fields()
            statement(body, event_id="draft", actor=principal.name)  # the ledger's rules
        except ValidationError as error:
            errors.update(_shape_errors(error, str(i)))
            continue
        except InvalidInput as error:
            field = error.field.split(".")[0]
            errors[f"{field if field in ROW_FIELDS else 'quote'}-{i}"] = (
                f"{error.title}: {error.detail}")
            continue
        bodies.append(body)
        source = row["source"]
        if source in known or source in register:
            continue
        offer = next((r for r in rows if r["new_id"] == source and r["register"]), None)
        if offer is None:
            errors[f"source-{i}"] = (
                f"source: {source!r} is not registered. Tick \u201cRegister it\u201d for a "
                "proposed new source with this id, or choose a registered source.")
            continue
        fields = {"id": offer["new_id"], "name": offer["new_name"], "role": offer["new_role"],
                  "affiliation": offer["new_affiliation"]}
        try:
            register[source] = SourceCreate(**{k: v for k, v in fields.items() if v}).fields()
            source_fields(register[source])  # the ledger's rules
        except ValidationError as error:
            errors.update(_shape_errors(error, f"new-{i}"))
        except InvalidInput as error:
            errors[f"{error.field.split('.')[0]}-new-{i}"] = f"{error.title}: {error.detail}"
    if errors:
        return _review(request, ledger, context, rows, errors, status=422)
    kept: list[str] = []  # what stays registered if a later write is refused
    try:
        for source_id, fields in register.items():
            ledger.writes.register_source(fields, principal.name)
            kept.append(f"source {source_id!r}")
    except LedgerError as error:
        errors["form"] = f"{error.title}: {error.detail}. {_written(kept)}"
        return _review(request, ledger, context, rows, errors, status=422)
    if new_claim is not None:
        try:
            claim_id = ledger.writes.register_claim(new_claim, principal.name).answer["id"]
        except LedgerError as error:  # AlreadyExists: registered since the form was checked
            errors["new_claim_id" if isinstance(error, AlreadyExists) else "form"] = (
                f"{error.title}: {error.detail}. {_written(kept)}")
            return _review(request, ledger, context, rows, errors, status=422)
        kept.append(f"claim {claim_id!r}")
        # From here on the claim is a registered one: a form shown again names it.
        context.update(claim_id=claim_id, new_claim_id="", new_claim_text="")
    items = [{"claim_id": context["claim_id"], **body} for body in bodies]
    try:
        written = ledger.writes.append_batch(items, principal.name)
    except InvalidInput as error:
        errors.update(_batch_error(error, chosen, _written(kept)))
        return _review(request, ledger, context, rows, errors, status=422)
    except LedgerError as error:
        errors["form"] = f"{error.title}: {error.detail}. {_written(kept)}"
        return _review(request, ledger, context, rows, errors, status=422)
    metrics.events_appended.inc(written.answer["count"])
    first = written.answer["events"][0]["event_id"]
    return RedirectResponse(
        f"/ui/claims/{quote(context['claim_id'])}?recorded={quote(first)}#event-{quote(first)}",
        status_code=303)


def _written(kept: list[str]) -> str:
    """What a refusal after some registrations says was written."""
    if not kept:
        return "Nothing was written."
    return f"No statement was written; registered, and staying registered: {', '.join(kept)}."


def _batch_error(error: InvalidInput, chosen: list[int], written: str) -> dict[str, str]:
    """The batch's refusal beside the row and field it names (``[2].likelihood``)."""
    where, _, field = error.field.partition(".")
    message = f"{error.title}: {error.detail}. {written}"
    with contextlib.suppress(ValueError, IndexError):
        row = chosen[int(where.strip("[]"))]
        name = field.split(".")[0]
        return {f"{name if name in ROW_FIELDS else 'quote'}-{row}": message}
    return {"form": message}

