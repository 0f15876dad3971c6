"""The streams' refusals: bad input is a problem before any stream opens, and writes
nothing; the streams themselves are tested against a real server (tests/e2e/test_stream.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.config import Settings

from .conftest import assert_problem, log_length


@pytest.mark.parametrize(
    ("path", "params", "headers", "field"),
    [
        ("/events/stream", {"type": "said"}, {}, "type"),
        ("/events/stream", {"after": "-1"}, {}, "after"),
        ("/events/stream", {"after": "x"}, {}, "after"),
        ("/events/stream", {"claim": "Not A Slug"}, {}, "claim"),
        ("/events/stream", {"source": "x" * 200}, {}, "source"),
        ("/events/stream", {}, {"Last-Event-ID": "seven"}, "Last-Event-ID"),
        ("/claims/nk-troops-for-russia/stream", {"after": "1e3"}, {}, "after"),
        ("/claims/nk-troops-for-russia/stream", {}, {"Last-Event-ID": "-3"}, "Last-Event-ID"),
    ],
)
def test_bad_input_is_a_422_naming_it(
    article: TestClient, ledger: ClaimsLedger, path: str, params: dict[str, str],
    headers: dict[str, str], field: str,
) -> None:
    before = log_length(ledger)
    assert_problem(article.get(path, params=params, headers=headers), 422, field)
    assert log_length(ledger) == before


def test_the_stream_of_an_unknown_claim_is_a_404(article: TestClient) -> None:
    body = assert_problem(article.get("/claims/no-such-claim/stream"), 404)
    assert "no-such-claim" in body["detail"]


def test_the_streams_need_a_key(memory_ledger: ClaimsLedger) -> None:
    settings = Settings(store="memory", api_keys=SecretStr("ana:reader:read-token-0123456789"),
                        _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, memory_ledger)) as client:
        for path in ("/events/stream", "/claims/nk-troops-for-russia/stream"):
            assert_problem(client.get(path), 401)
            assert_problem(client.get(path, headers={"Authorization": "Bearer wrong"}), 401)
