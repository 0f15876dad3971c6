"""Registering a source or a claim from the browser: for a writer, checked as ``POST
/sources`` and ``POST /claims`` check, refusals beside their field with what was typed kept,
nothing written on a refusal, across sites, or for a reader or a stranger."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ledger.application import ClaimsLedger
from ledger.errors import NotFound
from tests.api.conftest import log_length

from .conftest import TROOPS, Node, parse
from .test_drafts import _fields
from .test_record import READER, WRITER, _sign_in, desk  # noqa: F401  (desk: a fixture)

SOURCE = {"id": "oleg-ivanov", "name": "Oleg Ivanov", "role": "Deputy minister",
          "affiliations": "ua, UA-GOV", "reliability": "B"}
CLAIM = {"id": "drones-over-kyiv", "text": "Russia flew Iranian drones over Kyiv",
         "tags": "Drones, iran  kyiv", "parties": "RU IR", "beneficiaries": "UA",
         "alleged_at": "2024-10-01"}


def _form(client: TestClient, noun: str) -> Node:
    answer = client.get(f"/ui/register/{noun}")
    assert answer.status_code == 200, answer.text
    return parse(answer.text).by_id("register-form")


def _send(client: TestClient, noun: str, typed: dict[str, str]) -> dict[str, str]:
    """The form as the page gives it (with its token), with these fields typed in."""
    return {**_fields(_form(client, noun)), **typed}


def _registered(client: TestClient, noun: str, typed: dict[str, str]) -> str:
    """Send the form with these fields typed in; where the success redirects to."""
    answer = client.post(f"/ui/register/{noun}", data=_send(client, noun, typed),
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def test_a_writer_registers_a_source_from_the_sources_page(
    desk: TestClient, ledger: ClaimsLedger  # noqa: F811
) -> None:
    _sign_in(desk, WRITER)
    link = parse(desk.get("/ui/sources").text).by_id("register-link").one("a")
    assert (link.attrs["href"], link.text()) == ("/ui/register/source", "Register a source")
    form = _form(desk, "source")
    assert form.attrs["action"] == "/ui/register/source"
    assert _fields(form)["reliability"] == "F"  # the API's default, chosen
    assert _registered(desk, "source", SOURCE) == "/ui/sources/oleg-ivanov"
    source = ledger.get_source("oleg-ivanov")
    assert (source["name"], source["role"], source["affiliations"], source["reliability"]) == (
        "Oleg Ivanov", "Deputy minister", ["UA", "UA-GOV"], "B")
    assert source["ratings"][0]["actor"] == "desk"
    page = parse(desk.get("/ui/sources/oleg-ivanov").text)
    assert page.one("h1").text() == "Oleg Ivanov"
    assert page.by_id("affiliations").text() == "UA, UA-GOV"


def test_a_writer_registers_a_claim_from_the_claims_page(
    desk: TestClient, ledger: ClaimsLedger  # noqa: F811
) -> None:
    _sign_in(desk, WRITER)
    links = parse(desk.get("/ui").text).by_id("register-link").all("a")
    assert ("/ui/register/claim", "Register a claim") in [
        (a.attrs["href"], a.text()) for a in links]
    assert _registered(desk, "claim", CLAIM) == "/ui/claims/drones-over-kyiv"
    claim = ledger.claim("drones-over-kyiv")
    assert (claim["text"], claim["tags"], claim["parties"], claim["beneficiaries"]) == (
        CLAIM["text"], ["drones", "iran", "kyiv"], ["RU", "IR"], ["UA"])
    assert claim["alleged_at"].startswith("2024-10-01T00:00:00")
    page = parse(desk.get("/ui/claims/drones-over-kyiv").text)
    assert page.one("h1").text() == CLAIM["text"]
    assert page.by_id("record-form")  # ready for its first statement


def test_a_claim_without_an_id_gets_one_from_the_server(
    desk: TestClient, ledger: ClaimsLedger  # noqa: F811
) -> None:
    _sign_in(desk, WRITER)
    location = _registered(desk, "claim", {"text": "An allegation with no id"})
    claim_id = location.removeprefix("/ui/claims/")
    assert claim_id and location == f"/ui/claims/{claim_id}"
    assert ledger.claim(claim_id)["text"] == "An allegation with no id"


SOURCE_REFUSALS = {
    "bad-id": ({"id": "Oleg Ivanov"}, "id", "is not an id"),
    "no-id": ({"id": ""}, "id", "id: Field required"),
    "blank-name": ({"name": "  "}, "name", "name: Field required"),
    "bad-affiliation": ({"affiliations": "UA U"}, "affiliations",
                        "'U' is not an affiliation code"),
    "bad-grade": ({"reliability": "G"}, "reliability", "not an Admiralty reliability grade"),
    "long-role": ({"role": "x" * 20_001}, "role", "at most 20000 characters"),
    "duplicate-id": ({"id": "kr-nis"}, "id", "source 'kr-nis' is already registered"),
}
CLAIM_REFUSALS = {
    "bad-id": ({"id": "Drones!"}, "id", "is not an id"),
    "no-text": ({"text": ""}, "text", "text: Field required"),
    "bad-tag": ({"tags": "drones bad_tag"}, "tags", "'bad_tag' is not a tag"),
    "bad-party": ({"parties": "RU R"}, "parties", "'R' is not an affiliation code"),
    "party-and-beneficiary": ({"beneficiaries": "UA RU"}, "beneficiaries",
                              "RU cannot be both a party"),
    "future": ({"alleged_at": "2999-01-01"}, "alleged_at", "is in the future"),
    "unreadable-date": ({"alleged_at": "last week"}, "alleged_at", "alleged_at"),
    "duplicate-id": ({"id": TROOPS}, "id", f"claim '{TROOPS}' is already registered"),
}


@pytest.mark.parametrize(("noun", "changes", "field", "words"), [
    pytest.param(noun, *refusal, id=f"{noun}-{name}")
    for noun, refusals in (("source", SOURCE_REFUSALS), ("claim", CLAIM_REFUSALS))
    for name, refusal in refusals.items()
])
def test_a_refusal_is_shown_beside_its_field_and_nothing_is_written(
    desk: TestClient, ledger: ClaimsLedger,  # noqa: F811
    noun: str, changes: dict[str, str], field: str, words: str,
) -> None:
    _sign_in(desk, WRITER)
    sent = _send(desk, noun, {**(SOURCE if noun == "source" else CLAIM), **changes})
    before = log_length(ledger)
    answer = desk.post(f"/ui/register/{noun}", data=sent)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    page = parse(answer.text)
    shown = page.by_id(f"register-{field}-error").text()
    assert words in shown, shown
    assert page.by_id("register-refused")
    form = page.by_id("register-form")
    control = next(n for n in form.walk() if n.attrs.get("name") == field)
    assert control.attrs["aria-invalid"] == "true"
    assert control.attrs["aria-describedby"] == f"register-{field}-error"
    # Everything as typed (but a grade the list does not offer), the token included.
    again = _fields(form)
    assert {k: v for k, v in again.items() if k != "reliability"} == {
        k: v.strip() for k, v in sent.items() if k != "reliability"}
    assert log_length(ledger) == before


def test_a_reader_gets_no_link_and_cannot_register(
    desk: TestClient, ledger: ClaimsLedger  # noqa: F811
) -> None:
    _sign_in(desk, WRITER)
    forms = {noun: _send(desk, noun, typed) for noun, typed in
             (("source", SOURCE), ("claim", CLAIM))}
    desk.post("/ui/logout")
    _sign_in(desk, READER)
    for path in ("/ui", "/ui/sources"):
        assert not [n for n in parse(desk.get(path).text).walk()
                    if n.attrs.get("id") == "register-link"]
    before = log_length(ledger)
    for noun, sent in forms.items():
        shown = desk.get(f"/ui/register/{noun}")
        assert shown.status_code == 403 and "writer" in shown.text
        assert "register-form" not in shown.text
        answer = desk.post(f"/ui/register/{noun}", data=sent)
        assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
    assert log_length(ledger) == before


def test_a_stranger_is_asked_to_sign_in_and_nothing_is_written(
    desk: TestClient, ledger: ClaimsLedger  # noqa: F811
) -> None:
    before = log_length(ledger)
    desk.cookies.set("ledger_form", "t")  # a token that matches: only the sign-in is missing
    for noun, typed in (("source", SOURCE), ("claim", CLAIM)):
        shown = desk.get(f"/ui/register/{noun}")
        assert shown.status_code == 401
        assert parse(shown.text).by_id("key")  # the sign-in form
        answer = desk.post(f"/ui/register/{noun}", data={**typed, "token": "t"})
        assert answer.status_code == 401
    assert log_length(ledger) == before
    with pytest.raises(NotFound):
        ledger.get_source("oleg-ivanov")


def test_a_form_from_another_site_registers_nothing(
    desk: TestClient, ledger: ClaimsLedger  # noqa: F811
) -> None:
    _sign_in(desk, WRITER)
    before = log_length(ledger)
    for noun, typed in (("source", SOURCE), ("claim", CLAIM)):
        sent = _send(desk, noun, typed)
        missing = desk.post(f"/ui/register/{noun}",
                            data={k: v for k, v in sent.items() if k != "token"})
        wrong = desk.post(f"/ui/register/{noun}", data={**sent, "token": "guess"})
        elsewhere = desk.post(f"/ui/register/{noun}", data=sent,
                              headers={"Origin": "https://evil.example"})
        assert [a.status_code for a in (missing, wrong, elsewhere)] == [403, 403, 403]
        assert "did not come from this site" in missing.text
    assert log_length(ledger) == before


def test_no_other_kind_is_registered_here(desk: TestClient) -> None:  # noqa: F811
    _sign_in(desk, WRITER)
    assert desk.get("/ui/register/event").status_code == 404
    assert desk.post("/ui/register/event", data={"token": "x"}).status_code == 404
