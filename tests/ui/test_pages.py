"""The web view's numbers are the API's: every page, at the same as_of and known_at.

Each page states the concrete times it used (``data-as-of``, ``data-known-at``); the API is
then asked at exactly those times, and every number on the page (probability, band, status,
grade, version, contributions, audit entries, timeline steps, events, ratings) must be the
API's. Runs on every backend (the claims list is the projection's on SQLite and PostgreSQL).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from api.routes.ui import claim as claim_routes
from api.routes.ui.describe import EVENT_ID
from api.routes.ui.render import percent, points

from .conftest import TROOPS, Article, Node, parse

END_OF_TIME = "9999-12-31"


def _claim_rows(page: Node) -> list[dict[str, Any]]:
    return [
        {
            "id": row.data("claim-id"),
            "probability": float(row.data("probability")),
            "band": row.data("band"),
            "status": row.data("status"),
            "grade": int(row.data("grade")),
            "version": int(row.data("version")),
        }
        for row in page.all("tr") if "data-claim-id" in row.attrs
    ]


def _api_rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": c["id"], **{k: c["credibility"][k] for k in ("probability", "band", "status",
                                                              "grade")},
         "version": c["version"]}
        for c in answer["data"]
    ]


def _times(page: Node) -> dict[str, str]:
    stated = page.one(cls="times")
    return {"as_of": stated.data("as-of"), "known_at": stated.data("known-at")}


TIMES = [
    pytest.param({}, id="now"),
    pytest.param({"as_of": "2024-10-12"}, id="as-of-12-october"),
    pytest.param({"as_of": "2024-10-31", "known_at": "before"}, id="known-before-append"),
    pytest.param({"known_at": "2024-01-01"}, id="known-before-anything"),
]


def _resolve(article: Article, times: dict[str, str]) -> dict[str, str]:
    return {k: (article.before_append if v == "before" else v) for k, v in times.items()}


@pytest.mark.parametrize("times", TIMES)
def test_the_claims_page_shows_the_apis_numbers(article: Article, times: dict[str, str]) -> None:
    times = _resolve(article, times)
    page = article.page("/ui", **times)
    stated = _times(page)
    if "as_of" in times:
        assert stated["as_of"] == article.api("/claims", **times)["as_of"]
    answer = article.api("/claims", **stated)
    assert _claim_rows(page) == _api_rows(answer)
    assert page.one(cls="count").data("total") == str(len(answer["data"]))
    for row in page.all("tr"):
        if "data-claim-id" in row.attrs:  # the shown number is the API's, as a percentage
            shown = row.one(cls="p")
            assert shown.text() == percent(float(row.data("probability")))
            assert shown.attrs["title"] == row.data("probability")


def test_the_claims_page_moves_with_known_at(article: Article) -> None:
    before = {r["id"]: r for r in _claim_rows(article.page("/ui", known_at=article.before_append))}
    now = {r["id"]: r for r in _claim_rows(article.page("/ui"))}
    assert before[TROOPS]["probability"] == 0.841004  # credibility-v2, the default
    assert now[TROOPS]["probability"] == 0.971447
    assert before[TROOPS]["version"] + 1 == now[TROOPS]["version"]


@pytest.mark.parametrize(
    "filters",
    [{"status": "leaning true"}, {"band": "likely"}, {"band": "almost certain"},
     {"tag": "arms"}, {"tag": "ARMS"}, {"q": "troops"}, {"q": "pledged", "band": "likely"},
     {"status": "refuted"}],
    ids=lambda f: "-".join(f"{k}={v}" for k, v in f.items()),
)
def test_filters_are_the_apis(article: Article, filters: dict[str, str]) -> None:
    page = article.page("/ui", **filters)
    assert _claim_rows(page) == _api_rows(article.api("/claims", **_times(page), **filters))
    form = page.one("form", cls="controls")
    for name, value in filters.items():
        (field,) = [n for n in form.walk() if n.attrs.get("name") == name]
        chosen = field.attrs.get("value") if field.tag == "input" else next(
            o.attrs["value"] for o in field.all("option") if "selected" in o.attrs)
        assert chosen == value


def test_sorting_and_paging(article: Article) -> None:
    for number in range(30):
        article.client.post("/claims", json={"id": f"extra-{number:02d}", "text": f"Extra {number}",
                                             "tags": ["extra"]})
        if number % 3 == 0:
            article.client.post(f"/claims/extra-{number:02d}/events", json={
                "type": "denied", "source": "peskov", "occurred_at": "2024-10-10",
                "summary": "No."})
    every = _api_rows(article.api("/claims", limit=1000))
    assert len(every) == 33

    first = article.page("/ui", per="25")
    assert [r["id"] for r in _claim_rows(first)] == [r["id"] for r in every[:25]]
    assert "1 to 25 shown; more on the next page" in first.one(cls="count").text()
    # The next page is the ledger's cursor, at the times the first page was read.
    (onward,) = [a for a in first.one("nav", cls="pager").all("a") if a.attrs.get("rel") == "next"]
    target = urlsplit(onward.attrs["href"])
    shown = _times(first)
    asked = dict(parse_qsl(target.query))
    assert asked == {"per": "25", "as_of": shown["as_of"], "known_at": shown["known_at"],
                     "since": asked["since"], "cursor": asked["cursor"], "start": "26"}
    assert asked["cursor"] == article.api("/claims", limit=25, **shown)["next_cursor"]
    second = article.page(target.path, **dict(parse_qsl(target.query)))
    assert [r["id"] for r in _claim_rows(second)] == [r["id"] for r in every[25:]]
    assert "26 to 33 shown" in second.one(cls="count").text()
    # Back to the first page of the same list, at the same times; no next page.
    (back,) = second.one("nav", cls="pager").all("a")
    assert back.attrs["rel"] == "first"
    assert dict(parse_qsl(urlsplit(back.attrs["href"]).query)) == {
        k: v for k, v in asked.items() if k not in ("cursor", "start")}

    # Each order is the ledger's, paged by its cursors: the pages make the whole list.
    for order in ("-probability", "text", "-last_change", "moved"):
        whole = _api_rows(article.api("/claims", sort=order, since="2024-10-09",
                                      as_of=shown["as_of"], known_at=shown["known_at"],
                                      limit=1000))
        paged, page = [], article.page("/ui", sort=order, per="25", since="2024-10-09",
                                       **shown)
        while True:
            paged += _claim_rows(page)
            found = [a for a in page.all("a") if a.attrs.get("rel") == "next"]
            if not found:
                break
            target = urlsplit(found[0].attrs["href"])
            page = article.page(target.path, **dict(parse_qsl(target.query)))
        assert paged == whole, order

    by_probability = _claim_rows(article.page("/ui", sort="-probability", per="100"))
    assert [r["probability"] for r in by_probability] == sorted(
        (r["probability"] for r in every), reverse=True)
    assert sorted(by_probability, key=lambda r: r["id"]) == sorted(every, key=lambda r: r["id"])
    newest_first = _claim_rows(article.page("/ui", sort="-registered", per="100"))
    assert newest_first == every[::-1]
    by_text = [r["id"] for r in _claim_rows(article.page("/ui", sort="text", per="100"))]
    texts = {c["id"]: c["text"] for c in article.api("/claims", limit=1000)["data"]}
    assert [texts[i].casefold() for i in by_text] == sorted(t.casefold() for t in texts.values())
    # The header says how the table is sorted, and its link reverses it.
    header = next(th for th in article.page("/ui", sort="-probability").all("th")
                  if "aria-sort" in th.attrs)
    assert header.attrs["aria-sort"] == "descending" and "Probability" in header.text()
    assert header.one("a").attrs["href"] == "/ui?sort=probability"
    # Nonsense falls back to the defaults.
    assert _claim_rows(article.page("/ui", per="7", cursor="x", sort="bogus")) == every


CLAIM_TIMES = [
    pytest.param({}, id="now"),
    pytest.param({"as_of": "2024-10-12"}, id="as-of-12-october"),
    pytest.param({"known_at": "before"}, id="known-before-append"),
    pytest.param({"as_of": "2024-10-15", "known_at": "before", "compare": "now"},
                 id="then-versus-now"),
]


@pytest.mark.parametrize("times", CLAIM_TIMES)
def test_the_claim_page_shows_the_apis_numbers(article: Article, times: dict[str, str]) -> None:
    times = _resolve(article, times)
    page = article.page(f"/ui/claims/{TROOPS}", **times)
    summary = page.one("section", cls="summary")
    stated = {"as_of": summary.data("as-of"), "known_at": summary.data("known-at")}
    claim = article.api(f"/claims/{TROOPS}", **stated)
    credibility = claim["credibility"]
    assert float(summary.data("probability")) == credibility["probability"]
    assert summary.data("band") == credibility["band"]
    assert summary.data("status") == credibility["status"]
    assert int(summary.data("grade")) == credibility["grade"]
    assert int(summary.data("version")) == claim["version"]
    assert page.by_id("probability").text() == percent(credibility["probability"])

    # Contributions: one row per event in scope, each delta, weight and reason the API's
    # (the reason shown names events, where the API gives their ids).
    rows = page.one("table", cls="contributions").all("tr")[1:]
    if credibility["contributions"]:
        assert [(r.data("event-id"), float(r.data("delta")), float(r.data("log-odds")),
                 r.data("reason"))
                for r in rows] == [(c["event_id"], c["delta"], c["log_odds"], c["reason"])
                                   for c in credibility["contributions"]]
        for row in rows:
            assert row.all("td")[2].text() == points(float(row.data("delta")))
            assert not EVENT_ID.search(row.all("td")[-1].text())

    # The audit trail: entry by entry, before and after; before anything was said by
    # as_of, no row of 50% -> 50% but a sentence saying so.
    audit = article.api(f"/claims/{TROOPS}/audit", **stated)["entries"]
    said = article.api(f"/claims/{TROOPS}/events", **stated)["events"]
    if not said:
        assert not page.all("table", cls="audit")
        assert page.by_id("nothing-said").text().startswith("Nothing had been said by")
        assert all(a["before"] == a["after"] for a in audit)
    else:
        table = page.one("table", cls="audit")
        assert [
            (int(r.data("position")), r.data("event-id"), r.data("type"), r.data("actor"),
             float(r.data("before")), float(r.data("after")), r.data("after-band"),
             r.data("reason"))
            for r in table.all("tr") if "data-position" in r.attrs
        ] == [
            (a["position"], a["event_id"], a["type"], a["actor"], a["before"]["probability"],
             a["after"]["probability"], a["after"]["band"], a["reason"])
            for a in audit
        ]

    # The timeline: its steps, and the overlay's (a second recording time).
    timeline = article.api(f"/claims/{TROOPS}/timeline", known_at=stated["known_at"])
    steps = page.all("table", cls="timeline-table")
    assert _steps(steps[0]) == [(p["valid_from"], p["probability"], p["band"], p["status"])
                                for p in timeline["points"]]
    if "compare" in times:
        overlay = article.api(f"/claims/{TROOPS}/timeline")
        assert _steps(steps[1]) == [(p["valid_from"], p["probability"], p["band"], p["status"])
                                    for p in overlay["points"]]
        assert page.all("path", cls="overlay")
    else:
        assert len(steps) == 1 and not page.all("path", cls="overlay")

    # The raw events by as_of, and a marker for every event known then, whatever its date.
    events = article.api(f"/claims/{TROOPS}/events", **stated)["events"]
    listed = [li.data("event-id") for li in page.all("li", cls="event")]
    assert listed == [e["event_id"] for e in events]
    known = article.api(f"/claims/{TROOPS}/events", as_of=END_OF_TIME,
                        known_at=stated["known_at"])["events"]
    markers = page.all("a", cls="marker")
    assert [m.data("event-id") for m in markers] == [e["event_id"] for e in known]
    assert page.one("svg", cls="chart").data("markers") == str(len(known))


def _steps(table: Node) -> list[tuple[str, float, str, str]]:
    return [(r.data("valid-from"), float(r.data("probability")), r.data("band"), r.data("status"))
            for r in table.all("tr") if "data-valid-from" in r.attrs]


def test_known_at_redraws_the_claim_as_the_ledger_knew_it(article: Article) -> None:
    now = article.page(f"/ui/claims/{TROOPS}")
    then = article.page(f"/ui/claims/{TROOPS}", known_at=article.before_append)
    assert float(now.one("section", cls="summary").data("probability")) == 0.971447
    assert float(then.one("section", cls="summary").data("probability")) == 0.841004
    assert len(now.all("a", cls="marker")) == len(then.all("a", cls="marker")) + 1
    # The known_at control offers each recording moment of the claim, latest first.
    options = now.by_id("known-at").all("option")
    values = [o.attrs["value"] for o in options]
    assert values[0] == "" and values[1] == article.appended_at
    assert values[2] == article.before_append
    # Each named by its event and source: "after #20 assessed by National Intelligence ..."
    assert options[1].text().endswith(
        f"after #{article.api(f'/claims/{TROOPS}/events')['events'][-1]['position']} assessed"
        " by National Intelligence Service (South Korea)")
    assert "selected" in next(o for o in then.by_id("known-at").all("option")
                              if o.attrs["value"] == article.before_append).attrs


def test_markers_say_who_said_what_and_what_it_did(article: Article) -> None:
    page = article.page(f"/ui/claims/{TROOPS}")
    markers = {m.data("event-id"): m for m in page.all("a", cls="marker")}
    events = article.api(f"/claims/{TROOPS}/events")["events"]
    contributions = {c["event_id"]: c for c in
                     article.api(f"/claims/{TROOPS}")["credibility"]["contributions"]}
    for event in events:
        marker = markers[event["event_id"]]
        tip = marker.one("title").text()
        assert marker.data("type") == event["type"] and marker.data("source") == event["source"]
        assert event["type"] in tip and event["source"] in tip
        assert f"moved the probability {points(contributions[event['event_id']]['delta'])}" in tip
        assert (event.get("quote") or event.get("summary"))[:40] in tip
        assert marker.attrs["href"] == f"#event-{event['event_id']}"
        assert page.by_id(f"event-{event['event_id']}")
    nis = markers[events[-1]["event_id"]].one("title").text()
    assert "National Intelligence Service (South Korea)" in nis
    assert "almost certain (0.97); confidence high" in nis
    peskov = markers[events[2]["event_id"]].one("title").text()
    assert "denied by Dmitry Peskov (peskov; RU, reliability D)" in peskov
    assert "“another hoax”" in peskov


def test_corrections_and_retractions_link_to_what_they_supersede(article: Article) -> None:
    events = article.api(f"/claims/{TROOPS}/events")["events"]
    denial, assertion = events[2], events[3]
    article.client.post(f"/claims/{TROOPS}/events", json={
        "type": "retracted", "source": "peskov", "occurred_at": "2024-10-20",
        "supersedes": denial["event_id"], "summary": "Withdrawn."})
    article.client.post(f"/claims/{TROOPS}/events", json={
        "type": "corrected", "supersedes": assertion["event_id"], "note": "Date checked."})
    page = article.page(f"/ui/claims/{TROOPS}")
    retraction, correction = page.all("li", cls="event")[-2:]
    assert retraction.data("type") == "retracted" and correction.data("type") == "corrected"
    assert f"#event-{denial['event_id']}" in [a.attrs.get("href") for a in retraction.all("a")]
    assert "withdraws" in retraction.text()
    assert f"#event-{assertion['event_id']}" in [a.attrs.get("href") for a in correction.all("a")]
    assert "corrects" in correction.text()
    # And the superseded events name what superseded them.
    withdrawn = page.by_id(f"event-{denial['event_id']}")
    assert "Withdrawn by" in withdrawn.text()
    assert f"#event-{retraction.data('event-id')}" in [a.attrs["href"] for a in withdrawn.all("a")]
    assert "Corrected by" in page.by_id(f"event-{assertion['event_id']}").text()
    assert len(page.all("a", cls="marker")) == len(events) + 2


@pytest.mark.parametrize("times", [{}, {"as_of": "2024-10-10"}, {"known_at": "before"}],
                         ids=["now", "as-of-10-october", "known-before-rerating"])
def test_the_sources_page_shows_the_apis_ratings(article: Article, times: dict[str, str]) -> None:
    rerated = article.client.post("/sources/peskov/ratings", json={
        "reliability": "E", "occurred_at": "2024-10-11", "note": "Repeated falsehoods."})
    assert rerated.status_code == 201, rerated.text
    times = {k: (article.appended_at if v == "before" else v) for k, v in times.items()}
    page = article.page("/ui/sources", **times)
    answer = article.api("/sources", **_times(page))
    cards = page.all("section", cls="source")
    assert [c.data("source-id") for c in cards] == [s["id"] for s in answer["data"]]
    for card, source in zip(cards, answer["data"], strict=True):
        assert card.data("reliability") == source["reliability"]
        assert card.data("affiliation") == (source["affiliation"] or "")
        assert card.data("affiliations") == " ".join(source["affiliations"])
        assert [(r.data("event-id"), r.data("reliability")) for r in card.all("tr")
                if "data-event-id" in r.attrs] == [(r["event_id"], r["reliability"])
                                                   for r in source["ratings"]]
    peskov = page.one("section", source_id="peskov")
    expected = {"as_of": "D", "known_at": "D"}.get(next(iter(times), ""), "E")
    assert peskov.data("reliability") == expected
    spoke = {li.data("claim-id") for li in peskov.all("li") if "data-claim-id" in li.attrs}
    assert spoke == {TROOPS}
    spoke_on = page.one("section", source_id="kr-nis").one("ul", cls="spoke-on")
    said, _dates = spoke_on.text().split(" (")
    assert said.endswith("assessed" if "as_of" in times else "assessed \N{MULTIPLICATION SIGN}2")
    # With the dates it spoke on, first to last, as the API has them.
    nis = [e["occurred_at"] for e in article.api(f"/claims/{TROOPS}/events", **_times(page))[
        "events"] if e["source"] == "kr-nis"]
    assert [t.attrs["datetime"] for t in spoke_on.all("time")] == sorted(set(nis))


def test_pages_refuse_what_the_api_refuses(article: Article) -> None:
    missing = article.client.get("/ui/claims/no-such-claim")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "no-such-claim" in missing.text
    for path, params, field in [("/ui", {"as_of": "yesterday"}, "as_of"),
                                ("/ui", {"known_at": "2024-10-13T18:00:00"}, "known_at"),
                                ("/ui", {"status": "maybe"}, "status"),
                                ("/ui/claims/" + TROOPS, {"compare": "soon"}, "compare"),
                                ("/ui/sources", {"as_of": "2024-13-01"}, "as_of")]:
        answer = article.client.get(path, params=params)
        assert answer.status_code == 422, (path, params)
        assert answer.headers["content-type"].startswith("text/html")
        assert f"{field}:" in parse(answer.text).one(cls="alert").text()


def test_the_audit_trail_pages_as_the_ledger_does(
    article: Article, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claim_routes, "AUDIT_PAGE", 2)
    whole = article.api(f"/claims/{TROOPS}/audit", limit=1000)
    seen: list[int] = []
    params: dict[str, str] = {"as_of": whole["as_of"], "known_at": whole["known_at"]}
    for _ in range(10):
        page = article.page(f"/ui/claims/{TROOPS}", **params)
        rows = [r for r in page.one("table", cls="audit").all("tr") if "data-position" in r.attrs]
        assert 1 <= len(rows) <= 2
        seen += [int(r.data("position")) for r in rows]
        later = [a for a in page.all("a") if a.attrs.get("rel") == "next"
                 and "audit_after=" in a.attrs["href"]]
        if not later:
            break
        (params["audit_after"],) = [p.split("=", 1)[1] for p in
                                    later[0].attrs["href"].split("#")[0].split("?")[1].split("&")
                                    if p.startswith("audit_after=")]
    assert seen == [e["position"] for e in whole["entries"]]
    assert len(seen) == 5


def test_the_claims_page_says_when_its_list_is_behind_the_log(
    article: Article, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list answered from a projection that had not caught up is said on the page, with
    the times it was answered at (the list's own known_at)."""
    ledger = article.ledger
    real = ledger.list_claims

    def behind(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = real(*args, **kwargs)
        return {**answer, "behind": {"position": 10, "head": 13}}

    monkeypatch.setattr(ledger, "list_claims", behind)
    notice = article.page("/ui").by_id("behind")
    assert "3 newer events in the log are not in it yet" in " ".join(notice.text().split())
    monkeypatch.setattr(ledger, "list_claims", real)
    assert not [n for n in article.page("/ui").walk() if n.attrs.get("id") == "behind"]
