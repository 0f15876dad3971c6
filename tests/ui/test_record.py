"""Recording a statement from a claim's page: for a writer, checked as the API checks,
refusals beside their field with what was typed kept, nothing written across sites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.examples import load_article

from .conftest import TROOPS, Node, parse

WRITER = "record-test-writer-0123456789"
READER = "record-test-reader-0123456789"


@pytest.fixture
def desk(settings: Settings, ledger: ClaimsLedger) -> Iterator[TestClient]:
    """The article, behind keys: a writer ('desk') and a reader ('viewer')."""
    load_article(ledger, actor="example-data")
    keyed = settings.model_copy(
        update={"api_keys": SecretStr(f"desk:writer:{WRITER},viewer:reader:{READER}")})
    with TestClient(create_app(keyed, ledger)) as client:
        yield client


def _sign_in(client: TestClient, key: str) -> None:
    answer = client.post("/ui/login", data={"key": key, "next": f"/ui/claims/{TROOPS}"},
                         follow_redirects=False)
    assert answer.status_code == 303


def _form(client: TestClient) -> Node:
    page = parse(client.get(f"/ui/claims/{TROOPS}").text)
    return page.by_id("record-form")


def _events(client: TestClient) -> list[dict[str, object]]:
    answer = client.get(f"/claims/{TROOPS}/events", headers={"Authorization": f"Bearer {READER}"})
    return list(answer.json()["events"])


def _appended(client: TestClient) -> float:
    """The metrics' count of appended events."""
    text = client.get("/metrics", headers={"Authorization": f"Bearer {WRITER}"}).text
    (line,) = [x for x in text.splitlines() if x.startswith("claims_ledger_events_appended_total")]
    return float(line.split()[-1])


def _fields(form: Node) -> dict[str, str]:
    return {n.attrs["name"]: n.text() if n.tag == "textarea" else n.attrs.get("value", "")
            for n in form.walk() if n.tag in ("input", "select", "textarea") and "name" in n.attrs}


def test_a_writer_records_a_statement_and_sees_it(desk: TestClient) -> None:
    _sign_in(desk, WRITER)
    form = _form(desk)
    assert form.attrs["action"] == f"/ui/claims/{TROOPS}/events"
    before = _events(desk)
    sent = {**_fields(form), "type": "assessed", "source": "kr-nis",
            "occurred_at": "2024-10-19", "likelihood": "highly likely", "confidence": "high",
            "evidence": "intercepted-communication",
            "summary": "Intercepts show the troops in Russia."}
    counted = _appended(desk)
    answer = desk.post(f"/ui/claims/{TROOPS}/events", data=sent, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert _appended(desk) == counted + 1
    after = _events(desk)
    assert len(after) == len(before) + 1
    new = after[-1]
    assert (new["type"], new["source"], new["actor"], new["evidence"]) == (
        "assessed", "kr-nis", "desk", "intercepted-communication")
    assert new["occurred_at"] == "2024-10-19T00:00:00.000000Z"
    assert new["likelihood_phrase"] == "highly likely"
    assert answer.headers["location"] == (
        f"/ui/claims/{TROOPS}?recorded={new['event_id']}#event-{new['event_id']}")
    page = parse(desk.get(answer.headers["location"].split("#")[0]).text)
    assert page.by_id("recorded").text().startswith(f"Recorded: #{new['position']} assessed by "
                                                     "National Intelligence Service")
    assert page.by_id(f"event-{new['event_id']}")


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"source": "nobody"}, "source", "no source 'nobody'"),
    ({"occurred_at": "2024-10-19T10:00:00"}, "occurred_at", "zone"),
    ({"likelihood": "sort of"}, "likelihood", "likely"),
    ({"type": "asserted", "likelihood": "", "summary": ""}, "quote", "needs a quote or a summary"),
], ids=["unknown-source", "no-zone", "unknown-term", "no-words"])
def test_refusals_show_beside_their_field_and_keep_what_was_typed(
    desk: TestClient, changes: dict[str, str], field: str, words: str
) -> None:
    _sign_in(desk, WRITER)
    form = _form(desk)
    before = _events(desk)
    sent = {**_fields(form), "type": "assessed", "source": "kr-nis",
            "occurred_at": "2024-10-19", "likelihood": "likely", "summary": "Kept text.",
            **changes}
    answer = desk.post(f"/ui/claims/{TROOPS}/events", data=sent)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    page = parse(answer.text)
    shown = page.by_id(f"record-{field}-error").text()
    assert words in shown, shown
    again = _fields(page.by_id("record-form"))
    assert again["summary"] == sent["summary"] and again["occurred_at"] == sent["occurred_at"]
    assert again["token"] == sent["token"]
    assert _events(desk) == before  # nothing written


