"""Registering a source or a claim from the browser, for a signed-in writer.

- ``GET /ui/register/source`` and ``POST /ui/register/source``: the fields of ``POST
  /sources`` (id, name, role, affiliations, reliability); a success goes to the new
  source's page, ``/ui/sources/{id}``.
- ``GET /ui/register/claim`` and ``POST /ui/register/claim``: the fields of ``POST
  /claims`` (id, text, tags, parties, beneficiaries, alleged_at); a success goes to the
  new claim's page, ``/ui/claims/{id}``.

(Not ``/ui/sources/new``: ``new`` is a valid id, whose page that address is.)

A form is checked as the API checks its body (``api.bodies.SourceCreate``,
``ClaimCreate``), then by the ledger's rules (``ledger.inputs.source_fields``,
``claim_fields``), and written through the same use case as the API
(``ledger.writes.register_source``, ``register_claim``), with the signed-in principal as
its actor. A refusal (a bad field, an id already registered) is shown beside the field it
names, with what was typed kept, and nothing is written. A list (affiliations, tags,
parties) is typed as words separated by commas or spaces.

Cross-site requests are refused as the recording form refuses them (``api.routes.ui.forms``:
the ``ledger_form`` token and the ``Origin`` check).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.access import Role
from api.bodies import Body, ClaimCreate, SourceCreate
from api.deps import LedgerDep
from api.routes.ui.base import page_router
from api.routes.ui.forms import PostedForm, cross_site, form_token, keep_token
from api.routes.ui.render import ADMIRALTY, problem, render
from api.routes.ui.session import viewer
from ledger import inputs
from ledger.application import ClaimsLedger
from ledger.errors import AlreadyExists, InvalidInput, LedgerError
from ledger.statements import RELIABILITY_GRADES

pages = page_router()


@dataclass(frozen=True)
class Field:
    """One field of a registration form, as the template draws it."""

    name: str
    label: str
    hint: str = ""
    #: "text", "textarea", "select" or "list" (words separated by commas or spaces)
    kind: str = "text"
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Registration:
    """What one form registers: its fields, the API's body, the ledger's rules, the write."""

    noun: str
    fields: tuple[Field, ...]
    model: type[Body]
    rules: Callable[[Mapping[str, Any]], Any]
    write: Callable[[ClaimsLedger, Mapping[str, Any], str], Mapping[str, Any]]
    help: str

    @property
    def action(self) -> str:
        return f"/ui/register/{self.noun}"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def page(self, registered_id: str) -> str:
        return f"/ui/{self.noun}s/{quote(registered_id)}"


SOURCE = Registration(
    noun="source",
    fields=(
        Field("id", "Id", "a-z, 0-9 and '-', at most 64: the source's address", required=True),
        Field("name", "Name", "as readers know it", required=True),
        Field("role", "Role", "optional: 'President of Ukraine'"),
        Field("affiliations", "Affiliations", "optional: codes such as UA UA-GOV, first the "
              "main one", kind="list"),
        Field("reliability", "Reliability", "NATO Admiralty grade", kind="select",
              options=tuple((g, f"{g}: {ADMIRALTY[g]}") for g in RELIABILITY_GRADES)),
    ),
    model=SourceCreate,
    rules=inputs.source_fields,
    write=lambda ledger, body, actor: ledger.writes.register_source(body, actor).answer,
    help="Registers a source: who speaks. Its reliability grade holds from now on and can be "
         "re-rated later (through the API); nothing registered can be deleted.",
)
CLAIM = Registration(
    noun="claim",
    fields=(
        Field("id", "Id", "a-z, 0-9 and '-', at most 64; empty: the server makes one"),
        Field("text", "Text", "the allegation, phrased against its parties", kind="textarea",
              required=True),
        Field("tags", "Tags", "optional: words such as north-korea troops", kind="list"),
        Field("parties", "Parties", "optional: the accused, affiliation codes (RU, KP) or "
              "source ids", kind="list"),
        Field("beneficiaries", "Beneficiaries", "optional: whose cause gains if it is "
              "believed; none may be a party", kind="list"),
        Field("alleged_at", "Alleged at", "optional: when it happened, 2024-10-01 or a time "
              "with a zone"),
    ),
    model=ClaimCreate,
    rules=inputs.claim_fields,
    write=lambda ledger, body, actor: ledger.writes.register_claim(body, actor).answer,
    help="Registers a claim with no statement yet: its probability starts at 50%. Record "
         "statements on its page once it is registered; nothing registered can be deleted.",
)
KINDS = {kind.noun: kind for kind in (SOURCE, CLAIM)}


def _body(kind: Registration, typed: Mapping[str, str]) -> dict[str, Any]:
    """The form as the API's body: blank fields left out, lists split at commas and spaces."""
    body: dict[str, Any] = {}
    for field in kind.fields:
        value = typed.get(field.name, "")
        if field.kind == "list":
            items = [item for item in re.split(r"[\s,]+", value) if item]
            if items:
                body[field.name] = items
        elif value:
            body[field.name] = value
    return body


