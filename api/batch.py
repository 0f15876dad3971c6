"""Reading a batch of events: a JSON array or NDJSON (one event per line).

The body's shape is checked here, item by item; the ledger then checks the rules and
stores all the events in one transaction, or none.

A batch body may be ``max_batch_bytes`` (16 MiB by default), so reading it is real work:
it is done in a worker thread, one event at a time, so that no single call holds the
interpreter for the whole body and the event loop keeps answering other requests
(``/healthz`` among them) meanwhile. A batch holds at most ``MAX_BATCH`` events.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from api import examples
from api.bodies import BatchEventCreate
from api.deps import JSON_TYPES, NDJSON_TYPES, media_type
from api.errors import UnsupportedMediaType, unparseable
from ledger.errors import InvalidInput
from ledger.inputs import MAX_BATCH, too_many

_ITEM = TypeAdapter(BatchEventCreate)
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as the json module skips it


def _skip(text: str, at: int) -> int:
    """Where the whitespace starting at ``at`` ends."""
    space = _SPACE.match(text, at)
    return at if space is None else space.end()


def _too_many() -> InvalidInput:
    return InvalidInput(
        "events", f"{too_many(MAX_BATCH)}: send at most {MAX_BATCH} events per batch"
    )


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput("body", f"is not UTF-8 (byte {error.start})") from None


def _array_items(text: str) -> list[Any] | None:
    """The items of a JSON array, decoded one by one; None if ``text`` is not a well-formed
    array (then ``json.loads`` says why, in its own words)."""
    items: list[Any] = []
    at = _skip(text, 0)
    if not text.startswith("[", at):
        return None
    at = _skip(text, at + 1)
    if text.startswith("]", at):
        at += 1
    else:
        while True:
            try:
                item, at = _DECODER.raw_decode(text, at)
            except (json.JSONDecodeError, RecursionError, ValueError):
                return None
            items.append(item)
            if len(items) > MAX_BATCH:
                raise _too_many()
            at = _skip(text, at)
            if text.startswith(",", at):
                at = _skip(text, at + 1)
            elif text.startswith("]", at):
                at += 1
                break
            else:
                return None
    return items if _skip(text, at) == len(text) else None


def _json_array(raw: bytes) -> Any:
    text = _text(raw)
    items = _array_items(text)
    if items is not None:
        return items
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput("body", f"is not valid JSON: {error.msg} at line {error.lineno} "
                           f"column {error.colno}") from None
    except (RecursionError, ValueError) as error:  # too deep; an integer too long to read
        raise InvalidInput("body", unparseable(error)) from None
    if not isinstance(items, list):
        raise InvalidInput("body", "must be a JSON array of events (or send NDJSON, "
                           "Content-Type: application/x-ndjson)")
    return items


def _ndjson(raw: bytes) -> list[Any]:
    items: list[Any] = []
    for number, line in enumerate(_text(raw).splitlines(), start=1):
        if not line.strip():
            continue
        if len(items) == MAX_BATCH:
            raise _too_many()
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise InvalidInput(f"line {number}", f"is not valid JSON: {error.msg} at column "
                               f"{error.colno}") from None
        except (RecursionError, ValueError) as error:
            raise InvalidInput(f"line {number}", unparseable(error)) from None
    return items


async def batch_items(request: Request) -> list[dict[str, Any]]:
    """The events of a batch request, each checked for shape, as plain mappings."""
    kind = media_type(request)
    if kind not in JSON_TYPES + NDJSON_TYPES:
        raise UnsupportedMediaType(request.headers.get("content-type"), JSON_TYPES + NDJSON_TYPES)
    raw = await request.body()
    return await run_in_threadpool(_read, raw, kind in NDJSON_TYPES)


def _read(raw: bytes, ndjson: bool) -> list[dict[str, Any]]:
    items = _ndjson(raw) if ndjson else _json_array(raw)
    if len(items) > MAX_BATCH:
        raise _too_many()
    events: list[dict[str, Any]] = []
    errors: list[Any] = []
    for i, item in enumerate(items):  # one by one: see the module's docstring
        try:
            events.append(_ITEM.validate_python(item).fields())
        except ValidationError as error:
            errors += [{**e, "loc": ("body", i, *e["loc"])}
                       for e in error.errors(include_url=False)]
    if errors:
        raise RequestValidationError(errors)
    return events


def request_body_openapi() -> dict[str, Any]:
    """The batch route's request body for OpenAPI (the body is read by ``batch_items``)."""
    ndjson = "\n".join(json.dumps(item) for item in examples.BATCH) + "\n"
    schema = {"type": "array", "items": {"$ref": "#/components/schemas/BatchEventCreate"},
              "minItems": 1, "maxItems": MAX_BATCH}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema, "example": examples.BATCH},
                "application/x-ndjson": {
                    "schema": {"type": "string", "description": "one event (JSON object) per line"},
                    "example": ndjson,
                },
            },
        }
    }
