"""Which tests run, on a real master, worker, PostgreSQL and zc.buildout with the stand-in
Odoo (which models real Odoo 17: module states, base, dependencies, --test-tags,
filestore; tests/fixtures/README.md).

The build's addon ``standin_with_dep`` has three tests of its own (one reads
its state while at_install, one the filestore, one runs post_install) and
depends on ``standin_dep_failing``, whose own test fails, as a few of Odoo's own
base tests fail on a host without wkhtmltopdf.  By default only the addon's
tests run: its dependencies are installed once per builder into a template
database, without tests, and each build's testing database is a copy.  The
addons directory is a private copy, so that a test can change a dependency.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS

from tests.support.buildbot_processes import (
    STANDIN_SOURCES_DIR,
    FinishedBuild,
    MasterApi,
    Site,
    standin_site,
)
from tests.support.postgres import PgInstall, PgServer, newest_install
from tests.support.standin import ADDONS_DIR, build_buildout

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

MANIFEST = """\
[DEFAULT]
buildout = standalone standin.cfg
build-for = postgresql >= 12
odoo-addons = standin_with_dep

[addons]

[whole]
install-modules-test.scope = all

[neighbour]

[no-template]
install-modules-test.dependencies-template = false

[typo]
odoo-addons = standin_with_dep, rr_okk

[closed]
odoo-addons = standin_not_installable, standin_needs_missing, standin_needs_uninstallable

[untested]
odoo-addons = standin_no_tests
"""
ADDON = "odoo.addons.standin_with_dep."


@pytest.fixture(scope="module")
def pg(pg_installations: list[PgInstall], tmp_path_factory) -> Iterator[PgServer]:
    with PgServer(newest_install(pg_installations),
                  tmp_path_factory.mktemp("addons-pg")) as server:
        yield server


@pytest.fixture(scope="module")
def addons(tmp_path_factory) -> Path:
    """A copy of the fixture addons: tests change a dependency in it."""
    copy = tmp_path_factory.mktemp("addons") / "addons"
    shutil.copytree(ADDONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg: PgServer, addons: Path) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("addons-site")
    made = standin_site(root, pg, "from buildbot_odoo import configure_from_buildouts\n"
                                  "configure_from_buildouts(basedir, c)\n", MANIFEST)
    made.master.write("buildouts/standin.cfg", build_buildout(
        root / STANDIN_SOURCES_DIR, index_eggs=["six"], addons_dir=addons))
    with made:
        yield made


# -- helpers


def builder(api: MasterApi, build: str) -> str:
    return next(name for name in api.names("builders") if name.startswith(build + "-pg"))


def build_of(site: Site, name: str) -> FinishedBuild:
    return site.api.build(builder(site.api, name))


def summary(build: FinishedBuild, step: str) -> str:
    return build.step(step)["state_string"]


def result_names(site: Site, build: FinishedBuild) -> list[str]:
    names = []
    for result_set in site.api.test_result_sets(build.data["buildid"]):
        names += [r["test_name"] for r in site.api.test_results(result_set["test_result_setid"])]
    return names


def databases(pg: PgServer) -> dict[str, tuple[bool, bool]]:
    """name -> (is a template, accepts connections), the Odoo ones."""
    rows = pg.psql("SELECT datname, datistemplate, datallowconn FROM pg_database "
                   "WHERE datname LIKE 'odoo_buildbot-%'").split("\n")
    found = {}
    for row in filter(None, (r.strip() for r in rows)):
        name, template, allow = row.split("|")
        found[name] = (template == "t", allow == "t")
    return found


def templates(pg: PgServer) -> dict[str, str]:
    """The dependencies templates, by builder prefix of their names."""
    return {name: name for name in databases(pg) if "-deps-" in name}


# -- tests


def test_by_default_only_the_addons_own_tests_run(site, pg):
    """The dependency's failing test does not run, so it does not turn the build red."""
    build = build_of(site, "addons")
    assert build.result == SUCCESS, build.explain()
    assert summary(build, "odoo-dependencies").startswith("template made: ")
    assert "standin_dep_failing" in summary(build, "odoo-dependencies")
    assert summary(build, "odoo-tests") == "3 tests, 0 failures, 0 errors"
    names = result_names(site, build)
    assert len(names) == 3 and all(name.startswith(ADDON) for name in names), names
    assert "--test-tags=/standin_with_dep" in build.log("odoo-tests")
    made = databases(pg)
    deps = [name for name in made if name.startswith("odoo_buildbot-addons-") and "-deps-" in name]
    assert len(deps) == 1 and made[deps[0]] == (True, False), made  # closed to connections
    assert not any("-deps-new-" in name for name in made)
    assert not any(name.startswith("odoo_buildbot-addons-pg") and name.count("-") == 2
                   for name in made), "the testing database is dropped at the end"