def _named(kind: Registration, location: str) -> str:
    """The form field an error's location names (``tags[1]``: ``tags``), else ``form``."""
    name = re.split(r"[.\[]", location, maxsplit=1)[0]
    return name if name in kind.names else "form"


def checked(kind: Registration, typed: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The body the form makes, checked as the API checks it and by the ledger's rules:
    the body, and what is wrong with it by field (nothing wrong: no errors)."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {}
    try:
        body = kind.model(**_body(kind, typed)).fields()
        kind.rules(body)
    except ValidationError as error:
        for item in error.errors():
            where = str(item["loc"][0]) if item["loc"] else "form"
            errors.setdefault(_named(kind, where), f"{where}: {item['msg']}")
    except InvalidInput as error:
        errors[_named(kind, error.field)] = f"{error.title}: {error.detail}"
    return body, errors


def _form(request: Request, kind: Registration, typed: Mapping[str, str],
          errors: Mapping[str, str], status: int = 200) -> Response:
    token = form_token(request)
    page = render(request, "register.html", {
        "title": f"Register a {kind.noun}", "kind": kind, "token": token, "typed": typed,
        "errors": errors,
    }, status)
    return keep_token(request, page, token)


def _refused(request: Request, kind: Registration) -> Response:
    return problem(request, 403, "Not allowed",
                   f"Registering a {kind.noun} needs a writer's key: sign out and sign in "
                   "with one. Nothing was written.")


@pages.get("/ui/register/{noun}")
def registration_form(request: Request, noun: str) -> Response:
    """The empty form (writer role)."""
    kind = KINDS.get(noun)
    if kind is None:
        return problem(request, 404, "Not found", f"There is no page at {request.url.path}.")
    if viewer(request, Role.writer) is None:
        return _refused(request, kind)
    return _form(request, kind, {"reliability": "F"} if kind is SOURCE else {}, {})


@pages.post("/ui/register/{noun}")
def register(request: Request, noun: str, ledger: LedgerDep, form: PostedForm) -> Response:
    """Register what the form describes (writer role), or show what to mend."""
    kind = KINDS.get(noun)
    if kind is None:
        return problem(request, 404, "Not found", f"There is no page at {request.url.path}.")
    principal = viewer(request, Role.writer)
    if principal is None:
        return _refused(request, kind)
    if cross_site(request, form):
        return problem(request, 403, "Not allowed",
                       "This form did not come from this site's own page: open the "
                       "registration page again and send it from there. Nothing was written.")
    typed = {name: form.get(name, "").strip() for name in kind.names}
    body, errors = checked(kind, typed)
    if not errors:
        try:
            answer = kind.write(ledger, body, principal.name)
        except InvalidInput as error:
            errors[_named(kind, error.field)] = f"{error.title}: {error.detail}"
        except AlreadyExists as error:  # the id is taken
            errors["id"] = f"{error.title}: {error.detail}; choose another id"
        except LedgerError as error:
            errors["form"] = f"{error.title}: {error.detail}"
        else:
            return RedirectResponse(kind.page(answer["id"]), status_code=303)
    return _form(request, kind, typed, errors, status=422)
