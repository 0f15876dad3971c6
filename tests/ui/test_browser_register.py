"""Registering in a real browser: headless Chromium against ``claims-ledger serve --demo``.

A writer registers a source from the sources page (a bad id refused first, beside its
field), then a claim from the claims page, then records the new source's statement on the
new claim through the claim page's form, and sees it there. Then the drafts flow with a
new claim: an article pasted with a new claim's id and text instead of a registered claim,
its proposals accepted, and the claim registered just before they are appended. The
server, the browser and the screenshots' directory (``tests/ui/artifacts/``) are
``test_browser``'s.
"""

from __future__ import annotations

import json

import httpx
import pytest

from .cdp import Browser
from .test_browser import (  # noqa: F401  (pytest fixtures, by name)
    ARTIFACTS,
    WRITER,
    _fill,
    _shot,
    _sign_in_as,
    api,
    browser,
    chromium,
    server,
)
from .test_browser_drafts import ARTICLE

pytestmark = pytest.mark.slow

SOURCE = {"id": "oleg-ivanov", "name": "Oleg Ivanov", "role": "Deputy minister of defence",
          "affiliations": "UA UA-GOV", "reliability": "B"}
CLAIM = {"id": "drones-over-kyiv", "text": "Russia flew Iranian-made drones over Kyiv",
         "tags": "drones, iran", "parties": "RU IR", "beneficiaries": "UA",
         "alleged_at": "2024-10-01"}
STATEMENT = {"type": "asserted", "source": "oleg-ivanov", "occurred_at": "2024-10-02",
             "summary": "Debris of Shahed drones was found in three districts of Kyiv."}
NEW_CLAIM = {"new_claim_id": "troops-crossed",
             "new_claim_text": "North Korean troops have crossed into Ukraine"}
URL = "https://example.org/news/troops-crossed-border"


def _click(chrome: Browser, selector: str) -> None:
    """Click what the selector finds and wait for the page it opens."""
    chrome.after_navigation(lambda: chrome.evaluate(
        f"document.querySelector({json.dumps(selector)}).click()"))


def _head(client: httpx.Client) -> int:
    """The global log's last position."""
    position: int = client.get("/events", params={"limit": 1000}).json()["data"][-1]["position"]
    return position


