#!/usr/bin/env bash
# Serve the API on a throw-away SQLite store with the article's example data; arguments go
# to `claims-ledger serve`, e.g. scripts/serve.sh --port 8001
set -euo pipefail
cd "$(dirname "$0")/.."
store="$(mktemp -d)/ledger.sqlite3"
echo "throw-away store: $store" >&2
exec .venv/bin/claims-ledger --store "sqlite:///$store" serve --demo "$@"
