"""The web view shows a statement's evidence kind in words (its event and its marker) and
every affiliation of a source."""

from __future__ import annotations

from ledger.statements import EVIDENCE_LABELS

from .conftest import TROOPS, Article


def test_an_events_evidence_kind_is_shown_with_its_label(article: Article) -> None:
    answer = article.client.post(f"/claims/{TROOPS}/events", json={
        "type": "asserted", "source": "kr-nis", "occurred_at": "2024-10-19",
        "summary": "Intercepts show the deployment.", "evidence": "intercepted-communication",
    })
    assert answer.status_code == 201, answer.text
    event_id = answer.json()["event_id"]
    page = article.page(f"/ui/claims/{TROOPS}")
    shown = page.by_id(f"event-{event_id}").one("p", cls="evidence")
    assert shown.data("evidence") == "intercepted-communication"
    assert shown.text() == f"Evidence: {EVIDENCE_LABELS['intercepted-communication']}"
    [tip] = [t.text() for t in page.all("title") if "Intercepts show" in t.text()]
    assert "Evidence: intercepted communication" in tip, tip
    # Events without it say nothing of it.
    assert len(page.all("p", cls="evidence")) == 1


def test_a_source_card_shows_every_affiliation(article: Article) -> None:
    body = {"id": "minister", "name": "A minister", "affiliations": ["KR", "KR-GOV"]}
    assert article.client.post("/sources", json=body).status_code == 201
    page = article.page("/ui/sources")
    card = page.one("section", source_id="minister")
    assert card.data("affiliations") == "KR KR-GOV" and card.data("affiliation") == "KR"
    assert "Affiliations KR, KR-GOV" in card.text()
    single = page.one("section", source_id="kr-nis")
    assert "Affiliation KR" in single.text()
