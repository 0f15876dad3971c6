#!/usr/bin/env bash
# Lint and type-check: ruff over everything, mypy --strict over the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check ledger api ledger_cli tests
.venv/bin/mypy            # the packages listed in pyproject.toml [tool.mypy]
.venv/bin/mypy ledger_cli
