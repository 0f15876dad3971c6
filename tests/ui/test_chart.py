"""The timeline chart: axis titles, same-day markers each reachable on its own, a note
when the compared line is the same, and a standalone SVG in plain dates."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import pairwise

from api.routes.ui.chart import HIT_RADIUS

from .conftest import TROOPS, Article

SVG_NS = "{http://www.w3.org/2000/svg}"


def _x(marker_transform: str) -> float:
    found = re.fullmatch(r"translate\(([-\d.]+) ([-\d.]+)\)", marker_transform)
    assert found, marker_transform
    return float(found.group(1))


def test_the_chart_names_its_axes(article: Article) -> None:
    chart = article.page(f"/ui/claims/{TROOPS}").one("svg", cls="chart")
    assert chart.one("text", cls="x-title").text() == (
        "Date the statements were made (valid time, UTC)")
    assert chart.one("text", cls="y-title").text() == "Probability"
    assert [t.text() for t in chart.all("text", cls="y-label")] == [
        "0%", "25%", "50%", "75%", "100%"]


def test_same_day_markers_sit_apart(article: Article) -> None:
    for source in ("kim-yong-hyun", "zelensky"):
        answer = article.client.post(f"/claims/{TROOPS}/events", json={
            "type": "asserted", "source": source, "occurred_at": "2024-10-18",
            "summary": "The troops are in Russia."})
        assert answer.status_code == 201, answer.text
    page = article.page(f"/ui/claims/{TROOPS}")
    events = {e["event_id"]: e for e in article.api(f"/claims/{TROOPS}/events")["events"]}
    same_day = sorted(_x(m.attrs["transform"]) for m in page.all("a", cls="marker")
                      if events[m.data("event-id")]["occurred_at"].startswith("2024-10-18"))
    assert len(same_day) == 3
    # Each hit circle clear of the next, so hovering one never shows another's tip.
    assert all(b - a > 2 * HIT_RADIUS for a, b in pairwise(same_day))
    assert {c.attrs["r"] for c in page.all("circle", cls="hit")} == {str(HIT_RADIUS)}


def test_a_compared_line_that_is_the_same_says_so(article: Article) -> None:
    same = article.page(f"/ui/claims/{TROOPS}", compare="now")
    assert "the same line throughout" in same.by_id("overlay-same").text()
    paths = [p for p in same.one("svg", cls="chart").all("path") if "line" in p.classes]
    assert [("overlay" in p.classes) for p in paths] == [False, True]  # dashed over solid
    differs = article.page(f"/ui/claims/{TROOPS}", known_at=article.before_append, compare="now")
    assert differs.all("path", cls="overlay")
    assert not [n for n in differs.walk() if n.attrs.get("id") == "overlay-same"]


def test_the_chart_links_to_its_svg_and_json(article: Article) -> None:
    page = article.page(f"/ui/claims/{TROOPS}")
    hrefs = [a.attrs.get("href", "") for a in page.all("a")]
    svg = next(h for h in hrefs if h.startswith(f"/claims/{TROOPS}/timeline.svg"))
    assert article.client.get(svg).headers["content-type"] == "image/svg+xml"
    assert any(h.startswith(f"/claims/{TROOPS}/timeline?known_at=") for h in hrefs)


def test_the_standalone_svg_speaks_in_dates(article: Article) -> None:
    answer = article.client.get(f"/claims/{TROOPS}/timeline.svg")
    svg = ET.fromstring(answer.text)
    words = " ".join(t.text or "" for t in svg.iter() if t.tag in (f"{SVG_NS}text",
                                                                   f"{SVG_NS}title"))
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}Z", words), words
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", words), words
    assert "18 Oct 2024: 97% (almost certain, leaning true)" in words
    assert re.search(r"as known at \d{1,2} \w{3} \d{4} \d{2}:\d{2} UTC", words)