def test_the_whole_tree_scope_runs_every_modules_tests(site):
    build = build_of(site, "whole")
    assert build.result == FAILURE
    tests = summary(build, "odoo-tests")
    assert "1 failure" in tests and "TestDepFailing.test_fails" in tests, tests
    names = result_names(site, build)
    assert any(name.startswith("odoo.addons.base.") for name in names), names
    assert "odoo-dependencies" not in [s["name"] for s in build.steps]


def test_the_template_is_reused_then_made_again_when_a_dependency_changes(site, addons):
    assert build_of(site, "addons").result == SUCCESS  # made, unless an earlier test did
    reused = build_of(site, "addons")
    assert reused.result == SUCCESS, reused.explain()
    assert summary(reused, "odoo-dependencies").startswith("template reused: ")
    # the copy brought the filestore: the addon's filestore test passed
    assert summary(reused, "odoo-tests") == "3 tests, 0 failures, 0 errors"

    manifest = addons / "standin_dep_failing" / "__manifest__.py"
    manifest.write_text(manifest.read_text().replace('"17.0.1.0.0"', '"17.0.1.0.1"'))
    remade = build_of(site, "addons")
    assert remade.result == SUCCESS, remade.explain()
    assert summary(remade, "odoo-dependencies").startswith(
        "template made again (standin_dep_failing changed): ")
    assert summary(build_of(site, "addons"), "odoo-dependencies").startswith(
        "template reused: ")


def test_builders_have_templates_of_their_own_even_running_at_once(site, pg, addons):
    """Two builders of one worker, forced together after a dependency changed: both make
    their template at the same time, neither uses the other's."""
    source = addons / "standin_dep_failing" / "tests" / "test_dep_failing.py"
    source.write_text(source.read_text() + "\n# changed\n")
    requests = {name: site.api.force(builder(site.api, name)) for name in ("addons",
                                                                          "neighbour")}
    builds = {name: site.api.finished_build(brid) for name, brid in requests.items()}
    for name, build in builds.items():
        assert build.result == SUCCESS, build.explain()
        assert summary(build, "odoo-dependencies").startswith("template made"), name
    names = list(templates(pg))
    assert any("-addons-" in n for n in names) and any("-neighbour-" in n for n in names)
    assert not any("-deps-new-" in name for name in databases(pg))


def test_without_the_template_dependencies_are_installed_in_each_build(site, pg):
    build = build_of(site, "no-template")
    assert build.result == SUCCESS, build.explain()
    steps = [s["name"] for s in build.steps]
    assert steps.index("createdb") < steps.index("install-dependencies") < steps.index(
        "odoo-tests")
    assert summary(build, "odoo-tests") == "3 tests, 0 failures, 0 errors"
    assert not any("-no-template-" in name for name in templates(pg))


def test_an_addon_odoo_did_not_install_fails_naming_it(site):
    typo = build_of(site, "typo")
    assert typo.result == FAILURE
    tests = summary(typo, "odoo-tests")
    assert tests.startswith("rr_okk: no module of that name in the addons path ("), tests
    assert "/addons" in tests
    closed = build_of(site, "closed")
    assert closed.result == FAILURE
    tests = summary(closed, "odoo-tests")
    for expected in ("standin_not_installable: not installable",
                     "standin_needs_missing: not installed: You try to install module "
                     "'standin_needs_missing' that depends on module",
                     "standin_needs_uninstallable: not installed"):
        assert expected in tests, tests


def test_a_build_that_tests_nothing_is_not_green(site):
    build = build_of(site, "untested")
    assert build.result == WARNINGS, build.explain()
    assert summary(build, "odoo-tests") == "no test in standin_no_tests"
