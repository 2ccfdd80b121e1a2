#!/usr/bin/env bash
# The demo of the README: installs what it needs, then runs a real local fleet
# (PostgreSQL servers of two major versions, a master, three workers), forces
# every build, prints the results and keeps the web UI up until Ctrl-C.
#   ./scripts/demo.sh --once    run the builds once; exit 1 if one failed
# See docs/demo.md.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
exec .venv/bin/python -m demo "$@"
