"""The credibility projector in a process of its own: it follows other processes' writes,
holds the store's projector lock, is started again when it dies, and stops with serve."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable

import pytest

from ledger.application import ClaimsLedger
from ledger_cli.projecting import ProjectorProcess, project

from .helpers import ARTICLE, Invoke

HOAX = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-17", "quote": "a hoax"}


def wait_until(condition: Callable[[], bool], what: str, limit: float = 120) -> None:
    """Wait for something another process does (bounded, so a failure cannot hang)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def projected(ledger: ClaimsLedger) -> bool:
    assert ledger.projector is not None
    return ledger.projector.view.position() >= ledger.projector.head()


def lock_is_free(ledger: ClaimsLedger) -> bool:
    assert ledger.projector is not None
    with ledger.projector.lock.holding() as mine:
        return mine


def test_the_projector_process_follows_writes_and_is_started_again_when_it_dies(
    invoke: Invoke, persistent_store: str, open_ledger: Callable[[str], ClaimsLedger]
) -> None:
    assert invoke("--store", persistent_store, "load", str(ARTICLE)).exit_code == 0
    ledger = open_ledger(persistent_store)  # its projector thread is not started
    told: list[str] = []
    with ProjectorProcess({"CLAIMS_LEDGER_STORE": persistent_store}, told.append) as running:
        wait_until(lambda: projected(ledger), "the article projected")
        ledger.append("nk-troops-for-russia", HOAX, "test")  # written by this process
        wait_until(lambda: projected(ledger), "another process's append projected")
        assert not lock_is_free(ledger)  # the one projector of the store is the child
        first = running.process
        assert first is not None and first.pid is not None

        os.kill(first.pid, signal.SIGKILL)
        wait_until(lambda: running.starts == 2, "the projector started again")
        ledger.append("nk-troops-for-russia", {**HOAX, "occurred_at": "2024-10-18"}, "test")
        wait_until(lambda: projected(ledger), "an append projected by the second projector")
        assert told == [
            f"error: the credibility projector exited (-{int(signal.SIGKILL)}); "
            "starting it again in 0.5 s"
        ]
    assert first.poll() is not None and running.process is not None
    assert running.process.poll() == 0  # stopped cleanly by serve's SIGTERM
    assert lock_is_free(ledger)  # released when serve stops it
    claim = ledger.claim("nk-troops-for-russia")
    assert claim["version"] == 7


def test_an_orphaned_projector_stops_and_frees_the_lock(
    invoke: Invoke, sqlite_store: str, open_ledger: Callable[[str], ClaimsLedger]
) -> None:
    assert invoke("--store", sqlite_store, "load", str(ARTICLE)).exit_code == 0
    ledger = open_ledger(sqlite_store)
    # Its "serve" is a process that is not its parent: as if serve had been SIGKILLed.
    child = multiprocessing.get_context("spawn").Process(
        target=project, args=({"CLAIMS_LEDGER_STORE": sqlite_store}, 1)
    )
    child.start()
    child.join(120)
    assert child.exitcode == 0
    assert lock_is_free(ledger)



def test_a_projector_that_cannot_be_started_is_said_and_tried_again() -> None:
    told: list[str] = []
    with ProjectorProcess({}, told.append, command=["/nonexistent/python"]) as running:
        wait_until(lambda: len(told) >= 2, "two tries said")
    assert running.starts == 0 and running.process is None
    assert told[0].startswith("error: the credibility projector could not start (")
    assert told[0].endswith("starting it again in 0.5 s")
    assert told[1].endswith("starting it again in 1 s")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listed:
            found += [int(child) for child in listed.read().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_serve_stopped_by_sigterm_stops_its_projector_before_it_ends(sqlite_store: str) -> None:
    """uvicorn raises the signal that stopped it again once it has shut down; serve holds it
    until its projector process has stopped, then ends by it as uvicorn would."""
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CLAIMS_LEDGER_LOG_FORMAT": "text", "CLAIMS_LEDGER_API_KEYS": ""}
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger_cli", "--store", sqlite_store, "serve",
         "--port", str(port), "--no-demo"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        def ready() -> bool:
            assert server.poll() is None, server.communicate()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                    return True
            except OSError:
                return False

        wait_until(ready, "the server ready")
        wait_until(lambda: len(_children(server.pid)) == 1, "the projector process started")
        (projector,) = _children(server.pid)
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == -signal.SIGTERM, stderr  # ended by the signal, as uvicorn would
    text = stderr.decode()
    assert "serve is gone" not in text, text  # not left to notice it was orphaned
    assert not _alive(projector)


def test_the_projectors_process_keeps_its_caches_for_the_claims_it_projects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Half of a process's cache budget, most of it for the claims the projector keeps
    between events: every share is named, and they sum to the whole."""
    from ledger import caching
    from ledger.config import Settings
    from ledger_cli import projecting

    monkeypatch.setattr(caching, "SHARES", dict(caching.SHARES))
    assert set(projecting.PROJECTOR_SHARES) == set(caching.SHARES)
    assert abs(sum(projecting.PROJECTOR_SHARES.values()) - 1) < 1e-9
    settings = projecting.projector_settings(
        Settings(store="memory", cache_mb=64, _env_file=None)  # type: ignore[call-arg]
    )
    assert settings.cache_mb == 32
    caching.configure(settings.cache_mb)
    try:
        assert caching.budget("projector") == int(32 * 1024 * 1024 * 0.6)
        assert caching.budget("claims") == int(32 * 1024 * 1024 * 0.1)
    finally:
        caching.configure(caching.DEFAULT_CACHE_MB)
