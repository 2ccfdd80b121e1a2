"""Helpers shared by the subfactory tests (not a test module)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from buildbot.process.properties import Properties
from buildbot.util import flatten

from buildbot_odoo.master.configurator import BuildoutsConfigurator
from buildbot_odoo.master.subfactories import retrieval

BUILDDIR = "/home/worker/w1/sale-pg15"
DB = "odoo_buildbot-sale-pg15"
ENV = {"PGPORT": "5433"}


def configurator(basedir: str = "/srv/master") -> BuildoutsConfigurator:
    """A real configurator (making one reads no file): base directory and registries."""
    return BuildoutsConfigurator(basedir)


def render(value, **props):
    """``value`` rendered with a worker's usual build properties (plus ``props``); a
    command's renderables giving lists are spliced in, as Buildbot's shell steps do."""
    base = {"builddir": BUILDDIR, "testing_db": DB, "buildername": "sale-pg15",
            "buildnumber": 7}
    rendered = Properties(**{**base, **props}).render(value).result
    return flatten(rendered, (list, tuple)) if isinstance(rendered, list) else rendered


def by_name(made: list) -> dict:
    return {step.name: step for step in made}


def run_script(name: str, *args: str, cwd: Path | None = None,
               env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a worker script the way a build does: ``python3 SCRIPT ARGS`` (here: this Python)."""
    return subprocess.run([sys.executable, retrieval.worker_script(name), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout, check=False)
