"""scripts/measure_drafts.py: recall and spurious share against recorded statements."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "measure_drafts.py"
ARTICLE = (
    "Foreign Minister Anna Berg said on Monday that the ships had left.\n"
    "The Kremlin on Tuesday dismissed the report as a hoax.\n"
    "Analysts warned last week that the claim could be true.\n"
)
RECORDS = [
    {"type": "source_registered", "source": "berg", "name": "Anna Berg", "affiliation": "NO"},
    {"type": "source_registered", "source": "ru-gov", "name": "Government of Russia",
     "role": "government", "affiliation": "RU"},
    {"type": "claim_registered", "claim_id": "ships"},
    {"type": "asserted", "claim_id": "ships", "source": "berg", "occurred_at": "2025-03-10"},
    {"type": "denied", "claim_id": "ships", "source": "ru-gov", "occurred_at": "2025-03-11"},
    # Expected but missed: the article never quotes this source.
    {"type": "assessed", "claim_id": "other", "source": "nobody", "occurred_at": "2025-03-01",
     "likelihood": 0.7},
]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("measure_drafts", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recall_and_spurious_share(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    expected = tmp_path / "expected.ndjson"
    expected.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    assert _script().main([str(article), "--date", "2025-03-12", "--expected", str(expected),
                           "--show"]) == 0
    out = capsys.readouterr().out
    # Berg and the Kremlin are found (2 of 3 expected); the analysts match nothing recorded.
    assert "recall:   67% (2 of 3 proposed" in out
    assert "spurious: 33% (1 of 3 proposals" in out
    assert "missed    nobody" in out
    # --claim keeps only that claim's statements.
    _script().main([str(article), "--date", "2025-03-12", "--expected", str(expected),
                    "--claim", "ships"])
    assert "recall:   100% (2 of 2" in capsys.readouterr().out
