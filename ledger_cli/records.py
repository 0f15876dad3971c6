"""Reading records in the export format: NDJSON, or one JSON array, with their line numbers.

Line numbers are what a person fixes a file by, so every record keeps the line it starts
on, and a line that is not JSON is reported by its number like any other bad record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TextIO

from ledger.errors import InvalidInput
from ledger.inputs import json_problem, unicode_problem

Numbered = tuple[int, object]  # (line number, decoded record)
_DECODER = json.JSONDecoder()


def read_records(stream: TextIO) -> Iterator[Numbered]:
    """Yield ``(line, record)``: NDJSON line by line, or a JSON array parsed whole."""
    lines = _numbered_lines(stream)
    for number, line in lines:
        if not line.strip():
            continue
        if line.lstrip().startswith("["):
            text = "\n" * (number - 1) + line + "".join(rest for _, rest in lines)
            yield from json_array(text)
            return
        yield number, _decode_line(number, line)
        for number, line in lines:
            if line.strip():
                yield number, _decode_line(number, line)
        return


def count_records(stream: TextIO) -> int | None:
    """How many records an NDJSON file holds (for a progress bar); None for an array."""
    count = 0
    for _, line in _numbered_lines(stream):
        if count == 0 and line.lstrip().startswith("["):
            return None
        count += bool(line.strip())
    return count


def _numbered_lines(stream: TextIO) -> Iterator[tuple[int, str]]:
    number = 0
    iterator = iter(stream)
    while True:
        try:
            line = next(iterator)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise InvalidInput(f"line {number + 1}", "is not UTF-8 text") from None
        number += 1
        yield number, line


def _decode_line(number: int, line: str) -> object:
    try:
        value = json.loads(line)
        return value if _plain(line) else _text_only(number, value)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"line {number}", f"not valid JSON ({error.msg} at column {error.colno})"
        ) from None
    except (RecursionError, ValueError) as error:
        raise InvalidInput(f"line {number}", json_problem(error)) from None


def _plain(text: str) -> bool:
    """True if no string decoded from the JSON ``text`` can break the ledger's text rule
    (``unicode_problem``), so ``_text_only`` need not walk them: ``text`` itself passes
    the rule and holds no ``\\u`` escape. Its other escapes give only the quote,
    backslash, slash and the controls \\b \\f \\n \\r \\t, which the rule allows;
    so every decoded character is one the rule already passed. One scan of the line
    instead of a call per string (half of reading a large load's file)."""
    return "\\u" not in text and unicode_problem(text) is None


def _text_only(number: int, value: object) -> object:
    """``value``, unless one of its strings (or keys) is not Unicode text (the ledger's rule,
    ``ledger.inputs.unicode_problem``): refused here, so the error names the line."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, str) and (problem := unicode_problem(item)) is not None:
            raise InvalidInput(f"line {number}", problem)
    return value


def json_array(text: str) -> list[Numbered]:
    """Every element of a JSON array with the line it starts on."""
    records: list[Numbered] = []
    plain = _plain(text)
    position = _skip_space(text, text.index("[") + 1)
    line, counted = 1, 0
    while not text.startswith("]", position):
        line += text.count("\n", counted, position)
        counted = position
        try:
            record, position = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise InvalidInput(
                f"line {error.lineno}", f"not valid JSON ({error.msg} at column {error.colno})"
            ) from None
        except (RecursionError, ValueError) as error:
            raise InvalidInput(f"line {line}", json_problem(error)) from None
        records.append((line, record if plain else _text_only(line, record)))
        position = _skip_space(text, position)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
            if text.startswith("]", position):
                raise InvalidInput(_line_at(text, position), "a trailing ',' before ']'")
        elif not text.startswith("]", position):
            raise InvalidInput(_line_at(text, position), "expected ',' or ']' in the JSON array")
    trailing = _skip_space(text, position + 1)
    if trailing < len(text):
        raise InvalidInput(_line_at(text, trailing), "text follows the end of the JSON array")
    return records


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _line_at(text: str, position: int) -> str:
    return f"line {text.count(chr(10), 0, position) + 1}"


def batches(records: Iterable[Numbered], size: int) -> Iterator[list[Numbered]]:
    """Consecutive groups of ``size`` records (the last may be shorter)."""
    batch: list[Numbered] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
