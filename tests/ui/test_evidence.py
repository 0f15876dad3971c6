"""The claim page shows a statement's evidence kind in words: in its event and its marker."""

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
