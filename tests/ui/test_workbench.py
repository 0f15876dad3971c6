"""The analyst's workbench: a verdict at a glance, reasons in names and dates, tracking on
the list, a page per source, and refusals that keep the page (issue 27)."""

from __future__ import annotations

from typing import Any

import pytest

from api.routes.ui.render import percent, points

from .conftest import TROOPS, Article, parse


def test_percentages_and_percentage_points() -> None:
    assert [percent(p) for p in (0.5, 0.841004, 0.971447, 0.995, 0.004)] == [
        "50%", "84%", "97%", "99.5%", "0.4%"]
    assert [points(d) for d in (0.032, -0.309554, 0.0, 0.0001)] == [
        "+3.2 pts", "\N{MINUS SIGN}31.0 pts", "no change", "+<0.1 pts"]


def test_the_claim_page_opens_with_one_coherent_verdict_and_its_dates(article: Article) -> None:
    page = article.page(f"/ui/claims/{TROOPS}")
    assert page.by_id("verdict").text() == "Almost certain (97%) — leaning true, not resolved"
    # Grade 1 short of a resolution reads as corroboration, not as a settled fact.
    grade = page.by_id("grade").text()
    assert grade.startswith("Admiralty grade 1:") and "not resolved" in grade
    dates = page.by_id("dates")
    assert dates.text() == "First reported 8 Oct 2024 · last changed 18 Oct 2024"
    assert [t.attrs["datetime"][:10] for t in dates.all("time")] == ["2024-10-08", "2024-10-18"]
    # Before anything was said: unverified, and the page says why.
    early = article.page(f"/ui/claims/{TROOPS}", as_of="2024-10-01")
    assert early.by_id("verdict").text() == (
        "Roughly even chance (50%) — unverified: nothing said yet")
    assert early.by_id("dates").text() == "Nothing reported by this date"
    assert "+0.0000" not in article.client.get(f"/ui/claims/{TROOPS}").text


def test_reasons_and_tooltips_name_events_by_source_and_date(article: Article) -> None:
    events = article.api(f"/claims/{TROOPS}/events")["events"]
    denial = events[2]
    retracted = article.client.post(f"/claims/{TROOPS}/events", json={
        "type": "retracted", "source": "peskov", "occurred_at": "2024-10-20",
        "supersedes": denial["event_id"], "summary": "Withdrawn."}).json()
    page = article.page(f"/ui/claims/{TROOPS}")
    row = page.one("table", cls="contributions").one("tr", event_id=denial["event_id"])
    assert retracted["event_id"] in row.data("reason")  # the API's words, kept
    shown = row.all("td")[-1]
    assert retracted["event_id"] not in shown.text()
    ref = shown.one("a", cls="event-ref")
    assert ref.text() == f"#{retracted['position']} Dmitry Peskov, 20 Oct 2024"
    assert ref.attrs["href"] == f"#event-{retracted['event_id']}"
    assert ref.attrs["title"] == f"event {retracted['event_id']}"
    tip = page.one("a", cls="marker", event_id=retracted["event_id"]).one("title").text()
    assert f"Withdraws #{denial['position']} Dmitry Peskov, 10 Oct 2024" in tip
    assert denial["event_id"] not in tip


def test_the_audit_names_sources_and_says_when_nothing_had_been_said(article: Article) -> None:
    page = article.page(f"/ui/claims/{TROOPS}")
    rows = [r for r in page.one("table", cls="audit").all("tr") if "data-position" in r.attrs]
    names = {r.data("source"): r.all("td")[2].text() for r in rows}
    assert names["peskov"] == "Dmitry Peskov"
    assert names["kr-nis"] == "National Intelligence Service (South Korea)"
    moved = [r.one("span", cls="points").text() for r in rows if "unchanged" not in r.classes]
    assert moved and all(m.endswith(" pts") for m in moved)

    early = article.page(f"/ui/claims/{TROOPS}", as_of="2024-10-01")
    assert not early.all("table", cls="audit")
    said = early.by_id("nothing-said")
    assert said.text().startswith("Nothing had been said by 1 Oct 2024 (end of day)")
    assert int(said.data("entries")) == len(
        article.api(f"/claims/{TROOPS}/audit", as_of="2024-10-01")["entries"]) > 0


