"""Access control: bearer API keys with reader / writer / admin roles (the HTTP contract,
docs/http-api.md, "Authentication and roles")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.access import parse_api_keys
from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.config import Settings

from .conftest import assert_problem, log_length

READER, WRITER, ADMIN = "read-token-0123456789", "write-token-0123456789", "admin-token-0123456789"
KEYS = f"ana:reader:{READER}, wes:writer:{WRITER},root:admin:{ADMIN}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def guarded(memory_ledger: ClaimsLedger) -> Iterator[TestClient]:
    settings = Settings(store="memory", api_keys=SecretStr(KEYS), log_format="json",
                        _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, memory_ledger)) as client:
        yield client


def test_no_keys_means_everyone_is_local(memory_client: TestClient) -> None:
    memory_client.post("/sources", json={"id": "nis", "name": "NIS"})
    source = memory_client.get("/sources/nis", headers=bearer("anything")).json()
    assert source["ratings"][0]["actor"] == "local"


def test_missing_or_unknown_token_is_401(guarded: TestClient) -> None:
    for headers in ({}, bearer("wrong-token-0123456789"), {"Authorization": f"Basic {READER}"}):
        answer = guarded.get("/claims", headers=headers)
        problem = assert_problem(answer, 401)
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert READER not in answer.text and "Bearer <token>" in problem["detail"]


def test_roles(guarded: TestClient, memory_ledger: ClaimsLedger) -> None:
    assert guarded.get("/claims", headers=bearer(READER)).status_code == 200
    refused = guarded.post("/claims", json={"id": "c", "text": "x"}, headers=bearer(READER))
    assert "writer" in assert_problem(refused, 403)["detail"]
    assert log_length(memory_ledger) == 0
    assert guarded.post("/claims", json={"id": "c", "text": "x"},
                        headers=bearer(WRITER)).status_code == 201
    assert guarded.post("/sources", json={"id": "s", "name": "S"},
                        headers=bearer(ADMIN)).status_code == 201
    assert guarded.get("/verify", headers=bearer(WRITER)).json()["ok"] is True


def test_the_actor_is_the_keys_principal(guarded: TestClient) -> None:
    guarded.post("/sources", json={"id": "s", "name": "S"}, headers=bearer(ADMIN))
    guarded.post("/claims", json={"id": "c", "text": "x"}, headers=bearer(WRITER))
    guarded.post("/claims/c/events", headers=bearer(WRITER), json={
        "type": "asserted", "source": "s", "occurred_at": "2024-10-13", "quote": "q"})
    log = guarded.get("/events", headers=bearer(READER)).json()["data"]
    assert [e["actor"] for e in log] == ["root", "wes", "wes"]


def test_probes_are_open_and_metrics_need_a_reader(guarded: TestClient) -> None:
    assert guarded.get("/healthz").status_code == 200
    assert guarded.get("/readyz").status_code == 200
    assert guarded.get("/openapi.json").status_code == 200
    assert_problem(guarded.get("/metrics"), 401)
    assert guarded.get("/metrics", headers=bearer(READER)).status_code == 200


def test_tokens_never_reach_the_log(
    guarded: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    guarded.get("/claims", headers=bearer(READER))
    guarded.post("/claims", json={"text": "x"}, headers=bearer(WRITER))
    guarded.get("/claims", headers=bearer("wrong-token-0123456789"))
    err = capsys.readouterr().err
    assert '"principal": "ana"' in err and '"principal": "wes"' in err
    for secret in (READER, WRITER, "wrong-token", "Bearer"):
        assert secret not in err


@pytest.mark.parametrize("value, message", [
    ("ana:reader", "entry 1 is not principal:role:token"),
    ("ana:reader:tok-0123456789abcdef,bob:boss:tok-fedcba9876543210", r"entry 2 \(bob\)"),
    ("a:reader:same-token-0123456789,b:writer:same-token-0123456789", "share one token"),
])
def test_bad_key_configuration_is_refused_without_echoing_tokens(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        parse_api_keys(SecretStr(value))
    assert "tok-" not in str(refused.value) and "same-token" not in str(refused.value)


def test_tokens_may_contain_colons() -> None:
    (key,) = parse_api_keys(SecretStr("ana:admin:a:b:c:0123456789abcdef"))
    assert key.principal.name == "ana" and key.token == "a:b:c:0123456789abcdef"


# -- authentication comes first, whatever the body -------------------------------------

JSON_TYPE = {"Content-Type": "application/json"}
SMALL = 1024  # the smallest body limit the settings allow
WRITE_PATHS = ["/sources", "/sources/s/ratings", "/claims", "/claims/c/events", "/events/batch"]


def _chunked(size: int) -> Iterator[bytes]:
    yield b'{"text": "'
    for _ in range(size // 100):
        yield b"x" * 100
    yield b'"}'


BAD_BODIES = [
    ("malformed JSON", lambda: b'{"text": ', JSON_TYPE),
    ("not UTF-8", lambda: b'{"text": "\xff"}', JSON_TYPE),
    ("nested too deeply", lambda: b"[" * 2000 + b"]" * 2000, JSON_TYPE),
    ("an integer too long to read", lambda: b'{"text": ' + b"9" * 5000 + b"}", JSON_TYPE),
    ("unknown fields", lambda: b'{"colour": 1}', JSON_TYPE),
    ("empty", lambda: b"", JSON_TYPE),
    ("not JSON", lambda: b"text=x", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("over the limit", lambda: b'{"text": "' + b"x" * 4 * SMALL + b'"}', JSON_TYPE),
    ("over the limit, chunked", lambda: _chunked(4 * SMALL), JSON_TYPE),
]


@pytest.fixture
def small_guarded(memory_ledger: ClaimsLedger) -> Iterator[TestClient]:
    settings = Settings(store="memory", api_keys=SecretStr(KEYS), max_body_bytes=SMALL,
                        max_batch_bytes=SMALL, _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, memory_ledger)) as client:
        yield client


@pytest.mark.parametrize("path", WRITE_PATHS)
@pytest.mark.parametrize("name, body, kind", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_a_caller_without_a_valid_key_gets_401_whatever_the_body(
    small_guarded: TestClient, memory_ledger: ClaimsLedger, path: str, name: str,
    body: Any, kind: dict[str, str],
) -> None:
    for headers, status in [({}, 401), (bearer("wrong-token-0123456789"), 401),
                            (bearer(READER), 403)]:
        answer = small_guarded.post(path, content=body(), headers={**kind, **headers})
        assert_problem(answer, status)
        assert "validation" not in answer.text.lower() and "limit" not in answer.text
    # With a writer's key, the body is judged as before.
    answer = small_guarded.post(path, content=body(), headers={**kind, **bearer(WRITER)})
    assert answer.status_code in (404, 413, 415, 422), answer.text
    assert log_length(memory_ledger) == 0


def test_an_oversized_body_is_still_a_413_for_a_writer(small_guarded: TestClient) -> None:
    for body in (b'{"text": "' + b"x" * 4 * SMALL + b'"}', _chunked(4 * SMALL)):
        answer = small_guarded.post("/claims", content=body,
                                    headers={**JSON_TYPE, **bearer(WRITER)})
        problem = assert_problem(answer, 413)
        assert problem["limit_bytes"] == SMALL and answer.headers["connection"] == "close"
    # Nor does an oversized body to a path with no route hide its 404.
    assert_problem(small_guarded.post("/nowhere", content=b"x" * 4 * SMALL), 404)


# -- Idempotency-Keys are each principal's own --------------------------------------------

EVENTS = "/claims/c/events"


def _event(quote: str) -> dict[str, str]:
    return {"type": "asserted", "source": "s", "occurred_at": "2024-10-13", "quote": quote}


def test_idempotency_keys_are_per_principal(
    guarded: TestClient, memory_ledger: ClaimsLedger
) -> None:
    guarded.post("/sources", json={"id": "s", "name": "S"}, headers=bearer(ADMIN))
    guarded.post("/claims", json={"id": "c", "text": "C"}, headers=bearer(ADMIN))
    key = {"Idempotency-Key": "shared-key-1"}
    wes = guarded.post(EVENTS, json=_event("wes says"), headers={**key, **bearer(WRITER)})
    # root's key of the same name is root's own: a new write, not a refusal that would tell
    # root that wes used the key, nor wes's answer.
    root = guarded.post(EVENTS, json=_event("root says"), headers={**key, **bearer(ADMIN)})
    assert (wes.status_code, root.status_code) == (201, 201), root.text
    assert wes.json()["event_id"] != root.json()["event_id"]
    written = log_length(memory_ledger)

    # Each principal's retry gets its own first answer, and writes nothing.
    again = guarded.post(EVENTS, json=_event("wes says"), headers={**key, **bearer(WRITER)})
    assert (again.status_code, again.content) == (201, wes.content)
    again = guarded.post(EVENTS, json=_event("root says"), headers={**key, **bearer(ADMIN)})
    assert (again.status_code, again.content) == (201, root.content)
    assert log_length(memory_ledger) == written

    # Reusing one's own key for another request is refused, naming the key as it was sent.
    reused = guarded.post(EVENTS, json=_event("else"), headers={**key, **bearer(WRITER)})
    problem = assert_problem(reused, 422)
    assert "'shared-key-1'" in problem["detail"] and "wes" not in problem["detail"]
    assert log_length(memory_ledger) == written
    events = guarded.get(EVENTS, headers=bearer(READER)).json()["events"]
    assert [(e["actor"], e["quote"]) for e in events] == [("wes", "wes says"),
                                                          ("root", "root says")]


def test_a_retry_without_keys_configured_still_replays(memory_client: TestClient) -> None:
    memory_client.post("/sources", json={"id": "s", "name": "S"})
    memory_client.post("/claims", json={"id": "c", "text": "C"})
    key = {"Idempotency-Key": "k"}
    first = memory_client.post(EVENTS, json=_event("q"), headers=key)
    assert first.status_code == 201
    assert memory_client.post(EVENTS, json=_event("q"), headers=key).content == first.content


def test_the_schema_asks_for_a_key_only_when_keys_are_configured(
    memory_client: TestClient, guarded: TestClient
) -> None:
    """Open mode (no keys): every operation may be called without Authorization (an empty
    security requirement); with keys, a bearer token is required."""
    for client, open_mode in ((memory_client, True), (guarded, False)):
        spec = client.get("/openapi.json").json()
        secured = [op for ops in spec["paths"].values() for op in ops.values()
                   if isinstance(op, dict) and "security" in op]
        assert secured
        for operation in secured:
            assert ({} in operation["security"]) is open_mode, operation["operationId"]
            assert {"HTTPBearer": []} in operation["security"]
