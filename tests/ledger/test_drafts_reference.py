"""A draft's ``reference`` becomes every accepted statement's: the draft refuses what an
append would refuse, by the same rule (``ledger.inputs.reference_problem``)."""

from __future__ import annotations

import pytest

from ledger.application import ClaimsLedger
from ledger.drafts import draft_article
from ledger.errors import InvalidInput
from ledger.inputs import reference_problem

TEXT = "Anna Berg said on Monday that the troops had arrived."


@pytest.mark.parametrize("reference", [
    "ftp://example.org/a", "https://exa mple.org/a", "https://user@example.org/a",
    "https://example.org/a\x07", "https:///a",
])
def test_a_reference_an_append_refuses_is_refused_by_the_draft(
    ledger: ClaimsLedger, reference: str
) -> None:
    problem = reference_problem(reference)
    assert problem is not None
    with pytest.raises(InvalidInput) as raised:
        draft_article(ledger, TEXT, "2024-10-14", reference=reference)
    assert raised.value.field == "reference" and problem in str(raised.value)


def test_an_address_an_append_takes_is_taken(ledger: ClaimsLedger) -> None:
    for reference in ("https://example.org/a?b=c#d", "http://例え.jp/記事", "https://h:8080"):
        assert reference_problem(reference) is None
        draft_article(ledger, TEXT, "2024-10-14", reference=reference)


def test_a_reference_too_long_for_a_statement_is_refused_by_the_draft(
    ledger: ClaimsLedger,
) -> None:
    long = "https://example.org/" + "a" * 20_001
    with pytest.raises(InvalidInput) as raised:
        draft_article(ledger, TEXT, "2024-10-14", reference=long)
    assert raised.value.field == "reference"
