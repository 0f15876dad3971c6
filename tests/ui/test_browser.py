"""The web view in a real browser: headless Chromium against ``claims-ledger serve --demo``.

The server runs in a subprocess on a fresh SQLite file with the article loaded and API keys
configured (a writer for the test's append, a reader for the browser). The browser signs in
with the reader's key, reads the claims, opens the North Korea troops claim, finds a marker
per event, moves ``known_at`` back before the test's append and sees the numbers change,
overlays today's line, and reads the audit trail; each number is checked against the API.
Screenshots go to ``tests/ui/artifacts/`` (git-ignored; ``CLAIMS_LEDGER_UI_ARTIFACTS``
names another directory).

Chromium comes from Debian (``apt-get install chromium``): without ``/usr/bin/chromium``
the test skips, saying so, unless ``CLAIMS_LEDGER_REQUIRE_BROWSER=1`` (as ``.ci/run``
sets), when it fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from api.routes.ui.describe import EVENT_ID

from .cdp import CHROMIUM, Browser

pytestmark = pytest.mark.slow

ARTIFACTS = Path(
    os.environ.get("CLAIMS_LEDGER_UI_ARTIFACTS") or Path(__file__).parent / "artifacts"
)
WRITER = "ui-test-writer-0123456789abcdef"
READER = "ui-test-reader-0123456789abcdef"
TROOPS = "nk-troops-for-russia"
NIS_18_OCTOBER = {
    "type": "assessed", "source": "kr-nis", "occurred_at": "2024-10-18",
    "likelihood": "almost certain", "confidence": "high",
    "summary": "North Korea has sent about 1,500 special forces troops to Russia, "
               "to be deployed in Ukraine after training.",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = (f"{CHROMIUM} is not installed (Debian: apt-get install -y chromium "
                  "chromium-driver); the browser test needs it")
        if os.environ.get("CLAIMS_LEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CLAIMS_LEDGER_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``claims-ledger serve --demo`` on a fresh SQLite store, with keys; its base URL."""
    work = tmp_path_factory.mktemp("ui-server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_LEDGER_")}
    env.update(
        XDG_DATA_HOME=str(work / "xdg"),
        CLAIMS_LEDGER_API_KEYS=f"desk:writer:{WRITER},viewer:reader:{READER}",
    )
    command = [sys.executable, "-m", "ledger_cli", "--store", f"sqlite:///{work}/ledger.sqlite3",
               "serve", "--demo", "--port", str(port)]
    log_path = work / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start:\n" + log_path.read_text()
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30,
                      headers={"Authorization": f"Bearer {WRITER}"}) as client:
        yield client


