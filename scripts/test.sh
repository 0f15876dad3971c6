#!/usr/bin/env bash
# The whole test suite (the README's second command); arguments go to pytest, e.g.
#   scripts/test.sh tests/cli -x
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest "$@"
