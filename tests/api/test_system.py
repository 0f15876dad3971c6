"""GET /verify, /healthz, /readyz, /metrics; request ids and the access log."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.errors import StoreUnavailable

TROOPS = "nk-troops-for-russia"
DENIAL = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-17", "quote": "hoax"}


def test_verify(article: TestClient) -> None:
    answer = article.get("/verify").json()
    assert answer["ok"] is True and answer["checked"] == 19
    assert answer["first_bad_position"] is None and len(answer["head"]) == 64


def test_health_and_readiness(client: TestClient, settings: Settings) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "store": settings.backend}


def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics(article: TestClient) -> None:
    article.get(f"/claims/{TROOPS}")
    article.get("/claims/no-such-claim")
    article.get("/no/such/route/12345")
    article.post(f"/claims/{TROOPS}/events", json=DENIAL, headers={"Idempotency-Key": "m1"})
    article.post(f"/claims/{TROOPS}/events", json=DENIAL, headers={"Idempotency-Key": "m1"})
    article.post("/events/batch", json=[{"claim_id": TROOPS, **DENIAL, "quote": "again"}] * 2)
    answer = article.get("/metrics")
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(article)

    def requests(route: str, status: str, method: str = "GET") -> float:
        key = ("claims_ledger_http_requests_total",
               (("method", method), ("route", route), ("status", status)))
        return samples.get(key, 0.0)

    assert requests("/claims/{claim_id}", "200") == 1
    assert requests("/claims/{claim_id}", "404") == 1
    assert requests("unmatched", "404") == 1
    assert requests("/claims/{claim_id}/events", "201", "POST") == 2
    assert not any("12345" in str(labels) for _, labels in samples)
    # The replay wrote nothing and is not counted; the batch appended two.
    assert samples[("claims_ledger_events_appended_total", ())] == 3
    latency = ("claims_ledger_http_request_duration_seconds_count",
               (("method", "GET"), ("route", "/claims/{claim_id}"), ("status", "200")))
    assert samples[latency] == 1


def test_request_id_header_and_log_line(
    memory_client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    given = memory_client.get("/claims", headers={"X-Request-ID": "trace-abc.123"})
    assert given.headers["x-request-id"] == "trace-abc.123"
    made = memory_client.get("/claims/nope", headers={"X-Request-ID": "bad id\twith spaces"})
    made_id = made.headers["x-request-id"]
    assert made_id != "bad id\twith spaces" and len(made_id) == 32
    assert made.json()["request_id"] == made_id
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    requests = [line for line in lines if line["msg"] == "request"]
    assert [(r["request_id"], r["status"], r["route"]) for r in requests] == [
        ("trace-abc.123", 200, "/claims"), (made_id, 404, "/claims/{claim_id}")]
    first = requests[0]
    assert first["method"] == "GET" and first["path"] == "/claims"
    assert isinstance(first["duration_ms"], float) and first["level"] == "info"


def test_text_log_format(memory_ledger: ClaimsLedger, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(store="memory", log_format="text", _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, memory_ledger)) as client:
        capsys.readouterr()
        client.get("/healthz")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "request " in line and "method=GET path=/healthz" in line and "status=200" in line
    assert not line.startswith("{")


def test_app_opens_and_closes_its_own_ledger(tmp_path: object) -> None:
    settings = Settings(store=f"sqlite:///{tmp_path}/own.sqlite3", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.post("/claims", json={"id": "c", "text": "x"}).status_code == 201
    assert app.state.ledger is None
    with TestClient(create_app(settings)) as client:
        assert client.get("/claims/c").headers["etag"] == '"1"'


def test_an_unexpected_failure_is_a_problem_without_a_trace(
    memory_ledger: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(memory_ledger, "verify", broken)
    settings = Settings(store="memory", _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, memory_ledger), raise_server_exceptions=False) as client:
        answer = client.get("/verify")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["request_id"] and "secret internals" not in answer.text
    assert "Traceback" not in answer.text


def test_an_unreachable_store_is_503(
    memory_ledger: ClaimsLedger, memory_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(memory_ledger.store.recorder, "log_entries", unreachable)
    answer = memory_client.get("/readyz")
    assert answer.status_code == 503 and answer.headers["retry-after"]
    assert answer.json()["title"] == "Event store unavailable"
    # Under the ledger's boundary, where the library's errors are raised.
    monkeypatch.setattr(memory_ledger.store.recorder, "stream_ids", unreachable)
    assert memory_client.get("/claims").status_code == 503

    def gone(*_args: object, **_kwargs: object) -> None:
        raise StoreUnavailable("the event store cannot be reached: timeout")

    monkeypatch.setattr(memory_ledger, "claim", gone)
    answer = memory_client.get("/claims/x")
    assert answer.status_code == 503 and answer.headers["retry-after"]


@pytest.mark.parametrize(
    "path", [f"/claims/{TROOPS}", "/claims", f"/claims/{TROOPS}/timeline", "/healthz", "/verify"]
)
def test_head_is_get_without_the_body(article: TestClient, path: str) -> None:
    """RFC 9110: every GET resource answers HEAD, with GET's status and headers."""
    got, head = article.get(path), article.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    for header in ("content-type", "content-length", "etag", "vary"):
        assert head.headers.get(header) == got.headers.get(header), header


def test_head_of_an_unknown_claim_is_404_and_writes_nothing(
    article: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    answer = article.head("/claims/no-such-claim")
    assert answer.status_code == 404 and answer.content == b""
    assert answer.headers["content-type"] == "application/problem+json"
    assert article.head("/events/batch").status_code == 405
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    logged = [(r["method"], r["route"], r["status"]) for r in lines if r["msg"] == "request"]
    assert logged == [("HEAD", "/claims/{claim_id}", 404), ("HEAD", "/events/batch", 405)]


def test_the_request_log_has_the_query_string(
    memory_ledger: ClaimsLedger, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(store="memory", log_format="json", _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, memory_ledger)) as client:
        capsys.readouterr()
        client.get("/claims", params={"as_of": "2024-10-12", "tag": "north-korea"})
        client.get("/healthz")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    requests = [line for line in lines if line["msg"] == "request"]
    assert [r.get("query") for r in requests] == ["as_of=2024-10-12&tag=north-korea", None]


def test_trace_log_level() -> None:
    """CLAIMS_LEDGER_LOG_LEVEL=trace, which the README lists, serves: it once crashed with
    ValueError: Unknown level: 'TRACE' in a process where uvicorn had not named the level
    yet. Importing the app may import uvicorn (sse-starlette does), so the fresh interpreter
    forgets the level's name before the app is made, as a process without uvicorn has it."""
    script = (
        "import logging\nfrom fastapi.testclient import TestClient\n"
        "from api.main import create_app\n"
        "from ledger.config import Settings\n"
        "logging._nameToLevel.pop('TRACE', None); logging._levelToName.pop(5, None)\n"
        "assert 'TRACE' not in logging.getLevelNamesMapping()\n"
        "s = Settings(store='memory', log_format='text', log_level='trace', _env_file=None)\n"
        "with TestClient(create_app(s)) as c: assert c.get('/healthz').status_code == 200\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "TRACE" not in done.stderr or "Traceback" not in done.stderr
