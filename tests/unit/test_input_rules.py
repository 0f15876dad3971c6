"""Rules the faces share, each stated once in the ledger: text must be Unicode, why JSON
could not be read, and how a time option is parsed (``ledger.inputs``, ``ledger.times``)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import pytest

from ledger.errors import InvalidInput, InvalidTime
from ledger.inputs import check_text, json_problem, unicode_problem
from ledger.times import parse_time_option


def test_text_with_whole_characters_is_unicode() -> None:
    assert unicode_problem("café 🙂 Київ") is None
    assert check_text("quote", "🙂") == "🙂"


def test_a_lone_surrogate_is_named_with_its_code() -> None:
    problem = unicode_problem("half an emoji \ud83d")
    assert problem is not None and "lone surrogate (\\ud83d" in problem
    with pytest.raises(InvalidInput) as raised:
        check_text("tags[0]", "\udc80")
    assert raised.value.field == "tags[0]" and "lone surrogate" in raised.value.reason


def _error(text: str) -> BaseException:
    try:
        json.loads(text)
    except (RecursionError, ValueError) as error:
        return error
    raise AssertionError("parsed")


def test_json_problem_says_why_a_document_could_not_be_read() -> None:
    assert json_problem(_error("[" * 100_000 + "]" * 100_000)) == (
        "is nested too deeply to be parsed"
    )
    digits = sys.get_int_max_str_digits()
    assert f"more than {digits} digits" in json_problem(_error("9" * (digits + 1)))
    try:
        b"\xff".decode("utf-8")
    except UnicodeDecodeError as error:
        assert json_problem(error).startswith("is not UTF-8 text (byte 0")
    assert json_problem(None) == "could not be parsed as JSON"


def test_a_time_option_is_none_when_not_given_and_a_bare_date_is_a_day_bound() -> None:
    assert parse_time_option("--as-of", None) is None
    assert parse_time_option("as_of", "2024-10-13") == datetime(
        2024, 10, 13, 23, 59, 59, 999_999, tzinfo=UTC
    )
    assert parse_time_option("since", "2024-10-13", bare_date="start") == datetime(
        2024, 10, 13, tzinfo=UTC
    )


def test_a_refused_time_option_is_named() -> None:
    with pytest.raises(InvalidTime) as raised:
        parse_time_option("--known-at", "2024-10-13T00:00:00")
    assert raised.value.field == "--known-at" and "time zone" in raised.value.reason


def test_messages_say_an_asserted_event_and_a_denied_event() -> None:
    from ledger import inputs
    from ledger.errors import InvalidInput

    for kind, article in (("asserted", "an"), ("assessed", "an"), ("denied", "a")):
        body = {"type": kind, "source": "s", "occurred_at": "2024-01-01", "colour": "red"}
        try:
            inputs.statement(body, event_id="e", actor="t")
        except InvalidInput as error:
            assert f"is not a field of {article} {kind} event" in error.reason
        else:  # pragma: no cover - the unknown field must be refused
            raise AssertionError("colour was accepted")


def test_a_nul_character_is_refused_before_it_reaches_a_store() -> None:
    """PostgreSQL text cannot hold NUL: a claim stored with one broke every later list."""
    from ledger import inputs
    from ledger.errors import InvalidInput

    assert inputs.unicode_problem("a\x00b") is not None
    try:
        inputs.claim_fields({"text": "troops\x00"})
    except InvalidInput as error:
        assert error.field == "text" and "NUL" in error.reason
    else:  # pragma: no cover - the NUL must be refused
        raise AssertionError("a NUL was accepted")
