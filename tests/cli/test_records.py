"""Reading the export format: NDJSON and JSON arrays, each record with its line."""

from __future__ import annotations

import io
import sys

import pytest

from ledger.errors import InvalidInput
from ledger_cli.records import batches, count_records, read_records

LONG = f"more than {sys.get_int_max_str_digits()} digits"


def records(text: str) -> list[tuple[int, object]]:
    return list(read_records(io.StringIO(text)))


def test_ndjson_keeps_line_numbers_across_blank_lines() -> None:
    assert records('\n{"a": 1}\n\n  \n{"b": 2}\n') == [(2, {"a": 1}), (5, {"b": 2})]


def test_a_json_array_gives_the_line_each_element_starts_on() -> None:
    text = '\n[\n  {"a": 1},\n  {\n    "b": 2\n  }, 3\n]\n'
    assert records(text) == [(3, {"a": 1}), (4, {"b": 2}), (6, 3)]


def test_an_empty_input_and_an_empty_array_hold_nothing() -> None:
    assert records("") == []
    assert records("\n[ ]\n") == []


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ('{"a": 1}\n{"a": \n', "line 2", "not valid JSON"),
        ('[{"a": 1},\n {"a": 2},\n]', "line 3", "a trailing ','"),
        ('[{"a": 1}\n {"a": 2}]', "line 2", "expected ',' or ']'"),
        ('[{"a": 1}]\n{"b": 2}\n', "line 2", "text follows the end"),
        ('[{"a": 1},\n {"a": ', "line 2", "not valid JSON"),
        ('{"a": 1}\n{"a": ' + "9" * 5000 + "}\n", "line 2", LONG),
        ('[{"a": 1},\n {"a": ' + "9" * 5000 + "}]", "line 2", LONG),
        ('{"a": 1}\n{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n", "line 2", "nested"),
        ("[\n" + "[" * 100_000 + "]" * 100_000 + "]", "line 2", "nested"),
        ('{"a": 1}\n{"text": "caf\\ud800"}\n', "line 2", "lone surrogate"),
        ('[{"a": 1},\n {"tags": ["\\udfff"]}]', "line 2", "lone surrogate"),
        ('{"\\ud800": 1}\n', "line 1", "lone surrogate"),
    ],
)
def test_malformed_input_is_named_by_line(text: str, where: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        records(text)
    assert raised.value.field == where
    assert reason in raised.value.reason


def test_count_records_counts_ndjson_lines_only() -> None:
    assert count_records(io.StringIO('{"a": 1}\n\n{"b": 2}\n')) == 2
    assert count_records(io.StringIO('\n[{"a": 1}]')) is None


def test_batches_are_consecutive_and_the_last_may_be_short() -> None:
    numbered = [(n, n) for n in range(1, 6)]
    assert [[n for n, _ in b] for b in batches(numbered, 2)] == [[1, 2], [3, 4], [5]]
