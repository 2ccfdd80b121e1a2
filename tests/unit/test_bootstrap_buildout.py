"""Bootstrap (virtualenv + zc.buildout) and the buildout step (SPEC 6, 3 and 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from buildbot.locks import WorkerLock
from buildbot.process.properties import Properties
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.steps.shell import ShellCommand
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.config.manifest import load_manifests
from buildbot_odoo.errors import ConfigError, Problems
from buildbot_odoo.master.buildsteps import build_steps
from buildbot_odoo.master.steps.bootstrap import BootstrapStep
from buildbot_odoo.master.steps.buildout import BuildoutStep
from buildbot_odoo.master.subfactories.bootstrap import (
    BUILDOUT_CACHES_LOCK,
    CacheDir,
    bootstrap_steps,
    buildout_steps,
)
from buildbot_odoo.master.subfactories.retrieval import worker_script

from .test_retrieval import options_for

ENV = {"PGPORT": "5433"}
BUILDDIR = "/home/worker/w1/sale-pg15"
CACHES = "/home/worker/w1/buildout-caches"
#: what every buildout command gives the recipe by default, part odoo
RECIPE_SETTINGS = [
    "odoo:vcs-clear-locks=true", "odoo:vcs-clear-retry=true", "odoo:clean=true",
    "odoo:vcs-revert=on-merge", "buildout:unzip=true",
    f"buildout:odoo-downloads-directory={CACHES}/odoo-downloads",
    f"buildout:openerp-downloads-directory={CACHES}/odoo-downloads"]


def render(value, **props):
    properties = Properties(builddir=BUILDDIR, **props)
    return properties.render(value).result


def lock_names(step) -> list[tuple[str, str]]:
    return [(access.lockid.name, access.mode) for access in step.locks]


SCRIPT = Path(worker_script("bootstrap_venv.py")).read_text()
MAKE_DIRS = [f"--make-dir={CACHES}/eggs", f"--make-dir={CACHES}/downloads",
             f"--make-dir={CACHES}/pip"]


def test_bootstrap_is_one_step_sending_its_script_on_stdin():
    [step] = bootstrap_steps(None, options_for(), "odoo.cfg", ENV)
    assert isinstance(step, BootstrapStep) and step.name == "bootstrap"
    assert render(step.command) == [
        "python3", "-", *MAKE_DIRS, f"--venv={BUILDDIR}/venv", "--python=python3",
        f"--pip-cache={CACHES}/pip", "--", "zc.buildout==5.2.0", "zc.recipe.egg==4.0.0"]
    assert step.initialStdin == SCRIPT
    assert not step.locks  # the script locks the pip cache itself, around pip only
    assert isinstance(BUILDOUT_CACHES_LOCK, WorkerLock) and BUILDOUT_CACHES_LOCK.maxCount == 1
    assert step.env is ENV and step.haltOnFailure


def test_bootstrap_options_pin_and_locate_packages():
    options = options_for(bootstrap={
        "version": "4.1.12", "setuptools-version": "80.9.0", "pip-version": "25.2",
        "python": "/opt/py3.12/bin/python3", "index": "https://pypi.example/simple",
        "find-links": "/wheels https://h/w", "reuse": "false"})
    [step] = bootstrap_steps(None, options, "odoo.cfg", ENV)
    command = render(step.command)
    assert command[0] == "/opt/py3.12/bin/python3"
    assert command[6:] == [
        "--python=/opt/py3.12/bin/python3", f"--pip-cache={CACHES}/pip",
        "--index-url=https://pypi.example/simple", "--find-links=/wheels",
        "--find-links=https://h/w", "--no-reuse", "--",
        # zc.recipe.egg unpinned: pip installs the newest this zc.buildout accepts
        "zc.buildout==4.1.12", "zc.recipe.egg", "setuptools==80.9.0", "pip==25.2"]


def test_without_virtualenv_the_worker_buildout_runs():
    options = options_for(virtualenv=False)
    [step] = bootstrap_steps(None, options, "odoo.cfg", ENV)
    assert render(step.command) == ["python3", "-", *MAKE_DIRS, "--no-virtualenv"]
    assert not step.locks
    [buildout] = buildout_steps(None, options, "odoo.cfg", ENV)
    assert render(buildout.command)[0] == "buildout"


def test_buildout_command_with_database_settings():
    [buildout] = buildout_steps(None, options_for(buildout_part="server"), "odoo.cfg", ENV)
    assert isinstance(buildout, BuildoutStep)
    assert render(buildout.command, testing_db="odoo_buildbot-sale-pg15",
                  cap_postgresql_port="5433", cap_postgresql_host="/run/pg",
                  cap_postgresql_user="") == [
        f"{BUILDDIR}/venv/bin/buildout", "-c", "odoo.cfg",
        f"buildout:eggs-directory={CACHES}/eggs",
        f"buildout:download-cache={CACHES}/downloads",
        *(s.replace("odoo:", "server:") for s in RECIPE_SETTINGS),
        "server:options.db_name=odoo_buildbot-sale-pg15",
        "server:options.db_port=5433",
        "server:options.db_host=/run/pg",
        "server:options.db_user=False",
        "server:options.smtp_server=127.0.0.1",
        "server:options.smtp_port=1",
    ]
    assert lock_names(buildout) == [("buildout caches", "exclusive")]
    assert buildout.timeout == 3600 and buildout.haltOnFailure


def test_buildout_without_postgresql_has_no_database_settings():
    options = options_for(not_used=frozenset({"postgresql"}))
    [buildout] = buildout_steps(None, options, "odoo.cfg", ENV)
    assert not any("options." in arg for arg in render(buildout.command))


def test_buildout_timeout_option():
    [buildout] = buildout_steps(None, options_for(raw={"buildout.timeout": "7200"}), "b.cfg", ENV)
    assert buildout.timeout == 7200
    with pytest.raises(ConfigError) as caught:
        buildout_steps(None, options_for(raw={"buildout.timeout": "soon"}), "b.cfg", ENV)
    assert str(caught.value) == ("buildouts/MANIFEST.cfg:7: sale: buildout.timeout: "
                                 "'soon' is not a whole number")


def _recipe_part(options) -> list[str]:
    """The buildout step's arguments between the caches and the database settings."""
    [buildout] = buildout_steps(None, options, "odoo.cfg", ENV)
    return [a for a in render(buildout.command)[5:] if ":options." not in a]


