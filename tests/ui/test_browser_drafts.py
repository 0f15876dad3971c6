"""The draft flow in a real browser: headless Chromium against ``claims-ledger serve --demo``.

A writer signs in, follows the claim page's link to the drafts page, pastes a short
article of our own with its date and URL, sees three proposals (nothing written), rejects
one, accepts two (one of them by a source the ledger does not know, registered on the
way), and lands on the claim's page with both statements shown. The server, the browser
and the screenshots' directory (``tests/ui/artifacts/``) are ``test_browser``'s.
"""

from __future__ import annotations

import json

import httpx
import pytest

from .cdp import Browser
from .test_browser import (  # noqa: F401  (pytest fixtures, by name)
    ARTIFACTS,
    TROOPS,
    WRITER,
    _shot,
    api,
    browser,
    chromium,
    server,
)

pytestmark = pytest.mark.slow

ARTICLE = (
    "Kremlin spokesman Dmitry Peskov on Thursday dismissed the reports as fake.\n"
    "South Korea's National Intelligence Service said last week the claim could be accurate.\n"
    "General Maria Ortiz told reporters on 2 October that troops had crossed the border."
)
URL = "https://example.org/news/troops-crossed"


def _type_into(chrome: Browser, selector: str, text: str) -> None:
    chrome.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
    chrome.type_text(text)


def test_a_writer_drafts_statements_from_an_article(
    server: str, api: httpx.Client, browser: Browser  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.navigate(f"{server}/ui")
    if browser.evaluate("document.querySelector('form.signout') !== null"):
        browser.after_navigation(lambda: browser.evaluate(
            "document.querySelector('form.signout button').click()"))
    browser.navigate(f"{server}/ui/login?next=/ui/claims/{TROOPS}")
    browser.evaluate("document.getElementById('key').focus()")
    browser.type_text(WRITER)
    browser.after_navigation(lambda: browser.press("Enter"))
    assert browser.evaluate("location.pathname") == f"/ui/claims/{TROOPS}"
    before = api.get(f"/claims/{TROOPS}/events").json()["events"]
    head = api.get("/events", params={"limit": 1000}).json()["data"][-1]["position"]

    # The claim's page links to the drafts page, with the claim chosen.
    browser.after_navigation(lambda: browser.evaluate(
        "document.querySelector('#draft-link a').click()"))
    assert browser.evaluate("location.pathname + location.search") == \
        f"/ui/drafts?claim={TROOPS}"
    assert browser.evaluate("document.querySelector('#draft-form [name=claim_id]').value") == TROOPS
    _type_into(browser, "#draft-form [name=date]", "2024-10-14")
    _type_into(browser, "#draft-form [name=reference]", URL)
    _type_into(browser, "#draft-form [name=text]", ARTICLE)
    _shot(browser, "20-draft-paste")
    browser.after_navigation(lambda: browser.evaluate(
        "document.querySelector('#draft-form button[type=submit]').click()"))

    # Three proposals, editable; nothing written yet.
    proposals = browser.evaluate("""Array.from(document.querySelectorAll('fieldset.proposal'))
        .map(f => [f.dataset.source, f.dataset.type,
                   f.querySelector('[name^=occurred_at]').value])""")
    assert proposals == [["peskov", "denied", "2024-10-10"], ["kr-nis", "assessed", "2024-10-07"],
                         ["maria-ortiz", "asserted", "2024-10-02"]]
    assert api.get("/events", params={"after": head}).json()["data"] == []
    _shot(browser, "21-draft-proposals")

    # Reject the NIS's, mend Peskov's quote, accept the two others (a new source among them).
    browser.evaluate("document.querySelector('[name=decision-1][value=reject]').click()")
    browser.evaluate("(() => { const q = document.querySelector('[name=quote-0]');"
                     " q.value = ''; q.focus(); })()")
    browser.type_text("the reports are fake")
    browser.after_navigation(lambda: browser.evaluate(
        "document.querySelector('#review-form button[type=submit]').click()"))

    # One batch, with the article as the reference, shown on the claim's page.
    assert browser.evaluate("location.pathname") == f"/ui/claims/{TROOPS}"
    after = api.get(f"/claims/{TROOPS}/events").json()["events"]
    new = after[len(before):]
    assert [(e["type"], e["source"], e["actor"], e["reference"]) for e in new] == [
        ("denied", "peskov", "desk", URL), ("asserted", "maria-ortiz", "desk", URL)]
    assert new[0]["quote"] == "the reports are fake"
    assert new[1]["position"] == new[0]["position"] + 1  # one batch: nothing between them
    assert api.get("/sources/maria-ortiz").json()["name"] == "Maria Ortiz"
    for event in new:
        assert browser.evaluate(
            f"document.getElementById('event-{event['event_id']}') !== null"), event
    notice = browser.evaluate("document.getElementById('recorded').textContent")
    assert notice.startswith(f"Recorded: #{new[0]['position']} denied by Dmitry Peskov")
    _shot(browser, "22-draft-appended")
    assert browser.console_errors() == []
