"""Saved views of the claims list: a signed-in user names the list as shown and opens it
again; each principal sees its own; the forms refuse other sites; views are durable."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.examples import load_article

from .conftest import Node, parse

ANA = "views-test-reader-ana-0123456789"
BOB = "views-test-reader-bob-0123456789"
VIEW = {"sort": "-probability", "tag": "north-korea", "as_of": "2024-10-15",
        "since": "2024-10-09"}


@pytest.fixture
def keyed(settings: Settings, ledger: ClaimsLedger) -> Settings:
    load_article(ledger, actor="example-data")
    return settings.model_copy(
        update={"api_keys": SecretStr(f"ana:reader:{ANA},bob:reader:{BOB}")})


@pytest.fixture
def ana(keyed: Settings, ledger: ClaimsLedger) -> Iterator[TestClient]:
    with TestClient(create_app(keyed, ledger)) as client:
        _sign_in(client, ANA)
        yield client


def _sign_in(client: TestClient, key: str) -> None:
    answer = client.post("/ui/login", data={"key": key, "next": "/ui"}, follow_redirects=False)
    assert answer.status_code == 303


def _list(client: TestClient, **params: str) -> Node:
    answer = client.get("/ui", params=params)
    assert answer.status_code == 200, answer.text
    return parse(answer.text)


def _saved(page: Node) -> dict[str, dict[str, str]]:
    found = [n for n in page.walk() if n.attrs.get("id") == "saved-views"]
    if not found:
        return {}
    return {li.data("view"): dict(parse_qsl(urlsplit(li.one("a").attrs["href"]).query))
            for li in found[0].all("li")}


def _save_form(page: Node) -> dict[str, str]:
    form = page.by_id("save-view")
    return {n.attrs["name"]: n.attrs.get("value", "") for n in form.walk()
            if n.tag == "input" and "name" in n.attrs}


def _rows(page: Node) -> list[str]:
    return [r.data("claim-id") for r in page.all("tr") if "data-claim-id" in r.attrs]


def test_a_view_is_saved_listed_reopened_and_deleted(
    ana: TestClient, keyed: Settings, ledger: ClaimsLedger
) -> None:
    shown = _list(ana, **VIEW)
    form = _save_form(shown)
    assert {k: form[k] for k in VIEW} == VIEW  # the list as shown, in the form
    answer = ana.post("/ui/views", data={**form, "name": "  NK   hot "}, follow_redirects=False)
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    assert target.path == "/ui" and dict(parse_qsl(target.query)) == VIEW
    listed = _list(ana)
    assert _saved(listed) == {"NK hot": VIEW}
    # Opening it shows the same list as the address it was saved from.
    assert _rows(_list(ana, **_saved(listed)["NK hot"])) == _rows(shown)
    # Saved again under the name: replaced, not doubled.
    again = _save_form(_list(ana, sort="text"))
    ana.post("/ui/views", data={**again, "name": "NK hot"})
    assert _saved(_list(ana)) == {"NK hot": {"sort": "text"}}
    # Durable: a new app over the same store finds it; another principal sees none of it.
    with TestClient(create_app(keyed, ledger)) as fresh:
        _sign_in(fresh, ANA)
        assert _saved(_list(fresh)) == {"NK hot": {"sort": "text"}}
        _sign_in(fresh, BOB)
        assert _saved(_list(fresh)) == {}
    deleted = ana.post("/ui/views/delete", data={"token": form["token"], "name": "NK hot"},
                       follow_redirects=False)
    assert deleted.status_code == 303 and _saved(_list(ana)) == {}


def test_view_forms_from_another_site_or_without_a_name_change_nothing(ana: TestClient) -> None:
    form = _save_form(_list(ana, **VIEW))
    missing = ana.post("/ui/views", data={**form, "token": "", "name": "x"})
    wrong = ana.post("/ui/views", data={**form, "token": "guess", "name": "x"})
    elsewhere = ana.post("/ui/views", data={**form, "name": "x"},
                         headers={"Origin": "https://evil.example"})
    assert [a.status_code for a in (missing, wrong, elsewhere)] == [403, 403, 403]
    nameless = ana.post("/ui/views", data={**form, "name": "   "})
    assert nameless.status_code == 422 and "name" in nameless.text
    assert _saved(_list(ana)) == {}
    gone = ana.post("/ui/views/delete", data={"token": form["token"], "name": "never saved"})
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("text/html")


def test_signed_out_nobody_saves(keyed: Settings, ledger: ClaimsLedger) -> None:
    with TestClient(create_app(keyed, ledger)) as client:
        answer = client.post("/ui/views", data={"name": "x", "sort": "text"})
        assert answer.status_code == 401
