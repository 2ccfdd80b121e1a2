"""End to end: a worker started from an activated virtualenv builds with the system Python.

worker-setup.rst's trap: "Do not start the worker while its virtualenv is
activated; also take care that the bin/ directory of the virtualenv must not
be on the PATH".  Here the worker is started exactly that way: ``source
<V1>/bin/activate && buildbot-worker start DIR`` in a shell whose PATH also
has a second virtualenv's ``bin`` (``V2``, not activated) in front.  Both are
real virtualenvs (``python -m venv``).

Before the fix the build's virtualenv was made by ``V1/bin/python3`` (so by
whatever Python V1 was made from: a worker virtualenv on Python 3.12 gave
every build Python 3.12, and oca.recipe.odoo dies there), and ``VIRTUAL_ENV``
with V1's ``bin`` reached every command.  Now: the ``bootstrap`` step looks
``python3`` up without either virtualenv's ``bin`` and uses the system
interpreter; no later command sees ``VIRTUAL_ENV`` or V1's ``bin``; V2's
``bin``, on PATH without activation, is the user's PATH and stays for the
other commands (docs/build.md, "Bootstrap").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from buildbot.process.results import SUCCESS

from tests.support.buildbot_processes import (
    FinishedBuild,
    Site,
    WorkerProcess,
    run,
    standin_site,
    worker_environ,
)
from tests.support.postgres import PgServer

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

MASTER_CFG = """\
from buildbot_odoo import configure_from_buildouts

configure_from_buildouts(basedir, c)
"""
MANIFEST_CFG = """\
[green]
buildout = standalone standin.cfg
build-for = postgresql >= 12
odoo-addons = standin_ok
"""


@dataclass
class ActivatedWorker(WorkerProcess):
    """A worker started from a shell where ``activate`` of ``virtualenv`` was sourced."""

    virtualenv: Path | None = None

    def start(self) -> None:
        """As :meth:`WorkerProcess.start` (``--quiet``: the site waits for the connection)."""
        run(["bash", "-c", 'source "$1/bin/activate" && exec "$2" start --quiet "$3"',
             "activate", self.virtualenv, self.program, self.directory], env=self.env,
            log=self.log, what=f"starting worker {self.name} from {self.virtualenv}",
            timeout=120)


def system_python(path: str) -> str:
    """What ``python3`` on ``path`` really is: the real path of its base interpreter."""
    found = shutil.which("python3", path=path)
    assert found, f"no python3 on {path}"
    done = subprocess.run([found, "-c", "import os, sys; print(os.path.realpath("
                           "getattr(sys, '_base_executable', sys.executable)))"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def environment_of(build: FinishedBuild, step: str) -> dict[str, str]:
    """The environment Buildbot's stdio header shows for a step's command."""
    header = build.log(step).split(" environment:\n", 1)[1].split(" using PTY", 1)[0]
    return dict(line.strip().split("=", 1) for line in header.splitlines() if "=" in line)


@pytest.fixture(scope="module")
def trap(tmp_path_factory, pg_server: PgServer) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("venv-trap")
    activated, on_path = root / "worker-venv", root / "tools-venv"
    for path in (activated, on_path):
        venv.EnvBuilder(symlinks=True).create(path)
    clean = worker_environ()
    site: Site = standin_site(root, pg_server, MASTER_CFG, MANIFEST_CFG)
    plain = site.workers[0]
    worker = ActivatedWorker(plain.directory, plain.name, plain.password, plain.program,
                             {**clean, "PATH": f"{on_path}/bin{os.pathsep}{clean['PATH']}"},
                             virtualenv=activated)
    site.workers[0] = worker
    with site:  # running while the tests read the build's logs
        worker_env = process_environment(worker.directory / "twistd.pid")
        build = site.api.build(site.api.builders()[0]["name"])
        yield {"build": build, "activated": activated, "on_path": on_path,
               "worker": worker_env, "system": system_python(clean["PATH"])}


def process_environment(pidfile: Path) -> dict[str, str]:
    """A running process's environment, as Linux shows it."""
    raw = Path(f"/proc/{pidfile.read_text().strip()}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def test_the_worker_really_runs_in_the_activated_virtualenv(trap):
    env = trap["worker"]
    assert env["VIRTUAL_ENV"] == str(trap["activated"])
    assert env["PATH"].split(os.pathsep)[:2] == [f"{trap['activated']}/bin",
                                                 f"{trap['on_path']}/bin"]


def test_build_virtualenv_is_made_by_the_system_python(trap):
    build = trap["build"]
    assert build.result == SUCCESS, build.explain()
    log = build.log("bootstrap")
    assert f"left out of PATH (virtualenv bin directories): {trap['on_path']}/bin" in log, log
    assert f"interpreter: {trap['system']} (Python " in log, log
    made = Path(build.properties["builddir"]) / "venv"
    stamp = json.loads((made / "buildbot-odoo.json").read_text())
    assert stamp["key"]["python"] == trap["system"]
    pyvenv = (made / "pyvenv.cfg").read_text()
    assert f"home = {Path(trap['system']).parent}" in pyvenv
    for virtualenv in (trap["activated"], trap["on_path"]):
        assert str(virtualenv) not in pyvenv, pyvenv


@pytest.mark.parametrize("step", ["bootstrap", "buildout", "odoo-tests"])
def test_no_command_sees_the_activated_virtualenv(trap, step):
    env = environment_of(trap["build"], step)
    assert "VIRTUAL_ENV" not in env
    path = env["PATH"].split(os.pathsep)
    assert f"{trap['activated']}/bin" not in path
    assert f"{trap['on_path']}/bin" in path  # not activated: the user's own PATH
