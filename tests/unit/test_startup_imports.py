"""Starting the server or the CLI does not import what only some requests need: ``stix2``
(half a second) and ``dateparser`` (a fifth) are imported by the STIX routes and the
drafts when first used; the projector's process (``python -m ledger_cli.projecting``)
imports neither the CLI nor the web stack. Each check runs in a fresh interpreter."""

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


def test_the_projector_process_imports_neither_the_cli_nor_the_web_stack() -> None:
    code = ("import runpy, sys; sys.argv = ['x']; "
            "runpy.run_module('ledger_cli.projecting', run_name='not_main'); "
            "print(sorted(m for m in ('ledger_cli.main', 'typer', 'fastapi', 'stix2') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
