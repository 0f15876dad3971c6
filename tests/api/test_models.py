"""GET /models, GET /models/diff, and ?model= on the claim reads."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.times import parse_instant
from tests.api.conftest import assert_problem

TROOPS = "nk-troops-for-russia"
V1, V2, V3 = "credibility-v1", "credibility-v2", "credibility-v3"


def test_the_versions_are_listed(article: TestClient) -> None:
    answer = article.get("/models")
    assert answer.status_code == 200
    listed = answer.json()
    assert [m["name"] for m in listed["data"]] == [V1, V2, V3]
    assert [m["name"] for m in listed["data"] if m["default"]] == [listed["default"]] == [V2]
    assert listed["next_cursor"] is None


@pytest.mark.parametrize(
    "path",
    [f"/claims/{TROOPS}", f"/claims/{TROOPS}/audit", f"/claims/{TROOPS}/timeline", "/claims"],
)
def test_model_selects_the_version_and_the_answer_is_the_ledgers(
    article: TestClient, ledger: ClaimsLedger, path: str
) -> None:
    for name in (V1, V2, V3):
        # A timeline spans valid time: it takes no as_of (which it would refuse).
        at = {} if path.endswith("/timeline") else {"as_of": "2024-10-31"}
        answer = article.get(path, params={"model": name, **at})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        known = parse_instant("known_at", body["known_at"])
        as_of = parse_instant("as_of", "2024-10-31", bare_date="end")
        if path == "/claims":
            assert {i["credibility"]["model"] for i in body["data"]} == {name}
            assert body == ledger.list_claims(as_of=as_of, known_at=known, model=name)
        elif path.endswith("/audit"):
            assert body["model"] == name
            assert body == ledger.audit(TROOPS, as_of=as_of, known_at=known, model=name,
                                        limit=100)
        elif path.endswith("/timeline"):
            assert body["model"] == name
            assert body == ledger.timeline(TROOPS, known_at=known, model=name)
        else:
            assert body["credibility"]["model"] == name
            assert body == ledger.claim(TROOPS, as_of=as_of, known_at=known, model=name)
    default = article.get(path).json()  # the default version is v2
    if path == "/claims":
        assert {i["credibility"]["model"] for i in default["data"]} == {V2}
    else:
        assert default.get("model", default.get("credibility", {}).get("model")) == V2


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/claims/{TROOPS}?model=credibility-v9", "model"),
        (f"/claims/{TROOPS}/audit?model=credibility-v9", "model"),
        (f"/claims/{TROOPS}/timeline?model=credibility-v9", "model"),
        ("/claims?model=credibility-v9", "model"),
        ("/models/diff?from=credibility-v9&to=credibility-v2", "from"),
        ("/models/diff?from=credibility-v1&to=credibility-v9", "to"),
    ],
)
def test_an_unknown_version_is_a_422_listing_the_accepted_ones(
    article: TestClient, path: str, field: str
) -> None:
    problem = assert_problem(article.get(path), 422, field)
    assert V1 in problem["detail"] and V2 in problem["detail"]


def test_a_diff_needs_both_versions(article: TestClient) -> None:
    assert_problem(article.get("/models/diff", params={"from": V1}), 422, "to")


def test_the_diff_pages_like_other_lists(article: TestClient, ledger: ClaimsLedger) -> None:
    first = article.get("/models/diff", params={"from": V1, "to": V2, "min_difference": 0,
                                                "limit": 1})
    assert first.status_code == 200, first.text
    page = first.json()
    assert (page["from"], page["to"], page["min_difference"]) == (V1, V2, 0)
    known = parse_instant("known_at", page["known_at"])
    as_of = parse_instant("as_of", page["as_of"])
    whole = ledger.models_diff(V1, V2, as_of=as_of, known_at=known, min_difference=0)
    assert len(whole["data"]) >= 2  # the article's claims all move under v2 (early reports)
    items, cursor = page["data"], page["next_cursor"]
    while cursor is not None:
        page = article.get("/models/diff", params={
            "from": V1, "to": V2, "min_difference": 0, "limit": 1, "cursor": cursor,
            "as_of": page["as_of"], "known_at": page["known_at"]}).json()
        items += page["data"]
        cursor = page["next_cursor"]
    assert items == whole["data"]
    for item in items:
        assert item["from"]["model"] == V1 and item["to"]["model"] == V2
        assert item["changed"] and item["contributions"]
        for row in item["contributions"]:
            assert set(row["from"]) == set(row["to"]) == {"delta", "log_odds", "reason"}


def test_the_listing_says_which_version_is_projected(
    article: TestClient, ledger: ClaimsLedger, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET /models names the version whose lists are read from the store's projection
    (none in memory); after `rebuild --model` by another process, a server started before
    says, and lists, the new one from its tables."""
    listed = article.get("/models").json()
    if ledger.projector is None:
        assert listed["projected"] is None
        assert not any(m["projected"] for m in listed["data"])
        return
    assert listed["projected"] == V2
    assert [m["name"] for m in listed["data"] if m["projected"]] == [V2]
    other = open_ledger(settings)
    try:
        assert other.projector is not None and other.projector.rebuild(model=V1) > 0
    finally:
        other.close()
    listed = article.get("/models").json()
    assert listed["projected"] == V1
    assert [m["name"] for m in listed["data"] if m["projected"]] == [V1]
    replay = ledger.reads._replayed

    def watched(*args: Any) -> Any:
        assert args[5].name != V1, "a list of the projected version replayed"
        return replay(*args)

    monkeypatch.setattr(ledger.reads, "_replayed", watched)
    page = article.get("/claims", params={"model": V1, "as_of": "2024-10-31"})
    assert page.status_code == 200, page.text
    assert {c["credibility"]["model"] for c in page.json()["data"]} == {V1}
    assert ledger.projector.model.name == V1
