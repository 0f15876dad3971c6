"""The list-append history check itself finds each anomaly it names (no server needed)."""

from __future__ import annotations

from .history import History


def test_the_history_check_names_every_kind_of_anomaly() -> None:
    history = History()
    history.read("c", history.read_sent(), [])
    history.acknowledged("c", "a")
    history.acknowledged("c", "b")
    history.read("c", history.read_sent(), ["a", "b"])
    assert history.anomalies({"c": ["a", "b"]}) == []

    stale = History()
    stale.acknowledged("c", "a")
    stale.read("c", stale.read_sent(), [])  # sent after the acknowledgement: must see it
    assert any("did not see them" in a for a in stale.anomalies({"c": ["a"]}))

    reordered = History()
    reordered.read("c", reordered.read_sent(), ["b", "a"])
    assert any("not a prefix" in a for a in reordered.anomalies({"c": ["a", "b"]}))

    lost = History()
    lost.acknowledged("c", "a")
    lost.read("c", 0.0, ["a"])  # read, then gone from the final order
    found = lost.anomalies({"c": []})
    assert any("not a prefix" in a for a in found)
    assert any("stored 0 times" in a for a in found)

    doubled = History()
    doubled.acknowledged("c", "a")
    assert any("stored 2 times" in a for a in doubled.anomalies({"c": ["a", "a"]}))
