"""GET /checkpoints/latest and POST /checkpoints: signed checkpoints over HTTP."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import SecretStr

from ledger.application import ClaimsLedger
from ledger.checkpoints import Checkpoint, verify_against
from ledger.examples import load_article

from .conftest import MakeClient, assert_problem

KEY = Ed25519PrivateKey.generate()
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
READER, WRITER, ADMIN = "read-token-0123456789", "write-token-0123456789", "admin-token-0123456789"
KEYS = f"ana:reader:{READER},wes:writer:{WRITER},root:admin:{ADMIN}"
FIELDS = {"format", "position", "head", "signed_at", "algorithm", "key_id", "public_key",
          "signature"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signing(make_client: MakeClient, **changes: Any) -> TestClient:
    return make_client(signing_key=SecretStr(PEM), **changes)


def test_without_a_key_the_routes_say_signing_is_not_configured(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    load_article(ledger)
    problem = assert_problem(client.post("/checkpoints"), 501)
    assert problem["title"] == "Signing not configured"
    assert "CLAIMS_LEDGER_SIGNING_KEY" in problem["detail"]
    problem = assert_problem(client.get("/checkpoints/latest"), 404)
    assert "no checkpoint has been signed yet" in problem["detail"]
    assert "CLAIMS_LEDGER_SIGNING_KEY" in problem["detail"]


def test_a_checkpoint_is_signed_kept_and_served(
    make_client: MakeClient, ledger: ClaimsLedger
) -> None:
    client = signing(make_client)
    problem = assert_problem(client.get("/checkpoints/latest"), 404)
    assert "POST /checkpoints" in problem["detail"]
    load_article(ledger)
    answer = client.post("/checkpoints")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert set(body) == FIELDS
    assert body["position"] == 19 and body["head"] == ledger.verify()["head"]
    assert body["algorithm"] == "Ed25519" and body["format"] == "claims-ledger-checkpoint/1"
    checkpoint = Checkpoint.from_json(body)
    assert checkpoint.signature_valid()
    assert client.get("/checkpoints/latest").json() == body
    assert verify_against(ledger.store, checkpoint, {checkpoint.key_id})["ok"] is True
    client.post("/claims", json={"id": "later", "text": "Said later"})
    newer = client.post("/checkpoints").json()
    assert newer["position"] == 20 and newer["key_id"] == body["key_id"]
    assert client.get("/checkpoints/latest").json() == newer


def test_a_checkpoint_signed_before_is_served_without_a_key(
    make_client: MakeClient, client: TestClient, ledger: ClaimsLedger
) -> None:
    load_article(ledger)
    signed = signing(make_client).post("/checkpoints").json()
    assert client.get("/checkpoints/latest").json() == signed
    assert_problem(client.post("/checkpoints"), 501)


def test_signing_needs_the_writer_role(make_client: MakeClient, ledger: ClaimsLedger) -> None:
    client = signing(make_client, api_keys=SecretStr(KEYS))
    load_article(ledger)
    assert_problem(client.post("/checkpoints"), 401)
    refused = assert_problem(client.post("/checkpoints", headers=bearer(READER)), 403)
    assert "writer" in refused["detail"]
    assert_problem(client.get("/checkpoints/latest", headers=bearer(READER)), 404)
    assert client.post("/checkpoints", headers=bearer(WRITER)).status_code == 201
    assert client.post("/checkpoints", headers=bearer(ADMIN)).status_code == 201
    latest = client.get("/checkpoints/latest", headers=bearer(READER))
    assert latest.status_code == 200 and latest.json()["position"] == 19
    assert_problem(client.get("/checkpoints/latest"), 401)


def test_a_body_is_ignored_but_authentication_comes_first(
    make_client: MakeClient, ledger: ClaimsLedger
) -> None:
    client = signing(make_client, api_keys=SecretStr(KEYS))
    assert_problem(client.post("/checkpoints", content=b"\xff not json"), 401)
    answer = client.post("/checkpoints", content=b"{}", headers=bearer(WRITER))
    assert answer.status_code == 201 and answer.json()["position"] == 0


def test_the_routes_are_documented(memory_client: TestClient) -> None:
    spec = memory_client.get("/openapi.json").json()
    post = spec["paths"]["/checkpoints"]["post"]
    assert set(post["responses"]) >= {"201", "401", "403", "409", "501", "503"}
    assert list(post["responses"]["501"]["content"]) == ["application/problem+json"]
    latest = spec["paths"]["/checkpoints/latest"]["get"]
    assert latest["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/SignedCheckpoint"
    )
    assert set(spec["components"]["schemas"]["SignedCheckpoint"]["properties"]) == FIELDS
