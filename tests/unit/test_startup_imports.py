"""Starting the server or the CLI does not import what only some requests need: ``stix2``
(half a second) and ``dateparser`` (a fifth) are imported by the STIX routes and the
drafts when first used. Each check runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["api.main", "ledger_cli.main"])
def test_starting_imports_neither_stix2_nor_dateparser(module: str) -> None:
    code = (f"import sys, {module}; "
            "print(sorted(m for m in ('stix2', 'dateparser') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
