"""The read commands give the ledger's own answers: as tables, and as its JSON with --json."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.times import format_instant, now

from .helpers import Invoke

OpenLedger = Callable[[str], ClaimsLedger]
TROOPS = "nk-troops-for-russia"
AS_OF = "2024-10-12"
AS_OF_TIME = datetime(2024, 10, 12, 23, 59, 59, 999999, tzinfo=UTC)


@pytest.fixture
def known(loaded_store: str) -> tuple[str, datetime]:
    """A known_at after the example data was loaded (a future one is answered as of now)."""
    moment = now()
    return format_instant(moment), moment


def as_json(invoke: Invoke, *args: str) -> dict[str, object]:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_show_json_is_the_ledgers_claim(
    invoke: Invoke, loaded_store: str, open_ledger: OpenLedger, known: tuple[str, datetime]
) -> None:
    KNOWN_AT, KNOWN_AT_TIME = known
    shown = as_json(
        invoke, "--store", loaded_store, "show", TROOPS, "--as-of", AS_OF, "--known-at", KNOWN_AT
    )
    assert shown == open_ledger(loaded_store).claim(
        TROOPS, as_of=AS_OF_TIME, known_at=KNOWN_AT_TIME
    )
    assert shown["as_of"] == "2024-10-12T23:59:59.999999Z"  # a bare date is the day's end


def test_show_table(invoke: Invoke, loaded_store: str) -> None:
    result = invoke("--store", loaded_store, "show", TROOPS, "--as-of", AS_OF)
    assert result.exit_code == 0
    assert "North Korea is sending troops" in result.stdout
    assert "probability 0.814 (very likely), status leaning true" in result.stdout
    assert "peskov" in result.stdout and "zelensky" not in result.stdout  # not yet said


def test_audit_json_is_the_ledgers_audit(
    invoke: Invoke, loaded_store: str, open_ledger: OpenLedger
) -> None:
    shown = as_json(
        invoke, "--store", loaded_store, "audit", TROOPS, "--as-of", AS_OF, "--source", "peskov"
    )
    expected = open_ledger(loaded_store).audit(TROOPS, as_of=AS_OF_TIME, source="peskov")
    del shown["known_at"], expected["known_at"]  # audit is as known now
    assert shown == expected
    assert [entry["source"] for entry in shown["entries"]] == ["peskov"]  # type: ignore[attr-defined]


def test_audit_known_at_is_the_ledgers_audit_as_known_then(
    invoke: Invoke, loaded_store: str, open_ledger: OpenLedger, known: tuple[str, datetime]
) -> None:
    KNOWN_AT, KNOWN_AT_TIME = known
    shown = as_json(
        invoke, "--store", loaded_store, "audit", TROOPS, "--as-of", AS_OF, "--known-at", KNOWN_AT
    )
    assert shown == open_ledger(loaded_store).audit(
        TROOPS, as_of=AS_OF_TIME, known_at=KNOWN_AT_TIME
    )
    before = invoke("--store", loaded_store, "audit", TROOPS, "--known-at", "2020-01-01")
    assert before.exit_code == 3  # not yet recorded then


def test_audit_since_a_date_means_from_its_start(invoke: Invoke, loaded_store: str) -> None:
    today = datetime.now(UTC).date().isoformat()
    everything = as_json(invoke, "--store", loaded_store, "audit", TROOPS, "--since", today)
    assert len(everything["entries"]) == 4  # type: ignore[arg-type]
    nothing = as_json(invoke, "--store", loaded_store, "audit", TROOPS, "--until", "2020-01-01")
    assert nothing["entries"] == []


def test_audit_reads_every_page(
    invoke: Invoke, loaded_store: str, open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger_cli import views

    monkeypatch.setattr(views, "_PAGE", 1)  # a page an entry: the trail is four pages
    shown = as_json(invoke, "--store", loaded_store, "audit", TROOPS, "--as-of", AS_OF)
    expected = open_ledger(loaded_store).audit(TROOPS, as_of=AS_OF_TIME)
    del shown["known_at"], expected["known_at"]
    assert shown == expected and len(expected["entries"]) == 4
    assert "next_cursor" not in shown
    since = as_json(invoke, "--store", loaded_store, "audit", TROOPS, "--source", "zelensky")
    assert [e["source"] for e in since["entries"]] == ["zelensky"]  # type: ignore[index]


def test_audit_table(invoke: Invoke, loaded_store: str) -> None:
    result = invoke("--store", loaded_store, "audit", TROOPS)
    assert result.exit_code == 0
    assert "0.500 -> 0.810" in result.stdout


def test_timeline_json_is_the_ledgers_timeline(
    invoke: Invoke, loaded_store: str, open_ledger: OpenLedger, known: tuple[str, datetime]
) -> None:
    KNOWN_AT, KNOWN_AT_TIME = known
    shown = as_json(invoke, "--store", loaded_store, "timeline", TROOPS, "--known-at", KNOWN_AT)
    assert shown == open_ledger(loaded_store).timeline(TROOPS, known_at=KNOWN_AT_TIME)
    table = invoke("--store", loaded_store, "timeline", TROOPS)
    assert table.exit_code == 0
    assert "2024-10-13" in table.stdout


def test_claims_filters(invoke: Invoke, loaded_store: str) -> None:
    by_tag = as_json(invoke, "--store", loaded_store, "claims", "--tag", "arms")
    assert [c["id"] for c in by_tag["data"]] == ["nk-arms-for-russia"]  # type: ignore[attr-defined]
    by_text = as_json(invoke, "--store", loaded_store, "claims", "--query", "PLEDGED")
    assert [c["id"] for c in by_text["data"]] == ["ru-kp-defence-pact"]  # type: ignore[attr-defined]
    for spelling in ("--text", "--q"):  # another name, and the former one (not in --help)
        same = as_json(invoke, "--store", loaded_store, "claims", spelling, "PLEDGED")
        assert [c["id"] for c in same["data"]] == ["ru-kp-defence-pact"]  # type: ignore[attr-defined]
    early = as_json(
        invoke, "--store", loaded_store, "claims", "--status", "unverified", "--as-of", AS_OF
    )
    assert [c["id"] for c in early["data"]] == ["nk-arms-for-russia"]  # type: ignore[attr-defined]
    table = invoke("--store", loaded_store, "claims")
    assert table.exit_code == 0
    assert "nk-troops-for-russia" in table.stdout


def test_the_text_filter_is_spelt_query_in_help(invoke: Invoke) -> None:
    usage = invoke("claims", "--help").stdout
    assert "--query" in usage
    assert "--q " not in usage


def test_an_unknown_status_is_a_usage_error(invoke: Invoke, loaded_store: str) -> None:
    result = invoke("--store", loaded_store, "claims", "--status", "true")
    assert result.exit_code == 2
    assert "leaning true" in result.stderr  # the choices are listed


def test_claims_before_anything_was_recorded(invoke: Invoke, loaded_store: str) -> None:
    shown = as_json(invoke, "--store", loaded_store, "claims", "--known-at", "2000-01-01")
    assert shown["data"] == []


def test_replay_shows_every_claim_at_a_moment(
    invoke: Invoke, loaded_store: str, open_ledger: OpenLedger, known: tuple[str, datetime]
) -> None:
    KNOWN_AT, KNOWN_AT_TIME = known
    shown = as_json(
        invoke, "--store", loaded_store, "replay", "--as-of", AS_OF, "--known-at", KNOWN_AT
    )
    assert shown == open_ledger(loaded_store).list_claims(
        as_of=AS_OF_TIME, known_at=KNOWN_AT_TIME, limit=1000
    )
    table = invoke("--store", loaded_store, "replay", "--as-of", AS_OF)
    assert table.exit_code == 0
    assert "0.814" in table.stdout and "credibility-v2" in table.stdout


def test_sources(
    invoke: Invoke, loaded_store: str, open_ledger: OpenLedger, known: tuple[str, datetime]
) -> None:
    KNOWN_AT, KNOWN_AT_TIME = known
    shown = as_json(
        invoke, "--store", loaded_store, "sources", "--known-at", KNOWN_AT, "--as-of", KNOWN_AT
    )
    expected = open_ledger(loaded_store).list_sources(
        known_at=KNOWN_AT_TIME, as_of=KNOWN_AT_TIME, limit=1000
    )
    assert shown == expected
    table = invoke("--store", loaded_store, "sources")
    assert "Dmitry Peskov" in table.stdout


@pytest.mark.parametrize("command", ["show", "audit", "timeline"])
def test_an_unknown_claim_is_exit_3(invoke: Invoke, loaded_store: str, command: str) -> None:
    result = invoke("--store", loaded_store, command, "no-such-claim")
    assert result.exit_code == 3
    assert result.stderr == "error: no claim 'no-such-claim'\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [
        ("--as-of", "2024-10-12T10:00:00", "has no time zone"),
        ("--known-at", "yesterday", "is not an RFC 3339 timestamp"),
        ("--as-of", "2024-02-30", "is not a valid calendar date"),
    ],
)
def test_a_bad_time_is_exit_2(
    invoke: Invoke, loaded_store: str, option: str, value: str, reason: str
) -> None:
    result = invoke("--store", loaded_store, "show", TROOPS, option, value)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {option}: ")
    assert reason in result.stderr


def test_verify_an_intact_log(invoke: Invoke, loaded_store: str) -> None:
    result = invoke("--store", loaded_store, "verify")
    assert result.exit_code == 0
    assert result.stdout.startswith("ok: 19 events checked, chain head ")
    assert as_json(invoke, "--store", loaded_store, "verify")["ok"] is True


def test_verify_names_the_first_tampered_position(
    invoke: Invoke, loaded_store: str, open_ledger: OpenLedger
) -> None:
    hoax = next(
        e
        for e in open_ledger(loaded_store).global_log(0, 100)["events"]
        if e.get("quote") == "another hoax"
    )
    with sqlite3.connect(Settings(store=loaded_store).sqlite_path()) as db:
        db.execute(
            "UPDATE stored_events SET state = replace(state, 'hoax', 'fact') WHERE rowid = ?",
            (hoax["position"],),
        )
    result = invoke("--store", loaded_store, "verify")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: the log is broken at position {hoax['position']}: ")
    report = json.loads(invoke("--store", loaded_store, "verify", "--json").stdout)
    assert report["first_bad_position"] == hoax["position"]