def test_every_recipe_setting_can_be_turned_off():
    assert _recipe_part(options_for()) == RECIPE_SETTINGS
    assert _recipe_part(options_for(vcs_clear_locks=False, vcs_clear_retry=False,
                                    vcs_clean=False, vcs_revert=False, unzip=False,
                                    odoo_downloads_cache=False)) == []


def test_git_depth_comes_with_git_shallow():
    assert "odoo:git-depth=1" not in _recipe_part(options_for())
    assert "odoo:git-depth=1" in _recipe_part(options_for(git_shallow=True))
    assert "odoo:git-depth=5" in _recipe_part(options_for(git_shallow=True, git_depth=5))


def test_with_devtools_only_for_a_test_script():
    """oca.recipe.odoo's test script dies on Python 3 and its devtools cost downloads:
    asked for with test-command, or explicitly."""
    assert "odoo:with_devtools=true" not in _recipe_part(options_for())
    assert "odoo:with_devtools=true" in _recipe_part(options_for(test_command="bin/test_odoo"))
    assert "odoo:with_devtools=true" not in _recipe_part(
        options_for(test_command="bin/test_odoo", with_devtools=False))
    assert "odoo:with_devtools=true" in _recipe_part(options_for(with_devtools=True))


def test_cache_dir_needs_the_builddir_property():
    errors: list = []
    Properties().render(CacheDir("eggs")).addErrback(errors.append)
    assert errors and "'builddir' property is not set" in str(errors[0].value)


class BuildoutStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    """The buildout step as it runs: properties rendered, env passed, outcome."""

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _setup(self, options, **props):
        [step] = buildout_steps(None, options, "odoo.cfg", ENV)
        self.setup_step(step)
        for name, value in {"builddir": BUILDDIR, **props}.items():
            self.build.setProperty(name, value, "test")

    def _expect(self, command, rc=0, env=None):
        env = {**ENV, "PIP_EXISTS_ACTION": "s"} if env is None else env
        self.expect_commands(ExpectShell(workdir="wkdir", command=command, env=env,
                                         timeout=3600).exit(rc))

    @defer.inlineCallbacks
    def test_worker_without_port_host_user(self):
        self._setup(options_for(), testing_db="ci-sale-pg15")
        self._expect([
            f"{BUILDDIR}/venv/bin/buildout", "-c", "odoo.cfg",
            f"buildout:eggs-directory={CACHES}/eggs",
            f"buildout:download-cache={CACHES}/downloads", *RECIPE_SETTINGS,
            "odoo:options.db_name=ci-sale-pg15", "odoo:options.db_port=False",
            "odoo:options.db_host=False", "odoo:options.db_user=False",
            "odoo:options.smtp_server=127.0.0.1", "odoo:options.smtp_port=1"])
        self.expect_outcome(result=SUCCESS)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_failure_halts(self):
        self._setup(options_for(not_used=frozenset({"postgresql"})))
        self._expect([f"{BUILDDIR}/venv/bin/buildout", "-c", "odoo.cfg",
                      f"buildout:eggs-directory={CACHES}/eggs",
                      f"buildout:download-cache={CACHES}/downloads", *RECIPE_SETTINGS], rc=1)
        self.expect_outcome(result=FAILURE)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_pip_exists_action_from_the_manifest_or_none(self):
        self._setup(options_for(not_used=frozenset({"postgresql"}), pip_exists_action="w",
                                unzip=False, odoo_downloads_cache=False, vcs_clean=False))
        self._expect([f"{BUILDDIR}/venv/bin/buildout", "-c", "odoo.cfg",
                      f"buildout:eggs-directory={CACHES}/eggs",
                      f"buildout:download-cache={CACHES}/downloads",
                      "odoo:vcs-clear-locks=true", "odoo:vcs-clear-retry=true",
                      "odoo:vcs-revert=on-merge"], env={**ENV, "PIP_EXISTS_ACTION": "w"})
        self.expect_outcome(result=SUCCESS)
        yield self.run_step()

    @defer.inlineCallbacks
    def test_empty_pip_exists_action_leaves_pip_alone(self):
        self._setup(options_for(not_used=frozenset({"postgresql"}), pip_exists_action=""))
        self._expect([f"{BUILDDIR}/venv/bin/buildout", "-c", "odoo.cfg",
                      f"buildout:eggs-directory={CACHES}/eggs",
                      f"buildout:download-cache={CACHES}/downloads", *RECIPE_SETTINGS], env=ENV)
        self.expect_outcome(result=SUCCESS)
        yield self.run_step()


