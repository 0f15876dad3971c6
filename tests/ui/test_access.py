"""The web view's keys, front door, assets and packaging.

With API keys configured the pages need one (any role: reading is all they do), sent as a
bearer token or typed once into the sign-in form, which opens a session kept in the
``ledger_session`` cookie (never the key itself: before, the raw key sat in a cookie for
30 days); the API itself never takes that cookie. Every asset ships in the package: nothing is
fetched from elsewhere, and the pages keep to their Content-Security-Policy (no inline
script or style).
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api import access
from api.access import SESSION_SECONDS
from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.examples import load_article

from .conftest import TROOPS, parse

ROOT = Path(__file__).parents[2]
READER = "reader:token:with:colons-0123456789"
WRITER = "writer-token-0123456789abcdef"
KEYS = f"ana:reader:{READER},desk:writer:{WRITER}"
PAGES = ["/ui", f"/ui/claims/{TROOPS}", "/ui/sources"]


@pytest.fixture
def memory() -> Iterator[ClaimsLedger]:
    ledger = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    load_article(ledger)
    yield ledger
    ledger.close()


@pytest.fixture
def guarded(memory: ClaimsLedger) -> Iterator[TestClient]:
    settings = Settings(store="memory", api_keys=SecretStr(KEYS),
                        _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, memory)) as client:
        yield client


@pytest.fixture
def open_client(memory: ClaimsLedger) -> Iterator[TestClient]:
    settings = Settings(store="memory", _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, memory)) as client:
        yield client


@pytest.mark.parametrize("path", PAGES)
def test_with_keys_a_page_asks_for_one(guarded: TestClient, path: str) -> None:
    answer = guarded.get(path, params={"as_of": "2024-10-12"})
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    form = parse(answer.text).one("form", cls="login")
    assert form.attrs["method"] == "post" and form.attrs["action"] == "/ui/login"
    (target,) = [n for n in form.walk() if n.attrs.get("name") == "next"]
    assert target.attrs["value"] == f"{path}?as_of=2024-10-12"
    assert "Troops" not in answer.text and "peskov" not in answer.text
    # A wrong token, as a header or a cookie, is no better.
    assert guarded.get(path, headers={"Authorization": "Bearer nope-0123456789abc"}
                       ).status_code == 401
    guarded.cookies.set("ledger_session", "nope-0123456789abc", path="/ui")
    assert guarded.get(path).status_code == 401
    # A 401 says how to authenticate (RFC 9110).
    assert answer.headers["www-authenticate"] == 'Bearer realm="claims-ledger"'


@pytest.mark.parametrize("token", [READER, WRITER])
def test_a_bearer_token_of_any_role_reads_the_pages(guarded: TestClient, token: str) -> None:
    for path in PAGES:
        answer = guarded.get(path, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, path


def test_the_key_is_asked_for_once_and_a_session_kept_in_a_cookie(guarded: TestClient) -> None:
    wrong = guarded.post("/ui/login", data={"key": "not-a-key-0123456789", "next": "/ui/sources"},
                         follow_redirects=False)
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    assert "not one this ledger accepts" in parse(wrong.text).one(cls="alert").text()

    signed = guarded.post("/ui/login", data={"key": READER, "next": "/ui/sources?as_of=2024-10-12"},
                          follow_redirects=False)
    assert signed.status_code == 303
    assert signed.headers["location"] == "/ui/sources?as_of=2024-10-12"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("ledger_session=")
    for attribute in ("HttpOnly", "Path=/ui", "SameSite=lax", f"Max-Age={SESSION_SECONDS}"):
        assert attribute.lower() in cookie.lower(), cookie
    assert READER not in cookie and "token" not in cookie  # the key never leaves the server
    session = guarded.cookies["ledger_session"]
    for path in PAGES:
        assert guarded.get(path).status_code == 200, path
    page = parse(guarded.get("/ui").text)
    assert "Sign out (ana)" in page.one("form", cls="signout").text()
    # The cookie is the web view's: the API still wants its bearer token.
    assert guarded.get("/claims").status_code == 401
    assert guarded.get("/claims", headers={"Cookie": f'ledger_session="{session}"'}
                       ).status_code == 401

    out = guarded.post("/ui/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    assert ('ledger_session=""' in out.headers["set-cookie"]
            or "Max-Age=0" in out.headers["set-cookie"])
    guarded.cookies.clear()
    assert guarded.get("/ui").status_code == 401
    # Signing out ends the session on the server: the old cookie, replayed, is refused.
    guarded.cookies.set("ledger_session", session, path="/ui")
    assert guarded.get("/ui").status_code == 401


def test_a_session_lapses_is_bound_to_its_key_and_cannot_be_forged(
    guarded: TestClient, memory: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded.post("/ui/login", data={"key": READER}, follow_redirects=False)
    session = guarded.cookies["ledger_session"]
    assert guarded.get("/ui").status_code == 200
    # Another principal's name put in the cookie breaks its MAC.
    sid, expires, name, mac = session.split(".")
    for forged in (f"{sid}.{expires}.desk.{mac}", f"{sid}.{int(expires) + 10**6}.{name}.{mac}"):
        guarded.cookies.clear()
        guarded.cookies.set("ledger_session", forged, path="/ui")
        assert guarded.get("/ui").status_code == 401
    # The same cookie on a server whose key for 'ana' changed (revoked, or its role):
    # refused.
    rekeyed = Settings(store="memory", _env_file=None,  # type: ignore[call-arg]
                       api_keys=SecretStr(f"ana:reader:{READER}-rotated,desk:writer:{WRITER}"))
    with TestClient(create_app(rekeyed, memory)) as other:
        other.cookies.set("ledger_session", session, path="/ui")
        assert other.get("/ui").status_code == 401
    # Another worker with the same keys takes it (the keys are shared, not memory).
    same = Settings(store="memory", api_keys=SecretStr(KEYS), _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(same, memory)) as worker:
        worker.cookies.set("ledger_session", session, path="/ui")
        assert worker.get("/ui").status_code == 200
        # After SESSION_SECONDS it has lapsed.
        later = time.time() + SESSION_SECONDS + 1
        monkeypatch.setattr(access.time, "time", lambda: later)
        assert worker.get("/ui").status_code == 401


@pytest.mark.parametrize("target", ["https://elsewhere.example/", "//elsewhere.example/ui",
                                    "/claims", "/ui/login", ""])
def test_signing_in_goes_nowhere_but_the_view(guarded: TestClient, target: str) -> None:
    signed = guarded.post("/ui/login", data={"key": READER, "next": target},
                          follow_redirects=False)
    assert signed.headers["location"] == "/ui"


def test_without_keys_there_is_nothing_to_sign_in_to(open_client: TestClient) -> None:
    for path in PAGES:
        page = open_client.get(path)
        assert page.status_code == 200
        assert not parse(page.text).all("form", cls="signout")
    answer = open_client.get("/ui/login", params={"next": "/ui/sources"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/sources"


def test_the_front_door_links_to_the_view(guarded: TestClient) -> None:
    answer = guarded.get("/")  # no key needed: it only says where things are
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    hrefs = [a.attrs.get("href") for a in parse(answer.text).all("a")]
    assert "/ui" in hrefs and "/docs" in hrefs
    assert guarded.head("/").status_code == 200


def test_the_view_stays_out_of_the_openapi_schema(open_client: TestClient) -> None:
    paths = open_client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/ui")]


def test_pages_keep_to_their_content_security_policy(open_client: TestClient) -> None:
    for path in [*PAGES, "/", "/ui/claims/nope", "/ui/login", "/ui/register/source",
                 "/ui/register/claim"]:
        answer = open_client.get(path)
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        document = parse(answer.text)
        # No inline script (a JSON-LD data block runs nothing), no inline style, no
        # event-handler attribute.
        assert all(s.attrs.get("src", "").startswith("/ui/static/") for s in document.all("script")
                   if s.attrs.get("type") != "application/ld+json")
        assert not document.all("style")
        for node in document.walk():
            assert "style" not in node.attrs, (path, node.tag)
            assert not [a for a in node.attrs if a.startswith("on")], (path, node.tag)


def test_every_asset_ships_in_the_package_and_nothing_comes_from_elsewhere(
    open_client: TestClient,
) -> None:
    page = parse(open_client.get(f"/ui/claims/{TROOPS}").text)
    assets = [n.attrs["href"] for n in page.all("link") if n.attrs.get("rel") == "stylesheet"]
    assets += [n.attrs["src"] for n in page.all("script")
               if n.attrs.get("type") != "application/ld+json"]  # the ClaimReview data
    assert len(assets) == 2
    for url in assets:
        assert url.startswith("/ui/static/")
        answer = open_client.get(url)
        assert answer.status_code == 200 and answer.headers["cache-control"].startswith("public")
        assert re.search(r"https?://|@import|url\(", answer.text) is None, url
    assert open_client.get("/ui/static/ui.css").headers["content-type"].startswith("text/css")
    assert open_client.get("/ui/static/ui.js").headers["content-type"].startswith("text/javascript")
    assert open_client.get("/ui/static/../main.py").status_code == 404
    assert open_client.get("/ui/static/nope.js").status_code == 404
    for template in (ROOT / "api" / "templates").iterdir():
        text = template.read_text(encoding="utf-8")
        # The only outside address a page may hold is an event's own reference.
        assert re.findall(r"(?:src|href)=\"https?:", text) == [], template.name


def test_pyproject_ships_every_template_and_static_file() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["api"]
    files = [p.relative_to(ROOT / "api").as_posix()
             for folder in ("templates", "static") for p in (ROOT / "api" / folder).rglob("*")
             if p.is_file()]
    assert "static/swagger-ui/swagger-ui-bundle.js" in files
    assert files and all(any(fnmatch(f, g) for g in globs) for f in files), (files, globs)
    dependencies = {re.split(r"[<>=\[ ]", d, maxsplit=1)[0].lower()
                    for d in pyproject["project"]["dependencies"]}
    assert "jinja2" in dependencies
