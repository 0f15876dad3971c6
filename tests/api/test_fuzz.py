"""Fuzz: schemathesis against the served OpenAPI document, every check, and stateful runs.

Each operation of ``/openapi.json`` gets bodies, queries, headers and paths drawn from its
schema (valid and, for the negative checks, invalid); every answer must be a documented
status with a body matching its schema, never a 5xx. The stateful test chains operations
through the links of the document (register a claim, then read it, append to it, ...).
Requests go to the app in-process (ASGI), with API keys configured as in production.
Which checks run and what they expect is in ``schemathesis.toml`` (read from the working
directory: run from the project's root), with the reasons.

CI runs ``FUZZ_EXAMPLES`` cases per operation (at least 2,000 in all); for a long run::

    CLAIMS_LEDGER_FUZZ_EXAMPLES=1000 .venv/bin/python -m pytest tests/api/test_fuzz.py

or, against a running server (``claims-ledger serve``), schemathesis's own command::

    .venv/bin/schemathesis run http://127.0.0.1:8000/openapi.json --checks all \\
        --max-examples 1000 -H "Authorization: Bearer $TOKEN"
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.main import create_app
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.examples import load_article

pytestmark = pytest.mark.slow

TOKEN = "fuzz-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: Examples drawn per operation in the fuzzing phase (schemathesis adds its coverage phase's
#: cases): over 2,000 cases in all in CI.
DEFAULT_EXAMPLES = 50
FUZZ_EXAMPLES = int(os.environ.get("CLAIMS_LEDGER_FUZZ_EXAMPLES", str(DEFAULT_EXAMPLES)))


def app_under_test() -> Any:
    settings_ = Settings(  # type: ignore[call-arg]
        store="memory", api_keys=f"fuzzer:admin:{TOKEN}", signing_key="11" * 32, _env_file=None
    )
    ledger = open_ledger(settings_)
    load_article(ledger)
    return create_app(settings_, ledger)


@schemathesis.serializer("application/x-ndjson")
def ndjson(context: Any, value: Any) -> bytes:
    """A batch as NDJSON: one item a line (a value that is not a list is one line)."""
    items = value if isinstance(value, list) else [value]
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


APP = app_under_test()
#: Cases sent per operation, for the count below.
CASES: dict[str, int] = {}
# The server-sent event streams never end by themselves (an in-process call would wait
# forever): tests/e2e/test_stream.py reads them from a real server, tests/api/test_stream.py
# checks their refusals.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path_regex=r"/stream$")


#: The CI-sized run draws the same cases every time (a fixed seed): a random draw once
#: turned a one-item array for ``q`` (``q=0.0`` on the wire, a valid string) into a
#: "schema-violating request accepted". Longer runs (``CLAIMS_LEDGER_FUZZ_EXAMPLES``) draw
#: anew each time.
DERANDOMIZE = FUZZ_EXAMPLES == DEFAULT_EXAMPLES


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck), derandomize=DERANDOMIZE)
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    CASES[case.operation.label] = CASES.get(case.operation.label, 0) + 1
    case.call_and_validate(headers=auth_for(case))


def auth_for(case: schemathesis.Case) -> dict[str, str]:
    """The key, in place of the drawn ``Authorization`` value; none for a case drawn
    without the header where the operation declares it (a negative case: adding the key
    back made its valid request look like "schema-violating request accepted")."""
    declared = any(p.name.lower() == "authorization" for p in case.operation.headers)
    drawn = any(name.lower() == "authorization" for name in (case.headers or {}))
    return AUTH if drawn or not declared else {}


class Stateful(schema.as_state_machine()):  # type: ignore[misc]
    """Each run starts from the article in a ledger of its own: what a run draws depends on
    the answers before it, so runs must not see each other's writes."""

    def setup(self) -> None:
        self.app = app_under_test()

    def call(self, case: schemathesis.Case, **kwargs: Any) -> Any:
        return case.call(headers=AUTH, app=self.app, **kwargs)

    def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
        case.validate_response(response, **kwargs)


TestStateful = Stateful.TestCase
TestStateful.settings = settings(
    max_examples=max(10, FUZZ_EXAMPLES // 5), deadline=None, database=None,
    suppress_health_check=list(HealthCheck), stateful_step_count=8,
)


def test_enough_cases_were_sent() -> None:
    """Runs after the operations (file order): CI's run sends at least 2,000 cases."""
    if len(CASES) < len(list(schema.get_all_operations())):
        pytest.skip("only some operations ran (-k or a single test): nothing to count")
    print(f"schemathesis sent {sum(CASES.values())} cases to {len(CASES)} operations")
    if FUZZ_EXAMPLES >= DEFAULT_EXAMPLES:
        assert sum(CASES.values()) >= 2_000
