"""Reading a batch of events: a JSON array or NDJSON (one event per line).

The body's shape is checked here, item by item; the ledger then checks the rules and
stores all the events in one transaction, or none.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from api import examples
from api.bodies import BatchEventCreate
from api.deps import JSON_TYPES, NDJSON_TYPES, media_type
from api.errors import UnsupportedMediaType, unparseable
from ledger.errors import InvalidInput

_ITEMS = TypeAdapter(list[BatchEventCreate])


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput("body", f"is not UTF-8 (byte {error.start})") from None


def _json_array(raw: bytes) -> Any:
    try:
        items = json.loads(_text(raw))
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
    items = []
    for number, line in enumerate(_text(raw).splitlines(), start=1):
        if not line.strip():
            continue
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
    items = _ndjson(raw) if kind in NDJSON_TYPES else _json_array(raw)
    try:
        events = _ITEMS.validate_python(items)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None
    return [event.fields() for event in events]


def request_body_openapi() -> dict[str, Any]:
    """The batch route's request body for OpenAPI (the body is read by ``batch_items``)."""
    ndjson = "\n".join(json.dumps(item) for item in examples.BATCH) + "\n"
    schema = {"type": "array", "items": {"$ref": "#/components/schemas/BatchEventCreate"},
              "minItems": 1}
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
