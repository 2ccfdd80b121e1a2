"""End to end: a real master and a real worker build the Odoo stand-in (SPEC 6).

Two processes started with Buildbot's own command lines (``buildbot start``,
``buildbot-worker start``) talk PB over 127.0.0.1; the master's configuration
is a plain master.cfg calling ``configure_from_buildouts`` on a workers.cfg
whose postgresql capability is a real server of the test fixtures.  Builds are
forced and read through the REST API, as a user's tools would.

The buildout is the stand-in Odoo's, built by the stand-in of oca.recipe.odoo
(tests/fixtures/README.md).  One build whose tests pass, one whose test fails
(red, the test named in the step summary), then the passing one again: the
caches shared per worker make the second faster, and it reuses the builder's
virtualenv.  The testing database is gone after each build.  Last, the
manifest pins another zc.buildout: the next build makes its virtualenv again.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, SUCCESS

from tests.support.buildbot_processes import FinishedBuild, Site, standin_site
from tests.support.postgres import PgServer
from tests.support.repos import GitRepo

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.support.pg_fixtures"]

#: step names this build pipeline must show, in this order
PIPELINE = ["download-buildout", "capabilities", "testing-database", "bootstrap", "buildout",
            "odoo-dependencies", "createdb", "remove-old-odoo-log", "odoo-tests",
            "drop-testing-database"]

STANDIN_CFG = "buildouts/standin.cfg"
#: after the test master's header: plain Buildbot around buildbot-odoo
MASTER_CFG = """\
from buildbot_odoo import configure_from_buildouts

