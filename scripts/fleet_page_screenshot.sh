#!/usr/bin/env bash
# Refresh docs/fleet-page.png, the README's picture of the Fleet page, from the page's
# browser test: the test saves its screenshot in its own temporary directory (tests
# never write into the repository) and this script copies it into docs/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python -m pytest -q -p no:cacheprovider --basetemp="$tmp" \
    tests/integration/test_fleet_page_e2e.py -k test_the_page_is_in_the_uis_menu_and_view
shot=$(find "$tmp" -name fleet-page.png -print -quit)
[ -n "$shot" ] || { echo "the test made no screenshot" >&2; exit 1; }
cp "$shot" docs/fleet-page.png
echo "docs/fleet-page.png updated from $shot"
