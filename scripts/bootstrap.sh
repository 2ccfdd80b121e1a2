#!/usr/bin/env bash
# Install what the tests and the demo need, idempotently: system packages
# (PostgreSQL, git, Mercurial, Breezy, Chromium, HAProxy) when missing, and a project
# virtualenv in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
need_apt=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
# .venv, the demo's worker virtualenv and every build's virtualenv need venv + ensurepip
"$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v hg >/dev/null 2>&1 || need_apt+=(mercurial)
# Breezy's brz: the master's Bazaar poller and bzr buildouts on the workers
command -v brz >/dev/null 2>&1 || need_apt+=(brz)
command -v runuser >/dev/null 2>&1 || need_apt+=(util-linux)
# the Fleet page's browser test drives Debian's chromium with Playwright (no browser download)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
# the cluster tests and `demo.sh --masters 2` put HAProxy in front of the masters
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need_apt+=(haproxy)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "missing system packages: ${need_apt[*]} (install them, e.g. with apt-get)" >&2
        exit 1
    fi
fi

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
