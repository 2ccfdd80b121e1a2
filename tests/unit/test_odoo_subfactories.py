"""install-modules-test, install-modules, update-modules: commands and verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectShell, ExpectStat, TestBuildStepMixin
from twisted.internet import defer
from twisted.trial import unittest

from buildbot_odoo.errors import ConfigError
from buildbot_odoo.master.steps.odoo_tests import OdooTestStep
from buildbot_odoo.master.subfactories.odoo import (
    install_modules,
    install_modules_test,
    update_modules,
)

from .subfactory_support import BUILDDIR, DB, ENV, configurator, render
from .test_retrieval import options_for

LOGS = Path(__file__).parent / "data" / "odoo_logs"
ADDONS = ["sale_x", "stock_y"]


def commands(subfactory, **fields) -> tuple[list, list, OdooTestStep]:
    fields = {"start_command": "bin/start_odoo", "upgrade_command": "bin/upgrade_odoo",
              **fields}
    options = options_for(odoo_addons=ADDONS, **fields)
    remove, run = subfactory(configurator(), options, "odoo.cfg", ENV)
    return render(remove.command), render(run.command, odoo_http_port=9010), run


def test_install_modules_test_runs_the_start_script_with_odoos_test_flags():
    """Not bin/test_odoo: oca.recipe.odoo writes it only with with_devtools, and it dies
    on Python 3; its flags are Odoo's own."""
    remove, command, step = commands(install_modules_test)
    assert remove == ["rm", "-f", "odoo-tests.log"]
    assert command == ["bin/start_odoo", "-d", DB, "-i", "sale_x,stock_y", "--test-enable",
                       "--stop-after-init", "--log-level=test", "--no-http",
                       f"--logfile={BUILDDIR}/build/odoo-tests.log"]
    assert isinstance(step, OdooTestStep) and step.name == "odoo-tests"
    assert render(step.logfiles) == {
        "odoo.log": {"filename": f"{BUILDDIR}/build/odoo-tests.log", "follow": False}}
    assert "buildout-part" in step.missing_hint


def test_install_modules_test_runs_a_test_script_when_the_manifest_names_one():
    _, command, step = commands(install_modules_test, test_command="bin/test_odoo")
    assert command == ["bin/test_odoo", "-d", DB, "-i", "sale_x,stock_y", "--no-http",
                       f"--logfile={BUILDDIR}/build/odoo-tests.log"]
    assert step.missing_hint.startswith(
        "oca.recipe.odoo writes it only when the part sets with_devtools = true")


def test_install_modules_runs_the_start_script_and_stops():
    remove, command, step = commands(install_modules)
    assert remove == ["rm", "-f", "odoo-install.log"]
    assert command == ["bin/start_odoo", "-d", DB, "-i", "sale_x,stock_y", "--stop-after-init",
                       "--no-http", f"--logfile={BUILDDIR}/build/odoo-install.log"]
    assert step.name == "install-modules" and step.empty_summary == "no error in the Odoo log"


def test_update_modules_updates():
    remove, command, step = commands(update_modules)
    assert remove == ["rm", "-f", "odoo-update.log"]
    assert command == ["bin/start_odoo", "-d", DB, "-u", "sale_x,stock_y", "--stop-after-init",
                       "--no-http", f"--logfile={BUILDDIR}/build/odoo-update.log"]
    assert step.name == "update-modules"


def test_update_modules_can_run_the_upgrade_script():
    """oca.recipe.odoo's runtime/upgrade.py: its own options, no odoo-bin ones."""
    raw = {"update-modules.upgrade-script": "true"}
    remove, command, step = commands(update_modules, raw=raw)
    assert remove == ["rm", "-f", "odoo-update.log"]
    assert command == ["bin/upgrade_odoo", "-d", DB, "--init-load-demo-data",
                       f"--log-file={BUILDDIR}/build/odoo-update.log"]
    assert (step.name, step.empty_summary) == ("update-modules", "no error in the upgrade log")
    assert render(step.logfiles)["odoo.log"]["filename"] == f"{BUILDDIR}/build/odoo-update.log"
    assert "upgrade_script" in step.missing_hint
    _, command, _ = commands(update_modules, raw=raw, demo_data=False, use_port=True,
                             upgrade_command="bin/migrate")
    assert command == ["bin/migrate", "-d", DB, f"--log-file={BUILDDIR}/build/odoo-update.log"]


def test_upgrade_script_option_must_be_a_boolean():
    with pytest.raises(ConfigError) as caught:
        commands(update_modules, raw={"update-modules.upgrade-script": "sometimes"})
    assert "update-modules.upgrade-script: 'sometimes' is not a boolean" in str(caught.value)


@pytest.mark.parametrize("subfactory", [install_modules_test, install_modules, update_modules])
def test_without_demo_data_and_with_a_reserved_port(subfactory):
    _, command, _ = commands(subfactory, demo_data=False, use_port=True)
    assert command[-3:] == ["--without-demo=all", "--http-port=9010",
                            f"--logfile={BUILDDIR}/build/{command[-1].rsplit('/', 1)[1]}"]
    assert "--no-http" not in command


def test_a_port_reserved_for_another_subfactory_is_used_too():
    options = options_for(post_buildout_steps=["install-modules-test", "functional"])
    _, run = install_modules_test(configurator(), options, "odoo.cfg", ENV)
    assert "--http-port=9010" in render(run.command, odoo_http_port=9010)


def test_timeouts_default_to_an_hour_and_are_options():
    assert commands(install_modules)[2].timeout == 3600
    _, _, step = commands(update_modules, raw={"update-modules.timeout": "14400"})
    assert step.timeout == 14400


