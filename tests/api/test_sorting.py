"""GET /claims?sort=...&since=...: the list in any order, paged by cursors that keep it."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.projection.tables import SORT_KEYS
from ledger.statements import STATUSES

from .conftest import assert_problem

AS_OF = "2024-10-20"
SINCE = "2024-10-09"
TEXTS = ["Zebra crossings", "apples fall", "Apples rise", "mango", "Über alles", "kiwi",
         "banana", "Cherry"]


@pytest.fixture
def many(article: TestClient) -> TestClient:
    """The article, and more claims with statements on some (ties and untouched ones)."""
    rng = random.Random(5)
    for i, text in enumerate(TEXTS):
        article.post("/claims", json={"id": f"extra-{i}", "text": text, "tags": ["extra"],
                                      "parties": ["RU"]})
        for _ in range(rng.randrange(0, 3)):
            article.post(f"/claims/extra-{i}/events", json={
                "type": rng.choice(["asserted", "denied"]),
                "source": rng.choice(["zelensky", "kr-nis", "peskov", "kim-yong-hyun"]),
                "occurred_at": f"2024-10-{rng.randrange(1, 25):02d}", "summary": "said"})
    return article


def _key(item: dict[str, Any], key: str) -> Any:
    return {
        "registered": lambda: 0,
        "text": lambda: item["text"].lower(),
        "probability": lambda: item["credibility"]["probability"],
        "status": lambda: STATUSES.index(item["credibility"]["status"]),
        "last_change": lambda: item["last_change"] or "",
        "moved": lambda: item["moved"],
    }[key]()


def _paged(client: TestClient, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page, following each answer's Link header."""
    answer = client.get("/claims", params=params)
    assert answer.status_code == 200, answer.text
    items = list(answer.json()["data"])
    while "link" in answer.headers:
        target = answer.headers["link"].split(">")[0].lstrip("<")
        answer = client.get(target)
        assert answer.status_code == 200, answer.text
        items += answer.json()["data"]
    return items


@pytest.mark.parametrize("key", SORT_KEYS)
@pytest.mark.parametrize("descending", [False, True], ids=["up", "down"])
def test_a_sorted_listing_paged_three_at_a_time_is_the_full_sorted_list(
    many: TestClient, key: str, descending: bool
) -> None:
    sort = f"-{key}" if descending else key
    base = {"as_of": AS_OF, "since": SINCE, "sort": sort}
    full = many.get("/claims", params={**base, "limit": 1000}).json()
    assert full["since"] == "2024-10-09T23:59:59.999999Z"
    items = full["data"]
    assert len(items) == 3 + len(TEXTS)
    keys = [_key(item, key) for item in items]
    assert keys == sorted(keys, reverse=descending)
    # Ties (and the registered order itself) in registration order, each way.
    registered = [c["id"] for c in many.get("/claims", params={"limit": 1000}).json()["data"]]
    if key == "registered":
        assert [c["id"] for c in items] == (registered[::-1] if descending else registered)
    for one, other in itertools.pairwise(items):
        if key != "registered" and _key(one, key) == _key(other, key):
            assert registered.index(one["id"]) < registered.index(other["id"])
    assert _paged(many, {**base, "known_at": full["known_at"], "limit": 3}) == items


def test_moved_is_the_change_since_and_last_change_the_last_step(many: TestClient) -> None:
    listed = {c["id"]: c for c in many.get("/claims", params={
        "as_of": AS_OF, "since": SINCE, "limit": 1000}).json()["data"]}
    troops = listed["nk-troops-for-russia"]
    now = many.get("/claims/nk-troops-for-russia", params={"as_of": AS_OF}).json()
    then = many.get("/claims/nk-troops-for-russia",
                    params={"as_of": SINCE, "known_at": now["known_at"]}).json()
    assert troops["moved"] == pytest.approx(
        now["credibility"]["probability"] - then["credibility"]["probability"], abs=1e-12)
    steps = many.get("/claims/nk-troops-for-russia/timeline").json()["points"]
    assert troops["last_change"] == [p["valid_from"] for p in steps
                                     if p["valid_from"] <= now["as_of"]][-1]
    untouched = [c for c in listed.values() if c["credibility"]["status"] == "unverified"
                 and c["credibility"]["probability"] == 0.5]
    assert untouched and all(c["last_change"] is None and c["moved"] == 0 for c in untouched)
    plain = many.get("/claims", params={"as_of": AS_OF}).json()
    assert "since" not in plain and all("moved" not in c for c in plain["data"])
    assert all("last_change" in c for c in plain["data"])


@pytest.mark.parametrize(("params", "words"), [
    ({"sort": "loudness"}, "registered, -registered, text, -text, probability"),
    ({"sort": "--probability"}, "is not a sort key"),
    ({"sort": "moved"}, "moved needs since"),
])
def test_an_unknown_sort_is_a_422_naming_the_accepted_keys(
    many: TestClient, params: dict[str, str], words: str
) -> None:
    problem = assert_problem(many.get("/claims", params=params), 422, "sort")
    assert words in problem["detail"], problem["detail"]


def test_a_cursor_of_another_listing_is_refused(many: TestClient) -> None:
    page = many.get("/claims", params={"sort": "-probability", "limit": 3, "tag": "extra"}).json()
    troops = many.get("/claims", params={"tag": "north-korea", "limit": 1}).json()
    outside = troops["next_cursor"] or "1"
    assert page["next_cursor"] is not None
    assert_problem(many.get("/claims", params={"sort": "-probability", "tag": "extra",
                                               "cursor": outside}), 422, "cursor")
