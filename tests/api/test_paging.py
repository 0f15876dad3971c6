"""Every list pages the same way (docs/http-api.md, "Pagination"): its items under one key,
``next_cursor`` (a string, null on the last page), ``cursor`` and ``limit`` in the query,
and an RFC 8288 ``Link: <...>; rel="next"`` header while a next page exists."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from ledger.times import format_instant, now

from .conftest import assert_problem

TROOPS = "nk-troops-for-russia"
#: path -> the key that holds its items
LISTS = {
    "/claims": "data",
    "/sources": "data",
    "/events": "data",
    f"/claims/{TROOPS}/events": "events",
    f"/claims/{TROOPS}/audit": "entries",
}
_LINK = re.compile(r'^<([^>]+)>; rel="next"$')


def _next(answer: Any) -> str | None:
    link = answer.headers.get("link")
    if link is None:
        return None
    found = _LINK.match(link)
    assert found, link
    return found.group(1)


@pytest.mark.parametrize("path", LISTS)
def test_following_the_links_reads_the_whole_list(path: str, article: TestClient) -> None:
    key = LISTS[path]
    # The global log has no as_of or known_at (a query parameter a route does not take is
    # refused); it pages by position.
    at = {} if path == "/events" else {"as_of": "2024-12-31T00:00:00.000000Z",
                                       "known_at": format_instant(now())}
    whole = article.get(path, params={"limit": 1000, **at})
    assert whole.status_code == 200 and whole.json()["next_cursor"] is None
    assert "link" not in whole.headers
    items = whole.json()[key]
    assert len(items) >= 3, path
    pages, url = [], f"{path}?{urlencode({'limit': 2, **at}, safe=':')}"
    while url is not None:
        answer = article.get(url)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body[key])
        cursor = body["next_cursor"]
        url = _next(answer)
        if cursor is None:
            assert url is None, path
        else:
            assert isinstance(cursor, str) and url is not None
            query = parse_qs(urlsplit(url).query)
            assert urlsplit(url).path == path and query["cursor"] == [cursor]
            assert query["limit"] == ["2"]
            for pinned in ("as_of", "known_at"):  # the next page is of the same view
                if pinned in body:
                    assert query[pinned] == [body[pinned]]
    assert all(len(page) == 2 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 2
    assert [item for page in pages for item in page] == items


@pytest.mark.parametrize("path", LISTS)
def test_limit_and_cursor_are_checked_alike(path: str, article: TestClient) -> None:
    assert_problem(article.get(path, params={"limit": 1001}), 422, "limit")
    assert_problem(article.get(path, params={"limit": 0}), 422, "limit")
    assert_problem(article.get(path, params={"cursor": "not-a-cursor"}), 422, "cursor")


def test_the_schema_publishes_one_paging_shape(article: TestClient) -> None:
    spec = article.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for path, key in LISTS.items():
        template = re.sub(TROOPS, "{claim_id}", path)
        op = spec["paths"][template]["get"]
        params = {p["name"]: p for p in op["parameters"]}
        assert params["limit"]["schema"]["default"] == 100, path
        assert params["limit"]["schema"]["maximum"] == 1000, path
        assert "cursor" in params, path
        ok = op["responses"]["200"]
        assert "Link" in ok["headers"], path
        shape = schemas[ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
        assert {key, "next_cursor"} <= set(shape["properties"]), path
        assert shape["properties"]["next_cursor"]["anyOf"] == [
            {"type": "string"}, {"type": "null"}], path


def test_the_log_takes_after_as_a_start_and_pages_on_with_a_cursor(
    article: TestClient,
) -> None:
    first = article.get("/events", params={"after": 10, "limit": 3})
    assert [e["position"] for e in first.json()["data"]] == [11, 12, 13]
    url = _next(first)
    assert url is not None and "after=" not in url  # the cursor takes its place
    second = article.get(url).json()["data"]
    assert [e["position"] for e in second] == [14, 15, 16]


def test_the_model_diff_pages_by_its_links_too(article: TestClient) -> None:
    query = "from=credibility-v1&to=credibility-v2&min_difference=0"
    whole = article.get(f"/models/diff?{query}&limit=1000").json()["data"]
    assert len(whole) >= 2
    pages, url = [], f"/models/diff?{query}&limit=1"
    while url is not None:
        answer = article.get(url)
        assert answer.status_code == 200, answer.text
        pages += answer.json()["data"]
        url = _next(answer)
        if url is not None:
            assert parse_qs(urlsplit(url).query)["from"] == ["credibility-v1"]
    assert pages == whole
    spec = article.get("/openapi.json").json()
    assert "Link" in spec["paths"]["/models/diff"]["get"]["responses"]["200"]["headers"]
