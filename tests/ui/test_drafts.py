"""Drafting statements from an article in the web view: for a writer, nothing written until
accepted, the accepted ones appended in one batch, new sources registered first or refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.errors import InvalidInput
from ledger.examples import load_article
from tests.api.conftest import log_length

from .conftest import TROOPS, Node, parse

WRITER = "drafts-test-writer-0123456789"
READER = "drafts-test-reader-0123456789"
ARTICLE = (
    "Kremlin spokesman Dmitry Peskov on Thursday dismissed the reports as fake.\n"
    "South Korea's National Intelligence Service said last week the claim could be accurate.\n"
    "General Maria Ortiz told reporters on 2 October that troops had crossed the border."
)
URL = "https://example.org/news/troops"


@pytest.fixture
def desk(settings: Settings, ledger: ClaimsLedger) -> Iterator[TestClient]:
    load_article(ledger, actor="example-data")
    keyed = settings.model_copy(
        update={"api_keys": SecretStr(f"desk:writer:{WRITER},viewer:reader:{READER}")})
    with TestClient(create_app(keyed, ledger)) as client:
        yield client


def _sign_in(client: TestClient, key: str) -> None:
    answer = client.post("/ui/login", data={"key": key, "next": "/ui/drafts"},
                         follow_redirects=False)
    assert answer.status_code == 303


def _fields(form: Node) -> dict[str, str]:
    found = {}
    for n in form.walk():
        if n.tag not in ("input", "select", "textarea") or "name" not in n.attrs:
            continue
        if n.attrs.get("type") in ("radio", "checkbox") and "checked" not in n.attrs:
            continue
        if n.tag == "select":
            chosen = [o for o in n.all("option") if "selected" in o.attrs]
            found[n.attrs["name"]] = chosen[0].attrs["value"] if chosen else ""
        else:
            found[n.attrs["name"]] = n.text() if n.tag == "textarea" else n.attrs.get("value", "")
    return found


def _review(client: TestClient) -> dict[str, str]:
    paste = parse(client.get(f"/ui/drafts?claim={TROOPS}").text).by_id("draft-form")
    sent = {**_fields(paste), "text": ARTICLE, "date": "2024-10-14", "reference": URL}
    answer = client.post("/ui/drafts", data=sent)
    assert answer.status_code == 200, answer.text
    return _fields(parse(answer.text).by_id("review-form"))


def _events(client: TestClient) -> list[dict[str, Any]]:
    answer = client.get(f"/claims/{TROOPS}/events", headers={"Authorization": f"Bearer {READER}"})
    return list(answer.json()["events"])


def test_a_reader_may_not_draft(desk: TestClient, ledger: ClaimsLedger) -> None:
    _sign_in(desk, WRITER)
    fields = _review(desk)
    desk.post("/ui/logout")
    _sign_in(desk, READER)
    answer = desk.get("/ui/drafts")
    assert answer.status_code == 403 and "writer" in answer.text
    before = log_length(ledger)
    for path in ("/ui/drafts", "/ui/drafts/accept"):
        assert desk.post(path, data=fields).status_code == 403
    assert log_length(ledger) == before


def test_the_paste_form_is_linked_from_the_claim_page_and_the_nav(desk: TestClient) -> None:
    _sign_in(desk, WRITER)
    claim = parse(desk.get(f"/ui/claims/{TROOPS}").text)
    link = claim.by_id("draft-link").one("a")
    assert link.attrs["href"] == f"/ui/drafts?claim={TROOPS}"
    assert "/ui/drafts" in [a.attrs.get("href") for a in claim.all("a")]
    form = parse(desk.get(link.attrs["href"]).text).by_id("draft-form")
    assert _fields(form)["claim_id"] == TROOPS


def test_proposals_are_shown_editable_and_nothing_is_written(
    desk: TestClient, ledger: ClaimsLedger
) -> None:
    _sign_in(desk, WRITER)
    before = log_length(ledger)
    fields = _review(desk)
    assert fields["rows"] == "3" and fields["claim_id"] == TROOPS and fields["reference"] == URL
    assert [(fields[f"source-{i}"], fields[f"type-{i}"], fields[f"occurred_at-{i}"])
            for i in range(3)] == [("peskov", "denied", "2024-10-10"),
                                  ("kr-nis", "assessed", "2024-10-07"),
                                  ("maria-ortiz", "asserted", "2024-10-02")]
    assert fields["likelihood-1"] == "0.6" and fields["likelihood_phrase-1"] == "could be accurate"
    assert (fields["new_id-2"], fields["new_name-2"], fields["register-2"]) == (
        "maria-ortiz", "Maria Ortiz", "on")
    assert all(fields[f"decision-{i}"] == "accept" for i in range(3))
    assert log_length(ledger) == before


def test_accepted_ones_are_appended_in_one_batch_with_the_new_source_first(
    desk: TestClient, ledger: ClaimsLedger
) -> None:
    _sign_in(desk, WRITER)
    fields = _review(desk)
    before = _events(desk)
    fields.update({"decision-1": "reject", "quote-0": "another hoax"})
    answer = desk.post("/ui/drafts/accept", data=fields, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    after = _events(desk)
    new = after[len(before):]
    assert [(e["type"], e["source"], e["actor"], e["reference"]) for e in new] == [
        ("denied", "peskov", "desk", URL), ("asserted", "maria-ortiz", "desk", URL)]
    assert new[0]["quote"] == "another hoax"
    assert new[1]["occurred_at"].startswith("2024-10-02")
    assert answer.headers["location"] == (
        f"/ui/claims/{TROOPS}?recorded={new[0]['event_id']}#event-{new[0]['event_id']}")
    assert ledger.get_source("maria-ortiz")["name"] == "Maria Ortiz"
    page = parse(desk.get(answer.headers["location"]).text)
    shown = {n.attrs["id"] for n in page.walk() if n.attrs.get("id", "").startswith("event-")}
    assert {f"event-{e['event_id']}" for e in new} <= shown


def test_an_unregistered_source_not_ticked_is_refused_and_nothing_is_written(
    desk: TestClient, ledger: ClaimsLedger
) -> None:
    _sign_in(desk, WRITER)
    fields = _review(desk)
    del fields["register-2"]
    before = log_length(ledger)
    answer = desk.post("/ui/drafts/accept", data=fields)
    assert answer.status_code == 422
    error = parse(answer.text).by_id("draft-source-2-error").text()
    assert "'maria-ortiz' is not registered" in error and "Register it" in error
    assert log_length(ledger) == before
    # What was typed is kept: the form comes back as it was sent.
    kept = _fields(parse(answer.text).by_id("review-form"))
    assert kept["quote-0"] == fields["quote-0"] and "register-2" not in kept


def test_one_bad_row_refuses_the_whole_batch(desk: TestClient, ledger: ClaimsLedger) -> None:
    _sign_in(desk, WRITER)
    fields = _review(desk)
    fields.update({"likelihood-1": "perhaps", "likelihood_phrase-1": ""})
    before = log_length(ledger)
    answer = desk.post("/ui/drafts/accept", data=fields)
    assert answer.status_code == 422
    assert "likelihood" in parse(answer.text).by_id("draft-likelihood-1-error").text()
    assert log_length(ledger) == before  # not even the new source: checked before anything


def test_bad_input_is_shown_beside_its_field(desk: TestClient, ledger: ClaimsLedger) -> None:
    _sign_in(desk, WRITER)
    paste = _fields(parse(desk.get("/ui/drafts").text).by_id("draft-form"))
    no_claim = desk.post("/ui/drafts", data={**paste, "text": ARTICLE, "date": "2024-10-14"})
    assert no_claim.status_code == 422
    assert "claim" in parse(no_claim.text).by_id("draft-claim_id-error").text()
    bad_date = desk.post("/ui/drafts", data={**paste, "claim_id": TROOPS, "text": ARTICLE,
                                             "date": "14 Oct"})
    assert bad_date.status_code == 422
    page = parse(bad_date.text)
    assert "date" in page.by_id("draft-date-error").text()
    assert _fields(page.by_id("draft-form"))["text"] == " ".join(ARTICLE.split())  # kept


def test_cross_site_posts_are_refused(desk: TestClient, ledger: ClaimsLedger) -> None:
    _sign_in(desk, WRITER)
    fields = _review(desk)
    before = log_length(ledger)
    forged = desk.post("/ui/drafts/accept", data={**fields, "token": "forged"})
    assert forged.status_code == 403
    other_site = desk.post("/ui/drafts/accept", data=fields,
                           headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403
    assert log_length(ledger) == before


NEW_CLAIM = {"new_claim_id": "troops-crossed", "new_claim_text":
             "North Korean troops have crossed into Ukraine"}


def _review_new_claim(client: TestClient, **typed: str) -> Any:
    """The paste form sent with a new claim described instead of a registered one."""
    paste = _fields(parse(client.get("/ui/drafts").text).by_id("draft-form"))
    return client.post("/ui/drafts", data={**paste, "text": ARTICLE, "date": "2024-10-14",
                                           "reference": URL, **NEW_CLAIM, **typed})


def _log_after(client: TestClient, position: int) -> list[dict[str, Any]]:
    answer = client.get("/events", params={"after": position},
                        headers={"Authorization": f"Bearer {READER}"})
    return list(answer.json()["data"])


def test_a_new_claim_is_registered_just_before_the_accepted_statements(
    desk: TestClient, ledger: ClaimsLedger
) -> None:
    _sign_in(desk, WRITER)
    head = log_length(ledger)
    answer = _review_new_claim(desk)
    assert answer.status_code == 200, answer.text
    page = parse(answer.text)
    assert page.one("h1").text() == NEW_CLAIM["new_claim_text"]
    assert "troops-crossed" in page.by_id("draft-new-claim").text()
    fields = _fields(page.by_id("review-form"))
    assert fields["claim_id"] == "" and fields["rows"] == "3"
    assert {k: fields[k] for k in NEW_CLAIM} == NEW_CLAIM
    assert log_length(ledger) == head  # nothing written yet, not even the claim
    accepted = desk.post("/ui/drafts/accept", data=fields, follow_redirects=False)
    assert accepted.status_code == 303, accepted.text
    written = _log_after(desk, head)
    # The ticked new source, then the claim, then the statements in one batch.
    assert [(e["type"], e.get("source") or e.get("claim_id")) for e in written] == [
        ("source_registered", "maria-ortiz"), ("claim_registered", "troops-crossed"),
        ("denied", "peskov"), ("assessed", "kr-nis"), ("asserted", "maria-ortiz")]
    claim = ledger.claim("troops-crossed")
    assert claim["text"] == NEW_CLAIM["new_claim_text"]
    first = written[2]["event_id"]
    assert accepted.headers["location"] == (
        f"/ui/claims/troops-crossed?recorded={first}#event-{first}")
    shown = parse(desk.get(accepted.headers["location"]).text)
    assert shown.by_id(f"event-{first}")


@pytest.mark.parametrize(("typed", "field", "words"), [
    ({"claim_id": TROOPS}, "claim_id", "not both"),
    ({"new_claim_id": TROOPS}, "new_claim_id", f"'{TROOPS}' is already registered"),
    ({"new_claim_id": "Troops Crossed"}, "new_claim_id", "is not an id"),
    ({"new_claim_text": ""}, "new_claim_text", "text: Field required"),
], ids=["both", "taken-id", "bad-id", "no-text"])
def test_a_refused_new_claim_is_shown_beside_its_field_and_nothing_is_written(
    desk: TestClient, ledger: ClaimsLedger, typed: dict[str, str], field: str, words: str
) -> None:
    _sign_in(desk, WRITER)
    head = log_length(ledger)
    answer = _review_new_claim(desk, **typed)
    assert answer.status_code == 422
    page = parse(answer.text)
    assert words in page.by_id(f"draft-{field}-error").text()
    kept = _fields(page.by_id("draft-form"))
    assert {k: kept[k] for k in ("new_claim_id", "new_claim_text")} == {
        **NEW_CLAIM, **{k: v for k, v in typed.items() if k != "claim_id"}}
    assert log_length(ledger) == head


def test_a_new_claim_taken_meanwhile_is_refused_at_accept(
    desk: TestClient, ledger: ClaimsLedger
) -> None:
    _sign_in(desk, WRITER)
    fields = _fields(parse(_review_new_claim(desk).text).by_id("review-form"))
    ledger.register_claim({"id": "troops-crossed", "text": "Someone else's"}, "other")
    head = log_length(ledger)
    answer = desk.post("/ui/drafts/accept", data=fields)
    assert answer.status_code == 422
    error = parse(answer.text).by_id("draft-new_claim_id-error").text()
    assert "'troops-crossed' is already registered" in error
    assert log_length(ledger) == head  # checked before anything, the source included


def test_a_batch_refused_after_the_new_claim_says_what_stays_registered(
    desk: TestClient, ledger: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sign_in(desk, WRITER)
    fields = _fields(parse(_review_new_claim(desk).text).by_id("review-form"))
    head = log_length(ledger)

    def refuse(items: Any, actor: str, key: str | None = None) -> Any:
        raise InvalidInput("[0].quote", "refused for the test")

    with monkeypatch.context() as patch:
        patch.setattr(ledger.writes, "append_batch", refuse)
        answer = desk.post("/ui/drafts/accept", data=fields)
    assert answer.status_code == 422
    page = parse(answer.text)
    error = page.by_id("draft-quote-0-error").text()
    assert "refused for the test" in error
    assert ("No statement was written; registered, and staying registered: "
            "source 'maria-ortiz', claim 'troops-crossed'.") in error
    assert [e["type"] for e in _log_after(desk, head)] == [
        "source_registered", "claim_registered"]
    # The form now names the registered claim: sent again, it appends to it.
    again = _fields(page.by_id("review-form"))
    assert again["claim_id"] == "troops-crossed" and "new_claim_id" not in again
    assert page.one("h1").text() == NEW_CLAIM["new_claim_text"]
    retried = desk.post("/ui/drafts/accept", data=again, follow_redirects=False)
    assert retried.status_code == 303, retried.text
    assert [e["type"] for e in _log_after(desk, head + 2)] == ["denied", "assessed", "asserted"]