def test_a_writer_registers_a_source_and_a_claim_then_records_a_statement(
    server: str, api: httpx.Client, browser: Browser  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _sign_in_as(browser, server, WRITER, "/ui/sources")
    head = _head(api)

    # The sources page links to the form; a bad id is refused beside its field.
    _click(browser, "#register-link a[href='/ui/register/source']")
    assert browser.evaluate("location.pathname") == "/ui/register/source"
    _fill(browser, {**SOURCE, "id": "Oleg Ivanov"}, form="register-form")
    _click(browser, "#register-submit")
    error = browser.evaluate("document.getElementById('register-id-error').textContent")
    assert "is not an id" in error
    assert browser.evaluate(
        "document.querySelector('#register-form [name=id]').getAttribute('aria-describedby')"
    ) == "register-id-error"
    assert browser.evaluate("document.querySelector('#register-form [name=role]').value") == \
        SOURCE["role"]
    assert api.get("/events", params={"after": head}).json()["data"] == []
    _shot(browser, "register-source-refused")

    # Mended: registered, and its page opens.
    browser.evaluate("(() => { const f = document.querySelector('#register-form [name=id]');"
                     " f.value = ''; })()")
    _fill(browser, {"id": SOURCE["id"]}, form="register-form")
    _click(browser, "#register-submit")
    assert browser.evaluate("location.pathname") == "/ui/sources/oleg-ivanov"
    source = api.get("/sources/oleg-ivanov").json()
    assert (source["name"], source["affiliations"], source["reliability"]) == (
        "Oleg Ivanov", ["UA", "UA-GOV"], "B")
    assert browser.evaluate("document.querySelector('h1').textContent") == "Oleg Ivanov"
    assert browser.evaluate("document.getElementById('reliability').textContent").startswith("B")
    _shot(browser, "register-source")

    # A claim, from the claims page.
    browser.navigate(f"{server}/ui")
    _click(browser, "#register-link a[href='/ui/register/claim']")
    _fill(browser, CLAIM, form="register-form")
    _click(browser, "#register-submit")
    assert browser.evaluate("location.pathname") == "/ui/claims/drones-over-kyiv"
    claim = api.get("/claims/drones-over-kyiv").json()
    assert (claim["text"], claim["tags"], claim["parties"], claim["beneficiaries"]) == (
        CLAIM["text"], ["drones", "iran"], ["RU", "IR"], ["UA"])
    assert browser.evaluate("document.querySelector('h1').textContent") == CLAIM["text"]
    _shot(browser, "register-claim")

    # The new source's statement on the new claim, through the claim page's form.
    _fill(browser, STATEMENT)
    _click(browser, "#record-submit")
    assert browser.evaluate("location.pathname") == "/ui/claims/drones-over-kyiv"
    (event,) = api.get("/claims/drones-over-kyiv/events").json()["events"]
    assert (event["type"], event["source"], event["actor"]) == ("asserted", "oleg-ivanov", "desk")
    notice = browser.evaluate("document.getElementById('recorded').textContent")
    assert notice.startswith(f"Recorded: #{event['position']} asserted by Oleg Ivanov")
    assert browser.evaluate(f"document.getElementById('event-{event['event_id']}') !== null")
    assert browser.evaluate(
        f"document.getElementById('event-{event['event_id']}').textContent"
    ).count(STATEMENT["summary"]) >= 1
    _shot(browser, "register-claim-statement")
    assert [e["type"] for e in api.get("/events", params={"after": head}).json()["data"]] == [
        "source_registered", "claim_registered", "asserted"]
    assert browser.console_errors() == []


def test_the_drafts_flow_creates_a_new_claim(
    server: str, api: httpx.Client, browser: Browser  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _sign_in_as(browser, server, WRITER, "/ui/drafts")
    head = _head(api)

    # No claim chosen: a new one described, beside the article.
    assert browser.evaluate("document.querySelector('#draft-form [name=claim_id]').value") == ""
    _fill(browser, {**NEW_CLAIM, "date": "2024-10-14", "reference": URL, "text": ARTICLE},
          form="draft-form")
    _shot(browser, "drafts-new-claim-paste")
    _click(browser, "#draft-form button[type=submit]")

    # The proposals, for the new claim; nothing written, not even the claim.
    assert browser.evaluate("document.querySelector('h1').textContent") == \
        NEW_CLAIM["new_claim_text"]
    assert "troops-crossed" in browser.evaluate(
        "document.getElementById('draft-new-claim').textContent")
    proposals = browser.evaluate("""Array.from(document.querySelectorAll('fieldset.proposal'))
        .map(f => [f.dataset.source, f.dataset.type])""")
    assert proposals == [["peskov", "denied"], ["kr-nis", "assessed"],
                         ["maria-ortiz", "asserted"]]
    assert api.get("/events", params={"after": head}).json()["data"] == []
    assert api.get("/claims/troops-crossed").status_code == 404
    _shot(browser, "drafts-new-claim-review")

    # All three accepted: the new source, then the claim, then the batch.
    _click(browser, "#review-form button[type=submit]")
    assert browser.evaluate("location.pathname") == "/ui/claims/troops-crossed"
    written = api.get("/events", params={"after": head}).json()["data"]
    assert [(e["type"], e.get("source") or e.get("claim_id")) for e in written] == [
        ("source_registered", "maria-ortiz"), ("claim_registered", "troops-crossed"),
        ("denied", "peskov"), ("assessed", "kr-nis"), ("asserted", "maria-ortiz")]
    assert api.get("/claims/troops-crossed").json()["text"] == NEW_CLAIM["new_claim_text"]
    for event in written[2:]:
        assert event["reference"] == URL and event["actor"] == "desk"
        assert browser.evaluate(
            f"document.getElementById('event-{event['event_id']}') !== null"), event
    notice = browser.evaluate("document.getElementById('recorded').textContent")
    assert notice.startswith(f"Recorded: #{written[2]['position']} denied by Dmitry Peskov")
    _shot(browser, "drafts-new-claim")
    assert browser.console_errors() == []