def test_the_list_tracks_last_change_moves_and_events_by_as_of(article: Article) -> None:
    def rows(**params: str) -> dict[str, dict[str, Any]]:
        page = article.page("/ui", **params)
        return {r.data("claim-id"): {
            "events": r.one("td", cls="events").text(),
            "last": r.one("td", cls="last-change").data("last-change"),
            "moved": float(r.one("td", cls="moved").data("moved")),
            "moved_text": r.one("td", cls="moved").text(),
        } for r in page.all("tr") if "data-claim-id" in r.attrs}

    # Events respect as_of: before any statement, none, whatever was recorded since.
    early = rows(as_of="2024-10-01")
    assert early[TROOPS]["events"] == "0" and early[TROOPS]["last"] == ""
    mid = rows(as_of="2024-10-15")
    assert mid[TROOPS]["events"] == str(len(
        article.api(f"/claims/{TROOPS}/events", as_of="2024-10-15")["events"]))
    # Last change: the last step of the timeline by as_of.
    now = rows(since="2024-10-17")
    assert now[TROOPS]["last"].startswith("2024-10-18")
    # Moved since 17 October: from the timeline's value then to the probability now.
    timeline = article.api(f"/claims/{TROOPS}/timeline")["points"]
    then = [p["probability"] for p in timeline if p["valid_from"] <= "2024-10-17T23:59:59.999999Z"]
    current = article.api(f"/claims/{TROOPS}")["credibility"]["probability"]
    assert now[TROOPS]["moved"] == pytest.approx(current - then[-1])
    assert now[TROOPS]["moved_text"] == points(current - then[-1])
    # Since a date before anything: the whole move from 50%.
    assert rows(since="2024-01-01")[TROOPS]["moved"] == pytest.approx(current - 0.5)
    # The default: seven days before as_of, named in the column's header.
    header = article.page("/ui", as_of="2024-10-20").one("table", cls="claims").all("th")[-2]
    assert "Moved since 13 Oct 2024" in header.text()


def test_a_source_has_a_page_of_its_own(article: Article) -> None:
    page = article.page("/ui/sources/kr-nis")
    source = article.api("/sources/kr-nis")
    assert page.one("h1").text() == source["name"]
    section = page.one("section", cls="source-page")
    assert section.data("reliability") == source["reliability"]
    assert page.by_id("affiliations").text() == "KR"
    assert [r.data("event-id") for r in page.one("table", cls="ratings").all("tr")
            if "data-event-id" in r.attrs] == [r["event_id"] for r in source["ratings"]]
    said = [r for r in page.one("table", cls="said").all("tr") if "data-event-id" in r.attrs]
    nis = [e for e in article.api(f"/claims/{TROOPS}/events")["events"] if e["source"] == "kr-nis"]
    assert [(r.data("claim-id"), r.data("occurred-at")) for r in said] == [
        (TROOPS, e["occurred_at"]) for e in nis]
    assert said[-1].all("td")[0].text() == "18 Oct 2024"
    # As of an earlier date, only what it had said by then.
    early = article.page("/ui/sources/kr-nis", as_of="2024-10-17")
    assert len([r for r in early.one("table", cls="said").all("tr")
                if "data-event-id" in r.attrs]) == len(nis) - 1
    # The sources page and the claim page link here.
    assert "/ui/sources/kr-nis" in [a.attrs.get("href") for a in
                                    article.page("/ui/sources").all("a")]
    assert "/ui/sources/kr-nis" in [a.attrs.get("href") for a in
                                    article.page(f"/ui/claims/{TROOPS}").all("a")]


@pytest.mark.parametrize("path", ["/ui/sources/nobody", "/ui/nowhere", "/ui/claims/x/y",
                                  "/ui/static/nope.js"])
def test_every_ui_path_answers_html(article: Article, path: str) -> None:
    answer = article.client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert parse(answer.text).one(cls="alert").text()
    assert "application/problem+json" not in answer.headers["content-type"]


@pytest.mark.parametrize("path", ["/ui", f"/ui/claims/{TROOPS}", "/ui/sources",
                                  "/ui/sources/kr-nis"])
def test_a_bad_time_is_shown_beside_its_field_and_the_page_stays(
    article: Article, path: str
) -> None:
    answer = article.client.get(path, params={"as_of": "yesterday"})
    assert answer.status_code == 422
    page = parse(answer.text)
    field = next(n for n in page.walk() if n.tag == "input" and n.attrs.get("name") == "as_of")
    assert field.attrs["value"] == "yesterday" and field.attrs["aria-invalid"] == "true"
    error = page.by_id("as_of-error")
    assert error.text().startswith("as_of:") and "showing now instead" in error.text()
    assert field.attrs["aria-describedby"].startswith("as_of-error")
    # The page itself is drawn, for now, and no link carries the refused time.
    assert [n for n in page.walk() if n.attrs.get("data-as-of", "").endswith("Z")]
    assert not [a for a in page.all("a") if "yesterday" in a.attrs.get("href", "")]
