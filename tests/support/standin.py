"""TEST FIXTURES, not product code: a zc.buildout environment and the stand-in Odoo buildout.

The product bootstraps a virtualenv with zc.buildout and runs ``bin/buildout -c
CONF <part>:options.db_name=...`` (SPEC 6, steps 3-4).  These helpers do the same
with the sample buildout ``tests/fixtures/buildouts/standin.cfg``: an Odoo 17
buildout as users write it for oca.recipe.odoo, whose Odoo is the stand-in
source tree ``tests/fixtures/odoo17`` (``version = local ...``) and whose recipe
is the stand-in checkout ``tests/fixtures/oca.recipe.odoo`` (``develop = ...``),
see ``tests/fixtures/README.md``.

The *stand-in sources* of a test are copies of both trees in one directory
(``develop`` writes into them), made by :func:`copy_standin_source`:
``<dir>/odoo17`` and ``<dir>/oca.recipe.odoo``.

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
#: The stand-in Odoo 17 source tree (odoo-bin, package odoo, setup.py).
ODOO_SOURCE = FIXTURES / "odoo17"
#: The stand-in checkout of OCA/oca.recipe.odoo (distribution oca.recipe.odoo).
RECIPE_SOURCE = FIXTURES / "oca.recipe.odoo"
#: Odoo-style addons: standin_ok, standin_failing, standin_erroring, standin_broken, and,
#: written for Odoo 17 too, standin_dep_failing, standin_with_dep, standin_not_installable,
#: standin_needs_missing, standin_needs_uninstallable, standin_no_tests (tests/fixtures/README.md).
ADDONS_DIR = FIXTURES / "addons"
SAMPLE_BUILDOUT = FIXTURES / "buildouts" / "standin.cfg"
#: The part of the sample buildout: bin/start_odoo, bin/upgrade_odoo (bin/test_odoo
#: only with odoo:with_devtools=true).
PART = "odoo"
#: Where :func:`copy_standin_source` puts each tree, inside the directory it is given.
ODOO_DIR_NAME = "odoo17"
RECIPE_DIR_NAME = "oca.recipe.odoo"

#: What :func:`make_buildout_venv` installs: the zc.buildout and zc.recipe.egg versions
#: that develop Odoo with an egg link only, whatever the paths (zc.buildout 6 also
#: leaves a dist-info that wins when the Odoo tree's path sorts before the
#: buildout's develop-eggs, see tests/fixtures/README.md), and a setuptools that
#: builds wheels by itself (before 70.1 it needs the ``wheel`` distribution, which
#: pip would fetch from an index when it develops the stand-ins offline).
KNOWN_GOOD_BUILDOUT = ("zc.buildout==5.2.0", "zc.recipe.egg==4.0.0", "setuptools>=70.1,<82")

_COPY_IGNORE = shutil.ignore_patterns("*.egg-info", "build", "__pycache__", "*.pyc")


def copy_standin_source(dest: Path) -> Path:
    """Private copies of the stand-in Odoo tree and recipe checkout under ``dest``.

    ``develop`` writes into both (``*.egg-info``), never into the repository.
    Returns ``dest``; :func:`odoo_source` and :func:`recipe_source` name the copies.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ODOO_SOURCE, odoo_source(dest), ignore=_COPY_IGNORE)
    shutil.copytree(RECIPE_SOURCE, recipe_source(dest), ignore=_COPY_IGNORE)
    return dest


def odoo_source(standin_source: Path) -> Path:
    return standin_source / ODOO_DIR_NAME


def recipe_source(standin_source: Path) -> Path:
    return standin_source / RECIPE_DIR_NAME


def source_assignments(standin_source: Path, addons_dir: Path = ADDONS_DIR) -> list[str]:
    """The ``buildout:...`` assignments pointing the sample buildout at ``standin_source``."""
    return [f"buildout:recipe-checkout={recipe_source(standin_source)}",
            f"buildout:odoo-directory={odoo_source(standin_source)}",
            f"buildout:addons-directory={addons_dir}"]


def build_buildout(standin_source: Path, index_eggs: Sequence[str] = (),
                   more: str = "", addons_dir: Path = ADDONS_DIR) -> str:
    """The text of a buildout a Buildbot build downloads: the sample one, with absolute paths.

    A build runs its buildout file in the worker's build directory, where the
    sample's defaults (relative to the file) reach nothing, so this one extends
    the sample and names the copies under ``standin_source``
    (:func:`copy_standin_source`) and the addons (the fixture ones unless
    ``addons_dir`` says otherwise).  ``index_eggs`` are
    distributions a ``tools`` part installs from the package index (a cold build
    fetches them into the egg cache); ``more`` is appended as is (sections of
    the caller's own).
    """
    lines = ["[buildout]", f"extends = {SAMPLE_BUILDOUT}",
             f"recipe-checkout = {recipe_source(standin_source)}",
             f"odoo-directory = {odoo_source(standin_source)}",
             f"addons-directory = {addons_dir}"]
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
                       requirements: Sequence[str] = KNOWN_GOOD_BUILDOUT,
                       timeout: float = 300) -> Path:
    """A fresh virtualenv with zc.buildout and zc.recipe.egg from the package index.

    Returns the ``buildout`` executable.  This is what the product does on a
    worker, plus zc.recipe.egg (which the recipe requires, and a worker's
    buildout fetches into its egg cache) so that buildouts of the stand-ins
    then run offline.  When no index is reachable, the ``buildout`` next to the
    running interpreter is used instead (the test environment has zc.buildout).
    """
    venv.EnvBuilder(with_pip=True, symlinks=True).create(dest)
    run = subprocess.run([str(dest / "bin" / "python"), "-m", "pip", "install", "-q",
                          *requirements], capture_output=True, text=True, timeout=timeout)
    if run.returncode == 0:
        return dest / "bin" / "buildout"
    fallback = Path(python).parent / "buildout"
    if fallback.is_file():
        return fallback
    raise RuntimeError(f"cannot install zc.buildout in {dest}:\n{run.stdout}{run.stderr}")


def run_sample_buildout(buildout: Path, directory: Path, standin_source: Path,
                        extra: Sequence[str] = (), addons_dir: Path = ADDONS_DIR,
                        env: dict[str, str] | None = None, offline: bool = True,
                        timeout: float = 300) -> subprocess.CompletedProcess:
    """Copy the sample buildout into ``directory`` and run it there (offline by default).

    ``extra`` are more ``section:option=value`` assignments, e.g.
    ``odoo:options.db_name=x``, as the product passes them.
    """
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE_BUILDOUT, directory / SAMPLE_BUILDOUT.name)
    args = [str(buildout), "-c", SAMPLE_BUILDOUT.name,
            *source_assignments(standin_source, addons_dir), *extra]
    return subprocess.run(args, cwd=directory, capture_output=True, text=True,
                          env=offline_env(env) if offline else dict(env or os.environ),
                          timeout=timeout)
