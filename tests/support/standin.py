"""TEST FIXTURES, not product code: a zc.buildout environment and the odoo-standin buildout.

The product bootstraps a virtualenv with zc.buildout and runs ``bin/buildout -c
CONF <part>:options.db_name=...`` (SPEC 6, steps 3-4).  These helpers do the same
with the sample buildout ``tests/fixtures/buildouts/standin.cfg`` and the
stand-in distribution ``tests/fixtures/odoo_standin`` (see
``tests/fixtures/README.md``), so tests can check the stand-in, and later the
product, against a real buildout.

The pytest fixtures built on these are in :mod:`tests.support.standin_fixtures`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
#: The stand-in distribution (setup.py); copy it before building (``develop`` writes there).
STANDIN_SOURCE = FIXTURES / "odoo_standin"
#: Odoo-style addons: standin_ok, standin_failing, standin_erroring, standin_broken.
ADDONS_DIR = FIXTURES / "addons"
SAMPLE_BUILDOUT = FIXTURES / "buildouts" / "standin.cfg"
#: The part of the sample buildout: scripts are bin/start_odoo and bin/test_odoo.
PART = "odoo"

_COPY_IGNORE = shutil.ignore_patterns("*.egg-info", "build", "__pycache__", "*.pyc")


def copy_standin_source(dest: Path) -> Path:
    """A private copy of the stand-in distribution, so ``develop`` never writes in the repo."""
    shutil.copytree(STANDIN_SOURCE, dest, ignore=_COPY_IGNORE)
    return dest


def build_buildout(standin_source: Path, index_eggs: Sequence[str] = (),
                   more: str = "") -> str:
    """The text of a buildout a Buildbot build downloads: the sample one, with absolute paths.

    A build runs its buildout file in the worker's build directory, where the
    sample's defaults (relative to the file) reach nothing, so this one extends
    the sample and names ``standin_source`` (a copy: ``develop`` writes there)
    and the fixture addons.  ``index_eggs`` are distributions a ``tools`` part
    installs from the package index (a cold build fetches them into the egg
    cache); ``more`` is appended as is (sections of the caller's own).
    """
    lines = ["[buildout]", f"extends = {SAMPLE_BUILDOUT}", f"standin-source = {standin_source}",
             f"addons-directory = {ADDONS_DIR}"]
    if index_eggs:
        lines += ["parts += tools", "", "[tools]", "recipe = zc.recipe.egg",
                  "eggs = " + " ".join(index_eggs)]
    return "\n".join(lines) + "\n" + more


def offline_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment in which pip cannot reach any index: proves a build is offline."""
    env = dict(os.environ if base is None else base)
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS="", PIP_CONFIG_FILE=os.devnull)
    return env


def make_buildout_venv(dest: Path, python: str = sys.executable,
                       timeout: float = 300) -> Path:
    """A fresh virtualenv with zc.buildout from the package index (pip cache helps).

    Returns the ``buildout`` executable.  This is what the product does on a
    worker; when no index is reachable, the ``buildout`` next to the running
    interpreter is used instead (the test environment has zc.buildout).
    """
    venv.EnvBuilder(with_pip=True, symlinks=True).create(dest)
    run = subprocess.run([str(dest / "bin" / "python"), "-m", "pip", "install", "-q",
                          "zc.buildout"], capture_output=True, text=True, timeout=timeout)
    if run.returncode == 0:
        return dest / "bin" / "buildout"
    fallback = Path(python).parent / "buildout"
    if fallback.is_file():
        return fallback
    raise RuntimeError(f"cannot install zc.buildout in {dest}:\n{run.stdout}{run.stderr}")


def run_sample_buildout(buildout: Path, directory: Path, standin_source: Path,
                        extra: Sequence[str] = (), addons_dir: Path = ADDONS_DIR,
                        env: dict[str, str] | None = None,
                        timeout: float = 300) -> subprocess.CompletedProcess:
    """Copy the sample buildout into ``directory`` and run it there, offline.

    ``extra`` are more ``section:option=value`` assignments, e.g.
    ``odoo:options.db_name=x``, as the product passes them.
    """
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE_BUILDOUT, directory / SAMPLE_BUILDOUT.name)
    args = [str(buildout), "-c", SAMPLE_BUILDOUT.name,
            f"buildout:standin-source={standin_source}",
            f"buildout:addons-directory={addons_dir}", *extra]
    return subprocess.run(args, cwd=directory, capture_output=True, text=True,
                          env=offline_env(env), timeout=timeout)
