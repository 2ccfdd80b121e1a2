#!/usr/bin/env bash
# The integration suite N times in a row (default 10) while a CPU-bound process
# spins, stopping at the first failed run: how the suite's reliability on a busy
# machine is checked (docs/development.md). Extra arguments go to pytest; when the
# first of them is a path under tests/, only what they name runs, e.g.
#   ./scripts/soak.sh 10 tests/integration/test_cluster_e2e.py
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
shift || true
what=(tests/integration)
if [ $# -gt 0 ] && [[ "$1" == tests/* ]]; then
  what=()
fi
./scripts/bootstrap.sh
python3 -c 'while True: pass' &
hog=$!
trap 'kill "$hog" 2>/dev/null' EXIT
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  if ! .venv/bin/python -m pytest -q -p no:cacheprovider "${what[@]}" "$@"; then
    echo "soak: run $i of $runs failed after $(( $(date +%s) - start )) s" >&2
    exit 1
  fi
  echo "soak: run $i of $runs passed in $(( $(date +%s) - start )) s (load $(cut -d' ' -f1-3 /proc/loadavg))"
done
