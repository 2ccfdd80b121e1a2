"""The dependencies template under faults: a worker killed while the template is being
made, PostgreSQL stopped then; never a wrong reuse, no leftover, no deadlock.

A real master, worker, PostgreSQL (this module's own: one test stops it) and
zc.buildout build the stand-in Odoo.  The moment of the fault is never guessed:
the build's addon depends on ``slow_dep``, whose manifest names a named pipe
(the stand-in's ``standin_install_waits_on``): installing it into the template
waits until the test opens the pipe for writing.  The test waits for Odoo's
``Loading module slow_dep`` line in the dependencies' log, does the harm, then
releases the install.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, RETRY, SUCCESS
from buildbot.util import bytes2unicode, safeTranslate

from tests.integration.test_faults_e2e import builds_of, finished, kill, release_every_gate
from tests.support.buildbot_processes import (
    BUILD_TIMEOUT,
    CONNECT_TIMEOUT,
    STANDIN_SOURCES_DIR,
    MasterApi,
    Site,
    standin_site,
    wait_for,
)
from tests.support.postgres import PgInstall, PgServer, newest_install
from tests.support.standin import ADDONS_DIR, build_buildout

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

MANIFEST = """\
[DEFAULT]
buildout = standalone standin.cfg
build-for = postgresql >= 12
odoo-addons = waits_for_slow_dep

[lost-worker]

[pg-down]
"""
LOADING = "Loading module slow_dep"


@pytest.fixture(scope="module")
def pg(pg_installations: list[PgInstall], tmp_path_factory) -> Iterator[PgServer]:
    with PgServer(newest_install(pg_installations),
                  tmp_path_factory.mktemp("template-faults-pg")) as server:
        yield server


@pytest.fixture(scope="module")
def gates(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gates")


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg: PgServer, gates: Path) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("template-faults")
    addons = root / "addons"
    shutil.copytree(ADDONS_DIR, addons, ignore=shutil.ignore_patterns("__pycache__"))
    write_addon(addons, "slow_dep", ["base"], standin_install_waits_on=str(gates / "install"))
    write_addon(addons, "waits_for_slow_dep", ["slow_dep"], tests=True)
    made = standin_site(root, pg, "from buildbot_odoo import configure_from_buildouts\n"
                                  "configure_from_buildouts(basedir, c)\n", MANIFEST)
    made.master.write("buildouts/standin.cfg", build_buildout(
        root / STANDIN_SOURCES_DIR, index_eggs=["six"], addons_dir=addons))
    try:
        with made:
            yield made
    finally:
        release_every_gate(gates)


def write_addon(addons: Path, name: str, depends: list[str], tests: bool = False,
                **manifest) -> None:
    directory = addons / name
    (directory / "tests").mkdir(parents=True)
    (directory / "__manifest__.py").write_text(repr(
        {"name": name, "version": "17.0.1.0.0", "depends": depends, "license": "LGPL-3",
         **manifest}))
    (directory / "__init__.py").write_text("")
    if tests:
        (directory / "tests" / "__init__.py").write_text("from . import test_it\n")
        (directory / "tests" / "test_it.py").write_text(
            "from odoo.tests import TransactionCase\n\n\n"
            "class TestIt(TransactionCase):\n"
            "    def test_it(self):\n"
            "        self.assertTrue(True)\n")


# -- helpers


def builder(api: MasterApi, build: str) -> str:
    return next(name for name in api.names("builders") if name.startswith(build + "-pg"))


def dependencies_log(site: Site, builder_name: str) -> Path:
    """In the builder's directory, named as Buildbot names it (``safeTranslate``)."""
    directory = bytes2unicode(safeTranslate(builder_name))
    return site.workers[0].directory / directory / "build" / "odoo-dependencies.log"


def wait_held(site: Site, builder_name: str) -> None:
    """Odoo is installing ``slow_dep`` into the template being made: it waits on the gate."""
    log = dependencies_log(site, builder_name)
    wait_for(lambda: log.is_file() and LOADING in log.read_text(errors="replace"),
             f"{LOADING!r} in {log}", BUILD_TIMEOUT)


def open_gate(gates: Path) -> None:
    """Let every install waiting on the gate go on (the writer's open waits for a reader)."""
    with open(gates / "install", "w"):
        pass


def leftovers(pg: PgServer, builder_name: str) -> list[str]:
    """Databases of the builder other than its one template."""
    names = pg.psql("SELECT datname FROM pg_database WHERE datname LIKE "
                    f"'odoo_buildbot-{builder_name.replace('.', '_')}%'").split()
    return sorted(n for n in names if "-deps-" not in n or "-deps-new-" in n)


def steps_text(api: MasterApi, build: dict) -> str:
    return "\n".join(f"{s['name']}: {s['results']} {s['state_string']}"
                     for s in api.steps(build["buildid"]))


def summary(api: MasterApi, build: dict, step: str) -> str:
    return next(s["state_string"] for s in api.steps(build["buildid"]) if s["name"] == step)


# -- tests


def test_a_worker_killed_while_the_template_is_made_leaves_nothing_reused(site, pg, gates):
    os.mkfifo(gates / "install")
    api, worker = site.api, site.workers[0]
    name = builder(api, "lost-worker")
    brid = api.force(name)
    wait_held(site, name)
    lost = wait_for(lambda: builds_of(api, brid)[0], "the build", 60)

    kill(worker)
    assert finished(api, lost)["results"] == RETRY
    dependencies_log(site, name).unlink()  # the retry's Odoo writes it afresh
    worker.start()
    site.wait_connected(CONNECT_TIMEOUT)
    wait_held(site, name)  # the retry makes the template again: the lost one's is not trusted
    open_gate(gates)       # both the lost build's Odoo and the retry's go on

    retried = finished(api, wait_for(lambda: builds_of(api, brid)[1:] and builds_of(
        api, brid)[1], "the retry", BUILD_TIMEOUT))
    assert retried["results"] == SUCCESS, steps_text(api, retried)
    assert summary(api, retried, "odoo-dependencies").startswith("template made: ")
    assert [b["results"] for b in builds_of(api, brid)] == [RETRY, SUCCESS]
    assert leftovers(pg, name) == []
    again = api.build(name)
    assert again.result == SUCCESS, again.explain()
    assert again.step("odoo-dependencies")["state_string"].startswith("template reused: ")


def test_postgresql_stopped_while_the_template_is_made_then_the_next_build_makes_it(
        site, pg, gates):
    if not (gates / "install").exists():
        os.mkfifo(gates / "install")
    api = site.api
    name = builder(api, "pg-down")
    brid = api.force(name)
    wait_held(site, name)
    pg.halt()
    try:
        open_gate(gates)
        failed = api.finished_build(brid)
    finally:
        pg.resume()
    assert failed.result == FAILURE, failed.explain()
    assert failed.step("odoo-dependencies")["results"] == FAILURE

    brid = api.force(name)
    wait_held(site, name)
    open_gate(gates)
    remade = api.finished_build(brid)
    assert remade.result == SUCCESS, remade.explain()
    assert remade.step("odoo-dependencies")["state_string"].startswith("template made: ")
    assert leftovers(pg, name) == []