@pytest.fixture(scope="module")
def browser(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    work = tmp_path_factory.mktemp("chromium")
    chrome = Browser(work / "profile", work / "chromium.log", binary=chromium)
    try:
        yield chrome
    finally:
        chrome.close()


def _shot(browser: Browser, name: str) -> Path:
    return browser.screenshot(ARTIFACTS / f"{name}.png")


def _rows(browser: Browser, selector: str, *attributes: str) -> list[dict[str, str]]:
    """The data-* attributes of the elements a selector finds, as the page holds them."""
    script = f"""Array.from(document.querySelectorAll({json.dumps(selector)})).map(e => {{
        const out = {{}};
        for (const name of {json.dumps(list(attributes))})
            out[name] = e.getAttribute('data-' + name);
        return out;
    }})"""
    rows: list[dict[str, str]] = browser.evaluate(script)
    return rows


def _choose(browser: Browser, select: str, value: str) -> None:
    """Pick an option as a person would: the select's change submits its form."""
    script = f"""(() => {{
        const s = document.querySelector({json.dumps(select)});
        s.focus(); s.value = {json.dumps(value)};
        s.dispatchEvent(new Event('change', {{bubbles: true}}));
    }})()"""
    browser.after_navigation(lambda: browser.evaluate(script))


def test_the_web_view_in_a_browser(server: str, api: httpx.Client, browser: Browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # A later recording time: the NIS's 18 October assessment, appended through the API.
    appended = api.post(f"/claims/{TROOPS}/events", json=NIS_18_OCTOBER,
                        headers={"Idempotency-Key": "ui-browser-nis"})
    assert appended.status_code == 201, appended.text
    events = api.get(f"/claims/{TROOPS}/events").json()["events"]
    assert events[-1]["event_id"] == appended.json()["event_id"]

    # Keys are configured: the view asks for one, once.
    browser.navigate(f"{server}/ui")
    assert browser.evaluate("document.querySelector('form.login') !== null")
    _shot(browser, "01-sign-in")
    browser.evaluate("document.getElementById('key').focus()")
    browser.type_text(READER)
    browser.after_navigation(lambda: browser.press("Enter"))
    assert browser.evaluate("location.pathname") == "/ui"

    # The claims page: every claim, each number the API's.
    listed = {c["id"]: c for c in api.get("/claims").json()["data"]}
    rows = _rows(browser, "tr[data-claim-id]", "claim-id", "probability", "band", "status")
    assert {r["claim-id"] for r in rows} == set(listed)
    for row in rows:
        credibility = listed[row["claim-id"]]["credibility"]
        assert float(row["probability"]) == credibility["probability"]
        assert (row["band"], row["status"]) == (credibility["band"], credibility["status"])
    _shot(browser, "02-claims")

    # Sorted by probability, highest first: the header link says so and the rows follow.
    browser.after_navigation(lambda: browser.evaluate(
        "document.querySelector('th a[href*=\"sort=-probability\"]').click()"))
    ordered = [float(r["probability"]) for r in _rows(browser, "tr[data-claim-id]", "probability")]
    assert ordered == sorted(ordered, reverse=True)
    assert "sort=-probability" in browser.evaluate("location.search")

    # Open the troops claim from the list.
    browser.after_navigation(lambda: browser.evaluate(
        f"document.querySelector('tr[data-claim-id=\"{TROOPS}\"] a.claim-link').click()"))
    assert browser.evaluate("location.pathname") == f"/ui/claims/{TROOPS}"
    today = api.get(f"/claims/{TROOPS}").json()["credibility"]
    summary = _rows(browser, "section.summary", "probability", "band", "known-at")[0]
    assert float(summary["probability"]) == today["probability"] == 0.971447
    assert summary["band"] == today["band"] == "almost certain"

    # One marker per event, each described for the keyboard.
    markers = _rows(browser, ".chart .marker", "event-id", "type", "source")
    assert [m["event-id"] for m in markers] == [e["event_id"] for e in events]
    _shot(browser, "03-claim-now")
    browser.evaluate("document.querySelector('.controls .actions a').focus()")
    browser.press("Tab")  # from the form's last link to the first marker of the chart
    focused = browser.evaluate("document.activeElement.getAttribute('data-event-id')")
    assert focused == events[0]["event_id"]
    for _ in range(len(events) - 1):
        browser.press("ArrowRight")
    assert browser.evaluate("document.activeElement.getAttribute('data-event-id')") == \
        events[-1]["event_id"]
    tip = browser.wait_for("!document.getElementById('chart-tip').hidden && "
                           "document.getElementById('chart-tip').textContent")
    assert "National Intelligence Service" in tip and "almost certain" in tip
    assert "Contribution" in tip and "North Korea has sent about 1,500" in tip
    _shot(browser, "04-claim-marker-tooltip")
    browser.press("Escape")

    # known_at back to just before the append: the chart and every number as known then.
    before = events[-2]["recorded_at"]
    _choose(browser, "#known-at", before)
    assert f"known_at={quote(before, safe='')}" in browser.evaluate("location.search")
    then = api.get(f"/claims/{TROOPS}", params={"known_at": before}).json()["credibility"]
    summary = _rows(browser, "section.summary", "probability", "band", "known-at")[0]
    assert float(summary["probability"]) == then["probability"] == 0.841004
    assert float(summary["probability"]) != today["probability"]
    assert summary["known-at"] == before
    shown = browser.evaluate("document.getElementById('probability').textContent")
    assert shown == "84%"
    verdict = browser.evaluate("document.getElementById('verdict').textContent")
    assert verdict == "Very likely (84%) — leaning true, not resolved"
    markers = _rows(browser, ".chart .marker", "event-id")
    assert [m["event-id"] for m in markers] == [e["event_id"] for e in events[:-1]]
    _shot(browser, "05-claim-known-before-append")

    # Overlay today's view: "what we believed then about then" against now.
    _choose(browser, "#compare", "now")
    assert browser.evaluate("document.querySelector('.chart path.line.overlay') !== null")
    assert browser.evaluate("document.querySelector('.chart path.line.primary') !== null")
    _shot(browser, "06-claim-then-versus-now")

    # The audit trail as known then, entry by entry the API's.
    audit = api.get(f"/claims/{TROOPS}/audit", params={"known_at": before}).json()["entries"]
    table = browser.evaluate("""Array.from(document.querySelectorAll('table.audit tbody tr'))
        .map(r => ({position: r.dataset.position, before: r.dataset.before, after: r.dataset.after,
                    reason: r.dataset.reason,
                    cells: Array.from(r.cells).map(c => c.innerText.trim())}))""")
    names = {s["id"]: s["name"] for s in api.get("/sources").json()["data"]}
    assert [int(r["position"]) for r in table] == [a["position"] for a in audit]
    for row, entry in zip(table, audit, strict=True):
        assert float(row["before"]) == entry["before"]["probability"]
        assert float(row["after"]) == entry["after"]["probability"]
        _recorded, what, source, actor, change, reason = row["cells"]
        assert actor == entry["actor"] == "example-data"
        assert source == names[entry["source"]] and row["reason"] == entry["reason"]
        assert not EVENT_ID.search(reason)  # events named by source and date, not by id
        assert entry["type"] in what and "→" in change
    # And today's audit names who appended the NIS's assessment.
    browser.navigate(f"{server}/ui/claims/{TROOPS}#audit-heading")
    actors = browser.evaluate("Array.from(document.querySelectorAll('table.audit tbody tr'))"
                              ".map(r => r.dataset.actor)")
    assert actors[-1] == "desk"

    # The sources, with their ratings and what they spoke on.
    browser.navigate(f"{server}/ui/sources")
    sources = {s["id"]: s for s in api.get("/sources").json()["data"]}
    cards = _rows(browser, "section.source", "source-id", "reliability", "affiliation")
    assert {c["source-id"] for c in cards} == set(sources)
    for card in cards:
        assert card["reliability"] == sources[card["source-id"]]["reliability"]
    spoke = browser.evaluate("Array.from(document.querySelectorAll('#source-kr-nis .spoke-on li'))"
                             ".map(li => li.dataset.claimId)")
    assert spoke == [TROOPS]
    _shot(browser, "07-sources")

    # A phone: the same pages, laid out for a narrow screen.
    browser.viewport(390, 844, mobile=True, scale=2)
    try:
        browser.navigate(f"{server}/ui")
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(browser, "08-phone-claims")
        browser.navigate(f"{server}/ui/claims/{TROOPS}?known_at={quote(before, safe='')}"
                         "&compare=now")
        assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(browser, "09-phone-claim")
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")

    assert browser.console_errors() == []


def _fill(browser: Browser, values: dict[str, str], form: str = "record-form") -> None:
    """Type into a form's fields as a person would (each field focused, then keys)."""
    for name, value in values.items():
        field = json.dumps(f"#{form} [name={name}]")
        kind = browser.evaluate(f"document.querySelector({field}).tagName")
        if kind == "SELECT":
            browser.evaluate(f"""(() => {{
                const s = document.querySelector({field});
                s.focus(); s.value = {json.dumps(value)}; }})()""")
        else:
            browser.evaluate(f"document.querySelector({field}).focus()")
            browser.type_text(value)


def _hover(browser: Browser, event_id: str) -> str:
    """Move the mouse onto a marker's centre; the event id under it and the tip shown."""
    where = browser.evaluate(f"""(() => {{
        const m = document.querySelector('.chart .marker[data-event-id="{event_id}"]');
        m.scrollIntoView({{block: 'center', behavior: 'instant'}});
        const r = m.querySelector('.shape').getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2];
    }})()""")
    browser.send("Input.dispatchMouseEvent", type="mouseMoved", x=where[0], y=where[1])
    under = browser.evaluate(f"""(() => {{
        const e = document.elementFromPoint({where[0]}, {where[1]});
        const m = e && e.closest('.marker');
        return m ? m.dataset.eventId : [String(e && e.tagName), innerWidth, innerHeight];
    }})()""")
    assert under == event_id, (where, under)
    tip: str = browser.wait_for("!document.getElementById('chart-tip').hidden && "
                                "document.getElementById('chart-tip').textContent")
    return tip


def test_a_writer_records_a_statement_in_the_browser(
    server: str, api: httpx.Client, browser: Browser
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

    # A date without a zone: refused beside its field, nothing written, the words kept.
    _fill(browser, {"type": "asserted", "source": "kim-yong-hyun",
                    "occurred_at": "2024-10-18T09:00:00",
                    "summary": "The troops are training in eastern Russia."})
    browser.after_navigation(lambda: browser.evaluate(
        "document.getElementById('record-submit').click()"))
    error = browser.evaluate("document.getElementById('record-occurred_at-error').textContent")
    assert "zone" in error
    assert browser.evaluate("document.querySelector('#record-form [name=summary]').value") == \
        "The troops are training in eastern Russia."
    assert api.get(f"/claims/{TROOPS}/events").json()["events"] == before
    _shot(browser, "10-record-refused")

    # Mended: recorded, and shown on the claim's page at once.
    browser.evaluate("(() => { const f = document.querySelector('#record-form [name=occurred_at]');"
                     " f.value = ''; f.focus(); })()")
    browser.type_text("2024-10-18")
    browser.after_navigation(lambda: browser.evaluate(
        "document.getElementById('record-submit').click()"))
    after = api.get(f"/claims/{TROOPS}/events").json()["events"]
    assert len(after) == len(before) + 1
    new = after[-1]
    assert (new["type"], new["source"], new["actor"]) == ("asserted", "kim-yong-hyun", "desk")
    assert browser.evaluate("location.pathname") == f"/ui/claims/{TROOPS}"
    notice = browser.evaluate("document.getElementById('recorded').textContent")
    assert notice.startswith(f"Recorded: #{new['position']} asserted by Kim Yong-hyun")
    summary = _rows(browser, "section.summary", "probability")[0]
    assert float(summary["probability"]) == \
        api.get(f"/claims/{TROOPS}").json()["credibility"]["probability"]
    _shot(browser, "11-recorded")

    # Two markers on 18 October: each can be hovered, and shows its own description.
    same_day = [e for e in after if e["occurred_at"].startswith("2024-10-18")]
    assert len(same_day) >= 2
    for event in same_day:
        tip = _hover(browser, event["event_id"])
        assert (event.get("summary") or event.get("quote") or "")[:30] in tip
    _shot(browser, "12-same-day-markers")

    # A source's page and the log page.
    browser.navigate(f"{server}/ui/sources/kim-yong-hyun")
    said = _rows(browser, "table.said tr[data-event-id]", "event-id")
    assert new["event_id"] in [r["event-id"] for r in said]
    _shot(browser, "13-source")
    browser.navigate(f"{server}/ui/log?claim={TROOPS}")
    assert browser.evaluate("document.querySelector('section.chain').dataset.ok") == "true"
    latest = browser.evaluate("document.querySelector('li.log-event').dataset.eventId")
    assert latest == new["event_id"]
    _shot(browser, "14-log")
    assert browser.console_errors() == []


def _sign_in_as(browser: Browser, server: str, key: str, target: str) -> None:
    browser.navigate(f"{server}/ui")
    if browser.evaluate("document.querySelector('form.signout') !== null"):
        browser.after_navigation(lambda: browser.evaluate(
            "document.querySelector('form.signout button').click()"))
    browser.navigate(f"{server}/ui/login?next={target}")
    browser.evaluate("document.getElementById('key').focus()")
    browser.type_text(key)
    browser.after_navigation(lambda: browser.press("Enter"))
    assert browser.evaluate("location.pathname") == target


def test_a_preview_shows_the_move_writes_nothing_and_record_commits(
    server: str, api: httpx.Client, browser: Browser
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _sign_in_as(browser, server, WRITER, f"/ui/claims/{TROOPS}")
    before = api.get(f"/claims/{TROOPS}")
    head = api.get("/events", params={"limit": 1000}).json()
    statement = {"type": "assessed", "source": "kim-yong-hyun", "occurred_at": "2024-10-21",
                 "likelihood": "almost certain",
                 "summary": "Satellite images show the troops in Kursk."}
    _fill(browser, statement)
    browser.after_navigation(lambda: browser.evaluate(
        "document.getElementById('record-preview').click()"))
    move = browser.evaluate("document.getElementById('preview-move').textContent")
    expected = api.post(f"/claims/{TROOPS}/preview", json=statement).json()
    was = round(expected["before"]["probability"] * 100)
    will = round(expected["after"]["probability"] * 100)
    assert " ".join(move.split()).startswith(f"Would move from {was}% to {will}% (")
    proposed = browser.evaluate("document.getElementById('preview-proposed').textContent")
    assert "Kim Yong-hyun" in proposed and "this statement" in proposed
    # Nothing written: the claim's version and the log are as they were.
    assert api.get(f"/claims/{TROOPS}").headers["etag"] == before.headers["etag"]
    assert api.get("/events", params={"limit": 1000}).json() == head
    # The form is kept as typed, selects included.
    assert browser.evaluate("document.querySelector('#record-form [name=summary]').value") == \
        statement["summary"]
    assert browser.evaluate("document.querySelector('#record-form [name=source]').value") == \
        "kim-yong-hyun"
    _shot(browser, "15-preview")
    browser.after_navigation(lambda: browser.evaluate(
        "document.getElementById('record-submit').click()"))
    assert browser.evaluate("location.pathname") == f"/ui/claims/{TROOPS}"
    after = api.get(f"/claims/{TROOPS}").json()
    assert after["version"] == before.json()["version"] + 1
    assert round(after["credibility"]["probability"] * 100) == will
    _shot(browser, "16-recorded-after-preview")
    assert browser.console_errors() == []


def test_sort_by_a_column_then_save_and_reopen_the_view(
    server: str, api: httpx.Client, browser: Browser
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _sign_in_as(browser, server, READER, "/ui")
    # The Probability header sorts, highest first, as the API's sort does.
    browser.after_navigation(lambda: browser.evaluate(
        "Array.from(document.querySelectorAll('table.claims th a'))"
        ".find(a => a.textContent.startsWith('Probability')).click()"))
    assert "sort=-probability" in browser.evaluate("location.search")
    shown = _rows(browser, "table.claims tr[data-claim-id]", "claim-id", "probability")
    expected = api.get("/claims", params={"sort": "-probability", "limit": 50}).json()["data"]
    assert [r["claim-id"] for r in shown] == [c["id"] for c in expected]
    assert browser.evaluate(
        "document.querySelector('th[aria-sort]').getAttribute('aria-sort')") == "descending"
    _shot(browser, "17-sorted-by-probability")
    # Saved under a name, then found on the list page and opened again.
    address = browser.evaluate("location.search")
    browser.evaluate("document.querySelector('#save-view [name=name]').focus()")
    browser.type_text("Most likely first")
    browser.after_navigation(lambda: browser.evaluate(
        "document.querySelector('#save-view button').click()"))
    assert browser.evaluate("location.search") == address
    browser.navigate(f"{server}/ui?sort=text")
    views = _rows(browser, "#saved-views li", "view")
    assert {"view": "Most likely first"} in views
    _shot(browser, "18-saved-views")
    browser.after_navigation(lambda: browser.evaluate(
        "document.querySelector('#saved-views li[data-view=\"Most likely first\"] a').click()"))
    assert browser.evaluate("location.search") == address
    again = _rows(browser, "table.claims tr[data-claim-id]", "claim-id")
    assert [r["claim-id"] for r in again] == [r["claim-id"] for r in shown]
    assert browser.console_errors() == []