# --- the assembly of SPEC 6 (buildbot_odoo.master.buildsteps)


def _subfactory(name: str, cleanup: str | None = None):
    def subfactory(configurator, options, buildout_path, environ):
        return [ShellCommand(command=["true"], name=name)]
    if cleanup:
        subfactory.final_cleanup_steps = lambda configurator, options, environ: [
            ShellCommand(command=["true"], name=cleanup, alwaysRun=True)]
    return subfactory


class FakeConfigurator:
    def __init__(self):
        self.post_dl_steps = {"noop": _subfactory("post-dl", cleanup="post-dl-cleanup")}
        self.post_buildout_steps = {
            "install-modules-test": _subfactory("odoo-tests", cleanup="tests-cleanup"),
            "pytest": _subfactory("pytest")}


def step_names(options, configurator=None) -> list[str]:
    made = build_steps(configurator or FakeConfigurator(), options, "odoo.cfg", ENV)
    return [step.name for step in made]


def test_assembly_order():
    assert step_names(options_for(post_buildout_steps=["install-modules-test", "pytest"])) == [
        "testing-database", "bootstrap", "buildout", "dropdb", "createdb",
        "disable-outgoing-mail", "odoo-tests", "pytest", "tests-cleanup",
        "drop-testing-database", "post-dl-cleanup"]


def test_assembly_without_postgresql_has_no_database_step():
    names = step_names(options_for(not_used=frozenset({"postgresql"}), virtualenv=False))
    assert names == ["bootstrap", "buildout", "odoo-tests", "tests-cleanup",
                     "post-dl-cleanup"]


def test_final_cleanups_run_always():
    made = build_steps(FakeConfigurator(), options_for(db_steps="pg_remote_copy",
                       raw={"pg_remote_copy.arguments": "prod"}), "odoo.cfg", ENV)
    names = [s.name for s in made]
    assert names[-3:] == ["tests-cleanup", "drop-testing-database", "post-dl-cleanup"]
    assert "pg_remote_copy" in names
    assert all(s.alwaysRun for s in made[-3:])
    assert not any(s.alwaysRun for s in made[:-3])


def test_unregistered_post_buildout_subfactory_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        step_names(options_for(post_buildout_steps=["doc"]))
    assert str(caught.value).startswith(
        "buildouts/MANIFEST.cfg:3: sale: post-buildout-steps: no subfactory 'doc' is "
        "registered in the configurator's post_buildout_steps (registered: ")


def test_manifest_accepts_the_options_of_these_subfactories(tmp_path):
    (tmp_path / "b.cfg").write_text("[buildout]\nparts =\n")
    manifest = tmp_path / "MANIFEST.cfg"
    manifest.write_text("[sale]\nbuildout = archive sub_prop pkg_prop b.cfg\n"
                        "buildout.timeout = 7200\ndb-steps = pg_remote_copy\n"
                        "archive.root-dir = packages\npg_remote_copy.arguments = prod\n"
                        "buildout.timeuot = 1\n")
    problems = Problems()
    [build] = load_manifests([(manifest, "MANIFEST.cfg")], problems)
    assert [str(p) for p in problems] == [
        "MANIFEST.cfg:7: sale: buildout.timeuot: warning: unknown option 'buildout.timeuot' "
        "is ignored (did you mean 'buildout.timeout'?)"]
    assert build.subfactory_options("buildout") == {"timeout": "7200", "timeuot": "1"}
