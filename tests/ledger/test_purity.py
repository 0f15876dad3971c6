"""ledger/ is the domain: it never imports a web framework, directly or through a dependency."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ledger

WEB = ("fastapi", "starlette", "uvicorn", "api")
LEDGER_DIR = Path(ledger.__file__).parent


def test_no_module_in_ledger_imports_a_web_framework() -> None:
    offenders = []
    for path in sorted(LEDGER_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in WEB]
    assert offenders == []


def test_importing_every_ledger_module_loads_no_web_framework() -> None:
    modules = sorted(
        "ledger." + ".".join(p.relative_to(LEDGER_DIR).with_suffix("").parts)
        for p in LEDGER_DIR.rglob("*.py")
        if p.name != "__init__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {WEB!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
