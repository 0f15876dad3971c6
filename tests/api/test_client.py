"""A Python client generated from /openapi.json by openapi-python-client, the usual generator,
registers a source and a claim, appends an event and reads the claim back (issue 29, point 9).

OpenAPI 3.1 allows ``false`` as a schema; this generator does not, so the schema says "not
allowed here" by closing each event type's branch instead (``api.bodies._per_type``).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.config import Settings

TOKEN = "generated-client-token-0123456789"
PACKAGE = "claims_ledger_client"


def _generate(spec: dict[str, Any], where: Path) -> str:
    (where / "openapi.json").write_text(json.dumps(spec))
    # No post hooks: the generator's default runs ruff, which is not what is tested here.
    (where / "config.json").write_text(json.dumps({"post_hooks": []}))
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate",
         "--path", str(where / "openapi.json"), "--config", str(where / "config.json"),
         "--meta", "none", "--output-path", str(where / PACKAGE)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture
def generated(memory_ledger: ClaimsLedger, tmp_path: Path) -> Iterator[tuple[ModuleType, str]]:
    settings = Settings(store="memory", api_keys=SecretStr(f"reporter:writer:{TOKEN}"),
                        _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, memory_ledger)) as http:
        output = _generate(http.get("/openapi.json").json(), tmp_path)
        sys.path.insert(0, str(tmp_path))
        try:
            package = importlib.import_module(PACKAGE)
            client = package.AuthenticatedClient(base_url=str(http.base_url), token=TOKEN)
            # TestClient is an httpx.Client over the app; handed one, the generated client
            # sends what it holds, so it holds the key the generated client was given.
            http.headers[client.auth_header_name] = f"{client.prefix} {client.token}"
            client.set_httpx_client(http)
            yield client, output
        finally:
            sys.path.remove(str(tmp_path))
            for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE]:
                del sys.modules[name]


def test_the_generator_parses_every_body_schema(generated: tuple[Any, str]) -> None:
    _, output = generated
    # It skips what it cannot type (NDJSON bodies, the SVG chart), but no schema.
    assert "Unable to parse" not in output, output
    models = importlib.import_module(f"{PACKAGE}.models")
    for kind in ("Asserted", "Denied", "Assessed", "Retracted", "Corrected", "Resolved"):
        assert hasattr(models, f"EventCreate{kind}"), kind
        assert hasattr(models, f"BatchEventCreate{kind}"), kind


def test_a_generated_client_registers_appends_and_reads_back(
    generated: tuple[Any, str],
) -> None:
    client, _ = generated
    from claims_ledger_client.api.claims import read_claim, register_claim
    from claims_ledger_client.api.events import append_event, claim_events
    from claims_ledger_client.api.sources import register_source
    from claims_ledger_client.models import (
        AppendResult,
        ClaimCreate,
        ClaimEventsPublic,
        ClaimPublic,
        EventCreateAsserted,
        SourceCreate,
        SourcePublic,
    )

    source = register_source.sync(client=client, body=SourceCreate(
        id="kyiv-independent", name="The Kyiv Independent", affiliation="UA"))
    assert isinstance(source, SourcePublic), source
    claim = register_claim.sync(client=client, body=ClaimCreate(
        id="drones-over-the-baltic", text="Drones over the Baltic came from one ship",
        tags=["drones"]))
    assert isinstance(claim, ClaimPublic), claim
    appended = append_event.sync(
        "drones-over-the-baltic", client=client,
        body=EventCreateAsserted(
            type_="asserted", source="kyiv-independent",
            occurred_at=datetime(2024, 10, 13, 18, tzinfo=UTC), quote="one ship",
        ),
    )
    assert isinstance(appended, AppendResult), appended
    assert appended.version == 2

    read = read_claim.sync("drones-over-the-baltic", client=client)
    assert isinstance(read, ClaimPublic), read
    assert read.version == 2
    assert read.credibility.probability > 0.5
    [contribution] = read.credibility.contributions
    assert (contribution.event_id, contribution.source) == (appended.event_id,
                                                            "kyiv-independent")
    history = claim_events.sync("drones-over-the-baltic", client=client)
    assert isinstance(history, ClaimEventsPublic), history
    [event] = history.events
    assert (event.event_id, event.actor, event.quote) == (appended.event_id, "reporter", "one ship")