configure_from_buildouts(basedir, c)
"""

MANIFEST_CFG = '''\
[DEFAULT]
buildout = standalone standin.cfg
build-for = postgresql >= 12

[green]
odoo-addons = standin_ok

[red]
odoo-addons = standin_failing

[green-git]
buildout = git {repo} main standin.cfg subdir=deploy
odoo-addons = standin_ok
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg_server: PgServer):
    """A master and its worker ``w1``, whose postgresql capability is ``pg_server``."""
    root = tmp_path_factory.mktemp("e2e")
    repo = GitRepo(root / "buildout-repo")
    made = standin_site(root, pg_server, MASTER_CFG, MANIFEST_CFG.format(repo=repo.url))
    # green-git: the same buildout, from a subdirectory of a git repository
    repo.commit("deploy/standin.cfg", (made.master.directory / STANDIN_CFG).read_text())
    with made:
        yield made


@pytest.fixture(scope="module")
def builds(site: Site, pg_server: PgServer) -> dict[str, FinishedBuild]:
    """Cold green, red, warm green, in that order, on the one worker."""
    builder = {b["name"].split("-pg")[0]: b["name"] for b in site.api.builders()}
    made = {}
    for key, name in (("cold", "green"), ("red", "red"), ("warm", "green"),
                      ("git", "green-git")):
        made[key] = site.api.build(builder[name])
        db = made[key].properties.get("testing_db")
        made[key].properties["_db_left"] = bool(db) and pg_server.database_exists(db)
    timings = {k: b.wall for k, b in made.items()}
    steps = {k: {n: b.elapsed(n) for n in ("bootstrap", "buildout")}
             for k, b in made.items()}
    summaries = {k: b.step("odoo-tests")["state_string"] for k, b in made.items()}
    print(f"\nbuild durations (s): {timings}\nstep durations (s): {steps}\n"
          f"odoo-tests summaries: {summaries}")
    return made


def test_passing_build_is_green_through_the_whole_pipeline(builds):
    build = builds["cold"]
    assert build.result == SUCCESS, build.explain()
    names = [s["name"] for s in build.steps]
    assert [n for n in names if n in PIPELINE] == PIPELINE, names
    assert build.properties["testing_db"].startswith("odoo_buildbot-green-pg")


def test_buildout_got_the_testing_database_settings(builds, pg_server):
    build = builds["cold"]
    log = build.log("buildout")
    db = build.properties["testing_db"]
    assert f"odoo:options.db_name={db}" in log
    assert f"odoo:options.db_port={pg_server.port}" in log
    assert f"odoo:options.db_host={pg_server.socket_dir}" in log
    assert "odoo:options.db_user=False" in log


def test_buildout_gave_the_recipe_what_a_ci_needs(builds, site):
    log = builds["cold"].log("buildout")
    caches = site.workers[0].directory / "buildout-caches"
    for setting in ("odoo:vcs-clear-locks=true", "odoo:vcs-clear-retry=true", "odoo:clean=true",
                    "odoo:vcs-revert=on-merge", "buildout:unzip=true",
                    f"buildout:odoo-downloads-directory={caches / 'odoo-downloads'}",
                    f"buildout:openerp-downloads-directory={caches / 'odoo-downloads'}"):
        assert setting in log, setting
    assert "with_devtools" not in log  # no test-command: no test script asked for
    assert "\n  PIP_EXISTS_ACTION=s\n" in log  # the environment, in the header of the log


def test_tests_ran_with_the_start_script_and_odoos_test_flags(builds):
    log = builds["cold"].log("odoo-tests")
    assert "bin/start_odoo -d odoo_buildbot-green-pg" in log
    assert ("-i standin_ok --test-enable --stop-after-init --log-level=test "
            "--test-tags=/standin_ok --no-http") in log


def test_failing_test_makes_the_build_red_and_is_named(builds):
    build = builds["red"]
    assert build.result == FAILURE, build.explain()
    tests = build.step("odoo-tests")
    assert tests["results"] == FAILURE
    assert "test_fails" in tests["state_string"], tests["state_string"]
    assert build.step("drop-testing-database")["results"] == SUCCESS


def test_testing_database_is_dropped_after_every_build(builds):
    for key, build in builds.items():
        assert build.properties["testing_db"], key
        assert build.properties["_db_left"] is False, f"{key}: {build.properties['testing_db']}"


def test_warm_build_reuses_the_worker_caches(builds, site):
    cold, warm = builds["cold"], builds["warm"]
    assert warm.result == SUCCESS, warm.explain()
    caches = site.workers[0].directory / "buildout-caches"
    # odoo-downloads: made by the recipe (oca.recipe.odoo's odoo-downloads-directory)
    assert sorted(p.name for p in caches.iterdir()) == ["downloads", "eggs", "odoo-downloads",
                                                        "pip"]
    # both builders' buildouts used the one cache directory of the worker
    for build in (cold, builds["red"]):
        assert f"buildout:eggs-directory={caches / 'eggs'}" in build.log("buildout")
    assert "Getting distribution for 'six'" in cold.log("buildout")
    assert list((caches / "eggs").glob("**/six-*")), "no egg cached"
    assert "Getting distribution" not in warm.log("buildout")


def test_builder_virtualenv_is_made_once_then_reused(builds):
    cold, red, warm = builds["cold"], builds["red"], builds["warm"]
    assert cold.step("bootstrap")["state_string"] == "virtualenv made (no virtualenv yet)"
    assert red.step("bootstrap")["state_string"] == "virtualenv made (no virtualenv yet)"
    assert warm.step("bootstrap")["state_string"] == "virtualenv reused"
    log = warm.log("bootstrap")
    venv = Path(warm.properties["builddir"]) / "venv"
    assert (f"{venv} was made for " in log
            and "with zc.buildout==5.2.0 zc.recipe.egg==4.0.0: reused" in log), log
    assert "pip install" not in log and "-m venv" not in log
    # the buildout ran with the builder's virtualenv and its pinned zc.recipe.egg
    assert f"\n{venv}/bin/buildout -c " in warm.log("buildout")
    assert "Getting distribution for 'zc.recipe.egg" not in cold.log("buildout")


def test_git_buildout_in_a_subdir_builds_in_the_linked_directory(builds, site):
    build = builds["git"]
    assert build.result == SUCCESS, build.explain()
    names = [s["name"] for s in build.steps]
    assert names[:5] == ["worker_preparation", "checkout-buildout", "unlink-build-directory",
                         "link-build-directory", "check-buildout-file"], names
    builddir = Path(build.properties["builddir"])
    assert (builddir / "build").resolve() == (builddir / "src" / "deploy").resolve()
    assert (builddir / "src" / "deploy" / "bin" / "start_odoo").is_file()
    assert not (builddir / "src" / "deploy" / "bin" / "test_odoo").exists()
    head = subprocess.run(["git", "-C", site.root / "buildout-repo", "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert build.properties["got_revision"] == head


def test_another_zc_buildout_makes_the_virtualenv_again(builds, site: Site):
    """Last (it changes the manifest): a bootstrap-* change rebuilds the builder's venv."""
    manifest = site.master.directory / "buildouts" / "MANIFEST.cfg"
    manifest.write_text(manifest.read_text().replace(
        "[green]\n", "[green]\nbootstrap-version = 5.1.3\n"))
    site.master.reconfig()
    builder = next(b["name"] for b in site.api.builders() if b["name"].startswith("green-pg"))
    build = site.api.build(builder)
    assert build.result == SUCCESS, build.explain()
    assert build.step("bootstrap")["state_string"] == (
        "virtualenv made (requirements changed: zc.buildout==5.2.0 zc.recipe.egg==4.0.0 -> "
        "zc.buildout==5.1.3 zc.recipe.egg)")
    venv = Path(build.properties["builddir"]) / "venv"
    assert list((venv / "lib").glob("python*/site-packages/zc_buildout-5.1.3.dist-info"))
