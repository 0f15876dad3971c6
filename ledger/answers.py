"""What the use cases answer: plain, JSON-ready values in the contract's field names.

Answers are dicts of strings, numbers, lists and dicts (times already RFC 3339 strings), so
the HTTP face serialises them as they are and the CLI prints them with ``--json``.
"""

from __future__ import annotations

from typing import Any

#: One answer, or one item of an answer.
JSON = dict[str, Any]
