"""Errors as a reader meets them in a real browser (headless Chromium against ``serve
--demo``; the server, the browser and the screenshots' directory are ``test_browser``'s):
an address that names no page answers the web view's own 404 page, not JSON; a time the
ledger cannot read is shown beside the field that holds it, on the page that was asked
for, which then shows the present instead; a list's refused filter is named on its page.
"""

from __future__ import annotations

import httpx
import pytest

from .cdp import Browser
from .test_browser import (  # noqa: F401  (pytest fixtures, by name)
    ARTIFACTS,
    READER,
    TROOPS,
    _shot,
    _sign_in_as,
    api,
    browser,
    chromium,
    server,
)

pytestmark = pytest.mark.slow


def _text(chrome: Browser, selector: str) -> str:
    found: str = chrome.evaluate(
        f"(document.querySelector({selector!r}) || {{textContent: ''}}).textContent")
    return " ".join(found.split())


def test_errors_are_pages_that_say_what_was_wrong(
    server: str, api: httpx.Client, browser: Browser  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    head = api.get("/events", params={"limit": 1000}).json()["data"][-1]["position"]
    _sign_in_as(browser, server, READER, "/ui")

    # An address that names no page: the web view's 404 page, with a way back.
    browser.navigate(f"{server}/ui/no-such-page")
    assert browser.evaluate("document.contentType") == "text/html"
    assert "no-such-page" in _text(browser, "[role=alert]")
    assert browser.evaluate("document.querySelector('a[href=\"/ui\"]') !== null")
    _shot(browser, "30-not-found")

    # A claim that does not exist: named on the same kind of page.
    browser.navigate(f"{server}/ui/claims/no-such-claim")
    assert "no-such-claim" in _text(browser, "[role=alert]")

    # A time the ledger cannot read: said beside its field; the claim is still shown.
    browser.navigate(f"{server}/ui/claims/{TROOPS}?as_of=yesterday")
    error = _text(browser, "#as_of-error")
    assert "as_of" in error and "showing now instead" in error
    field = "document.querySelector('input[name=as_of]')"
    assert browser.evaluate(f"{field}.getAttribute('aria-invalid')") == "true"
    assert browser.evaluate(f"{field}.getAttribute('aria-describedby')").startswith("as_of-error")
    assert TROOPS in browser.evaluate("location.pathname")
    assert browser.evaluate("document.querySelector('h1').textContent").strip()
    _shot(browser, "31-claim-bad-time")

    # The claims list with a filter it does not know: the refusal names the filter.
    browser.navigate(f"{server}/ui?status=maybe")
    assert "status:" in _text(browser, ".alert")
    _shot(browser, "32-list-bad-filter")

    assert browser.console_errors() == []
    # Nothing a reader did wrote anything.
    assert api.get("/events", params={"limit": 1000}).json()["data"][-1]["position"] == head
