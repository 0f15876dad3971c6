"""Saved views: per principal, checked, replaced by name, durable across a reopening."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.errors import InvalidInput, NotFound
from ledger.saved_views import MAX_VIEWS


def test_views_are_each_principals_own_and_replaced_by_name(ledger: ClaimsLedger) -> None:
    views = ledger.saved_views
    views.save("ana", "Hot", {"sort": "-probability", "tag": "nk", "q": "  "})
    views.save("ana", "Old", {"as_of": "2024-10-01"})
    views.save("ana", " Hot ", {"sort": "moved", "since": "2024-10-09"})
    assert [(v["name"], v["query"]) for v in views.list_views("ana")] == [
        ("Hot", {"sort": "moved", "since": "2024-10-09"}), ("Old", {"as_of": "2024-10-01"})]
    assert views.list_views("bob") == []
    views.delete("ana", "Old")
    assert [v["name"] for v in views.list_views("ana")] == ["Hot"]
    with pytest.raises(NotFound):
        views.delete("bob", "Hot")
    with pytest.raises(NotFound):
        views.get("ana", "Old")


@pytest.mark.parametrize(("name", "query", "field"), [
    ("", {}, "name"),
    ("x" * 101, {}, "name"),
    ("ok", {"cursor": "12"}, "cursor"),
    ("ok", {"sort": "x" * 257}, "sort"),
    ("ok", {"tag": 3}, "tag"),
])
def test_a_view_that_is_not_one_is_refused_naming_the_field(
    ledger: ClaimsLedger, name: str, query: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        ledger.saved_views.save("ana", name, query)
    assert refused.value.field == field
    assert ledger.saved_views.list_views("ana") == []


def test_a_principal_keeps_at_most_so_many_views(ledger: ClaimsLedger) -> None:
    for n in range(MAX_VIEWS):
        ledger.saved_views.save("ana", f"v{n}", {})
    with pytest.raises(InvalidInput):
        ledger.saved_views.save("ana", "one more", {})
    ledger.saved_views.save("ana", "v0", {"sort": "text"})  # replacing is still allowed
    assert len(ledger.saved_views.list_views("ana")) == MAX_VIEWS


def test_views_outlive_the_process_on_sqlite(tmp_path: Path) -> None:
    settings = Settings(store=f"sqlite:///{tmp_path / 'l.sqlite3'}",
                        _env_file=None)  # type: ignore[call-arg]
    first = open_ledger(settings)
    first.saved_views.save("ana", "Hot", {"sort": "-probability"})
    first.close()
    again = open_ledger(settings)
    try:
        assert [v["query"] for v in again.saved_views.list_views("ana")] == [
            {"sort": "-probability"}]
    finally:
        again.close()