def test_a_reader_gets_no_form_and_cannot_post(desk: TestClient) -> None:
    _sign_in(desk, READER)
    page = parse(desk.get(f"/ui/claims/{TROOPS}").text)
    assert not [n for n in page.walk() if n.attrs.get("id") == "record-form"]
    before = _events(desk)
    answer = desk.post(f"/ui/claims/{TROOPS}/events", data={
        "type": "asserted", "source": "zelensky", "occurred_at": "2024-10-19", "summary": "x"})
    assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
    assert _events(desk) == before


def test_a_form_from_another_site_writes_nothing(desk: TestClient) -> None:
    _sign_in(desk, WRITER)
    token = _fields(_form(desk))["token"]
    before = _events(desk)
    statement = {"type": "asserted", "source": "zelensky", "occurred_at": "2024-10-19",
                 "summary": "Forged."}
    missing = desk.post(f"/ui/claims/{TROOPS}/events", data=statement)
    wrong = desk.post(f"/ui/claims/{TROOPS}/events", data={**statement, "token": "guess"})
    elsewhere = desk.post(f"/ui/claims/{TROOPS}/events", data={**statement, "token": token},
                          headers={"Origin": "https://evil.example"})
    assert [a.status_code for a in (missing, wrong, elsewhere)] == [403, 403, 403]
    assert _events(desk) == before


def test_preview_shows_the_move_and_records_nothing_then_record_commits(
    desk: TestClient, ledger: ClaimsLedger
) -> None:
    _sign_in(desk, WRITER)
    form = _form(desk)
    buttons = [n for n in form.walk() if n.tag == "button"]
    assert [(b.attrs.get("name"), b.attrs.get("value")) for b in buttons] == [
        ("action", "preview"), ("action", "record")]
    before = _events(desk)
    head = int(ledger.store.recorder.max_notification_id() or 0)
    claim = desk.get(f"/claims/{TROOPS}", headers={"Authorization": f"Bearer {READER}"}).json()
    sent = {**_fields(form), "type": "assessed", "source": "kr-nis", "occurred_at": "2024-10-19",
            "likelihood": "almost certain", "summary": "Satellite images show the troops.",
            "action": "preview"}
    answer = desk.post(f"/ui/claims/{TROOPS}/events", data=sent)
    assert answer.status_code == 200, answer.text
    page = parse(answer.text)
    expected = desk.post(f"/claims/{TROOPS}/preview",
                         headers={"Authorization": f"Bearer {READER}"},
                         json={k: v for k, v in sent.items()
                               if k in ("type", "source", "occurred_at", "likelihood",
                                        "summary")}).json()
    move = page.by_id("preview-move").text()
    was = round(claim["credibility"]["probability"] * 100)
    will = round(expected["after"]["probability"] * 100)
    assert move.startswith(f"Would move from {was}% to {will}% (+"), move
    assert f"{expected['before']['band']} → {expected['after']['band']}" in move or (
        "(unchanged)" in move)
    proposed = page.by_id("preview-proposed").text()
    assert "National Intelligence Service" in proposed and "this statement" in proposed
    assert not [n for n in page.walk() if n.attrs.get("id") == "record-refused"]
    # The NIS's earlier assessment is now superseded by this one, and says so in words.
    reasons = page.by_id("preview-reasons").text()
    assert "superseded by this source's later statement (the one previewed)" in reasons
    assert "proposed" not in reasons
    # Nothing written; the form comes back as typed, with its token.
    assert _events(desk) == before
    assert int(ledger.store.recorder.max_notification_id() or 0) == head
    again = _fields(page.by_id("record-form"))
    assert again["summary"] == sent["summary"] and again["token"] == sent["token"]
    chosen = {n.attrs["value"] for n in page.by_id("record-form").walk()
              if n.tag == "option" and "selected" in n.attrs}
    assert {"assessed", "kr-nis"} <= chosen
    again.update(type="assessed", source="kr-nis")  # the selects, as the browser sends them
    # Record commits what was previewed.
    recorded = desk.post(f"/ui/claims/{TROOPS}/events", data={**again, "action": "record"},
                         follow_redirects=False)
    assert recorded.status_code == 303, recorded.text
    assert len(_events(desk)) == len(before) + 1
    now = desk.get(f"/claims/{TROOPS}", headers={"Authorization": f"Bearer {READER}"}).json()
    assert round(now["credibility"]["probability"] * 100) == will


def test_a_preview_of_a_bad_statement_shows_the_refusal_and_writes_nothing(
    desk: TestClient,
) -> None:
    _sign_in(desk, WRITER)
    before = _events(desk)
    sent = {**_fields(_form(desk)), "type": "assessed", "source": "nobody",
            "occurred_at": "2024-10-19", "likelihood": "likely", "action": "preview"}
    answer = desk.post(f"/ui/claims/{TROOPS}/events", data=sent)
    assert answer.status_code == 422
    page = parse(answer.text)
    assert "no source 'nobody'" in page.by_id("record-source-error").text()
    assert not [n for n in page.walk() if n.attrs.get("id") == "preview"]
    assert _events(desk) == before
