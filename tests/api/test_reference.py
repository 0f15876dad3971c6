"""The API's reference served by the API itself: /docs works offline, and every problem
``type`` the API sends is a page of it that explains the problem (docs/http-api.md)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

import api.main  # noqa: F401  (imports every module that defines a LedgerError)
from api.main import create_app
from api.problems import KINDS, problem_type
from api.routes.reference import SWAGGER_ASSETS, SWAGGER_DIR
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.errors import LedgerError

from .conftest import assert_problem

ROOT = Path(__file__).resolve().parents[2]


class _References(HTMLParser):
    """Every URL a page makes the browser load: src of scripts and images, href of links."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "src" or (name == "href" and tag == "link")):
                self.urls.append(value)


def test_docs_load_every_asset_from_this_server(memory_client: TestClient) -> None:
    page = memory_client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    assert not re.search(r"https?://|//cdn", page.text), "the page names another host"
    parser = _References()
    parser.feed(page.text)
    # The script the page runs fetches the schema: url: '/openapi.json'.
    urls = parser.urls + re.findall(r"url: '([^']+)'", page.text)
    assert {u.rsplit("/", 1)[-1] for u in urls} >= {
        "swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "openapi.json"}
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        answer = memory_client.get(url)
        assert answer.status_code == 200 and answer.content, url
    css = memory_client.get("/static/swagger-ui/swagger-ui.css")
    assert css.headers["content-type"].startswith("text/css")
    # The stylesheet loads nothing more (its images are data: URIs), nor a source map.
    assert all(u.startswith(("data:", '"data:', "'data:"))
               for u in re.findall(r"url\(([^)]*)\)", css.text))
    assert "sourceMappingURL" not in css.text
    script = memory_client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "sourceMappingURL" not in script.text


def test_swagger_ui_ships_with_its_licence(memory_client: TestClient) -> None:
    licence = memory_client.get("/static/swagger-ui/LICENSE")
    assert licence.status_code == 200 and "Apache License" in licence.text
    assert_problem(memory_client.get("/static/swagger-ui/../../main.py"), 404)
    assert_problem(memory_client.get("/static/swagger-ui/index.html"), 404)


def test_the_assets_are_package_data() -> None:
    """An installed wheel holds them: pyproject's package-data globs match every file."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["api"]
    api_dir = SWAGGER_DIR.parent.parent
    shipped = {p for g in globs for p in api_dir.glob(g)}
    for name in SWAGGER_ASSETS:
        assert SWAGGER_DIR / name in shipped, name


def test_no_redoc_page_that_would_load_from_a_cdn(memory_client: TestClient) -> None:
    assert_problem(memory_client.get("/redoc"), 404)


def _ledger_errors(kind: type[LedgerError]) -> Iterator[type[LedgerError]]:
    yield kind
    for sub in kind.__subclasses__():
        yield from _ledger_errors(sub)


def _resolves(client: TestClient, type_uri: str, title: str, status: int) -> None:
    assert type_uri.startswith("/problems/"), (title, type_uri)
    page = client.get(type_uri)
    assert page.status_code == 200, (title, type_uri)
    assert page.headers["content-type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in page.text and f"<strong>{status}</strong>" in page.text


def test_every_ledger_error_has_a_page(memory_client: TestClient) -> None:
    kinds = list(_ledger_errors(LedgerError))
    assert len(kinds) >= 15
    for kind in kinds:
        uri = problem_type(kind.title)
        _resolves(memory_client, uri, kind.title, KINDS[uri.removeprefix("/problems/")].status)


@pytest.fixture
def guarded(memory_ledger: ClaimsLedger) -> Iterator[TestClient]:
    keys = "ana:reader:read-token-0123456789,wes:writer:write-token-0123456789"
    settings = Settings(store="memory", api_keys=SecretStr(keys), max_body_bytes=2048,
                        _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, memory_ledger)) as client:
        yield client


def test_every_problem_the_handlers_send_resolves(guarded: TestClient) -> None:
    writer = {"Authorization": "Bearer write-token-0123456789"}
    reader = {"Authorization": "Bearer read-token-0123456789"}
    guarded.post("/sources", json={"id": "nis", "name": "NIS"}, headers=writer)
    guarded.post("/claims", json={"id": "c", "text": "t"}, headers=writer)
    answers = {
        401: guarded.get("/claims"),
        403: guarded.post("/claims", json={"text": "t"}, headers=reader),
        404: guarded.get("/claims/nope", headers=reader),
        405: guarded.delete("/claims", headers=writer),
        406: guarded.get("/claims/c/timeline", headers={**reader, "Accept": "text/csv"}),
        409: guarded.post("/claims", json={"id": "c", "text": "t"}, headers=writer),
        412: guarded.post("/claims/c/events", headers={**writer, "If-Match": '"9"'},
                          json={"type": "denied", "source": "nis", "occurred_at": "2024-10-10",
                                "quote": "no"}),
        413: guarded.post("/claims", json={"text": "x" * 4096}, headers=writer),
        415: guarded.post("/claims", content="text=t", headers={
            **writer, "Content-Type": "application/x-www-form-urlencoded"}),
        422: guarded.get("/claims", params={"limit": 0}, headers=reader),
    }
    answers[4220] = guarded.post("/claims/c/events", headers=writer, json={
        "type": "asserted", "source": "nis", "occurred_at": "2024-10-10T12:00"})
    for status, answer in answers.items():
        body = assert_problem(answer, status if status < 1000 else 422)
        _resolves(guarded, body["type"], body["title"], body["status"])


def test_an_unknown_problem_page_is_a_404(memory_client: TestClient) -> None:
    assert_problem(memory_client.get("/problems/no-such-problem"), 404)
    index = memory_client.get("/problems")
    assert index.status_code == 200
    assert all(f'href="/problems/{name}"' in index.text for name in KINDS)
