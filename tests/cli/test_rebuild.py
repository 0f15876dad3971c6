"""``claims-ledger rebuild``: the projection dropped and rebuilt gives the same picture."""

from __future__ import annotations

import json

from .helpers import ARTICLE, Invoke


def test_rebuild_gives_the_same_picture(invoke: Invoke, persistent_store: str) -> None:
    assert invoke("--store", persistent_store, "load", str(ARTICLE)).exit_code == 0
    before = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    rebuilt = invoke("--store", persistent_store, "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert "rebuilt the credibility projection: 19 events" in rebuilt.stderr
    after = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    assert pictures(after.stdout) == pictures(before.stdout)
    assert len(pictures(after.stdout)) == 3


def pictures(output: str) -> list[dict[str, object]]:
    """The claims of a ``claims --json`` answer, without the moment it was asked."""
    return [{k: v for k, v in c.items() if k != "known_at"} for c in json.loads(output)["data"]]


def test_rebuild_of_the_in_memory_store_says_there_is_nothing_to_rebuild(invoke: Invoke) -> None:
    refused = invoke("--store", "memory", "rebuild")
    assert refused.exit_code == 1
    assert "no projection to rebuild" in refused.stderr


def test_rebuild_takes_how_many_statements_to_hold(invoke: Invoke, persistent_store: str) -> None:
    assert invoke("--store", persistent_store, "load", str(ARTICLE)).exit_code == 0
    before = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    assert invoke("--store", persistent_store, "rebuild", "--hold", "1000").exit_code == 0
    after = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    assert pictures(after.stdout) == pictures(before.stdout)
    refused = invoke("--store", persistent_store, "rebuild", "--hold", "10")
    assert refused.exit_code == 2 and "--hold" in refused.stderr


def test_rebuild_resume_goes_on_from_the_projected_position(
    invoke: Invoke, persistent_store: str
) -> None:
    """A projection already at the head: --resume keeps it and projects nothing more."""
    assert invoke("--store", persistent_store, "load", str(ARTICLE)).exit_code == 0
    before = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    resumed = invoke("--store", persistent_store, "rebuild", "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert "rebuilt the credibility projection: 0 events" in resumed.stderr
    after = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    assert pictures(after.stdout) == pictures(before.stdout)
