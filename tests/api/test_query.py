"""Silent mistakes in a query string are refused, saying what was meant (issue 29, point 3):
an unknown parameter names itself and the close one meant; a time whose '+' arrived as a
space is told to write %2B; a bad cursor is told what a cursor is; nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.application import ClaimsLedger

from .conftest import assert_problem, log_length

TROOPS = "/claims/nk-troops-for-russia"


@pytest.mark.parametrize(("path", "given", "meant"), [
    (TROOPS, "as-of", "as_of"),  # the CLI's spelling
    (TROOPS, "asof", "as_of"),
    (TROOPS, "knownAt", "known_at"),
    ("/claims", "tags", "tag"),
    ("/claims", "Status", "status"),
    (f"{TROOPS}/audit", "sources", "source"),
    ("/events", "since", None),  # nothing close: named, no guess
])
def test_an_unknown_query_parameter_is_named_with_the_one_meant(
    article: TestClient, path: str, given: str, meant: str | None
) -> None:
    answer = article.get(path, params={given: "2024-10-12"})
    body = assert_problem(answer, 422, given)
    [error] = body["errors"]
    assert error["in"] == "query"
    assert f"is not a query parameter of GET {path.replace('nk-troops-for-russia', '{claim_id}')}" \
        in error["reason"]
    if meant is None:
        assert "did you mean" not in error["reason"]
    else:
        assert f"did you mean {meant!r}?" in error["reason"]


def test_every_unknown_parameter_is_named_and_the_known_ones_listed(article: TestClient) -> None:
    body = assert_problem(article.get("/claims", params={"as_of": "2024-10-12", "tags": "x",
                                                          "colour": "red"}), 422)
    assert [e["field"] for e in body["errors"]] == ["tags", "colour"]
    assert "it takes as_of, band, cursor, known_at, limit" in body["errors"][1]["reason"]
    answer = article.get("/healthz", params={"verbose": "1"})
    assert "it takes no query parameters" in assert_problem(answer, 422, "verbose")["detail"]


def test_a_write_with_an_unknown_parameter_writes_nothing(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    before = log_length(ledger)
    answer = article.post(f"{TROOPS}/events", params={"dry_run": "1"}, json={
        "type": "denied", "source": "peskov", "occurred_at": "2024-10-17", "quote": "hoax"})
    assert_problem(answer, 422, "dry_run")
    assert log_length(ledger) == before


def test_every_published_query_parameter_is_taken(article: TestClient) -> None:
    """The refusal knows each route's parameters: none the schema publishes is refused."""
    spec = article.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"]
            if method != "get" or not names:
                continue
            url = path.replace("{claim_id}", "nk-troops-for-russia")
            url = url.replace("{source_id}", "peskov").replace("{event_id}", "x")
            for name in names:
                answer: Any = article.get(url, params={name: "?"})
                unknown = [e for e in answer.json().get("errors", ())
                           if "is not a query parameter" in e["reason"]]
                assert unknown == [], (path, name, answer.text)


def test_the_web_view_takes_what_links_carry(article: TestClient) -> None:
    assert article.get("/ui", params={"utm_source": "newsletter"}).status_code == 200


@pytest.mark.parametrize(("given", "fixed"), [
    ("2024-10-31T10:00:00 02:00", "known_at=2024-10-31T10:00:00%2B02:00"),
    ("2024-10-31T10:00:00.5 05:30", "known_at=2024-10-31T10:00:00.5%2B05:30"),
])
def test_a_plus_sent_unencoded_gets_a_hint(article: TestClient, given: str, fixed: str) -> None:
    # As curl sends a '+' typed into a URL: unencoded, which the server reads as a space.
    answer = article.get(f"{TROOPS}?known_at={given.replace(' ', '+')}")
    body = assert_problem(answer, 422)
    assert body["field"] == "known_at"
    assert "'+' in a URL's query means a space" in body["detail"]
    assert fixed in body["detail"]
    encoded = article.get(TROOPS, params={"known_at": given.replace(" ", "+")})
    assert encoded.status_code in (200, 404), encoded.text  # %2B: taken as a time


def test_a_bad_cursor_says_what_a_cursor_is(article: TestClient) -> None:
    body = assert_problem(article.get("/claims", params={"cursor": "abc"}), 422, "cursor")
    assert body["errors"][0]["reason"].startswith("is not a cursor of this list: pass back")
    assert "[0-9]" not in body["detail"]


@pytest.mark.parametrize("path", [f"{TROOPS}/events", "/events/batch"])
def test_an_event_without_a_source_says_source_is_required(
    article: TestClient, ledger: ClaimsLedger, path: str
) -> None:
    event: dict[str, Any] = {"type": "asserted", "occurred_at": "2024-10-12", "quote": "x"}
    if path == "/events/batch":
        event = [{**event, "claim_id": "nk-troops-for-russia"}]  # type: ignore[assignment]
    before = log_length(ledger)
    body = assert_problem(article.post(path, json=event), 422)
    assert body["errors"][0]["reason"] == "is required"
    assert body["errors"][0]["field"].endswith("source")
    assert log_length(ledger) == before
