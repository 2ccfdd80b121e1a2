#!/usr/bin/env bash
# The test command of the README: installs what it needs, lints, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
.venv/bin/ruff check .
# pytest exits 5 when no test ran: that is a failure here, as any non-zero exit.
exec .venv/bin/python -m pytest "$@"