def test_bad_timeout_is_a_located_config_error():
    with pytest.raises(ConfigError) as caught:
        commands(install_modules_test, raw={"install-modules-test.timeout": "soon"})
    assert str(caught.value) == ("buildouts/MANIFEST.cfg:7: sale: install-modules-test.timeout:"
                                 " 'soon' is not a whole number")


def test_each_declares_its_options():
    assert install_modules_test.options == ("timeout", "scope", "dependencies-template")
    assert install_modules.options == ("timeout",)
    assert update_modules.options == ("timeout", "upgrade-script")


CLEAN_INSTALL = """\
2024-05-02 11:00:00,100 777 INFO ? odoo: Odoo version 17.0
2024-05-02 11:00:01,000 777 INFO ci-sale odoo.modules.loading: loading 42 modules...
2024-05-02 11:00:02,000 777 INFO ci-sale odoo.modules.loading: 42 modules loaded in 1.00s
2024-05-02 11:00:03,000 777 INFO ci-sale odoo.service.server: Initiating shutdown
"""


def collected_stdout(text: str):
    """What a command that collects its output (and logs none) prints."""
    def behave(command):
        command.stdout = text
    return behave


class InstallStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    LOG = f"{BUILDDIR}/build/odoo-install.log"

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _install(self, log_text: str, rc: int = 0, states: str | None = None):
        options = options_for(odoo_addons=["sale_x"], start_command="bin/start_odoo")
        _, step = install_modules(configurator(), options, "odoo.cfg", ENV)
        self.setup_step(step)
        self.build.setProperty("builddir", BUILDDIR, "test")
        self.build.setProperty("testing_db", DB, "test")
        self.expect_commands(ExpectShell(
            workdir="wkdir", env=ENV, timeout=3600,
            logfiles={"odoo.log": {"filename": self.LOG, "follow": False}},
            command=["bin/start_odoo", "-d", DB, "-i", "sale_x", "--stop-after-init",
                     "--no-http", f"--logfile={self.LOG}"]).log("odoo.log", stdout=log_text)
            .exit(rc))
        if states is not None:  # the addons' states, read after Odoo ran
            self.expect_commands(ExpectShell(
                workdir="wkdir", env=ENV, timeout=120, log_environ=False,
                command=["psql", "-X", "-A", "-t", "-F", "|", "-d", DB, "-c",
                         "SELECT name, state FROM ir_module_module"])
                .behavior(collected_stdout(states)).exit(0))

    @defer.inlineCallbacks
    def test_a_clean_install_says_so(self):
        self._install(CLEAN_INSTALL, states="base|installed\nsale_x|installed\n")
        self.expect_outcome(result=SUCCESS)
        self.expect_result_summary({"step": "no error in the Odoo log"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_an_addon_odoo_passed_over_fails_the_step(self):
        """Odoo says nothing of an addon whose manifest says installable False: its state
        tells."""
        self._install(CLEAN_INSTALL, states="base|installed\nsale_x|uninstallable\n")
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "sale_x: not installable: its manifest says 'installable': False (or it is not "
            "made for this Odoo version); no error in the Odoo log")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_missing_start_script_is_named(self):
        self._install("", rc=1)
        self.expect_commands(ExpectStat(file="bin/start_odoo", workdir="wkdir",
                                        log_environ=False).exit(2))
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "bin/start_odoo not made by the buildout: is the buildout's Odoo part [odoo] "
            "(buildout-part) made by oca.recipe.odoo or anybox.recipe.odoo? see the buildout "
            "step's log")})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_an_install_error_fails_and_is_quoted(self):
        self._install((LOGS / "odoo16_install_error.log").read_text(), rc=255,
                      states="base|installed\nsale_x|uninstalled\n")
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "sale_x: not installed: No module named 'odoo.addons.missing_dep'; "
            "2 errors in log: Failed to load registry; 1 warning")})
        yield self.run_step()


class UpgradeScriptStepTests(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    LOG = f"{BUILDDIR}/build/odoo-update.log"

    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def _upgrade(self, log_text: str, rc: int = 0):
        options = options_for(upgrade_command="bin/upgrade_odoo",
                              raw={"update-modules.upgrade-script": "true"})
        _, step = update_modules(configurator(), options, "odoo.cfg", ENV)
        self.setup_step(step)
        self.build.setProperty("builddir", BUILDDIR, "test")
        self.build.setProperty("testing_db", DB, "test")
        self.expect_commands(ExpectShell(
            workdir="wkdir", env=ENV, timeout=3600,
            logfiles={"odoo.log": {"filename": self.LOG, "follow": False}},
            command=["bin/upgrade_odoo", "-d", DB, "--init-load-demo-data",
                     f"--log-file={self.LOG}"]).log("odoo.log", stdout=log_text).exit(rc))

    @defer.inlineCallbacks
    def test_the_recipes_warnings_make_warnings(self):
        """A real upgrade log of oca.recipe.odoo (no VERSION.txt, never upgraded)."""
        self._upgrade((LOGS / "oca_upgrade_script.log").read_text())
        self.expect_outcome(result=WARNINGS)
        self.expect_result_summary({"step": "no error in the upgrade log; 2 warnings"})
        yield self.run_step()

    @defer.inlineCallbacks
    def test_a_database_odoo_will_not_load_fails(self):
        self._upgrade(
            "2024-05-02 11:00:01,000 7 ERROR ci-sale odoo.modules.loading: Database ci-sale not "
            "initialized, you can force it with `-i base` \n", rc=1)
        self.expect_outcome(result=FAILURE)
        self.expect_result_summary({"step": (
            "1 error in log: Database ci-sale not initialized, you can force it with `-i base`")})
        yield self.run_step()
