"""``claims-ledger rebuild --model`` while ``claims-ledger serve`` runs: the server (its
workers and its projector process, started before) serves the new version with no
restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.examples import load_article

from .conftest import Serve, lines, wait_ready

pytestmark = pytest.mark.slow

V1, V2 = "credibility-v1", "credibility-v2"


def test_a_running_server_follows_a_switch_of_the_served_version(
    serve: Serve, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    ledger = open_ledger(Settings(store=store, _env_file=None))  # type: ignore[call-arg]
    try:
        load_article(ledger)
    finally:
        ledger.close()
    served = serve("--store", store, env={"CLAIMS_LEDGER_LOG_FORMAT": "json"},
                   serve_args=("--no-demo",))
    wait_ready(served)
    base = served.base
    assert httpx.get(f"{base}/models").json()["projected"] == V2
    before = httpx.get(f"{base}/claims", params={"model": V1, "as_of": "2024-10-31"}).json()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_LEDGER_")}
    rebuilt = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "--store", store, "rebuild", "--model", V1],
        env=environ, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"serving {V1} from its projection now (was {V2}" in rebuilt.stderr
    assert httpx.get(f"{base}/models").json()["projected"] == V1
    after = httpx.get(f"{base}/claims", params={"model": V1, "as_of": "2024-10-31"}).json()
    assert [c["credibility"] for c in after["data"]] == [c["credibility"] for c in before["data"]]
    # The projector process (started before) follows v1's tables now.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        logged = [json.loads(line) for line in lines(served) if line.startswith("{")]
        if any(f"serves the model version {V1} now" in entry.get("msg", "") for entry in logged):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the projector did not follow the switch:\n" + "\n".join(lines(served)))
