"""Names shared by the CLI tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

ARTICLE = Path(__file__).parents[2] / "ledger" / "data" / "article-nk-russia.ndjson"
Invoke = Callable[..., Result]  # invoke("--store", url, "show", "claim-id") -> Result
